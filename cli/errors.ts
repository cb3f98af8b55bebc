/** A usage or input problem the CLI reports in one line and exits 2 for. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2})))?$/;

/**
 * Parses `--from`/`--to`: an RFC 3339 instant or a bare date (UTC midnight). Every field must exist on the
 * calendar: `2026-02-30`, `2026-13-01` or `T24:00` exit 2 instead of rolling over to another day.
 */
export function parseInstant(text: string, option: string): number {
  const m = INSTANT.exec(text);
  if (!m)
    throw new UsageError(
      `${option} must be an RFC 3339 time such as 2026-11-22T10:00:00Z, got ${JSON.stringify(text)}`,
    );
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const daysInMonth = month >= 1 && month <= 12 ? new Date(Date.UTC(2000, month, 0)).getUTCDate() : 0;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const lastDay = month === 2 && !leap ? 28 : daysInMonth;
  const impossible =
    lastDay === 0
      ? `month ${m[2]} does not exist`
      : day < 1 || day > lastDay
        ? `day ${m[3]} does not exist in ${m[1]}-${m[2]}`
        : Number(m[4] ?? 0) > 23 || Number(m[5] ?? 0) > 59 || Number(m[6] ?? 0) > 59
          ? 'no such time of day: hours run 00-23, minutes and seconds 00-59'
          : Number(m[9] ?? 0) > 23 || Number(m[10] ?? 0) > 59
            ? 'the UTC offset does not exist'
            : undefined;
  if (impossible) throw new UsageError(`${option} is not a valid time: ${text} (${impossible})`);
  const ms = Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text);
  if (!Number.isFinite(ms)) throw new UsageError(`${option} is not a valid time: ${text}`);
  return ms;
}

/** Parses a duration in seconds: `3600`, `3600s`, `60m`, `1h`, `1d`; `option` names it in errors. */
export function parseDuration(text: string, option = '--period'): number {
  const m = /^(\d{1,7})(s|m|h|d)?$/.exec(text.trim());
  if (!m)
    throw new UsageError(`${option} must look like 3600, 3600s, 60m, 1h or 1d, got ${JSON.stringify(text)}`);
  const factor = m[2] === 'd' ? 86_400 : m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1;
  return Number(m[1]) * factor;
}

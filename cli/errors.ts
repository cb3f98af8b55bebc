/** A usage or input problem the CLI reports in one line and exits 2 for. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Parses `--from`/`--to`: an RFC 3339 instant or a bare date (UTC midnight). */
export function parseInstant(text: string, option: string): number {
  const full = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;
  if (!full.test(text))
    throw new UsageError(
      `${option} must be an RFC 3339 time such as 2026-11-22T10:00:00Z, got ${JSON.stringify(text)}`,
    );
  const ms = Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text);
  if (!Number.isFinite(ms)) throw new UsageError(`${option} is not a valid time: ${text}`);
  return ms;
}

/** Parses a period length: `3600`, `3600s`, `60m`, `1h`. */
export function parseDuration(text: string): number {
  const m = /^(\d+)(s|m|h|d)?$/.exec(text.trim());
  if (!m)
    throw new UsageError(`--period must look like 3600, 3600s, 60m, 1h or 1d, got ${JSON.stringify(text)}`);
  const factor = m[2] === 'd' ? 86_400 : m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1;
  return Number(m[1]) * factor;
}

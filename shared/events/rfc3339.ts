/**
 * RFC 3339 §5.6 `date-time`, as accepted in audit events. Stricter than the RFC on purpose:
 * - `T` and `Z` must be upper case, and the separator must be `T` (the §5.6 note allows a space; CloudTrail
 *   never uses one, and Panther's placeholder `2019-01-01 00:00:00.000000000` has no zone at all);
 * - a time zone (`Z` or `±hh:mm`) is required, and a fraction has 1 to 9 digits;
 * - second 60 (leap second) is rejected, since no JavaScript or DynamoDB time can hold it;
 * - the written year and the UTC instant both lie in 1970..9999.
 */
import { EventValidationError } from './errors.ts';

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:Z|([+-])(\d{2}):(\d{2}))$/;
const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const MAX_INSTANT_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const MAX_DATE_TIME_LENGTH = 35;

/** Milliseconds since the epoch of an RFC 3339 date-time (sub-millisecond digits truncated), or undefined. */
export function parseRfc3339(value: string): number | undefined {
  // Ingest asks twice in a row about each event's time (the schema, then the idempotency text): remember
  // the last answer. The function is pure, so this changes no result.
  if (value === lastParsed.value) return lastParsed.epochMs;
  const epochMs = parseUncached(value);
  lastParsed = { value, epochMs };
  return epochMs;
}

let lastParsed: { readonly value: string | undefined; readonly epochMs: number | undefined } = {
  value: undefined,
  epochMs: undefined,
};

function parseUncached(value: string): number | undefined {
  if (value.length > MAX_DATE_TIME_LENGTH) return undefined;
  const m = DATE_TIME.exec(value);
  if (m === null) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (m[8] !== undefined) {
    const offsetHour = Number(m[9]);
    const offsetMinute = Number(m[10]);
    if (offsetHour > 23 || offsetMinute > 59) return undefined;
    offsetMinutes = (m[8] === '-' ? -1 : 1) * (offsetHour * 60 + offsetMinute);
  }
  const millis = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  const epochMs = Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
  return epochMs >= 0 && epochMs <= MAX_INSTANT_MS ? epochMs : undefined;
}

/** True when `value` is an RFC 3339 date-time accepted in audit events. */
export function isRfc3339(value: string): boolean {
  return parseRfc3339(value) !== undefined;
}

/** True for the server's own form, `YYYY-MM-DDTHH:MM:SS.sssZ`, naming a real UTC instant. */
export function isCanonicalTimestamp(value: string): boolean {
  return CANONICAL.test(value) && parseRfc3339(value) !== undefined;
}

/**
 * Converts an RFC 3339 date-time to UTC `YYYY-MM-DDTHH:MM:SS.sssZ`, truncating sub-millisecond digits.
 * Example: `normalizeTimestamp('2026-11-22T23:00:00.1234+02:00')` → `'2026-11-22T21:00:00.123Z'`.
 */
export function normalizeTimestamp(rfc3339: string): string {
  const epochMs = parseRfc3339(rfc3339);
  if (epochMs === undefined) {
    throw new EventValidationError('INVALID_TIMESTAMP', '$', 'not an RFC 3339 date-time with a time zone');
  }
  // Already in that form (and so a real instant, years 1970..9999): `toISOString` would write it back
  // unchanged. Ingest asks this of every event, and most arrive in this form.
  if (CANONICAL.test(rfc3339)) return rfc3339;
  return new Date(epochMs).toISOString();
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

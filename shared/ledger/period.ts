/**
 * Sealing periods: fixed, UTC-aligned windows of `seconds` length. A period is named by its start.
 * Periods divide a day evenly so that every period key falls on a stable boundary.
 */

/** A half-open time window [startMs, startMs + seconds·1000). */
export interface Period {
  readonly startMs: number;
  readonly seconds: number;
}

export const MIN_PERIOD_SECONDS = 60;
export const MAX_PERIOD_SECONDS = 86_400;
export const DEFAULT_PERIOD_SECONDS = 3_600;

/** Throws unless `seconds` is a whole number in [60, 86400] that divides a day. */
export function assertPeriodSeconds(seconds: number): void {
  if (
    !Number.isInteger(seconds) ||
    seconds < MIN_PERIOD_SECONDS ||
    seconds > MAX_PERIOD_SECONDS ||
    MAX_PERIOD_SECONDS % seconds !== 0
  ) {
    throw new RangeError(
      `period must be a whole number of seconds in [60, 86400] dividing a day, got ${seconds}`,
    );
  }
}

/** The period containing the instant `ms`. */
export function periodOf(ms: number, seconds: number): Period {
  assertPeriodSeconds(seconds);
  const width = seconds * 1000;
  return { startMs: Math.floor(ms / width) * width, seconds };
}

/** Exclusive end of the period, in ms. */
export function periodEndMs(p: Period): number {
  return p.startMs + p.seconds * 1000;
}

/** The period right after `p`. */
export function nextPeriod(p: Period): Period {
  return { startMs: periodEndMs(p), seconds: p.seconds };
}

/** True when both name the same window. */
export function samePeriod(a: Period, b: Period): boolean {
  return a.startMs === b.startMs && a.seconds === b.seconds;
}

/** RFC 3339 UTC with whole seconds, e.g. `2026-11-22T21:00:00Z`. */
export function isoSeconds(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/** Compact UTC label used in object keys, e.g. `20261122T210000Z`. */
export function compactLabel(ms: number): string {
  return isoSeconds(ms).replace(/[-:]/g, '');
}

/** Inverse of compactLabel; returns undefined for anything that is not exactly such a label. */
export function parseCompactLabel(label: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(label);
  if (!m) return undefined;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  return compactLabel(ms) === label ? ms : undefined;
}

/** Parses a strict RFC 3339 UTC instant with whole seconds (`…T21:00:00Z`), as written in digests. */
export function parseIsoSeconds(text: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) && isoSeconds(ms) === text ? ms : undefined;
}

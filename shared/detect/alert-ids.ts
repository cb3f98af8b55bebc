/**
 * Ids of detection alerts (channel `detection`): deterministic, so that the same match delivered twice
 * (a redelivered stream batch, a retried invocation) is one alert. Format (docs/DETECTIONS.md §9):
 * - an alert: `det:<rule>:<sha256(UTF-8 matched event id), first 32 hex digits>`;
 * - a summary of matches over the rate limit: `det:<rule>:s-<sha256 of its sorted matched ids, 32 hex>`.
 * `<rule>` is the rule id when it is 1–64 characters of `A-Z a-z 0-9 -` (SigmaHQ's UUIDs), else `r` and
 * the first 32 hex digits of SHA-256 of the rule id.
 */
import { createHash } from 'node:crypto';

/** Prefix of every alert id; reserved to the `detection` channel. */
export const DETECTION_ID_PREFIX = 'det:';

const PLAIN_RULE_ID = /^[A-Za-z0-9-]{1,64}$/;

function sha256Hex32(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 32);
}

/** The `<rule>` part of an alert id. */
export function ruleIdPart(ruleId: string): string {
  return PLAIN_RULE_ID.test(ruleId) ? ruleId : `r${sha256Hex32(ruleId)}`;
}

/** The id of the alert of `ruleId` on the event `eventId`. */
export function alertId(ruleId: string, eventId: string): string {
  return `${DETECTION_ID_PREFIX}${ruleIdPart(ruleId)}:${sha256Hex32(eventId)}`;
}

/** The id of the summary alert of `ruleId` over exactly these matched event ids (order does not matter). */
export function summaryAlertId(ruleId: string, eventIds: readonly string[]): string {
  const sorted = [...eventIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `${DETECTION_ID_PREFIX}${ruleIdPart(ruleId)}:s-${sha256Hex32(sorted.join('\n'))}`;
}

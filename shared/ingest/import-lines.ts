/**
 * Reading existing logs for `auditseal seal`: each JSON line is a stored auditseal event, an auditseal
 * event input, a CloudTrail record or an EventBridge envelope around one. Imported events get
 * `channel: "import"` and, when they have none, `receivedAt` = their normalized `eventTime`, so the same
 * input always seals to the same bytes.
 */
import { normalizeTimestamp, parseAuditEvent, parseAuditEventInput } from '../events/audit-event.ts';
import { fromCloudTrailRecord, fromEventBridgeEnvelope } from '../events/cloudtrail.ts';
import { type CanonicalEvent, canonicalizeEvent, fromStoredEvent } from './canonical-event.ts';

export type LineKind = 'event' | 'event-input' | 'cloudtrail' | 'eventbridge';

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Classifies a parsed line by its shape. */
export function classifyLine(value: unknown): LineKind {
  if (!isObject(value)) return 'event-input';
  if (value['v'] === 1 && 'receivedAt' in value) return 'event';
  if ('detail-type' in value && 'detail' in value) return 'eventbridge';
  if ('eventSource' in value || 'eventVersion' in value || 'userIdentity' in value) return 'cloudtrail';
  return 'event-input';
}

/** Turns one parsed line into a canonical event. Throws EventValidationError / CloudTrailMappingError. */
export function importLine(value: unknown): { kind: LineKind; event: CanonicalEvent } {
  const kind = classifyLine(value);
  if (kind === 'event') return { kind, event: fromStoredEvent(parseAuditEvent(value)) };
  const input =
    kind === 'cloudtrail'
      ? fromCloudTrailRecord(value)
      : kind === 'eventbridge'
        ? fromEventBridgeEnvelope(value)
        : parseAuditEventInput(value);
  return { kind, event: canonicalizeEvent(input, normalizeTimestamp(input.eventTime), 'import') };
}

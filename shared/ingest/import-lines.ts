/**
 * Reading existing logs for `auditseal seal`: each JSON line is a stored auditseal event, an auditseal
 * event input, a CloudTrail record or an EventBridge envelope around one. Imported events get
 * `channel: "import"` and, when they have none, `receivedAt` = their normalized `eventTime`, so the same
 * input always seals to the same bytes.
 *
 * Each line is read as text, without loss: a CloudTrail record keeps its own text verbatim (numbers
 * beyond 2^53, `1e400` and `-0` included), exactly as through the forwarder. Auditseal events are app
 * events, whose numbers are I-JSON doubles (docs/EVENTS.md §3).
 */
import {
  type AuditEventInput,
  normalizeTimestamp,
  parseAuditEvent,
  parseAuditEventInput,
} from '../events/audit-event.ts';
import { fromCloudTrailRecord, fromEventBridgeEnvelope } from '../events/cloudtrail.ts';
import { EventValidationError } from '../events/errors.ts';
import { isPlainObject } from '../events/json-guard.ts';
import { SOURCE_TEXT_LIMITS } from '../events/limits.ts';
import { type CanonicalEvent, canonicalizeEvent, fromStoredEvent } from './canonical-event.ts';

export type LineKind = 'event' | 'event-input' | 'cloudtrail' | 'eventbridge';

/** Classifies a parsed line by its shape. */
export function classifyLine(value: unknown): LineKind {
  if (!isPlainObject(value)) return 'event-input';
  const has = (key: string) => Object.hasOwn(value, key);
  if (value['v'] === 1 && has('receivedAt')) return 'event';
  if (has('detail-type') && has('detail')) return 'eventbridge';
  if (has('eventSource') || has('eventVersion') || has('userIdentity')) return 'cloudtrail';
  return 'event-input';
}

/**
 * Turns one line of text into a canonical event. Throws `EventValidationError` (`INVALID_JSON` for a
 * line that is not JSON) or `CloudTrailMappingError`.
 */
export function importLine(text: string): { kind: LineKind; event: CanonicalEvent } {
  // `JSON.parse` only tells the kind (and reads app events); a CloudTrail line is then read from its text.
  const value = parseLine(text);
  const kind = classifyLine(value);
  if (kind === 'cloudtrail') return { kind, event: imported(fromCloudTrailRecord(text)) };
  if (kind === 'eventbridge') return { kind, event: imported(fromEventBridgeEnvelope(text)) };
  if (kind === 'event') return { kind, event: fromStoredEvent(parseAuditEvent(value)) };
  return { kind, event: imported(parseAuditEventInput(value)) };
}

function imported(input: AuditEventInput): CanonicalEvent {
  return canonicalizeEvent(input, normalizeTimestamp(input.eventTime), 'import');
}

function parseLine(text: string): unknown {
  if (text.length > SOURCE_TEXT_LIMITS.maxLength) {
    throw new EventValidationError(
      'TOO_LARGE',
      '$',
      `line is longer than ${SOURCE_TEXT_LIMITS.maxLength} UTF-16 code units`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    // V8's messages quote the input, so they are never passed on.
    throw new EventValidationError('INVALID_JSON', '$', 'line is not valid JSON', { cause });
  }
}

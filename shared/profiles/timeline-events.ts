/**
 * The events of a resource's timeline (docs/PROFILES.md "Timeline"): where an event is placed, and what a
 * reader accepts from an index item before it shows it.
 *
 * An event is placed at its own time (`eventTime`, normalized to UTC milliseconds), not at its ledger time
 * (`receivedAt`): a CloudTrail record delivered late or replayed lists before the version it caused. The
 * index that serves the timeline sorts by `timelineEventKey` (docs/LEDGER-TABLE.md, `byResourceTime`).
 *
 * Index attributes are not signed: anyone who can write the table can write them. So a reader shows an item
 * only when what the index says agrees with the stored bytes (`timelineEventFromStored`): the bytes hash to
 * the row's leaf hash (the one the stream's row recognizer checked against a signed batch, G5), name the
 * row's id and the resource, and are placed where their own `eventTime` says.
 */

import { isRfc3339, normalizeTimestamp } from '../events/rfc3339.ts';
import { hashLeaf } from '../merkle/rfc6962.ts';
import type { TimelineEvent } from './timeline.ts';

/** Channels never shown on a timeline: versions are there as versions, and reads change nothing. */
export const TIMELINE_HIDDEN_CHANNELS: ReadonlySet<string> = new Set(['profile', 'read']);

/**
 * The sort key of an event on its resource's timeline: `<eventTime>#<id>`, with the time in the canonical
 * form `YYYY-MM-DDTHH:MM:SS.sssZ` (`normalizeTimestamp`), so keys sort in (time, id) order.
 * @example timelineEventKey('2026-11-22T21:00:00.000Z', 'ct:1') // '2026-11-22T21:00:00.000Z#ct:1'
 */
export function timelineEventKey(canonicalEventTime: string, id: string): string {
  return `${canonicalEventTime}#${id}`;
}

/** True when an event of this channel with a resource belongs on the resource's timeline. */
export function onTimeline(channel: string | undefined): boolean {
  return channel === undefined || !TIMELINE_HIDDEN_CHANNELS.has(channel);
}

/** An event on a resource's timeline, as the API shows it. */
export interface TimelineEventView extends TimelineEvent {
  /** Where it is placed: its `eventTime` in the canonical millisecond form. */
  readonly time: string;
  /** The producer's time, as stored. */
  readonly eventTime: string;
  /** The ledger time: when auditseal stored it. */
  readonly receivedAt: string;
  readonly channel: string;
  readonly action: string;
  readonly actor: string;
  readonly outcome: string;
  /** The stored canonical JSON of the event. */
  readonly eventJson: string;
}

/** What an index item holds of an event. */
export interface StoredTimelineEvent {
  readonly id: string;
  readonly receivedAt: string;
  /** The stored canonical bytes. */
  readonly bytes: Uint8Array;
  /** The row's leaf hash. */
  readonly leafHash: Uint8Array;
  /** The timeline sort key the index item carries. */
  readonly key: string;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The timeline view of an index item of `resourceId`'s timeline, or undefined when it is not one to show:
 * a hidden channel, or an item whose attributes disagree with its bytes (a row the service did not write,
 * or one changed after it was written; the stream's alarms report those, G5).
 */
export function timelineEventFromStored(
  stored: StoredTimelineEvent,
  resourceId: string,
): TimelineEventView | undefined {
  if (!sameBytes(hashLeaf(stored.bytes), stored.leafHash)) return undefined;
  let text: string;
  let event: Record<string, unknown>;
  try {
    text = decoder.decode(stored.bytes);
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    event = value as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const eventTime = event['eventTime'];
  const resource = event['resource'] as { id?: unknown } | undefined;
  const channel = typeof event['channel'] === 'string' ? event['channel'] : undefined;
  if (event['id'] !== stored.id || resource?.id !== resourceId || !onTimeline(channel)) return undefined;
  if (typeof eventTime !== 'string' || !isRfc3339(eventTime)) return undefined;
  const time = normalizeTimestamp(eventTime);
  if (stored.key !== timelineEventKey(time, stored.id)) return undefined;
  return {
    id: stored.id,
    time,
    eventTime,
    receivedAt: stored.receivedAt,
    channel: channel ?? '',
    action: String(event['action']),
    actor: String((event['actor'] as { id?: unknown } | undefined)?.id ?? ''),
    outcome: String((event['outcome'] as { result?: unknown } | undefined)?.result ?? ''),
    eventJson: text,
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

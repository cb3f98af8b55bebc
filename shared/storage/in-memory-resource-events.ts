/**
 * In-memory fake of the timeline index (`adapters/dynamodb/resource-events.ts` over `byResourceTime`),
 * with its semantics: an event stored with a resource, of a channel timelines show, is an index item keyed
 * by `<eventTime>#<id>` (`timelineEventKey`, the time normalized to UTC milliseconds); `after` yields a
 * resource's items from a key on, in key order, and shows an item only when its bytes agree with its
 * attributes (`timelineEventFromStored`). `addItem` stores an item as given, for tests of what a reader
 * must refuse.
 */
import { parseAuditEvent } from '../events/audit-event.ts';
import { normalizeTimestamp } from '../events/rfc3339.ts';
import { hashLeaf } from '../merkle/rfc6962.ts';
import {
  onTimeline,
  type StoredTimelineEvent,
  type TimelineEventView,
  timelineEventFromStored,
  timelineEventKey,
} from '../profiles/timeline-events.ts';

/** One index item: what the DynamoDB item projects, and the resource of its partition. */
export interface ResourceEventItem extends StoredTimelineEvent {
  readonly resourceId: string;
}

export class InMemoryResourceEvents {
  /** Items by resource, kept sorted by key. */
  readonly #items = new Map<string, ResourceEventItem[]>();
  /** Items read so far, for tests that count them. */
  itemsRead = 0;

  /**
   * Indexes a stored event (its canonical bytes, as ingest stored them) the way the ledger store writes
   * its index attributes; an event without a resource, or of a hidden channel, gets none.
   */
  addEvent(bytes: Uint8Array, receivedAt: string): void {
    const event = parseAuditEvent(JSON.parse(new TextDecoder().decode(bytes)));
    if (event.resource === undefined || !onTimeline(event.channel)) return;
    this.addItem({
      resourceId: event.resource.id,
      id: event.id,
      receivedAt,
      bytes,
      leafHash: hashLeaf(bytes),
      key: timelineEventKey(normalizeTimestamp(event.eventTime), event.id),
    });
  }

  /** Stores an index item as it is. */
  addItem(item: ResourceEventItem): void {
    const list = this.#items.get(item.resourceId) ?? [];
    let at = list.length;
    while (at > 0 && list[at - 1]!.key > item.key) at--;
    list.splice(at, 0, item);
    this.#items.set(item.resourceId, list);
  }

  /** The resource's events with a key at or after `fromKey`, in key order (the adapter's `after`). */
  async *after(resourceId: string, fromKey: string): AsyncGenerator<TimelineEventView> {
    const items = this.#items.get(resourceId) ?? [];
    // Binary search to the first key at or after `fromKey`, as an index Query starts there.
    let low = 0;
    let high = items.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (items[mid]!.key < fromKey) low = mid + 1;
      else high = mid;
    }
    for (let at = low; at < items.length; at++) {
      const item = items[at]!;
      this.itemsRead++;
      const view = timelineEventFromStored(item, resourceId);
      if (view !== undefined) yield view;
    }
  }
}

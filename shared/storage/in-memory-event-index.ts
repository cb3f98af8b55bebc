/**
 * In-memory `EventIndex` with the DynamoDB adapter's semantics: an event is in the partition of each index
 * key it has, at the shard of its id; a partition is read newest first, `limit` items per read (matching
 * the filters or not, as a Query's `Limit`); a read that stops at its limit says where (even when nothing
 * follows, as DynamoDB returns a LastEvaluatedKey); the item at the exclusive upper bound is read and
 * dropped, as the adapter's `BETWEEN` does.
 */
import { createHash } from 'node:crypto';
import type {
  EventIndex,
  IndexedEvent,
  IndexKey,
  IndexPartition,
  PartitionPage,
  PartitionWindow,
  ResidualFilters,
} from '../query/ports.ts';

/** What the index knows of one event. */
export interface IndexableEvent extends IndexedEvent {
  readonly ledger: string;
  readonly actorId: string;
  readonly action: string;
  readonly outcome: string;
  readonly channel: string;
  readonly resourceId?: string;
}

/** The shard of an id among `shards` (first byte of SHA-256 of its UTF-8 form, modulo). */
export function indexShardOf(id: string, shards: number): number {
  return createHash('sha256').update(id, 'utf8').digest()[0]! % shards;
}

function inPartition(event: IndexableEvent, key: IndexKey): boolean {
  switch (key.index) {
    case 'actor':
      return event.actorId === key.value;
    case 'resource':
      return event.resourceId === key.value;
    case 'action':
      return event.action === key.value;
    case 'kind':
      return event.channel === key.channel && event.outcome === key.outcome;
  }
}

function passes(event: IndexableEvent, f: ResidualFilters): boolean {
  return (
    (f.actor === undefined || event.actorId === f.actor) &&
    (f.resource === undefined || event.resourceId === f.resource) &&
    (f.action === undefined || event.action === f.action) &&
    (f.outcome === undefined || event.outcome === f.outcome) &&
    (f.channel === undefined || event.channel === f.channel)
  );
}

export class InMemoryEventIndex implements EventIndex {
  readonly #events: IndexableEvent[] = [];
  /** Each partition's events, newest first, built on first read after a change. */
  readonly #partitions = new Map<string, IndexableEvent[]>();
  /** Partition reads so far, for tests that count them. */
  reads = 0;

  constructor(readonly shards = 16) {}

  add(event: IndexableEvent): void {
    this.#events.push(event);
    this.#partitions.clear();
  }

  #partition(ledger: string, partition: IndexPartition): IndexableEvent[] {
    const name = `${ledger}\u0000${JSON.stringify(partition)}`;
    let events = this.#partitions.get(name);
    if (events === undefined) {
      events = this.#events
        .filter(
          (e) =>
            e.ledger === ledger &&
            inPartition(e, partition.key) &&
            indexShardOf(e.id, this.shards) === partition.shard,
        )
        .sort((a, b) => (a.sk < b.sk ? 1 : -1));
      this.#partitions.set(name, events);
    }
    return events;
  }

  async queryPartition(
    ledger: string,
    partition: IndexPartition,
    window: PartitionWindow,
    filters: ResidualFilters,
    limit: number,
  ): Promise<PartitionPage> {
    this.reads++;
    const upper = typeof window.resume === 'string' ? window.resume : undefined;
    const read: IndexableEvent[] = [];
    // Like the DynamoDB adapter (BETWEEN reads the exclusive upper bound): a first read asks for one more.
    const take = window.resume === undefined ? limit + 1 : limit;
    for (const e of this.#partition(ledger, partition)) {
      if (read.length >= take) break;
      if (e.sk > window.below || (upper !== undefined && e.sk >= upper)) continue;
      if (e.sk < window.from) break;
      read.push(e);
    }
    const events = read
      .filter((e) => e.sk !== window.below && passes(e, filters))
      .map(({ sk, id, receivedAt, bytes }) => ({ sk, id, receivedAt, bytes: Uint8Array.from(bytes) }));
    const last = read.at(-1);
    return {
      events,
      itemsRead: read.length,
      ...(read.length === take && last !== undefined ? { next: { sk: last.sk, resume: last.sk } } : {}),
    };
  }
}

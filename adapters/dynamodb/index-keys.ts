/**
 * Partition keys of the search indexes (infra/resources/definitions.ts `SEARCH_INDEXES`), as pure functions.
 * Design and costs: docs/LEDGER-TABLE.md ("Search indexes") and docs/SCALE.md.
 *
 * Each key names the ledger, what is searched and a shard: `A#<ledger>#<h(actorId)>#<ss>`. The searched
 * value is hashed (SHA-256, base64url) because actor and resource ids may be longer than an index key may
 * be, and may hold `#`. The shard is the event's shard of `INDEX_SHARDS`, from its id, so the events of one
 * hot actor spread over `INDEX_SHARDS` index partitions and a search merges them (shared/query).
 */
import { createHash } from 'node:crypto';
import { onTimeline, timelineEventKey } from '../../shared/profiles/timeline-events.ts';
import type { IndexKey } from '../../shared/query/ports.ts';
import { shardOf } from './ledger-items.ts';

/**
 * Shards of every search key. Fixed for the life of a ledger (it is part of every index key): 16 index
 * partitions take 16,000 write units/s for one actor, resource or action (docs/SCALE.md).
 */
export const INDEX_SHARDS = 16;

/** The index (by name) and the attribute that holds its partition key. */
export const INDEX_ATTRIBUTES = {
  actor: { indexName: 'byActor', attribute: 'ixActor', prefix: 'A' },
  resource: { indexName: 'byResource', attribute: 'ixResource', prefix: 'R' },
  action: { indexName: 'byAction', attribute: 'ixAction', prefix: 'X' },
  kind: { indexName: 'byKind', attribute: 'ixKind', prefix: 'K' },
} as const;

export type IndexName = keyof typeof INDEX_ATTRIBUTES;

/**
 * The index of resource timelines: the `ixResource` partitions of `byResource`, sorted by the event's own
 * time instead of its ledger time. `ixEventTime` is `<eventTime as YYYY-MM-DDTHH:MM:SS.sssZ>#<id>`
 * (`timelineEventKey`); only events with a resource, of a channel timelines show, carry it. docs/LEDGER-TABLE.md, "Search indexes".
 */
export const RESOURCE_TIME_INDEX = {
  indexName: 'byResourceTime',
  attribute: 'ixResource',
  sortAttribute: 'ixEventTime',
} as const;

function valueHash(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64url');
}

function shardSuffix(shard: number): string {
  return String(shard).padStart(2, '0');
}

/** The partition key of one shard of a searched value. */
export function indexPartitionKey(ledger: string, key: IndexKey, shard: number): string {
  if (key.index === 'kind') {
    return `K#${ledger}#${key.channel}#${key.outcome}#${shardSuffix(shard)}`;
  }
  return `${INDEX_ATTRIBUTES[key.index].prefix}#${ledger}#${valueHash(key.value)}#${shardSuffix(shard)}`;
}

/** The index attributes of an event item: one per index it belongs to. */
export function indexAttributes(
  ledger: string,
  id: string,
  fields: {
    readonly actorId: string;
    readonly action: string;
    readonly outcome: string;
    readonly resourceId?: string;
    readonly channel?: string;
    readonly eventTime?: string;
  },
): Record<string, string> {
  const shard = shardOf(id, INDEX_SHARDS);
  const attributes: Record<string, string> = {
    ixActor: indexPartitionKey(ledger, { index: 'actor', value: fields.actorId }, shard),
    ixAction: indexPartitionKey(ledger, { index: 'action', value: fields.action }, shard),
  };
  if (fields.resourceId !== undefined) {
    attributes['ixResource'] = indexPartitionKey(
      ledger,
      { index: 'resource', value: fields.resourceId },
      shard,
    );
    // Versions and read records are never shown on a timeline: they stay out of its index, so a page never
    // reads past them (every timeline read is itself a read record naming the resource).
    if (fields.eventTime !== undefined && onTimeline(fields.channel)) {
      attributes[RESOURCE_TIME_INDEX.sortAttribute] = timelineEventKey(fields.eventTime, id);
    }
  }
  if (fields.channel !== undefined) {
    attributes['ixKind'] = indexPartitionKey(
      ledger,
      { index: 'kind', channel: fields.channel, outcome: fields.outcome },
      shard,
    );
  }
  return attributes;
}

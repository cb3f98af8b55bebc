/**
 * The read path's storage ports: the search indexes, partition by partition. One DynamoDB adapter
 * (`adapters/dynamodb/event-index.ts`, over the table's global secondary indexes) and one in-memory fake
 * (`shared/storage/in-memory-event-index.ts`) implement them with the same semantics.
 */

/** What one index is searched by; the `kind` index is keyed by channel and outcome together. */
export type IndexKey =
  | { readonly index: 'actor' | 'resource' | 'action'; readonly value: string }
  | { readonly index: 'kind'; readonly channel: string; readonly outcome: string };

/** One shard of one index key: what a DynamoDB Query reads. */
export interface IndexPartition {
  readonly key: IndexKey;
  readonly shard: number;
}

/** Conditions checked on each index item after the key (a DynamoDB `FilterExpression`). */
export interface ResidualFilters {
  readonly actor?: string;
  readonly resource?: string;
  readonly action?: string;
  readonly outcome?: string;
  readonly channel?: string;
}

/**
 * The part of a partition to read, newest first: sort keys (`<receivedAt>#<id>`) in `[from, below)`.
 * `resume` continues a partition where its previous page stopped.
 */
export interface PartitionWindow {
  /** Inclusive lower bound: a `receivedAt` time, so every event received at or after it qualifies. */
  readonly from: string;
  /** Exclusive upper bound: a `receivedAt` time or a full sort key (a cursor position). */
  readonly below: string;
  /** Where the previous page of this partition stopped; opaque to callers. */
  readonly resume?: unknown;
}

/** An event as an index returns it: its sort key and its stored canonical bytes. */
export interface IndexedEvent {
  /** `<receivedAt>#<id>`. */
  readonly sk: string;
  readonly id: string;
  readonly receivedAt: string;
  readonly bytes: Uint8Array;
}

/** One page of one partition. */
export interface PartitionPage {
  /** Matching events, newest first. */
  readonly events: IndexedEvent[];
  /** Present when the partition may hold more in the window: where this page stopped. */
  readonly next?: {
    /** Sort key of the last item read (matching or not): everything newer in the partition was read. */
    readonly sk: string;
    readonly resume: unknown;
  };
  /** Index items read, matching or not (what DynamoDB bills and calls ScannedCount). */
  readonly itemsRead: number;
}

/** The search indexes. */
export interface EventIndex {
  /** Shards of every index key (fixed for the life of a ledger). */
  readonly shards: number;
  /** Reads up to `limit` items of one partition, newest first, keeping those that pass `filters`. */
  queryPartition(
    ledger: string,
    partition: IndexPartition,
    window: PartitionWindow,
    filters: ResidualFilters,
    limit: number,
  ): Promise<PartitionPage>;
}

/**
 * `LedgerStore` on the DynamoDB ledger table (docs/LEDGER-TABLE.md). Put-only: every write is a
 * `Put` with `attribute_not_exists(pk)` and `ReturnValuesOnConditionCheckFailure: 'ALL_OLD'`, the way
 * Powertools' DynamoDBPersistenceLayer writes; this module sends no UpdateItem or DeleteItem.
 *
 * - The batch seal goes first, in its own conditional Put; an identical existing seal is a retry.
 * - Each event and its id item go into one `TransactWriteItems` (both conditional); a transaction holds
 *   at most 49 events (98 items) plus the close-marker check, under the 4 MB aggregate limit.
 * - A cancelled transaction is mapped reason by reason: `ConditionalCheckFailed` names the taken ids
 *   (with the old id items), `TransactionConflict` and throttling are retried with jittered backoff.
 *   Throttling of plain calls is retried by the SDK client (its `maxAttempts`, set by the caller).
 * - Periods are read with strongly consistent Queries per shard, page by page, merged by sort key.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandOutput,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { isoSeconds, type Period } from '../../shared/ledger/period.ts';
import {
  type BatchSeal,
  BatchSealConflictError,
  CorruptItemError,
  EventIdsTakenError,
  type LedgerEvent,
  type LedgerStore,
  LedgerUnavailableError,
  LedgerWriteError,
  type PeriodBatchRow,
  PeriodClosedError,
  type PeriodRow,
  type SecuritySignal,
  type StoredEvent,
  type StoredEventId,
  WriteStoppedError,
} from '../../shared/ports/ledger-store.ts';
import { ProfileVersionConflictError } from '../../shared/ports/profile-store.ts';
import type { ProfileVersion } from '../../shared/profiles/version.ts';
import { mergeSorted } from './k-way-merge.ts';
import {
  abandonItem,
  assertShardCount,
  batchItem,
  batchItemKey,
  batchPartitionKey,
  closeMarkerKey,
  DEFAULT_SHARD_COUNT,
  eventItem,
  eventKeyOfIdItem,
  eventPartitionKey,
  type Item,
  idItem,
  idItemKey,
  itemSizeBytes,
  parseAbandonItem,
  parseBatchItem,
  parseEventItem,
  parseIdItem,
  parsePeriodItem,
  sameBatchSeal,
  securitySignalItem,
} from './ledger-items.ts';
import { type ProfileVersionWrite, profileConflictReason, profileVersionWrite } from './profile-store.ts';

/**
 * DynamoDB's limits for one TransactWriteItems call, and ours below them: 49 events and their id items
 * (98 items) plus the period's close-marker ConditionCheck stay within the 100-item limit.
 */
export const MAX_EVENTS_PER_TRANSACTION = 49;
/** Items of one transaction before the close-marker check (DynamoDB allows 100). */
const MAX_ENTRIES_PER_TRANSACTION = 99;
export const MAX_TRANSACTION_BYTES = 4_000_000;
const MAX_KEYS_PER_BATCH_GET = 100;
const IF_ABSENT = 'attribute_not_exists(pk)';

export interface DynamoDbLedgerStoreOptions {
  /** One client per process, created at cold start; its retry settings govern plain-call throttling. */
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Shards per period (docs/LEDGER-TABLE.md). Fixed for the life of a ledger. Default 32. */
  readonly shardCount?: number;
  /** Attempts for cancelled-by-conflict transactions and unprocessed BatchGet keys. Default 5. */
  readonly maxAttempts?: number;
  /** Base of the exponential backoff, in ms. Default 50. */
  readonly backoffBaseMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export class DynamoDbLedgerStore implements LedgerStore {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #shards: number;
  readonly #maxAttempts: number;
  readonly #backoffBaseMs: number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(options: DynamoDbLedgerStoreOptions) {
    if (typeof options.tableName !== 'string' || options.tableName === '') {
      throw new TypeError('DynamoDbLedgerStore needs a table name');
    }
    this.#client = options.client;
    this.#table = options.tableName;
    this.#shards = options.shardCount ?? DEFAULT_SHARD_COUNT;
    assertShardCount(this.#shards);
    this.#maxAttempts = options.maxAttempts ?? 5;
    this.#backoffBaseMs = options.backoffBaseMs ?? 50;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async findEventIds(ledger: string, ids: readonly string[]): Promise<Map<string, StoredEventId>> {
    const unique = [...new Set(ids)];
    const chunks: string[][] = [];
    for (let start = 0; start < unique.length; start += MAX_KEYS_PER_BATCH_GET) {
      chunks.push(unique.slice(start, start + MAX_KEYS_PER_BATCH_GET));
    }
    const found = new Map<string, StoredEventId>();
    const results = await Promise.all(chunks.map((chunk) => this.#batchGetIds(ledger, chunk)));
    for (const records of results) for (const record of records) found.set(record.id, record);
    return found;
  }

  /** One BatchGetItem of at most 100 id items, retrying unprocessed keys with backoff. */
  async #batchGetIds(ledger: string, ids: readonly string[]): Promise<StoredEventId[]> {
    const records: StoredEventId[] = [];
    let keys: Item[] = ids.map((id) => idItemKey(ledger, id));
    for (let attempt = 1; keys.length > 0; attempt++) {
      if (attempt > this.#maxAttempts) {
        throw new LedgerUnavailableError('id lookups stayed unprocessed (throttled)', []);
      }
      if (attempt > 1) await this.#backoff(attempt);
      const output: BatchGetItemCommandOutput = await this.#call(() =>
        this.#client.send(
          new BatchGetItemCommand({
            RequestItems: { [this.#table]: { Keys: keys, ConsistentRead: true } },
          }),
        ),
      );
      for (const item of output.Responses?.[this.#table] ?? []) records.push(parseIdItem(ledger, item));
      keys = output.UnprocessedKeys?.[this.#table]?.Keys ?? [];
    }
    return records;
  }

  async putBatch(
    batch: BatchSeal,
    events: readonly LedgerEvent[],
    beforeEachTransaction?: () => void,
  ): Promise<void> {
    const period = events[0]?.period ?? this.#periodOfBatch(batch);
    await this.#putSeal(batch, period);
    const stored: string[] = [];
    for (const group of this.#transactionGroups(batch.ledger, events)) {
      try {
        beforeEachTransaction?.();
      } catch (cause) {
        throw new WriteStoppedError(stored, { cause });
      }
      try {
        await this.#writeGroup(batch.ledger, batch.batchId, group, period);
      } catch (error) {
        if (error instanceof EventIdsTakenError) {
          throw new EventIdsTakenError(error.taken, error.existing, stored);
        }
        if (error instanceof PeriodClosedError)
          throw new PeriodClosedError(isoSeconds(period.startMs), stored);
        if (error instanceof LedgerUnavailableError) {
          throw new LedgerUnavailableError(error.message, stored, { cause: error.cause });
        }
        if (stored.length === 0) throw error;
        throw new LedgerWriteError(`write failed after ${stored.length} stored event(s)`, stored, {
          cause: error,
        });
      }
      stored.push(...group.ids);
    }
  }

  async recordSecuritySignal(signal: SecuritySignal): Promise<void> {
    await this.#call(() =>
      this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: securitySignalItem(signal, randomUUID()),
          ConditionExpression: IF_ABSENT,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
  }

  async getEvent(ledger: string, id: string): Promise<StoredEvent | undefined> {
    const idOutput = await this.#call(() =>
      this.#client.send(
        new GetItemCommand({ TableName: this.#table, Key: idItemKey(ledger, id), ConsistentRead: true }),
      ),
    );
    if (!idOutput.Item) return undefined;
    const record = parseIdItem(ledger, idOutput.Item);
    const key = eventKeyOfIdItem(idOutput.Item);
    const eventOutput = await this.#call(() =>
      this.#client.send(new GetItemCommand({ TableName: this.#table, Key: key, ConsistentRead: true })),
    );
    if (!eventOutput.Item) {
      throw new CorruptItemError(
        { pk: key['pk']!.S!, sk: key['sk']!.S! },
        'id item points to a missing event',
      );
    }
    return parseEventItem(eventOutput.Item, record);
  }

  async *readPeriod(ledger: string, period: Period): AsyncIterable<PeriodRow> {
    const partitions = Array.from({ length: this.#shards }, (_, shard) =>
      this.#queryPartition(eventPartitionKey(ledger, period, shard), PERIOD_PROJECTION, parsePeriodItem),
    );
    for await (const entry of mergeSorted(partitions, bySortKey)) yield entry.row;
  }

  async *readPeriodBatches(ledger: string, period: Period): AsyncIterable<PeriodBatchRow> {
    const partitions = Array.from({ length: this.#shards }, (_, shard) =>
      withAbandons(
        this.#queryPartition(batchPartitionKey(ledger, period, shard), undefined, (item) => item),
        ledger,
      ),
    );
    for await (const entry of mergeSorted(partitions, bySortKey)) yield entry.row;
  }

  async putAbandon(
    batch: BatchSeal,
    period: Period,
    abandon: { statement: string; signature: Uint8Array },
  ): Promise<void> {
    try {
      await this.#call(() =>
        this.#client.send(
          new PutItemCommand({
            TableName: this.#table,
            Item: abandonItem(batch, period, this.#shards, abandon),
            ConditionExpression: IF_ABSENT,
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      if (error.Item?.['statement']?.S !== abandon.statement) throw new BatchSealConflictError(batch.batchId);
    }
  }

  /** The raw batch row of `batchId` in `period`, for the stream handler's row recognition. */
  async getBatchItem(
    ledger: string,
    period: Period,
    receivedAt: string,
    batchId: string,
  ): Promise<Item | undefined> {
    return this.#getItem(batchItemKey(ledger, period, receivedAt, batchId, this.#shards));
  }

  async closePeriod(ledger: string, period: Period): Promise<void> {
    try {
      await this.#call(() =>
        this.#client.send(
          new PutItemCommand({
            TableName: this.#table,
            Item: { ...closeMarkerKey(ledger, period), closedAt: { S: new Date().toISOString() } },
            ConditionExpression: IF_ABSENT,
          }),
        ),
      );
    } catch (error) {
      // Closed before (a re-run, or a concurrent sealer): the marker exists, which is all that counts.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async *#queryPartition<T>(
    pk: string,
    projection: { expression: string; names: Record<string, string> } | undefined,
    parseItem: (item: Item) => T,
  ): AsyncGenerator<T> {
    let startKey: Item | undefined;
    do {
      const exclusiveStartKey = startKey;
      const page: QueryCommandOutput = await this.#call(() =>
        this.#client.send(
          new QueryCommand({
            TableName: this.#table,
            KeyConditionExpression: '#pk = :pk',
            ...(projection ? { ProjectionExpression: projection.expression } : {}),
            ExpressionAttributeNames: { '#pk': 'pk', ...(projection?.names ?? {}) },
            ExpressionAttributeValues: { ':pk': { S: pk } },
            ConsistentRead: true,
            ...(exclusiveStartKey ? { ExclusiveStartKey: exclusiveStartKey } : {}),
          }),
        ),
      );
      for (const item of page.Items ?? []) yield parseItem(item);
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
  }

  #periodOfBatch(batch: BatchSeal): Period {
    throw new LedgerWriteError(`batch ${batch.batchId} has no events to place in a period`, []);
  }

  async #putSeal(batch: BatchSeal, period: Period): Promise<void> {
    try {
      await this.#call(() =>
        this.#client.send(
          new PutItemCommand({
            TableName: this.#table,
            Item: batchItem(batch, period, this.#shards),
            ConditionExpression: IF_ABSENT,
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing =
        error.Item ??
        (await this.#getItem(
          batchItemKey(batch.ledger, period, batch.receivedAt, batch.batchId, this.#shards),
        ));
      if (existing === undefined || !sameBatchSeal(existing, batch))
        throw new BatchSealConflictError(batch.batchId);
    }
  }

  async #getItem(key: Item): Promise<Item | undefined> {
    const output = await this.#call(() =>
      this.#client.send(new GetItemCommand({ TableName: this.#table, Key: key, ConsistentRead: true })),
    );
    return output.Item;
  }

  /**
   * Cuts events into transactions of at most 49 events, 99 entries and 4 MB of items. An event that carries
   * a profile version brings its version items and the check on its predecessor into its own transaction
   * (docs/LEDGER-TABLE.md, "Profile versions").
   */
  *#transactionGroups(ledger: string, events: readonly LedgerEvent[]): Generator<TransactionGroup> {
    let group: TransactionGroup = newGroup();
    for (const event of events) {
      const entries: TransactionEntry[] = [
        { owner: event.id, kind: 'event', put: eventItem(ledger, event, this.#shards) },
        { owner: event.id, kind: 'id', put: idItem(ledger, event, this.#shards) },
      ];
      if (event.profileVersion !== undefined) {
        const write = profileVersionWrite(ledger, event.profileVersion);
        const kinds = ['pv-version', 'pv-time', 'pv-content'] as const;
        write.puts.forEach((put, i) => {
          entries.push({ owner: event.id, kind: kinds[i]!, put });
        });
        if (write.previousCheck)
          entries.push({ owner: event.id, kind: 'pv-previous', check: write.previousCheck });
      }
      const bytes = entries.reduce((n, entry) => n + (entry.put ? itemSizeBytes(entry.put) : 100), 0);
      if (
        group.ids.length === MAX_EVENTS_PER_TRANSACTION ||
        group.entries.length + entries.length > MAX_ENTRIES_PER_TRANSACTION ||
        group.bytes + bytes > MAX_TRANSACTION_BYTES
      ) {
        if (group.ids.length > 0) yield group;
        group = newGroup();
      }
      group.ids.push(event.id);
      group.fingerprint.push(`${event.id} ${Buffer.from(event.leafHash).toString('hex')}`);
      group.entries.push(...entries);
      group.bytes += bytes;
      group.versions.set(event.id, event.profileVersion);
    }
    if (group.ids.length > 0) yield group;
  }

  /** One transaction, retried on transaction conflicts and throttling; conditional failures are final. */
  async #writeGroup(ledger: string, batchId: string, group: TransactionGroup, period: Period): Promise<void> {
    // Same token for every attempt: if an attempt committed but its answer was lost, the retry succeeds
    // instead of failing on its own items (DynamoDB honors a token for 10 minutes). The token hashes the
    // whole group (ledger, batch, ids and leaf hashes), so a different group can never reuse it.
    const token = createHash('sha256')
      .update(`${ledger}\n${batchId}\n${group.fingerprint.join('\n')}`)
      .digest('hex')
      .slice(0, 36);
    const command = new TransactWriteItemsCommand({
      ClientRequestToken: token,
      TransactItems: [
        ...group.entries.map((entry) =>
          entry.put
            ? {
                Put: {
                  TableName: this.#table,
                  Item: entry.put,
                  ConditionExpression: IF_ABSENT,
                  ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
                },
              }
            : {
                ConditionCheck: {
                  TableName: this.#table,
                  Key: entry.check!.key,
                  ConditionExpression: entry.check!.expression,
                  ExpressionAttributeNames: entry.check!.names,
                  ExpressionAttributeValues: entry.check!.values,
                },
              },
        ),
        // Last: the period must not be closed for sealing. Checked atomically with the writes.
        {
          ConditionCheck: {
            TableName: this.#table,
            Key: closeMarkerKey(ledger, period),
            ConditionExpression: IF_ABSENT,
          },
        },
      ],
    });
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1) await this.#backoff(attempt);
      try {
        await this.#call(() => this.#client.send(command));
        return;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const reasons = error.CancellationReasons ?? [];
        if (reasons[group.entries.length]?.Code === 'ConditionalCheckFailed') {
          throw new PeriodClosedError(isoSeconds(period.startMs), []);
        }
        const taken = this.#takenIds(ledger, group, reasons);
        if (taken.ids.length > 0) throw new EventIdsTakenError(taken.ids, taken.existing, []);
        const refused = profileRefusal(group, reasons);
        if (refused) throw refused;
        const transient = reasons.some((r) => r.Code !== undefined && TRANSIENT_REASONS.has(r.Code));
        if (!transient) throw error;
        if (attempt >= this.#maxAttempts) {
          throw new LedgerUnavailableError('transaction kept conflicting or being throttled', [], {
            cause: error,
          });
        }
      }
    }
  }

  /** Maps cancellation reasons (one per item, in item order) to the taken ids and their old id items. */
  #takenIds(
    ledger: string,
    group: TransactionGroup,
    reasons: NonNullable<TransactionCanceledException['CancellationReasons']>,
  ): { ids: string[]; existing: Map<string, StoredEventId> } {
    const ids = new Set<string>();
    const existing = new Map<string, StoredEventId>();
    reasons.forEach((reason, i) => {
      if (reason.Code !== 'ConditionalCheckFailed') return;
      const entry = group.entries[i];
      if (entry === undefined || (entry.kind !== 'event' && entry.kind !== 'id')) return;
      ids.add(entry.owner);
      // The old image of an id item is the stored idempotency record.
      if (entry.kind === 'id' && reason.Item) existing.set(entry.owner, parseIdItem(ledger, reason.Item));
    });
    return { ids: [...ids], existing };
  }

  /** Runs an SDK call; throttling and server faults that survived the SDK's retries become UNAVAILABLE. */
  async #call<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      if (isTransient(error)) {
        throw new LedgerUnavailableError(`DynamoDB unavailable: ${(error as Error).name}`, [], {
          cause: error,
        });
      }
      throw error;
    }
  }

  async #backoff(attempt: number): Promise<void> {
    const ceiling = this.#backoffBaseMs * 2 ** Math.min(attempt - 2, 8);
    await this.#sleep(ceiling / 2 + Math.random() * (ceiling / 2));
  }
}

/**
 * Batch rows of one partition with their abandon rows attached: an abandon row sorts right after its
 * batch row (`<sk>#abandon`). An abandon row without its batch row is reported as a malformed row.
 */
async function* withAbandons(
  items: AsyncIterable<Item>,
  ledger: string,
): AsyncGenerator<{ sk: string; row: PeriodBatchRow }> {
  let held: { sk: string; row: PeriodBatchRow } | undefined;
  for await (const item of items) {
    const abandon = parseAbandonItem(item);
    if (abandon) {
      if (held && held.sk === abandon.batchSk && !('malformed' in held.row)) {
        held = { sk: held.sk, row: { ...held.row, abandon: abandon.abandon } };
      } else {
        if (held) yield held;
        held = undefined;
        const key = { pk: item['pk']?.S ?? '(missing)', sk: item['sk']?.S ?? '(missing)' };
        yield {
          sk: key.sk,
          row: { malformed: true, item: key, reason: 'an abandon row without its batch row' },
        };
      }
      continue;
    }
    if (held) yield held;
    held = parseBatchItem(ledger, item);
  }
  if (held) yield held;
}

const PERIOD_PROJECTION = {
  expression: '#pk, #sk, #id, #body, #receivedAt, #batchId',
  names: { '#sk': 'sk', '#id': 'id', '#body': 'body', '#receivedAt': 'receivedAt', '#batchId': 'batchId' },
};

/**
 * DynamoDB's order of string sort keys: by UTF-8 bytes, i.e. by code point. UTF-16 code-unit order agrees
 * except where a surrogate pair (a code point ≥ U+10000) meets a BMP character ≥ U+E000, so that case is
 * handled. Real keys are ASCII; a forged key with such characters must not make the merge throw (G6).
 */
export function bySortKey(a: { sk: string }, b: { sk: string }): number {
  const x = a.sk;
  const y = b.sk;
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const cx = x.charCodeAt(i);
    const cy = y.charCodeAt(i);
    if (cx === cy) continue;
    const sx = cx >= 0xd800 && cx <= 0xdfff;
    const sy = cy >= 0xd800 && cy <= 0xdfff;
    if (sx !== sy) return sx ? 1 : -1;
    return cx < cy ? -1 : 1;
  }
  return x.length - y.length;
}

interface TransactionGroup {
  readonly ids: string[];
  /** `<id> <hex leaf hash>` per event: what the transaction's token commits to. */
  readonly fingerprint: string[];
  /** The transaction's items, in order (the close-marker check follows them). */
  readonly entries: TransactionEntry[];
  /** The profile version each event carries, if any. */
  readonly versions: Map<string, ProfileVersion | undefined>;
  bytes: number;
}

/** One item of a transaction: a put (event, id or profile version item) or the check on a previous version. */
interface TransactionEntry {
  /** The event it belongs to. */
  readonly owner: string;
  readonly kind: 'event' | 'id' | 'pv-version' | 'pv-time' | 'pv-content' | 'pv-previous';
  readonly put?: Item;
  readonly check?: ProfileVersionWrite['previousCheck'];
}

function newGroup(): TransactionGroup {
  return { ids: [], fingerprint: [], entries: [], versions: new Map(), bytes: 0 };
}

/**
 * When the event and id items went through but a profile version's items or predecessor check did not, the
 * conflict on the chain (a position or content already stored, or a head that moved); undefined otherwise.
 */
function profileRefusal(
  group: TransactionGroup,
  reasons: NonNullable<TransactionCanceledException['CancellationReasons']>,
): ProfileVersionConflictError | undefined {
  const order = ['pv-version', 'pv-time', 'pv-content', 'pv-previous'] as const;
  for (const [id, version] of group.versions) {
    if (version === undefined) continue;
    const codes = order.map((kind) => {
      const i = group.entries.findIndex((e) => e.owner === id && e.kind === kind);
      return i < 0 ? undefined : reasons[i]?.Code;
    });
    const reason = profileConflictReason(codes);
    if (reason) return new ProfileVersionConflictError(reason, version.resourceId, version.n, undefined);
  }
  return undefined;
}

const TRANSIENT_REASONS = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
]);

const TRANSIENT_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TransactionInProgressException',
  'TimeoutError',
]);

const TRANSIENT_NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);

/** Errors worth answering "retry later": throttling, server faults, and a backend that cannot be reached. */
function isTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (TRANSIENT_ERRORS.has(error.name)) return true;
  if ((error as { $fault?: unknown }).$fault === 'server') return true;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && TRANSIENT_NETWORK_CODES.has(code);
}

/**
 * Keys and items of the ledger table, as pure functions (docs/LEDGER-TABLE.md is the design).
 * Items read back are parsed with zod: a ledger item may have been tampered with, so its shape is
 * checked before anything is trusted.
 */
import { createHash } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { canonicalString } from '../../shared/canonical/jcs.ts';
import { receiptSchema } from '../../shared/ledger/formats.ts';
import { compactLabel, type Period } from '../../shared/ledger/period.ts';
import {
  type BatchSeal,
  CorruptItemError,
  type LedgerEvent,
  type MalformedRow,
  type PeriodEvent,
  type SecuritySignal,
  type StoredEvent,
  type StoredEventId,
} from '../../shared/ports/ledger-store.ts';
import { indexAttributes } from './index-keys.ts';

/** A DynamoDB item in the SDK's attribute-value form. */
export type Item = Record<string, AttributeValue>;

/** Shards per period by default (docs/LEDGER-TABLE.md). */
export const DEFAULT_SHARD_COUNT = 32;
/** Most shards: pk suffixes are two decimal digits. */
export const MAX_SHARD_COUNT = 100;

/** Throws unless `count` is a whole number of shards in [1, 100]. */
export function assertShardCount(count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > MAX_SHARD_COUNT) {
    throw new RangeError(`shard count must be a whole number in [1, ${MAX_SHARD_COUNT}], got ${count}`);
  }
}

/** The shard of an event id: first byte of SHA-256(UTF-8 id) modulo the shard count. */
export function shardOf(id: string, shardCount: number): number {
  return createHash('sha256').update(id, 'utf8').digest()[0]! % shardCount;
}

/** Partition key of a period's shard: `EV#<ledger>#<periodLabel>#<shard:2>`. */
export function eventPartitionKey(ledger: string, period: Period, shard: number): string {
  return `EV#${ledger}#${compactLabel(period.startMs)}#${String(shard).padStart(2, '0')}`;
}

/** Sort key of an event: `<receivedAt>#<id>`, which sorts in period order (FORMAT.md §3). */
export function eventSortKey(receivedAt: string, id: string): string {
  return `${receivedAt}#${id}`;
}

/** Key of an event id's idempotency item: `ID#<ledger>#<id>` / `ID`. */
export function idItemKey(ledger: string, id: string): Item {
  return { pk: { S: `ID#${ledger}#${id}` }, sk: { S: 'ID' } };
}

/**
 * Key of a batch seal: `BA#<ledger>#<periodLabel>#<shard:2>` / `<receivedAt>#<batchId>`, sharded by the
 * batch id like events, so the sealer reads a period's batches in (receivedAt, batchId) order.
 */
export function batchItemKey(
  ledger: string,
  period: Period,
  receivedAt: string,
  batchId: string,
  shardCount: number,
): Item {
  return {
    pk: { S: batchPartitionKey(ledger, period, shardOf(batchId, shardCount)) },
    sk: { S: `${receivedAt}#${batchId}` },
  };
}

/** Partition key of a period's batch shard. */
export function batchPartitionKey(ledger: string, period: Period, shard: number): string {
  return `BA#${ledger}#${compactLabel(period.startMs)}#${String(shard).padStart(2, '0')}`;
}

/** The abandon row of a batch: same partition, sort key `<receivedAt>#<batchId>#abandon`. */
export function abandonItem(
  batch: BatchSeal,
  period: Period,
  shardCount: number,
  abandon: { statement: string; signature: Uint8Array },
): Item {
  const key = batchItemKey(batch.ledger, period, batch.receivedAt, batch.batchId, shardCount);
  return {
    pk: key['pk']!,
    sk: { S: `${key['sk']!.S}#abandon` },
    statement: { S: abandon.statement },
    signature: { B: abandon.signature },
  };
}

/** Key of a period's close marker: `CL#<ledger>` / `<periodLabel>-<seconds>s`. */
export function closeMarkerKey(ledger: string, period: Period): Item {
  return { pk: { S: `CL#${ledger}` }, sk: { S: `${compactLabel(period.startMs)}-${period.seconds}s` } };
}

/** The event item: canonical bytes plus the query attributes. */
export function eventItem(ledger: string, event: LedgerEvent, shardCount: number): Item {
  const item: Item = {
    pk: { S: eventPartitionKey(ledger, event.period, shardOf(event.id, shardCount)) },
    sk: { S: eventSortKey(event.receivedAt, event.id) },
    id: { S: event.id },
    body: { B: event.bytes },
    leafHash: { B: event.leafHash },
    batchId: { S: event.batchId },
    receivedAt: { S: event.receivedAt },
    actorId: { S: event.index.actorId },
    action: { S: event.index.action },
    outcome: { S: event.index.outcome },
  };
  if (event.index.resourceId !== undefined) item['resourceId'] = { S: event.index.resourceId };
  // Search index keys (docs/LEDGER-TABLE.md, "Search indexes") and the channel their filters check.
  if (event.index.channel !== undefined) item['channel'] = { S: event.index.channel };
  for (const [name, value] of Object.entries(indexAttributes(ledger, event.id, event.index))) {
    item[name] = { S: value };
  }
  return item;
}

/** The idempotency item written in the same transaction as its event. */
export function idItem(ledger: string, event: LedgerEvent, shardCount: number): Item {
  return {
    ...idItemKey(ledger, event.id),
    eventPk: { S: eventPartitionKey(ledger, event.period, shardOf(event.id, shardCount)) },
    eventSk: { S: eventSortKey(event.receivedAt, event.id) },
    leafHash: { B: event.leafHash },
    inputSha256: { S: event.inputSha256 },
    receipt: { S: canonicalString(event.receipt) },
  };
}

/**
 * The batch seal item: the signed statement, its signature and the leaves it covers (`leaves`: JSON
 * `[[id, leafHashHex], …]` in tree order; every leaf's receivedAt is the batch's).
 */
export function batchItem(batch: BatchSeal, period: Period, shardCount: number): Item {
  return {
    ...batchItemKey(batch.ledger, period, batch.receivedAt, batch.batchId, shardCount),
    batchId: { S: batch.batchId },
    statement: { S: batch.statement },
    signature: { B: batch.signature },
    receivedAt: { S: batch.receivedAt },
    size: { N: String(batch.size) },
    leaves: {
      S: JSON.stringify(batch.leaves.map((l) => [l.eventId, Buffer.from(l.leafHash).toString('hex')])),
    },
  };
}

/** One item per rejected request: `SG#<ledger>#<YYYY-MM-DD>` / `<at>#<unique>`. */
export function securitySignalItem(signal: SecuritySignal, unique: string): Item {
  return {
    pk: { S: `SG#${signal.ledger}#${signal.at.slice(0, 10)}` },
    sk: { S: `${signal.at}#${unique}` },
    kind: { S: signal.kind },
    principal: { S: signal.principal },
    requestId: { S: signal.requestId },
    channel: { S: signal.channel },
    conflicts: {
      L: signal.conflicts.map((c) => ({
        M: {
          eventId: { S: c.eventId },
          storedInputSha256: { S: c.storedInputSha256 },
          attemptedInputSha256: { S: c.attemptedInputSha256 },
        },
      })),
    },
  };
}

const str = z.object({ S: z.string() }).transform((v) => v.S);
const bytes = z.object({ B: z.instanceof(Uint8Array) }).transform((v) => v.B);
const num = z.object({ N: z.string().regex(/^\d{1,15}$/) }).transform((v) => Number(v.N));
const hex64 = z.object({ S: z.string().regex(/^[0-9a-f]{64}$/) }).transform((v) => v.S);
const millisTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const idItemSchema = z.looseObject({
  pk: str,
  sk: str,
  eventSk: str,
  inputSha256: hex64,
  receipt: str,
});

const eventItemSchema = z.looseObject({
  pk: str,
  sk: str,
  id: str,
  body: bytes,
  leafHash: bytes,
  batchId: str,
  receivedAt: str,
});

const periodItemSchema = z.looseObject({ sk: str, id: str, body: bytes, receivedAt: str, batchId: str });

const batchItemSchema = z.looseObject({
  sk: str,
  batchId: str,
  statement: str,
  signature: bytes,
  receivedAt: str,
  size: num,
  leaves: str,
});
const leavesSchema = z
  .array(z.tuple([z.string().min(1).max(128), z.string().regex(/^[0-9a-f]{64}$/)]))
  .min(1)
  .max(10_000);

function keyOf(item: Item): { pk: string; sk: string } {
  return { pk: item['pk']?.S ?? '(missing)', sk: item['sk']?.S ?? '(missing)' };
}

function parse<T extends z.ZodType>(schema: T, item: Item, what: string): z.output<T> {
  const result = schema.safeParse(item);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new CorruptItemError(keyOf(item), `${what}: ${issue.path.join('.') || '(item)'} ${issue.message}`);
  }
  return result.data;
}

/** Reads an idempotency item back; `ledger` is needed to recover the id from the key. */
export function parseIdItem(ledger: string, item: Item): StoredEventId {
  const parsed = parse(idItemSchema, item, 'id item');
  const prefix = `ID#${ledger}#`;
  const key = keyOf(item);
  if (!parsed.pk.startsWith(prefix) || parsed.sk !== 'ID') throw new CorruptItemError(key, 'not an id item');
  const id = parsed.pk.slice(prefix.length);
  const receivedAt = parsed.eventSk.slice(0, 24);
  if (parsed.eventSk !== eventSortKey(receivedAt, id) || !millisTime.test(receivedAt)) {
    throw new CorruptItemError(key, 'eventSk does not match the id');
  }
  let receiptValue: unknown;
  try {
    receiptValue = JSON.parse(parsed.receipt);
  } catch {
    throw new CorruptItemError(key, 'receipt is not JSON');
  }
  const receipt = receiptSchema.safeParse(receiptValue);
  if (!receipt.success || receipt.data.eventId !== id)
    throw new CorruptItemError(key, 'receipt is malformed');
  return { id, inputSha256: parsed.inputSha256, receivedAt, receipt: receipt.data };
}

/** Where an id item says its event lives. */
export function eventKeyOfIdItem(item: Item): Item {
  const pk = item['eventPk']?.S;
  const sk = item['eventSk']?.S;
  if (pk === undefined || sk === undefined) throw new CorruptItemError(keyOf(item), 'no event key');
  return { pk: { S: pk }, sk: { S: sk } };
}

/** An event item read back, joined with its id record. */
export function parseEventItem(item: Item, idRecord: StoredEventId): StoredEvent {
  const parsed = parse(eventItemSchema, item, 'event item');
  if (parsed.id !== idRecord.id || parsed.sk !== eventSortKey(parsed.receivedAt, parsed.id)) {
    throw new CorruptItemError(keyOf(item), 'event item does not match its id item');
  }
  return {
    ...idRecord,
    bytes: parsed.body,
    leafHash: parsed.leafHash,
    batchId: parsed.batchId,
  };
}

/**
 * An event row as the period reader needs it, keyed by its sort key for merging. A row that does not have
 * the shape the ledger writes is returned as a malformed row (never thrown): one poison item must not
 * stop sealing.
 */
export function parsePeriodItem(item: Item): {
  readonly sk: string;
  readonly row: PeriodEvent | MalformedRow;
} {
  const key = keyOf(item);
  const result = periodItemSchema.safeParse(item);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    return {
      sk: key.sk,
      row: { malformed: true, item: key, reason: `${issue.path.join('.') || '(item)'} ${issue.message}` },
    };
  }
  const parsed = result.data;
  if (parsed.sk !== eventSortKey(parsed.receivedAt, parsed.id) || !millisTime.test(parsed.receivedAt)) {
    return {
      sk: key.sk,
      row: { malformed: true, item: key, reason: 'sort key does not match receivedAt and id' },
    };
  }
  return {
    sk: parsed.sk,
    row: {
      id: parsed.id,
      bytes: parsed.body,
      receivedAt: parsed.receivedAt,
      batchId: parsed.batchId,
      item: key,
    },
  };
}

const abandonItemSchema = z.looseObject({ sk: str, statement: str, signature: bytes });

/** An abandon row read back: the batch sort key it belongs to and its signed statement. */
export function parseAbandonItem(
  item: Item,
): { readonly batchSk: string; readonly abandon: { statement: string; signature: Uint8Array } } | undefined {
  const parsed = abandonItemSchema.safeParse(item);
  if (!parsed.success || !parsed.data.sk.endsWith('#abandon')) return undefined;
  return {
    batchSk: parsed.data.sk.slice(0, -'#abandon'.length),
    abandon: { statement: parsed.data.statement, signature: parsed.data.signature },
  };
}

/** A batch row read back for sealing, or a malformed row (never thrown). */
export function parseBatchItem(
  ledger: string,
  item: Item,
): { readonly sk: string; readonly row: BatchSeal | MalformedRow } {
  const key = keyOf(item);
  const malformed = (reason: string) => ({
    sk: key.sk,
    row: { malformed: true as const, item: key, reason },
  });
  const result = batchItemSchema.safeParse(item);
  if (!result.success)
    return malformed(`batch item: ${result.error.issues[0]?.path.join('.') ?? ''} invalid`);
  const parsed = result.data;
  if (parsed.sk !== `${parsed.receivedAt}#${parsed.batchId}` || !millisTime.test(parsed.receivedAt)) {
    return malformed('sort key does not match receivedAt and batchId');
  }
  let leaves: [string, string][];
  try {
    leaves = leavesSchema.parse(JSON.parse(parsed.leaves));
  } catch {
    return malformed('leaves are not a list of [id, leaf hash]');
  }
  return {
    sk: key.sk,
    row: {
      ledger,
      batchId: parsed.batchId,
      receivedAt: parsed.receivedAt,
      statement: parsed.statement,
      signature: parsed.signature,
      size: parsed.size,
      leaves: leaves.map(([eventId, hex]) => ({
        eventId,
        receivedAt: parsed.receivedAt,
        leafHash: Buffer.from(hex, 'hex'),
      })),
    },
  };
}

/** True when an existing batch item holds exactly this seal (a retried write). */
export function sameBatchSeal(item: Item, batch: BatchSeal): boolean {
  const parsed = batchItemSchema.safeParse(item);
  return (
    parsed.success &&
    parsed.data.statement === batch.statement &&
    parsed.data.receivedAt === batch.receivedAt &&
    parsed.data.size === batch.size &&
    Buffer.from(parsed.data.signature).equals(batch.signature)
  );
}

/**
 * Upper bound of an item's size as DynamoDB counts it (attribute names plus values), used to keep a
 * transaction under its 4 MB aggregate limit.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
 */
export function itemSizeBytes(item: Item): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += Buffer.byteLength(name) + valueSize(value);
  return size;
}

function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.B !== undefined) return value.B.length;
  if (value.N !== undefined) return 21;
  if (value.L !== undefined) return 3 + value.L.reduce((n, v) => n + 1 + valueSize(v), 0);
  if (value.M !== undefined) return 3 + itemSizeBytes(value.M) + Object.keys(value.M).length;
  return 1;
}

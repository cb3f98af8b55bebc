/**
 * Provenance at sealing (G6, FORMAT.md §5.1–§5.2): nothing that no ingest signature covers is sealed as
 * if it were genuine. The sealer reads a period's stored rows and its signed batches, both in period
 * order, and this module decides, row by row, what is sealed:
 *
 * - a row is sealed only when a trusted, signed batch lists its id and `receivedAt`, and the leaf hash of
 *   the row's stored bytes is the one the batch signed;
 * - a row whose bytes changed, that no trusted batch covers, that repeats a sealed leaf, or that is not an
 *   event at all is **excluded**: it is recorded in the period's exclusions, never sealed;
 * - a signed leaf with no sealed row is recorded as **missing** in its batch record.
 *
 * The period is always sealed; exclusions and missing leaves are evidence in the digest and raise alarms.
 * Memory: the batches whose time range is still open (for API requests, one millisecond's worth), and
 * the period's sealed ids (`SealedIdTable`: 10 to 15 bytes per id; a fingerprint match is confirmed with
 * the earlier id's full hash, read back through `sealedIdHash`, so two different ids never count as one).
 */
import { HASH_SIZE, hashLeaf, sha256 } from '../merkle/rfc6962.ts';
import type { MalformedRow, PeriodBatchRow, PeriodRow } from '../ports/ledger-store.ts';
import { eventIdHash } from './archive-chunk.ts';
import { checkAbandon, checkSignedBatch } from './batch-check.ts';
import type { BatchLeaf, KeyLookup } from './batch-receipts.ts';
import {
  BATCH_RECORD_TYPE,
  type BatchRecord,
  type BatchRecordLeaf,
  EXCLUSION_TYPE,
  type Exclusion,
  type ExclusionReason,
} from './formats.ts';
import { toHex } from './hex.ts';
import { SealedIdTable } from './id-set.ts';
import type { Period } from './period.ts';

/** A row accepted for sealing, with its leaf hash and id hash (SHA-256 of the UTF-8 id) already computed. */
export interface ProvenEvent {
  readonly id: string;
  readonly bytes: Uint8Array;
  readonly receivedAt: string;
  readonly leafHash: Buffer;
  readonly idHash: Buffer;
}

/**
 * The id hash (SHA-256 of the UTF-8 event id) of the event sealed at `index`, an index `provePeriod`
 * has already yielded: the sealer reads it from the chunk index it writes (FORMAT.md §5).
 */
export type SealedIdHashLookup = (index: number) => Uint8Array | Promise<Uint8Array>;

/** A signed leaf that was not sealed, for alarms. */
export interface MissingLeaf {
  readonly batchId: string;
  readonly eventId: string;
  readonly receivedAt: string;
  readonly reason: 'MODIFIED' | 'ABSENT';
}

const NO_INDICES: ReadonlySet<number> = new Set();

/** Where the sealer sends what provenance decides, in order. */
export interface ProvenanceSink {
  /** A batch record, in the order the archive holds them. */
  batchRecord(record: BatchRecord): Promise<void>;
  /** A stored row left out of the period. */
  exclusion(exclusion: Exclusion): Promise<void>;
  /** A signed leaf with no sealed row. */
  missing(leaf: MissingLeaf): void;
}

/**
 * A trusted batch's leaves, packed as soon as its row is read and checked: its ids (the row's strings),
 * its `receivedAt` times as 24 ASCII bytes each (a trusted batch's times are all millisecond times) and
 * its leaf hashes as 32 bytes each. The row's per-leaf objects and hash views are then garbage at once,
 * instead of staying live for the whole batch: live data at a full collection is what sets how far V8
 * lets the heap grow before the next one (docs/BENCHMARKS.md, "Sealing memory").
 */
interface PackedLeaves {
  readonly count: number;
  readonly ids: readonly string[];
  readonly receivedAt: Buffer;
  readonly hashes: Buffer;
}

const TIME_SIZE = 24;

function packLeaves(leaves: readonly BatchLeaf[]): PackedLeaves {
  const count = leaves.length;
  const ids: string[] = new Array(count);
  const receivedAt = Buffer.allocUnsafe(count * TIME_SIZE);
  const hashes = Buffer.allocUnsafe(count * HASH_SIZE);
  for (let i = 0; i < count; i++) {
    const leaf = leaves[i]!;
    ids[i] = leaf.eventId;
    receivedAt.write(leaf.receivedAt, i * TIME_SIZE, TIME_SIZE, 'latin1');
    hashes.set(leaf.leafHash, i * HASH_SIZE);
  }
  return { count, ids, receivedAt, hashes };
}

/** Id → leaf index; an id listed twice maps to its last index (as a Map built from the list would). */
function positions(ids: readonly string[]): Map<string, number> {
  const position = new Map<string, number>();
  for (let i = 0; i < ids.length; i++) position.set(ids[i]!, i);
  return position;
}

function leafTime(leaves: PackedLeaves, i: number): string {
  return leaves.receivedAt.toString('latin1', i * TIME_SIZE, (i + 1) * TIME_SIZE);
}

/** Leaf `i`'s hash equals `hash` (32 bytes). */
function sameLeafHash(leaves: PackedLeaves, i: number, hash: Uint8Array): boolean {
  return leaves.hashes.compare(hash, 0, HASH_SIZE, i * HASH_SIZE, (i + 1) * HASH_SIZE) === 0;
}

/** No sealed index yet, in `sealedAt`. */
const UNSEALED = -1;

interface ActiveBatch {
  readonly batchId: string;
  readonly statement: string;
  readonly signature: Uint8Array;
  /** The packed leaves of a trusted batch; an untrusted batch keeps none (none of its rows is sealed). */
  readonly leaves: PackedLeaves;
  readonly receivedTo: string;
  readonly trusted: boolean;
  readonly untrustedReason?: string;
  readonly position: Map<string, number>;
  /** Per leaf: its sealed index, or UNSEALED. */
  readonly sealedAt: Int32Array;
  /** Per leaf: 1 when a row with its id and time had other bytes. */
  readonly modified: Uint8Array;
  /** Leaves ingest signed as abandoned (not stored by their request), with the signed statement. */
  readonly abandoned: ReadonlySet<number>;
  readonly abandon?: { readonly statement: string; readonly signature: Uint8Array };
  minIndex: number;
}

/** What an exclusion of a batch row records (reported when the row is loaded, in read order). */
interface BatchExclusion {
  readonly reason: ExclusionReason;
  readonly item: { pk: string; sk: string } | undefined;
  readonly fields: { batchId?: string; detail: string };
}

/** A batch row read ahead: checked and packed at once, its exclusions reported when it is loaded. */
type ReadBatch =
  | { readonly malformed: MalformedRow }
  | { readonly batch: ActiveBatch; readonly receivedAt: string; readonly exclusions: BatchExclusion[] };

const NO_LEAVES: PackedLeaves = {
  count: 0,
  ids: [],
  receivedAt: Buffer.alloc(0),
  hashes: Buffer.alloc(0),
};

function isMalformed(row: PeriodRow | PeriodBatchRow): row is MalformedRow {
  return (row as MalformedRow).malformed === true;
}

function sha256Hex(bytes: Uint8Array): string {
  return toHex(sha256(bytes));
}

/**
 * Yields the rows to seal, in period order, and reports batch records, exclusions and missing leaves to
 * `sink`. `rows` must be in (receivedAt, id) order and `batches` in (receivedAt, batchId) order, as the
 * ledger store reads them.
 */
export async function* provePeriod(
  input: {
    readonly ledger: string;
    readonly period: Period;
    readonly rows: AsyncIterable<PeriodRow> | Iterable<PeriodRow>;
    readonly batches: AsyncIterable<PeriodBatchRow> | Iterable<PeriodBatchRow>;
    readonly keys: KeyLookup;
    /** Reads back the id hash of an event already yielded, to confirm a duplicate id in full. */
    readonly sealedIdHash: SealedIdHashLookup;
  },
  sink: ProvenanceSink,
): AsyncGenerator<ProvenEvent> {
  const context = { ledger: input.ledger, period: input.period, keys: input.keys };
  const batchIterator = toAsyncIterator(input.batches);
  const active = new Map<string, ActiveBatch>();
  const retired: ActiveBatch[] = [];
  const sealedIds = new SealedIdTable();
  let index = 0;

  const exclude = (
    reason: ExclusionReason,
    item: { pk: string; sk: string } | undefined,
    fields: { eventId?: string; batchId?: string; bytes?: Uint8Array; detail: string },
  ): Promise<void> =>
    sink.exclusion({
      type: EXCLUSION_TYPE,
      reason,
      item: item ?? { pk: '(unknown)', sk: '(unknown)' },
      eventId: fields.eventId ?? null,
      batchId: fields.batchId ?? null,
      storedSha256: fields.bytes ? sha256Hex(fields.bytes) : null,
      detail: fields.detail.slice(0, 1024),
    });

  /**
   * Checks a batch row as soon as it is read and keeps only what sealing needs of it, so the row itself
   * (one object and one hash view per leaf) is never live for longer than this call.
   */
  const readBatch = async (row: PeriodBatchRow): Promise<ReadBatch> => {
    if (isMalformed(row)) return { malformed: row };
    const exclusions: BatchExclusion[] = [];
    const check = await checkSignedBatch(row, context);
    let abandoned = NO_INDICES;
    if (check.ok && row.abandon) {
      const a = await checkAbandon(
        row.abandon,
        { statementText: row.statement, statement: check.statement },
        input.keys,
      );
      if (a.ok) abandoned = a.indices;
      else {
        exclusions.push({
          reason: 'ITEM_MALFORMED',
          item: undefined,
          fields: { batchId: row.batchId, detail: `abandon row of batch ${row.batchId}: ${a.reason}` },
        });
      }
    }
    const leaves = check.ok ? packLeaves(row.leaves) : NO_LEAVES;
    const batch: ActiveBatch = {
      batchId: row.batchId,
      statement: row.statement,
      signature: row.signature,
      leaves,
      receivedTo: check.statement?.receivedTo ?? row.receivedAt,
      trusted: check.ok,
      ...(check.ok ? {} : { untrustedReason: check.reason }),
      position: positions(leaves.ids),
      sealedAt: new Int32Array(leaves.count).fill(UNSEALED),
      modified: new Uint8Array(leaves.count),
      abandoned,
      ...(abandoned.size > 0 && row.abandon ? { abandon: row.abandon } : {}),
      minIndex: Number.POSITIVE_INFINITY,
    };
    if (!check.ok) {
      exclusions.push({
        reason: 'BATCH_INVALID',
        item: undefined,
        fields: { batchId: row.batchId, detail: `batch ${row.batchId}: ${check.reason}` },
      });
    }
    return { batch, receivedAt: row.receivedAt, exclusions };
  };

  const readNextBatch = async (): Promise<ReadBatch | undefined> => {
    const next = await batchIterator.next();
    return next.done ? undefined : readBatch(next.value);
  };
  let nextBatch = await readNextBatch();

  const loadBatchesUntil = async (receivedAt: string | undefined): Promise<void> => {
    while (nextBatch !== undefined) {
      const read = nextBatch;
      if (!('malformed' in read) && receivedAt !== undefined && read.receivedAt > receivedAt) return;
      nextBatch = await readNextBatch();
      if ('malformed' in read) {
        await exclude('ITEM_MALFORMED', read.malformed.item, {
          detail: `batch row: ${read.malformed.reason}`,
        });
        continue;
      }
      for (const e of read.exclusions) await exclude(e.reason, e.item, e.fields);
      const { batch } = read;
      if (active.has(batch.batchId)) {
        // A second row for one batch id: the first one stands, the copy is evidence.
        await exclude('BATCH_INVALID', undefined, {
          batchId: batch.batchId,
          detail: `batch ${batch.batchId} is stored twice`,
        });
        continue;
      }
      active.set(batch.batchId, batch);
    }
  };

  const retireBefore = async (receivedAt: string | undefined): Promise<void> => {
    for (const [id, batch] of active) {
      if (receivedAt !== undefined && batch.receivedTo >= receivedAt) continue;
      active.delete(id);
      if (batch.trusted) retired.push(batch);
    }
    // Records go out in the order of their first sealed index, so a verifier streaming the period meets
    // each record before the events it covers; records with no sealed leaf go out at once.
    let bound = Number.POSITIVE_INFINITY;
    for (const batch of active.values()) if (batch.trusted) bound = Math.min(bound, batch.minIndex);
    retired.sort((a, b) => a.minIndex - b.minIndex);
    while (retired.length > 0 && (retired[0]!.minIndex < bound || receivedAt === undefined)) {
      await emit(retired.shift()!);
    }
  };

  const emit = async (batch: ActiveBatch): Promise<void> => {
    const { ids, count } = batch.leaves;
    const leaves: BatchRecordLeaf[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const at = batch.sealedAt[i]!;
      const sealed = at === UNSEALED ? null : at;
      const eventId = ids[i]!;
      const receivedAt = leafTime(batch.leaves, i);
      const base = {
        id: eventId,
        receivedAt,
        leafHash: batch.leaves.hashes.toString('hex', i * HASH_SIZE, (i + 1) * HASH_SIZE),
        index: sealed,
      };
      if (sealed !== null) {
        leaves[i] = base;
        continue;
      }
      const modified = batch.modified[i] === 1;
      if (!modified && batch.abandoned.has(i)) {
        leaves[i] = { ...base, missing: 'ABANDONED' as const };
        continue;
      }
      const reason = modified ? 'MODIFIED' : 'ABSENT';
      sink.missing({ batchId: batch.batchId, eventId, receivedAt, reason });
      leaves[i] = { ...base, missing: reason };
    }
    await sink.batchRecord({
      type: BATCH_RECORD_TYPE,
      statement: batch.statement,
      signature: Buffer.from(batch.signature).toString('base64'),
      leaves,
      ...(batch.abandon
        ? {
            abandon: {
              statement: batch.abandon.statement,
              signature: Buffer.from(batch.abandon.signature).toString('base64'),
            },
          }
        : {}),
    });
  };

  for await (const row of input.rows) {
    if (isMalformed(row)) {
      await exclude('ITEM_MALFORMED', row.item, { detail: row.reason });
      continue;
    }
    await loadBatchesUntil(row.receivedAt);
    await retireBefore(row.receivedAt);
    const batch = row.batchId === undefined ? undefined : active.get(row.batchId);
    const fields = { eventId: row.id, ...(row.batchId ? { batchId: row.batchId } : {}), bytes: row.bytes };
    if (!batch) {
      await exclude('EVENT_UNSIGNED', row.item, {
        ...fields,
        detail: `no signed batch ${row.batchId ?? '(none)'} of this period covers the row`,
      });
      continue;
    }
    if (!batch.trusted) {
      await exclude('EVENT_UNSIGNED', row.item, {
        ...fields,
        detail: `its batch ${batch.batchId} is not trusted: ${batch.untrustedReason}`,
      });
      continue;
    }
    const pos = batch.position.get(row.id);
    if (pos === undefined || leafTime(batch.leaves, pos) !== row.receivedAt) {
      await exclude('EVENT_UNSIGNED', row.item, {
        ...fields,
        detail: `batch ${batch.batchId} does not sign this id at this time`,
      });
      continue;
    }
    if (batch.sealedAt[pos] !== UNSEALED) {
      await exclude('EVENT_DUPLICATE', row.item, {
        ...fields,
        detail: `leaf ${pos} of batch ${batch.batchId} is already sealed`,
      });
      continue;
    }
    const leafHash = hashLeaf(row.bytes);
    if (!sameLeafHash(batch.leaves, pos, leafHash)) {
      batch.modified[pos] = 1;
      await exclude('EVENT_MODIFIED', row.item, {
        ...fields,
        detail: `stored bytes hash to ${toHex(leafHash)}; batch ${batch.batchId} signed ${batch.leaves.hashes.toString('hex', pos * HASH_SIZE, (pos + 1) * HASH_SIZE)}`,
      });
      continue;
    }
    const idHash = eventIdHash(row.id);
    if (await alreadySealed(sealedIds, idHash, index, input.sealedIdHash)) {
      // Two signed leaves name one id (two batches signed it, e.g. a lost race plus a forged row): seal it once.
      await exclude('EVENT_DUPLICATE', row.item, {
        ...fields,
        detail: `event id ${row.id} is already sealed in this period`,
      });
      continue;
    }
    batch.sealedAt[pos] = index;
    if (batch.minIndex === Number.POSITIVE_INFINITY) batch.minIndex = index;
    index++;
    yield { id: row.id, bytes: row.bytes, receivedAt: row.receivedAt, leafHash, idHash };
  }
  await loadBatchesUntil(undefined);
  await retireBefore(undefined);
}

/**
 * Whether the id with hash `idHash` is already sealed; if not, it is recorded as sealed at `index`. A
 * fingerprint match is only a candidate: it is a duplicate only if the candidate's full 32-byte id hash,
 * read back at its sealed index, is the same. Two different ids never count as one, however rare their
 * fingerprints' collision (docs/FORMAT.md §5.2).
 */
async function alreadySealed(
  sealedIds: SealedIdTable,
  idHash: Buffer,
  index: number,
  sealedIdHash: SealedIdHashLookup,
): Promise<boolean> {
  const candidates = sealedIds.tryAdd(idHash, 0, index);
  if (candidates.length === 0) return false;
  for (const candidate of candidates) {
    const earlier = await sealedIdHash(candidate);
    if (earlier.length !== HASH_SIZE)
      throw new RangeError(`the id hash sealed at ${candidate} is not 32 bytes`);
    if (idHash.equals(earlier)) return true;
  }
  sealedIds.addConfirmed(idHash, 0, index);
  return false;
}

function toAsyncIterator<T>(source: AsyncIterable<T> | Iterable<T>): AsyncIterator<T> {
  if (Symbol.asyncIterator in source) return (source as AsyncIterable<T>)[Symbol.asyncIterator]();
  const it = (source as Iterable<T>)[Symbol.iterator]();
  return { next: async () => it.next() };
}

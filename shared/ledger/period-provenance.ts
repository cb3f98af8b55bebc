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
 * Memory: the batches whose time range is still open (for API requests, one millisecond's worth).
 */
import { hashLeaf, sha256 } from '../merkle/rfc6962.ts';
import type { MalformedRow, PeriodBatchRow, PeriodRow } from '../ports/ledger-store.ts';
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
import { EventIdSet } from './id-set.ts';
import type { Period } from './period.ts';

/** A row accepted for sealing, with the leaf hash already computed. */
export interface ProvenEvent {
  readonly id: string;
  readonly bytes: Uint8Array;
  readonly receivedAt: string;
  readonly leafHash: Buffer;
}

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

interface ActiveBatch {
  readonly batchId: string;
  readonly statement: string;
  readonly signature: Uint8Array;
  readonly leaves: readonly BatchLeaf[];
  readonly receivedTo: string;
  readonly trusted: boolean;
  readonly untrustedReason?: string;
  readonly position: Map<string, number>;
  readonly sealedAt: (number | null)[];
  readonly modified: boolean[];
  /** Leaves ingest signed as abandoned (not stored by their request), with the signed statement. */
  readonly abandoned: ReadonlySet<number>;
  readonly abandon?: { readonly statement: string; readonly signature: Uint8Array };
  minIndex: number;
}

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
  },
  sink: ProvenanceSink,
): AsyncGenerator<ProvenEvent> {
  const context = { ledger: input.ledger, period: input.period, keys: input.keys };
  const batchIterator = toAsyncIterator(input.batches);
  let nextBatch = await batchIterator.next();
  const active = new Map<string, ActiveBatch>();
  const retired: ActiveBatch[] = [];
  const sealedIds = new EventIdSet();
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

  const loadBatchesUntil = async (receivedAt: string | undefined): Promise<void> => {
    while (!nextBatch.done) {
      const row = nextBatch.value;
      if (!isMalformed(row) && receivedAt !== undefined && row.receivedAt > receivedAt) return;
      nextBatch = await batchIterator.next();
      if (isMalformed(row)) {
        await exclude('ITEM_MALFORMED', row.item, { detail: `batch row: ${row.reason}` });
        continue;
      }
      const check = checkSignedBatch(row, context);
      let abandoned = NO_INDICES;
      if (check.ok && row.abandon) {
        const a = checkAbandon(
          row.abandon,
          { statementText: row.statement, statement: check.statement },
          input.keys,
        );
        if (a.ok) abandoned = a.indices;
        else {
          await exclude('ITEM_MALFORMED', undefined, {
            batchId: row.batchId,
            detail: `abandon row of batch ${row.batchId}: ${a.reason}`,
          });
        }
      }
      const batch: ActiveBatch = {
        batchId: row.batchId,
        statement: row.statement,
        signature: row.signature,
        leaves: row.leaves,
        receivedTo: check.statement?.receivedTo ?? row.receivedAt,
        trusted: check.ok,
        ...(check.ok ? {} : { untrustedReason: check.reason }),
        position: new Map(row.leaves.map((l, i) => [l.eventId, i] as const)),
        sealedAt: row.leaves.map(() => null),
        modified: row.leaves.map(() => false),
        abandoned,
        ...(abandoned.size > 0 && row.abandon ? { abandon: row.abandon } : {}),
        minIndex: Number.POSITIVE_INFINITY,
      };
      if (!check.ok) {
        await exclude('BATCH_INVALID', undefined, {
          batchId: row.batchId,
          detail: `batch ${row.batchId}: ${check.reason}`,
        });
      }
      if (active.has(row.batchId)) {
        // A second row for one batch id: the first one stands, the copy is evidence.
        await exclude('BATCH_INVALID', undefined, {
          batchId: row.batchId,
          detail: `batch ${row.batchId} is stored twice`,
        });
        continue;
      }
      active.set(row.batchId, batch);
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
    const leaves = batch.leaves.map((leaf, i): BatchRecordLeaf => {
      const sealed = batch.sealedAt[i]!;
      const base = {
        id: leaf.eventId,
        receivedAt: leaf.receivedAt,
        leafHash: toHex(leaf.leafHash),
        index: sealed,
      };
      if (sealed !== null) return base;
      if (!batch.modified[i] && batch.abandoned.has(i)) return { ...base, missing: 'ABANDONED' as const };
      const reason = batch.modified[i] ? 'MODIFIED' : 'ABSENT';
      sink.missing({ batchId: batch.batchId, eventId: leaf.eventId, receivedAt: leaf.receivedAt, reason });
      return { ...base, missing: reason };
    });
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
    const leaf = pos === undefined ? undefined : batch.leaves[pos];
    if (pos === undefined || !leaf || leaf.receivedAt !== row.receivedAt) {
      await exclude('EVENT_UNSIGNED', row.item, {
        ...fields,
        detail: `batch ${batch.batchId} does not sign this id at this time`,
      });
      continue;
    }
    if (batch.sealedAt[pos] !== null) {
      await exclude('EVENT_DUPLICATE', row.item, {
        ...fields,
        detail: `leaf ${pos} of batch ${batch.batchId} is already sealed`,
      });
      continue;
    }
    const leafHash = hashLeaf(row.bytes);
    if (!leafHash.equals(leaf.leafHash)) {
      batch.modified[pos] = true;
      await exclude('EVENT_MODIFIED', row.item, {
        ...fields,
        detail: `stored bytes hash to ${toHex(leafHash)}; batch ${batch.batchId} signed ${toHex(leaf.leafHash)}`,
      });
      continue;
    }
    if (!sealedIds.add(row.id)) {
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
    yield { id: row.id, bytes: row.bytes, receivedAt: row.receivedAt, leafHash };
  }
  await loadBatchesUntil(undefined);
  await retireBefore(undefined);
}

function toAsyncIterator<T>(source: AsyncIterable<T> | Iterable<T>): AsyncIterator<T> {
  if (Symbol.asyncIterator in source) return (source as AsyncIterable<T>)[Symbol.asyncIterator]();
  const it = (source as Iterable<T>)[Symbol.iterator]();
  return { next: async () => it.next() };
}

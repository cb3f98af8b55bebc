/**
 * Sealing a range of periods from events already in hand (imports, backfills, tests). Events are grouped
 * by the period of their `receivedAt` and ordered by (`receivedAt`, `id`) — the same order as the ledger
 * table's sort key — and every period from the first to the last is sealed, empty ones included.
 *
 * Imports follow the ingest rule (G6): nothing is sealed that no batch signature covers. Each period's
 * events are signed here in import batches of at most MAX_BATCH_LEAVES leaves (one Sign each), and then
 * sealed through the same provenance check as events read from the ledger table.
 */
import { loadPublicKey, TrustedKeySet } from '../crypto/keys.ts';
import { HASH_SIZE, hashLeaf } from '../merkle/rfc6962.ts';
import type { BatchSeal, PeriodEvent } from '../ports/ledger-store.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { SealableEvent } from './archive-chunk.ts';
import { type BatchLeaf, batchSealOf, signBatchStatement } from './batch-receipts.ts';
import { batchRecordSchema, MAX_BATCH_LEAVES } from './formats.ts';
import { batchFileKey } from './object-keys.ts';
import { compactLabel, isoSeconds, nextPeriod, type Period, periodOf } from './period.ts';
import { type ChainHead, type SealDeps, type SealedPeriod, sealPeriod } from './seal-period.ts';

/** An event with what ordering needs. */
export interface OrderedEvent extends SealableEvent {
  /** `YYYY-MM-DDTHH:MM:SS.sssZ`. */
  readonly receivedAt: string;
}

/** Order of events inside a period: by receivedAt, then by id (code units; ids are ASCII). */
export function compareEvents(a: OrderedEvent, b: OrderedEvent): number {
  if (a.receivedAt !== b.receivedAt) return a.receivedAt < b.receivedAt ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export interface SealRangeRequest {
  readonly ledger: string;
  readonly seconds: number;
  readonly events: readonly OrderedEvent[];
  /** Continue this chain; new events must fall after its period. */
  readonly previous: ChainHead | null;
  /** Seal through the period containing this instant even if it has no events. */
  readonly untilMs?: number;
  readonly chunkLeaves?: number;
  readonly onPeriod?: (sealed: SealedPeriod, events: number) => void;
}

/** Seals every period from the chain head (or the first event) through the last event or `untilMs`. */
export async function sealRange(req: SealRangeRequest, deps: SealDeps): Promise<SealedPeriod[]> {
  const groups = new Map<number, OrderedEvent[]>();
  for (const event of req.events) {
    const p = periodOf(Date.parse(event.receivedAt), req.seconds);
    const list = groups.get(p.startMs) ?? [];
    list.push(event);
    groups.set(p.startMs, list);
  }
  const starts = [...groups.keys()].sort((a, b) => a - b);
  let first: Period | undefined = req.previous ? nextPeriod(req.previous.period) : undefined;
  if (!first && starts.length > 0) first = { startMs: starts[0]!, seconds: req.seconds };
  if (!first && req.untilMs !== undefined) first = periodOf(req.untilMs, req.seconds);
  if (!first) return [];
  if (req.previous && starts.length > 0 && starts[0]! < first.startMs) {
    throw new RangeError(`events fall in ${isoSeconds(starts[0]!)}, which the chain has already sealed`);
  }
  const lastStart = Math.max(
    starts[starts.length - 1] ?? -Infinity,
    req.untilMs !== undefined ? periodOf(req.untilMs, req.seconds).startMs : -Infinity,
  );
  const sealed: SealedPeriod[] = [];
  let previous = req.previous;
  const keys = new TrustedKeySet([loadPublicKey(await deps.signer.publicKeyPem())]);
  for (let period = first; period.startMs <= lastStart; period = nextPeriod(period)) {
    const events = (groups.get(period.startMs) ?? []).sort(compareEvents);
    const { rows, batches } = await signImportBatches(req.ledger, period, events, deps, deps.store);
    const result = await sealPeriod(
      {
        ledger: req.ledger,
        period,
        previous,
        rows,
        batches,
        keys,
        ...(req.chunkLeaves ? { chunkLeaves: req.chunkLeaves } : {}),
      },
      deps,
    );
    req.onPeriod?.(result, events.length);
    sealed.push(result);
    previous = result;
  }
  return sealed;
}

/** The id of a period's `n`-th import batch: `imp-<period label>-<n>`, deterministic across runs. */
export function importBatchId(period: Period, n: number): string {
  return `imp-${compactLabel(period.startMs)}-${String(n).padStart(6, '0')}`;
}

/**
 * Signs one period's import events in batches of at most MAX_BATCH_LEAVES, in period order. Batch ids are
 * `imp-<period label>-<n>` (importBatchId): deterministic, so sealing the same input twice gives the same
 * objects.
 */
export async function signImportBatches(
  ledger: string,
  period: Period,
  events: readonly OrderedEvent[],
  deps: Pick<SealDeps, 'signer'>,
  /** Where an earlier run may have archived this period's batches: their signatures are reused. */
  existing?: ObjectStore,
): Promise<{ rows: PeriodEvent[]; batches: BatchSeal[] }> {
  const batches: BatchSeal[] = [];
  for await (const batch of importBatches(ledger, period, events, deps, existing)) batches.push(batch);
  const rows = events.map(
    (e, i): PeriodEvent => ({
      id: e.id,
      bytes: e.bytes,
      receivedAt: e.receivedAt,
      batchId: importBatchId(period, Math.floor(i / MAX_BATCH_LEAVES)),
    }),
  );
  // The provenance check wants batches in (receivedAt, batchId) order, as the ledger table reads them.
  batches.sort((a, b) =>
    a.receivedAt !== b.receivedAt ? (a.receivedAt < b.receivedAt ? -1 : 1) : a.batchId < b.batchId ? -1 : 1,
  );
  return { rows, batches };
}

/**
 * signImportBatches, lazily: each block of MAX_BATCH_LEAVES events is read, hashed and signed only when the
 * consumer asks for its batch, so a period of any size is signed in the memory of one block. Event `i` of
 * `events` belongs to batch `importBatchId(period, floor(i / MAX_BATCH_LEAVES))`. With `events` in period
 * order (compareEvents), the batches come out in (receivedAt, batchId) order, as sealPeriod wants them.
 * Each block's leaf hashes are packed into one buffer, not kept as one small Buffer per leaf.
 */
export async function* importBatches(
  ledger: string,
  period: Period,
  events: Iterable<OrderedEvent> | AsyncIterable<OrderedEvent>,
  deps: Pick<SealDeps, 'signer'>,
  /** Where an earlier run may have archived this period's batches: their signatures are reused. */
  existing?: ObjectStore,
): AsyncGenerator<BatchSeal> {
  const earlier = existing
    ? await earlierSignatures(existing, ledger, period)
    : new Map<string, Uint8Array>();
  let n = 0;
  // A block's ids and times in two arrays, not an object per event: they live while the whole block is
  // read, long enough for V8 to move them to the old generation.
  let ids: string[] = [];
  let times: string[] = [];
  let hashes = Buffer.allocUnsafe(MAX_BATCH_LEAVES * HASH_SIZE);
  const signBlock = async (): Promise<BatchSeal> => {
    const batchId = importBatchId(period, n++);
    const leaves: BatchLeaf[] = ids.map((eventId, i) => ({
      eventId,
      receivedAt: times[i]!,
      leafHash: hashes.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE),
    }));
    ids = [];
    times = [];
    hashes = Buffer.allocUnsafe(MAX_BATCH_LEAVES * HASH_SIZE);
    const req = { ledger, batchId, leaves };
    return batchSealOf(req, await signBatchStatement(req, deps.signer, (text) => earlier.get(text)));
  };
  for await (const e of events) {
    hashLeaf(e.bytes).copy(hashes, ids.length * HASH_SIZE);
    ids.push(e.id);
    times.push(e.receivedAt);
    if (ids.length === MAX_BATCH_LEAVES) yield await signBlock();
  }
  if (ids.length > 0) yield await signBlock();
}

/**
 * Statement → signature of the batch records an earlier run archived for this period. A resumed or
 * repeated import must write byte-identical batch files, and ECDSA signatures are randomized.
 */
async function earlierSignatures(
  store: ObjectStore,
  ledger: string,
  period: Period,
): Promise<Map<string, Uint8Array>> {
  const found = new Map<string, Uint8Array>();
  for (let file = 0; ; file++) {
    const bytes = await store.get(batchFileKey(ledger, period, file));
    if (bytes === undefined) return found;
    for (const line of Buffer.from(bytes).toString('utf8').split('\n')) {
      if (line === '') continue;
      try {
        const record = batchRecordSchema.parse(JSON.parse(line));
        found.set(record.statement, Buffer.from(record.signature, 'base64'));
      } catch {
        // Not a record this code wrote: ignored here; sealing will refuse to overwrite the file anyway.
      }
    }
  }
}

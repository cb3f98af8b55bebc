/**
 * A genesis period sealed in memory from signed batches of chosen ids, for tests of the period-wide id
 * checks (test/unit/verify/verify-id-collision.test.ts, test/cli/verify-jobs.test.ts).
 */
import type { KeyFileSigner } from '../../shared/crypto/key-file-signer.ts';
import { batchSealOf, signBatch } from '../../shared/ledger/batch-receipts.ts';
import { SealedIdTable } from '../../shared/ledger/id-set.ts';
import type { Period } from '../../shared/ledger/period.ts';
import { sealPeriod } from '../../shared/ledger/seal-period.ts';
import { hashLeaf } from '../../shared/merkle/rfc6962.ts';
import type { BatchSeal, PeriodEvent } from '../../shared/ports/ledger-store.ts';
import { InMemoryObjectStore } from '../../shared/storage/in-memory-object-store.ts';
import { makeEvent, trustedKeysOf } from './sealed-folder.ts';

export const GROUPS_LEDGER = 'collide';
export const GROUPS_PERIOD: Period = { startMs: Date.parse('2026-11-22T21:00:00Z'), seconds: 3600 };
const iso = (minutes: number, ms = 0): string =>
  new Date(GROUPS_PERIOD.startMs + minutes * 60_000 + ms).toISOString();

/**
 * One signed batch per group of ids (group g received at minute g + 1, its leaves 1 ms apart), with the
 * ledger rows that store them: the input of a sealer for `GROUPS_PERIOD`.
 */
export async function signGroups(
  groups: readonly (readonly string[])[],
  signer: KeyFileSigner,
): Promise<{ batches: BatchSeal[]; rows: PeriodEvent[] }> {
  const batches: BatchSeal[] = [];
  const rows: PeriodEvent[] = [];
  for (const [g, ids] of groups.entries()) {
    const events = ids.map((id, i) => makeEvent(id, iso(g + 1, i)));
    const leaves = events.map((e) => ({
      eventId: e.id,
      receivedAt: e.receivedAt,
      leafHash: hashLeaf(e.bytes),
    }));
    const req = { ledger: GROUPS_LEDGER, batchId: `batch-${g}`, leaves };
    batches.push(batchSealOf(req, await signBatch(req, signer)));
    for (const e of events) rows.push({ ...e, batchId: req.batchId });
  }
  return { batches, rows };
}

/**
 * Seals one signed batch per group of ids (group g received at minute g + 1, its leaves 1 ms apart) as
 * the genesis period of a folder. `sealRepeats`: the sealer seals a repeated id again, as a faulty or
 * hostile sealer would (the real one excludes it as EVENT_DUPLICATE).
 */
export async function sealSignedGroups(
  groups: readonly (readonly string[])[],
  options: { signer: KeyFileSigner; chunkLeaves: number; sealRepeats?: boolean },
): Promise<InMemoryObjectStore> {
  const { signer } = options;
  const { batches, rows } = await signGroups(groups, signer);
  const objects = new InMemoryObjectStore();
  const tryAdd = Object.getOwnPropertyDescriptor(SealedIdTable.prototype, 'tryAdd')!;
  if (options.sealRepeats)
    Object.defineProperty(SealedIdTable.prototype, 'tryAdd', { ...tryAdd, value: () => [] });
  try {
    await sealPeriod(
      {
        ledger: GROUPS_LEDGER,
        period: GROUPS_PERIOD,
        previous: null,
        rows,
        batches,
        keys: await trustedKeysOf(signer),
        chunkLeaves: options.chunkLeaves,
      },
      { store: objects, signer },
    );
  } finally {
    Object.defineProperty(SealedIdTable.prototype, 'tryAdd', tryAdd);
  }
  return objects;
}

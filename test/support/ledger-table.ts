/**
 * A ledger table in memory, filled through the real ingest path (one signed batch per request, put-only
 * rows, the batch seal with its leaves), and sealed the way the sealing function does: rows and batch
 * seals read back from the table, checked against the trusted keys. Tests play the attacker with
 * `InMemoryLedgerStore.tamper` between the two.
 *
 * Example: `await ingestInto(store, signer, 'app', at, [appItem('app-1')])`, then
 * `await sealFromTable({ store, ledger: 'app', period, keys, objects, signer })`.
 */
import { GenesisGuard } from '../../shared/ingest/genesis-guard.ts';
import { type IngestResult, ingestBatch } from '../../shared/ingest/ingest-batch.ts';
import type { KeyLookup } from '../../shared/ledger/batch-receipts.ts';
import type { Period } from '../../shared/ledger/period.ts';
import { type ChainHead, type SealedPeriod, sealPeriod } from '../../shared/ledger/seal-period.ts';
import type { LedgerStore } from '../../shared/ports/ledger-store.ts';
import type { ObjectStore } from '../../shared/ports/object-store.ts';
import type { Signer } from '../../shared/ports/signer.ts';
import { InMemorySealRegistry } from '../../shared/storage/in-memory-seal-registry.ts';

/** A valid app event input with id `id` (app ids: letters, digits and `._:@/+=-`). */
export function appItem(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    eventTime: '2024-08-05T10:00:00Z',
    actor: { id: 'alice@example.com', type: 'user' },
    action: 'ssh.login',
    resource: { id: `i-${id}`, type: 'AWS::EC2::Instance' },
    outcome: { result: 'success' },
    ...extra,
  };
}

let requests = 0;

/**
 * Ingests `items` as one API request received at `atMs` (hourly periods, 60 s grace): validates, signs one
 * batch with `signer` and stores the seal and the events in `store`.
 */
export async function ingestInto(
  store: LedgerStore,
  signer: Signer,
  ledger: string,
  atMs: number,
  items: readonly unknown[],
  options: { periodSeconds?: number; graceSeconds?: number; genesis?: GenesisGuard } = {},
): Promise<IngestResult> {
  const n = ++requests;
  return ingestBatch(
    { ledger, items, channel: 'api', principal: 'arn:aws:iam::111122223333:user/test', requestId: `r-${n}` },
    {
      store,
      signer,
      clock: () => new Date(atMs),
      periodSeconds: options.periodSeconds ?? 3600,
      graceSeconds: options.graceSeconds ?? 60,
      batchIdFactory: () => `batch-${String(n).padStart(6, '0')}`,
      genesis: options.genesis ?? new GenesisGuard(new InMemorySealRegistry()),
    },
  );
}

/** Seals `period` of `ledger` from the table, as the sealing function does. */
export async function sealFromTable(req: {
  readonly store: Pick<LedgerStore, 'readPeriod' | 'readPeriodBatches'>;
  readonly ledger: string;
  readonly period: Period;
  readonly keys: KeyLookup;
  readonly objects: ObjectStore;
  readonly signer: Signer;
  readonly previous?: ChainHead | null;
  readonly chunkLeaves?: number;
}): Promise<SealedPeriod> {
  return sealPeriod(
    {
      ledger: req.ledger,
      period: req.period,
      previous: req.previous ?? null,
      rows: req.store.readPeriod(req.ledger, req.period),
      batches: req.store.readPeriodBatches(req.ledger, req.period),
      keys: req.keys,
      ...(req.chunkLeaves ? { chunkLeaves: req.chunkLeaves } : {}),
    },
    { store: req.objects, signer: req.signer },
  );
}

/**
 * Where the handler's CPU goes, stage by stage, on request bodies like the handler's: a diagnostic beside
 * the handler/floor ratio. Each stage runs the product function the ingest path runs, in the handler's
 * order: request by request, and item by item for validation, canonicalization and the input hash, as
 * `prepareEvents` does, so that the same values stay alive as long as they do in the handler. Every step
 * is timed and added up per stage (garbage collection is billed to the step during which it happens), and
 * the repetition's CPU time is split in those proportions. What the whole handler costs beyond the stages'
 * sum is middy, the JSON body middleware and the ingest bookkeeping (maps, checks, the ledger records).
 *
 * The stages follow `ingestBatch` (shared/ingest/ingest-batch.ts) and the handler around it; they are
 * re-assembled here from the same exported functions and must be kept in step with them.
 *
 * Since the ingest path computes the input's idempotency hash in the same call as the stored bytes,
 * `canonicalize_hash` includes it, and `input_hash` is only kept so that the JSON keys stay comparable with
 * earlier runs: it measures nothing but the step between two marks. Since 2026-12-05 an app event is
 * checked against the events guard's bounds in the same walk that canonicalizes it
 * (`canonicalizeCheckedAppEvent`): `validate` is the schema's fast check (`isPlainAppEventInput`), and the
 * guard's checks are in `canonicalize_hash`. An item the fast path gives no answer for is validated and
 * canonicalized by the general path, as in `prepareEvents`.
 */
import { randomBatchId } from '../functions/ingest-runtime.ts';
import type { KeyFileSigner } from '../shared/crypto/key-file-signer.ts';
import {
  type AuditEventInput,
  isPlainAppEventInput,
  parseAuditEventInput,
} from '../shared/events/audit-event.ts';
import {
  canonicalizeForIngest,
  canonicalizeWithinGuard,
  type IngestCanonical,
} from '../shared/ingest/canonical-event.ts';
import { batchSealOf, signBatch } from '../shared/ledger/batch-receipts.ts';
import { periodOf } from '../shared/ledger/period.ts';
import type { LedgerEvent } from '../shared/ports/ledger-store.ts';
import { InMemoryLedgerStore } from '../shared/storage/in-memory-ledger-store.ts';
import { BENCH_INGEST_LEDGER, type Sample, timed } from './ingest-handler.ts';

export const STAGES = [
  'parse',
  'validate',
  'canonicalize_hash',
  'input_hash',
  'sign_receipts',
  'store',
  'response',
] as const;
export type Stage = (typeof STAGES)[number];

/** One repetition over `bodies`: each stage's share of the repetition's CPU time. */
export async function stageSamples(
  bodies: readonly string[],
  signer: KeyFileSigner,
): Promise<Record<Stage, Sample>> {
  // Each step is timed with the monotonic clock, which costs no system call; reading the CPU clock
  // (getrusage) three times per event measurably slowed the code around it on this machine. The steps'
  // shares are then applied to the repetition's CPU time.
  const spent = Object.fromEntries(STAGES.map((stage) => [stage, 0])) as Record<Stage, number>;
  let stored = 0;
  let clock = performance.now();
  /** Adds the time since the last mark to `stage`. */
  const mark = (stage: Stage) => {
    const now = performance.now();
    spent[stage] += now - clock;
    clock = now;
  };
  const { sample } = await timed(async () => {
    for (const body of bodies) {
      clock = performance.now();
      const now = new Date();
      const receivedAt = now.toISOString();
      const period = periodOf(now.getTime(), 3600);
      const batchId = randomBatchId();
      // A store per request, as the handler gets (see PerRequestStore).
      const store = new InMemoryLedgerStore();
      const items = (JSON.parse(body) as { events: unknown[] }).events;
      mark('parse');
      // Item by item, as prepareEvents does, so that each item's intermediate values die young there too.
      const inputs: AuditEventInput[] = [];
      const canonical: Pick<IngestCanonical, 'bytes' | 'leafHash'>[] = [];
      const inputHashes: string[] = [];
      for (const item of items) {
        const plain = isPlainAppEventInput(item) ? item : undefined;
        mark('validate');
        let c = plain === undefined ? undefined : canonicalizeWithinGuard(plain, receivedAt, 'api');
        mark('canonicalize_hash');
        const input = plain !== undefined && c !== undefined ? plain : parseAuditEventInput(item);
        mark('validate');
        c ??= canonicalizeForIngest(input, receivedAt, 'api');
        mark('canonicalize_hash');
        inputHashes.push(c.inputSha256);
        mark('input_hash');
        inputs.push(input);
        canonical.push({ bytes: c.bytes, leafHash: c.leafHash });
      }
      const leaves = canonical.map((c, i) => ({ eventId: inputs[i]!.id, receivedAt, leafHash: c.leafHash }));
      const signed = await signBatch({ ledger: BENCH_INGEST_LEDGER, batchId, leaves }, signer);
      mark('sign_receipts');
      const events = canonical.map((c, i) =>
        ledgerEvent(inputs[i]!, c, {
          receivedAt,
          period,
          batchId,
          inputSha256: inputHashes[i]!,
          receipt: signed.receipts[i]!,
        }),
      );
      await store.findEventIds(
        BENCH_INGEST_LEDGER,
        events.map((e) => e.id),
      );
      await store.putBatch(batchSealOf({ ledger: BENCH_INGEST_LEDGER, batchId, leaves }, signed), events);
      mark('store');
      stored += store.eventCount;
      JSON.stringify({
        stored: signed.receipts.map((r) => r.eventId),
        duplicates: [],
        receipts: signed.receipts,
      });
      mark('response');
    }
  });
  if (stored === 0) throw new Error('the breakdown stored nothing');
  const total = STAGES.reduce((sum, stage) => sum + spent[stage], 0);
  return Object.fromEntries(
    STAGES.map((stage) => [stage, { cpu: (sample.cpu * spent[stage]) / total, wall: spent[stage] / 1000 }]),
  ) as Record<Stage, Sample>;
}

function ledgerEvent(
  input: AuditEventInput,
  c: Pick<IngestCanonical, 'bytes' | 'leafHash'>,
  f: Pick<LedgerEvent, 'receivedAt' | 'period' | 'batchId' | 'inputSha256' | 'receipt'>,
): LedgerEvent {
  return {
    id: input.id,
    ...f,
    bytes: c.bytes,
    leafHash: c.leafHash,
    index: {
      actorId: input.actor.id,
      action: input.action,
      outcome: input.outcome.result,
      ...(input.resource ? { resourceId: input.resource.id } : {}),
    },
  };
}

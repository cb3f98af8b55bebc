/**
 * Sealing a period from events in hand, the way an import does: the events are signed in import batches
 * first, so the provenance check at sealing covers them (nothing unsigned is ever sealed).
 */
import { loadPublicKey, TrustedKeySet } from '../../shared/crypto/keys.ts';
import type { Period } from '../../shared/ledger/period.ts';
import { type SealDeps, type SealedPeriod, sealPeriod } from '../../shared/ledger/seal-period.ts';
import { compareEvents, signImportBatches } from '../../shared/ledger/seal-range.ts';

/** An event to seal; `receivedAt` defaults to the one inside its bytes (or the period start). */
export interface EventToSeal {
  readonly id: string;
  readonly bytes: Uint8Array;
  readonly receivedAt?: string;
}

function receivedAtOf(event: EventToSeal, period: Period): string {
  if (event.receivedAt) return event.receivedAt;
  try {
    const value = JSON.parse(Buffer.from(event.bytes).toString('utf8')) as { receivedAt?: unknown };
    if (
      typeof value.receivedAt === 'string' &&
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(value.receivedAt)
    )
      return value.receivedAt;
  } catch {
    // not JSON: a test of the framing rules
  }
  return new Date(period.startMs).toISOString();
}

/**
 * Signs `events` as import batches and seals them as `period`, in the order given (it must be period
 * order unless `sort` is set).
 */
export async function sealSignedPeriod(
  req: {
    ledger: string;
    period: Period;
    previous: SealedPeriod | Parameters<typeof sealPeriod>[0]['previous'];
    events: Iterable<EventToSeal> | AsyncIterable<EventToSeal>;
    chunkLeaves?: number;
    sort?: boolean;
  },
  deps: SealDeps,
): Promise<SealedPeriod> {
  const list: { id: string; bytes: Uint8Array; receivedAt: string }[] = [];
  for await (const e of req.events)
    list.push({ id: e.id, bytes: e.bytes, receivedAt: receivedAtOf(e, req.period) });
  if (req.sort) list.sort(compareEvents);
  const { rows, batches } = await signImportBatches(req.ledger, req.period, list, deps, deps.store);
  return sealPeriod(
    {
      ledger: req.ledger,
      period: req.period,
      previous: req.previous,
      rows,
      batches,
      keys: new TrustedKeySet([loadPublicKey(await deps.signer.publicKeyPem())]),
      ...(req.chunkLeaves ? { chunkLeaves: req.chunkLeaves } : {}),
    },
    deps,
  );
}

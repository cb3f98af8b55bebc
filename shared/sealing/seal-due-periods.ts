/**
 * Seals every period that is due: from the one after the chain head (or the genesis) through the last
 * period whose end is at least `graceSeconds` in the past. Called on every stream batch and by the
 * heartbeat, so periods without traffic are sealed too. Safe to run concurrently and repeatedly: the
 * objects are deterministic and put-only, and the registry write is put-only.
 *
 * Invariant: graceSeconds > the ingest function's timeout, so no write can land in a period after it
 * was sealed (ingest also refuses to start a write for a period that is about to close).
 */
import { DEFAULT_CHUNK_LEAVES } from '../ledger/archive-chunk.ts';
import { nextPeriod, type Period, periodEndMs, periodOf } from '../ledger/period.ts';
import { type SealedPeriod, sealPeriod } from '../ledger/seal-period.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { PeriodEventSource, SealRegistry } from '../ports/sealing.ts';
import type { Signer } from '../ports/signer.ts';

export interface SealingConfig {
  readonly ledger: string;
  readonly periodSeconds: number;
  readonly graceSeconds: number;
  readonly chunkLeaves?: number;
  /** Upper bound of periods sealed per call, so one invocation stays well inside its timeout. */
  readonly maxPeriodsPerRun?: number;
}

export interface SealingDeps {
  readonly objects: ObjectStore;
  readonly signer: Signer;
  readonly events: PeriodEventSource;
  readonly registry: SealRegistry;
  readonly clock: () => Date;
}

/** The last period whose end + grace is not after `nowMs`, or undefined if none is due yet. */
export function lastDuePeriod(nowMs: number, periodSeconds: number, graceSeconds: number): Period {
  const current = periodOf(nowMs - graceSeconds * 1000, periodSeconds);
  return { startMs: current.startMs - periodSeconds * 1000, seconds: periodSeconds };
}

/** Seals all due periods in order and returns what it sealed (already-sealed periods included). */
export async function sealDuePeriods(config: SealingConfig, deps: SealingDeps): Promise<SealedPeriod[]> {
  const nowMs = deps.clock().getTime();
  const due = lastDuePeriod(nowMs, config.periodSeconds, config.graceSeconds);
  let previous = (await deps.registry.lastSeal(config.ledger)) ?? null;
  let next: Period = previous
    ? nextPeriod(previous.period)
    : await deps.registry.ensureGenesis(config.ledger, periodOf(nowMs, config.periodSeconds));
  const sealed: SealedPeriod[] = [];
  const limit = config.maxPeriodsPerRun ?? 1_000;
  while (
    next.startMs <= due.startMs &&
    periodEndMs(next) + config.graceSeconds * 1000 <= nowMs &&
    sealed.length < limit
  ) {
    const result = await sealPeriod(
      {
        ledger: config.ledger,
        period: next,
        previous,
        events: deps.events.readPeriod(config.ledger, next),
        chunkLeaves: config.chunkLeaves ?? DEFAULT_CHUNK_LEAVES,
      },
      { store: deps.objects, signer: deps.signer },
    );
    await deps.registry.recordSeal(result);
    sealed.push(result);
    previous = result;
    next = nextPeriod(next);
  }
  return sealed;
}

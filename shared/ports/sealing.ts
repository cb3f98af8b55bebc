/**
 * Ports of the stream-triggered sealing (G3): where a period's events are read from (the ledger table,
 * the source of truth), where the chain head is recorded, and where tamper alarms go.
 */
import type { Period } from '../ledger/period.ts';
import type { ChainHead } from '../ledger/seal-period.ts';
import type { TamperAlarm } from '../sealing/tamper-alarms.ts';
import type { LedgerStore } from './ledger-store.ts';

/**
 * What sealing reads from the ledger: a period's rows and signed batches, in period order, and the
 * period's close marker (written before the period is read, so no write can land after it).
 */
export type PeriodEventSource = Pick<LedgerStore, 'readPeriod' | 'readPeriodBatches' | 'closePeriod'>;

/** Where the ledger's genesis and its sealed periods are recorded (put-only). */
export interface SealRegistry {
  /** Records `candidate` as the ledger's first period unless one exists; returns the one in force. */
  ensureGenesis(ledger: string, candidate: Period): Promise<Period>;
  /** The latest sealed period, or undefined before the first seal. */
  lastSeal(ledger: string): Promise<ChainHead | undefined>;
  /**
   * Recorded seals, newest first. The registry is a cache that anyone with table access can write to:
   * the sealer checks each row against the signed statement in the bucket before it chains to it.
   */
  sealsNewestFirst(ledger: string): AsyncIterable<ChainHead>;
  /** Records a sealed period. Recording the same head twice is a no-op; a different one is an error. */
  recordSeal(head: ChainHead): Promise<void>;
}

/** Stores and publishes tamper alarms. Raising the same alarm twice stores it once. */
export interface AlarmSink {
  raise(alarms: readonly TamperAlarm[]): Promise<void>;
}

/** A registry row for this period already exists with a different statement hash. */
export class SealRecordConflictError extends Error {
  override readonly name = 'SealRecordConflictError';
  constructor(readonly digestKey: string) {
    super(`period ${digestKey} is already recorded with a different statement`);
  }
}

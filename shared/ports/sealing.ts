/**
 * Ports of the stream-triggered sealing (G3): where a period's events are read from (the ledger table,
 * the source of truth), where the chain head is recorded, and where tamper alarms go.
 */
import type { SealableEvent } from '../ledger/archive-chunk.ts';
import type { Period } from '../ledger/period.ts';
import type { ChainHead } from '../ledger/seal-period.ts';
import type { TamperAlarm } from '../sealing/tamper-alarms.ts';

/** Reads one period's events back from the ledger, in period order (receivedAt, id). */
export interface PeriodEventSource {
  readPeriod(ledger: string, period: Period): AsyncIterable<SealableEvent>;
}

/** Where the ledger's genesis and its sealed periods are recorded (put-only). */
export interface SealRegistry {
  /** Records `candidate` as the ledger's first period unless one exists; returns the one in force. */
  ensureGenesis(ledger: string, candidate: Period): Promise<Period>;
  /** The latest sealed period, or undefined before the first seal. */
  lastSeal(ledger: string): Promise<ChainHead | undefined>;
  /** Records a sealed period. Recording the same head twice is a no-op; a different one is an error. */
  recordSeal(head: ChainHead): Promise<void>;
}

/** Stores and publishes tamper alarms. Raising the same alarm twice stores it once. */
export interface AlarmSink {
  raise(alarms: readonly TamperAlarm[]): Promise<void>;
}

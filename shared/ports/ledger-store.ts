/**
 * The ledger's write-once event storage (G1, G6): events with their idempotency records, batch seals
 * and security signals. Layout and rules: docs/LEDGER-TABLE.md. Every write is put-only: an existing key
 * is never overwritten, and the failure says which keys were already there, with what they hold (the
 * way Powertools' `IdempotencyItemAlreadyExistsError` carries the existing record).
 *
 * One AWS adapter (`adapters/dynamodb/ledger-store.ts`) and one in-memory fake
 * (`shared/storage/in-memory-ledger-store.ts`) implement it with the same semantics.
 */
import type { BatchLeaf } from '../ledger/batch-receipts.ts';
import type { Receipt } from '../ledger/formats.ts';
import type { Period } from '../ledger/period.ts';
import type { ProfileVersion } from '../profiles/version.ts';

/** What the ledger keeps about an event id: enough to answer a retry (G6). */
export interface StoredEventId {
  readonly id: string;
  /** Hex SHA-256 of JCS(producer input): equal for a retry, different for a conflicting reuse of the id. */
  readonly inputSha256: string;
  readonly receivedAt: string;
  /** The receipt given when the event was stored; a retry gets exactly this one back. */
  readonly receipt: Receipt;
}

/**
 * The signed statement of one ingest batch (FORMAT.md §8) with the leaves its tree covers, stored once
 * before its events. The sealer checks every stored event against it, and archives it with the period.
 */
export interface BatchSeal {
  readonly ledger: string;
  readonly batchId: string;
  /** The batch's `receivedFrom` (for an API request, the one `receivedAt` of all its events). */
  readonly receivedAt: string;
  /** The batch statement's JCS text, exactly as signed. */
  readonly statement: string;
  /** DER ECDSA signature over the statement bytes. */
  readonly signature: Uint8Array;
  /** Number of events the statement's tree covers. */
  readonly size: number;
  /** The batch's leaves in tree order: what the signed root is computed over. */
  readonly leaves: readonly BatchLeaf[];
  /** The signed abandon statement, when ingest could not store some of the leaves (FORMAT.md §8). */
  readonly abandon?: { readonly statement: string; readonly signature: Uint8Array };
}

/** Searchable projection of an event, stored beside its canonical bytes. */
export interface EventIndexFields {
  readonly actorId: string;
  readonly action: string;
  readonly outcome: string;
  readonly resourceId?: string;
  /** How the event arrived (its `channel`); the search index of channel and outcome needs it. */
  readonly channel?: string;
  /**
   * The event's own time, normalized to `YYYY-MM-DDTHH:MM:SS.sssZ` (`normalizeTimestamp`): with `resourceId`,
   * it places the event on that resource's timeline (docs/LEDGER-TABLE.md, `byResourceTime`). Ingest always
   * sets it; without it the event is on no timeline.
   */
  readonly eventTime?: string;
}

/** One event to store, with its idempotency record. */
export interface LedgerEvent {
  readonly id: string;
  readonly receivedAt: string;
  /** The period that contains `receivedAt`; it names the event's partition. */
  readonly period: Period;
  /** Canonical bytes (FORMAT.md §1): what is archived and hashed. */
  readonly bytes: Uint8Array;
  readonly leafHash: Uint8Array;
  readonly batchId: string;
  readonly inputSha256: string;
  readonly receipt: Receipt;
  readonly index: EventIndexFields;
  /**
   * The profile version a `profile` event carries (docs/PROFILES.md, "Versions in the ledger"). The store
   * writes the version's items with the event, atomically, under the conditions of `ProfileStore.putVersion`;
   * when those fail (and the id was free) it throws `ProfileVersionConflictError` and stores nothing of it.
   */
  readonly profileVersion?: ProfileVersion;
}

/** An event as read back from the ledger. */
export interface StoredEvent extends StoredEventId {
  readonly bytes: Uint8Array;
  readonly leafHash: Uint8Array;
  readonly batchId: string;
}

/** One event of a period, in period order; satisfies the sealer's `SealableEvent`. */
export interface PeriodEvent {
  readonly id: string;
  readonly bytes: Uint8Array;
  readonly receivedAt: string;
  /** The batch the row claims to belong to; the sealer checks the claim against the signed batch. */
  readonly batchId?: string;
  /** Where the row is stored, for exclusion records and alarms. */
  readonly item?: { readonly pk: string; readonly sk: string };
}

/**
 * A row of a period that does not have the shape the ledger writes (a poison or forged item). The period
 * reader yields it instead of throwing, so one bad row can never stop sealing (G6).
 */
export interface MalformedRow {
  readonly malformed: true;
  readonly item: { readonly pk: string; readonly sk: string };
  readonly reason: string;
}

/** What the period reader yields, in period order (malformed rows where their sort key puts them). */
export type PeriodRow = PeriodEvent | MalformedRow;

/** A batch seal read back for sealing, or a batch row that does not parse. */
export type PeriodBatchRow = BatchSeal | MalformedRow;

/** One conflicting reuse of an event id, as evidence. */
export interface IdConflictEvidence {
  readonly eventId: string;
  readonly storedInputSha256: string;
  readonly attemptedInputSha256: string;
}

/** A request that tried to reuse event ids with different content (G6). One record per request. */
export interface SecuritySignal {
  readonly ledger: string;
  readonly kind: 'ID_CONFLICT';
  /** Millisecond time of detection. */
  readonly at: string;
  readonly principal: string;
  readonly requestId: string;
  readonly channel: string;
  readonly conflicts: readonly IdConflictEvidence[];
}

export interface LedgerStore {
  /** The idempotency records of those `ids` that exist (strongly consistent). */
  findEventIds(ledger: string, ids: readonly string[]): Promise<Map<string, StoredEventId>>;
  /**
   * Stores the batch seal (an identical existing seal counts as success), then the events, each
   * together with its id record, in atomic groups (at most 49 events per group on DynamoDB, with the period's close-marker check). Never
   * overwrites. Throws `EventIdsTakenError` when ids exist, `LedgerUnavailableError` when the backend
   * stays throttled or unavailable, `PeriodClosedError` when the period's close marker exists (checked
   * inside every transaction), `LedgerWriteError` for anything else; each names the ids this call did
   * store before it failed (`stored`), so the caller can always say exactly what was written.
   * `beforeEachTransaction` runs before each atomic group; what it throws stops the write there.
   */
  putBatch(
    batch: BatchSeal,
    events: readonly LedgerEvent[],
    beforeEachTransaction?: () => void,
  ): Promise<void>;
  /**
   * Stores a batch's signed abandon statement beside its batch row (put-only; an identical one counts as
   * success). `batch` is the seal as written by `putBatch`.
   */
  putAbandon(
    batch: BatchSeal,
    period: Period,
    abandon: { statement: string; signature: Uint8Array },
  ): Promise<void>;
  /** Records a security signal (put-only, unique key per call). */
  recordSecuritySignal(signal: SecuritySignal): Promise<void>;
  /** One event by id, or undefined. */
  getEvent(ledger: string, id: string): Promise<StoredEvent | undefined>;
  /** Every event of `period`, ordered by (receivedAt, id): the order its digest commits to. */
  readPeriod(ledger: string, period: Period): AsyncIterable<PeriodRow>;
  /** Every batch seal whose `receivedAt` lies in `period`, ordered by (receivedAt, batchId). */
  readPeriodBatches(ledger: string, period: Period): AsyncIterable<PeriodBatchRow>;
  /**
   * Marks `period` closed before it is sealed (put-only; closing twice is a no-op). From then on every
   * `putBatch` transaction into that period fails with `PeriodClosedError`, atomically: an event is either
   * stored before the sealer reads the period, or not stored at all.
   */
  closePeriod(ledger: string, period: Period): Promise<void>;
}

/** Closed set of ledger storage failures. */
export type LedgerStoreErrorCode =
  | 'ID_TAKEN'
  | 'BATCH_SEAL_CONFLICT'
  | 'UNAVAILABLE'
  | 'WRITE_FAILED'
  | 'PERIOD_CLOSED'
  | 'WRITE_STOPPED'
  | 'CORRUPT_ITEM';

/** Base class of ledger storage errors. `stored` lists the event ids the failing call did write. */
export class LedgerStoreError extends Error {
  override readonly name: string = 'LedgerStoreError';
  constructor(
    readonly code: LedgerStoreErrorCode,
    message: string,
    readonly stored: readonly string[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Some event ids already exist. `taken` lists them; `existing` holds the idempotency records the
 * backend returned with the failure (it may omit some; re-read those with `findEventIds`).
 */
export class EventIdsTakenError extends LedgerStoreError {
  override readonly name = 'EventIdsTakenError';
  constructor(
    readonly taken: readonly string[],
    readonly existing: ReadonlyMap<string, StoredEventId>,
    stored: readonly string[],
  ) {
    super('ID_TAKEN', `${taken.length} event id(s) already exist`, stored);
  }
}

/** A batch id is already used by a different seal: a bug or a batch id collision, never a retry. */
export class BatchSealConflictError extends LedgerStoreError {
  override readonly name = 'BatchSealConflictError';
  constructor(readonly batchId: string) {
    super('BATCH_SEAL_CONFLICT', `batch ${batchId} already exists with a different statement`);
  }
}

/** The backend stayed throttled or unavailable after retries; the same call can be retried later. */
export class LedgerUnavailableError extends LedgerStoreError {
  override readonly name = 'LedgerUnavailableError';
  constructor(message: string, stored: readonly string[], options?: { cause?: unknown }) {
    super('UNAVAILABLE', message, stored, options);
  }
}

/** A write failed for another reason after some events were already stored. */
export class LedgerWriteError extends LedgerStoreError {
  override readonly name = 'LedgerWriteError';
  constructor(message: string, stored: readonly string[], options?: { cause?: unknown }) {
    super('WRITE_FAILED', message, stored, options);
  }
}

/** The period is closed for sealing: nothing of this transaction (or later ones) was stored. */
export class PeriodClosedError extends LedgerStoreError {
  override readonly name = 'PeriodClosedError';
  constructor(period: string, stored: readonly string[]) {
    super('PERIOD_CLOSED', `period ${period} is closed for sealing`, stored);
  }
}

/** The caller's `beforeEachTransaction` guard stopped the write; `cause` is what it threw. */
export class WriteStoppedError extends LedgerStoreError {
  override readonly name = 'WriteStoppedError';
  constructor(stored: readonly string[], options: { cause: unknown }) {
    super('WRITE_STOPPED', 'the write was stopped before its next transaction', stored, options);
  }
}

/** An item read back does not have the shape the ledger writes: tampering or a foreign writer. */
export class CorruptItemError extends LedgerStoreError {
  override readonly name = 'CorruptItemError';
  constructor(
    readonly key: { readonly pk: string; readonly sk: string },
    reason: string,
  ) {
    super('CORRUPT_ITEM', `ledger item ${key.pk} / ${key.sk} is malformed: ${reason}`);
  }
}

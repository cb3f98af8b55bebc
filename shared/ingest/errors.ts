/**
 * Why an ingest request was not (fully) accepted. Each error has an HTTP status and a stable `code`,
 * and serializes to the `{ code, message, … }` body of docs/API.md. Messages never echo input values.
 *
 * Every error raised after validation carries `stored` (the ids this request did store, possibly none)
 * and their receipts, so a failure response always says exactly which events were written (G2).
 */
import type { EventErrorCode } from '../events/errors.ts';
import type { Receipt } from '../ledger/formats.ts';

/** Closed set of ingest error codes (docs/API.md lists them with their status). */
export type IngestErrorCode =
  | 'EMPTY_BATCH'
  | 'TOO_MANY_EVENTS'
  | 'INVALID_EVENTS'
  | 'ID_CONFLICT'
  | 'PERIOD_CLOSING'
  | 'BEFORE_GENESIS'
  | 'STORE_UNAVAILABLE'
  | 'SIGNER_UNAVAILABLE'
  | 'WRITE_INCOMPLETE';

/** Per-item codes in an `INVALID_EVENTS` answer: the event validation codes plus batch-level ones. */
export type ItemErrorCode = EventErrorCode | 'DUPLICATE_ID' | 'RESERVED_ID';

/** One rejected item of a batch. `path` is a JSON path inside that item. */
export interface ItemError {
  readonly index: number;
  readonly code: ItemErrorCode;
  readonly path: string;
  readonly message: string;
}

/** Base class: an answer the caller is meant to see, with its status and body. */
export class IngestError extends Error {
  override readonly name: string = 'IngestError';
  constructor(
    readonly status: number,
    readonly code: IngestErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** True when the same request may succeed if sent again later. */
  get retryable(): boolean {
    return this.status === 503;
  }

  /** The JSON response body. */
  toBody(): Record<string, unknown> {
    return { code: this.code, message: this.message };
  }
}

/** 400: the batch is empty. */
export class EmptyBatchError extends IngestError {
  override readonly name = 'EmptyBatchError';
  constructor() {
    super(400, 'EMPTY_BATCH', 'a batch needs at least one event');
  }
}

/** 400: the batch has more events than allowed. */
export class TooManyEventsError extends IngestError {
  override readonly name = 'TooManyEventsError';
  constructor(
    readonly count: number,
    readonly limit: number,
  ) {
    super(400, 'TOO_MANY_EVENTS', `a batch holds at most ${limit} events, got ${count}`);
  }
}

/** 400: at least one item is invalid, so nothing was stored. */
export class InvalidEventsError extends IngestError {
  override readonly name = 'InvalidEventsError';
  constructor(
    readonly errors: readonly ItemError[],
    total: number,
  ) {
    super(400, 'INVALID_EVENTS', `${errors.length} of ${total} events are invalid; nothing was stored`);
  }

  override toBody(): Record<string, unknown> {
    return { ...super.toBody(), errors: this.errors };
  }
}

/** An error raised once writing may have started: it reports what this request stored. */
export class IngestWriteError extends IngestError {
  override readonly name: string = 'IngestWriteError';
  constructor(
    status: number,
    code: IngestErrorCode,
    message: string,
    readonly stored: readonly string[],
    readonly receipts: readonly Receipt[],
    options?: { cause?: unknown },
  ) {
    super(status, code, message, options);
  }

  override toBody(): Record<string, unknown> {
    return { ...super.toBody(), stored: this.stored, receipts: this.receipts };
  }
}

/** 409: event ids already exist with different content. Recorded as a security signal. */
export class IdConflictError extends IngestWriteError {
  override readonly name = 'IdConflictError';
  constructor(
    readonly conflicts: readonly string[],
    stored: readonly string[],
    receipts: readonly Receipt[],
  ) {
    super(
      409,
      'ID_CONFLICT',
      `${conflicts.length} event id(s) already exist with different content; ` +
        (stored.length === 0
          ? 'nothing from this request was stored'
          : `only the ${stored.length} event(s) listed in "stored" were stored`),
      stored,
      receipts,
    );
  }

  override toBody(): Record<string, unknown> {
    return { ...super.toBody(), conflicts: this.conflicts };
  }
}

/** 503: the batch's period is about to be sealed; retry to land in the next period. */
export class PeriodClosingError extends IngestWriteError {
  override readonly name = 'PeriodClosingError';
  constructor(stored: readonly string[], receipts: readonly Receipt[]) {
    super(
      503,
      'PERIOD_CLOSING',
      'the period of this batch is closing for sealing; retry the request',
      stored,
      receipts,
    );
  }
}

/** 503: the server clock puts this batch before the ledger's first period (clock skew); retry. */
export class BeforeGenesisError extends IngestError {
  override readonly name = 'BeforeGenesisError';
  constructor() {
    super(503, 'BEFORE_GENESIS', 'the ledger starts after this request was received; retry the request');
  }
}

/**
 * Errors of `auditseal/client`. Every error the client throws is an `AuditsealError`; `kind` tells which
 * subclass it is (`isAuditsealError` narrows on it).
 *
 * - `AuditsealApiError`: the API answered with an error status; carries its `{code, message}`.
 * - `AuditsealNetworkError`: the API could not be reached (after retries); names the endpoint.
 * - `AuditsealInputError`: the events handed to the client are not sendable; nothing was sent.
 * - `AuditsealResponseError`: the API answered 2xx with something the client cannot use.
 * - `AuditsealPostError`: posting stopped part-way; carries the receipts of the batches that were stored.
 * - `AuditsealReceiptError`: `verifyReceipts: true` and a receipt did not verify against the pinned keys.
 * - `AuditsealConfigError`: missing endpoint, region or credentials, or an unreadable local stack file.
 */
import type { Receipt } from '../shared/ledger/formats.ts';
import type { ReceiptCheck } from './receipts.ts';

export type AuditsealErrorKind = 'api' | 'network' | 'input' | 'response' | 'post' | 'receipt' | 'config';

/** Base class of every error the client throws. */
export abstract class AuditsealError extends Error {
  abstract readonly kind: AuditsealErrorKind;
}

/** The API refused a request: HTTP status and the API's `{code, message}` (and any extra members). */
export class AuditsealApiError extends AuditsealError {
  override readonly name = 'AuditsealApiError';
  readonly kind = 'api';
  constructor(
    readonly status: number,
    /** The API's error code, such as `INVALID_EVENTS`; `HTTP_<status>` when the answer had none. */
    readonly code: string,
    /** The API's message, as sent. */
    readonly apiMessage: string,
    /** The whole error body: `errors`, `conflicts`, `stored`, `receipts`… where the API sends them. */
    readonly body: Readonly<Record<string, unknown>>,
    /** `METHOD URL` of the request. */
    readonly request: string,
  ) {
    super(`${status} ${code}: ${apiMessage}`);
  }

  /** True for answers that the same request may get past: throttling and 5xx. */
  get retryable(): boolean {
    return isRetryableStatus(this.status);
  }
}

/** The endpoint could not be reached, or did not answer in time. */
export class AuditsealNetworkError extends AuditsealError {
  override readonly name = 'AuditsealNetworkError';
  readonly kind = 'network';
  constructor(
    readonly endpoint: string,
    /** The system or undici code, such as `ECONNREFUSED`, or `TIMEOUT`. */
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot reach the auditseal API at ${endpoint} (${code}): ${networkHint(endpoint)}`, options);
  }
}

/** One problem of one input event; the same shape as the API's `INVALID_EVENTS` entries. */
export interface InputProblem {
  readonly index: number;
  readonly code: string;
  readonly path: string;
  readonly message: string;
}

/** The events cannot be sent as they are; nothing was sent. */
export class AuditsealInputError extends AuditsealError {
  override readonly name = 'AuditsealInputError';
  readonly kind = 'input';
  constructor(
    readonly code: 'INVALID_EVENTS' | 'EMPTY_INPUT',
    message: string,
    readonly problems: readonly InputProblem[] = [],
  ) {
    super(message);
  }
}

/** A 2xx answer the client cannot use (not JSON, wrong shape, receipts that do not match the request). */
export class AuditsealResponseError extends AuditsealError {
  override readonly name = 'AuditsealResponseError';
  readonly kind = 'response';
  readonly code = 'INVALID_RESPONSE';
  constructor(
    message: string,
    readonly request: string,
  ) {
    super(`${request}: ${message}`);
  }
}

/**
 * Posting stopped part-way. `receipts` holds the receipts of every event that is stored (in input order
 * of the batches that completed); posting the same events again is safe and returns the same receipts.
 */
export class AuditsealPostError extends AuditsealError {
  override readonly name = 'AuditsealPostError';
  readonly kind = 'post';
  constructor(
    readonly receipts: readonly Receipt[],
    /** Events the API has not confirmed. */
    readonly pending: number,
    override readonly cause: AuditsealError,
  ) {
    super(
      `${cause.message} (${receipts.length} event(s) stored before that, ${pending} not confirmed; posting the same events again is safe)`,
      { cause },
    );
  }
}

/** Some receipts did not verify against the pinned keys. */
export class AuditsealReceiptError extends AuditsealError {
  override readonly name = 'AuditsealReceiptError';
  readonly kind = 'receipt';
  constructor(
    readonly receipts: readonly Receipt[],
    readonly checks: readonly ReceiptCheck[],
  ) {
    const bad = checks.filter((c) => !c.ok);
    const first = bad[0];
    super(
      `${bad.length} of ${checks.length} receipt(s) did not verify` +
        (first && !first.ok ? `; first: ${first.eventId ?? '?'}: ${first.code}: ${first.message}` : ''),
    );
  }
}

/** The client is not configured well enough to send a request. */
export class AuditsealConfigError extends AuditsealError {
  override readonly name = 'AuditsealConfigError';
  readonly kind = 'config';
}

/** Every error the client throws; `kind` narrows it to one class. */
export type AnyAuditsealError =
  | AuditsealApiError
  | AuditsealNetworkError
  | AuditsealInputError
  | AuditsealResponseError
  | AuditsealPostError
  | AuditsealReceiptError
  | AuditsealConfigError;

/**
 * True for any error of the client, typed so that `kind` narrows it.
 * @example if (isAuditsealError(e) && e.kind === 'post') keep(e.receipts);
 */
export function isAuditsealError(error: unknown): error is AnyAuditsealError {
  return error instanceof AuditsealError;
}

/** Throttling (429) and server errors (5xx) may pass on a retry; nothing else will. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

function networkHint(endpoint: string): string {
  let host = '';
  try {
    host = new URL(endpoint).hostname;
  } catch {
    // keep the generic hint
  }
  if (host === '127.0.0.1' || host === 'localhost' || host === '[::1]') {
    return 'is the local stack running? Start it with `npm start`.';
  }
  return 'check the endpoint and the network path to it (the API is private: call it through its VPC endpoint); for the local stack, run `npm start`.';
}

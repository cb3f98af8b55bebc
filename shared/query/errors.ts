/**
 * Deliberate answers of the read path: each has an HTTP status and a stable code (docs/API.md). Messages
 * name parameters, never their values.
 */

/** Closed set of read-path error codes. */
export type QueryErrorCode =
  | 'INVALID_QUERY'
  | 'INVALID_CURSOR'
  | 'CURSOR_MISMATCH'
  | 'INVALID_PATH'
  | 'NOT_FOUND'
  | 'NOT_SEALED'
  | 'NOT_IN_DIGEST'
  | 'PROOF_UNAVAILABLE'
  | 'READ_NOT_RECORDED';

const STATUS: Record<QueryErrorCode, number> = {
  INVALID_QUERY: 400,
  INVALID_CURSOR: 400,
  CURSOR_MISMATCH: 400,
  INVALID_PATH: 400,
  NOT_FOUND: 404,
  NOT_SEALED: 409,
  NOT_IN_DIGEST: 404,
  PROOF_UNAVAILABLE: 503,
  READ_NOT_RECORDED: 503,
};

/** A read refused or not possible yet; becomes `{ code, message, …extra }` with `status`. */
export class QueryError extends Error {
  override readonly name = 'QueryError';
  readonly status: number;

  constructor(
    readonly code: QueryErrorCode,
    message: string,
    readonly extra: Readonly<Record<string, unknown>> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.status = STATUS[code];
  }

  toBody(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...this.extra };
  }
}

/** Error codes raised while producing RFC 8785 canonical bytes. */
export type CanonicalErrorCode =
  | 'NON_FINITE_NUMBER'
  | 'LONE_SURROGATE'
  | 'UNSUPPORTED_TYPE'
  | 'CYCLE'
  | 'TOO_DEEP'
  /** Only with `CanonicalBounds`: a value beyond one of the caller's bounds. */
  | 'OUT_OF_BOUNDS';

/** Raised when a value cannot be canonicalized; carries the JSON path that failed. */
export class CanonicalizationError extends Error {
  override readonly name = 'CanonicalizationError';
  constructor(
    readonly code: CanonicalErrorCode,
    readonly path: string,
    message: string,
  ) {
    super(`${message} at ${path}`);
  }
}

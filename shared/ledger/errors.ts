/** Why sealing a period failed. */
export type SealErrorCode =
  | 'CHAIN_MISMATCH'
  | 'NONDETERMINISTIC_OBJECT'
  | 'STATEMENT_TOO_LARGE'
  | 'BAD_EVENT'
  | 'ARCHIVE_READBACK';

/** Sealing could not complete safely; nothing after the failing write was attempted. */
export class SealError extends Error {
  override readonly name = 'SealError';
  constructor(
    readonly code: SealErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Why a key was refused while loading it. */
export type KeyErrorCode =
  | 'BAD_PEM'
  | 'NOT_A_PUBLIC_KEY'
  | 'NOT_A_PRIVATE_KEY'
  | 'WRONG_KEY_TYPE'
  | 'WRONG_CURVE'
  | 'NO_KEYS'
  | 'KEY_FILE_UNREADABLE';

/** Why a signer could not produce a signature, or a signing key could not be used or created. */
export type SigningErrorCode =
  | 'EMPTY_STATEMENT'
  | 'STATEMENT_TOO_LARGE'
  | 'SIGNING_FAILED'
  | 'SIGNATURE_MISMATCH'
  | 'PUBLIC_KEY_UNAVAILABLE'
  | 'UNSUITABLE_SIGNING_KEY'
  | 'KEY_CREATION_FAILED';

/** Every code raised by `shared/crypto` and the signer adapters. */
export type CryptoErrorCode = KeyErrorCode | SigningErrorCode;

/** Base class of the crypto area. Messages never contain statement bytes or key material. */
export class CryptoError extends Error {
  override readonly name: string = 'CryptoError';
  constructor(
    readonly code: CryptoErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A PEM, DER or key file was not an acceptable EC P-256 key. */
export class KeyError extends CryptoError {
  override readonly name = 'KeyError';
  declare readonly code: KeyErrorCode;
  constructor(code: KeyErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** A signature could not be produced, or the backend key is unfit for signing statements. */
export class SigningError extends CryptoError {
  override readonly name = 'SigningError';
  declare readonly code: SigningErrorCode;
  constructor(code: SigningErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

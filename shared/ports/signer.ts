/** Largest statement a signer accepts: the KMS `Sign` limit for `MessageType: RAW`. */
export const MAX_STATEMENT_BYTES = 4096;

/** Signs small canonical statements. One implementation per backend (KMS, local key file). */
export interface Signer {
  /** Hex SHA-256 of the public key's SubjectPublicKeyInfo DER: the key's name everywhere. */
  keyId(): Promise<string>;
  /** The public key as SPKI PEM. */
  publicKeyPem(): Promise<string>;
  /** ECDSA P-256 / SHA-256 signature over `statement` (1 to 4096 bytes), DER-encoded as KMS returns it. */
  sign(statement: Uint8Array): Promise<Uint8Array>;
}

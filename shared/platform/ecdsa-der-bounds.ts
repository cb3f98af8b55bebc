/** Size bounds of a DER `Ecdsa-Sig-Value` for P-256, shared by both implementations of the port. */

/** Longest DER `Ecdsa-Sig-Value` for P-256: SEQUENCE header plus two 33-byte INTEGERs with headers. */
export const MAX_P256_DER_SIGNATURE_BYTES = 72;
/** Shortest well-formed DER `Ecdsa-Sig-Value`: two one-byte INTEGERs. */
export const MIN_P256_DER_SIGNATURE_BYTES = 8;

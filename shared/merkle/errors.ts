/** Why a Merkle proof was rejected. Checked before any hashing where the reason is structural. */
export type ProofErrorCode =
  | 'INDEX_OUT_OF_RANGE'
  | 'BAD_TREE_SIZE'
  | 'BAD_HASH_LENGTH'
  | 'WRONG_PROOF_SIZE'
  | 'ROOT_MISMATCH';

/** A Merkle proof failed verification. Carries the expected and computed roots where they exist. */
export class ProofError extends Error {
  override readonly name = 'ProofError';
  constructor(
    readonly code: ProofErrorCode,
    message: string,
    readonly evidence: { expected?: string; computed?: string } = {},
  ) {
    super(message);
  }
}

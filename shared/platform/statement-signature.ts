/**
 * Verifying a signed statement through the port, on any platform: the statement bounds of
 * `verifyStatement` (shared/crypto/keys.ts, Node only) with the port's ECDSA P-256 check.
 */
import { MAX_STATEMENT_BYTES } from '../ports/signer.ts';
import { type PublicKeyHandle, verifyP256Sha256, verifyP256Sha256Sync } from './crypto.ts';

/**
 * True when `derSignature` signs `statement` under `key`. Statement and signature are attacker-controlled:
 * sizes are checked before hashing, and a malformed signature is false, never an exception.
 */
export async function verifyStatementSignature(
  key: PublicKeyHandle,
  statement: Uint8Array,
  derSignature: Uint8Array,
): Promise<boolean> {
  if (statement.length === 0 || statement.length > MAX_STATEMENT_BYTES) return false;
  return verifyP256Sha256(key, statement, derSignature);
}

/** `verifyStatementSignature`, synchronously: Node only (see `verifyP256Sha256Sync`). */
export function verifyStatementSignatureSync(
  key: PublicKeyHandle,
  statement: Uint8Array,
  derSignature: Uint8Array,
): boolean {
  if (statement.length === 0 || statement.length > MAX_STATEMENT_BYTES) return false;
  return verifyP256Sha256Sync(key, statement, derSignature);
}

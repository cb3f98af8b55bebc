import { MAX_STATEMENT_BYTES } from '../ports/signer.ts';
import { SigningError } from './errors.ts';

/**
 * Rejects statements KMS would refuse (`Message` must be 1 to 4096 bytes), so every signer fails the
 * same way, before any call or hashing.
 */
export function assertStatementSize(statement: Uint8Array): void {
  if (statement.length === 0) {
    throw new SigningError('EMPTY_STATEMENT', 'statement is empty');
  }
  if (statement.length > MAX_STATEMENT_BYTES) {
    throw new SigningError(
      'STATEMENT_TOO_LARGE',
      `statement is ${statement.length} bytes, the limit is ${MAX_STATEMENT_BYTES}`,
    );
  }
}

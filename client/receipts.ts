/**
 * Receipt verification for apps: the very check `auditseal verify-receipt` runs (`checkReceipt` in
 * shared/ledger/batch-receipts.ts), against keys the app pinned. Trust comes only from those keys, never
 * from the API that issued the receipt.
 */

import { loadPublicKeys, TrustedKeySet } from '../shared/crypto/keys.ts';
import { checkReceipt, type KeyLookup, type ReceiptCheck } from '../shared/ledger/batch-receipts.ts';

export type { ReceiptCheck };

/** PEM text (one or more PUBLIC KEY blocks, or a list of them), or an already built key set. */
export type PinnedKeys = string | readonly string[] | KeyLookup;

/** Builds the lookup once; throws the key module's error for a PEM that is not a P-256 public key. */
export function pinnedKeySet(keys: PinnedKeys): KeyLookup {
  if (typeof keys === 'string') return new TrustedKeySet(loadPublicKeys(keys));
  if (Array.isArray(keys))
    return new TrustedKeySet((keys as readonly string[]).flatMap((pem) => loadPublicKeys(pem)));
  return keys as KeyLookup;
}

/**
 * Verifies one receipt offline: schema, pinned key, signature over the exact statement bytes, and
 * inclusion of its leaf in the signed batch root.
 */
export function verifyReceipt(receipt: unknown, keys: PinnedKeys): ReceiptCheck {
  return checkReceipt(receipt, pinnedKeySet(keys));
}

/**
 * The batch leaf hash of FORMAT.md §8, in one place for the sealing side (`batchLeafHash`, `batchRoot` in
 * batch-receipts.ts) and the verifier (`recordBatchRoot` in shared/verify/batch-record-check.ts):
 *
 *   BL = SHA-256(0x00 ‖ LH(e) ‖ SHA-256(UTF-8(id)) ‖ UTF-8(receivedAt))
 *
 * an RFC 6962 leaf over an 88-byte input: the event's leaf hash, the hash of its id, and its `receivedAt`
 * as a millisecond time (24 ASCII characters).
 */
import { sha256Into } from '../platform/crypto.ts';

const HASH_SIZE = 32;
/** A millisecond time `YYYY-MM-DDTHH:MM:SS.sssZ`: 24 ASCII characters. */
export const BATCH_LEAF_TIME_SIZE = 24;
const ID_AT = 1 + HASH_SIZE;
const TIME_AT = 1 + 2 * HASH_SIZE;

// One scratch `0x00 ‖ LH ‖ SHA-256(id) ‖ receivedAt`, rebuilt in place for every leaf: no view, Buffer or
// string per leaf. JavaScript runs one call at a time per thread, so sharing it is safe.
const input = new Uint8Array(TIME_AT + BATCH_LEAF_TIME_SIZE);
// A module-local copy: under a CommonJS transform (tsx) every read of an imported binding is a getter call.
const hashInto = sha256Into;

/**
 * Writes BL into `target[offset…offset+32)`: LH is `leafHashes[leafAt…leafAt+32)`, the id's hash
 * `idHashes[idAt…idAt+32)`, and `receivedAt` a millisecond time, which the caller has checked (each of
 * its 24 characters is written as one byte).
 */
export function batchLeafHashInto(
  leafHashes: Uint8Array,
  leafAt: number,
  idHashes: Uint8Array,
  idAt: number,
  receivedAt: string,
  target: Uint8Array,
  offset: number,
): void {
  // Plain loops: at 32 bytes they cost less than a native copy's call.
  for (let j = 0; j < HASH_SIZE; j++) {
    input[1 + j] = leafHashes[leafAt + j]!;
    input[ID_AT + j] = idHashes[idAt + j]!;
  }
  for (let j = 0; j < BATCH_LEAF_TIME_SIZE; j++) input[TIME_AT + j] = receivedAt.charCodeAt(j);
  hashInto(input, target, offset);
}

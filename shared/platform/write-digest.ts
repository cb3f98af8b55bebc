/**
 * Packing a 'binary' SHA-256 digest (a 32-char latin1 string, one char per byte: `sha256Binary`) into a
 * byte array. Platform-neutral, so both crypto ports and the Merkle code share this one loop; it is not
 * part of the port that the browser bundle swaps (scripts/build-ui.mjs replaces `crypto.ts` only).
 */

/**
 * Writes a 32-char 'binary' digest string (one char per byte) into `target` at `offset`. A plain
 * charCodeAt loop: for 32 bytes it costs about a third of `target.write(digest, offset, 32, 'latin1')`,
 * whose argument handling and native call dominate at this size (≈0.04 against ≈0.1–0.2 µs here), and it
 * is on the path of every interior node and proof step.
 */
export function writeDigest(target: Uint8Array, offset: number, digest: string): void {
  for (let j = 0; j < 32; j++) target[offset + j] = digest.charCodeAt(j);
}

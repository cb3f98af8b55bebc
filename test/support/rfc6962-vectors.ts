/**
 * The RFC 6962 test vectors of `../shared/data/merkle/rfc6962_vectors.json`, checked against one schema,
 * and the small helpers the Merkle tests share.
 */
import { z } from 'zod';
import { readSharedJson } from './shared-data.ts';

/** Strict decoding: Buffer.from(hex) would silently drop a bad digit, so malformed hex fails the schema instead. */
export const hex = z.string().regex(/^(?:[0-9a-f]{2})*$/, 'lowercase hex with an even number of digits');

const vectorsSchema = z.object({
  hasher_vectors: z.array(
    z.discriminatedUnion('op', [
      z.object({ op: z.literal('emptyRoot'), desc: z.string(), want: hex }),
      z.object({ op: z.literal('hashLeaf'), desc: z.string(), leaf_hex: hex, want: hex }),
      z.object({ op: z.literal('hashChildren'), desc: z.string(), left_hex: hex, right_hex: hex, want: hex }),
    ]),
  ),
  leaves_hex: z.array(hex).length(8),
  leaf_hashes_hex: z.array(hex).length(8),
  node_hashes_by_level: z.object({ levels: z.array(z.array(hex)).length(4) }),
  roots_by_tree_size: z.record(z.string().regex(/^\d+$/), hex),
  inclusion_proofs: z.array(
    z.object({
      leafIndex: z.number().int(),
      treeSize: z.number().int(),
      leafHash: hex,
      root: hex,
      proof: z.array(hex),
    }),
  ),
  consistency_proofs: z.array(
    z.object({
      size1: z.number().int(),
      size2: z.number().int(),
      root1: hex,
      root2: hex,
      proof: z.array(hex),
    }),
  ),
});

/** The reference tree (8 leaves), its hashes and roots, the hasher vectors and the proof tables. */
export const rfc6962Vectors = readSharedJson('merkle/rfc6962_vectors.json', vectorsSchema);

/** Bytes of a hex string. */
export const bytes = (h: string): Buffer => Buffer.from(h, 'hex');

/** A copy of `hash` with bit `bit` (0 = the low bit of the first byte) flipped. */
export function flipBit(hash: Uint8Array, bit: number): Buffer {
  const copy = Buffer.from(hash);
  copy[bit >> 3] = copy[bit >> 3]! ^ (1 << (bit & 7));
  return copy;
}

/**
 * RFC 6962 §2.1 / RFC 9162 §2.1.1 Merkle Tree Hash with SHA-256 and domain separation.
 * https://www.rfc-editor.org/rfc/rfc9162#section-2.1.1
 *
 *   MTH({})       = SHA-256()
 *   MTH({d(0)})   = SHA-256(0x00 || d(0))              (hashLeaf)
 *   MTH(D[n])     = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))   (hashChildren)
 *                   where k is the largest power of two smaller than n.
 */
import { sha256 as portSha256, sha256Binary, sha256Into, sha256Parts } from '../platform/crypto.ts';
import { writeDigest } from '../platform/write-digest.ts';

/** Size in bytes of every hash in the tree. */
export const HASH_SIZE = 32;

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);
// Reused for the common 32 + 32 byte case so interior hashing allocates only its output.
const nodeBuffer = Buffer.alloc(1 + 2 * HASH_SIZE);
nodeBuffer[0] = 0x01;
// Leaves up to this size are hashed from a reused `0x00 || data` buffer with one one-shot call, which
// costs far less than a createHash object with two updates; larger leaves are streamed.
const LEAF_SCRATCH_LIMIT = 64 * 1024;
const leafBuffer = Buffer.alloc(1 + LEAF_SCRATCH_LIMIT);

/**
 * SHA-256 of `data` as a Buffer. The digest is taken as a 'binary' (latin1) string, a lossless
 * byte-per-char form, and copied into Buffer's small-allocation pool: for 32-byte results that is much
 * cheaper than the separately allocated Buffer that `hash(…, 'buffer')` returns.
 */
function digestOf(data: Uint8Array): Buffer {
  return Buffer.from(sha256Binary(data), 'binary');
}

/** Writes a 32-char 'binary' digest string into `target` at `offset` (see platform/write-digest.ts). */
export { writeDigest };

/** Largest subtree height StreamingTree accepts: 2^52 leaves still keeps the size a safe integer. */
const MAX_SUBTREE_HEIGHT = 52;

/** SHA-256 of arbitrary bytes. */
export function sha256(data: Uint8Array): Buffer {
  return portSha256(data);
}

/** MTH of the empty tree: SHA-256 of the empty string. */
export function emptyRoot(): Buffer {
  return sha256(new Uint8Array(0));
}

/** Leaf hash: SHA-256(0x00 || data). */
export function hashLeaf(data: Uint8Array): Buffer {
  if (data.length > LEAF_SCRATCH_LIMIT) return sha256Parts([LEAF_PREFIX, data]);
  leafBuffer.set(data, 1);
  return digestOf(leafBuffer.subarray(0, 1 + data.length));
}

/** Interior node hash: SHA-256(0x01 || left || right). */
export function hashChildren(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) {
    // The RFC hashes the plain concatenation; the fixed layout of nodeBuffer only fits two 32-byte hashes.
    return sha256Parts([NODE_PREFIX, left, right]);
  }
  nodeBuffer.set(left, 1);
  nodeBuffer.set(right, 1 + HASH_SIZE);
  return digestOf(nodeBuffer);
}

/** Largest power of two strictly smaller than n (n ≥ 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

// Scratch for the interior nodes of rootFromLeafHashes: the 0x01 prefix sits at byte 3, so left || right
// start at byte 4, a 32-bit boundary, and are copied in as 16 Int32 words: no view or copy call per node.
const nodeWordsBuffer = new ArrayBuffer(4 + 2 * HASH_SIZE);
const nodeWords = new Int32Array(nodeWordsBuffer);
const nodeInput = Buffer.from(nodeWordsBuffer, 3, 1 + 2 * HASH_SIZE);
nodeInput[0] = 0x01;
const WORDS_PER_HASH = HASH_SIZE / 4;

/**
 * MTH over leaf hashes already computed. For 32-byte hashes (the normal case) it builds the tree level by
 * level in one working buffer: pairing neighbours left to right and carrying an odd last node up unchanged
 * gives exactly the RFC's largest-power-of-two split. Other inputs take the recursive definition.
 */
export function rootFromLeafHashes(leafHashes: readonly Uint8Array[]): Buffer {
  const n = leafHashes.length;
  if (n === 0) return emptyRoot();
  if (n === 1) return Buffer.from(leafHashes[0]!);
  if (!leafHashes.every((h) => h.length === HASH_SIZE)) return subtreeRoot(leafHashes, 0, n);
  const words = new Int32Array(n * WORDS_PER_HASH);
  const level = Buffer.from(words.buffer);
  for (let i = 0; i < n; i++) level.set(leafHashes[i]!, i * HASH_SIZE);
  return rootInPlace(words, level, n);
}

/**
 * MTH over `n` leaf hashes packed 32 bytes apiece in `packed` (the first n × 32 bytes): the same tree as
 * `rootFromLeafHashes` of those hashes, without a view per leaf. `packed` is not modified.
 */
export function rootFromPackedLeafHashes(packed: Uint8Array, n: number): Buffer {
  if (!Number.isSafeInteger(n) || n < 0 || n * HASH_SIZE > packed.length) {
    throw new RangeError(`${packed.length} bytes do not hold ${n} leaf hashes`);
  }
  if (n === 0) return emptyRoot();
  if (n === 1) return Buffer.from(packed.subarray(0, HASH_SIZE));
  const words = new Int32Array(n * WORDS_PER_HASH);
  const level = Buffer.from(words.buffer);
  level.set(packed.subarray(0, n * HASH_SIZE));
  return rootInPlace(words, level, n);
}

/** Pairs the n ≥ 2 packed hashes of `level` (viewed as `words`) up to the root, overwriting them. */
function rootInPlace(words: Int32Array, level: Buffer, n: number): Buffer {
  for (let width = n; width > 1; width = (width + 1) >> 1) {
    const pairs = width >> 1;
    for (let i = 0; i < pairs; i++) {
      const from = 2 * i * WORDS_PER_HASH;
      for (let w = 0; w < 2 * WORDS_PER_HASH; w++) nodeWords[1 + w] = words[from + w]!;
      // Node i of the next level goes to slot i, at or before every slot still to be read on this level.
      sha256Into(nodeInput, level, i * HASH_SIZE);
    }
    if (width % 2 === 1) level.copyWithin(pairs * HASH_SIZE, (width - 1) * HASH_SIZE, width * HASH_SIZE);
  }
  return Buffer.from(level.subarray(0, HASH_SIZE));
}

/**
 * The level above `width` packed 32-byte node hashes: neighbours hashed in pairs left to right, an odd last
 * node carried up unchanged (the RFC split, level by level). Used to build whole trees for many proofs.
 */
export function parentLevel(level: Uint8Array, width: number): Buffer {
  const pairs = width >> 1;
  const out = Buffer.allocUnsafe(((width + 1) >> 1) * HASH_SIZE);
  const source = Buffer.from(level.buffer, level.byteOffset, width * HASH_SIZE);
  for (let i = 0; i < pairs; i++) {
    const from = 2 * i * HASH_SIZE;
    source.copy(nodeInput, 1, from, from + 2 * HASH_SIZE);
    sha256Into(nodeInput, out, i * HASH_SIZE);
  }
  if (width % 2 === 1) source.copy(out, pairs * HASH_SIZE, (width - 1) * HASH_SIZE, width * HASH_SIZE);
  return out;
}

function subtreeRoot(leaves: readonly Uint8Array[], start: number, end: number): Buffer {
  const n = end - start;
  if (n === 1) return Buffer.from(leaves[start]!);
  const k = splitPoint(n);
  return hashChildren(subtreeRoot(leaves, start, start + k), subtreeRoot(leaves, start + k, end));
}

/**
 * Streaming MTH: append leaf hashes one at a time, read the root at any point.
 * Keeps one hash per set bit of the size (a compact range), so memory is O(log n).
 *
 * Example: `const t = new StreamingTree(); t.appendLeaf(bytes); t.root()`.
 */
export class StreamingTree {
  // stack[i] is the root of a complete subtree; sizes strictly decrease along the stack.
  private readonly hashes: Buffer[] = [];
  private readonly heights: number[] = [];
  private count = 0;

  /** Number of leaves appended. */
  get size(): number {
    return this.count;
  }

  /** Appends the leaf for these bytes and returns its leaf hash. */
  appendLeaf(data: Uint8Array): Buffer {
    const leaf = hashLeaf(data);
    this.appendLeafHash(leaf);
    return leaf;
  }

  /** Appends an already computed leaf hash. */
  appendLeafHash(leafHash: Uint8Array): void {
    // appendSubtree keeps its own copy.
    this.appendSubtree(leafHash, 0);
  }

  /**
   * Appends the root of a complete subtree of 2^height leaves. The current size must be a multiple of
   * 2^height, which is what lets a period split into power-of-two chunks be combined from chunk roots.
   */
  appendSubtree(root: Uint8Array, height: number): void {
    if (!Number.isInteger(height) || height < 0 || height > MAX_SUBTREE_HEIGHT) {
      throw new RangeError(`subtree height ${height} is not an integer in 0..${MAX_SUBTREE_HEIGHT}`);
    }
    const width = 2 ** height;
    if (this.count % width !== 0) {
      throw new RangeError(`subtree of ${width} leaves is not aligned at size ${this.count}`);
    }
    // The caller's bytes are only read; what the stack keeps is a fresh buffer (a copy or a node hash).
    let hash: Uint8Array = root;
    let h = height;
    while (this.heights.length > 0 && this.heights[this.heights.length - 1] === h) {
      this.heights.pop();
      hash = hashChildren(this.hashes.pop()!, hash);
      h += 1;
    }
    this.hashes.push(h === height ? Buffer.from(root) : (hash as Buffer));
    this.heights.push(h);
    this.count += width;
  }

  /** MTH of all leaves appended so far. */
  root(): Buffer {
    if (this.hashes.length === 0) return emptyRoot();
    // Fold right to left: smaller (later) subtrees merge first, matching the RFC split.
    let acc: Buffer = this.hashes[this.hashes.length - 1]!;
    for (let i = this.hashes.length - 2; i >= 0; i--) acc = hashChildren(this.hashes[i]!, acc);
    return Buffer.from(acc);
  }
}

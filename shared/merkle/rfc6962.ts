/**
 * RFC 6962 §2.1 / RFC 9162 §2.1.1 Merkle Tree Hash with SHA-256 and domain separation.
 * https://www.rfc-editor.org/rfc/rfc9162#section-2.1.1
 *
 *   MTH({})       = SHA-256()
 *   MTH({d(0)})   = SHA-256(0x00 || d(0))              (hashLeaf)
 *   MTH(D[n])     = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))   (hashChildren)
 *                   where k is the largest power of two smaller than n.
 */
import { createHash, hash as oneShotHash } from 'node:crypto';

/** Size in bytes of every hash in the tree. */
export const HASH_SIZE = 32;

const LEAF_PREFIX = Buffer.from([0x00]);
const nodeBuffer = Buffer.alloc(1 + 2 * HASH_SIZE);
nodeBuffer[0] = 0x01;

/** SHA-256 of arbitrary bytes. */
export function sha256(data: Uint8Array): Buffer {
  return oneShotHash('sha256', data, 'buffer') as unknown as Buffer;
}

/** MTH of the empty tree: SHA-256 of the empty string. */
export function emptyRoot(): Buffer {
  return sha256(new Uint8Array(0));
}

/** Leaf hash: SHA-256(0x00 || data). */
export function hashLeaf(data: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(data).digest();
}

/** Interior node hash: SHA-256(0x01 || left || right). */
export function hashChildren(left: Uint8Array, right: Uint8Array): Buffer {
  nodeBuffer.set(left, 1);
  nodeBuffer.set(right, 1 + HASH_SIZE);
  return sha256(nodeBuffer);
}

/** Largest power of two strictly smaller than n (n ≥ 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH over leaf hashes already computed. Recursive on the RFC split, O(log n) stack depth. */
export function rootFromLeafHashes(leafHashes: readonly Uint8Array[]): Buffer {
  if (leafHashes.length === 0) return emptyRoot();
  return subtreeRoot(leafHashes, 0, leafHashes.length);
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
    this.appendSubtree(Buffer.from(leafHash), 0);
  }

  /**
   * Appends the root of a complete subtree of 2^height leaves. The current size must be a multiple of
   * 2^height, which is what lets a period split into power-of-two chunks be combined from chunk roots.
   */
  appendSubtree(root: Uint8Array, height: number): void {
    const width = 2 ** height;
    if (this.count % width !== 0) {
      throw new RangeError(`subtree of ${width} leaves is not aligned at size ${this.count}`);
    }
    let hash: Buffer = Buffer.from(root);
    let h = height;
    while (this.heights.length > 0 && this.heights[this.heights.length - 1] === h) {
      this.heights.pop();
      hash = hashChildren(this.hashes.pop()!, hash);
      h += 1;
    }
    this.hashes.push(hash);
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

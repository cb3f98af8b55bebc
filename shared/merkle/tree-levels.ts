/**
 * An RFC 6962 tree held in memory by levels, for answering many inclusion proofs over one tree (proof
 * endpoints, benchmarks). Level 0 holds the leaf hashes; each next level pairs nodes left to right and
 * carries an odd last node up unchanged, which is exactly the RFC's largest-power-of-two split. Building
 * costs n − 1 node hashes once, into one packed buffer per level; each audit path is then O(log n).
 *
 * Example: `const t = new TreeLevels(leafHashes); t.inclusionProof(5)` equals `inclusionProof(leafHashes, 5)`.
 */
import { ProofError } from './errors.ts';
import { emptyRoot, HASH_SIZE, parentLevel } from './rfc6962.ts';

// A module-local copy for the path loop: under a CommonJS transform (tsx) each read of an imported
// binding is a getter call (see proof.ts).
const SIZE = HASH_SIZE;
/** Levels up to this many nodes keep one view per node: at most 2 × 4,096 views in all, about 1 MiB. */
const VIEW_LEVEL_WIDTH = 4096;

export class TreeLevels {
  /** levels[k] packs the node hashes of level k; widths[k] is how many. */
  private readonly levels: Buffer[] = [];
  private readonly widths: number[] = [];
  /**
   * views[k][j] is node j of level k as a Buffer, kept for the levels of at most VIEW_LEVEL_WIDTH nodes
   * (the top of the tree, which nearly every audit path crosses); wider levels make a view per request.
   */
  private readonly views: (Buffer[] | undefined)[] = [];

  /** Leaf hashes must be 32 bytes each. */
  constructor(leafHashes: readonly Uint8Array[]) {
    const leaves = Buffer.allocUnsafe(leafHashes.length * HASH_SIZE);
    leafHashes.forEach((h, i) => {
      if (h.length !== HASH_SIZE)
        throw new RangeError(`leaf hash ${i} is ${h.length} bytes, expected ${HASH_SIZE}`);
      leaves.set(h, i * HASH_SIZE);
    });
    let level: Buffer = leaves;
    let width = leafHashes.length;
    this.levels.push(level);
    this.widths.push(width);
    while (width > 1) {
      level = parentLevel(level, width);
      width = (width + 1) >> 1;
      this.levels.push(level);
      this.widths.push(width);
    }
    for (const [k, w] of this.widths.entries()) {
      const packed = this.levels[k]!;
      this.views.push(
        w <= VIEW_LEVEL_WIDTH
          ? Array.from({ length: w }, (_, j) => packed.subarray(j * SIZE, (j + 1) * SIZE))
          : undefined,
      );
    }
  }

  /** Number of leaves. */
  get size(): number {
    return this.widths[0]!;
  }

  /** The Merkle Tree Hash of all leaves. */
  root(): Buffer {
    return this.size === 0
      ? emptyRoot()
      : Buffer.from(this.levels[this.levels.length - 1]!.subarray(0, HASH_SIZE));
  }

  /** The audit path of leaf `index` (RFC 9162 §2.1.3.1), bottom-up; elements are views into the tree. */
  inclusionProof(index: number): Buffer[] {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.size) {
      throw new ProofError('INDEX_OUT_OF_RANGE', `leaf ${index} is outside a tree of ${this.size}`);
    }
    const path: Buffer[] = [];
    const { levels, widths, views } = this;
    let i = index;
    for (let k = 0; k < levels.length - 1; k++) {
      const sibling = i ^ 1;
      if (sibling < widths[k]!) {
        const kept = views[k];
        path.push(kept ? kept[sibling]! : levels[k]!.subarray(sibling * SIZE, (sibling + 1) * SIZE));
      }
      i >>= 1;
    }
    return path;
  }
}

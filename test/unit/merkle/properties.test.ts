/**
 * Property tests for the RFC 6962 tree and its proofs over random trees of 1..300 leaves.
 * A failing run prints its fast-check seed; replay it with `{ seed, path }` in the options.
 */
import fc from 'fast-check';
import { MerkleTree } from 'merkletreejs';
import { describe, expect, it } from 'vitest';
import { ProofError } from '../../../shared/merkle/errors.ts';
import {
  consistencyProof,
  inclusionProof,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from '../../../shared/merkle/proof.ts';
import {
  HASH_SIZE,
  hashLeaf,
  rootFromLeafHashes,
  rootFromPackedLeafHashes,
  StreamingTree,
  sha256,
  writeDigest,
} from '../../../shared/merkle/rfc6962.ts';
import { flipBit } from '../../support/rfc6962-vectors.ts';

const MAX_LEAVES = 300;
// Shrinking a 300-leaf counterexample can take minutes; stop it and report what was found by then.
const SHRINK_BUDGET = fc.interruptAfterTimeLimit(10_000);

/** Leaf hashes of a random tree; leaf data may repeat, as audit events with equal bytes would. */
const treeArb = (maxLeaves = MAX_LEAVES) =>
  fc
    .array(fc.uint8Array({ maxLength: 24 }), { minLength: 1, maxLength: maxLeaves, size: 'max' })
    .map((leaves) => leaves.map((leaf) => hashLeaf(leaf)));

/** A tree with one leaf index in it. */
const treeWithIndexArb = treeArb().chain((tree) =>
  fc.record({ tree: fc.constant(tree), index: fc.nat(tree.length - 1) }),
);

/** Roots of every prefix: roots[m] is the root of the first m leaves. */
function prefixRoots(tree: readonly Uint8Array[]): Buffer[] {
  const streaming = new StreamingTree();
  const roots = [streaming.root()];
  for (const leafHash of tree) {
    streaming.appendLeafHash(leafHash);
    roots.push(streaming.root());
  }
  return roots;
}

function proofErrorCode(act: () => unknown): string | undefined {
  try {
    act();
  } catch (error) {
    if (error instanceof ProofError) return error.code;
    throw error;
  }
  return undefined;
}

const bitArb = fc.nat(HASH_SIZE * 8 - 1);

describe('Function: rootFromPackedLeafHashes', () => {
  it('equals rootFromLeafHashes of the same hashes, packed after any offset, and leaves them unchanged', () => {
    fc.assert(
      fc.property(treeArb(), fc.nat({ max: 40 }), (leaves, offset) => {
        // Prepare: the hashes packed after `offset` bytes, with trailing bytes the root must ignore.
        const backing = Buffer.alloc(offset + leaves.length * HASH_SIZE + 7, 0xab);
        for (const [i, h] of leaves.entries()) backing.set(h, offset + i * HASH_SIZE);
        const packed = backing.subarray(offset);
        const before = Buffer.from(packed);

        // Act
        const root = rootFromPackedLeafHashes(packed, leaves.length);

        // Assess
        expect(root.toString('hex')).toBe(rootFromLeafHashes(leaves).toString('hex'));
        expect(packed.equals(before)).toBe(true);
      }),
      { interruptAfterTimeLimit: 10_000 },
    );
  });

  describe('when the bytes hold fewer hashes than asked for', () => {
    it('throws a RangeError', () => {
      expect(() => rootFromPackedLeafHashes(Buffer.alloc(63), 2)).toThrow(RangeError);
    });
  });
});

describe('Function: writeDigest', () => {
  it('writes the 32 bytes a binary digest string stands for, at the offset, and nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat({ max: 16 }), (bytes, at) => {
        // Prepare
        const target = Buffer.alloc(at + 40, 0x5a);
        const expected = Buffer.from(target);
        expected.set(bytes, at);

        // Act
        writeDigest(target, at, Buffer.from(bytes).toString('binary'));

        // Assess
        expect(target.equals(expected)).toBe(true);
      }),
    );
  });
});

describe('Function: verifyInclusion', () => {
  describe('when the proof comes from inclusionProof for a sampled leaf', () => {
    it('verifies, and rootFromInclusionProof returns the tree root', () => {
      fc.assert(
        fc.property(treeWithIndexArb, ({ tree, index }) => {
          // Prepare
          const root = rootFromLeafHashes(tree);

          // Act
          const proof = inclusionProof(tree, index);

          // Assess
          expect(() => verifyInclusion(index, tree.length, tree[index]!, proof, root)).not.toThrow();
          expect(rootFromInclusionProof(index, tree.length, tree[index]!, proof).equals(root)).toBe(true);
        }),
        { numRuns: 200, plugins: [SHRINK_BUDGET] },
      );
    });
  });

  describe('when the tree has up to 64 leaves', () => {
    it('verifies the proof of every leaf', () => {
      fc.assert(
        fc.property(treeArb(64), (tree) => {
          // Prepare
          const root = rootFromLeafHashes(tree);

          // Act
          const proofs = tree.map((_, index) => inclusionProof(tree, index));

          // Assess
          proofs.forEach((proof, index) => {
            verifyInclusion(index, tree.length, tree[index]!, proof, root);
          });
        }),
        { numRuns: 60, plugins: [SHRINK_BUDGET] },
      );
    });
  });

  describe('when a single bit of the leaf hash, a proof element or the root is flipped', () => {
    it('throws ROOT_MISMATCH', () => {
      // Prepare
      const caseArb = treeWithIndexArb.chain(({ tree, index }) => {
        const proof = inclusionProof(tree, index);
        // Target -1 is the leaf hash, proof.length is the root, anything between is a proof element.
        return fc.record({
          tree: fc.constant(tree),
          index: fc.constant(index),
          proof: fc.constant(proof),
          target: fc.integer({ min: -1, max: proof.length }),
          bit: bitArb,
        });
      });
      fc.assert(
        fc.property(caseArb, ({ tree, index, proof, target, bit }) => {
          const root = rootFromLeafHashes(tree);
          const leafHash = target === -1 ? flipBit(tree[index]!, bit) : tree[index]!;
          const badProof = proof.map((h, i) => (i === target ? flipBit(h, bit) : h));
          const badRoot = target === proof.length ? flipBit(root, bit) : root;

          // Act
          const code = proofErrorCode(() => verifyInclusion(index, tree.length, leafHash, badProof, badRoot));

          // Assess
          expect(code).toBe('ROOT_MISMATCH');
        }),
        { numRuns: 200, plugins: [SHRINK_BUDGET] },
      );
    });
  });
});

describe('Function: verifyConsistency', () => {
  describe('when the proofs come from consistencyProof for every 1 <= m <= n', () => {
    it('verifies every one of them against the prefix roots', () => {
      fc.assert(
        fc.property(treeArb(), (tree) => {
          // Prepare
          const roots = prefixRoots(tree);
          const n = tree.length;

          // Act
          const proofs = tree.map((_, i) => consistencyProof(tree, i + 1));

          // Assess
          proofs.forEach((proof, i) => {
            verifyConsistency(i + 1, n, proof, roots[i + 1]!, roots[n]!);
          });
        }),
        { numRuns: 20, plugins: [SHRINK_BUDGET] },
      );
    });
  });

  describe('when a single bit of a proof element, root1 or root2 is flipped', () => {
    it('throws ROOT_MISMATCH', () => {
      // Prepare
      const caseArb = treeArb()
        .filter((tree) => tree.length >= 2)
        .chain((tree) =>
          fc.record({ tree: fc.constant(tree), m: fc.integer({ min: 1, max: tree.length - 1 }) }),
        )
        .chain(({ tree, m }) => {
          const proof = consistencyProof(tree, m);
          // Target proof.length is root1, proof.length + 1 is root2, anything below is a proof element.
          return fc.record({
            tree: fc.constant(tree),
            m: fc.constant(m),
            proof: fc.constant(proof),
            target: fc.nat(proof.length + 1),
            bit: bitArb,
          });
        });
      fc.assert(
        fc.property(caseArb, ({ tree, m, proof, target, bit }) => {
          const root1 = rootFromLeafHashes(tree.slice(0, m));
          const root2 = rootFromLeafHashes(tree);
          const badProof = proof.map((h, i) => (i === target ? flipBit(h, bit) : h));
          const badRoot1 = target === proof.length ? flipBit(root1, bit) : root1;
          const badRoot2 = target === proof.length + 1 ? flipBit(root2, bit) : root2;

          // Act
          const code = proofErrorCode(() => verifyConsistency(m, tree.length, badProof, badRoot1, badRoot2));

          // Assess
          expect(code).toBe('ROOT_MISMATCH');
        }),
        { numRuns: 200, plugins: [SHRINK_BUDGET] },
      );
    });
  });
});

describe('Class: StreamingTree', () => {
  describe('Method: root', () => {
    describe('when leaves are appended one at a time', () => {
      it('equals rootFromLeafHashes of every prefix', () => {
        fc.assert(
          fc.property(treeArb(), (tree) => {
            // Prepare
            const prefixes = tree.map((_, m) => tree.slice(0, m + 1));

            // Act
            const roots = prefixRoots(tree);

            // Assess
            expect(roots[0]!.equals(rootFromLeafHashes([]))).toBe(true);
            prefixes.forEach((prefix, i) => {
              expect(roots[i + 1]!.toString('hex')).toBe(rootFromLeafHashes(prefix).toString('hex'));
            });
          }),
          { numRuns: 30, plugins: [SHRINK_BUDGET] },
        );
      });
    });
  });

  describe('Method: appendSubtree', () => {
    describe('when a period is split into aligned chunks of 2^h leaves and some chunks arrive as roots', () => {
      it('gives the same root and size as appending every leaf', () => {
        // Prepare
        const caseArb = fc.record({
          tree: treeArb(),
          height: fc.integer({ min: 0, max: 6 }),
          // Whether chunk i is appended as its root (true) or leaf by leaf; the tail chunk is never complete.
          asRoot: fc.array(fc.boolean(), { minLength: MAX_LEAVES, maxLength: MAX_LEAVES }),
        });
        fc.assert(
          fc.property(caseArb, ({ tree, height, asRoot }) => {
            const width = 2 ** height;
            const streaming = new StreamingTree();

            // Act
            for (let start = 0, chunk = 0; start < tree.length; start += width, chunk++) {
              const leaves = tree.slice(start, start + width);
              if (leaves.length === width && asRoot[chunk]) {
                streaming.appendSubtree(rootFromLeafHashes(leaves), height);
              } else {
                for (const leafHash of leaves) streaming.appendLeafHash(leafHash);
              }
            }

            // Assess
            expect(streaming.size).toBe(tree.length);
            expect(streaming.root().equals(rootFromLeafHashes(tree))).toBe(true);
          }),
          { numRuns: 150, plugins: [SHRINK_BUDGET] },
        );
      });
    });
  });
});

/**
 * merkletreejs reproduces RFC 6962 with its default shape (pairs left to right, an odd node is promoted
 * unhashed, which is the RFC's largest-power-of-two split) once the node hash gets the 0x01 prefix through
 * `concatenator` and the leaves are our 0x00-prefixed leaf hashes. `complete: true` builds a different shape.
 * Its empty tree has an empty root, not SHA-256(""), so only non-empty trees are compared.
 */
const NODE_PREFIX = Buffer.from([0x01]);
function rfc6962MerkleTree(leafHashes: readonly Buffer[]): MerkleTree {
  return new MerkleTree([...leafHashes], sha256, {
    concatenator: (parts: Buffer[]) => Buffer.concat([NODE_PREFIX, ...parts]),
  });
}

describe('Cross-check: merkletreejs configured for RFC 6962', () => {
  describe('when both build the same random tree', () => {
    it('agrees on the root and on the audit path of sampled leaves', () => {
      // Prepare
      const caseArb = treeArb().chain((tree) =>
        fc.record({
          tree: fc.constant(tree),
          indices: fc.array(fc.nat(tree.length - 1), { minLength: 1, maxLength: 8 }),
        }),
      );
      fc.assert(
        fc.property(caseArb, ({ tree, indices }) => {
          // Act
          const reference = rfc6962MerkleTree(tree);

          // Assess
          expect(reference.getRoot().toString('hex')).toBe(rootFromLeafHashes(tree).toString('hex'));
          for (const index of indices) {
            // Passing the index matters: duplicate leaves would otherwise resolve to the last match.
            const theirs = reference.getProof(tree[index]!, index).map((step) => step.data.toString('hex'));
            const ours = inclusionProof(tree, index).map((h) => h.toString('hex'));
            expect(theirs).toEqual(ours);
          }
        }),
        { numRuns: 80, plugins: [SHRINK_BUDGET] },
      );
    });
  });
});

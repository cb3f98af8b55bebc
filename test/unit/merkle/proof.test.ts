import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ProofErrorCode } from '../../../shared/merkle/errors.ts';
import { ProofError } from '../../../shared/merkle/errors.ts';
import {
  consistencyProof,
  inclusionProof,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from '../../../shared/merkle/proof.ts';
import { hashChildren, hashLeaf, rootFromLeafHashes } from '../../../shared/merkle/rfc6962.ts';
import { bytes, flipBit, rfc6962Vectors } from '../../support/rfc6962-vectors.ts';

const vectors = rfc6962Vectors;
const toHex = (hashes: readonly Uint8Array[]): string[] => hashes.map((h) => Buffer.from(h).toString('hex'));
const leafHashes = vectors.leaf_hashes_hex.map(bytes);
const rootOf = (size: number): Buffer => bytes(vectors.roots_by_tree_size[String(size)]!);

const inclusionCases = vectors.inclusion_proofs.map((v) => ({
  ...v,
  title: `leaf ${v.leafIndex} of ${v.treeSize}`,
}));
const consistencyCases = vectors.consistency_proofs.map((v) => ({
  ...v,
  title: `${v.size1} to ${v.size2}`,
}));

/** Runs `act` and returns the ProofError it throws; fails the test if it returns or throws anything else. */
function catchProofError(act: () => unknown): ProofError {
  let caught: unknown;
  try {
    act();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ProofError);
  return caught as ProofError;
}

describe('Function: inclusionProof', () => {
  describe('when given the classic inclusion table', () => {
    it.each(inclusionCases)('produces exactly the table proof for $title', (v) => {
      // Prepare
      const tree = leafHashes.slice(0, v.treeSize);

      // Act
      const proof = inclusionProof(tree, v.leafIndex);

      // Assess
      expect(toHex(proof)).toEqual(v.proof);
    });
  });

  describe('when the tree has 8 leaves', () => {
    it.each([0, 1, 2, 3, 4, 5, 6, 7])('produces a 3-hash path for leaf %i that verifies', (index) => {
      // Prepare
      const root = rootOf(8);

      // Act
      const proof = inclusionProof(leafHashes, index);

      // Assess
      expect(proof).toHaveLength(3);
      expect(() => verifyInclusion(index, 8, leafHashes[index]!, proof, root)).not.toThrow();
    });
  });

  describe.each([
    ['equal to the size', 8],
    ['beyond the size', 9],
    ['negative', -1],
    ['fractional', 1.5],
  ])('when the index is %s', (_label, index) => {
    it('throws INDEX_OUT_OF_RANGE', () => {
      // Prepare
      const tree = leafHashes;

      // Act
      const error = catchProofError(() => inclusionProof(tree, index));

      // Assess
      expect(error.code).toBe('INDEX_OUT_OF_RANGE');
    });
  });

  describe('when the tree is empty', () => {
    it('throws INDEX_OUT_OF_RANGE for index 0', () => {
      // Prepare
      const tree: Uint8Array[] = [];

      // Act
      const error = catchProofError(() => inclusionProof(tree, 0));

      // Assess
      expect(error.code).toBe('INDEX_OUT_OF_RANGE');
    });
  });
});

describe('Function: consistencyProof', () => {
  describe('when given the classic consistency table', () => {
    it.each(consistencyCases)('produces exactly the table proof for $title', (v) => {
      // Prepare
      const tree = leafHashes.slice(0, v.size2);

      // Act
      const proof = consistencyProof(tree, v.size1);

      // Assess
      expect(toHex(proof)).toEqual(v.proof);
    });
  });

  describe('when size1 is 0 or equal to the tree size', () => {
    it.each([0, 8])('returns an empty proof for size1 = %i', (size1) => {
      // Prepare
      const tree = leafHashes;

      // Act
      const proof = consistencyProof(tree, size1);

      // Assess
      expect(proof).toEqual([]);
    });
  });

  describe.each([
    ['beyond the tree size', 9],
    ['negative', -1],
    ['fractional', 2.5],
  ])('when size1 is %s', (_label, size1) => {
    it('throws BAD_TREE_SIZE', () => {
      // Prepare
      const tree = leafHashes;

      // Act
      const error = catchProofError(() => consistencyProof(tree, size1));

      // Assess
      expect(error.code).toBe('BAD_TREE_SIZE');
    });
  });
});

describe('Function: rootFromInclusionProof', () => {
  describe('when given the classic inclusion table', () => {
    it.each(inclusionCases)('returns the table root for $title', (v) => {
      // Prepare
      const proof = v.proof.map(bytes);

      // Act
      const root = rootFromInclusionProof(v.leafIndex, v.treeSize, bytes(v.leafHash), proof);

      // Assess
      expect(root.toString('hex')).toBe(v.root);
    });
  });

  describe('when the proof has the wrong length', () => {
    it('throws WRONG_PROOF_SIZE before hashing', () => {
      // Prepare
      const proof = inclusionProof(leafHashes, 5).slice(1);

      // Act
      const error = catchProofError(() => rootFromInclusionProof(5, 8, leafHashes[5]!, proof));

      // Assess
      expect(error.code).toBe('WRONG_PROOF_SIZE');
    });
  });

  describe('when trees reach beyond 2^32 leaves (safe integers, checked against RFC 9162 §2.1.3.2)', () => {
    /** The RFC's verification algorithm on BigInt, step by step: the reference for any index and size. */
    function rfc9162Root(index: bigint, size: bigint, leaf: Uint8Array, path: readonly Uint8Array[]) {
      let fn = index;
      let sn = size - 1n;
      let r: Uint8Array = leaf;
      for (const p of path) {
        if (sn === 0n) return undefined;
        if ((fn & 1n) === 1n || fn === sn) {
          r = hashChildren(p, r);
          if ((fn & 1n) === 0n) {
            while (!((fn & 1n) === 1n || fn === 0n)) {
              fn >>= 1n;
              sn >>= 1n;
            }
          }
        } else {
          r = hashChildren(r, p);
        }
        fn >>= 1n;
        sn >>= 1n;
      }
      return sn === 0n ? Buffer.from(r) : undefined;
    }

    /** How many hashes the RFC's algorithm consumes for this index and size. */
    function pathLength(index: bigint, size: bigint): number {
      let fn = index;
      let sn = size - 1n;
      let n = 0;
      while (sn !== 0n) {
        if ((fn & 1n) === 0n && fn === sn) {
          while (!((fn & 1n) === 1n || fn === 0n)) {
            fn >>= 1n;
            sn >>= 1n;
          }
        }
        n++;
        fn >>= 1n;
        sn >>= 1n;
      }
      return n;
    }

    const position = fc
      .bigInt({ min: 1n, max: BigInt(Number.MAX_SAFE_INTEGER) })
      .chain((size) => fc.record({ size: fc.constant(size), index: fc.bigInt({ min: 0n, max: size - 1n }) }));

    // Trees of at most 2^32 leaves take a 32-bit path (chainPath32, decompose's fast branch): sizes are
    // drawn over that whole range, with the edges around 2^31 and 2^32 drawn often.
    const position32 = fc
      .oneof(
        fc.integer({ min: 1, max: 2 ** 32 }),
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 2 ** 31 - 3, max: 2 ** 31 + 3 }),
        fc.integer({ min: 2 ** 32 - 5, max: 2 ** 32 }),
      )
      .chain((size) =>
        fc.record({
          size: fc.constant(BigInt(size)),
          index: fc
            .oneof(fc.integer({ min: 0, max: size - 1 }), fc.constant(size - 1), fc.constant(0))
            .map(BigInt),
        }),
      );

    it.each([
      ['any index and size', position],
      ['trees of up to 2^32 leaves', position32],
    ])('gives the root the RFC algorithm gives, for %s', (_, positionArb) => {
      fc.assert(
        fc.property(
          positionArb,
          fc.uint8Array({ minLength: 32, maxLength: 32 }),
          fc.integer(),
          (p, leaf, seed) => {
            // Prepare: a path of the length the RFC consumes, of hashes drawn from the seed.
            const length = pathLength(p.index, p.size);
            const path = Array.from({ length }, (_, i) => hashLeaf(Buffer.from(`${seed}:${i}`)));

            // Act
            const root = rootFromInclusionProof(Number(p.index), Number(p.size), leaf, path);

            // Assess
            expect(root.toString('hex')).toBe(rfc9162Root(p.index, p.size, leaf, path)?.toString('hex'));
          },
        ),
        { numRuns: 2000 },
      );
    });

    it('refuses a path one hash short, with the length the RFC consumes', () => {
      // Prepare: leaf 2^40 + 5 of 2^41 leaves: 40 hashes below the split, 1 on the right border.
      const index = 2 ** 40 + 5;
      const size = 2 ** 41;
      const path = Array.from({ length: 40 }, (_, i) => hashLeaf(Buffer.from([i])));

      // Act
      const error = catchProofError(() =>
        rootFromInclusionProof(index, size, hashLeaf(Buffer.from('x')), path),
      );

      // Assess
      expect(error.code).toBe('WRONG_PROOF_SIZE');
      expect(error.message).toContain('expected 41');
      expect(pathLength(BigInt(index), BigInt(size))).toBe(41);
    });
  });
});

describe('Function: verifyInclusion', () => {
  describe('when given the classic inclusion table', () => {
    it.each(inclusionCases)('accepts the table proof for $title', (v) => {
      // Prepare
      const proof = v.proof.map(bytes);

      // Act
      const act = () => verifyInclusion(v.leafIndex, v.treeSize, bytes(v.leafHash), proof, bytes(v.root));

      // Assess
      expect(act).not.toThrow();
    });
  });

  // Named corruptions after transparency-dev/merkle: each must be rejected with a precise reason.
  const base = {
    index: 5,
    size: 8,
    leafHash: leafHashes[5]!,
    proof: inclusionProof(leafHashes, 5),
    root: rootOf(8),
  };
  const corruptions: { name: string; code: ProofErrorCode; mutate: () => typeof base }[] = [
    {
      name: 'truncated-proof',
      code: 'WRONG_PROOF_SIZE',
      mutate: () => ({ ...base, proof: base.proof.slice(0, -1) }),
    },
    {
      name: 'extended-proof',
      code: 'WRONG_PROOF_SIZE',
      mutate: () => ({ ...base, proof: [...base.proof, base.root] }),
    },
    {
      name: 'preceding-root',
      code: 'WRONG_PROOF_SIZE',
      mutate: () => ({ ...base, proof: [base.root, ...base.proof] }),
    },
    { name: 'empty-proof', code: 'WRONG_PROOF_SIZE', mutate: () => ({ ...base, proof: [] }) },
    {
      name: 'wrong-leaf',
      code: 'ROOT_MISMATCH',
      mutate: () => ({ ...base, leafHash: hashLeaf(Buffer.from('x')) }),
    },
    { name: 'wrong-index (sibling)', code: 'ROOT_MISMATCH', mutate: () => ({ ...base, index: 4 }) },
    { name: 'wrong-index (other half)', code: 'ROOT_MISMATCH', mutate: () => ({ ...base, index: 1 }) },
    { name: 'wrong-index (past the end)', code: 'INDEX_OUT_OF_RANGE', mutate: () => ({ ...base, index: 8 }) },
    { name: 'wrong-index (negative)', code: 'INDEX_OUT_OF_RANGE', mutate: () => ({ ...base, index: -1 }) },
    {
      name: 'wrong-size (same path length, root of that size)',
      code: 'ROOT_MISMATCH',
      mutate: () => ({ ...base, size: 7, root: rootOf(7) }),
    },
    { name: 'wrong-size (doubled)', code: 'WRONG_PROOF_SIZE', mutate: () => ({ ...base, size: 16 }) },
    { name: 'wrong-size (halved)', code: 'INDEX_OUT_OF_RANGE', mutate: () => ({ ...base, size: 4 }) },
    { name: 'wrong-size (zero)', code: 'INDEX_OUT_OF_RANGE', mutate: () => ({ ...base, size: 0 }) },
    { name: 'wrong-size (negative)', code: 'BAD_TREE_SIZE', mutate: () => ({ ...base, size: -8 }) },
    {
      name: 'wrong-size (unsafe integer)',
      code: 'BAD_TREE_SIZE',
      mutate: () => ({ ...base, size: 2 ** 64 }),
    },
    { name: 'wrong-root', code: 'ROOT_MISMATCH', mutate: () => ({ ...base, root: rootOf(7) }) },
    { name: 'empty-tree-root', code: 'ROOT_MISMATCH', mutate: () => ({ ...base, root: rootOf(0) }) },
    { name: 'short-root', code: 'BAD_HASH_LENGTH', mutate: () => ({ ...base, root: base.root.subarray(1) }) },
    {
      name: 'long-leaf',
      code: 'BAD_HASH_LENGTH',
      mutate: () => ({ ...base, leafHash: Buffer.concat([base.leafHash, Buffer.alloc(1)]) }),
    },
    {
      name: 'short-proof-element',
      code: 'BAD_HASH_LENGTH',
      mutate: () => ({ ...base, proof: [base.proof[0]!.subarray(0, 31), ...base.proof.slice(1)] }),
    },
    ...base.proof.flatMap((_, i) =>
      [0, 7, 128, 255].map((bit) => ({
        name: `flipped-bit ${bit} of proof[${i}]`,
        code: 'ROOT_MISMATCH' as const,
        mutate: () => ({ ...base, proof: base.proof.map((h, j) => (j === i ? flipBit(h, bit) : h)) }),
      })),
    ),
    {
      name: 'flipped-bit of the leaf',
      code: 'ROOT_MISMATCH',
      mutate: () => ({ ...base, leafHash: flipBit(base.leafHash, 3) }),
    },
    {
      name: 'flipped-bit of the root',
      code: 'ROOT_MISMATCH',
      mutate: () => ({ ...base, root: flipBit(base.root, 200) }),
    },
    {
      name: 'swapped-proof-elements',
      code: 'ROOT_MISMATCH',
      mutate: () => ({ ...base, proof: [base.proof[1]!, base.proof[0]!, base.proof[2]!] }),
    },
  ];

  describe.each(corruptions)('when the proof is corrupted: $name', ({ code, mutate }) => {
    it(`throws ProofError ${code}`, () => {
      // Prepare
      const c = mutate();

      // Act
      const error = catchProofError(() => verifyInclusion(c.index, c.size, c.leafHash, c.proof, c.root));

      // Assess
      expect(error.code).toBe(code);
    });
  });

  describe('when only the claimed size is wrong and the path keeps its shape', () => {
    it('still verifies: the size is bound to the root by the signed statement, not by the proof', () => {
      // Prepare
      // Leaf 5 has a 3-hash path in trees of 7 and 8 leaves, hashed in the same left/right order.
      const claimedSize = 7;

      // Act
      const act = () => verifyInclusion(base.index, claimedSize, base.leafHash, base.proof, base.root);

      // Assess
      expect(act).not.toThrow();
    });
  });

  describe('when every table proof loses its last hash', () => {
    const nonEmpty = inclusionCases.filter((v) => v.proof.length > 0);

    it.each(nonEmpty)('rejects the truncated proof for $title with WRONG_PROOF_SIZE', (v) => {
      // Prepare
      const proof = v.proof.slice(0, -1).map(bytes);

      // Act
      const error = catchProofError(() =>
        verifyInclusion(v.leafIndex, v.treeSize, bytes(v.leafHash), proof, bytes(v.root)),
      );

      // Assess
      expect(error.code).toBe('WRONG_PROOF_SIZE');
    });
  });

  describe('when the root does not match', () => {
    it('carries the expected and the computed root as evidence', () => {
      // Prepare
      const wrongRoot = rootOf(7);

      // Act
      const error = catchProofError(() =>
        verifyInclusion(base.index, 8, base.leafHash, base.proof, wrongRoot),
      );

      // Assess
      expect(error.code).toBe('ROOT_MISMATCH');
      expect(error.evidence).toEqual({
        expected: wrongRoot.toString('hex'),
        computed: rootOf(8).toString('hex'),
      });
    });
  });
  describe('when the claimed root differs from the computed one in any single byte', () => {
    it('throws ROOT_MISMATCH with both roots as evidence, for every byte and trees of up to 300 leaves', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 300 }).chain((size) =>
            fc.record({
              size: fc.constant(size),
              index: fc.integer({ min: 0, max: size - 1 }),
              byte: fc.integer({ min: 0, max: 31 }),
              xor: fc.integer({ min: 1, max: 255 }),
            }),
          ),
          ({ size, index, byte, xor }) => {
            // Prepare: the real root with one byte changed (the verifier compares the root in place).
            const leaves = Array.from({ length: size }, (_, i) => hashLeaf(Buffer.from(`leaf-${i}`)));
            const root = rootFromLeafHashes(leaves);
            const wrong = Buffer.from(root);
            wrong[byte] = wrong[byte]! ^ xor;
            const proof = inclusionProof(leaves, index);

            // Act
            const error = catchProofError(() => verifyInclusion(index, size, leaves[index]!, proof, wrong));

            // Assess
            expect(error.code).toBe('ROOT_MISMATCH');
            expect(error.evidence).toEqual({
              expected: wrong.toString('hex'),
              computed: root.toString('hex'),
            });
            expect(() => verifyInclusion(index, size, leaves[index]!, proof, root)).not.toThrow();
          },
        ),
        { numRuns: 300 },
      );
    });
  });
});

describe('Function: verifyConsistency', () => {
  describe('when given the classic consistency table', () => {
    it.each(consistencyCases)('accepts the table proof for $title', (v) => {
      // Prepare
      const proof = v.proof.map(bytes);

      // Act
      const act = () => verifyConsistency(v.size1, v.size2, proof, bytes(v.root1), bytes(v.root2));

      // Assess
      expect(act).not.toThrow();
    });
  });

  // 6 -> 8 needs a seed hash (6 is not a power of two); 2 -> 5 starts from root1 itself.
  const bases = [
    { size1: 6, size2: 8, proof: consistencyProof(leafHashes, 6), root1: rootOf(6), root2: rootOf(8) },
    {
      size1: 2,
      size2: 5,
      proof: consistencyProof(leafHashes.slice(0, 5), 2),
      root1: rootOf(2),
      root2: rootOf(5),
    },
  ];
  const corruptions = bases.flatMap((base) => {
    const list: { name: string; code: ProofErrorCode; mutate: () => typeof base }[] = [
      {
        name: 'truncated-proof',
        code: 'WRONG_PROOF_SIZE',
        mutate: () => ({ ...base, proof: base.proof.slice(0, -1) }),
      },
      {
        name: 'extended-proof',
        code: 'WRONG_PROOF_SIZE',
        mutate: () => ({ ...base, proof: [...base.proof, base.root1] }),
      },
      {
        name: 'preceding-root1',
        code: 'WRONG_PROOF_SIZE',
        mutate: () => ({ ...base, proof: [base.root1, ...base.proof] }),
      },
      { name: 'empty-proof', code: 'WRONG_PROOF_SIZE', mutate: () => ({ ...base, proof: [] }) },
      {
        name: 'swapped-roots',
        code: 'ROOT_MISMATCH',
        mutate: () => ({ ...base, root1: base.root2, root2: base.root1 }),
      },
      {
        name: 'wrong-root1',
        code: 'ROOT_MISMATCH',
        mutate: () => ({ ...base, root1: rootOf(base.size1 - 1) }),
      },
      {
        name: 'wrong-root2',
        code: 'ROOT_MISMATCH',
        mutate: () => ({ ...base, root2: rootOf(base.size2 - 1) }),
      },
      {
        name: 'short-root1',
        code: 'BAD_HASH_LENGTH',
        mutate: () => ({ ...base, root1: base.root1.subarray(0, 31) }),
      },
      { name: 'long-root2', code: 'BAD_HASH_LENGTH', mutate: () => ({ ...base, root2: Buffer.alloc(33) }) },
      {
        name: 'empty-proof-element',
        code: 'BAD_HASH_LENGTH',
        mutate: () => ({ ...base, proof: [Buffer.alloc(0), ...base.proof.slice(1)] }),
      },
      { name: 'size1-zero', code: 'BAD_TREE_SIZE', mutate: () => ({ ...base, size1: 0 }) },
      { name: 'size1-negative', code: 'BAD_TREE_SIZE', mutate: () => ({ ...base, size1: -1 }) },
      {
        name: 'size1-greater-than-size2',
        code: 'BAD_TREE_SIZE',
        mutate: () => ({ ...base, size1: base.size2 + 1 }),
      },
      { name: 'size2-unsafe-integer', code: 'BAD_TREE_SIZE', mutate: () => ({ ...base, size2: 2 ** 64 }) },
      {
        name: 'wrong-size2 (doubled)',
        code: 'WRONG_PROOF_SIZE',
        mutate: () => ({ ...base, size2: base.size2 * 2 }),
      },
      {
        name: 'equal-sizes-with-proof',
        code: 'WRONG_PROOF_SIZE',
        mutate: () => ({ ...base, size1: base.size2, root1: base.root2 }),
      },
      ...base.proof.map((_, i) => ({
        name: `flipped-bit of proof[${i}]`,
        code: 'ROOT_MISMATCH' as const,
        mutate: () => ({ ...base, proof: base.proof.map((h, j) => (j === i ? flipBit(h, 37) : h)) }),
      })),
      {
        name: 'flipped-bit of root1',
        code: 'ROOT_MISMATCH',
        mutate: () => ({ ...base, root1: flipBit(base.root1, 0) }),
      },
      {
        name: 'flipped-bit of root2',
        code: 'ROOT_MISMATCH',
        mutate: () => ({ ...base, root2: flipBit(base.root2, 255) }),
      },
    ];
    return list.map((c) => ({ ...c, name: `${base.size1} to ${base.size2}, ${c.name}` }));
  });

  describe.each(corruptions)('when the proof is corrupted: $name', ({ code, mutate }) => {
    it(`throws ProofError ${code}`, () => {
      // Prepare
      const c = mutate();

      // Act
      const error = catchProofError(() => verifyConsistency(c.size1, c.size2, c.proof, c.root1, c.root2));

      // Assess
      expect(error.code).toBe(code);
    });
  });

  describe('when both sizes are equal and the roots differ', () => {
    it('throws ROOT_MISMATCH', () => {
      // Prepare
      const root1 = rootOf(8);
      const root2 = rootOf(7);

      // Act
      const error = catchProofError(() => verifyConsistency(8, 8, [], root1, root2));

      // Assess
      expect(error.code).toBe('ROOT_MISMATCH');
    });
  });

  describe('when both sizes are zero', () => {
    it('throws BAD_TREE_SIZE even with equal roots and an empty proof', () => {
      // Prepare
      const empty = rootOf(0);

      // Act
      const error = catchProofError(() => verifyConsistency(0, 0, [], empty, empty));

      // Assess
      expect(error.code).toBe('BAD_TREE_SIZE');
    });
  });

  describe('when root2 does not match but root1 does', () => {
    it('carries the expected and the computed root2 as evidence', () => {
      // Prepare
      const wrongRoot2 = rootOf(7);

      // Act
      const error = catchProofError(() =>
        verifyConsistency(6, 8, consistencyProof(leafHashes, 6), rootOf(6), wrongRoot2),
      );

      // Assess
      expect(error.code).toBe('ROOT_MISMATCH');
      expect(error.evidence).toEqual({
        expected: wrongRoot2.toString('hex'),
        computed: rootOf(8).toString('hex'),
      });
    });
  });
});

describe('Function: allInclusionProofs', () => {
  describe('when computed for trees of 1 to 70 leaves', () => {
    it('equals inclusionProof for every leaf', async () => {
      const { allInclusionProofs, inclusionProof } = await import('../../../shared/merkle/proof.ts');
      const { hashLeaf } = await import('../../../shared/merkle/rfc6962.ts');
      for (let n = 1; n <= 70; n++) {
        // Prepare
        const leaves = Array.from({ length: n }, (_, i) => hashLeaf(Buffer.from(`leaf-${i}`)));

        // Act
        const all = allInclusionProofs(leaves);

        // Assess
        for (let i = 0; i < n; i++) expect(all[i]).toEqual(inclusionProof(leaves, i));
      }
    });
  });
});

describe('Class: TreeLevels', () => {
  describe('Method: inclusionProof', () => {
    describe('when built for trees of 0 to 70 leaves', () => {
      it('gives the RFC root and the same audit path as inclusionProof for every leaf', async () => {
        const { TreeLevels } = await import('../../../shared/merkle/tree-levels.ts');
        const { inclusionProof } = await import('../../../shared/merkle/proof.ts');
        const { hashLeaf, rootFromLeafHashes } = await import('../../../shared/merkle/rfc6962.ts');
        for (let n = 0; n <= 70; n++) {
          // Prepare
          const leaves = Array.from({ length: n }, (_, i) => hashLeaf(Buffer.from(`leaf-${i}`)));

          // Act
          const tree = new TreeLevels(leaves);

          // Assess
          expect(tree.root()).toEqual(rootFromLeafHashes(leaves));
          for (let i = 0; i < n; i++) expect(tree.inclusionProof(i)).toEqual(inclusionProof(leaves, i));
          expect(() => tree.inclusionProof(n)).toThrow('outside');
        }
      });
    });

    describe('when built for sizes around powers of two (1, 2, 2^k - 1, 2^k, 2^k + 1 up to 2^13 + 1)', () => {
      it('gives, for the first, last and random leaves, the RFC path that verifies against the RFC root', async () => {
        const { TreeLevels } = await import('../../../shared/merkle/tree-levels.ts');
        const sizes = [
          1,
          2,
          ...Array.from({ length: 12 }, (_, k) => 2 ** (k + 2)).flatMap((p) => [p - 1, p, p + 1]),
        ];
        const largest = sizes[sizes.length - 1]!;
        const all = Array.from({ length: largest }, (_, i) => hashLeaf(Buffer.from(`leaf-${i}`)));
        for (const n of sizes) {
          // Prepare
          const leaves = all.slice(0, n);
          const root = rootFromLeafHashes(leaves);

          // Act
          const tree = new TreeLevels(leaves);

          // Assess: the odd last node of every level is on the last leaf's path.
          expect(tree.root()).toEqual(root);
          const picked = fc.sample(fc.integer({ min: 0, max: n - 1 }), { numRuns: 8, seed: n });
          for (const i of [0, n - 1, n >> 1, ...picked]) {
            const path = tree.inclusionProof(i);
            expect(toHex(path)).toEqual(toHex(inclusionProof(leaves, i)));
            expect(rootFromInclusionProof(i, n, leaves[i]!, path)).toEqual(root);
            verifyInclusion(i, n, leaves[i]!, path, root);
          }
        }
      });
    });

    describe('when the tree is wider than the levels that keep a view per node (4,096 nodes)', () => {
      it('gives paths that verify and equal allInclusionProofs, from kept and from fresh views', async () => {
        const { TreeLevels } = await import('../../../shared/merkle/tree-levels.ts');
        const { allInclusionProofs } = await import('../../../shared/merkle/proof.ts');
        const { hashLeaf, rootFromLeafHashes } = await import('../../../shared/merkle/rfc6962.ts');
        for (const n of [4096, 4097, 8193, 20_001]) {
          // Prepare
          const leaves = Array.from({ length: n }, (_, i) => hashLeaf(Buffer.from(`leaf-${i}`)));
          const expected = allInclusionProofs(leaves);
          const root = rootFromLeafHashes(leaves);

          // Act
          const tree = new TreeLevels(leaves);

          // Assess: every 97th leaf, the last one, and one leaf asked twice (kept views are shared).
          for (const i of [...Array.from({ length: Math.ceil(n / 97) }, (_, k) => k * 97), n - 1, 0]) {
            const path = tree.inclusionProof(i);
            expect(path).toEqual(expected[i]);
            verifyInclusion(i, n, leaves[i]!, path, root);
          }
        }
      });
    });
  });
});

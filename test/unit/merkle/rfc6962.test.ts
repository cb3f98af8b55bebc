import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  emptyRoot,
  HASH_SIZE,
  hashChildren,
  hashLeaf,
  rootFromLeafHashes,
  StreamingTree,
  sha256,
  splitPoint,
} from '../../../shared/merkle/rfc6962.ts';
import { bytes, rfc6962Vectors } from '../../support/rfc6962-vectors.ts';

const vectors = rfc6962Vectors;
const leaves = vectors.leaves_hex.map(bytes);
const leafHashes = vectors.leaf_hashes_hex.map(bytes);
const roots = Object.entries(vectors.roots_by_tree_size).map(([size, root]) => ({
  size: Number(size),
  root,
}));
/** SHA-256 straight from node:crypto, independent of the code under test. */
const referenceSha256 = (...parts: Uint8Array[]): string => {
  const digest = createHash('sha256');
  for (const part of parts) digest.update(part);
  return digest.digest('hex');
};
const nodes = vectors.node_hashes_by_level.levels.flatMap((level, height) =>
  level.map((want, index) => ({ height, index, want })),
);

describe('Function: sha256', () => {
  describe('when hashing the empty string', () => {
    it('returns the FIPS 180-4 digest of no bytes', () => {
      // Prepare
      const input = new Uint8Array(0);

      // Act
      const digest = sha256(input);

      // Assess
      expect(digest.toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    });
  });

  describe('when hashing "abc"', () => {
    it('returns the FIPS 180-4 example digest', () => {
      // Prepare
      const input = Buffer.from('abc');

      // Act
      const digest = sha256(input);

      // Assess
      expect(digest.toString('hex')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    });
  });
});

describe('Function: emptyRoot', () => {
  describe('when the tree has no leaves', () => {
    it('matches the RFC 6962 empty-tree vector', () => {
      // Prepare
      const vector = vectors.hasher_vectors.find((v) => v.op === 'emptyRoot')!;

      // Act
      const root = emptyRoot();

      // Assess
      expect(root.toString('hex')).toBe(vector.want);
      expect(root.toString('hex')).toBe(vectors.roots_by_tree_size['0']);
    });
  });
});

describe('Function: hashLeaf', () => {
  describe('when given the RFC 6962 hasher vectors', () => {
    const cases = vectors.hasher_vectors.flatMap((v) => (v.op === 'hashLeaf' ? [v] : []));

    it.each(cases)('hashes $desc to $want', ({ leaf_hex, want }) => {
      // Prepare
      const data = bytes(leaf_hex);

      // Act
      const hash = hashLeaf(data);

      // Assess
      expect(hash.toString('hex')).toBe(want);
    });
  });

  describe('when given the 8 leaves of the reference tree', () => {
    it.each(leaves.map((leaf, index) => ({ index, leaf, want: vectors.leaf_hashes_hex[index]! })))(
      'hashes leaf $index to its table hash',
      ({ leaf, want }) => {
        // Prepare
        const data = Uint8Array.from(leaf);

        // Act
        const hash = hashLeaf(data);

        // Assess
        expect(hash.toString('hex')).toBe(want);
      },
    );
  });

  describe('when the data is itself 32 bytes', () => {
    it('differs from the same bytes used as a node, which is the point of domain separation', () => {
      // Prepare
      const data = bytes(vectors.leaf_hashes_hex[0]!);

      // Act
      const asLeaf = hashLeaf(data);

      // Assess
      expect(asLeaf.equals(sha256(data))).toBe(false);
      expect(asLeaf.equals(sha256(Buffer.concat([Buffer.from([0x00]), data])))).toBe(true);
    });
  });
  describe('when a short leaf follows a longer one', () => {
    it('hashes only the short leaf, not bytes left over from the longer one', () => {
      // Prepare
      hashLeaf(Buffer.alloc(100, 0xaa));
      const data = Buffer.from('short');

      // Act
      const hash = hashLeaf(data);

      // Assess
      expect(hash.toString('hex')).toBe(referenceSha256(Buffer.from([0x00]), data));
    });
  });

  describe('when the leaf is larger than 64 KiB', () => {
    it('still equals SHA-256(0x00 || data)', () => {
      // Prepare
      const data = Buffer.alloc(70_000, 0x5a);

      // Act
      const hash = hashLeaf(data);

      // Assess
      expect(hash.toString('hex')).toBe(referenceSha256(Buffer.from([0x00]), data));
    });
  });

  describe('when the returned hash is kept across later calls', () => {
    it('is not overwritten by them', () => {
      // Prepare
      const first = hashLeaf(Buffer.from('first'));
      const snapshot = Buffer.from(first);

      // Act
      hashLeaf(Buffer.from('second'));

      // Assess
      expect(first.equals(snapshot)).toBe(true);
    });
  });
});

describe('Function: hashChildren', () => {
  describe('when given the RFC 6962 node vector with 4-byte children', () => {
    const cases = vectors.hasher_vectors.flatMap((v) => (v.op === 'hashChildren' ? [v] : []));

    it.each(cases)('hashes $desc to $want', ({ left_hex, right_hex, want }) => {
      // Prepare
      const left = bytes(left_hex);
      const right = bytes(right_hex);

      // Act
      const hash = hashChildren(left, right);

      // Assess
      expect(hash.toString('hex')).toBe(want);
    });
  });

  describe('when a short input follows a call with 32-byte inputs', () => {
    it('hashes only the given bytes, not bytes left over from the previous call', () => {
      // Prepare
      hashChildren(bytes(vectors.leaf_hashes_hex[0]!), bytes(vectors.leaf_hashes_hex[1]!));
      const left = Buffer.from('N123');
      const right = Buffer.from('N456');

      // Act
      const hash = hashChildren(left, right);

      // Assess
      expect(hash.equals(sha256(Buffer.concat([Buffer.from([0x01]), left, right])))).toBe(true);
    });
  });

  describe('when both children are 32-byte hashes', () => {
    it('equals SHA-256(0x01 || left || right) and leaves its inputs untouched', () => {
      // Prepare
      const left = bytes(vectors.leaf_hashes_hex[0]!);
      const right = bytes(vectors.leaf_hashes_hex[1]!);
      const before = Buffer.concat([left, right]);

      // Act
      const hash = hashChildren(left, right);

      // Assess
      expect(hash.toString('hex')).toBe(vectors.node_hashes_by_level.levels[1]![0]);
      expect(Buffer.concat([left, right]).equals(before)).toBe(true);
    });
  });

  describe('when the result of one call is kept across later calls', () => {
    it('is not overwritten by them', () => {
      // Prepare
      const first = hashChildren(bytes(vectors.leaf_hashes_hex[0]!), bytes(vectors.leaf_hashes_hex[1]!));
      const snapshot = Buffer.from(first);

      // Act
      hashChildren(bytes(vectors.leaf_hashes_hex[2]!), bytes(vectors.leaf_hashes_hex[3]!));

      // Assess
      expect(first.equals(snapshot)).toBe(true);
    });
  });
});

describe('Function: splitPoint', () => {
  describe('when n is at least 2', () => {
    it.each([
      [2, 1],
      [3, 2],
      [4, 2],
      [5, 4],
      [7, 4],
      [8, 4],
      [9, 8],
      [1024, 512],
      [1025, 1024],
    ])('returns the largest power of two below %i: %i', (n, want) => {
      // Prepare
      const size = n;

      // Act
      const k = splitPoint(size);

      // Assess
      expect(k).toBe(want);
    });
  });
});

describe('Function: rootFromLeafHashes', () => {
  describe('when given every prefix of the reference tree', () => {
    it.each(roots)('returns the table root for size $size', ({ size, root }) => {
      // Prepare
      const prefix = leafHashes.slice(0, size);

      // Act
      const computed = rootFromLeafHashes(prefix);

      // Assess
      expect(computed.toString('hex')).toBe(root);
    });
  });

  describe('when given each complete subtree of the reference tree', () => {
    it.each(nodes)('returns the table node at height $height, index $index', ({ height, index, want }) => {
      // Prepare
      const width = 2 ** height;
      const subtree = leafHashes.slice(index * width, (index + 1) * width);

      // Act
      const computed = rootFromLeafHashes(subtree);

      // Assess
      expect(computed.toString('hex')).toBe(want);
    });
  });

  describe('when the "leaf hashes" are not 32 bytes long', () => {
    it('still follows the RFC definition: MTH of 3 = H(0x01 || H(0x01 || a || b) || c)', () => {
      // Prepare
      const [a, b, c] = [Buffer.from('a'), Buffer.from('bb'), Buffer.from('ccc')];
      const ab = Buffer.from(referenceSha256(Buffer.from([0x01]), a, b), 'hex');

      // Act
      const root = rootFromLeafHashes([a, b, c]);

      // Assess
      expect(root.toString('hex')).toBe(referenceSha256(Buffer.from([0x01]), ab, c));
    });
  });

  describe('when the tree has a single leaf', () => {
    it('returns a copy, so the caller cannot alter the leaf through the root', () => {
      // Prepare
      const leaf = bytes(vectors.leaf_hashes_hex[3]!);

      // Act
      const root = rootFromLeafHashes([leaf]);
      root[0] = root[0]! ^ 0xff;

      // Assess
      expect(leaf.toString('hex')).toBe(vectors.leaf_hashes_hex[3]);
    });
  });
});

describe('Class: StreamingTree', () => {
  describe('Method: appendLeaf', () => {
    describe('when the 8 reference leaves are appended one by one', () => {
      it('returns each table leaf hash and yields the table root after every append', () => {
        // Prepare
        const tree = new StreamingTree();
        const seenRoots: string[] = [tree.root().toString('hex')];
        const returned: string[] = [];

        // Act
        for (const leaf of leaves) {
          returned.push(tree.appendLeaf(leaf).toString('hex'));
          seenRoots.push(tree.root().toString('hex'));
        }

        // Assess
        expect(returned).toEqual(vectors.leaf_hashes_hex);
        expect(seenRoots).toEqual(roots.map((r) => r.root));
        expect(tree.size).toBe(8);
      });
    });
  });

  describe('Method: appendLeafHash', () => {
    describe('when the 8 reference leaf hashes are appended', () => {
      it.each(roots)('yields the table root at size $size', ({ size, root }) => {
        // Prepare
        const tree = new StreamingTree();

        // Act
        for (const leafHash of leafHashes.slice(0, size)) tree.appendLeafHash(leafHash);

        // Assess
        expect(tree.size).toBe(size);
        expect(tree.root().toString('hex')).toBe(root);
      });
    });
  });

  describe('Method: appendSubtree', () => {
    describe('when two aligned 4-leaf subtree roots are appended', () => {
      it('yields the root of the 8-leaf tree', () => {
        // Prepare
        const tree = new StreamingTree();
        const [left, right] = vectors.node_hashes_by_level.levels[2]!;

        // Act
        tree.appendSubtree(bytes(left!), 2);
        tree.appendSubtree(bytes(right!), 2);

        // Assess
        expect(tree.size).toBe(8);
        expect(tree.root().toString('hex')).toBe(vectors.roots_by_tree_size['8']);
      });
    });

    describe('when subtrees of decreasing height follow each other (4 + 2 + 1 leaves)', () => {
      it('yields the root of the 7-leaf tree', () => {
        // Prepare
        const tree = new StreamingTree();
        const levels = vectors.node_hashes_by_level.levels;

        // Act
        tree.appendSubtree(bytes(levels[2]![0]!), 2);
        tree.appendSubtree(bytes(levels[1]![2]!), 1);
        tree.appendLeafHash(leafHashes[6]!);

        // Assess
        expect(tree.size).toBe(7);
        expect(tree.root().toString('hex')).toBe(vectors.roots_by_tree_size['7']);
      });
    });

    describe('when the subtree is not aligned with the current size', () => {
      it('throws a RangeError and leaves the tree unchanged', () => {
        // Prepare
        const tree = new StreamingTree();
        tree.appendLeafHash(leafHashes[0]!);
        const rootBefore = tree.root();

        // Act
        const act = () => tree.appendSubtree(bytes(vectors.node_hashes_by_level.levels[1]![1]!), 1);

        // Assess
        expect(act).toThrow(RangeError);
        expect(tree.size).toBe(1);
        expect(tree.root().equals(rootBefore)).toBe(true);
      });
    });

    describe.each([
      ['negative', -1],
      ['fractional', 0.5],
      ['not a number', Number.NaN],
      ['too large for a safe size', 53],
    ])('when the height is %s', (_label, height) => {
      it('throws a RangeError and leaves the size unchanged', () => {
        // Prepare
        const tree = new StreamingTree();
        tree.appendLeafHash(leafHashes[0]!);

        // Act
        const act = () => tree.appendSubtree(leafHashes[1]!, height);

        // Assess
        expect(act).toThrow(RangeError);
        expect(tree.size).toBe(1);
      });
    });
  });

  describe('Method: root', () => {
    describe('when nothing was appended', () => {
      it('returns the empty-tree root', () => {
        // Prepare
        const tree = new StreamingTree();

        // Act
        const root = tree.root();

        // Assess
        expect(root.toString('hex')).toBe(vectors.roots_by_tree_size['0']);
        expect(tree.size).toBe(0);
      });
    });

    describe('when the returned root is modified by the caller', () => {
      it('does not change the tree', () => {
        // Prepare
        const tree = new StreamingTree();
        tree.appendLeafHash(leafHashes[0]!);

        // Act
        const root = tree.root();
        root.fill(0);

        // Assess
        expect(tree.root().toString('hex')).toBe(vectors.roots_by_tree_size['1']);
        expect(root.length).toBe(HASH_SIZE);
      });
    });
  });
});

/**
 * Our RFC 6962 Merkle code against merkletreejs 0.6.0 configured for RFC 6962, on the same leaf hashes.
 *
 * Configuration. merkletreejs's default shape pairs nodes left to right and promotes an odd last node
 * unhashed to the next layer; that is exactly the RFC's largest-power-of-two split. What the RFC adds is
 * domain separation: leaves are given already hashed as SHA-256(0x00 || data) (our `hashLeaf`, with
 * `hashLeaves: false`), and interior nodes get the 0x01 prefix through `concatenator`, so that its
 * `hashFn` computes SHA-256(0x01 || left || right). `duplicateOdd`, `isBitcoinTree`, `complete` and
 * `fillDefaultHash` build other trees, and `sortPairs`/`sortLeaves` lose the order; all stay off. The
 * configuration is checked against our roots and audit paths before anything is timed.
 *
 * Both sides use the same SHA-256 primitive (one-shot `crypto.hash`); merkletreejs needs a Buffer back.
 */
import { hash } from 'node:crypto';
import { MerkleTree } from 'merkletreejs';
import { inclusionProof, verifyInclusion } from '../shared/merkle/proof.ts';
import { hashLeaf, rootFromLeafHashes } from '../shared/merkle/rfc6962.ts';
import { TreeLevels } from '../shared/merkle/tree-levels.ts';
import { prng } from './synthetic-events.ts';

const NODE_PREFIX = Buffer.from([0x01]);

/** A SHA-256 that merkletreejs can use as its hashFn: it must return a Buffer. */
export type PeerHash = (data: Buffer) => Buffer;

/**
 * The peer's hash functions. `plain` is the configuration of our cross-check test
 * (test/unit/merkle/properties.test.ts): one-shot `crypto.hash` returning a Buffer, which is how one would
 * normally write it. `pooled` hands the peer the same cheaper-result trick our code uses (the digest as a
 * 'binary' string copied into Buffer's pool), to show how much of the gap is only that.
 */
export const PEER_HASHES: Record<'plain' | 'pooled', PeerHash> = {
  plain: (data) => hash('sha256', data, 'buffer'),
  pooled: (data) => Buffer.from(hash('sha256', data, 'binary'), 'binary'),
};

/** merkletreejs over RFC 6962 leaf hashes, producing RFC 6962 roots and audit paths. */
export function rfc6962MerkleTree(
  leafHashes: readonly Buffer[],
  hashFn: PeerHash = PEER_HASHES.plain,
): MerkleTree {
  return new MerkleTree([...leafHashes], hashFn, {
    concatenator: (parts: Buffer[]) => Buffer.concat([NODE_PREFIX, ...parts]),
  });
}

/** Leaf hashes of `n` distinct small leaves. */
export function benchLeaves(n: number): Buffer[] {
  return Array.from({ length: n }, (_, i) => hashLeaf(Buffer.from(`leaf-${i}`)));
}

export interface ConfigurationCheck {
  readonly sizes: number;
  readonly proofs: number;
  /** For each rejected option, the first tree size at which its root differs from RFC 6962. */
  readonly rejected: Record<string, number | null>;
}

/**
 * Proves the configuration on every tree size 1..maxSize (roots) and on every leaf of several sizes
 * (audit paths, element by element). Throws on the first difference: timing a different tree is meaningless.
 */
export function checkConfiguration(maxSize = 300): ConfigurationCheck {
  const leaves = benchLeaves(maxSize);
  let proofs = 0;
  for (let n = 1; n <= maxSize; n++) {
    const slice = leaves.slice(0, n);
    const ours = rootFromLeafHashes(slice);
    const tree = rfc6962MerkleTree(slice);
    if (
      !tree.getRoot().equals(ours) ||
      !rfc6962MerkleTree(slice, PEER_HASHES.pooled).getRoot().equals(ours)
    ) {
      throw new Error(`merkletreejs root differs from RFC 6962 at size ${n}: configuration is wrong`);
    }
    if (n <= 20 || n % 37 === 0 || n === maxSize) {
      for (let i = 0; i < n; i++) {
        const theirs = tree.getProof(slice[i]!, i).map((step) => step.data);
        const path = inclusionProof(slice, i);
        if (theirs.length !== path.length || theirs.some((h, j) => !h.equals(path[j]!))) {
          throw new Error(`merkletreejs audit path differs at size ${n}, leaf ${i}: configuration is wrong`);
        }
        if (!tree.verify(tree.getProof(slice[i]!, i), slice[i]!, ours)) {
          throw new Error(`merkletreejs does not verify its own proof at size ${n}, leaf ${i}`);
        }
        proofs++;
      }
    }
  }
  // Documented, not used: the options that look relevant but give other trees.
  const options = {
    duplicateOdd: { duplicateOdd: true },
    complete: { complete: true },
    fillDefaultHash: { fillDefaultHash: Buffer.alloc(32) },
  } as const;
  const rejected: Record<string, number | null> = {};
  for (const [name, extra] of Object.entries(options)) {
    rejected[name] = null;
    for (let n = 1; n <= maxSize; n++) {
      const slice = leaves.slice(0, n);
      const tree = new MerkleTree([...slice], PEER_HASHES.plain, {
        concatenator: (parts: Buffer[]) => Buffer.concat([NODE_PREFIX, ...parts]),
        ...extra,
      });
      if (!tree.getRoot().equals(rootFromLeafHashes(slice))) {
        rejected[name] = n;
        break;
      }
    }
  }
  return { sizes: maxSize, proofs, rejected };
}

function collect(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Seconds of wall-clock time and of process CPU time (user + system) for one run. */
export interface Timing {
  wall: number;
  cpu: number;
}

const NEVER: Timing = { wall: Number.POSITIVE_INFINITY, cpu: Number.POSITIVE_INFINITY };

function timed(run: () => void): Timing {
  collect();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  run();
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return { wall, cpu: (cpu.user + cpu.system) / 1e6 };
}

/** Best of each clock separately: other load only ever adds time. */
function best(a: Timing, b: Timing): Timing {
  return { wall: Math.min(a.wall, b.wall), cpu: Math.min(a.cpu, b.cpu) };
}

function scale(t: Timing, factor: number): Timing {
  return { wall: t.wall * factor, cpu: t.cpu * factor };
}

function plus(a: Timing, b: Timing): Timing {
  return { wall: a.wall + b.wall, cpu: a.cpu + b.cpu };
}

/** Timings of one peer configuration. */
export interface PeerFigures {
  readonly root: Timing;
  readonly build: Timing;
  /** getProof(leaf, index) + verify, per proof, on a built tree. */
  readonly proof: Timing;
  /** Build once, then all the proofs: the same starting point as ours (leaf hashes and root). */
  readonly proofsWithBuild: Timing;
}

export interface MerkleFigures {
  readonly leaves: number;
  readonly reps: number;
  readonly proofs: number;
  readonly oursRoot: Timing;
  readonly oursProofsTimed: number;
  /** inclusionProof + verifyInclusion, per proof, including a share of the TreeLevels build. */
  readonly oursProof: Timing;
  /** tree.inclusionProof + verifyInclusion, per proof, on a TreeLevels already built (like `proof` of a peer). */
  readonly oursProofBuilt: Timing;
  readonly oursProofs: Timing;
  readonly peers: Record<keyof typeof PEER_HASHES, PeerFigures>;
}

/**
 * Times, on the same leaf hashes (best of `reps`, interleaved):
 *   - root: our rootFromLeafHashes vs constructing a merkletreejs tree, which is how it computes a root;
 *   - proofs: for `proofs` random indices, generating the audit path and verifying it against the root.
 *     Ours is inclusionProof + verifyInclusion from the leaf hashes. Theirs is getProof(leaf, index) +
 *     verify on a tree built once; its build is counted once for the whole batch.
 * Ours builds a TreeLevels once and reads each audit path from it, the same work as theirs; by default
 * all `proofs` indices are timed (`oursProofs` below `proofs` times a prefix and scales it).
 */
export function compareMerkle(n: number, proofs: number, oursProofs: number, reps: number): MerkleFigures {
  const leaves = benchLeaves(n);
  const rand = prng(6962);
  const indices = Array.from({ length: proofs }, () => Math.floor(rand() * n));
  const root = rootFromLeafHashes(leaves);

  let oursRoot = NEVER;
  const peerRoot = { plain: NEVER, pooled: NEVER };
  const peerBuild = { plain: NEVER, pooled: NEVER };
  const peerProofs = { plain: NEVER, pooled: NEVER };
  for (let rep = 0; rep < reps; rep++) {
    let got: Buffer | undefined;
    oursRoot = best(
      oursRoot,
      timed(() => {
        got = rootFromLeafHashes(leaves);
      }),
    );
    if (!got?.equals(root)) throw new Error('our root changed between runs');
    for (const name of ['plain', 'pooled'] as const) {
      const fn = PEER_HASHES[name];
      peerRoot[name] = best(
        peerRoot[name],
        timed(() => {
          got = rfc6962MerkleTree(leaves, fn).getRoot();
        }),
      );
      if (!got?.equals(root))
        throw new Error(`merkletreejs (${name}) root differs from ours on the timed tree`);
      let tree: MerkleTree | undefined;
      peerBuild[name] = best(
        peerBuild[name],
        timed(() => {
          tree = rfc6962MerkleTree(leaves, fn);
        }),
      );
      const built = tree!;
      const proofsTiming = timed(() => {
        for (const i of indices) {
          if (!built.verify(built.getProof(leaves[i]!, i), leaves[i]!, root)) {
            throw new Error(`merkletreejs proof of leaf ${i} does not verify`);
          }
        }
      });
      peerProofs[name] = best(peerProofs[name], proofsTiming);
    }
  }

  // Ours, like theirs: build the tree once (TreeLevels), then generate and verify every audit path.
  const timedOurs = indices.slice(0, Math.min(oursProofs, proofs));
  let oursTotal = NEVER;
  for (let rep = 0; rep < reps; rep++) {
    oursTotal = best(
      oursTotal,
      timed(() => {
        const tree = new TreeLevels(leaves);
        for (const i of timedOurs) verifyInclusion(i, n, leaves[i]!, tree.inclusionProof(i), root);
      }),
    );
  }
  const oursProof = scale(oursTotal, 1 / timedOurs.length);
  // Per proof on a tree already built: the same starting point as the peer's `proof` figure.
  const built = new TreeLevels(leaves);
  let oursBuilt = NEVER;
  for (let rep = 0; rep < reps; rep++) {
    oursBuilt = best(
      oursBuilt,
      timed(() => {
        // verifyInclusion throws when a proof does not verify.
        for (const i of indices) verifyInclusion(i, n, leaves[i]!, built.inclusionProof(i), root);
      }),
    );
  }

  const peer = (name: keyof typeof PEER_HASHES): PeerFigures => ({
    root: peerRoot[name],
    build: peerBuild[name],
    proof: scale(peerProofs[name], 1 / proofs),
    proofsWithBuild: plus(peerBuild[name], peerProofs[name]),
  });
  return {
    leaves: n,
    reps,
    proofs,
    oursRoot,
    oursProofsTimed: timedOurs.length,
    oursProof,
    oursProofBuilt: scale(oursBuilt, 1 / indices.length),
    oursProofs: scale(oursProof, proofs),
    peers: { plain: peer('plain'), pooled: peer('pooled') },
  };
}

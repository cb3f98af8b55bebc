/**
 * RFC 9162 §2.1.3 (inclusion) and §2.1.4 (consistency) proofs: generation and verification.
 * https://www.rfc-editor.org/rfc/rfc9162#section-2.1.3
 *
 * Verification follows transparency-dev/merkle `proof/verify.go`: every size, index, hash length and
 * proof length is checked before any hashing, so an attacker-controlled proof is rejected early and
 * with a precise reason.
 */
import { sha256Binary } from '../platform/crypto.ts';
import { ProofError } from './errors.ts';
import { HASH_SIZE, hashChildren, rootFromLeafHashes, splitPoint, writeDigest } from './rfc6962.ts';

/** Reads the leaf hash at an index; lets proofs be built without holding the whole tree. */
export type LeafHashSource = readonly Uint8Array[];

/** Inclusion proof (audit path) of leaf `index` in the tree of the given leaf hashes. RFC 6962 §2.1.1 PATH. */
export function inclusionProof(leafHashes: LeafHashSource, index: number): Buffer[] {
  if (!Number.isSafeInteger(index) || index < 0 || index >= leafHashes.length) {
    throw new ProofError('INDEX_OUT_OF_RANGE', `leaf ${index} is outside a tree of ${leafHashes.length}`);
  }
  const path: Buffer[] = [];
  collectPath(leafHashes, index, 0, leafHashes.length, path);
  return path;
}

function collectPath(leaves: LeafHashSource, m: number, start: number, end: number, out: Buffer[]): void {
  const n = end - start;
  if (n <= 1) return;
  const k = splitPoint(n);
  if (m < k) {
    collectPath(leaves, m, start, start + k, out);
    out.push(rootFromLeafHashes(leaves.slice(start + k, end)));
  } else {
    collectPath(leaves, m - k, start + k, end, out);
    out.push(rootFromLeafHashes(leaves.slice(start, start + k)));
  }
}

/**
 * Inclusion proofs of every leaf at once, in O(n log n): each subtree root is computed once and pushed
 * onto the paths of the leaves on its other side. Equal to `inclusionProof(leafHashes, i)` for every i.
 */
export function allInclusionProofs(leafHashes: LeafHashSource): Buffer[][] {
  const proofs: Buffer[][] = leafHashes.map(() => []);
  const build = (start: number, end: number): Buffer => {
    if (end - start === 1) return Buffer.from(leafHashes[start]!);
    const k = splitPoint(end - start);
    const left = build(start, start + k);
    const right = build(start + k, end);
    for (let i = start; i < start + k; i++) proofs[i]!.push(right);
    for (let i = start + k; i < end; i++) proofs[i]!.push(left);
    return hashChildren(left, right);
  };
  if (leafHashes.length > 0) build(0, leafHashes.length);
  return proofs;
}

/** Consistency proof between the first `size1` leaves and the whole tree. RFC 6962 §2.1.2 PROOF. */
export function consistencyProof(leafHashes: LeafHashSource, size1: number): Buffer[] {
  const size2 = leafHashes.length;
  if (!Number.isSafeInteger(size1) || size1 < 0 || size1 > size2) {
    throw new ProofError('BAD_TREE_SIZE', `size ${size1} is outside a tree of ${size2}`);
  }
  if (size1 === 0 || size1 === size2) return [];
  const out: Buffer[] = [];
  collectSubproof(leafHashes, size1, 0, size2, true, out);
  return out;
}

function collectSubproof(
  leaves: LeafHashSource,
  m: number,
  start: number,
  end: number,
  complete: boolean,
  out: Buffer[],
): void {
  const n = end - start;
  if (m === n) {
    if (!complete) out.push(rootFromLeafHashes(leaves.slice(start, end)));
    return;
  }
  const k = splitPoint(n);
  if (m <= k) {
    collectSubproof(leaves, m, start, start + k, complete, out);
    out.push(rootFromLeafHashes(leaves.slice(start + k, end)));
  } else {
    collectSubproof(leaves, m - k, start + k, end, false, out);
    out.push(rootFromLeafHashes(leaves.slice(start, start + k)));
  }
}

function checkHash(hash: Uint8Array, what: string): void {
  if (hash.length !== SIZE) {
    throw new ProofError('BAD_HASH_LENGTH', `${what} is ${hash.length} bytes, expected ${HASH_SIZE}`);
  }
}

function checkSize(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ProofError('BAD_TREE_SIZE', `${what} ${value} is not a non-negative safe integer`);
  }
  return value;
}

// Bit arithmetic on safe integers (< 2^53) without BigInt: JavaScript's bitwise operators are 32-bit,
// so values are split into a high and a low 32-bit half where needed.
const TWO_32 = 2 ** 32;

function bit(x: number, i: number): number {
  return x < TWO_32 && i < 32 ? (x >>> i) & 1 : Math.floor(x / 2 ** i) % 2;
}

function shiftRight(x: number, n: number): number {
  return Math.floor(x / 2 ** n);
}

function xor(a: number, b: number): number {
  const hi = (Math.floor(a / TWO_32) ^ Math.floor(b / TWO_32)) >>> 0;
  const lo = ((a >>> 0) ^ (b >>> 0)) >>> 0;
  return hi * TWO_32 + lo;
}

function bitLength(x: number): number {
  if (x < TWO_32) return 32 - Math.clz32(x);
  let n = 0;
  for (let v = x; v > 0; v = Math.floor(v / 2)) n++;
  return n;
}

function popCount(x: number): number {
  if (x < TWO_32) {
    let v = x >>> 0;
    let c = 0;
    for (; v !== 0; v &= v - 1) c++;
    return c;
  }
  let c = 0;
  for (let v = x; v > 0; v = Math.floor(v / 2)) c += v % 2;
  return c;
}

function trailingZeros(x: number): number {
  let c = 0;
  for (let v = x; v > 0 && v % 2 === 0; v /= 2) c++;
  return c;
}

/** Splits an inclusion proof length into its inner part (below the split) and border part (right edge). */
function decompose(index: number, size: number): { inner: number; border: number } {
  if (size <= TWO_32) {
    // Both values fit 32 bits: index < size, so index XOR (size − 1) < 2^32, and inner ≤ 32.
    const inner = 32 - Math.clz32((index ^ (size - 1)) >>> 0);
    return { inner, border: inner === 32 ? 0 : popCount(index >>> inner) };
  }
  const inner = bitLength(xor(index, size - 1));
  const border = popCount(shiftRight(index, inner));
  return { inner, border };
}

function chainInnerRight(seed: Buffer, proof: readonly Uint8Array[], index: number): Buffer {
  let acc = seed;
  for (const [i, h] of proof.entries()) {
    if (bit(index, i) === 1) acc = hashChildren(h, acc);
  }
  return acc;
}

function chainBorderRight(seed: Buffer, proof: readonly Uint8Array[]): Buffer {
  let acc = seed;
  for (const h of proof) acc = hashChildren(h, acc);
  return acc;
}

// An inclusion proof's root is computed in one reused node buffer `0x01 || left || right`: each level's
// digest is written straight into the half where the next level needs it, so a proof of any depth
// allocates nothing but its result (one one-shot SHA-256 per level; see `hashChildren` in rfc6962.ts).
const pathNode = Buffer.alloc(1 + 2 * HASH_SIZE);
// The hot loop reads module-local copies: under a CommonJS transform (tsx, which the benchmarks and
// tests run) every read of an imported binding is a getter call, which costs about as much per level as
// copying a hash. A bundle (esbuild) reads them directly either way.
const digestBinary = sha256Binary;
const SIZE = HASH_SIZE;
pathNode[0] = 0x01;
const LEFT = 1;
const RIGHT = 1 + HASH_SIZE;

/**
 * The root implied by `leafHash` at `index` and its path: the `inner` hashes below the split point
 * (sibling left or right by the index's bits), then the border hashes, each to the left.
 */
function chainPath(leafHash: Uint8Array, proof: readonly Uint8Array[], inner: number, index: number): Buffer {
  if (proof.length === 0) return Buffer.from(leafHash);
  if (index < TWO_32 && inner <= 32) {
    return Buffer.from(chainPath32(leafHash, proof, inner, index >>> 0), 'latin1');
  }
  // Where the running hash goes for level i: left when bit i of the index is 0 among the inner levels.
  let at = inner > 0 && bit(index, 0) === 0 ? LEFT : RIGHT;
  pathNode.set(leafHash, at);
  for (let i = 0; i < proof.length; i++) {
    pathNode.set(proof[i]!, at === LEFT ? RIGHT : LEFT);
    const digest = sha256Binary(pathNode);
    if (i + 1 === proof.length) return Buffer.from(digest, 'latin1');
    at = i + 1 < inner && bit(index, i + 1) === 0 ? LEFT : RIGHT;
    writeDigest(pathNode, at, digest);
  }
  throw new Error('unreachable');
}

/**
 * `chainPath` for an index below 2^32 and at most 32 inner levels (every tree of up to 2^32 leaves): the
 * same steps, with the index's bits read by 32-bit shifts, which only ever shift by less than 32 here
 * because bit i is read for i < inner only. Returns the root as a 32-char 'binary' string (one char per
 * byte): a verifier compares it with the expected root without making a Buffer of it.
 */
function chainPath32(
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  inner: number,
  index: number,
): string {
  const last = proof.length - 1;
  let at = inner > 0 && (index & 1) === 0 ? LEFT : RIGHT;
  pathNode.set(leafHash, at);
  for (let i = 0; i < last; i++) {
    pathNode.set(proof[i]!, at === LEFT ? RIGHT : LEFT);
    const digest = digestBinary(pathNode);
    at = i + 1 < inner && ((index >>> (i + 1)) & 1) === 0 ? LEFT : RIGHT;
    for (let j = 0; j < SIZE; j++) pathNode[at + j] = digest.charCodeAt(j);
  }
  pathNode.set(proof[last]!, at === LEFT ? RIGHT : LEFT);
  return digestBinary(pathNode);
}

/**
 * Checks an inclusion proof's shape (index, size, hash lengths, proof length: all before any hashing)
 * and returns the root it implies as a 32-char 'binary' string. The checks build no message unless one
 * fails: this runs once per proof, and a template string per path hash cost a tenth of a proof.
 */
function inclusionRootBinary(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
): string {
  const n = checkSize(size, 'tree size');
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new ProofError('INDEX_OUT_OF_RANGE', `leaf index ${index} is not a non-negative safe integer`);
  }
  if (index >= n) throw new ProofError('INDEX_OUT_OF_RANGE', `leaf ${index} is outside a tree of ${size}`);
  if (leafHash.length !== SIZE) checkHash(leafHash, 'leaf hash');
  const { inner, border } = decompose(index, n);
  if (proof.length !== inner + border) {
    throw new ProofError('WRONG_PROOF_SIZE', `proof has ${proof.length} hashes, expected ${inner + border}`);
  }
  for (let i = 0; i < proof.length; i++) if (proof[i]!.length !== SIZE) checkHash(proof[i]!, `proof[${i}]`);
  if (proof.length === 0) return Buffer.from(leafHash).toString('latin1');
  if (index < TWO_32 && inner <= 32) return chainPath32(leafHash, proof, inner, index >>> 0);
  return chainPath(leafHash, proof, inner, index).toString('latin1');
}

/** True when the 32-char 'binary' digest holds exactly the bytes of `hash` (32 bytes, checked before). */
function digestEquals(digest: string, hash: Uint8Array): boolean {
  let diff = 0;
  for (let j = 0; j < SIZE; j++) diff |= digest.charCodeAt(j) ^ hash[j]!;
  return diff === 0;
}

/** Root implied by a leaf hash and its audit path. Throws ProofError on any structural defect. */
export function rootFromInclusionProof(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
): Buffer {
  return Buffer.from(inclusionRootBinary(index, size, leafHash, proof), 'latin1');
}

/** Verifies that `leafHash` is leaf `index` of the tree of `size` leaves with this root. Throws on failure. */
export function verifyInclusion(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  checkHash(root, 'root');
  const computed = inclusionRootBinary(index, size, leafHash, proof);
  if (!digestEquals(computed, root)) {
    throw new ProofError('ROOT_MISMATCH', 'inclusion proof does not lead to the root', {
      expected: Buffer.from(root).toString('hex'),
      computed: Buffer.from(computed, 'latin1').toString('hex'),
    });
  }
}

/** Verifies that the tree of `size1` leaves with `root1` is a prefix of the tree of `size2` with `root2`. */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): void {
  const n1 = checkSize(size1, 'size1');
  const n2 = checkSize(size2, 'size2');
  checkHash(root1, 'root1');
  checkHash(root2, 'root2');
  if (n2 < n1) throw new ProofError('BAD_TREE_SIZE', `size2 ${size2} is smaller than size1 ${size1}`);
  if (n1 === 0) throw new ProofError('BAD_TREE_SIZE', 'a consistency proof needs size1 > 0');
  if (n1 === n2) {
    if (proof.length > 0) throw new ProofError('WRONG_PROOF_SIZE', 'equal sizes need an empty proof');
    if (!Buffer.from(root1).equals(root2)) {
      throw new ProofError('ROOT_MISMATCH', 'equal sizes with different roots', {
        expected: Buffer.from(root2).toString('hex'),
        computed: Buffer.from(root1).toString('hex'),
      });
    }
    return;
  }
  if (proof.length === 0) throw new ProofError('WRONG_PROOF_SIZE', 'proof is empty');
  for (const [i, h] of proof.entries()) checkHash(h, `proof[${i}]`);
  const decomposed = decompose(n1 - 1, n2);
  const shift = trailingZeros(n1);
  const inner = decomposed.inner - shift;
  const size1IsSubtree = n1 === 2 ** shift;
  const seed = Buffer.from(size1IsSubtree ? root1 : proof[0]!);
  const start = size1IsSubtree ? 0 : 1;
  if (proof.length !== start + inner + decomposed.border) {
    throw new ProofError(
      'WRONG_PROOF_SIZE',
      `proof has ${proof.length} hashes, expected ${start + inner + decomposed.border}`,
    );
  }
  const rest = proof.slice(start);
  const mask = shiftRight(n1 - 1, shift);
  const hash1 = chainBorderRight(chainInnerRight(seed, rest.slice(0, inner), mask), rest.slice(inner));
  if (!hash1.equals(root1)) {
    throw new ProofError('ROOT_MISMATCH', 'proof does not lead to root1', {
      expected: Buffer.from(root1).toString('hex'),
      computed: hash1.toString('hex'),
    });
  }
  const hash2 = chainPath(seed, rest, inner, mask);
  if (!hash2.equals(root2)) {
    throw new ProofError('ROOT_MISMATCH', 'proof does not lead to root2', {
      expected: Buffer.from(root2).toString('hex'),
      computed: hash2.toString('hex'),
    });
  }
}

/**
 * Per-event inclusion proofs (`GET /v1/events/{id}/proof`, `auditseal verify-proof`): a self-contained
 * file that proves, with nothing but a trusted public key, that an event's exact bytes are leaf
 * `leafIndex` of its period's digest tree (RFC 9162 §2.1.3), whose root the period's signed statement
 * names. docs/FORMAT.md and docs/API.md describe the file.
 *
 * Building one never reads the whole period archive. Every full chunk of `chunkLeaves` events is a
 * complete subtree of the period tree (archive-chunk.ts), so the audit path is the path inside the
 * event's chunk (from that chunk's `.idx`, 64 bytes per event) followed by the path of the chunk among
 * the chunk roots the digest lists. The chunk is found by a binary search on each chunk's first line
 * (one small ranged read per step): a handful of reads in all, whatever the period's size.
 */

import { z } from 'zod';
import { canonicalBytes } from '../canonical/jcs.ts';
import { eventIdHash, INDEX_ENTRY_SIZE } from '../ledger/archive-chunk.ts';
import { type DigestStatement, digestSchema, digestStatementSchema } from '../ledger/formats.ts';
import { fromHex, toHex } from '../ledger/hex.ts';
import { digestObjectKey } from '../ledger/object-keys.ts';
import { parseIsoSeconds } from '../ledger/period.ts';
import type { ChainHead } from '../ledger/seal-period.ts';
import { ProofError } from '../merkle/errors.ts';
import { inclusionProof, rootFromInclusionProof } from '../merkle/proof.ts';
import { hashLeaf, sha256 } from '../merkle/rfc6962.ts';
import type { PublicKeyHandle } from '../platform/crypto.ts';
import { verifyStatementSignature, verifyStatementSignatureSync } from '../platform/statement-signature.ts';
import { QueryError } from './errors.ts';

export const PROOF_TYPE = 'auditseal.inclusion-proof.v1';

/** The proof file. */
export const eventProofSchema = z
  .strictObject({
    type: z.literal(PROOF_TYPE),
    ledger: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
    eventId: z.string().min(1).max(128),
    /** The event's canonical JSON text as sealed: its UTF-8 bytes are the leaf's input. */
    eventJson: z.string().min(2).max(1_048_576),
    leafIndex: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    treeSize: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    auditPath: z.array(z.string().regex(/^[0-9a-f]{64}$/)).max(64),
    /** The period's signed digest statement, exactly as signed (its JCS text). */
    statement: z.string().min(1).max(4096),
    /** DER ECDSA signature over the statement bytes, base64. */
    signature: z
      .string()
      .regex(/^[A-Za-z0-9+/]+={0,2}$/)
      .max(200),
  })
  .meta({ description: 'A self-contained proof that an event is in its period digest' });
export type EventProof = z.infer<typeof eventProofSchema>;

/** Reads part of an object: bytes [start, end) (fewer at its end), or undefined if it does not exist. */
export interface ObjectRangeReader {
  get(key: string): Promise<Uint8Array | undefined>;
  getRange(key: string, start: number, end: number): Promise<Uint8Array | undefined>;
}

/** The event a proof is built for, as the table holds it. */
export interface ProvenEvent {
  readonly id: string;
  readonly receivedAt: string;
  readonly bytes: Uint8Array;
}

/** First bytes of a chunk read to learn its first event's position; doubled until a line ends. */
const FIRST_LINE_PROBE = 16_384;
const MAX_LINE = 1_048_576;

/** Builds the proof of an event of a sealed period. Throws QueryError when the digest does not hold it. */
export async function buildEventProof(
  ledger: string,
  event: ProvenEvent,
  seal: ChainHead,
  objects: ObjectRangeReader,
): Promise<EventProof> {
  const unavailable = (what: string) =>
    new QueryError('PROOF_UNAVAILABLE', `the sealed objects of this period cannot be read: ${what}`);
  const [digestBytes, statementBytes, signature] = await Promise.all([
    objects.get(seal.digestKey),
    objects.get(digestObjectKey(ledger, seal.period, 'statement')),
    objects.get(digestObjectKey(ledger, seal.period, 'signature')),
  ]);
  if (!digestBytes || !statementBytes || !signature)
    throw unavailable('digest, statement or signature missing');
  const digest = digestSchema.safeParse(parseJson(digestBytes));
  if (!digest.success) throw unavailable('the digest does not parse');
  const notInDigest = () =>
    new QueryError(
      'NOT_IN_DIGEST',
      "the event's period is sealed but the event is not in its digest (see the period's exclusions)",
    );
  const archives = digest.data.archives;
  if (archives.length === 0) throw notInDigest();

  // The last chunk whose first event sorts at or before this one.
  const target = `${event.receivedAt}#${event.id}`;
  let low = 0;
  let high = archives.length - 1;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    const first = await firstSortKey(objects, archives[mid]!.key);
    if (first === undefined) throw unavailable(`chunk ${mid} has no readable first line`);
    if (first <= target) low = mid;
    else high = mid - 1;
  }
  const chunk = archives[low]!;
  const index = await objects.get(chunk.indexKey);
  if (
    !index ||
    index.length !== chunk.count * INDEX_ENTRY_SIZE ||
    toHex(sha256(index)) !== chunk.indexSha256
  ) {
    throw unavailable(`the index of chunk ${low} does not match the digest`);
  }
  const idHash = eventIdHash(event.id);
  const leaves: Buffer[] = [];
  let local = -1;
  for (let i = 0; i < chunk.count; i++) {
    const entry = Buffer.from(index.buffer, index.byteOffset + i * INDEX_ENTRY_SIZE, INDEX_ENTRY_SIZE);
    leaves.push(entry.subarray(0, 32));
    if (local < 0 && entry.subarray(32).equals(idHash)) local = i;
  }
  if (local < 0) throw notInDigest();

  // The table's bytes are used when they are the sealed ones; otherwise (the row changed after sealing)
  // the sealed line is read from the archive: a proof is about what the digest commits to.
  let sealed: Uint8Array = event.bytes;
  if (!hashLeaf(event.bytes).equals(leaves[local]!)) {
    const archive = await objects.get(chunk.key);
    const line = archive === undefined ? undefined : nthLine(archive, local);
    if (line === undefined || !hashLeaf(line).equals(leaves[local]!))
      throw unavailable(`chunk ${low} archive`);
    sealed = line;
  }
  const chunkRoots = archives.map((a) => fromHex(a.rootHash, 32)!);
  const path = [
    ...inclusionProof(leaves, local),
    ...(archives.length > 1 ? inclusionProof(chunkRoots, low) : []),
  ];
  const leafIndex = chunk.firstIndex + local;
  const root = rootFromInclusionProof(leafIndex, digest.data.treeSize, leaves[local]!, path);
  if (toHex(root) !== digest.data.rootHash)
    throw unavailable('the computed path does not reach the digest root');
  return {
    type: PROOF_TYPE,
    ledger,
    eventId: event.id,
    eventJson: Buffer.from(sealed).toString('utf8'),
    leafIndex,
    treeSize: digest.data.treeSize,
    auditPath: path.map(toHex),
    statement: Buffer.from(statementBytes).toString('utf8'),
    signature: Buffer.from(signature).toString('base64'),
  };
}

async function firstSortKey(objects: ObjectRangeReader, key: string): Promise<string | undefined> {
  for (let size = FIRST_LINE_PROBE; size <= MAX_LINE * 2; size *= 2) {
    const head = await objects.getRange(key, 0, size);
    if (head === undefined) return undefined;
    const end = Buffer.from(head).indexOf(0x0a);
    if (end < 0) {
      if (head.length < size) return undefined;
      continue;
    }
    const event = parseJson(head.subarray(0, end)) as { id?: unknown; receivedAt?: unknown } | undefined;
    if (typeof event?.id !== 'string' || typeof event.receivedAt !== 'string') return undefined;
    return `${event.receivedAt}#${event.id}`;
  }
  return undefined;
}

function nthLine(archive: Uint8Array, n: number): Uint8Array | undefined {
  const bytes = Buffer.from(archive);
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = bytes.indexOf(0x0a, start);
    if (end < 0) return undefined;
    start = end + 1;
  }
  const end = bytes.indexOf(0x0a, start);
  return end < 0 ? undefined : bytes.subarray(start, end);
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Closed set of findings of `verifyEventProof`. */
export type ProofFindingCode =
  | 'PROOF_MALFORMED'
  | 'PROOF_KEY_UNKNOWN'
  | 'PROOF_SIGNATURE_INVALID'
  | 'PROOF_PATH_INVALID'
  | 'PROOF_EVENT_MISMATCH';

export type ProofCheck =
  | { readonly ok: true; readonly statement: DigestStatement; readonly leafIndex: number }
  | { readonly ok: false; readonly code: ProofFindingCode; readonly message: string };

/**
 * Verifies a proof offline: its shape, the statement (canonical, signed by a trusted key), the event
 * (its id, and a `receivedAt` inside the statement's period), and the audit path from the event's bytes
 * to the statement's root at the statement's tree size.
 */
export function verifyEventProof(value: unknown, keys: ProofKeys): ProofCheck {
  const p = proofToVerify(value, keys);
  if ('ok' in p) return p;
  return proofAfterSignature(p, verifyStatementSignatureSync(p.key, p.statementBytes, p.signature));
}

/** `verifyEventProof` with the signature checked through the crypto port (WebCrypto in a browser). */
export async function verifyEventProofAsync(value: unknown, keys: ProofKeys): Promise<ProofCheck> {
  const p = proofToVerify(value, keys);
  if ('ok' in p) return p;
  return proofAfterSignature(p, await verifyStatementSignature(p.key, p.statementBytes, p.signature));
}

/** Any key lookup: the verifier's trusted key set satisfies it. */
export type ProofKeys = { get(keyId: string): { readonly key: PublicKeyHandle } | undefined };

interface ProofToVerify {
  readonly proof: EventProof;
  readonly statement: DigestStatement;
  readonly key: PublicKeyHandle;
  readonly statementBytes: Buffer;
  readonly signature: Buffer;
}

function proofToVerify(value: unknown, keys: ProofKeys): Extract<ProofCheck, { ok: false }> | ProofToVerify {
  const parsed = eventProofSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return {
      ok: false,
      code: 'PROOF_MALFORMED',
      message: `${issue.path.join('.') || 'proof'}: ${issue.message}`,
    };
  }
  const proof = parsed.data;
  const statement = digestStatementSchema.safeParse(parseJson(Buffer.from(proof.statement, 'utf8')));
  if (
    !statement.success ||
    Buffer.from(canonicalBytes(statement.data)).toString('utf8') !== proof.statement
  ) {
    return { ok: false, code: 'PROOF_MALFORMED', message: 'statement is not a canonical digest statement' };
  }
  const s = statement.data;
  if (s.ledger !== proof.ledger) {
    return {
      ok: false,
      code: 'PROOF_MALFORMED',
      message: `statement is of ledger ${s.ledger}, not ${proof.ledger}`,
    };
  }
  const trusted = keys.get(s.keyId);
  if (!trusted) return { ok: false, code: 'PROOF_KEY_UNKNOWN', message: `key ${s.keyId} is not trusted` };
  return {
    proof,
    statement: s,
    key: trusted.key,
    statementBytes: Buffer.from(proof.statement, 'utf8'),
    signature: Buffer.from(proof.signature, 'base64'),
  };
}

function proofAfterSignature(p: ProofToVerify, signed: boolean): ProofCheck {
  const { proof, statement: s } = p;
  if (!signed) {
    return { ok: false, code: 'PROOF_SIGNATURE_INVALID', message: 'the statement signature does not verify' };
  }
  const event = parseJson(Buffer.from(proof.eventJson, 'utf8')) as
    | { id?: unknown; receivedAt?: unknown }
    | undefined;
  const periodStart = parseIsoSeconds(s.periodStart)!;
  const receivedMs = typeof event?.receivedAt === 'string' ? Date.parse(event.receivedAt) : Number.NaN;
  if (event?.id !== proof.eventId) {
    return { ok: false, code: 'PROOF_EVENT_MISMATCH', message: `the event's id is not ${proof.eventId}` };
  }
  if (!(receivedMs >= periodStart && receivedMs < periodStart + s.periodSeconds * 1000)) {
    return {
      ok: false,
      code: 'PROOF_EVENT_MISMATCH',
      message: `the event was not received in the period ${s.periodStart} (${s.periodSeconds} s)`,
    };
  }
  if (proof.treeSize !== s.treeSize) {
    return {
      ok: false,
      code: 'PROOF_PATH_INVALID',
      message: `tree size ${proof.treeSize} is not the statement's ${s.treeSize}`,
    };
  }
  try {
    const root = rootFromInclusionProof(
      proof.leafIndex,
      proof.treeSize,
      hashLeaf(Buffer.from(proof.eventJson, 'utf8')),
      proof.auditPath.map((h) => fromHex(h, 32)!),
    );
    if (toHex(root) !== s.rootHash) {
      return {
        ok: false,
        code: 'PROOF_PATH_INVALID',
        message: `the path leads to ${toHex(root)}, not the signed root ${s.rootHash}`,
      };
    }
  } catch (error) {
    const reason = error instanceof ProofError ? error.message : 'proof rejected';
    return { ok: false, code: 'PROOF_PATH_INVALID', message: reason };
  }
  return { ok: true, statement: s, leafIndex: proof.leafIndex };
}

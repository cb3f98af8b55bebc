/**
 * Ingest batches and receipts (G2, FORMAT.md §8). A batch of events is one RFC 6962 tree whose leaves are
 * *batch leaves*: each binds an event's leaf hash, its id and its `receivedAt`, so neither a receipt's
 * event id nor its time can be changed without breaking the proof. The root goes into a small signed
 * statement (one Sign per batch, never per event). Each event's receipt carries its leaf hash, its audit
 * path, the exact statement bytes and the DER signature, so a client can verify it offline.
 */
import { createPublicKey } from 'node:crypto';
import { canonicalBytes } from '../canonical/jcs.ts';
import { verifyStatement } from '../crypto/keys.ts';
import { ProofError } from '../merkle/errors.ts';
import { allInclusionProofs, rootFromInclusionProof, verifyInclusion } from '../merkle/proof.ts';
import { HASH_SIZE, hashLeaf, rootFromLeafHashes, rootFromPackedLeafHashes } from '../merkle/rfc6962.ts';
import {
  type PublicKeyHandle,
  sha256Into,
  verifyP256Sha256,
  verifyP256Sha256Sync,
} from '../platform/crypto.ts';
import type { BatchSeal } from '../ports/ledger-store.ts';
import { MAX_STATEMENT_BYTES, type Signer } from '../ports/signer.ts';
import { batchLeafHashInto } from './batch-leaf.ts';
import {
  BATCH_STATEMENT_TYPE,
  type BatchStatement,
  batchStatementSchema,
  RECEIPT_TYPE,
  type Receipt,
  receiptSchema,
} from './formats.ts';
import { fromHex, toHex } from './hex.ts';

/** One event of a batch, already canonicalized and hashed. */
export interface BatchLeaf {
  readonly eventId: string;
  /** `YYYY-MM-DDTHH:MM:SS.sssZ`: the event's `receivedAt`, as in its canonical bytes. */
  readonly receivedAt: string;
  /** LH(e) = SHA-256(0x00 ‖ canonical bytes). */
  readonly leafHash: Uint8Array;
}

const MILLIS_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The last `receivedAt` found to be a millisecond time: a batch's leaves usually share one. */
let lastMillisTime: string | undefined;
/** SHA-256 of the current leaf's id, rebuilt for every batch leaf. */
const idHash = new Uint8Array(HASH_SIZE);

/** Writes the batch leaf hash of `leaf` into `target` at `offset`, after checking its parts. */
function batchLeafInto(leaf: BatchLeaf, target: Uint8Array, offset: number): void {
  if (leaf.leafHash.length !== 32) throw new RangeError('a leaf hash is 32 bytes');
  if (leaf.receivedAt !== lastMillisTime) {
    if (!MILLIS_TIME.test(leaf.receivedAt))
      throw new RangeError(`receivedAt ${leaf.receivedAt} is not a millisecond time`);
    lastMillisTime = leaf.receivedAt;
  }
  // SHA-256 of the id's UTF-8 bytes (`eventIdHash`).
  sha256Into(leaf.eventId, idHash, 0);
  batchLeafHashInto(leaf.leafHash, 0, idHash, 0, leaf.receivedAt, target, offset);
}

/**
 * The batch leaf hash (FORMAT.md §8, batch-leaf.ts):
 * `BL = SHA-256(0x00 ‖ LH(e) ‖ SHA-256(UTF-8(id)) ‖ UTF-8(receivedAt))`, an 88-byte leaf input.
 */
export function batchLeafHash(leaf: BatchLeaf): Buffer {
  const out = Buffer.allocUnsafe(HASH_SIZE);
  batchLeafInto(leaf, out, 0);
  return out;
}

/** The root of a batch tree over its leaves, in batch order. */
export function batchRoot(leaves: readonly BatchLeaf[]): Buffer {
  // Each batch leaf hash is written straight into one packed level: no Buffer per leaf.
  const packed = Buffer.allocUnsafe(leaves.length * HASH_SIZE);
  for (let i = 0; i < leaves.length; i++) batchLeafInto(leaves[i]!, packed, i * HASH_SIZE);
  return rootFromPackedLeafHashes(packed, leaves.length);
}

export interface SignedBatch {
  readonly statement: BatchStatement;
  readonly statementBytes: Uint8Array;
  readonly signature: Uint8Array;
  /** One receipt per leaf, in leaf order. */
  readonly receipts: Receipt[];
}

/** A batch's signed statement, without receipts: what a sealer needs of a batch. */
export interface SignedBatchStatement {
  readonly statement: BatchStatement;
  readonly statementBytes: Uint8Array;
  readonly signature: Uint8Array;
  /** The batch leaf hashes (BL), in leaf order. */
  readonly leafHashes: readonly Buffer[];
}

/**
 * Builds the batch tree and signs its statement once. Imports use this directly: their receipts would be
 * an answer to no client, and building them costs more than the tree.
 */
export async function signBatchStatement(
  req: { ledger: string; batchId: string; leaves: readonly BatchLeaf[] },
  signer: Signer,
  /**
   * A signature already made for these exact statement bytes (a resumed import): used instead of a new
   * Sign when it verifies with the signer's key, so re-running a seal writes byte-identical objects.
   */
  earlier?: (statementText: string) => Uint8Array | undefined,
): Promise<SignedBatchStatement> {
  if (req.leaves.length === 0) throw new RangeError('a batch needs at least one event');
  const leafHashes = req.leaves.map(batchLeafHash);
  return signStatement(req, signer, earlier, leafHashes, rootFromLeafHashes(leafHashes));
}

/** The statement over a batch tree's root, signed (or an earlier signature of the same bytes reused). */
async function signStatement(
  req: { ledger: string; batchId: string; leaves: readonly BatchLeaf[] },
  signer: Signer,
  earlier: ((statementText: string) => Uint8Array | undefined) | undefined,
  leafHashes: Buffer[],
  root: Uint8Array,
): Promise<SignedBatchStatement> {
  let receivedFrom = req.leaves[0]!.receivedAt;
  let receivedTo = receivedFrom;
  for (const leaf of req.leaves) {
    if (leaf.receivedAt < receivedFrom) receivedFrom = leaf.receivedAt;
    if (leaf.receivedAt > receivedTo) receivedTo = leaf.receivedAt;
  }
  const statement = batchStatementSchema.parse({
    type: BATCH_STATEMENT_TYPE,
    ledger: req.ledger,
    batchId: req.batchId,
    receivedFrom,
    receivedTo,
    treeSize: leafHashes.length,
    rootHash: toHex(root),
    keyId: await signer.keyId(),
  });
  const statementBytes = canonicalBytes(statement);
  if (statementBytes.length > MAX_STATEMENT_BYTES) throw new RangeError('batch statement exceeds 4096 bytes');
  const previous = earlier?.(Buffer.from(statementBytes).toString('utf8'));
  const signature =
    previous !== undefined &&
    verifyStatement(createPublicKey(await signer.publicKeyPem()), statementBytes, previous)
      ? previous
      : await signer.sign(statementBytes);
  return { statement, statementBytes, signature, leafHashes };
}

/**
 * The ledger table's batch row for a signed batch, as ingest stores it beside its events (and imports,
 * tests and benchmarks build it): the statement's text exactly as signed, received at its `receivedFrom`.
 */
export function batchSealOf(
  req: { readonly ledger: string; readonly batchId: string; readonly leaves: readonly BatchLeaf[] },
  signed: Pick<SignedBatchStatement, 'statement' | 'statementBytes' | 'signature'>,
): BatchSeal {
  return {
    ledger: req.ledger,
    batchId: req.batchId,
    receivedAt: signed.statement.receivedFrom,
    statement: Buffer.from(signed.statementBytes).toString('utf8'),
    signature: signed.signature,
    size: req.leaves.length,
    leaves: req.leaves,
  };
}

/** Builds the batch tree, signs its statement once, and returns one receipt per event. */
export async function signBatch(
  req: { ledger: string; batchId: string; leaves: readonly BatchLeaf[] },
  signer: Signer,
  /** As in signBatchStatement: a signature already made for these exact statement bytes. */
  earlier?: (statementText: string) => Uint8Array | undefined,
): Promise<SignedBatch> {
  if (req.leaves.length === 0) throw new RangeError('a batch needs at least one event');
  const leafHashes = req.leaves.map(batchLeafHash);
  // All audit paths in one pass over the tree; the root then follows from the first leaf's path, so the
  // tree is not hashed a second time for the statement.
  const paths = allInclusionProofs(leafHashes);
  const root = rootFromInclusionProof(0, leafHashes.length, leafHashes[0]!, paths[0]!);
  const { statement, statementBytes, signature } = await signStatement(
    req,
    signer,
    earlier,
    leafHashes,
    root,
  );
  const statementText = Buffer.from(statementBytes).toString('utf8');
  const signatureText = Buffer.from(signature).toString('base64');
  // A node's hash appears in the audit path of every leaf under its sibling: allInclusionProofs shares
  // one Buffer per node, so each is hex-encoded once (under 2n encodings instead of n log n).
  const hexOf = new Map<Buffer, string>();
  const nodeHex = (node: Buffer): string => {
    let text = hexOf.get(node);
    if (text === undefined) {
      text = toHex(node);
      hexOf.set(node, text);
    }
    return text;
  };
  const receipts = req.leaves.map(
    (leaf, i): Receipt => ({
      type: RECEIPT_TYPE,
      eventId: leaf.eventId,
      receivedAt: leaf.receivedAt,
      leafHash: toHex(leaf.leafHash),
      leafIndex: i,
      auditPath: paths[i]!.map(nodeHex),
      statement: statementText,
      signature: signatureText,
    }),
  );
  return { statement, statementBytes, signature, receipts };
}

/** Closed set of reasons a receipt fails on its own. */
export type ReceiptErrorCode =
  | 'RECEIPT_MALFORMED'
  | 'RECEIPT_KEY_UNKNOWN'
  | 'RECEIPT_SIGNATURE_INVALID'
  | 'RECEIPT_PROOF_INVALID'
  | 'RECEIPT_EVENT_MISMATCH';

/** Any key lookup: the verifier's trusted key set satisfies it. */
export interface KeyLookup {
  get(keyId: string): { readonly key: PublicKeyHandle } | undefined;
}

export type ReceiptCheck =
  | { readonly ok: true; readonly receipt: Receipt; readonly statement: BatchStatement }
  | {
      readonly ok: false;
      readonly code: ReceiptErrorCode;
      readonly message: string;
      readonly eventId?: string;
    };

/** A receipt that parsed, with what its signature check needs. */
interface ReceiptToVerify {
  readonly receipt: Receipt;
  readonly statement: BatchStatement;
  readonly key: PublicKeyHandle;
  readonly statementBytes: Buffer;
  readonly signature: Buffer;
}

type ReceiptFailure = Extract<ReceiptCheck, { ok: false }>;

/**
 * Verifies a receipt offline: schema, trusted key, signature over the exact statement bytes, inclusion.
 * Synchronous, with node:crypto: for Node callers (the client, the CLI). The folder verifier and the
 * auditor's page use `checkReceiptAsync`, which applies the same rules through the crypto port.
 */
export function checkReceipt(value: unknown, keys: KeyLookup): ReceiptCheck {
  const r = receiptToVerify(value, keys);
  if ('ok' in r) return r;
  return receiptAfterSignature(r, verifyP256Sha256Sync(r.key, r.statementBytes, r.signature));
}

/** `checkReceipt` with the signature checked through the crypto port (WebCrypto in a browser). */
export async function checkReceiptAsync(value: unknown, keys: KeyLookup): Promise<ReceiptCheck> {
  const r = receiptToVerify(value, keys);
  if ('ok' in r) return r;
  return receiptAfterSignature(r, await verifyP256Sha256(r.key, r.statementBytes, r.signature));
}

function receiptToVerify(value: unknown, keys: KeyLookup): ReceiptFailure | ReceiptToVerify {
  const parsed = receiptSchema.safeParse(value);
  if (!parsed.success) {
    return {
      ok: false,
      code: 'RECEIPT_MALFORMED',
      message: `receipt: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
    };
  }
  const receipt = parsed.data;
  const eventId = receipt.eventId;
  let statementValue: unknown;
  try {
    statementValue = JSON.parse(receipt.statement);
  } catch {
    return { ok: false, code: 'RECEIPT_MALFORMED', message: 'statement is not JSON', eventId };
  }
  const statement = batchStatementSchema.safeParse(statementValue);
  if (
    !statement.success ||
    Buffer.from(canonicalBytes(statement.data)).toString('utf8') !== receipt.statement
  ) {
    return {
      ok: false,
      code: 'RECEIPT_MALFORMED',
      message: 'statement is not a canonical batch statement',
      eventId,
    };
  }
  const trusted = keys.get(statement.data.keyId);
  if (!trusted) {
    return {
      ok: false,
      code: 'RECEIPT_KEY_UNKNOWN',
      message: `key ${statement.data.keyId} is not trusted`,
      eventId,
    };
  }
  return {
    receipt,
    statement: statement.data,
    key: trusted.key,
    statementBytes: Buffer.from(receipt.statement, 'utf8'),
    signature: Buffer.from(receipt.signature, 'base64'),
  };
}

function receiptAfterSignature(r: ReceiptToVerify, signed: boolean): ReceiptCheck {
  const { receipt } = r;
  const eventId = receipt.eventId;
  const statement = { data: r.statement };
  if (!signed)
    return { ok: false, code: 'RECEIPT_SIGNATURE_INVALID', message: 'signature does not verify', eventId };
  if (receipt.receivedAt < statement.data.receivedFrom || receipt.receivedAt > statement.data.receivedTo) {
    return {
      ok: false,
      code: 'RECEIPT_PROOF_INVALID',
      message: `receivedAt ${receipt.receivedAt} lies outside the signed batch's time range`,
      eventId,
    };
  }
  try {
    verifyInclusion(
      receipt.leafIndex,
      statement.data.treeSize,
      batchLeafHash({ eventId, receivedAt: receipt.receivedAt, leafHash: fromHex(receipt.leafHash, 32)! }),
      receipt.auditPath.map((h) => fromHex(h, 32)!),
      fromHex(statement.data.rootHash, 32)!,
    );
  } catch (error) {
    const reason = error instanceof ProofError ? error.message : 'proof rejected';
    return { ok: false, code: 'RECEIPT_PROOF_INVALID', message: `inclusion proof: ${reason}`, eventId };
  }
  return { ok: true, receipt, statement: statement.data };
}

/**
 * Checks that a receipt is about this very event: the event's canonical bytes hash to the receipt's leaf
 * hash, and its `id` and `receivedAt` are the receipt's. `eventBytes` are the stored canonical bytes
 * (FORMAT.md §1); one trailing newline is tolerated, as a saved archive line has one.
 */
export function checkReceiptAgainstEvent(
  receipt: Receipt,
  eventBytes: Uint8Array,
): { ok: true } | { ok: false; message: string } {
  let bytes = Buffer.from(eventBytes);
  if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0a) bytes = bytes.subarray(0, bytes.length - 1);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { ok: false, message: 'the event file is not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, message: 'the event file is not a JSON object' };
  }
  const event = value as { id?: unknown; receivedAt?: unknown };
  if (event.id !== receipt.eventId) {
    return {
      ok: false,
      message: `the event's id ${JSON.stringify(event.id)} is not the receipt's ${receipt.eventId}`,
    };
  }
  if (event.receivedAt !== receipt.receivedAt) {
    return { ok: false, message: `the event's receivedAt is not the receipt's ${receipt.receivedAt}` };
  }
  const leaf = toHex(hashLeaf(bytes));
  if (leaf !== receipt.leafHash) {
    return {
      ok: false,
      message: `the event's bytes hash to leaf ${leaf}, not the receipt's ${receipt.leafHash} (the file must hold the stored canonical bytes)`,
    };
  }
  return { ok: true };
}

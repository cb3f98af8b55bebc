/**
 * Ingest batches and receipts (G2). A batch of events is one RFC 6962 tree; its root goes into a small
 * signed statement (one Sign per batch, never per event). Each event's receipt carries its leaf hash,
 * its audit path, the exact statement bytes and the DER signature, so a client can verify it offline.
 */
import { type KeyObject, verify } from 'node:crypto';
import { canonicalBytes } from '../canonical/jcs.ts';
import { ProofError } from '../merkle/errors.ts';
import { allInclusionProofs, verifyInclusion } from '../merkle/proof.ts';
import { rootFromLeafHashes } from '../merkle/rfc6962.ts';
import { MAX_STATEMENT_BYTES, type Signer } from '../ports/signer.ts';
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
  readonly leafHash: Uint8Array;
}

export interface SignedBatch {
  readonly statement: BatchStatement;
  readonly statementBytes: Uint8Array;
  readonly signature: Uint8Array;
  /** One receipt per leaf, in leaf order. */
  readonly receipts: Receipt[];
}

/** Builds the batch tree, signs its statement once, and returns one receipt per event. */
export async function signBatch(
  req: { ledger: string; batchId: string; receivedAt: string; leaves: readonly BatchLeaf[] },
  signer: Signer,
): Promise<SignedBatch> {
  if (req.leaves.length === 0) throw new RangeError('a batch needs at least one event');
  const leafHashes = req.leaves.map((l) => Buffer.from(l.leafHash));
  const statement = batchStatementSchema.parse({
    type: BATCH_STATEMENT_TYPE,
    ledger: req.ledger,
    batchId: req.batchId,
    receivedAt: req.receivedAt,
    treeSize: leafHashes.length,
    rootHash: toHex(rootFromLeafHashes(leafHashes)),
    keyId: await signer.keyId(),
  });
  const statementBytes = canonicalBytes(statement);
  if (statementBytes.length > MAX_STATEMENT_BYTES) throw new RangeError('batch statement exceeds 4096 bytes');
  const signature = await signer.sign(statementBytes);
  const statementText = Buffer.from(statementBytes).toString('utf8');
  const signatureText = Buffer.from(signature).toString('base64');
  const paths = allInclusionProofs(leafHashes);
  const receipts = req.leaves.map(
    (leaf, i): Receipt => ({
      type: RECEIPT_TYPE,
      eventId: leaf.eventId,
      leafHash: toHex(leaf.leafHash),
      leafIndex: i,
      auditPath: paths[i]!.map(toHex),
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
  | 'RECEIPT_PROOF_INVALID';

/** Any key lookup: the verifier's trusted key set satisfies it. */
export interface KeyLookup {
  get(keyId: string): { readonly key: KeyObject } | undefined;
}

export type ReceiptCheck =
  | { readonly ok: true; readonly receipt: Receipt; readonly statement: BatchStatement }
  | {
      readonly ok: false;
      readonly code: ReceiptErrorCode;
      readonly message: string;
      readonly eventId?: string;
    };

/** Verifies a receipt offline: schema, trusted key, signature over the exact statement bytes, inclusion. */
export function checkReceipt(value: unknown, keys: KeyLookup): ReceiptCheck {
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
  const signature = Buffer.from(receipt.signature, 'base64');
  let signed = false;
  try {
    signed = verify(
      'sha256',
      Buffer.from(receipt.statement, 'utf8'),
      { key: trusted.key, dsaEncoding: 'der' },
      signature,
    );
  } catch {
    signed = false;
  }
  if (!signed)
    return { ok: false, code: 'RECEIPT_SIGNATURE_INVALID', message: 'signature does not verify', eventId };
  try {
    verifyInclusion(
      receipt.leafIndex,
      statement.data.treeSize,
      fromHex(receipt.leafHash, 32)!,
      receipt.auditPath.map((h) => fromHex(h, 32)!),
      fromHex(statement.data.rootHash, 32)!,
    );
  } catch (error) {
    const reason = error instanceof ProofError ? error.message : 'proof rejected';
    return { ok: false, code: 'RECEIPT_PROOF_INVALID', message: `inclusion proof: ${reason}`, eventId };
  }
  return { ok: true, receipt, statement: statement.data };
}

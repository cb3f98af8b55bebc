/**
 * Checking a signed ingest batch (FORMAT.md §8) against its leaves: the one rule the sealer applies to
 * batch rows read from the ledger table, and the verifier applies to archived batch records. A batch is
 * trusted only when its statement is canonical, names this ledger and batch, lies in the period, is signed
 * by a trusted key, and its root is the MTH of the batch leaves it lists.
 */
import { parseCanonicalText } from '../canonical/jcs.ts';
import { sha256Hex } from '../platform/crypto.ts';
import { verifyStatementSignature } from '../platform/statement-signature.ts';
import { type BatchLeaf, batchRoot, type KeyLookup } from './batch-receipts.ts';
import { abandonStatementSchema, type BatchStatement, batchStatementSchema } from './formats.ts';
import { toHex } from './hex.ts';
import { type Period, periodEndMs } from './period.ts';

/** What a batch check needs to know about where the batch should belong. */
export interface BatchContext {
  readonly ledger: string;
  readonly period: Period;
  readonly keys: KeyLookup;
}

export type BatchCheck =
  | { readonly ok: true; readonly statement: BatchStatement }
  | { readonly ok: false; readonly reason: string; readonly statement?: BatchStatement };

/** Parses a batch statement text, requiring it to be exactly its own JCS. */
export function parseBatchStatement(text: string): BatchStatement | undefined {
  return parseCanonicalText(text, batchStatementSchema);
}

/**
 * Checks one signed batch. `batchId` is the id the batch is stored or archived under, when there is one.
 * Never throws for bad content: every problem is a reason.
 */
export async function checkSignedBatch(
  batch: {
    readonly statement: string;
    readonly signature: Uint8Array;
    readonly leaves: readonly BatchLeaf[];
    readonly batchId?: string;
  },
  context: BatchContext,
): Promise<BatchCheck> {
  const statement = parseBatchStatement(batch.statement);
  if (!statement) return { ok: false, reason: 'the statement is not a canonical batch statement' };
  const fail = (reason: string): BatchCheck => ({ ok: false, reason, statement });
  if (statement.ledger !== context.ledger) return fail(`the statement names ledger ${statement.ledger}`);
  if (batch.batchId !== undefined && statement.batchId !== batch.batchId) {
    return fail(`the statement names batch ${statement.batchId}, not ${batch.batchId}`);
  }
  const from = Date.parse(statement.receivedFrom);
  const to = Date.parse(statement.receivedTo);
  if (!(from >= context.period.startMs && to < periodEndMs(context.period))) {
    return fail('the batch is not received inside this period');
  }
  const key = context.keys.get(statement.keyId);
  if (!key) return fail(`the batch is signed by untrusted key ${statement.keyId}`);
  if (!(await verifyStatementSignature(key.key, Buffer.from(batch.statement, 'utf8'), batch.signature))) {
    return fail('the batch signature does not verify');
  }
  if (batch.leaves.length !== statement.treeSize) {
    return fail(`the batch lists ${batch.leaves.length} leaves; its statement signs ${statement.treeSize}`);
  }
  for (const leaf of batch.leaves) {
    if (leaf.receivedAt < statement.receivedFrom || leaf.receivedAt > statement.receivedTo) {
      return fail(`leaf ${leaf.eventId} is received outside the batch's signed range`);
    }
  }
  let root: string;
  try {
    root = toHex(batchRoot(batch.leaves));
  } catch (error) {
    return fail(`a leaf is malformed: ${(error as Error).message}`);
  }
  if (root !== statement.rootHash) return fail('the listed leaves do not reproduce the signed root');
  return { ok: true, statement };
}

/**
 * Checks a batch's signed abandon statement (FORMAT.md §8): canonical, of this ledger and batch, naming
 * the batch's exact statement bytes, with indices inside the batch, signed by a trusted key. Returns the
 * abandoned leaf indices, or a reason.
 */
export async function checkAbandon(
  abandon: { readonly statement: string; readonly signature: Uint8Array },
  batch: { readonly statementText: string; readonly statement: BatchStatement },
  keys: KeyLookup,
): Promise<{ ok: true; indices: ReadonlySet<number> } | { ok: false; reason: string }> {
  const a = parseCanonicalText(abandon.statement, abandonStatementSchema);
  if (!a) return { ok: false, reason: 'the abandon statement is not a canonical abandon statement' };
  if (a.ledger !== batch.statement.ledger || a.batchId !== batch.statement.batchId) {
    return { ok: false, reason: 'the abandon statement names another batch' };
  }
  if (a.batchStatementSha256 !== sha256Hex(batch.statementText)) {
    return { ok: false, reason: 'the abandon statement names other batch statement bytes' };
  }
  if (a.abandoned.some((i) => i >= batch.statement.treeSize)) {
    return { ok: false, reason: 'the abandon statement names a leaf outside the batch' };
  }
  const key = keys.get(a.keyId);
  if (!key) return { ok: false, reason: `the abandon statement is signed by untrusted key ${a.keyId}` };
  if (!(await verifyStatementSignature(key.key, Buffer.from(abandon.statement, 'utf8'), abandon.signature))) {
    return { ok: false, reason: 'the abandon signature does not verify' };
  }
  return { ok: true, indices: new Set(a.abandoned) };
}

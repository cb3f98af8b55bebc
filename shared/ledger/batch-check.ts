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
  const reason =
    batchContextReason(statement, context, batch.batchId) ??
    (await batchSignatureReason(statement, batch.statement, batch.signature, context.keys)) ??
    batchLeavesReason(
      statement,
      batch.leaves.length,
      (i) => batch.leaves[i]!.receivedAt,
      (i) => batch.leaves[i]!.eventId,
    ) ??
    batchRootReason(statement, () => toHex(batchRoot(batch.leaves)));
  return reason === undefined ? { ok: true, statement } : { ok: false, reason, statement };
}

/** checkSignedBatch's first step: the statement names this ledger (and batch) and lies in the period. */
export function batchContextReason(
  statement: BatchStatement,
  context: Pick<BatchContext, 'ledger' | 'period'>,
  batchId?: string,
): string | undefined {
  if (statement.ledger !== context.ledger) return `the statement names ledger ${statement.ledger}`;
  if (batchId !== undefined && statement.batchId !== batchId) {
    return `the statement names batch ${statement.batchId}, not ${batchId}`;
  }
  const from = Date.parse(statement.receivedFrom);
  const to = Date.parse(statement.receivedTo);
  if (!(from >= context.period.startMs && to < periodEndMs(context.period))) {
    return 'the batch is not received inside this period';
  }
  return undefined;
}

/** checkSignedBatch's second step: a trusted key signs the statement's exact bytes. */
export async function batchSignatureReason(
  statement: BatchStatement,
  statementText: string,
  signature: Uint8Array,
  keys: KeyLookup,
): Promise<string | undefined> {
  const key = keys.get(statement.keyId);
  if (!key) return `the batch is signed by untrusted key ${statement.keyId}`;
  if (!(await verifyStatementSignature(key.key, Buffer.from(statementText, 'utf8'), signature))) {
    return 'the batch signature does not verify';
  }
  return undefined;
}

/** checkSignedBatch's third step: the statement signs as many leaves as listed, each inside its range. */
export function batchLeavesReason(
  statement: BatchStatement,
  count: number,
  receivedAt: (i: number) => string,
  eventId: (i: number) => string,
): string | undefined {
  if (count !== statement.treeSize) {
    return `the batch lists ${count} leaves; its statement signs ${statement.treeSize}`;
  }
  for (let i = 0; i < count; i++) {
    const at = receivedAt(i);
    if (at < statement.receivedFrom || at > statement.receivedTo) {
      return `leaf ${eventId(i)} is received outside the batch's signed range`;
    }
  }
  return undefined;
}

/** checkSignedBatch's last step: the listed leaves reproduce the signed root (`root` may throw). */
export function batchRootReason(statement: BatchStatement, root: () => string): string | undefined {
  let computed: string;
  try {
    computed = root();
  } catch (error) {
    return `a leaf is malformed: ${(error as Error).message}`;
  }
  return computed === statement.rootHash ? undefined : 'the listed leaves do not reproduce the signed root';
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

/** `auditseal verify-receipt FILE`: checks one receipt (or an array of receipts) offline. */
import { readFile } from 'node:fs/promises';
import { checkReceipt, type ReceiptCheck } from '../../shared/ledger/batch-receipts.ts';
import { UsageError } from '../errors.ts';
import { loadTrustedKeys } from '../trusted-keys.ts';

export async function runVerifyReceipt(file: string, keyPaths: string[]): Promise<ReceiptCheck[]> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`cannot read receipt ${file}: ${(error as Error).message}`);
  }
  const keys = await loadTrustedKeys(keyPaths);
  return (Array.isArray(value) ? value : [value]).map((r) => checkReceipt(r, keys));
}

export function renderReceipts(file: string, checks: ReceiptCheck[]): string {
  return checks
    .map((c) =>
      c.ok
        ? `VALID   ${c.receipt.eventId}: leaf ${c.receipt.leafIndex + 1} of ${c.statement.treeSize} in batch ${c.statement.batchId}, signed by ${c.statement.keyId}, received ${c.statement.receivedAt}`
        : `INVALID ${c.eventId ?? file}: ${c.code}: ${c.message}`,
    )
    .join('\n');
}

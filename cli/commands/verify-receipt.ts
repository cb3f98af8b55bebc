/** `auditseal verify-receipt FILE [--event FILE]`: checks one receipt (or an array of receipts) offline. */
import { readFile } from 'node:fs/promises';
import {
  checkReceipt,
  checkReceiptAgainstEvent,
  type ReceiptCheck,
} from '../../shared/ledger/batch-receipts.ts';
import { UsageError } from '../errors.ts';
import { loadTrustedKeys } from '../trusted-keys.ts';

/** Most bytes read from a receipt or event file. */
const MAX_FILE_BYTES = 16 * 1024 * 1024;

async function readSmallFile(path: string, what: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new UsageError(`cannot read ${what} ${path}: ${(error as Error).message}`);
  }
  if (bytes.length > MAX_FILE_BYTES) throw new UsageError(`${what} ${path} is larger than 16 MiB`);
  return bytes;
}

/**
 * Checks each receipt on its own (key, signature, inclusion of its event id, time and leaf hash in the
 * signed batch root) and, with `eventFile`, that the receipt is about that very event: its stored
 * canonical bytes hash to the receipt's leaf, and its id and receivedAt are the receipt's.
 */
export async function runVerifyReceipt(
  file: string,
  keyPaths: string[],
  eventFile?: string,
): Promise<ReceiptCheck[]> {
  let value: unknown;
  try {
    value = JSON.parse((await readSmallFile(file, 'receipt')).toString('utf8'));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot read receipt ${file}: ${(error as Error).message}`);
  }
  const keys = await loadTrustedKeys(keyPaths);
  const event = eventFile === undefined ? undefined : await readSmallFile(eventFile, 'event');
  const receipts = Array.isArray(value) ? value : [value];
  if (event !== undefined && receipts.length !== 1) {
    throw new UsageError('--event checks one receipt: the receipt file holds an array');
  }
  return receipts.map((r): ReceiptCheck => {
    const check = checkReceipt(r, keys);
    if (!check.ok || event === undefined) return check;
    const match = checkReceiptAgainstEvent(check.receipt, event);
    return match.ok
      ? check
      : { ok: false, code: 'RECEIPT_EVENT_MISMATCH', message: match.message, eventId: check.receipt.eventId };
  });
}

export function renderReceipts(file: string, checks: ReceiptCheck[]): string {
  return checks
    .map((c) =>
      c.ok
        ? `VALID   ${c.receipt.eventId}: leaf ${c.receipt.leafIndex + 1} of ${c.statement.treeSize} in batch ${c.statement.batchId}, signed by ${c.statement.keyId}, received ${c.receipt.receivedAt}`
        : `INVALID ${c.eventId ?? file}: ${c.code}: ${c.message}`,
    )
    .join('\n');
}

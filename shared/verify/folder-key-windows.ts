/**
 * Key windows from the key records a folder holds (`keys/<ledger>/<keyId>.key.json`, FORMAT.md §9.4, as
 * `download` leaves them). The folder is hostile, so a record counts only when it checks out and is signed
 * by a key the auditor trusts (`--key`): records can only narrow what a trusted key is accepted for.
 */
import {
  type CheckedKeyRecord,
  checkKeyRecord,
  type KeyWindow,
  keyWindows,
  MAX_KEY_RECORD_BYTES,
  parseKeyRecordObjectKey,
} from '../keys/key-record.ts';
import type { ObjectReader } from './object-reader.ts';

/**
 * @example const keyWindow = await folderKeyWindows(reader, trustedKeys); keyWindow('prod', keyId)
 */
export async function folderKeyWindows(
  reader: ObjectReader,
  trusted: { has(keyId: string): boolean },
): Promise<(ledger: string, keyId: string) => KeyWindow | undefined> {
  const byLedger = new Map<string, CheckedKeyRecord[]>();
  for (const object of (await reader.list('keys/')).sort()) {
    const named = parseKeyRecordObjectKey(object);
    if (!named) continue;
    let bytes: Buffer | undefined;
    try {
      bytes = await reader.read(object, MAX_KEY_RECORD_BYTES + 1);
    } catch {
      // Not a regular file: a record that cannot be read only removes a check.
      continue;
    }
    const checked = bytes ? await checkKeyRecord(bytes) : undefined;
    if (!checked || checked.statement.keyId !== named.keyId || checked.statement.ledger !== named.ledger) {
      continue;
    }
    byLedger.set(named.ledger, [...(byLedger.get(named.ledger) ?? []), checked]);
  }
  const windows = new Map(
    [...byLedger].map(([ledger, records]) => [ledger, keyWindows(ledger, records, trusted)] as const),
  );
  return (ledger, keyId) => windows.get(ledger)?.get(keyId);
}

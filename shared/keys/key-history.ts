/**
 * A ledger's key history as the service reads it from its own bucket: starting from the key it signs
 * with now, each key's record names the key it replaced, back to the first key. The service trusts each
 * earlier key because the record of its successor, signed by a key it already trusts, names it.
 */
import { z } from 'zod';
import { loadPublicKey, type TrustedKey } from '../crypto/keys.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import {
  type CheckedKeyRecord,
  checkKeyRecord,
  keyRecordObjectKey,
  keyRecordSchema,
  keyWindows,
} from './key-record.ts';

/** More keys than a ledger will ever rotate through: bounds the walk over a hostile bucket. */
export const MAX_KEY_HISTORY = 1000;

/** One key of the history, newest first, with its window and its record (when it has one). */
export interface KeyHistoryEntry {
  readonly keyId: string;
  readonly publicKeyPem: string;
  /** ISO times; null when no record says (a first key's start, the current key's end). */
  readonly notBefore: string | null;
  readonly notAfter: string | null;
  readonly status: 'active' | 'retired';
  /** The signed record of this key, exactly as stored, or null when none was written. */
  readonly record: CheckedKeyRecord['record'] | null;
}

/** Why the walk stopped early: a record that does not check out, or a loop. Reported, never thrown. */
export interface KeyHistory {
  readonly entries: KeyHistoryEntry[];
  readonly problems: string[];
}

/**
 * Walks the records from `currentPublicKeyPem` back to the first key.
 * @example const { entries } = await readKeyHistory(objects, 'prod', await signer.publicKeyPem());
 */
export async function readKeyHistory(
  objects: Pick<ObjectStore, 'get'>,
  ledger: string,
  currentPublicKeyPem: string,
): Promise<KeyHistory> {
  const problems: string[] = [];
  const records: CheckedKeyRecord[] = [];
  const keys: TrustedKey[] = [];
  let key: TrustedKey | null = loadPublicKey(currentPublicKeyPem);
  while (key !== null && keys.length < MAX_KEY_HISTORY) {
    if (keys.some((k) => k.keyId === key!.keyId)) {
      problems.push(`the key records loop back to key ${key.keyId}`);
      break;
    }
    keys.push(key);
    const objectKey = keyRecordObjectKey(ledger, key.keyId);
    const bytes = await objects.get(objectKey);
    if (bytes === undefined) break;
    const checked = await checkKeyRecord(bytes);
    if (!checked || checked.key.keyId !== key.keyId || checked.statement.ledger !== ledger) {
      problems.push(`${objectKey} is not a record of key ${key.keyId} signed by it`);
      break;
    }
    records.push(checked);
    key =
      checked.record.previousPublicKeyPem === null
        ? null
        : loadPublicKey(checked.record.previousPublicKeyPem);
  }
  const known = new Set(keys.map((k) => k.keyId));
  const windows = keyWindows(ledger, records, known);
  const entries = keys.map((k, index): KeyHistoryEntry => {
    const w = windows.get(k.keyId);
    return {
      keyId: k.keyId,
      publicKeyPem: k.pem,
      notBefore: w?.notBeforeMs == null ? null : new Date(w.notBeforeMs).toISOString(),
      notAfter: w?.notAfterMs == null ? null : new Date(w.notAfterMs).toISOString(),
      status: index === 0 ? 'active' : 'retired',
      record: records.find((r) => r.key.keyId === k.keyId)?.record ?? null,
    };
  });
  return { entries, problems };
}

/** `GET /v1/keys`: every key that has signed for the ledger, newest first, with its window and record. */
export const keyListResponseSchema = z.object({
  keys: z.array(
    z.object({
      keyId: z
        .string()
        .regex(/^[0-9a-f]{64}$/)
        .meta({ description: 'SHA-256 of the SPKI DER (fingerprint)' }),
      publicKeyPem: z.string(),
      notBefore: z.string().nullable().meta({ description: 'when the key took over; null for a first key' }),
      notAfter: z.string().nullable().meta({ description: 'when the next key took over; null while active' }),
      status: z.enum(['active', 'retired']),
      record: keyRecordSchema.nullable().meta({ description: 'the signed key record (FORMAT.md §9.4)' }),
    }),
  ),
});

/**
 * Key records: the signed history of a ledger's signing keys (docs/FORMAT.md §9.4).
 *
 * A rotation writes one record for the key that takes over, signed by that key, naming the key it
 * replaces and the time it took over (`notBefore`). The replaced key's window ends there: a statement
 * that could only have been signed at or after that time (a digest of a period that ended then or later,
 * a batch received then or later) but names the replaced key was not signed by the service while that key
 * was in service: `KEY_OUTSIDE_WINDOW`.
 *
 * Checking a record goes through the platform crypto port (shared/platform), so the CLI and the auditor's
 * page (WebCrypto) run this same code; signing one is Node only.
 *
 * Records only ever narrow trust. A record counts only when its own key is trusted by the auditor, so a
 * forged record (signed by an untrusted or a stolen retired key) cannot shorten a window; deleting a
 * record only removes a check, never hides a forgery that other checks see.
 */

import { z } from 'zod';
import { canonicalString, parseCanonicalText } from '../canonical/jcs.ts';
import { loadPublicKey } from '../crypto/keys.ts';
import { assertLedgerId } from '../ledger/object-keys.ts';
import { importP256PublicKeys, type PortPublicKey } from '../platform/crypto.ts';
import { verifyStatementSignature } from '../platform/statement-signature.ts';
import type { Signer } from '../ports/signer.ts';

export const KEY_STATEMENT_TYPE = 'auditseal.key-statement.v1';
export const KEY_RECORD_TYPE = 'auditseal.key-record.v1';
/** A record holds two PEMs and a statement: far below this. */
export const MAX_KEY_RECORD_BYTES = 16 * 1024;

const KEY_ID = /^[0-9a-f]{64}$/;
const MILLIS_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The signed part of a key record. */
export const keyStatementSchema = z
  .object({
    type: z.literal(KEY_STATEMENT_TYPE),
    ledger: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
    keyId: z.string().regex(KEY_ID),
    /** When the key took over; null for a ledger's first key, recorded when it was first replaced. */
    notBefore: z.string().regex(MILLIS_TIME).nullable(),
    /** The key it replaced, whose window ends at `notBefore`; null for a ledger's first key. */
    previousKeyId: z.string().regex(KEY_ID).nullable(),
  })
  .strict()
  .refine((s) => (s.notBefore === null) === (s.previousKeyId === null), {
    message: 'notBefore and previousKeyId are both null (first key) or both set',
  })
  .refine((s) => s.previousKeyId !== s.keyId, { message: 'a key cannot replace itself' });
export type KeyStatement = z.infer<typeof keyStatementSchema>;

/** The stored record: the statement's JCS bytes as a string, its signature, and the public keys named. */
export const keyRecordSchema = z
  .object({
    type: z.literal(KEY_RECORD_TYPE),
    statement: z.string().min(1).max(4096),
    signature: z.base64().min(8).max(100),
    publicKeyPem: z.string().min(1).max(4096),
    previousPublicKeyPem: z.string().min(1).max(4096).nullable(),
  })
  .strict();
export type KeyRecord = z.infer<typeof keyRecordSchema>;

/** A record whose signature and key ids check out, with its keys as the crypto port imported them. */
export interface CheckedKeyRecord {
  readonly statement: KeyStatement;
  readonly record: KeyRecord;
  readonly key: PortPublicKey;
  readonly previousKey: PortPublicKey | null;
}

/** A key's time in service, as the trusted records say it. Times are epoch milliseconds. */
export interface KeyWindow {
  readonly keyId: string;
  readonly notBeforeMs: number | null;
  readonly notAfterMs: number | null;
}

/** Object key of a key record: `keys/<ledger>/<keyId>.key.json`, in the bucket and in a folder. */
export function keyRecordObjectKey(ledger: string, keyId: string): string {
  assertLedgerId(ledger);
  if (!KEY_ID.test(keyId)) throw new TypeError(`not a key id: ${keyId}`);
  return `keys/${ledger}/${keyId}.key.json`;
}

/** Parses `keys/<ledger>/<keyId>.key.json`, or undefined for any other key. */
export function parseKeyRecordObjectKey(key: string): { ledger: string; keyId: string } | undefined {
  const match = /^keys\/([a-z0-9][a-z0-9-]{0,62})\/([0-9a-f]{64})\.key\.json$/.exec(key);
  return match ? { ledger: match[1]!, keyId: match[2]! } : undefined;
}

/**
 * Signs the record of `signer`'s key. `previous` is the key it replaces (null for a first key, whose
 * `notBefore` is then null too).
 * @example await signKeyRecord(newKeySigner, { ledger, notBefore: new Date(), previousPublicKeyPem: oldPem })
 */
export async function signKeyRecord(
  signer: Signer,
  input: { ledger: string; notBefore: Date | null; previousPublicKeyPem: string | null },
): Promise<KeyRecord> {
  const key = loadPublicKey(await signer.publicKeyPem());
  const previous = input.previousPublicKeyPem === null ? null : loadPublicKey(input.previousPublicKeyPem);
  if ((previous === null) !== (input.notBefore === null)) {
    throw new TypeError('a first key has neither a previous key nor a notBefore; a successor has both');
  }
  const statement: KeyStatement = {
    type: KEY_STATEMENT_TYPE,
    ledger: input.ledger,
    keyId: key.keyId,
    notBefore: input.notBefore?.toISOString() ?? null,
    previousKeyId: previous?.keyId ?? null,
  };
  const text = canonicalString(keyStatementSchema.parse(statement));
  const signature = await signer.sign(Buffer.from(text, 'utf8'));
  return {
    type: KEY_RECORD_TYPE,
    statement: text,
    signature: Buffer.from(signature).toString('base64'),
    publicKeyPem: key.pem,
    previousPublicKeyPem: previous?.pem ?? null,
  };
}

/** The canonical bytes a record is stored as. */
export function keyRecordBytes(record: KeyRecord): Uint8Array {
  return Buffer.from(canonicalString(record), 'utf8');
}

/**
 * Checks a stored record: canonical JSON of the record shape, a canonical key statement, PEMs whose key
 * ids are the ones the statement names, and a signature by the record's own key. Says nothing about
 * whether that key is trusted: that is the caller's decision. Returns undefined for anything else.
 */
export async function checkKeyRecord(bytes: Uint8Array): Promise<CheckedKeyRecord | undefined> {
  if (bytes.length === 0 || bytes.length > MAX_KEY_RECORD_BYTES) return undefined;
  const record = parseCanonicalText(Buffer.from(bytes).toString('utf8'), keyRecordSchema);
  if (!record) return undefined;
  const statement = parseCanonicalText(record.statement, keyStatementSchema);
  if (!statement) return undefined;
  let key: PortPublicKey;
  let previousKey: PortPublicKey | null;
  try {
    key = await onePublicKey(record.publicKeyPem);
    previousKey =
      record.previousPublicKeyPem === null ? null : await onePublicKey(record.previousPublicKeyPem);
  } catch {
    return undefined;
  }
  if (key.keyId !== statement.keyId || (previousKey?.keyId ?? null) !== statement.previousKeyId) {
    return undefined;
  }
  const signature = Buffer.from(record.signature, 'base64');
  if (!(await verifyStatementSignature(key.key, Buffer.from(record.statement, 'utf8'), signature))) {
    return undefined;
  }
  return { statement, record, key, previousKey };
}

/** Exactly one P-256 public key, as `loadPublicKey` (shared/crypto/keys.ts) accepts it. */
async function onePublicKey(pem: string): Promise<PortPublicKey> {
  const keys = await importP256PublicKeys(pem);
  if (keys.length !== 1) throw new TypeError(`expected exactly one PUBLIC KEY block, found ${keys.length}`);
  return keys[0]!;
}

/**
 * The windows of the trusted keys of one ledger, from its checked records. Only records signed by a
 * trusted key count. A key's window ends at the earliest `notBefore` of a trusted record that names it as
 * the key it replaced; it starts at its own trusted record's `notBefore` (informational: see
 * `signedOutsideWindow`). Keys without any trusted record are absent: nothing bounds them.
 */
export function keyWindows(
  ledger: string,
  records: readonly CheckedKeyRecord[],
  trusted: { has(keyId: string): boolean },
): Map<string, KeyWindow> {
  const windows = new Map<string, { notBeforeMs: number | null; notAfterMs: number | null }>();
  const window = (keyId: string) => {
    const found = windows.get(keyId) ?? { notBeforeMs: null, notAfterMs: null };
    windows.set(keyId, found);
    return found;
  };
  for (const { statement } of records) {
    if (statement.ledger !== ledger || !trusted.has(statement.keyId)) continue;
    const atMs = statement.notBefore === null ? null : Date.parse(statement.notBefore);
    const own = window(statement.keyId);
    if (atMs !== null && (own.notBeforeMs === null || atMs < own.notBeforeMs)) own.notBeforeMs = atMs;
    if (statement.previousKeyId !== null && atMs !== null && trusted.has(statement.previousKeyId)) {
      const previous = window(statement.previousKeyId);
      if (previous.notAfterMs === null || atMs < previous.notAfterMs) previous.notAfterMs = atMs;
    }
  }
  return new Map([...windows].map(([keyId, w]) => [keyId, { keyId, ...w }]));
}

/**
 * True when a statement that cannot have been signed before `earliestSigningMs` names a key that was
 * already replaced by then. Only the end of a window is a check: a statement's own times say when it
 * could have been signed at the earliest (a period is sealed after it ends, a batch is signed after its
 * events are received), never at the latest, so a key may rightly sign a period that ended before it
 * took over (sealing that lagged across a rotation).
 */
export function signedOutsideWindow(window: KeyWindow | undefined, earliestSigningMs: number): boolean {
  return window?.notAfterMs != null && earliestSigningMs >= window.notAfterMs;
}

/**
 * EC P-256 keys: loading, naming and statement verification.
 *
 * A key is named by its key id: the hex SHA-256 of its SubjectPublicKeyInfo DER (RFC 5280 §4.1.2.7,
 * RFC 5480 §2) in canonical form: named curve `prime256v1` and an uncompressed point, which is what KMS
 * `GetPublicKey` and `openssl pkey -pubin -outform DER` produce. A PEM holding a compressed point is
 * accepted and names the same key.
 *
 * Signatures are ECDSA with SHA-256 (FIPS 186-5), DER-encoded as `Ecdsa-Sig-Value` (RFC 5480 §2.2.3),
 * exactly as KMS `Sign` returns them and as `openssl dgst -sha256 -verify` expects them.
 */

import type { KeyObject } from 'node:crypto';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { MAX_STATEMENT_BYTES } from '../ports/signer.ts';
import { KeyError } from './errors.ts';

/** OpenSSL's name for NIST P-256 (secp256r1), as reported by `KeyObject.asymmetricKeyDetails`. */
const P256_CURVE = 'prime256v1';

/** Longest DER `Ecdsa-Sig-Value` for P-256: SEQUENCE header plus two 33-byte INTEGERs with headers. */
export const MAX_P256_DER_SIGNATURE_BYTES = 72;
/** Shortest well-formed DER `Ecdsa-Sig-Value`: two one-byte INTEGERs. */
const MIN_DER_SIGNATURE_BYTES = 8;

/** A public key the verifier trusts, under its key id. `pem` is the canonical SPKI PEM. */
export interface TrustedKey {
  readonly keyId: string;
  readonly pem: string;
  readonly key: KeyObject;
}

/** A private key ready to sign, with its public half and key id. */
export interface SigningKey {
  readonly keyId: string;
  readonly publicKeyPem: string;
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
}

/** Hex SHA-256 of SPKI DER bytes. Callers pass canonical DER; see `publicKeyFromSpkiDer`. */
export function keyIdFromSpkiDer(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

/**
 * Loads exactly one EC P-256 public key from an SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
 * Private keys, certificates and other key types are refused, never silently converted.
 */
export function loadPublicKey(pem: string): TrustedKey {
  const keys = loadPublicKeys(pem);
  if (keys.length !== 1) {
    throw new KeyError('BAD_PEM', `expected exactly one PUBLIC KEY block, found ${keys.length}`);
  }
  return keys[0]!;
}

/** Loads every public key of a PEM text. Any block that is not a P-256 `PUBLIC KEY` is an error. */
export function loadPublicKeys(pem: string): TrustedKey[] {
  const blocks = parsePemBlocks(pem);
  if (blocks.length === 0) {
    throw new KeyError('NO_KEYS', 'no PEM block found');
  }
  return blocks.map((block) => {
    if (block.label !== 'PUBLIC KEY') {
      throw new KeyError('NOT_A_PUBLIC_KEY', `expected a PUBLIC KEY (SPKI) block, found ${block.label}`);
    }
    return publicKeyFromSpkiDer(block.der);
  });
}

/** Builds a trusted key from SPKI DER, such as the `PublicKey` field of KMS `GetPublicKey`. */
export function publicKeyFromSpkiDer(der: Uint8Array): TrustedKey {
  let parsed: KeyObject;
  try {
    parsed = createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
  } catch (cause) {
    throw new KeyError('BAD_PEM', 'public key is not valid SubjectPublicKeyInfo DER', { cause });
  }
  assertP256(parsed);
  return toTrustedKey(parsed);
}

/** Loads an EC P-256 private key from a PKCS#8 (`PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`) PEM. */
export function loadPrivateKey(pem: string): SigningKey {
  // `openssl ecparam -genkey` writes an `EC PARAMETERS` block before the key; it adds nothing.
  const blocks = parsePemBlocks(pem).filter((block) => block.label !== 'EC PARAMETERS');
  if (blocks.length !== 1) {
    throw new KeyError('BAD_PEM', `expected exactly one private key block, found ${blocks.length}`);
  }
  const block = blocks[0]!;
  if (block.encrypted) {
    throw new KeyError('BAD_PEM', 'encrypted private keys are not supported; decrypt with `openssl pkey`');
  }
  const type = PRIVATE_KEY_TYPES[block.label];
  if (type === undefined) {
    throw new KeyError(
      'NOT_A_PRIVATE_KEY',
      `expected a PRIVATE KEY (PKCS#8) or EC PRIVATE KEY (SEC1) block, found ${block.label}`,
    );
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: block.der, format: 'der', type });
  } catch (cause) {
    throw new KeyError('BAD_PEM', `${block.label} block is not a valid ${type} private key`, { cause });
  }
  assertP256(privateKey);
  const trusted = toTrustedKey(createPublicKey(privateKey));
  return { keyId: trusted.keyId, publicKeyPem: trusted.pem, publicKey: trusted.key, privateKey };
}

/**
 * True when `derSignature` is a valid ECDSA P-256 / SHA-256 signature of `statement` under `key`.
 * Signature and statement are attacker-controlled: sizes are checked before hashing, and a malformed or
 * non-canonical DER signature yields false, never an exception.
 */
export function verifyStatement(key: KeyObject, statement: Uint8Array, derSignature: Uint8Array): boolean {
  if (key.type !== 'public') {
    throw new KeyError('NOT_A_PUBLIC_KEY', `verifyStatement needs a public key, got a ${key.type} key`);
  }
  assertP256(key);
  if (statement.length === 0 || statement.length > MAX_STATEMENT_BYTES) return false;
  if (derSignature.length < MIN_DER_SIGNATURE_BYTES || derSignature.length > MAX_P256_DER_SIGNATURE_BYTES) {
    return false;
  }
  try {
    return verify('sha256', statement, { key, dsaEncoding: 'der' }, derSignature);
  } catch {
    // OpenSSL raises on DER it cannot decode; for a verifier that is simply a bad signature.
    return false;
  }
}

/** The public keys a verifier accepts, by key id. Several keys allow rotation. */
export class TrustedKeySet {
  readonly #keys = new Map<string, TrustedKey>();

  constructor(keys: Iterable<TrustedKey>) {
    for (const key of keys) {
      if (!this.#keys.has(key.keyId)) this.#keys.set(key.keyId, key);
    }
  }

  /**
   * Reads every PUBLIC KEY block of every file. Errors name the file.
   * @example const keys = await TrustedKeySet.fromPemFiles(['keys/2025.pem', 'keys/2026.pem']);
   */
  static async fromPemFiles(paths: readonly string[]): Promise<TrustedKeySet> {
    const loaded: TrustedKey[] = [];
    for (const path of paths) {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (cause) {
        throw new KeyError('KEY_FILE_UNREADABLE', `cannot read key file ${path}`, { cause });
      }
      try {
        loaded.push(...loadPublicKeys(text));
      } catch (error) {
        if (error instanceof KeyError) {
          throw new KeyError(error.code, `${path}: ${error.message}`, { cause: error });
        }
        throw error;
      }
    }
    return new TrustedKeySet(loaded);
  }

  get(keyId: string): TrustedKey | undefined {
    return this.#keys.get(keyId);
  }

  has(keyId: string): boolean {
    return this.#keys.has(keyId);
  }

  /** Key ids in the order the keys were first given. */
  ids(): string[] {
    return [...this.#keys.keys()];
  }

  get size(): number {
    return this.#keys.size;
  }
}

/** A fresh P-256 key pair as PEM: PKCS#8 private key and SPKI public key. */
export function generateKeyPairPem(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', {
    namedCurve: P256_CURVE,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

const PRIVATE_KEY_TYPES: Partial<Record<string, 'pkcs8' | 'sec1'>> = {
  'PRIVATE KEY': 'pkcs8',
  'EC PRIVATE KEY': 'sec1',
};

interface PemBlock {
  readonly label: string;
  readonly der: Buffer;
  readonly encrypted: boolean;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;
const BASE64_BODY = /^[A-Za-z0-9+/=\s]*$/;

/** RFC 7468 text encoding. Text outside blocks is allowed, as OpenSSL allows it. */
function parsePemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(PEM_BLOCK)) {
    const [, label = '', rawBody = '', endLabel] = match;
    if (label !== endLabel) {
      throw new KeyError('BAD_PEM', `PEM block BEGIN ${label} ends with END ${endLabel}`);
    }
    // RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`) only appear in legacy encrypted private keys.
    const encrypted = label === 'ENCRYPTED PRIVATE KEY' || rawBody.includes('Proc-Type:');
    const body = rawBody.replace(/^[A-Za-z-]+:.*$/gm, '');
    if (!BASE64_BODY.test(body)) {
      throw new KeyError('BAD_PEM', `PEM block ${label} has a body that is not base64`);
    }
    const der = Buffer.from(body.replace(/\s/g, ''), 'base64');
    if (der.length === 0) {
      throw new KeyError('BAD_PEM', `PEM block ${label} is empty`);
    }
    blocks.push({ label, der, encrypted });
  }
  const begins = text.split('-----BEGIN ').length - 1;
  if (begins !== blocks.length) {
    throw new KeyError('BAD_PEM', 'PEM text has a BEGIN line without its END line');
  }
  return blocks;
}

function assertP256(key: KeyObject): void {
  if (key.asymmetricKeyType !== 'ec') {
    throw new KeyError(
      'WRONG_KEY_TYPE',
      `expected an EC P-256 key, got ${key.asymmetricKeyType ?? 'a secret key'}`,
    );
  }
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (curve !== P256_CURVE) {
    throw new KeyError(
      'WRONG_CURVE',
      `expected curve P-256 (prime256v1), got ${curve ?? 'explicit parameters'}`,
    );
  }
}

/** Re-encodes through JWK so that every encoding of a point yields the same uncompressed SPKI. */
function toTrustedKey(publicKey: KeyObject): TrustedKey {
  const key = createPublicKey({ key: publicKey.export({ format: 'jwk' }), format: 'jwk' });
  const der = key.export({ type: 'spki', format: 'der' });
  const pem = key.export({ type: 'spki', format: 'pem' }).toString();
  return { keyId: keyIdFromSpkiDer(der), pem, key };
}

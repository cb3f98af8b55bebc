/**
 * The hashing and signature port of the verification core: the one place `shared/` code that must also
 * run in a browser (the auditor's page, docs/UI.md) gets SHA-256 and ECDSA P-256 from.
 *
 * This file is the Node implementation (node:crypto, OpenSSL): the CLI, the functions and the tests use
 * it, exactly as fast as calling node:crypto directly. The browser bundle (scripts/build.mjs) replaces it
 * with `crypto.browser.ts`, which exports the same names: a synchronous SHA-256 written in JavaScript
 * (WebCrypto has no synchronous digest, and the Merkle code hashes millions of 65-byte nodes, where a
 * call into an async API costs more than the hash) and ECDSA verification with WebCrypto
 * (`crypto.subtle.verify`). `test/unit/platform/crypto-port.test.ts` checks both against each other.
 *
 * SHA-256: FIPS 180-4. ECDSA: FIPS 186-5 with SHA-256, signatures as DER `Ecdsa-Sig-Value`
 * (RFC 5480 §2.2.3), the form KMS `Sign` returns.
 */
import { createHash, hash, type KeyObject, verify, type webcrypto } from 'node:crypto';
import { loadPublicKeys } from '../crypto/keys.ts';
import { MAX_P256_DER_SIGNATURE_BYTES, MIN_P256_DER_SIGNATURE_BYTES } from './ecdsa-der-bounds.ts';
import { writeDigest } from './write-digest.ts';

/** A public key the port can verify with: a node:crypto KeyObject, or a WebCrypto CryptoKey. */
export type PublicKeyHandle = KeyObject | webcrypto.CryptoKey;

export { MAX_P256_DER_SIGNATURE_BYTES, MIN_P256_DER_SIGNATURE_BYTES };

/** A public key imported through the port, under its key id (hex SHA-256 of the canonical SPKI DER). */
export interface PortPublicKey {
  readonly keyId: string;
  readonly key: PublicKeyHandle;
}

/** Which implementation this is (`node` here, `browser` in the page's bundle). */
export const CRYPTO_PLATFORM: 'node' | 'browser' = 'node';

/** SHA-256 of bytes, or of a string's UTF-8 bytes. */
export function sha256(data: Uint8Array | string): Buffer {
  return hash('sha256', data, 'buffer') as unknown as Buffer;
}

/**
 * SHA-256 as a 'binary' (latin1) string of 32 chars, one per byte: the cheapest form to take many small
 * digests in and pack them into one buffer (`buffer.write(digest, offset, 32, 'latin1')`).
 */
export function sha256Binary(data: Uint8Array | string): string {
  return hash('sha256', data, 'binary');
}

// A module-local copy: under a CommonJS transform (tsx) every read of an imported binding is a getter call.
const write = writeDigest;

/**
 * Writes SHA-256 of `data` into `target[offset…offset+32)`: the form the Merkle and verification code
 * packs its many small digests in. Here the 'binary' digest string is copied in by `writeDigest`
 * (write-digest.ts); the browser port hashes straight into `target`.
 */
export function sha256Into(data: Uint8Array | string, target: Uint8Array, offset: number): void {
  write(target, offset, hash('sha256', data, 'binary'));
}

/** Lowercase hex SHA-256 of bytes, or of a string's UTF-8 bytes. */
export function sha256Hex(data: Uint8Array | string): string {
  return hash('sha256', data, 'hex');
}

/** SHA-256 of the concatenation of `parts`, without concatenating them. */
export function sha256Parts(parts: readonly Uint8Array[]): Buffer {
  const h = createHash('sha256');
  for (const part of parts) h.update(part);
  return h.digest();
}

/**
 * True when `derSignature` is a valid ECDSA P-256 / SHA-256 signature of `data` under `key`. A malformed
 * or non-canonical DER signature is false, never an exception. Asynchronous because WebCrypto is.
 */
export async function verifyP256Sha256(
  key: PublicKeyHandle,
  data: Uint8Array,
  derSignature: Uint8Array,
): Promise<boolean> {
  return verifyP256Sha256Sync(key, data, derSignature);
}

/**
 * `verifyP256Sha256`, synchronously: Node only (the synchronous client API). The browser implementation
 * throws, since WebCrypto verifies only asynchronously.
 */
export function verifyP256Sha256Sync(
  key: PublicKeyHandle,
  data: Uint8Array,
  derSignature: Uint8Array,
): boolean {
  if (
    derSignature.length < MIN_P256_DER_SIGNATURE_BYTES ||
    derSignature.length > MAX_P256_DER_SIGNATURE_BYTES
  ) {
    return false;
  }
  try {
    return verify('sha256', data, { key: key as KeyObject, dsaEncoding: 'der' }, derSignature);
  } catch {
    // OpenSSL raises on DER it cannot decode; for a verifier that is simply a bad signature.
    return false;
  }
}

/**
 * Every EC P-256 public key (`PUBLIC KEY`, SPKI) of a PEM text, ready for `verifyP256Sha256`. Throws on a
 * text without a block, or with any block that is not a P-256 public key. Node: `loadPublicKeys`
 * (shared/crypto/keys.ts), exactly; browser: WebCrypto `importKey('spki')` (webcrypto-keys.ts).
 */
export async function importP256PublicKeys(pem: string): Promise<PortPublicKey[]> {
  return loadPublicKeys(pem).map(({ keyId, key }) => ({ keyId, key }));
}

/**
 * The browser implementation of the hashing and signature port (see `crypto.ts`, whose names it exports):
 * the page's bundle uses this file in place of `crypto.ts`. SHA-256 is synchronous JavaScript
 * (`sha256-js.ts`): the Merkle code needs a synchronous digest, and WebCrypto has none. Signatures are
 * checked with WebCrypto (`crypto.subtle.verify`, ECDSA P-256 with SHA-256).
 *
 * It runs in Node too (Node has `globalThis.crypto.subtle`), which is how the unit tests compare it with
 * the Node implementation.
 */
import type { webcrypto } from 'node:crypto';
import type { PortPublicKey, PublicKeyHandle } from './crypto.ts';
import { p256SignatureFromDer } from './ecdsa-der.ts';
import { sha256JsBinary, sha256JsInto, sha256JsOneInto } from './sha256-js.ts';
import { loadWebCryptoPublicKeys } from './webcrypto-keys.ts';

export type { PortPublicKey, PublicKeyHandle } from './crypto.ts';
export { MAX_P256_DER_SIGNATURE_BYTES, MIN_P256_DER_SIGNATURE_BYTES } from './ecdsa-der-bounds.ts';

import { MAX_P256_DER_SIGNATURE_BYTES, MIN_P256_DER_SIGNATURE_BYTES } from './ecdsa-der-bounds.ts';

export const CRYPTO_PLATFORM: 'node' | 'browser' = 'browser';

const utf8 = new TextEncoder();
// Strings (event ids, statements) are encoded into this reused buffer rather than a new array per hash.
const textScratch = new Uint8Array(4096);

function bytesOf(data: Uint8Array | string): Uint8Array {
  if (typeof data !== 'string') return data;
  // UTF-8 takes at most 3 bytes per UTF-16 code unit.
  if (data.length * 3 > textScratch.length) return utf8.encode(data);
  return textScratch.subarray(0, utf8.encodeInto(data, textScratch).written);
}

export function sha256(data: Uint8Array | string): Buffer {
  const out = Buffer.allocUnsafe(32);
  sha256JsOneInto(bytesOf(data), out, 0);
  return out;
}

export function sha256Binary(data: Uint8Array | string): string {
  return sha256JsBinary(bytesOf(data));
}

/** SHA-256 of `data` written straight into `target[offset…offset+32)`: no digest string, no copy. */
export function sha256Into(data: Uint8Array | string, target: Uint8Array, offset: number): void {
  sha256JsOneInto(bytesOf(data), target, offset);
}

export function sha256Hex(data: Uint8Array | string): string {
  return sha256(data).toString('hex');
}

export function sha256Parts(parts: readonly Uint8Array[]): Buffer {
  const out = Buffer.allocUnsafe(32);
  sha256JsInto(parts, out, 0);
  return out;
}

export function verifyP256Sha256Sync(_key: PublicKeyHandle, _data: Uint8Array, _sig: Uint8Array): boolean {
  throw new Error('synchronous signature verification is not available in a browser: use the async check');
}

export async function verifyP256Sha256(
  key: PublicKeyHandle,
  data: Uint8Array,
  derSignature: Uint8Array,
): Promise<boolean> {
  if (
    derSignature.length < MIN_P256_DER_SIGNATURE_BYTES ||
    derSignature.length > MAX_P256_DER_SIGNATURE_BYTES
  ) {
    return false;
  }
  const raw = p256SignatureFromDer(derSignature);
  if (!raw) return false;
  try {
    return await globalThis.crypto.subtle.verify(
      { name: 'ECDSA', hash: 'SHA-256' },
      key as webcrypto.CryptoKey,
      raw as Uint8Array<ArrayBuffer>,
      // A copy in a plain ArrayBuffer: WebCrypto refuses views of a SharedArrayBuffer.
      new Uint8Array(data) as Uint8Array<ArrayBuffer>,
    );
  } catch {
    return false;
  }
}

export async function importP256PublicKeys(pem: string): Promise<PortPublicKey[]> {
  return (await loadWebCryptoPublicKeys(pem)).map(({ keyId, key }) => ({ keyId, key }));
}

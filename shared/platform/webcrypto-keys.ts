/**
 * Loading trusted EC P-256 public keys with WebCrypto, for the auditor's page: the browser counterpart
 * of `loadPublicKeys` (shared/crypto/keys.ts, node:crypto). Same rules: every PEM block must be a
 * `PUBLIC KEY` (SPKI) on curve P-256, and the key id is the hex SHA-256 of the canonical SPKI DER (named
 * curve, uncompressed point), which is what WebCrypto exports whatever encoding was imported.
 */
import { sha256JsInto } from './sha256-js.ts';

/** A trusted public key as WebCrypto holds it. */
export interface WebCryptoTrustedKey {
  readonly keyId: string;
  readonly key: CryptoKeyLike;
}

/** The CryptoKey type, without depending on the DOM type definitions. */
export type CryptoKeyLike = import('node:crypto').webcrypto.CryptoKey;

/** A key file that is not a usable P-256 public key. */
export class WebCryptoKeyError extends Error {
  override readonly name = 'WebCryptoKeyError';
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;
const BASE64_BODY = /^[A-Za-z0-9+/=\s]*$/;

/**
 * Every public key of a PEM text, imported for ECDSA P-256 verification.
 * @example const keys = await loadWebCryptoPublicKeys(await file.text());
 */
export async function loadWebCryptoPublicKeys(pem: string): Promise<WebCryptoTrustedKey[]> {
  const blocks = [...pem.matchAll(PEM_BLOCK)];
  if (blocks.length === 0) throw new WebCryptoKeyError('no PEM block found');
  if (pem.split('-----BEGIN ').length - 1 !== blocks.length)
    throw new WebCryptoKeyError('PEM text has a BEGIN line without its END line');
  const keys: WebCryptoTrustedKey[] = [];
  for (const [, label = '', body = '', endLabel] of blocks) {
    if (label !== endLabel) throw new WebCryptoKeyError(`PEM block BEGIN ${label} ends with END ${endLabel}`);
    if (label !== 'PUBLIC KEY')
      throw new WebCryptoKeyError(`expected a PUBLIC KEY (SPKI) block, found ${label}`);
    // As parsePemBlocks (shared/crypto/keys.ts) reads a block: RFC 1421 header lines are dropped, and an
    // empty body is an error, so that a PEM names the same keys on both sides of the port.
    const headerless = body.replace(/^[A-Za-z-]+:.*$/gm, '');
    if (!BASE64_BODY.test(headerless)) throw new WebCryptoKeyError('PEM block has a body that is not base64');
    const der = Buffer.from(headerless.replace(/\s/g, ''), 'base64');
    if (der.length === 0) throw new WebCryptoKeyError('PEM block is empty');
    let key: CryptoKeyLike;
    try {
      key = await globalThis.crypto.subtle.importKey(
        'spki',
        der,
        { name: 'ECDSA', namedCurve: 'P-256' },
        true,
        ['verify'],
      );
    } catch (cause) {
      throw new WebCryptoKeyError('not an EC P-256 SubjectPublicKeyInfo', { cause });
    }
    const canonical = new Uint8Array(await globalThis.crypto.subtle.exportKey('spki', key));
    // The port's own SHA-256 module, not crypto.ts: crypto.browser.ts imports this file.
    const id = new Uint8Array(32);
    sha256JsInto([canonical], id, 0);
    keys.push({ keyId: Buffer.from(id).toString('hex'), key });
  }
  return keys;
}

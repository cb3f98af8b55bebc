import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadPublicKeys } from '../../../shared/crypto/keys.ts';
import * as browserPort from '../../../shared/platform/crypto.browser.ts';
import * as nodePort from '../../../shared/platform/crypto.ts';
import { p256SignatureFromDer } from '../../../shared/platform/ecdsa-der.ts';
import { loadWebCryptoPublicKeys, WebCryptoKeyError } from '../../../shared/platform/webcrypto-keys.ts';

function p256(): { privateKey: KeyObject; pem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { privateKey, pem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** The same public key for both implementations: a KeyObject for Node, a CryptoKey for the browser. */
async function bothKeys(pem: string) {
  const [node] = loadPublicKeys(pem);
  const [browser] = await loadWebCryptoPublicKeys(pem);
  return { node: node!, browser: browser! };
}

describe('Module: platform crypto port', () => {
  describe('Method: sha256, sha256Binary, sha256Into, sha256Hex, sha256Parts', () => {
    it('gives the same digests in the browser implementation as node:crypto, for any bytes and split', () => {
      // Prepare: lengths around the 55/56/64-byte padding boundaries and multi-block inputs.
      const bytes = fc.oneof(
        fc.uint8Array({ minLength: 0, maxLength: 200 }),
        fc.integer({ min: 50, max: 130 }).map((n) => new Uint8Array(n).fill(0xab)),
      );
      fc.assert(
        fc.property(bytes, fc.nat(), (data, cut) => {
          // Act
          const at = data.length === 0 ? 0 : cut % data.length;
          const parts = [data.subarray(0, at), data.subarray(at)];
          // Assess
          expect(browserPort.sha256(data).equals(nodePort.sha256(data))).toBe(true);
          expect(browserPort.sha256Binary(data)).toBe(nodePort.sha256Binary(data));
          expect(browserPort.sha256Hex(data)).toBe(nodePort.sha256Hex(data));
          expect(browserPort.sha256Parts(parts).equals(nodePort.sha256(data))).toBe(true);
        }),
        { numRuns: 500 },
      );
    });

    it('writes the digest into a target at an offset in both implementations, and nothing else', () => {
      fc.assert(
        fc.property(
          fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.string({ unit: 'binary' })),
          fc.nat({ max: 64 }),
          (data, offset) => {
            // Prepare: a target filled with a marker, 32 bytes of room at `offset` and a tail after it.
            const node = new Uint8Array(offset + 40).fill(0x5a);
            const browser = new Uint8Array(offset + 40).fill(0x5a);
            const expected = new Uint8Array(offset + 40).fill(0x5a);
            expected.set(nodePort.sha256(data), offset);
            // Act
            nodePort.sha256Into(data, node, offset);
            browserPort.sha256Into(data, browser, offset);
            // Assess
            expect(Buffer.from(node).equals(expected)).toBe(true);
            expect(Buffer.from(browser).equals(expected)).toBe(true);
          },
        ),
        { numRuns: 300 },
      );
    });

    it('hashes strings as their UTF-8 bytes in both implementations', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'binary' }), (text) => {
          expect(browserPort.sha256Hex(text)).toBe(nodePort.sha256Hex(text));
          expect(browserPort.sha256Binary(text)).toBe(nodePort.sha256Binary(text));
        }),
      );
    });

    it('matches the FIPS 180-4 example digests', () => {
      // Assess: "abc" and the empty string (FIPS 180-4 examples, NIST CSRC).
      expect(browserPort.sha256Hex('abc')).toBe(
        'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      );
      expect(browserPort.sha256Hex('')).toBe(
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      );
      expect(browserPort.sha256Hex('a'.repeat(1_000_000))).toBe(
        'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0',
      );
    });
  });

  describe('Method: verifyP256Sha256', () => {
    it('accepts a real signature in both implementations', async () => {
      // Prepare
      const { privateKey, pem } = p256();
      const keys = await bothKeys(pem);
      const data = Buffer.from('{"type":"statement"}');
      const signature = sign('sha256', data, { key: privateKey, dsaEncoding: 'der' });
      // Act + Assess
      expect(await nodePort.verifyP256Sha256(keys.node.key, data, signature)).toBe(true);
      expect(await browserPort.verifyP256Sha256(keys.browser.key, data, signature)).toBe(true);
    });

    it('agrees with node:crypto on changed data, changed signatures and random bytes', async () => {
      // Prepare
      const { privateKey, pem } = p256();
      const keys = await bothKeys(pem);
      const data = Buffer.from('statement bytes');
      const good = sign('sha256', data, { key: privateKey, dsaEncoding: 'der' });
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            // One byte of a real signature changed.
            fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
              const s = Buffer.from(good);
              s[i % s.length] = s[i % s.length]! ^ x;
              return s;
            }),
            fc.uint8Array({ minLength: 0, maxLength: 80 }),
            fc.constant(good),
          ),
          fc.boolean(),
          async (signature, changeData) => {
            // Act
            const bytes = changeData ? Buffer.from('statement bytez') : data;
            const node = await nodePort.verifyP256Sha256(keys.node.key, bytes, signature);
            const browser = await browserPort.verifyP256Sha256(keys.browser.key, bytes, signature);
            // Assess
            expect(browser).toBe(node);
          },
        ),
        { numRuns: 300 },
      );
    });

    describe('when the DER signature is not canonical', () => {
      it('rejects it in both implementations', async () => {
        // Prepare: a valid signature re-encoded with a needless leading zero in r, and with a long-form
        // sequence length; OpenSSL rejects both, so the browser must too.
        const { privateKey, pem } = p256();
        const keys = await bothKeys(pem);
        const data = Buffer.from('x');
        const good = sign('sha256', data, { key: privateKey, dsaEncoding: 'der' });
        const rLength = good[3]!;
        const r = good.subarray(4, 4 + rLength);
        const rest = good.subarray(4 + rLength);
        const paddedR = Buffer.concat([Buffer.from([0x02, rLength + 1, 0x00]), r, rest]);
        const padded = Buffer.concat([Buffer.from([0x30, paddedR.length]), paddedR]);
        const longForm = Buffer.concat([Buffer.from([0x30, 0x81, good[1]!]), good.subarray(2)]);
        for (const bad of [padded, longForm, Buffer.concat([good, Buffer.from([0])])]) {
          // Act + Assess
          expect(await nodePort.verifyP256Sha256(keys.node.key, data, bad)).toBe(false);
          expect(p256SignatureFromDer(bad)).toBeUndefined();
          expect(await browserPort.verifyP256Sha256(keys.browser.key, data, bad)).toBe(false);
        }
      });
    });

    describe('when the browser implementation is asked to verify synchronously', () => {
      it('throws instead of answering', () => {
        expect(() =>
          browserPort.verifyP256Sha256Sync({} as never, new Uint8Array(1), new Uint8Array(8)),
        ).toThrow(/not available in a browser/);
      });
    });
  });

  describe('Method: loadWebCryptoPublicKeys', () => {
    it('names a key with the same key id as the Node loader', async () => {
      // Prepare
      const { pem } = p256();
      // Act
      const keys = await bothKeys(pem);
      // Assess
      expect(keys.browser.keyId).toBe(keys.node.keyId);
    });

    describe('when the PEM holds a private key or another curve', () => {
      it('refuses it', async () => {
        // Prepare
        const { privateKey } = p256();
        const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
        const otherCurve = generateKeyPairSync('ec', { namedCurve: 'secp384r1' })
          .publicKey.export({ type: 'spki', format: 'pem' })
          .toString();
        // Act + Assess
        await expect(loadWebCryptoPublicKeys(privatePem)).rejects.toThrow(WebCryptoKeyError);
        await expect(loadWebCryptoPublicKeys(otherCurve)).rejects.toThrow(WebCryptoKeyError);
        await expect(loadWebCryptoPublicKeys('no pem here')).rejects.toThrow(WebCryptoKeyError);
      });
    });
  });

  describe('Method: importP256PublicKeys', () => {
    it('accepts and refuses the same PEM texts in both implementations, with the same key ids', async () => {
      // Prepare: good keys, two keys, header lines (dropped by both), an empty block, junk, a private key.
      const [a, b] = [p256(), p256()];
      const lines = a.pem.trim().split('\n');
      const withHeader = [lines[0], 'Comment: exported', ...lines.slice(1)].join('\n');
      const texts = [
        a.pem,
        `${a.pem}${b.pem}`,
        `text before\n${a.pem}text after`,
        withHeader,
        '-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n',
        a.pem.replace('-----END PUBLIC KEY-----', ''),
        a.pem.replace(/[A-Za-z0-9]{8}\n/, '!!!!!!!!\n'),
        a.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        'no pem here',
      ];
      for (const text of texts) {
        // Act
        const node = await nodePort.importP256PublicKeys(text).then(
          (keys) => keys.map((k) => k.keyId),
          () => 'refused',
        );
        const browser = await browserPort.importP256PublicKeys(text).then(
          (keys) => keys.map((k) => k.keyId),
          () => 'refused',
        );
        // Assess
        expect(browser, text).toEqual(node);
      }
    });
  });

  describe('Module shape', () => {
    it('exports the same names from both implementations', () => {
      expect(Object.keys(browserPort).sort()).toEqual(Object.keys(nodePort).sort());
      expect(nodePort.CRYPTO_PLATFORM).toBe('node');
      expect(browserPort.CRYPTO_PLATFORM).toBe('browser');
    });
  });
});

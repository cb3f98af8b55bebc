/**
 * Key records checked through the browser implementation of the crypto port (WebCrypto), as the
 * auditor's page bundles it: the module substitution below is the one scripts/build-ui.mjs makes.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { KeyFileSigner } from '../../../shared/crypto/key-file-signer.ts';
import { checkKeyRecord, keyRecordBytes, signKeyRecord } from '../../../shared/keys/key-record.ts';
import { CRYPTO_PLATFORM } from '../../../shared/platform/crypto.ts';

vi.mock(
  '../../../shared/platform/crypto.ts',
  async () => await import('../../../shared/platform/crypto.browser.ts'),
);

const T1 = new Date('2026-11-22T21:30:00.000Z');

async function successorRecord() {
  const [a, b] = [KeyFileSigner.generate(), KeyFileSigner.generate()];
  const record = await signKeyRecord(b, {
    ledger: 'prod',
    notBefore: T1,
    previousPublicKeyPem: await a.publicKeyPem(),
  });
  return { record, ids: { a: await a.keyId(), b: await b.keyId() } };
}

describe('Function: checkKeyRecord (browser crypto port)', () => {
  it('runs on the browser implementation', () => {
    expect(CRYPTO_PLATFORM).toBe('browser');
  });

  describe('when a successor record is signed', () => {
    it('checks out with the key ids node:crypto gives', async () => {
      // Prepare
      const { record, ids } = await successorRecord();

      // Act
      const checked = await checkKeyRecord(keyRecordBytes(record));

      // Assess
      expect(checked?.key.keyId).toBe(ids.b);
      expect(checked?.previousKey?.keyId).toBe(ids.a);
      expect(checked?.statement.notBefore).toBe(T1.toISOString());
    });
  });

  describe('when the record is signed by another key than the one it names', () => {
    it('does not check out', async () => {
      // Prepare
      const { record } = await successorRecord();
      const other = await successorRecord();

      // Act
      const checked = await checkKeyRecord(keyRecordBytes({ ...record, signature: other.record.signature }));

      // Assess
      expect(checked).toBeUndefined();
    });
  });

  describe('when any byte of a record is flipped', () => {
    it('never checks out with another statement', async () => {
      // Prepare
      const { record } = await successorRecord();
      const bytes = Buffer.from(keyRecordBytes(record));

      // Assess
      await fc.assert(
        fc.asyncProperty(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), async (at, xor) => {
          const flipped = Buffer.from(bytes);
          flipped[at] = flipped[at]! ^ xor;
          const result = await checkKeyRecord(flipped);
          return result === undefined || result.record.statement === record.statement;
        }),
        { numRuns: 150 },
      );
    });
  });
});

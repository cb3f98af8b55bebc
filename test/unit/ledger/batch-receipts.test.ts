import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalBytes } from '../../../shared/canonical/jcs.ts';
import { KeyFileSigner } from '../../../shared/crypto/key-file-signer.ts';
import {
  type BatchLeaf,
  batchLeafHash,
  batchRoot,
  batchSealOf,
  checkReceipt,
  checkReceiptAgainstEvent,
  signBatch,
} from '../../../shared/ledger/batch-receipts.ts';
import type { Receipt } from '../../../shared/ledger/formats.ts';
import { hashLeaf, rootFromLeafHashes } from '../../../shared/merkle/rfc6962.ts';
import { opensslVerify } from '../../support/openssl.ts';
import { trustedKeysOf } from '../../support/sealed-folder.ts';

const signer = KeyFileSigner.generate();
const RECEIVED_AT = '2026-11-22T21:04:05.678Z';

function leaves(n: number, receivedAt: (i: number) => string = () => RECEIVED_AT): BatchLeaf[] {
  return Array.from({ length: n }, (_, i) => ({
    eventId: `evt-${i}`,
    receivedAt: receivedAt(i),
    leafHash: hashLeaf(Buffer.from(`event ${i}`)),
  }));
}

async function batchOf(n: number, by = signer) {
  return signBatch({ ledger: 'unit', batchId: 'b-0001', leaves: leaves(n) }, by);
}

/** An event's canonical bytes as stored, and the receipt its batch gave it. */
async function eventWithReceipt(): Promise<{ bytes: Buffer; receipt: Receipt }> {
  const bytes = Buffer.from(canonicalBytes({ id: 'evt-e', receivedAt: RECEIVED_AT, action: 's3:GetObject' }));
  const batch = await signBatch(
    {
      ledger: 'unit',
      batchId: 'b-0001',
      leaves: [...leaves(2), { eventId: 'evt-e', receivedAt: RECEIVED_AT, leafHash: hashLeaf(bytes) }],
    },
    signer,
  );
  return { bytes, receipt: batch.receipts[2]! };
}

function flipHexChar(hex: string, at: number): string {
  return `${hex.slice(0, at)}${hex[at] === '0' ? '1' : '0'}${hex.slice(at + 1)}`;
}

describe('Function: signBatch', () => {
  describe('when given a batch of leaves', () => {
    it('signs one canonical statement over the batch root, verifiable with openssl', async () => {
      // Prepare
      const batchLeaves = leaves(5);

      // Act
      const batch = await signBatch({ ledger: 'unit', batchId: 'b-0001', leaves: batchLeaves }, signer);

      // Assess
      expect(batch.statement).toEqual({
        type: 'auditseal.batch-statement.v2',
        ledger: 'unit',
        batchId: 'b-0001',
        receivedFrom: RECEIVED_AT,
        receivedTo: RECEIVED_AT,
        treeSize: 5,
        rootHash: rootFromLeafHashes(batchLeaves.map(batchLeafHash)).toString('hex'),
        keyId: await signer.keyId(),
      });
      expect(batchRoot(batchLeaves).toString('hex')).toBe(batch.statement.rootHash);
      expect(Buffer.from(batch.statementBytes)).toEqual(Buffer.from(canonicalBytes(batch.statement)));
      expect(batch.receipts.map((r) => [r.eventId, r.leafIndex])).toEqual(
        batchLeaves.map((l, i) => [l.eventId, i]),
      );
      expect(new Set(batch.receipts.map((r) => r.signature)).size).toBe(1);
      expect(
        opensslVerify(await signer.publicKeyPem(), batch.statementBytes, batch.signature).stdout.trim(),
      ).toBe('Verified OK');
    });
  });

  describe('when the leaves were received over a range of times (an import batch)', () => {
    it('signs the range from the earliest to the latest receivedAt', async () => {
      // Prepare
      const times = ['2026-11-22T21:04:05.678Z', '2026-11-22T21:00:00.000Z', '2026-11-22T21:59:59.999Z'];
      const batchLeaves = leaves(3, (i) => times[i]!);

      // Act
      const batch = await signBatch({ ledger: 'unit', batchId: 'imp-1', leaves: batchLeaves }, signer);

      // Assess
      expect(batch.statement).toMatchObject({
        receivedFrom: '2026-11-22T21:00:00.000Z',
        receivedTo: '2026-11-22T21:59:59.999Z',
      });
      expect(batch.receipts.map((r) => r.receivedAt)).toEqual(times);
      const keys = await trustedKeysOf(signer);
      for (const r of batch.receipts) expect(checkReceipt(r, keys).ok).toBe(true);
    });
  });

  describe('when the batch is empty', () => {
    it('throws a RangeError', async () => {
      // Prepare
      const request = { ledger: 'unit', batchId: 'b-0001', leaves: [] };

      // Act
      const act = signBatch(request, signer);

      // Assess
      await expect(act).rejects.toThrow(RangeError);
    });
  });

  describe('when a leaf receivedAt is not millisecond UTC', () => {
    it('rejects the batch', async () => {
      // Prepare
      const request = { ledger: 'unit', batchId: 'b-0001', leaves: leaves(1, () => '2026-11-22T21:04:05Z') };

      // Act
      const act = signBatch(request, signer);

      // Assess
      await expect(act).rejects.toThrow();
    });
  });
});

describe('Function: batchSealOf', () => {
  describe('when given a signed import batch', () => {
    it('is the table row of that batch: the signed text, its signature, its leaves, received at its first time', async () => {
      // Prepare
      const times = ['2026-11-22T21:04:05.678Z', '2026-11-22T21:00:00.000Z'];
      const req = { ledger: 'unit', batchId: 'imp-2', leaves: leaves(2, (i) => times[i]!) };
      const signed = await signBatch(req, signer);

      // Act
      const seal = batchSealOf(req, signed);

      // Assess
      expect(seal).toEqual({
        ledger: 'unit',
        batchId: 'imp-2',
        receivedAt: '2026-11-22T21:00:00.000Z',
        statement: Buffer.from(canonicalBytes(signed.statement)).toString('utf8'),
        signature: signed.signature,
        size: 2,
        leaves: req.leaves,
      });
      expect(
        opensslVerify(await signer.publicKeyPem(), Buffer.from(seal.statement), seal.signature).stdout.trim(),
      ).toBe('Verified OK');
    });
  });
});

describe('Function: checkReceipt', () => {
  describe('when every receipt of a random batch is checked', () => {
    it('accepts it and returns the statement', async () => {
      const keys = await trustedKeysOf(signer);
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 40 }), async (n) => {
          // Prepare
          const batch = await batchOf(n);

          // Act
          const checks = batch.receipts.map((r) => checkReceipt(JSON.parse(JSON.stringify(r)), keys));

          // Assess
          for (const check of checks) {
            expect(check.ok).toBe(true);
            if (check.ok) expect(check.statement).toEqual(batch.statement);
          }
        }),
        { numRuns: 25 },
      );
    });
  });

  describe.each<[string, (r: Receipt) => unknown]>([
    ['the receipt is not an object', () => 'receipt'],
    ['a field is missing', ({ leafHash: _, ...rest }) => rest],
    ['an unknown field is present', (r) => ({ ...r, extra: 1 })],
    ['the leaf hash is upper case', (r) => ({ ...r, leafHash: r.leafHash.toUpperCase() })],
    ['the statement is not JSON', (r) => ({ ...r, statement: '{"type":' })],
    [
      'the statement is not canonical',
      (r) => ({ ...r, statement: JSON.stringify(JSON.parse(r.statement), null, 1) }),
    ],
    [
      'the statement is a digest statement',
      (r) => ({
        ...r,
        statement: JSON.stringify({ ...JSON.parse(r.statement), type: 'auditseal.digest-statement.v1' }),
      }),
    ],
  ])('when %s', (_, damage) => {
    it('returns RECEIPT_MALFORMED', async () => {
      // Prepare
      const keys = await trustedKeysOf(signer);
      const [receipt] = (await batchOf(3)).receipts;

      // Act
      const check = checkReceipt(damage(receipt!), keys);

      // Assess
      expect(check).toMatchObject({ ok: false, code: 'RECEIPT_MALFORMED' });
    });
  });

  describe('when the statement is signed by a key that is not trusted', () => {
    it('returns RECEIPT_KEY_UNKNOWN with the event id', async () => {
      // Prepare
      const keys = await trustedKeysOf(signer);
      const [receipt] = (await batchOf(3, KeyFileSigner.generate())).receipts;

      // Act
      const check = checkReceipt(receipt, keys);

      // Assess
      expect(check).toMatchObject({ ok: false, code: 'RECEIPT_KEY_UNKNOWN', eventId: 'evt-0' });
    });
  });

  describe.each<[string, (r: Receipt) => Receipt]>([
    [
      'the signature has a flipped byte',
      (r) => {
        const sig = Buffer.from(r.signature, 'base64');
        sig[sig.length - 1] = sig[sig.length - 1]! ^ 0x01;
        return { ...r, signature: sig.toString('base64') };
      },
    ],
    [
      'the signature is not DER',
      (r) => ({ ...r, signature: Buffer.from('not a signature').toString('base64') }),
    ],
    [
      'the statement names another batch',
      (r) => ({ ...r, statement: r.statement.replace('"batchId":"b-0001"', '"batchId":"b-0002"') }),
    ],
  ])('when %s', (_, damage) => {
    it('returns RECEIPT_SIGNATURE_INVALID', async () => {
      // Prepare
      const keys = await trustedKeysOf(signer);
      const [receipt] = (await batchOf(3)).receipts;

      // Act
      const check = checkReceipt(damage(receipt!), keys);

      // Assess
      expect(check).toMatchObject({ ok: false, code: 'RECEIPT_SIGNATURE_INVALID', eventId: 'evt-0' });
    });
  });

  describe.each<[string, (r: Receipt) => Receipt]>([
    [
      'an audit path byte is flipped',
      (r) => ({ ...r, auditPath: [flipHexChar(r.auditPath[0]!, 5), ...r.auditPath.slice(1)] }),
    ],
    [
      'the leaf hash is another event',
      (r) => ({ ...r, leafHash: hashLeaf(Buffer.from('forged')).toString('hex') }),
    ],
    ['the leaf index is another', (r) => ({ ...r, leafIndex: r.leafIndex + 1 })],
    ['the leaf index is outside the batch', (r) => ({ ...r, leafIndex: 99 })],
    ['the audit path is short', (r) => ({ ...r, auditPath: r.auditPath.slice(1) })],
    // Receipts v2 bind the event id and receivedAt into the batch leaf (regression: editing them left it VALID).
    ['the event id is another', (r) => ({ ...r, eventId: 'evt-1' })],
    ['the event id is a new one', (r) => ({ ...r, eventId: 'forged-id' })],
    ['the receivedAt is another millisecond', (r) => ({ ...r, receivedAt: '2026-11-22T21:04:05.679Z' })],
    [
      'the receivedAt lies outside the signed range',
      (r) => ({ ...r, receivedAt: '2026-11-22T22:04:05.678Z' }),
    ],
  ])('when %s', (_, damage) => {
    it('returns RECEIPT_PROOF_INVALID', async () => {
      // Prepare
      const keys = await trustedKeysOf(signer);
      const [receipt] = (await batchOf(5)).receipts;

      // Act
      const check = checkReceipt(damage(receipt!), keys);

      // Assess
      expect(check).toMatchObject({ ok: false, code: 'RECEIPT_PROOF_INVALID' });
      expect(check.ok).toBe(false);
      if (!check.ok) expect(check.eventId).toBe((damage(receipt!) as Receipt).eventId);
    });
  });
});

describe('Function: checkReceiptAgainstEvent', () => {
  describe('when given the stored bytes of the receipt event', () => {
    it('accepts them, with or without one trailing newline', async () => {
      // Prepare
      const { bytes, receipt } = await eventWithReceipt();

      // Act
      const plain = checkReceiptAgainstEvent(receipt, bytes);
      const line = checkReceiptAgainstEvent(receipt, Buffer.concat([bytes, Buffer.from('\n')]));

      // Assess
      expect(plain).toEqual({ ok: true });
      expect(line).toEqual({ ok: true });
      expect(checkReceipt(receipt, await trustedKeysOf(signer)).ok).toBe(true);
    });
  });

  describe.each<[string, (bytes: Buffer) => Buffer, RegExp]>([
    ['the event is not JSON', () => Buffer.from('{"id":'), /not JSON/],
    ['the event is a JSON array', () => Buffer.from('[]'), /not a JSON object/],
    [
      'the event has another id',
      (b) => Buffer.from(b.toString('utf8').replace('"evt-e"', '"evt-f"')),
      /id "evt-f" is not the receipt's evt-e/,
    ],
    [
      'the event has another receivedAt',
      (b) => Buffer.from(b.toString('utf8').replace('.678Z', '.679Z')),
      /receivedAt is not the receipt's/,
    ],
    [
      'the event bytes were changed',
      (b) => Buffer.from(b.toString('utf8').replace('GetObject', 'PutObject')),
      /hash to leaf/,
    ],
    [
      'the event is the same JSON, not in canonical form',
      (b) => Buffer.from(JSON.stringify(JSON.parse(b.toString('utf8')), null, 1)),
      /hash to leaf/,
    ],
  ])('when %s', (_, damage, message) => {
    it('rejects the pair and says why', async () => {
      // Prepare
      const { bytes, receipt } = await eventWithReceipt();

      // Act
      const check = checkReceiptAgainstEvent(receipt, damage(bytes));

      // Assess
      expect(check.ok).toBe(false);
      if (!check.ok) expect(check.message).toMatch(message);
    });
  });
});

import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batchLeafHashInto } from '../../../shared/ledger/batch-leaf.ts';
import { batchLeafHash } from '../../../shared/ledger/batch-receipts.ts';

/** FORMAT.md §8, written out: BL = SHA-256(0x00 ‖ LH ‖ SHA-256(UTF-8(id)) ‖ UTF-8(receivedAt)). */
function expectedBatchLeaf(leafHash: Uint8Array, id: string, receivedAt: string): Buffer {
  const idHash = createHash('sha256').update(id, 'utf8').digest();
  return createHash('sha256')
    .update(Buffer.from([0x00]))
    .update(leafHash)
    .update(idHash)
    .update(receivedAt, 'utf8')
    .digest();
}

const millisTime = fc
  .date({
    min: new Date('2000-01-01T00:00:00.000Z'),
    max: new Date('2999-12-31T23:59:59.999Z'),
    noInvalidDate: true,
  })
  .map((d) => d.toISOString());

describe('Function: batchLeafHashInto', () => {
  it('writes the batch leaf hash of FORMAT.md §8 at the offset, from hashes at any offsets, and nothing else', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.string({ unit: 'grapheme', maxLength: 40 }),
        millisTime,
        fc.nat({ max: 64 }),
        fc.nat({ max: 64 }),
        fc.nat({ max: 64 }),
        (leafHash, id, receivedAt, leafAt, idAt, offset) => {
          // Prepare
          const leafHashes = new Uint8Array(leafAt + 32 + 7).fill(0xa5);
          leafHashes.set(leafHash, leafAt);
          const idHashes = new Uint8Array(idAt + 32 + 7).fill(0x5a);
          idHashes.set(createHash('sha256').update(id, 'utf8').digest(), idAt);
          const target = Buffer.alloc(offset + 40, 0x33);
          const expected = Buffer.from(target);
          expected.set(expectedBatchLeaf(leafHash, id, receivedAt), offset);

          // Act
          batchLeafHashInto(leafHashes, leafAt, idHashes, idAt, receivedAt, target, offset);

          // Assess
          expect(target.equals(expected)).toBe(true);
        },
      ),
    );
  });
});

describe('Function: batchLeafHash', () => {
  it('is the batch leaf hash of FORMAT.md §8', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
        millisTime,
        (leafHash, eventId, receivedAt) => {
          // Act
          const hash = batchLeafHash({ eventId, receivedAt, leafHash });

          // Assess
          expect(hash.equals(expectedBatchLeaf(leafHash, eventId, receivedAt))).toBe(true);
        },
      ),
    );
  });

  describe('when the leaf hash is not 32 bytes', () => {
    it('throws a RangeError', () => {
      // Prepare
      const leaf = { eventId: 'evt-1', receivedAt: '2026-12-04T22:00:00.000Z', leafHash: new Uint8Array(31) };

      // Act
      const act = () => batchLeafHash(leaf);

      // Assess
      expect(act).toThrow(RangeError);
    });
  });

  describe('when receivedAt is not a millisecond time', () => {
    it('throws a RangeError', () => {
      // Prepare
      const leaf = { eventId: 'evt-1', receivedAt: '2026-12-04T22:00:00Z', leafHash: new Uint8Array(32) };

      // Act
      const act = () => batchLeafHash(leaf);

      // Assess
      expect(act).toThrow(RangeError);
    });
  });
});

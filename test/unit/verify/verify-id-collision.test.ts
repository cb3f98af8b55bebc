/**
 * G6 on the verifier's side: an event id sealed twice in a period is `EVENT_ID_REUSED`, and two different
 * ids are never taken for one. The verifier's period-wide id set keeps only a fingerprint of each id's
 * SHA-256, so a fingerprint match between two genuine, different ids must not make an honest folder
 * INVALID: the match is confirmed with the earlier id's full hash, read back from its batch record.
 *
 * A real collision cannot be found for a test, so (as in test/unit/ledger/seal-id-collision.test.ts) the
 * SHA-256 of one id, `collide-b`, is substituted by a digest whose first 8 bytes are those of `collide-a`
 * and whose other 24 bytes are its own, for every function that hashes ids (`sha256Binary`: ingest's
 * batch signatures, the sealer's id set and chunk index; `sha256Into`: the verifier's batch records).
 * Every other input is hashed for real.
 */
import { describe, expect, it, vi } from 'vitest';
import { KeyFileSigner } from '../../../shared/crypto/key-file-signer.ts';
import { batchFileKey } from '../../../shared/ledger/object-keys.ts';
import { sha256Binary } from '../../../shared/platform/crypto.ts';
import { checkBatchRecord } from '../../../shared/verify/batch-record-check.ts';
import { verifyChunk } from '../../../shared/verify/verify-chunk.ts';
import { type ChunkChecker, verifyFolder } from '../../../shared/verify/verify-folder.ts';
import { MemoryReader, trustedKeysOf } from '../../support/sealed-folder.ts';
import { GROUPS_LEDGER, GROUPS_PERIOD, sealSignedGroups } from '../../support/signed-groups.ts';

const A = 'collide-a';
const B = 'collide-b';

vi.mock('../../../shared/platform/crypto.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../shared/platform/crypto.ts')>();
  const substituted = (data: Uint8Array | string): string =>
    data === B ? real.sha256Binary(A).slice(0, 8) + real.sha256Binary(B).slice(8) : real.sha256Binary(data);
  return {
    ...real,
    sha256Binary: substituted,
    sha256Into: (data: Uint8Array | string, target: Uint8Array, offset: number): void => {
      const digest = substituted(data);
      for (let j = 0; j < 32; j++) target[offset + j] = digest.charCodeAt(j);
    },
  };
});

const signer = KeyFileSigner.generate();
const sealedFolder = (
  groups: readonly (readonly string[])[],
  options: { chunkLeaves: number; sealRepeats?: boolean },
) => sealSignedGroups(groups, { ...options, signer });

/** Chunks in this thread, batch records checked three ahead (as `--jobs N` does, in this thread). */
const LOOKAHEAD: ChunkChecker = { lookahead: 3, check: verifyChunk, checkRecord: checkBatchRecord };

describe('Class: PeriodProvenance (event ids sealed twice)', () => {
  it('sees the substituted digests: A and B share the first 8 bytes of their id hash and differ after', () => {
    // Prepare
    const [a, b] = [Buffer.from(sha256Binary(A), 'latin1'), Buffer.from(sha256Binary(B), 'latin1')];

    // Assess
    expect(b.subarray(0, 8)).toEqual(a.subarray(0, 8));
    expect(b.subarray(8).equals(a.subarray(8))).toBe(false);
  });

  describe.each([
    ['in an earlier chunk', 2],
    ['in the same chunk', 64],
  ])(
    'when a sealed id shares its fingerprint with a different id sealed earlier, %s',
    (_where, chunkLeaves) => {
      it('reports the genuine folder VALID, with and without records checked ahead', async () => {
        // Prepare
        const objects = await sealedFolder(
          [
            [A, 'x-1', 'x-2'],
            ['x-3', B, 'x-4'],
          ],
          { chunkLeaves },
        );
        const keys = await trustedKeysOf(signer);

        // Act
        const report = await verifyFolder(new MemoryReader(objects.objects), { keys });
        const ahead = await verifyFolder(new MemoryReader(objects.objects), { keys, chunks: LOOKAHEAD });

        // Assess
        expect(report.findings).toEqual([]);
        expect(report.valid).toBe(true);
        expect(report.stats.events).toBe(6);
        expect(JSON.stringify(ahead)).toBe(JSON.stringify(report));
      });

      it('still reports each real repeat of either id as EVENT_ID_REUSED', async () => {
        // Prepare: the sealer seals A and B again, each under a later signed batch
        const objects = await sealedFolder(
          [
            [A, 'x-1', 'x-2'],
            ['x-3', B, 'x-4'],
            [A, 'x-5'],
            ['x-6', B],
          ],
          { chunkLeaves, sealRepeats: true },
        );
        const keys = await trustedKeysOf(signer);

        // Act
        const report = await verifyFolder(new MemoryReader(objects.objects), { keys });
        const ahead = await verifyFolder(new MemoryReader(objects.objects), { keys, chunks: LOOKAHEAD });

        // Assess
        expect(report.findings.map((f) => [f.code, f.eventId, f.eventIndex, f.message])).toEqual([
          ['EVENT_ID_REUSED', A, 6, `event id ${A} is sealed more than once in this period`],
          ['EVENT_ID_REUSED', B, 9, `event id ${B} is sealed more than once in this period`],
        ]);
        expect(JSON.stringify(ahead)).toBe(JSON.stringify(report));
      });
    },
  );

  describe('when the batch file read back to confirm a match is not the one verified', () => {
    it.each([
      [
        'reads back with other bytes',
        (body: Buffer) => Buffer.from(body.map((byte, i) => (i === 40 ? byte ^ 1 : byte))),
      ],
      ['is missing', () => undefined],
    ])('reports the file and the unconfirmed id when it %s, never silence', async (what, change) => {
      // Prepare: the second read of batch file 0 (A's record) gives other bytes
      const objects = await sealedFolder(
        [
          [A, 'x-1', 'x-2'],
          ['x-3', B, 'x-4'],
        ],
        { chunkLeaves: 64 },
      );
      const key = batchFileKey(GROUPS_LEDGER, GROUPS_PERIOD, 0);
      const reader = new MemoryReader(objects.objects);
      const read = reader.read.bind(reader);
      let reads = 0;
      reader.read = async (k: string, max?: number) => {
        const body = await read(k, max);
        return k === key && body !== undefined && reads++ > 0 ? change(body) : body;
      };

      // Act
      const report = await verifyFolder(reader, { keys: await trustedKeysOf(signer) });

      // Assess
      expect(report.valid).toBe(false);
      expect(report.findings.map((f) => [f.code, f.object, f.eventId])).toEqual([
        [what === 'is missing' ? 'BATCH_FILE_MISSING' : 'BATCH_FILE_MODIFIED', key, undefined],
        ['EVENT_ID_REUSED', expect.stringContaining('/000000.jsonl'), B],
      ]);
      expect(report.findings[1]!.message).toMatch(/may be sealed more than once/);
    });
  });
});

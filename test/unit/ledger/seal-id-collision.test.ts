/**
 * G6 and "nothing acknowledged goes unsealed": the sealer seals an event id at most once per period, and
 * it must never take two different ids for one. Its id set keeps only a fingerprint of each id's SHA-256,
 * so a fingerprint collision between two genuine, signed, different ids must not exclude the second one
 * as a duplicate.
 *
 * A real collision of 64 bits cannot be found for a test, so this file substitutes the SHA-256 of one id,
 * `collide-b`, by a digest whose first 8 bytes are those of `collide-a` and whose other 24 bytes are its
 * own: everything that hashes ids (ingest's batch signatures, the id set, the chunk index) sees the same
 * substituted digest, as it would see a real collision. Every other input is hashed for real.
 */
import { describe, expect, it, vi } from 'vitest';
import { KeyFileSigner } from '../../../shared/crypto/key-file-signer.ts';
import { type Exclusion, exclusionSchema } from '../../../shared/ledger/formats.ts';
import { archiveObjectKey, exclusionsKey } from '../../../shared/ledger/object-keys.ts';
import type { Period } from '../../../shared/ledger/period.ts';
import { sealPeriod } from '../../../shared/ledger/seal-period.ts';
import { sha256Binary } from '../../../shared/platform/crypto.ts';
import { InMemoryObjectStore } from '../../../shared/storage/in-memory-object-store.ts';
import { trustedKeysOf } from '../../support/sealed-folder.ts';
import { GROUPS_LEDGER, GROUPS_PERIOD, signGroups } from '../../support/signed-groups.ts';

const A = 'collide-a';
const B = 'collide-b';

vi.mock('../../../shared/platform/crypto.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../shared/platform/crypto.ts')>();
  return {
    ...real,
    sha256Binary: (data: Uint8Array | string): string =>
      data === B ? real.sha256Binary(A).slice(0, 8) + real.sha256Binary(B).slice(8) : real.sha256Binary(data),
  };
});

const LEDGER = GROUPS_LEDGER;
const PERIOD: Period = GROUPS_PERIOD;
const signer = KeyFileSigner.generate();
const signedPeriod = (groups: readonly (readonly string[])[]) => signGroups(groups, signer);

function lines(objects: InMemoryObjectStore, key: string): string[] {
  const body = objects.objects.get(key);
  return body === undefined ? [] : Buffer.from(body).toString('utf8').split('\n').filter(Boolean);
}

async function seal(
  groups: readonly (readonly string[])[],
  chunkLeaves: number,
  objects = new InMemoryObjectStore(),
) {
  const { batches, rows } = await signedPeriod(groups);
  const result = await sealPeriod(
    {
      ledger: LEDGER,
      period: PERIOD,
      previous: null,
      rows,
      batches,
      keys: await trustedKeysOf(signer),
      chunkLeaves,
    },
    { store: objects, signer },
  );
  const sealedIds: string[] = [];
  for (let n = 0; ; n++) {
    const key = archiveObjectKey(LEDGER, PERIOD, n, 'events');
    if (!objects.objects.has(key)) break;
    for (const line of lines(objects, key)) sealedIds.push((JSON.parse(line) as { id: string }).id);
  }
  const exclusions: Exclusion[] = lines(objects, exclusionsKey(LEDGER, PERIOD)).map((l) =>
    exclusionSchema.parse(JSON.parse(l)),
  );
  return { result, sealedIds, exclusions };
}

describe('Function: sealPeriod (duplicate ids)', () => {
  it('sees the substituted digests: A and B share the first 8 bytes of their id hash and differ after', () => {
    // Prepare
    const [a, b] = [Buffer.from(sha256Binary(A), 'latin1'), Buffer.from(sha256Binary(B), 'latin1')];

    // Assess
    expect(b.subarray(0, 8)).toEqual(a.subarray(0, 8));
    expect(b.subarray(8).equals(a.subarray(8))).toBe(false);
  });

  // chunkLeaves 2: A's chunk is already written when B comes, and its id hash is read back from the
  // stored index; 64: A is still in the chunk being built.
  describe.each([
    ['in a chunk already written', 2],
    ['in the chunk being built', 64],
  ])(
    'when a signed id shares its fingerprint with a different id sealed earlier, %s',
    (_where, chunkLeaves) => {
      it('seals both ids and excludes nothing', async () => {
        // Prepare
        const groups = [
          [A, 'x-1', 'x-2'],
          ['x-3', B, 'x-4'],
        ];

        // Act
        const { result, sealedIds, exclusions } = await seal(groups, chunkLeaves);

        // Assess
        expect(sealedIds).toEqual([A, 'x-1', 'x-2', 'x-3', B, 'x-4']);
        expect(exclusions).toEqual([]);
        expect(result.treeSize).toBe(6);
        expect(result.provenance.excluded).toBe(0);
      });

      it('still excludes the real repeats of either id as EVENT_DUPLICATE', async () => {
        // Prepare: a second and a third signed batch list A and B again
        const groups = [
          [A, 'x-1', 'x-2'],
          ['x-3', B, 'x-4'],
          [A, 'x-5'],
          ['x-6', B],
        ];

        // Act
        const { result, sealedIds, exclusions } = await seal(groups, chunkLeaves);

        // Assess
        expect(sealedIds).toEqual([A, 'x-1', 'x-2', 'x-3', B, 'x-4', 'x-5', 'x-6']);
        expect(exclusions.map((e) => [e.reason, e.eventId, e.batchId])).toEqual([
          ['EVENT_DUPLICATE', A, 'batch-2'],
          ['EVENT_DUPLICATE', B, 'batch-3'],
        ]);
        expect(result.treeSize).toBe(8);
      });
    },
  );

  describe('when the index read back to confirm a match is not the one this seal wrote', () => {
    it.each([
      [
        'reads back with other bytes',
        (body: Uint8Array) => Uint8Array.from(body, (byte, i) => (i === 40 ? byte ^ 1 : byte)),
      ],
      ['is missing', () => undefined],
    ])('throws SealError ARCHIVE_READBACK when it %s, and writes no digest', async (_what, change) => {
      // Prepare: the store changes chunk 0's index on the way back
      const objects = new InMemoryObjectStore();
      const indexKey = archiveObjectKey(LEDGER, PERIOD, 0, 'index');
      const get = objects.get.bind(objects);
      objects.get = async (key: string) => {
        const body = await get(key);
        return key === indexKey && body !== undefined ? change(body) : body;
      };

      // Act
      const act = seal(
        [
          [A, 'x-1', 'x-2'],
          ['x-3', B],
        ],
        2,
        objects,
      );

      // Assess
      await expect(act).rejects.toMatchObject({ name: 'SealError', code: 'ARCHIVE_READBACK' });
      expect([...objects.objects.keys()].some((k) => k.startsWith('digests/'))).toBe(false);
    });
  });
});

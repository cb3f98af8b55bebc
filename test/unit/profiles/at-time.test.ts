import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { insertByTime, profileAt, versionInForce } from '../../../shared/profiles/at-time.ts';
import { parseProfile } from '../../../shared/profiles/profile.ts';
import { readProfileAt } from '../../../shared/profiles/read-profile.ts';
import { createVersion } from '../../../shared/profiles/version.ts';
import { InMemoryProfileStore } from '../../../shared/storage/in-memory-profile-store.ts';
import { byTime, chainOf, INSTANCE_ARN, minute, profileInput } from './profile-fixtures.ts';

describe('Function: profileAt', () => {
  // Versions effective at minutes 10, 20 and 30.
  const versions = chainOf([10, 20, 30]);

  it('returns the version that starts exactly at T (a boundary is inclusive)', () => {
    // Act
    const at = profileAt(versions, minute(20));

    // Assess
    expect(at).toMatchObject({ status: 'found', version: { n: 2 } });
  });

  it('returns the version before a boundary one millisecond earlier', () => {
    // Act
    const at = profileAt(versions, new Date(Date.parse(minute(20)) - 1).toISOString());

    // Assess
    expect(at).toMatchObject({ status: 'found', version: { n: 1 } });
  });

  it('returns the latest version for any time after it', () => {
    // Act
    const at = profileAt(versions, '9999-12-31T23:59:59.999Z');

    // Assess
    expect(at).toMatchObject({ status: 'found', version: { n: 3 } });
  });

  describe('when T is before the first version', () => {
    it('answers none, BEFORE_FIRST_VERSION, naming the first version', () => {
      // Act
      const at = profileAt(versions, minute(9));

      // Assess
      expect(at).toEqual({ status: 'none', reason: 'BEFORE_FIRST_VERSION', first: versions[0] });
    });
  });

  describe('when the resource has no versions', () => {
    it('answers none, NO_VERSIONS', () => {
      // Assess
      expect(profileAt([], minute(9))).toEqual({ status: 'none', reason: 'NO_VERSIONS' });
    });
  });

  describe('when the version in force is a tombstone', () => {
    it('answers deleted from the tombstone on, and found before it', () => {
      // Prepare
      const tombstone = createVersion(parseProfile(profileInput(minute(40), null, { tombstone: true })), {
        n: 4,
        previousHash: versions[2]!.hash,
        recordedAt: '2026-11-23T00:00:10.000Z',
      });
      const all = [...versions, tombstone];

      // Assess
      expect(profileAt(all, minute(40))).toMatchObject({ status: 'deleted', version: { n: 4 } });
      expect(profileAt(all, '9999-12-31T23:59:59.999Z')).toMatchObject({
        status: 'deleted',
        version: { n: 4 },
      });
      expect(profileAt(all, minute(39))).toMatchObject({ status: 'found', version: { n: 3 } });
    });
  });

  describe('when two versions have the same effective time', () => {
    it('returns the one that arrived later (higher n)', () => {
      // Prepare
      const tied = byTime(chainOf([10, 10, 5]));

      // Assess
      expect(profileAt(tied, minute(10))).toMatchObject({ status: 'found', version: { n: 2 } });
    });
  });
});

describe('Function: insertByTime', () => {
  it('puts a late (older) item in its place in time; the chain order is untouched', () => {
    // Prepare: versions 1 and 2 at minutes 10 and 30, then version 3 arrives with minute 20.
    const [v1, v2, late] = chainOf([10, 30, 20]);
    const sorted = [v1!, v2!];

    // Act
    const index = insertByTime(sorted, late!);

    // Assess
    expect(index).toBe(1);
    expect(sorted.map((v) => v.n)).toEqual([1, 3, 2]);
    expect(versionInForce(sorted, minute(25))?.n).toBe(3);
    expect(versionInForce(sorted, minute(30))?.n).toBe(2);
  });

  it('agrees with a linear scan for any arrival order and any T (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: -1, max: 21 }),
        (effective, t) => {
          const chain = chainOf(effective);
          const sorted = [] as typeof chain;
          for (const v of chain) insertByTime(sorted, v);
          const at = t < 0 ? '2026-11-22T20:59:59.999Z' : minute(t);
          // Reference: the highest n among versions whose effective time is the latest at or before T.
          const candidates = chain.filter((v) => v.effectiveAt <= at);
          const latest = candidates.reduce<string | undefined>(
            (m, v) => (m === undefined || v.effectiveAt > m ? v.effectiveAt : m),
            undefined,
          );
          const expected = candidates
            .filter((v) => v.effectiveAt === latest)
            .reduce<number | undefined>((m, v) => Math.max(m ?? 0, v.n), undefined);
          expect(versionInForce(sorted, at)?.n).toBe(expected);
        },
      ),
    );
  });
});

describe('Function: readProfileAt', () => {
  it('answers from a store: found, deleted, none, and the latest in time without T', async () => {
    // Prepare: version 3 is a late item, older than version 2, so the latest in time is version 2.
    const store = new InMemoryProfileStore();
    const chain = chainOf([10, 30, 20]);
    for (const v of chain) await store.putVersion(v);

    // Act
    const latest = await readProfileAt(store, INSTANCE_ARN);
    const before = await readProfileAt(store, INSTANCE_ARN, minute(5));
    const unknown = await readProfileAt(store, 'arn:aws:s3:::nothing-here', minute(5));

    // Assess
    expect(latest).toMatchObject({ status: 'found', version: { n: 2 } });
    expect(before).toMatchObject({ status: 'none', reason: 'BEFORE_FIRST_VERSION', first: { n: 1 } });
    expect(unknown).toEqual({ status: 'none', reason: 'NO_VERSIONS' });
    await expect(readProfileAt(store, INSTANCE_ARN, '2026-11-22')).rejects.toThrow(RangeError);
  });
});

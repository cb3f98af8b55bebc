import { describe, expect, it } from 'vitest';
import { ProfileVersionConflictError } from '../../../shared/ports/profile-store.ts';
import { writeProfile } from '../../../shared/profiles/write-profile.ts';
import { InMemoryProfileStore } from '../../../shared/storage/in-memory-profile-store.ts';
import { INSTANCE_ARN, minute, parsed } from './profile-fixtures.ts';

const clock = () => new Date('2026-11-23T00:00:00.000Z');

/** A store whose puts wait until `writers` puts have started: every writer has read the same head. */
function racingStore(writers: number): InMemoryProfileStore {
  let arrived = 0;
  let release: () => void = () => undefined;
  const allArrived = new Promise<void>((resolve) => {
    release = resolve;
  });
  return new InMemoryProfileStore({
    beforePut: async () => {
      arrived++;
      if (arrived === writers) release();
      await allArrived;
    },
  });
}

describe('Function: writeProfile', () => {
  it('creates version 1, then version 2 with its diff from version 1', async () => {
    // Prepare
    const store = new InMemoryProfileStore();

    // Act
    const first = await writeProfile(store, parsed(minute(0)), { clock });
    const second = await writeProfile(store, parsed(minute(5), { state: 'stopped' }), { clock });

    // Assess
    expect(first).toMatchObject({ status: 'created', version: { n: 1 } });
    expect(second).toMatchObject({ status: 'created', version: { n: 2, previousHash: first.version.hash } });
    expect(second.diff?.patch).toEqual([{ op: 'replace', path: '/configuration/state', value: 'stopped' }]);
  });

  describe('when the same content is written again', () => {
    it('returns the current version and writes nothing (idempotent rewrite)', async () => {
      // Prepare
      const store = new InMemoryProfileStore();
      const first = await writeProfile(store, parsed(minute(0)), { clock });

      // Act
      const again = await writeProfile(store, parsed(minute(0)), { clock });
      const laterSameState = await writeProfile(store, parsed(minute(7)), { clock });

      // Assess
      expect(again).toEqual({ status: 'unchanged', version: first.version });
      expect(laterSameState).toEqual({ status: 'unchanged', version: first.version });
      expect(store.writes).toBe(1);
    });
  });

  describe('when an old item is delivered again after newer versions', () => {
    it('finds it by content and writes nothing', async () => {
      // Prepare
      const store = new InMemoryProfileStore();
      const old = await writeProfile(store, parsed(minute(0), { step: 1 }), { clock });
      await writeProfile(store, parsed(minute(5), { step: 2 }), { clock });

      // Act
      const duplicate = await writeProfile(store, parsed(minute(0), { step: 1 }), { clock });

      // Assess
      expect(duplicate).toEqual({ status: 'unchanged', version: old.version });
      expect(store.writes).toBe(2);
    });
  });

  describe('when a late item is older than the head', () => {
    it('chains it as the next version and puts it in force at its own time', async () => {
      // Prepare
      const store = new InMemoryProfileStore();
      await writeProfile(store, parsed(minute(10), { step: 1 }), { clock });
      await writeProfile(store, parsed(minute(30), { step: 2 }), { clock });

      // Act
      const late = await writeProfile(store, parsed(minute(20), { step: 'late' }), { clock });

      // Assess
      expect(late.version.n).toBe(3);
      expect(late.diff?.from).toBe(1);
      expect((await store.versionAt(INSTANCE_ARN, minute(25)))?.n).toBe(3);
      expect((await store.versionAt(INSTANCE_ARN, minute(30)))?.n).toBe(2);
    });
  });

  describe('when two writers race for version n+1 with different content', () => {
    it('stores exactly one; the other gets a conflict carrying the current version', async () => {
      // Prepare
      const store = racingStore(2);
      const a = parsed(minute(1), { writer: 'a' });
      const b = parsed(minute(1), { writer: 'b' });

      // Act
      const results = await Promise.allSettled([
        writeProfile(store, a, { clock }),
        writeProfile(store, b, { clock }),
      ]);

      // Assess
      const created = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      expect(created).toHaveLength(1);
      expect(created[0]!.status).toBe('created');
      expect(failed).toHaveLength(1);
      expect(failed[0]).toBeInstanceOf(ProfileVersionConflictError);
      expect((failed[0] as ProfileVersionConflictError).current?.hash).toBe(created[0]!.version.hash);
      expect(store.writes).toBe(1);
    });
  });

  describe('when two writers race with the same content (a duplicate delivery)', () => {
    it('stores it once and answers both without a conflict', async () => {
      // Prepare
      const store = racingStore(2);

      // Act
      const [x, y] = await Promise.all([
        writeProfile(store, parsed(minute(1)), { clock }),
        writeProfile(store, parsed(minute(1)), { clock }),
      ]);

      // Assess
      expect([x.status, y.status].sort()).toEqual(['created', 'unchanged']);
      expect(x.version.hash).toBe(y.version.hash);
      expect(store.writes).toBe(1);
    });
  });

  describe('when a forwarder allows retries and loses a race', () => {
    it('rebuilds its version on the new head', async () => {
      // Prepare
      const store = racingStore(2);

      // Act
      const results = await Promise.all([
        writeProfile(store, parsed(minute(1), { writer: 'a' }), { clock, retries: 1 }),
        writeProfile(store, parsed(minute(2), { writer: 'b' }), { clock, retries: 1 }),
      ]);

      // Assess
      expect(results.map((r) => r.version.n).sort()).toEqual([1, 2]);
      expect(store.writes).toBe(2);
    });
  });
});

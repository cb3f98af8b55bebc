import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventIdHash } from '../../../shared/ledger/archive-chunk.ts';
import { EventIdSet } from '../../../shared/ledger/id-set.ts';

describe('Class: EventIdSet', () => {
  describe('Method: add', () => {
    it('finds every id added a second time, whatever its hash (1,000 ids)', () => {
      // Prepare
      const set = new EventIdSet();
      const ids = Array.from({ length: 1000 }, (_, i) => `evt-${i}`);
      for (const id of ids) expect(set.add(id)).toBe(true);

      // Act
      const second = ids.map((id) => set.add(id));

      // Assess: about half of these hashes have the top bit of their second word set
      expect(second.filter((fresh) => fresh)).toEqual([]);
      expect(set.size).toBe(1000);
    });

    it('reports an id as new exactly once, for any list of ids', () => {
      fc.assert(
        fc.property(fc.array(fc.string({ minLength: 1, maxLength: 20 }), { maxLength: 300 }), (ids) => {
          // Prepare
          const set = new EventIdSet();

          // Act
          const fresh = ids.map((id) => set.add(id));

          // Assess
          const seen = new Set<string>();
          expect(fresh).toEqual(
            ids.map((id) => {
              if (seen.has(id)) return false;
              seen.add(id);
              return true;
            }),
          );
        }),
      );
    });

    it('agrees with a Set of the ids while its tables grow, for any list of ids with repeats', () => {
      fc.assert(
        fc.property(
          // Few distinct ids, many repeats, long lists: every table grows several times.
          fc.array(fc.nat({ max: 20_000 }), { minLength: 1, maxLength: 30_000 }),
          (numbers) => {
            // Prepare
            const set = new EventIdSet();
            const ids = numbers.map((n) => `evt-${n.toString(36)}`);

            // Act
            const fresh = ids.map((id) => set.add(id));

            // Assess
            const oracle = new Set<string>();
            const expected = ids.map((id) => {
              const isNew = !oracle.has(id);
              oracle.add(id);
              return isNew;
            });
            expect(fresh).toEqual(expected);
            expect(set.size).toBe(oracle.size);
          },
        ),
        { numRuns: 20 },
      );
    });

    it('finds each of 300,000 ids when added again, after all of them, and keeps about 12 bytes per id', () => {
      // Prepare
      const set = new EventIdSet();
      const n = 300_000;
      for (let i = 0; i < n; i++) expect(set.add(`evt-${i}`)).toBe(true);

      // Act
      let again = 0;
      for (let i = 0; i < n; i++) if (!set.add(`evt-${i}`)) again++;
      const fresh = set.add(`evt-${n}`);

      // Assess
      expect(again).toBe(n);
      expect(fresh).toBe(true);
      expect(set.size).toBe(n + 1);
      // 8 bytes per slot at a load between 0.53 and 0.8: at most 15 bytes per id.
      expect(set.byteLength).toBeLessThanOrEqual(15 * set.size);
    });
  });

  describe('Method: addDigest', () => {
    it('is add, given the id hash at an offset', () => {
      fc.assert(
        fc.property(fc.array(fc.string({ minLength: 1, maxLength: 20 }), { maxLength: 200 }), (ids) => {
          // Prepare
          const byId = new EventIdSet();
          const byDigest = new EventIdSet();
          const packed = Buffer.concat(ids.map((id) => eventIdHash(id)));

          // Act
          const a = ids.map((id) => byId.add(id));
          const b = ids.map((_, i) => byDigest.addDigest(packed, i * 32));

          // Assess
          expect(b).toEqual(a);
        }),
      );
    });
  });
});

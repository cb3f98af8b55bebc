import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventIdHash } from '../../../shared/ledger/archive-chunk.ts';
import { EventIdSet, MAX_SEALED_INDEX, SealedIdTable } from '../../../shared/ledger/id-set.ts';

/**
 * Two ids whose SHA-256 share their first 5 bytes (40 bits: a06375bbeb), found by a birthday search over
 * `fp40-<n>`; the test below checks it. They are different ids with different hashes past byte 5.
 */
const FP40_PAIR = ['fp40-244347', 'fp40-474975'] as const;

/**
 * Uses a SealedIdTable as the sealer does: each id goes in at the next sealed index unless one of its
 * candidates has the very same 32-byte hash (the oracle of the hashes by index stands in for the chunk
 * index). Returns, per id, whether it was new, and the candidates it was shown.
 */
function sealIds(table: SealedIdTable, ids: readonly string[]) {
  const hashes: Buffer[] = [];
  const fresh: boolean[] = [];
  const shown: (readonly number[])[] = [];
  for (const id of ids) {
    const hash = eventIdHash(id);
    const candidates = table.tryAdd(hash, 0, hashes.length);
    shown.push(candidates);
    let repeat = false;
    if (candidates.length > 0) {
      repeat = candidates.some((k) => hashes[k]!.equals(hash));
      if (!repeat) table.addConfirmed(hash, 0, hashes.length);
    }
    if (!repeat) hashes.push(hash);
    fresh.push(!repeat);
  }
  return { fresh, shown, hashes };
}

function setOracle(ids: readonly string[]): boolean[] {
  const seen = new Set<string>();
  return ids.map((id) => {
    const isNew = !seen.has(id);
    seen.add(id);
    return isNew;
  });
}

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

describe('Class: SealedIdTable', () => {
  describe('Method: tryAdd', () => {
    it('agrees with a Set of the full ids while its tables grow, and names the earlier index of every repeat', () => {
      fc.assert(
        fc.property(fc.array(fc.nat({ max: 20_000 }), { minLength: 1, maxLength: 30_000 }), (numbers) => {
          // Prepare
          const table = new SealedIdTable();
          const ids = numbers.map((n) => `evt-${n.toString(36)}`);

          // Act
          const { fresh, shown, hashes } = sealIds(table, ids);

          // Assess
          const expected = setOracle(ids);
          expect(fresh).toEqual(expected);
          expect(table.size).toBe(hashes.length);
          const firstIndex = new Map<string, number>();
          for (const [i, id] of ids.entries()) {
            if (expected[i]) firstIndex.set(id, firstIndex.size);
            else expect(shown[i]).toContain(firstIndex.get(id));
          }
        }),
        { numRuns: 20 },
      );
    });

    describe('when two different ids share the 40-bit fingerprint', () => {
      it('shows the earlier one as a candidate, and once confirmed different keeps both', () => {
        // Prepare
        const [a, b] = FP40_PAIR;
        const ha = eventIdHash(a);
        const hb = eventIdHash(b);
        expect(hb.subarray(0, 5)).toEqual(ha.subarray(0, 5));
        expect(hb.equals(ha)).toBe(false);
        const table = new SealedIdTable();

        // Act
        const sealed = sealIds(table, ['x-1', a, 'x-2', b, a, b, 'x-1']);

        // Assess: b is sealed although it shares a's fingerprint; real repeats are not
        expect(sealed.fresh).toEqual([true, true, true, true, false, false, false]);
        expect(sealed.shown[3]).toEqual([1]);
        expect([...sealed.shown[4]!].sort()).toEqual([1, 3]);
        expect([...sealed.shown[5]!].sort()).toEqual([1, 3]);
        expect(table.size).toBe(4);
      });
    });

    describe('when the sealed index is out of range', () => {
      it.each([-1, 1.5, MAX_SEALED_INDEX + 1])('throws a RangeError for %s and adds nothing', (index) => {
        // Prepare
        const table = new SealedIdTable();

        // Act
        const act = () => table.tryAdd(eventIdHash('x'), 0, index);

        // Assess
        expect(act).toThrow(RangeError);
        expect(table.size).toBe(0);
        expect(table.tryAdd(eventIdHash('x'), 0, MAX_SEALED_INDEX)).toEqual([]);
        expect(table.tryAdd(eventIdHash('x'), 0, 0)).toEqual([MAX_SEALED_INDEX]);
      });
    });

    it('keeps at most 15 bytes per id at 300,000 ids, as EventIdSet does', () => {
      // Prepare
      const table = new SealedIdTable();
      const n = 300_000;

      // Act
      let candidates = 0;
      for (let i = 0; i < n; i++) candidates += table.tryAdd(eventIdHash(`evt-${i}`), 0, i).length;

      // Assess: about n² / 2^41 = 0.04 fingerprint matches are expected among 300,000 distinct ids
      expect(candidates).toBeLessThanOrEqual(1);
      expect(table.size).toBe(n - candidates);
      expect(table.byteLength).toBeLessThanOrEqual(15 * n);
    });
  });

  describe('Method: addConfirmed', () => {
    it('adds the id at its index although its fingerprint is taken, and it is found again', () => {
      // Prepare
      const table = new SealedIdTable();
      const hash = eventIdHash('same-fingerprint');
      table.tryAdd(hash, 0, 7);

      // Act
      table.addConfirmed(hash, 0, 9);

      // Assess
      expect(table.size).toBe(2);
      expect([...table.tryAdd(hash, 0, 10)].sort()).toEqual([7, 9]);
    });

    it('reads the hash at an offset, as tryAdd does', () => {
      // Prepare
      const table = new SealedIdTable();
      const packed = Buffer.concat([eventIdHash('p-0'), eventIdHash('p-1')]);

      // Act
      table.addConfirmed(packed, 32, 4);

      // Assess
      expect(table.tryAdd(eventIdHash('p-1'), 0, 5)).toEqual([4]);
      expect(table.tryAdd(packed, 0, 6)).toEqual([]);
    });
  });
});

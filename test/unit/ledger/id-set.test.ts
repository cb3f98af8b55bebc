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

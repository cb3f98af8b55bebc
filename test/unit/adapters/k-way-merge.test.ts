import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeSorted } from '../../../adapters/dynamodb/k-way-merge.ts';

async function* from<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

const byNumber = (a: number, b: number) => a - b;

describe('Function: mergeSorted', () => {
  it('merges sorted sources into one sorted sequence with every item', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 30 }), { maxLength: 17 }),
        async (lists) => {
          // Prepare
          const sources = lists.map((l) => from([...l].sort(byNumber)));

          // Act
          const merged = await collect(mergeSorted(sources, byNumber));

          // Assess
          expect(merged).toEqual(lists.flat().sort(byNumber));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps equal items in source order', async () => {
    // Prepare
    const sources = [from([{ k: 1, s: 'a' }]), from([{ k: 1, s: 'b' }]), from([{ k: 0, s: 'c' }])];

    // Act
    const merged = await collect(mergeSorted(sources, (x, y) => x.k - y.k));

    // Assess
    expect(merged.map((m) => m.s)).toEqual(['c', 'a', 'b']);
  });

  describe('when a source is not sorted', () => {
    it('throws instead of yielding out of order', async () => {
      // Prepare
      const sources = [from([1, 5, 2])];

      // Act
      const error = await collect(mergeSorted(sources, byNumber)).catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(RangeError);
    });
  });
});

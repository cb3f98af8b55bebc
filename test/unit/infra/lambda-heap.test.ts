import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lambdaHeapFlags } from '../../../infra/constructs/lambda-heap.ts';

describe('Function: lambdaHeapFlags', () => {
  it("gives a 1024 MiB function the young generation Lambda's Node.js runtime gives it", () => {
    // Act
    const flags = lambdaHeapFlags(1024);

    // Assess: new space 102 MiB, two semi-spaces of 51, the rest old space.
    expect(flags).toEqual(['--max-semi-space-size=51', '--max-old-space-size=922']);
  });

  it('keeps semi-spaces and old space within the memory for every size Lambda allows', () => {
    fc.assert(
      fc.property(fc.integer({ min: 128, max: 10_240 }), (memory) => {
        // Act
        const [semi, old] = lambdaHeapFlags(memory).map((f) => Number(f.split('=')[1]));

        // Assess
        expect(Number.isInteger(semi) && Number.isInteger(old)).toBe(true);
        expect(2 * semi! + old!).toBeLessThanOrEqual(memory);
        expect(semi).toBe(Math.floor(Math.floor(memory / 10) / 2));
      }),
    );
  });

  describe('when the memory is not a size Lambda allows', () => {
    it.each([0, 127, 10_241, 512.5, Number.NaN])('refuses %s', (memory) => {
      // Act & Assess
      expect(() => lambdaHeapFlags(memory)).toThrow(RangeError);
    });
  });
});

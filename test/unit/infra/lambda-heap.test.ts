import { spawnSync } from 'node:child_process';
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

  it("keeps Node's own 16 MiB semi-spaces for a streaming function, whatever its memory", () => {
    // Act
    const flags = lambdaHeapFlags(2048, 'streaming');

    // Assess
    expect(flags).toEqual(['--max-semi-space-size=16', '--max-old-space-size=1844']);
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

  it('gives flags that node accepts in NODE_OPTIONS and that set the heap (a refused flag would stop every cold start)', () => {
    // Prepare
    const options = ['--enable-source-maps', ...lambdaHeapFlags(1024)].join(' ');

    // Act
    const run = spawnSync(
      process.execPath,
      ['-e', 'process.stdout.write(String(require("v8").getHeapStatistics().heap_size_limit))'],
      { env: { PATH: process.env['PATH'] ?? '', NODE_OPTIONS: options }, encoding: 'utf8' },
    );

    // Assess: old space 922 MiB plus the young generation (three 51 MiB semi-spaces), give or take V8's pages.
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const limitMiB = Number(run.stdout) / 2 ** 20;
    expect(limitMiB).toBeGreaterThanOrEqual(922 + 2 * 51);
    expect(limitMiB).toBeLessThan(922 + 4 * 51);
  });

  describe('when the memory is not a size Lambda allows', () => {
    it.each([0, 127, 10_241, 512.5, Number.NaN])('refuses %s', (memory) => {
      // Act & Assess
      expect(() => lambdaHeapFlags(memory)).toThrow(RangeError);
    });
  });
});

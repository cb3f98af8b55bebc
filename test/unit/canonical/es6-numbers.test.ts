import { describe, expect, it } from 'vitest';
import { canonicalString } from '../../../shared/canonical/jcs.ts';
import { readSharedText } from '../../support/shared-data.ts';

/** One `hex-ieee,expected` line of the cyberphone es6testfile; the hex drops leading zeros. */
interface NumberSample {
  line: number;
  hex: string;
  expected: string;
}

function parseSamples(text: string): NumberSample[] {
  return text
    .split('\n')
    .filter((row) => row.length > 0)
    .map((row, i) => {
      const match = /^([0-9a-f]{1,16}),(\S+)$/.exec(row);
      if (!match) throw new Error(`es6testfile line ${i + 1} is malformed: ${row}`);
      return { line: i + 1, hex: match[1]!.padStart(16, '0'), expected: match[2]! };
    });
}

function doubleFromHex(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

describe('Function: canonicalString', () => {
  describe('when given the first 10,000 doubles of the ES6 number test file', () => {
    it('serializes every one exactly as the file expects', () => {
      // Prepare
      const samples = parseSamples(readSharedText('jcs/es6testfile_first10000.txt'));

      // Act
      const mismatches = samples.flatMap(({ line, hex, expected }) => {
        const actual = canonicalString(doubleFromHex(hex));
        return actual === expected ? [] : [{ line, hex, expected, actual }];
      });

      // Assess
      expect(samples).toHaveLength(10_000);
      expect(mismatches).toEqual([]);
    });
  });

  describe('when the same doubles are nested in an array', () => {
    it('serializes them identically to the top-level form', () => {
      // Prepare
      const samples = parseSamples(readSharedText('jcs/es6testfile_first10000.txt')).slice(0, 500);
      const values = samples.map(({ hex }) => doubleFromHex(hex));

      // Act
      const text = canonicalString(values);

      // Assess
      expect(text).toBe(`[${samples.map((s) => s.expected).join(',')}]`);
    });
  });
});

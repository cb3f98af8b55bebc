import { isIP as nodeIsIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isIP } from '../../../ui/shims/node-net.ts';

describe('Function: isIP (the page bundle stand-in for node:net)', () => {
  it('answers as node:net does for addresses and near-addresses', () => {
    // Prepare: real IPv4/IPv6 text, and strings built from address characters.
    const near = fc
      .array(fc.constantFrom(...'0123456789abcdefABCDEF:.%-z'.split('')), { maxLength: 45 })
      .map((c) => c.join(''));
    const candidates = fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended(), near, fc.string());
    fc.assert(
      fc.property(candidates, (text) => {
        // Act + Assess
        expect(isIP(text)).toBe(nodeIsIP(text));
      }),
      { numRuns: 5000 },
    );
  });

  it('agrees on hand-picked edge cases', () => {
    for (const text of [
      '1.2.3.4',
      '01.2.3.4',
      '::',
      '::1',
      'fe80::1%eth0',
      '1::2::3',
      '256.1.1.1',
      '',
      ' 1.2.3.4',
    ])
      expect(isIP(text)).toBe(nodeIsIP(text));
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  archiveObjectKey,
  assertLedgerId,
  type DigestPart,
  digestObjectKey,
  parseDigestObjectKey,
} from '../../../shared/ledger/object-keys.ts';
import type { Period } from '../../../shared/ledger/period.ts';

const VALID_SECONDS = Array.from({ length: 86_400 }, (_, i) => i + 1).filter(
  (s) => s >= 60 && 86_400 % s === 0,
);
const ledgerArb = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,62}$/);
const partArb = fc.constantFrom<DigestPart>('digest', 'statement', 'signature');
const periodArb = fc
  .record({ seconds: fc.constantFrom(...VALID_SECONDS), n: fc.integer({ min: 0, max: 2_000_000 }) })
  .map(({ seconds, n }): Period => ({ startMs: n * seconds * 1000, seconds }))
  .filter((p) => p.startMs <= Date.UTC(9999, 11, 31));

const HOUR: Period = { startMs: Date.parse('2026-11-22T21:00:00Z'), seconds: 3600 };

describe('Function: digestObjectKey', () => {
  describe('when given a ledger, an hourly period and each part', () => {
    it('builds the documented layout', () => {
      // Act
      const keys = (['digest', 'statement', 'signature'] as const).map((p) =>
        digestObjectKey('prod', HOUR, p),
      );

      // Assess
      expect(keys).toEqual([
        'digests/prod/2026/11/22/20261122T210000Z-3600s.digest.json',
        'digests/prod/2026/11/22/20261122T210000Z-3600s.statement.json',
        'digests/prod/2026/11/22/20261122T210000Z-3600s.sig',
      ]);
    });
  });

  describe.each([
    ['upper case', 'Prod'],
    ['a path separator', 'a/b'],
    ['a parent reference', '..'],
    ['a leading dash', '-prod'],
    ['nothing', ''],
    ['64 characters', 'a'.repeat(64)],
  ])('when the ledger id has %s', (_, ledger) => {
    it('throws a RangeError', () => {
      // Prepare
      const act = () => digestObjectKey(ledger, HOUR, 'digest');

      // Act & Assess
      expect(act).toThrow(RangeError);
      expect(() => assertLedgerId(ledger)).toThrow(RangeError);
    });
  });
});

describe('Function: archiveObjectKey', () => {
  describe('when given chunk numbers', () => {
    it('pads them to six digits beside the period folder', () => {
      // Act
      const events = archiveObjectKey('prod', HOUR, 7, 'events');
      const index = archiveObjectKey('prod', HOUR, 999_999, 'index');

      // Assess
      expect(events).toBe('archives/prod/2026/11/22/20261122T210000Z-3600s/000007.jsonl');
      expect(index).toBe('archives/prod/2026/11/22/20261122T210000Z-3600s/999999.idx');
    });
  });

  describe.each([-1, 1_000_000, 1.5])('when the chunk number is %s', (chunk) => {
    it('throws a RangeError', () => {
      // Prepare
      const act = () => archiveObjectKey('prod', HOUR, chunk, 'events');

      // Act & Assess
      expect(act).toThrow(RangeError);
    });
  });
});

describe('Function: parseDigestObjectKey', () => {
  describe('when given any key digestObjectKey builds', () => {
    it('returns the ledger, period and part it was built from', () => {
      fc.assert(
        fc.property(ledgerArb, periodArb, partArb, (ledger, period, part) => {
          // Prepare
          const key = digestObjectKey(ledger, period, part);

          // Act
          const parsed = parseDigestObjectKey(key);

          // Assess
          expect(parsed).toEqual({ ledger, period, part, base: key.slice(0, key.lastIndexOf('s.') + 1) });
          expect(digestObjectKey(parsed!.ledger, parsed!.period, parsed!.part)).toBe(key);
        }),
      );
    });
  });

  describe.each([
    ['a parent reference', 'digests/prod/2026/11/../22/20261122T210000Z-3600s.sig'],
    ['a leading parent reference', '../digests/prod/2026/11/22/20261122T210000Z-3600s.sig'],
    ['date folders that disagree with the label', 'digests/prod/2026/11/23/20261122T210000Z-3600s.sig'],
    ['an impossible date', 'digests/prod/2026/02/30/20260230T210000Z-3600s.sig'],
    ['a start not aligned to its period', 'digests/prod/2026/11/22/20261122T210100Z-3600s.sig'],
    ['a length that does not divide a day', 'digests/prod/1970/01/01/19700101T000000Z-7000s.sig'],
    ['a length under one minute', 'digests/prod/1970/01/01/19700101T000000Z-30s.sig'],
    ['a length over one day', 'digests/prod/1970/01/01/19700101T000000Z-86401s.sig'],
    ['a zero length', 'digests/prod/1970/01/01/19700101T000000Z-0s.sig'],
    ['a zero-padded length', 'digests/prod/2026/11/22/20261122T210000Z-03600s.sig'],
    ['an upper-case ledger', 'digests/Prod/2026/11/22/20261122T210000Z-3600s.sig'],
    ['an upper-case suffix', 'digests/prod/2026/11/22/20261122T210000Z-3600s.SIG'],
    ['a lower-case label', 'digests/prod/2026/11/22/20261122t210000z-3600s.sig'],
    ['an unknown suffix', 'digests/prod/2026/11/22/20261122T210000Z-3600s.json'],
    ['an archive prefix', 'archives/prod/2026/11/22/20261122T210000Z-3600s.sig'],
    ['a backslash', 'digests\\prod/2026/11/22/20261122T210000Z-3600s.sig'],
    ['a trailing newline', 'digests/prod/2026/11/22/20261122T210000Z-3600s.sig\n'],
  ])('when the key has %s', (_, key) => {
    it('returns undefined', () => {
      // Act
      const parsed = parseDigestObjectKey(key);

      // Assess
      expect(parsed).toBeUndefined();
    });
  });
});

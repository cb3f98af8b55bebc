/**
 * `normalizeTimestamp` returns a time already in the server form as it is, without a round trip through
 * `Date`: the answer must be exactly what the round trip gives, for every instant and every other form.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeTimestamp, parseRfc3339 } from '../../../shared/events/rfc3339.ts';

const instant = fc.date({
  min: new Date('1970-01-01T00:00:00Z'),
  max: new Date('9999-12-31T23:59:59.999Z'),
  noInvalidDate: true,
});

describe('Function: normalizeTimestamp', () => {
  describe('when the time is in the server form', () => {
    it('returns it unchanged, which is what the Date round trip gives (property)', () => {
      fc.assert(
        fc.property(instant, (date) => {
          // Prepare
          const text = date.toISOString();

          // Act & Assess
          expect(normalizeTimestamp(text)).toBe(text);
          expect(new Date(parseRfc3339(text)!).toISOString()).toBe(text);
        }),
        { numRuns: 2_000 },
      );
    });
  });

  describe('when the time is written another way', () => {
    it.each([
      ['without a fraction', '2026-11-22T21:00:00Z', '2026-11-22T21:00:00.000Z'],
      ['with an offset', '2026-11-22T23:30:00.5+02:30', '2026-11-22T21:00:00.500Z'],
      ['with digits past the millisecond', '2026-11-22T21:00:00.1239Z', '2026-11-22T21:00:00.123Z'],
    ])('converts %s to the server form', (_name, written, normalized) => {
      // Act & Assess
      expect(normalizeTimestamp(written)).toBe(normalized);
    });
  });

  describe('when the server form names no real instant', () => {
    it('throws INVALID_TIMESTAMP', () => {
      // Act & Assess
      expect(() => normalizeTimestamp('2026-02-30T21:00:00.000Z')).toThrow(/RFC 3339/);
    });
  });
});

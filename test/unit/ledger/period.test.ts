import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assertPeriodSeconds,
  compactLabel,
  isoSeconds,
  nextPeriod,
  parseCompactLabel,
  parseIsoSeconds,
  periodEndMs,
  periodOf,
  samePeriod,
} from '../../../shared/ledger/period.ts';

/** Every valid period length: whole seconds in [60, 86400] that divide a day. */
const VALID_SECONDS = Array.from({ length: 86_400 }, (_, i) => i + 1).filter(
  (s) => s >= 60 && 86_400 % s === 0,
);
const secondsArb = fc.constantFrom(...VALID_SECONDS);
/** Instants from 1970 to 9999, in ms. */
const instantArb = fc.integer({ min: 0, max: Date.UTC(9999, 11, 31, 23, 59, 59, 999) });

describe('Function: assertPeriodSeconds', () => {
  describe('when the length divides a day and lies in [60, 86400]', () => {
    it('accepts 60, 3600 and 86400', () => {
      // Prepare
      const lengths = [60, 3600, 86_400];

      // Act
      const act = () => {
        for (const s of lengths) assertPeriodSeconds(s);
      };

      // Assess
      expect(act).not.toThrow();
      expect(VALID_SECONDS).toContain(900);
    });
  });

  describe.each([
    ['is zero', 0],
    ['is below one minute', 59],
    ['is over one day', 172_800],
    ['does not divide a day', 7_000],
    ['is not whole', 3600.5],
    ['is NaN', Number.NaN],
  ])('when the length %s', (_, seconds) => {
    it('throws a RangeError', () => {
      // Prepare
      const act = () => assertPeriodSeconds(seconds);

      // Act & Assess
      expect(act).toThrow(RangeError);
    });
  });
});

describe('Function: periodOf', () => {
  describe('when given any instant and period length', () => {
    it('returns the aligned period that contains the instant', () => {
      fc.assert(
        fc.property(instantArb, secondsArb, (ms, seconds) => {
          // Act
          const period = periodOf(ms, seconds);

          // Assess
          expect(period.seconds).toBe(seconds);
          expect(period.startMs % (seconds * 1000)).toBe(0);
          expect(period.startMs).toBeLessThanOrEqual(ms);
          expect(ms).toBeLessThan(periodEndMs(period));
        }),
      );
    });
  });

  describe('when the instant is exactly on a boundary', () => {
    it('starts the period there, and the previous period ends there', () => {
      // Prepare
      const boundary = Date.parse('2026-11-22T21:00:00Z');

      // Act
      const period = periodOf(boundary, 3600);
      const before = periodOf(boundary - 1, 3600);

      // Assess
      expect(period.startMs).toBe(boundary);
      expect(periodEndMs(before)).toBe(boundary);
      expect(samePeriod(nextPeriod(before), period)).toBe(true);
    });
  });

  describe('when the period length is invalid', () => {
    it('throws a RangeError', () => {
      // Prepare
      const act = () => periodOf(0, 7);

      // Act & Assess
      expect(act).toThrow(RangeError);
    });
  });
});

describe('Function: samePeriod', () => {
  describe('when the windows start together but differ in length', () => {
    it('returns false', () => {
      // Prepare
      const a = { startMs: 0, seconds: 3600 };
      const b = { startMs: 0, seconds: 1800 };

      // Act
      const same = samePeriod(a, b);

      // Assess
      expect(same).toBe(false);
      expect(samePeriod(a, { ...a })).toBe(true);
    });
  });
});

describe('Function: compactLabel', () => {
  describe('when round-tripped through parseCompactLabel', () => {
    it('returns the same whole-second instant', () => {
      fc.assert(
        fc.property(instantArb, (ms) => {
          // Prepare
          const whole = ms - (ms % 1000);

          // Act
          const label = compactLabel(whole);

          // Assess
          expect(label).toMatch(/^\d{8}T\d{6}Z$/);
          expect(parseCompactLabel(label)).toBe(whole);
        }),
      );
    });
  });

  describe.each([
    ['an impossible date', '20240230T000000Z'],
    ['hour 24', '20240101T240000Z'],
    ['a lower-case separator', '20240101t000000z'],
    ['dashes', '2024-01-01T000000Z'],
    ['an offset', '20240101T000000+0100'],
    ['a trailing character', '20240101T000000Z '],
  ])('when the label has %s', (_, label) => {
    it('parseCompactLabel returns undefined', () => {
      // Act
      const parsed = parseCompactLabel(label);

      // Assess
      expect(parsed).toBeUndefined();
    });
  });
});

describe('Function: parseIsoSeconds', () => {
  describe('when given what isoSeconds writes', () => {
    it('returns the instant', () => {
      fc.assert(
        fc.property(instantArb, (ms) => {
          // Prepare
          const whole = ms - (ms % 1000);

          // Act
          const parsed = parseIsoSeconds(isoSeconds(whole));

          // Assess
          expect(parsed).toBe(whole);
        }),
      );
    });
  });

  describe.each([
    ['milliseconds', '2026-11-22T21:00:00.000Z'],
    ['an offset', '2026-11-22T21:00:00+00:00'],
    ['an impossible date', '2026-02-30T00:00:00Z'],
    ['a date only', '2026-11-22'],
  ])('when the text has %s', (_, text) => {
    it('returns undefined', () => {
      // Act
      const parsed = parseIsoSeconds(text);

      // Assess
      expect(parsed).toBeUndefined();
    });
  });
});

/**
 * `--from`/`--to` parsing: every calendar date and time of day is accepted as the instant it names, and
 * nothing that is not on the calendar is accepted (JavaScript's Date would roll `2026-02-30` over to
 * March 2nd, and `T24:00` to the next day).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseInstant, UsageError } from '../../../cli/errors.ts';

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

describe('Function: parseInstant', () => {
  describe('when the date exists on the calendar', () => {
    it('returns the instant it names, for any date and time of day', () => {
      fc.assert(
        fc.property(
          fc.date({
            min: new Date('1000-01-01T00:00:00Z'),
            max: new Date('9999-12-31T23:59:59Z'),
            noInvalidDate: true,
          }),
          (date) => {
            // Prepare
            const text = `${date.toISOString().slice(0, 19)}Z`;

            // Act
            const ms = parseInstant(text, '--from');

            // Assess
            expect(ms).toBe(Math.floor(date.getTime() / 1000) * 1000);
          },
        ),
      );
    });
  });

  describe('when the day does not exist in its month', () => {
    it('exits 2 (UsageError) instead of rolling over', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1000, max: 9999 }),
          fc.integer({ min: 1, max: 12 }),
          fc.integer({ min: 1, max: 99 }),
          (year, month, day) => {
            // Prepare
            const text = `${year}-${pad(month)}-${pad(day)}`;
            const exists = new Date(Date.UTC(year, month - 1, day)).getUTCDate() === day;

            // Act
            const parse = () => parseInstant(text, '--to');

            // Assess
            if (exists) expect(parse()).toBe(Date.UTC(year, month - 1, day));
            else expect(parse).toThrow(UsageError);
          },
        ),
      );
    });
  });

  describe.each([
    ['2026-02-30', 'day 30 does not exist in 2026-02'],
    ['2026-13-01', 'month 13 does not exist'],
    ['2026-00-10', 'month 00 does not exist'],
    ['2026-02-29', 'day 29 does not exist in 2026-02'],
    ['2026-01-01T24:00:00Z', 'no such time of day'],
    ['2026-01-01T23:60:00Z', 'no such time of day'],
    ['2026-01-01T23:59:60Z', 'no such time of day'],
    ['2026-01-01T10:00:00+24:00', 'the UTC offset does not exist'],
  ])('when the time is %s', (text, reason) => {
    it('exits 2 with the reason', () => {
      // Act
      const parse = () => parseInstant(text, '--to');

      // Assess
      expect(parse).toThrow(UsageError);
      expect(parse).toThrow(reason);
    });
  });
});

/**
 * `auditseal download --wait`: the wait itself, on a fake clock, against a head that moves as a sealer
 * would move it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SealingWaitTimeout, waitUntilSealed } from '../../cli/commands/download.ts';

const PERIOD = 60;
const GRACE = 15;
const T0 = Date.parse('2026-12-04T09:00:00Z');

/** A clock that moves only when the code under test sleeps, and a head sealed on schedule. */
function scenario(options: { startMs: number; sealDelayMs?: number; stuckAfter?: number }) {
  let now = options.startMs;
  const lines: string[] = [];
  const sleeps: number[] = [];
  const delay = options.sealDelayMs ?? (GRACE + 1) * 1000;
  const newestSealed = async (): Promise<string | null> => {
    // The newest period whose end + delay has passed, never beyond `stuckAfter`.
    let start = Math.floor((now - delay) / (PERIOD * 1000)) * PERIOD * 1000 - PERIOD * 1000;
    if (options.stuckAfter !== undefined) start = Math.min(start, options.stuckAfter);
    return start < T0 - 3600_000 ? null : new Date(start).toISOString().replace('.000Z', 'Z');
  };
  return {
    lines,
    sleeps,
    now: () => now,
    wait: (toMs: number, timeoutMs: number) =>
      waitUntilSealed({
        toMs,
        timeoutMs,
        schedule: async () => ({ periodSeconds: PERIOD, graceSeconds: GRACE }),
        newestSealed,
        log: (line) => void lines.push(line),
        now: () => now,
        sleep: async (ms) => {
          sleeps.push(ms);
          now += ms;
        },
      }),
  };
}

describe('Function: waitUntilSealed', () => {
  describe('when the range ends now, inside the current period', () => {
    it('waits until that period is sealed, saying when that is expected', async () => {
      // Prepare
      const s = scenario({ startMs: T0 + 20_000 });

      // Act
      await s.wait(s.now(), 600_000);

      // Assess: the period 09:00 ends 09:01:00 and is sealed at 09:01:16.
      expect(s.now()).toBeGreaterThanOrEqual(Date.parse('2026-12-04T09:01:16Z'));
      expect(s.now()).toBeLessThan(Date.parse('2026-12-04T09:01:19Z'));
      expect(s.lines[0]).toBe(
        'waiting for period 2026-12-04T09:00:00Z to be sealed: it ends 2026-12-04T09:01:00Z and is sealed about 15 s later, 2026-12-04T09:01:15Z (in about 55 s); the newest sealed period starts 2026-12-04T08:59:00Z',
      );
      expect(s.lines.at(-1)).toMatch(/^period 2026-12-04T09:00:00Z is sealed \(after 5\d s\); downloading$/);
      expect(Math.max(...s.sleeps)).toBeLessThanOrEqual(2000);
    });
  });

  describe('when the range is already sealed', () => {
    it('returns at once, without a word', async () => {
      // Prepare
      const s = scenario({ startMs: T0 + 600_000 });

      // Act
      await s.wait(T0 + 60_000, 600_000);

      // Assess
      expect(s.sleeps).toEqual([]);
      expect(s.lines).toEqual([]);
    });
  });

  describe('when sealing has stopped', () => {
    it('gives up at the timeout with a SealingWaitTimeout that names the period and the newest sealed one', async () => {
      // Prepare
      const s = scenario({ startMs: T0 + 20_000, stuckAfter: T0 - 120_000 });

      // Act
      const waited = s.wait(s.now(), 120_000);

      // Assess
      await expect(waited).rejects.toThrow(SealingWaitTimeout);
      await expect(waited).rejects.toThrow(
        /timed out after 120 s waiting for period 2026-12-04T09:00:00Z .*the newest sealed period starts 2026-12-04T08:58:00Z.*SEALING_LAG/,
      );
      expect(s.now()).toBe(T0 + 20_000 + 120_000);
    });
  });

  describe('when the range cannot be sealed within the timeout', () => {
    it('fails at once instead of waiting for nothing', async () => {
      // Prepare
      const s = scenario({ startMs: T0 + 20_000 });

      // Act
      const waited = s.wait(T0 + 3600_000, 600_000);

      // Assess
      await expect(waited).rejects.toThrow(/not waiting: .* cannot be sealed within the --timeout of 600 s/);
      expect(s.sleeps).toEqual([]);
    });
  });

  describe('for any range end and start time', () => {
    it('returns only once the head covers the period just before --to, or throws', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 3 * 3600_000 }),
          fc.integer({ min: -3600_000, max: 600_000 }),
          async (startOffset, toOffset) => {
            // Prepare
            const s = scenario({ startMs: T0 + startOffset });
            const toMs = s.now() + toOffset;

            // Act
            const outcome = await s.wait(toMs, 300_000).then(
              () => 'sealed' as const,
              (error: unknown) => (error instanceof SealingWaitTimeout ? ('timeout' as const) : error),
            );

            // Assess
            const lastStart = Math.floor((toMs - 1) / 60_000) * 60_000;
            if (outcome === 'sealed') expect(s.now()).toBeGreaterThanOrEqual(lastStart + 60_000 + 16_000);
            else expect(outcome).toBe('timeout');
          },
        ),
        { numRuns: 200 },
      );
    });
  });
});

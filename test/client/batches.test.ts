import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_BATCH_EVENTS, MAX_REQUEST_BYTES, splitIntoBatches } from '../../client/batches.ts';
import { backoffDelayMs, DEFAULT_RETRY, parseRetryAfter, retryPolicy } from '../../client/retry.ts';
import { MAX_BODY_BYTES } from '../../functions/ingest-events.ts';
import { MAX_BATCH_EVENTS as SERVER_MAX_BATCH_EVENTS } from '../../shared/ingest/ingest-batch.ts';

const jsonEvent = fc.record({
  id: fc.string({ minLength: 1, maxLength: 20 }),
  note: fc.string({ maxLength: 300, unit: 'binary' }),
});

describe('Function: splitIntoBatches', () => {
  it('uses the limits the API enforces', () => {
    // Assess
    expect(MAX_REQUEST_BYTES).toBe(MAX_BODY_BYTES);
    expect(MAX_BATCH_EVENTS).toBe(SERVER_MAX_BATCH_EVENTS);
  });

  it('keeps every event once, in order, within both limits, and packs greedily', () => {
    fc.assert(
      fc.property(
        fc.array(jsonEvent, { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 2_000, max: 6_000 }),
        (events, maxEvents, maxBytes) => {
          // Act
          const batches = splitIntoBatches(events, { maxEvents, maxBytes });

          // Assess
          const parsed = batches.map((b) => (JSON.parse(b.body) as { events: unknown[] }).events);
          expect(parsed.flat()).toEqual(events);
          let next = 0;
          for (const [i, b] of batches.entries()) {
            expect(b.first).toBe(next);
            expect(b.count).toBe(parsed[i]!.length);
            expect(b.bytes).toBe(Buffer.byteLength(b.body));
            expect(b.bytes).toBeLessThanOrEqual(maxBytes);
            expect(b.count).toBeLessThanOrEqual(maxEvents);
            next += b.count;
            // Greedy: the next event would not have fitted.
            const following = events[next];
            if (following !== undefined) {
              const fits =
                b.count < maxEvents && b.bytes + 1 + Buffer.byteLength(JSON.stringify(following)) <= maxBytes;
              expect(fits).toBe(false);
            }
          }
        },
      ),
    );
  });

  describe('when one event alone is larger than a request may be', () => {
    it('throws a RangeError naming it, before packing anything', () => {
      // Prepare
      const events = [{ id: 'a' }, { id: 'b', note: 'x'.repeat(200) }];

      // Act
      const split = () => splitIntoBatches(events, { maxEvents: 10, maxBytes: 100 });

      // Assess
      expect(split).toThrow(RangeError);
      expect(split).toThrow('event 1 is');
    });
  });
});

describe('Function: backoffDelayMs', () => {
  it('stays within the jitter ceiling and maxDelayMs, and honours Retry-After as a floor', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
        (attempt, random, retryAfter) => {
          // Act
          const delay = backoffDelayMs(DEFAULT_RETRY, attempt, random, retryAfter);

          // Assess
          const ceiling = Math.min(DEFAULT_RETRY.maxDelayMs, DEFAULT_RETRY.baseDelayMs * 2 ** (attempt - 1));
          const floor = retryAfter ? Math.min(DEFAULT_RETRY.maxDelayMs, retryAfter * 1000) : 0;
          expect(delay).toBeGreaterThanOrEqual(floor);
          expect(delay).toBeLessThanOrEqual(Math.max(ceiling, floor));
          expect(delay).toBeLessThanOrEqual(DEFAULT_RETRY.maxDelayMs);
        },
      ),
    );
  });
});

describe('Function: parseRetryAfter', () => {
  it.each([
    ['1', 1],
    [' 30 ', 30],
    ['Wed, 21 Oct 2015 07:28:00 GMT', undefined],
    ['-1', undefined],
    ['1e9', undefined],
    [null, undefined],
  ])('reads %j as %j', (header, seconds) => {
    // Assess
    expect(parseRetryAfter(header)).toBe(seconds);
  });
});

describe('Function: retryPolicy', () => {
  describe('when an option is out of range', () => {
    it.each([{ maxAttempts: 0 }, { maxAttempts: 1.5 }, { baseDelayMs: -1 }, { maxDelayMs: Number.NaN }])(
      'throws a RangeError for %j',
      (partial) => {
        // Assess
        expect(() => retryPolicy(partial)).toThrow(RangeError);
      },
    );
  });
});

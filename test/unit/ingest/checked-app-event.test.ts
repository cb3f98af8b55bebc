/**
 * Ingest's one-walk fast path (`canonicalizeCheckedAppEvent`) against the two steps it stands for: the
 * events guard and schema (`parseAuditEventInput`), then `canonicalizeForIngest`. An answer from the fast
 * path must be exactly the general path's result, and any input the general path refuses must get no answer
 * (so that ingest falls back to the general path, which reports the error it always reported).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AuditEventInput, parseAuditEventInput } from '../../../shared/events/audit-event.ts';
import { EventValidationError } from '../../../shared/events/errors.ts';
import { DEFAULT_JSON_LIMITS, MAX_EVENT_BYTES } from '../../../shared/events/limits.ts';
import {
  type Channel,
  canonicalizeCheckedAppEvent,
  canonicalizeForIngest,
  type IngestCanonical,
} from '../../../shared/ingest/canonical-event.ts';
import { appEvent } from './ingest-fixtures.ts';

const RECEIVED_AT = '2026-11-22T21:10:00.123Z';
const L = DEFAULT_JSON_LIMITS;

type General =
  | { readonly ok: true; readonly input: AuditEventInput; readonly canonical: IngestCanonical }
  | { readonly ok: false; readonly code: string };

/** What ingest did before the fast path: the guard and schema, then the canonical form. */
function general(item: unknown, channel: Channel = 'api'): General {
  try {
    const input = parseAuditEventInput(item);
    return { ok: true, input, canonical: canonicalizeForIngest(input, RECEIVED_AT, channel) };
  } catch (error) {
    if (error instanceof EventValidationError) return { ok: false, code: error.code };
    throw error;
  }
}

/** Checks the fast path's answer (or its silence) against the general path, and returns both. */
function agree(item: unknown, channel: Channel = 'api') {
  const fast = canonicalizeCheckedAppEvent(item, RECEIVED_AT, channel);
  const slow = general(item, channel);
  if (fast !== undefined) {
    expect(slow.ok).toBe(true);
    if (!slow.ok) return { fast, slow };
    expect(fast.input).toBe(slow.input);
    expect(Buffer.from(fast.canonical.bytes).equals(Buffer.from(slow.canonical.bytes))).toBe(true);
    expect(fast.canonical.leafHash.equals(slow.canonical.leafHash)).toBe(true);
    expect(fast.canonical.inputSha256).toBe(slow.canonical.inputSha256);
    expect(fast.canonical.eventTime).toBe(slow.canonical.eventTime);
  }
  return { fast, slow };
}

/** `value` nested in `levels` arrays. */
const nested = (levels: number, value: unknown): unknown => {
  let v = value;
  for (let i = 0; i < levels; i++) v = [v];
  return v;
};

/**
 * Events the guard refuses, each with the code it refuses them with. Depths are counted as the guard
 * counts them: the event is depth 1, its `details` array depth 2, so `nested(L.maxDepth - 1, …)` is at the
 * bound and `nested(L.maxDepth, …)` one past it.
 */
const REFUSED: readonly (readonly [string, string, () => unknown])[] = [
  [
    'details nested one past the depth bound',
    'TOO_DEEP',
    () => appEvent(1, { details: nested(L.maxDepth, 1) }),
  ],
  [
    'a string one past its bound',
    'STRING_TOO_LONG',
    () => appEvent(1, { details: { s: 'x'.repeat(L.maxStringLength + 1) } }),
  ],
  [
    'a member name one past its bound',
    'KEY_TOO_LONG',
    () => appEvent(1, { details: { ['k'.repeat(L.maxKeyLength + 1)]: 1 } }),
  ],
  [
    'a __proto__ member (as JSON.parse makes it)',
    'FORBIDDEN_KEY',
    () => JSON.parse(JSON.stringify(appEvent(1)).replace('{', '{"details":{"__proto__":{"x":1}},')),
  ],
  ['a constructor member', 'FORBIDDEN_KEY', () => appEvent(1, { details: { constructor: 1 } })],
  ['a prototype member, deep', 'FORBIDDEN_KEY', () => appEvent(1, { details: { a: [{ prototype: 1 }] } })],
  [
    'an object with one member too many',
    'TOO_MANY_KEYS',
    () =>
      appEvent(1, {
        details: Object.fromEntries(Array.from({ length: L.maxObjectKeys + 1 }, (_, i) => [`k${i}`, i])),
      }),
  ],
  [
    'an array one past its bound',
    'ARRAY_TOO_LONG',
    () => appEvent(1, { details: Array.from({ length: L.maxArrayLength + 1 }, () => 0) }),
  ],
  ['an integer beyond 2^53 − 1', 'UNSAFE_INTEGER', () => appEvent(1, { details: { n: 2 ** 53 } })],
  ['a double too large to be a safe integer', 'UNSAFE_INTEGER', () => appEvent(1, { details: { n: 1e300 } })],
  ['a negative integer beyond −(2^53 − 1)', 'UNSAFE_INTEGER', () => appEvent(1, { details: [-(2 ** 60)] })],
  [
    'a non-finite number',
    'NON_FINITE_NUMBER',
    () => appEvent(1, { details: { n: Number.POSITIVE_INFINITY } }),
  ],
  ['a lone high surrogate in a string', 'LONE_SURROGATE', () => appEvent(1, { details: { s: 'a\uD800b' } })],
  [
    'a lone low surrogate in a member name',
    'LONE_SURROGATE',
    () => appEvent(1, { details: { ['\uDC00']: 1 } }),
  ],
  ['a lone surrogate in the action', 'LONE_SURROGATE', () => appEvent(1, { action: 'x\uDBFF' })],
  [
    'an undefined member, deep',
    'INVALID_JSON_VALUE',
    () => appEvent(1, { details: { a: { b: undefined } } }),
  ],
  [
    'an array with a hole',
    'INVALID_JSON_VALUE',
    () => {
      const holey: unknown[] = [1];
      holey[2] = 3;
      return appEvent(1, { details: holey });
    },
  ],
  ['a Date in details', 'INVALID_JSON_VALUE', () => appEvent(1, { details: { at: new Date(0) } })],
  ['a Map in details', 'INVALID_JSON_VALUE', () => appEvent(1, { details: new Map([['a', 1]]) })],
  ['a function in details', 'INVALID_JSON_VALUE', () => appEvent(1, { details: { f: () => 1 } })],
  ['a bigint in details', 'INVALID_JSON_VALUE', () => appEvent(1, { details: { n: 1n } })],
  [
    'a total size over the bound',
    'TOO_LARGE',
    () => appEvent(1, { details: Array.from({ length: 13 }, () => 'x'.repeat(L.maxStringLength)) }),
  ],
];

describe('Function: canonicalizeCheckedAppEvent', () => {
  describe('when given ordinary app events', () => {
    it('answers, with exactly what the guard, the schema and canonicalizeForIngest give', () => {
      for (let n = 0; n < 20; n++) {
        const item = JSON.parse(
          JSON.stringify(
            appEvent(n, {
              eventTime: n % 2 === 0 ? '2026-11-22T23:09:59.5+02:00' : '2026-11-22T21:09:59.000Z',
              details: { n, text: 'ü-😀', list: [1.5, -0, true, null, { deep: ['a'] }] },
              labels: ['a', 'b'],
              tags: { team: 'x' },
            }),
          ),
        );
        // Act
        const { fast } = agree(item);

        // Assess: the fast path is taken, or ingest would gain nothing from it
        expect(fast).toBeDefined();
      }
    });

    it('answers at every bound the guard allows, and agrees with the general path', () => {
      const atBounds: unknown[] = [
        appEvent(1, { details: nested(L.maxDepth - 1, 1) }),
        appEvent(1, { details: { s: 'x'.repeat(L.maxStringLength) } }),
        appEvent(1, { details: { ['k'.repeat(L.maxKeyLength)]: 1 } }),
        appEvent(1, {
          details: Object.fromEntries(Array.from({ length: L.maxObjectKeys }, (_, i) => [`k${i}`, i])),
        }),
        appEvent(1, { details: Array.from({ length: L.maxArrayLength }, () => 0) }),
        appEvent(1, { details: { n: 2 ** 53 - 1, m: -(2 ** 53 - 1), tiny: 1.5e-7, fraction: 12345.678 } }),
        appEvent(1, { details: { pair: '\uD83D\uDE00' } }),
      ];
      for (const item of atBounds) {
        // Act
        const { fast, slow } = agree(item);

        // Assess
        expect(slow.ok).toBe(true);
        expect(fast).toBeDefined();
      }
    });
  });

  describe('when given an event the guard refuses', () => {
    it.each(REFUSED)('gives no answer for %s, so that ingest reports %s', (_name, code, make) => {
      // Act
      const { fast, slow } = agree(make());

      // Assess
      expect(fast).toBeUndefined();
      expect(slow).toMatchObject({ ok: false, code });
    });

    it('gives no answer for a cycle, and the guard refuses it as too deep', () => {
      // Prepare
      const details: Record<string, unknown> = {};
      details['self'] = details;

      // Act
      const { fast, slow } = agree(appEvent(1, { details }));

      // Assess
      expect(fast).toBeUndefined();
      expect(slow).toMatchObject({ ok: false, code: 'TOO_DEEP' });
    });

    it('gives no answer for shared references that would multiply the work, and the guard refuses them', () => {
      // Prepare: 2^30 paths through 30 levels of one shared pair
      let v: unknown = 'x'.repeat(100);
      for (let i = 0; i < 30; i++) v = [v, v];

      // Act
      const started = process.hrtime.bigint();
      const { fast, slow } = agree(appEvent(1, { details: v }));

      // Assess
      expect(fast).toBeUndefined();
      expect(slow).toMatchObject({ ok: false, code: 'TOO_LARGE' });
      expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(5_000);
    });
  });

  describe('when given what only the schema or the general path decides', () => {
    it.each([
      ['a cloudtrail member', appEvent(1, { cloudtrail: '{"eventVersion":"1.08"}' })],
      ['an unknown member', appEvent(1, { extra: 1 })],
      ['a bad eventTime', appEvent(1, { eventTime: '2026-02-30T00:00:00Z' })],
      ['a member named like a server member', appEvent(1, { v: 1 })],
      ['a non-object', [appEvent(1)]],
      ['an object of another prototype', Object.assign(Object.create({}), appEvent(1))],
    ])('gives no answer for %s', (_name, item) => {
      // Act
      const { fast } = agree(item);

      // Assess
      expect(fast).toBeUndefined();
    });

    it('gives no answer for a stored form over the size limit, and the general path refuses it', () => {
      // Prepare: within the guard's bounds, over MAX_EVENT_BYTES once UTF-8 (three bytes per character)
      const item = appEvent(1, {
        details: Array.from({ length: 5 }, () => '€'.repeat(Math.ceil(MAX_EVENT_BYTES / 15))),
      });

      // Act
      const { fast, slow } = agree(item);

      // Assess
      expect(fast).toBeUndefined();
      expect(slow).toMatchObject({ ok: false, code: 'TOO_LARGE' });
    });

    it('gives no answer for server values the stored schema refuses', () => {
      // Act
      const fast = canonicalizeCheckedAppEvent(appEvent(1), '2026-11-22T21:10:00Z', 'api');

      // Assess
      expect(fast).toBeUndefined();
    });
  });

  describe('when given any JSON as details or any member (property)', () => {
    it('never answers unless the general path accepts, and then answers exactly as it does', () => {
      const hostileString = fc.oneof(
        fc.string({ maxLength: 8 }),
        fc.string({ unit: 'binary', maxLength: 8 }),
        fc.constantFrom('\uD800', '\uDFFF', 'a\uDBFFb', '__proto__', 'constructor', 'prototype'),
      );
      const hostileValue = fc.letrec((tie) => ({
        value: fc.oneof(
          { depthSize: 'small', withCrossShrink: true },
          hostileString,
          fc.double(),
          fc.constantFrom(2 ** 53, -(2 ** 53), 2 ** 53 - 1, 0, -0, Number.NaN, undefined, null, true),
          fc.array(tie('value'), { maxLength: 4 }),
          fc.dictionary(hostileString, tie('value'), { maxKeys: 4 }),
        ),
      })).value;
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 1000 }),
          fc.option(hostileValue, { nil: undefined }),
          fc.option(hostileString, { nil: undefined }),
          fc.constantFrom<Channel>('api', 'cloudtrail', 'kubernetes'),
          fc.boolean(),
          (n, details, action, channel, viaJson) => {
            // Prepare: as the client sent it (through JSON) or as a caller built it
            const built = appEvent(n, {
              ...(details === undefined ? {} : { details }),
              ...(action === undefined ? {} : { action }),
            });
            let item: unknown = built;
            if (viaJson) {
              try {
                item = JSON.parse(JSON.stringify(built));
              } catch {
                return;
              }
            }

            // Act, Assess
            agree(item, channel);
          },
        ),
        { numRuns: 2000 },
      );
    });
  });

  describe("an in-process caller's hostile objects", () => {
    /** `appEvent(1)` after `first`, with an enumerable `tags` whose getter throws. */
    const withThrowingTags = (first: Record<string, unknown>): Record<string, unknown> => {
      const item: Record<string, unknown> = { ...first, ...appEvent(1) };
      Object.defineProperty(item, 'tags', {
        enumerable: true,
        get() {
          throw new Error('getter says no');
        },
      });
      return item;
    };

    it('gets no answer, not an error, when a getter the schema check reads throws', () => {
      // Prepare: a string the guard refuses comes before the getter, so the general path reports it
      const item = withThrowingTags({ details: 'x'.repeat(L.maxStringLength + 1) });

      // Act
      const fast = () => canonicalizeCheckedAppEvent(item, RECEIVED_AT, 'api');

      // Assess: the general path's answer is what ingest reports, as before the fast path
      expect(fast).not.toThrow();
      expect(fast()).toBeUndefined();
      expect(general(item)).toEqual({ ok: false, code: 'STRING_TOO_LONG' });
    });

    it('gets no answer, not an error, when a getter or proxy inside details throws', () => {
      // Prepare
      const getter = appEvent(2, {
        details: Object.defineProperty({}, 'x', {
          enumerable: true,
          get() {
            throw new Error('getter says no');
          },
        }),
      });
      const proxy = appEvent(3, {
        details: new Proxy(
          {},
          {
            ownKeys() {
              throw new Error('proxy says no');
            },
          },
        ),
      });

      // Act, Assess
      for (const item of [getter, proxy]) {
        expect(() => canonicalizeCheckedAppEvent(item, RECEIVED_AT, 'api')).not.toThrow();
        expect(canonicalizeCheckedAppEvent(item, RECEIVED_AT, 'api')).toBeUndefined();
      }
    });

    it('stops within one string of the size bound when one long string is repeated', () => {
      // Prepare: the same 32 KiB string 1,000 times, each written as 6 bytes per char (\u0001): about
      // 196 MB of text if the walk went on. A proxy counts how many elements the writer reads.
      const long = '\u0001'.repeat(L.maxStringLength);
      const elements = Array<string>(L.maxArrayLength).fill(long);
      let reads = 0;
      const counted = new Proxy(elements, {
        get(target, key, receiver) {
          if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
          return Reflect.get(target, key, receiver) as unknown;
        },
      });
      const item = appEvent(4, { details: counted });

      // Act
      const fast = canonicalizeCheckedAppEvent(item, RECEIVED_AT, 'api');

      // Assess: refused once the text passes MAX_EVENT_BYTES, not after the whole array
      expect(fast).toBeUndefined();
      const mostNeeded = Math.ceil(MAX_EVENT_BYTES / (6 * L.maxStringLength)) + 1;
      expect(reads).toBeGreaterThan(0);
      expect(reads).toBeLessThanOrEqual(mostNeeded);
      expect(general(appEvent(4, { details: elements }))).toEqual({ ok: false, code: 'TOO_LARGE' });
    });
  });
});

import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { CanonicalErrorCode } from '../../../shared/canonical/errors.ts';
import { CanonicalizationError } from '../../../shared/canonical/errors.ts';
import { canonicalBytes, canonicalString, MAX_CANONICAL_DEPTH } from '../../../shared/canonical/jcs.ts';
import { readSharedBytes, readSharedJson, readSharedText } from '../../support/shared-data.ts';

const CYBERPHONE_CASES = ['arrays', 'french', 'structures', 'unicode', 'values', 'weird'] as const;

const vectorsSchema = z.object({
  cases: z
    .array(
      z.object({
        name: z.string(),
        input_utf8: z.string(),
        expected_canonical_utf8: z.string(),
        expected_canonical_hex: z.string().regex(/^(?:[0-9a-f]{2})+$/),
      }),
    )
    .length(CYBERPHONE_CASES.length),
});

const appendixBSchema = z.object({
  cases: z
    .array(
      z.discriminatedUnion('must_reject', [
        z.object({
          ieee754_hex: z.string().regex(/^[0-9a-f]{16}$/),
          must_reject: z.literal(false),
          expected: z.string(),
          comment: z.string().nullable(),
        }),
        z.object({
          ieee754_hex: z.string().regex(/^[0-9a-f]{16}$/),
          must_reject: z.literal(true),
          expected: z.null(),
          comment: z.string().nullable(),
        }),
      ]),
    )
    .length(26),
});

/** The double whose IEEE 754 bit pattern is this hex; JSON cannot carry -0, NaN or exact bit patterns. */
function doubleFromHex(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

/** Parses a JSON document from the shared data; the schema is "any JSON value" because that is the input. */
function parseJson(text: string): unknown {
  return JSON.parse(text);
}

/** Runs `act` and returns the CanonicalizationError it throws; fails the test otherwise. */
function catchCanonicalError(act: () => unknown): CanonicalizationError {
  let caught: unknown;
  try {
    act();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(CanonicalizationError);
  return caught as CanonicalizationError;
}

function nested(depth: number, wrap: (inner: unknown) => unknown): unknown {
  let value: unknown = 0;
  for (let i = 0; i < depth; i++) value = wrap(value);
  return value;
}

describe('Function: canonicalBytes', () => {
  describe('when given the cyberphone test inputs', () => {
    it.each(CYBERPHONE_CASES)('produces exactly the bytes of output/%s.json', (name) => {
      // Prepare
      const input = parseJson(readSharedText(`jcs/input/${name}.json`));
      const expected = readSharedBytes(`jcs/output/${name}.json`);

      // Act
      const bytes = canonicalBytes(input);

      // Assess
      expect(Buffer.from(bytes).toString('hex')).toBe(expected.toString('hex'));
    });

    it.each(CYBERPHONE_CASES)('produces exactly the bytes listed in outhex/%s.txt', (name) => {
      // Prepare
      const input = parseJson(readSharedText(`jcs/input/${name}.json`));
      const expectedHex = readSharedText(`jcs/outhex/${name}.txt`).replace(/\s+/g, '');

      // Act
      const bytes = canonicalBytes(input);

      // Assess
      expect(expectedHex).toMatch(/^(?:[0-9a-f]{2})+$/);
      expect(Buffer.from(bytes).toString('hex')).toBe(expectedHex);
    });
  });

  describe('when given the same cases from jcs_vectors.json', () => {
    const { cases } = readSharedJson('jcs/jcs_vectors.json', vectorsSchema);

    it.each(cases)('produces the expected hex for $name', ({ input_utf8, expected_canonical_hex }) => {
      // Prepare
      const input = parseJson(input_utf8);

      // Act
      const bytes = canonicalBytes(input);

      // Assess
      expect(Buffer.from(bytes).toString('hex')).toBe(expected_canonical_hex);
    });
  });

  describe('when the value holds a character outside the BMP', () => {
    it('encodes the surrogate pair as one 4-byte UTF-8 sequence', () => {
      // Prepare
      const value = { smile: '\ud83d\ude00' };

      // Act
      const bytes = canonicalBytes(value);

      // Assess
      // {"smile":" then F0 9F 98 80 then "}
      expect(Buffer.from(bytes).toString('hex')).toBe('7b22736d696c65223a22f09f9880227d');
    });
  });
});

describe('Function: canonicalString', () => {
  describe('when given the RFC 8785 Appendix B number samples', () => {
    const { cases } = readSharedJson('jcs/rfc8785_appendixB_numbers.json', appendixBSchema);
    const accepted = cases.flatMap((c) => (c.must_reject ? [] : [c]));
    const rejected = cases.flatMap((c) => (c.must_reject ? [c] : []));

    it.each(accepted)('serializes $ieee754_hex as $expected', ({ ieee754_hex, expected }) => {
      // Prepare
      const value = doubleFromHex(ieee754_hex);

      // Act
      const text = canonicalString(value);

      // Assess
      expect(text).toBe(expected);
    });

    describe.each(rejected)('when the number is $comment ($ieee754_hex)', ({ ieee754_hex }) => {
      it('throws NON_FINITE_NUMBER', () => {
        // Prepare
        const value = doubleFromHex(ieee754_hex);

        // Act
        const error = catchCanonicalError(() => canonicalString({ n: value }));

        // Assess
        expect(error.code).toBe('NON_FINITE_NUMBER');
        expect(error.path).toBe('$.n');
      });
    });
  });

  describe('when the number is -Infinity', () => {
    it('throws NON_FINITE_NUMBER', () => {
      // Prepare
      const value = [Number.NEGATIVE_INFINITY];

      // Act
      const error = catchCanonicalError(() => canonicalString(value));

      // Assess
      expect(error.code).toBe('NON_FINITE_NUMBER');
      expect(error.path).toBe('$[0]');
    });
  });

  describe('when the number is -0', () => {
    it('serializes it as 0, at the top level and inside structures', () => {
      // Prepare
      const values = [-0, [-0], { z: -0 }];

      // Act
      const texts = values.map((v) => canonicalString(v));

      // Assess
      expect(texts).toEqual(['0', '[0]', '{"z":0}']);
    });
  });

  describe('when object keys need sorting (RFC 8785 §3.2.3 example)', () => {
    it('orders them by UTF-16 code units, so U+1F600 sorts before U+FB33', () => {
      // Prepare
      const value = {
        '\u20ac': 'Euro Sign',
        '\r': 'Carriage Return',
        '\ufb33': 'Hebrew Letter Dalet With Dagesh',
        '1': 'One',
        '\ud83d\ude00': 'Emoji: Grinning Face',
        '\u0080': 'Control',
        '\u00f6': 'Latin Small Letter O With Diaeresis',
      };

      // Act
      const text = canonicalString(value);

      // Assess
      expect(text).toBe(
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
          '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
      );
    });
  });

  describe('when keys look like array indices', () => {
    it('sorts them as strings, not numbers', () => {
      // Prepare
      const value = { '10': 'ten', '2': 'two', '1': 'one', b: 'b', A: 'A' };

      // Act
      const text = canonicalString(value);

      // Assess
      expect(text).toBe('{"1":"one","10":"ten","2":"two","A":"A","b":"b"}');
    });
  });

  describe('when strings hold characters that JSON must or may escape', () => {
    it('escapes only quote, backslash and C0 controls, with the short forms where they exist', () => {
      // Prepare
      const value = '"\\/\b\f\n\r\t\u0000\u001f\u007f\u2028\u00e9';

      // Act
      const text = canonicalString(value);

      // Assess
      expect(text).toBe('"\\"\\\\/\\b\\f\\n\\r\\t\\u0000\\u001f\u007f\u2028\u00e9"');
    });
  });

  describe('when a member value is undefined', () => {
    it('leaves the member out', () => {
      // Prepare
      const value = { a: undefined, b: 1, c: { d: undefined } };

      // Act
      const text = canonicalString(value);

      // Assess
      expect(text).toBe('{"b":1,"c":{}}');
    });
  });

  describe('when given JSON literals and empty containers at the top level', () => {
    it.each([
      [null, 'null'],
      [true, 'true'],
      [false, 'false'],
      ['', '""'],
      [[], '[]'],
      [{}, '{}'],
      [Object.create(null), '{}'],
    ])('serializes %o as %s', (value, expected) => {
      // Prepare
      const input: unknown = value;

      // Act
      const text = canonicalString(input);

      // Assess
      expect(text).toBe(expected);
    });
  });

  describe('when the same object appears twice without a cycle', () => {
    it('serializes both occurrences', () => {
      // Prepare
      const shared = { x: 1 };
      const value = { a: shared, b: [shared, shared] };

      // Act
      const text = canonicalString(value);

      // Assess
      expect(text).toBe('{"a":{"x":1},"b":[{"x":1},{"x":1}]}');
    });
  });

  describe('when a paired surrogate is in a key and a value', () => {
    it('keeps the pair as is', () => {
      // Prepare
      const value = { '\ud83d\ude00': 'a\ud83d\ude00b' };

      // Act
      const text = canonicalString(value);

      // Assess
      expect(text).toBe('{"\ud83d\ude00":"a\ud83d\ude00b"}');
    });
  });

  describe.each([
    ['a lone high surrogate', '\ud800'],
    ['a high surrogate followed by a non-surrogate', '\ud83dA'],
    ['a lone low surrogate', '\udc00'],
    ['a low surrogate inside text', 'a\ude00b'],
    ['a reversed pair', '\ude00\ud83d'],
    ['two high surrogates then a low one', '\ud83d\ud83d\ude00'],
    ['a pair followed by a stray low surrogate', '\ud83d\ude00\ude00'],
  ])('when a string value holds %s', (_label, text) => {
    it('throws LONE_SURROGATE with the path of the value', () => {
      // Prepare
      const value = { list: ['ok', text] };

      // Act
      const error = catchCanonicalError(() => canonicalString(value));

      // Assess
      expect(error.code).toBe('LONE_SURROGATE');
      expect(error.path).toBe('$.list[1]');
    });
  });

  describe.each([
    ['a lone high surrogate', '\udbff'],
    ['a lone low surrogate', 'k\udfff'],
  ])('when an object key holds %s', (_label, key) => {
    it('throws LONE_SURROGATE', () => {
      // Prepare
      const value = { outer: { [key]: 1 } };

      // Act
      const error = catchCanonicalError(() => canonicalString(value));

      // Assess
      expect(error.code).toBe('LONE_SURROGATE');
      expect(error.path).toBe('$.outer');
    });
  });

  describe('when the value refers to itself through an object', () => {
    it('throws CYCLE', () => {
      // Prepare
      const value: Record<string, unknown> = { a: 1 };
      value['self'] = value;

      // Act
      const error = catchCanonicalError(() => canonicalString(value));

      // Assess
      expect(error.code).toBe('CYCLE');
      expect(error.path).toBe('$.self');
    });
  });

  describe('when the value refers to itself through an array two levels down', () => {
    it('throws CYCLE', () => {
      // Prepare
      const list: unknown[] = [];
      const value = { items: list };
      list.push({ back: value });

      // Act
      const error = catchCanonicalError(() => canonicalString(value));

      // Assess
      expect(error.code).toBe('CYCLE');
      expect(error.path).toBe('$.items[0].back');
    });
  });

  describe('when nesting is exactly at the limit', () => {
    it.each([
      ['arrays', (inner: unknown) => [inner]],
      ['objects', (inner: unknown) => ({ k: inner })],
    ])('accepts %s nested MAX_CANONICAL_DEPTH deep', (_label, wrap) => {
      // Prepare
      const value = nested(MAX_CANONICAL_DEPTH, wrap);

      // Act
      const text = canonicalString(value);

      // Assess
      expect(JSON.parse(text)).toEqual(value);
    });
  });

  describe('when nesting is one level past the limit', () => {
    it.each([
      ['arrays', (inner: unknown) => [inner]],
      ['objects', (inner: unknown) => ({ k: inner })],
    ])('rejects %s with TOO_DEEP', (_label, wrap) => {
      // Prepare
      const value = nested(MAX_CANONICAL_DEPTH + 1, wrap);

      // Act
      const error = catchCanonicalError(() => canonicalString(value));

      // Assess
      expect(error.code).toBe('TOO_DEEP');
    });
  });

  describe('when nesting is hostile (100,000 levels)', () => {
    it('throws TOO_DEEP instead of overflowing the stack', () => {
      // Prepare
      const value = nested(100_000, (inner) => [inner]);

      // Act
      const error = catchCanonicalError(() => canonicalString(value));

      // Assess
      expect(error.code).toBe('TOO_DEEP');
    });
  });

  class Point {
    constructor(
      readonly x: number,
      readonly y: number,
    ) {}
  }

  const unsupported: [string, unknown, string][] = [
    ['a Date', { at: new Date(0) }, '$.at'],
    ['a Map', { m: new Map([['a', 1]]) }, '$.m'],
    ['a Set', [new Set([1])], '$[0]'],
    ['a Uint8Array', { b: new Uint8Array([1]) }, '$.b'],
    ['a class instance', { p: new Point(1, 2) }, '$.p'],
    ['a boxed number', [Object(1)], '$[0]'],
    ['a bigint', { n: 1n }, '$.n'],
    ['a function', { f: () => 1 }, '$.f'],
    ['a symbol', { s: Symbol('s') }, '$.s'],
    ['undefined inside an array', [1, undefined], '$[1]'],
    ['undefined at the top level', undefined, '$'],
  ];

  describe.each(unsupported)('when the value holds %s', (_label, value, path) => {
    it('throws UNSUPPORTED_TYPE with its path', () => {
      // Prepare
      const input: unknown = value;

      // Act
      const error = catchCanonicalError(() => canonicalString(input));

      // Assess
      expect(error.code).toBe('UNSUPPORTED_TYPE' satisfies CanonicalErrorCode);
      expect(error.path).toBe(path);
    });
  });
});

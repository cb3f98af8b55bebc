/**
 * `parseJsonText`'s native path (`JSON.parse`, then each number as the `LosslessNumber` of its text) against
 * lossless-json itself, the parser it stands in for: the same value, member for member and in the same
 * order, with the same numbers' texts, or the same error.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parse } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { EventValidationError } from '../../../shared/events/errors.ts';
import { isLosslessNumber, parseJsonText } from '../../../shared/events/json-text.ts';

const LIMITS = { maxLength: 1_000_000, maxDepth: 1_100 };
const LOSSLESS_OPTIONS = { onDuplicateKey: ({ newValue }: { newValue: unknown }) => newValue };

/** A text image of a parsed value that tells apart everything the two parsers could differ in. */
function shape(value: unknown): string {
  if (isLosslessNumber(value)) return `N(${value.value})`;
  if (typeof value === 'number') return `double(${value})`;
  if (Array.isArray(value)) return `[${value.map(shape).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const proto = Object.getPrototypeOf(value) === Object.prototype ? '' : 'PROTO!';
    const members = Object.keys(value).map(
      (k) => `${JSON.stringify(k)}:${shape((value as Record<string, unknown>)[k])}`,
    );
    return `${proto}{${members.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** What parseJsonText gives, or the code and message of what it throws. */
function ours(text: string): string {
  try {
    return shape(parseJsonText(text, LIMITS, '$'));
  } catch (error) {
    if (error instanceof EventValidationError) return `error ${error.code} ${error.message}`;
    throw error;
  }
}

/** What lossless-json alone gives, through the same bounds and error mapping. */
function reference(text: string): string {
  try {
    return shape(parse(text, null, LOSSLESS_OPTIONS));
  } catch (error) {
    // parseJsonText's mapping of lossless-json's error: its position, never its message.
    const position = /at position (\d+)/.exec((error as Error).message)?.[1];
    const expected = new EventValidationError(
      'INVALID_JSON',
      '$',
      position === undefined ? 'text is not valid JSON' : `text is not valid JSON (offset ${position})`,
    );
    return `error ${expected.code} ${expected.message}`;
  }
}

describe('Function: parseJsonText (the native path)', () => {
  describe('when given real records', () => {
    it('gives what lossless-json gives for every CloudTrail record of the shared data', () => {
      // Prepare
      const lines = readFileSync('../shared/data/cloudtrail/all_permissive.jsonl', 'utf8')
        .split('\n')
        .filter((line) => line.trim() !== '');

      // Act, Assess
      expect(lines.length).toBeGreaterThan(800);
      for (const line of lines) expect(ours(line)).toBe(reference(line));
    });
  });

  describe('when the numbers are written in forms JSON.parse does not give back', () => {
    it.each([
      ['a trailing zero', '{"a":1.50}'],
      ['an exponent', '{"a":1e5}'],
      ['an upper-case exponent', '[1E+2]'],
      ['minus zero', '{"a":-0}'],
      ['an integer beyond 2^53', '{"accountId":12345678901234567890}'],
      ['a number beyond the largest double', '{"a":1e400}'],
      ['many digits of a fraction', '{"a":0.10000000000000000555}'],
      ['a leading zero of the exponent', '[1e05]'],
    ])('keeps %s exactly as written', (_name, text) => {
      // Act, Assess
      expect(ours(text)).toBe(reference(text));
    });
  });

  describe('when numbers are written as JSON.parse gives them back', () => {
    it.each([
      ['small integers', '{"a":1,"b":[0,-3,42]}'],
      ['fractions', '{"a":0.5,"b":-2.25}'],
      ['a large double', '[1.25e+21, 5e-324]'],
      ['numbers under a __proto__ member', '{"__proto__":{"n":7},"x":{"__proto__":3}}'],
      ['duplicate names', '{"a":1,"b":2,"a":3}'],
      ['integer-like names', '{"b":1,"2":2,"1":{"10":3,"9":4}}'],
      ['whitespace everywhere', ' \t\n{ "a" : [ 1 , 2 ] }\r\n'],
      ['escapes', '{"\\u0041\\n":"\\ud83d\\ude00","\\"1\\"":2}'],
      ['digits inside strings only', '{"a":"12.50e5","b":"-0"}'],
      ['a bare number', '17'],
    ])('gives what lossless-json gives for %s', (_name, text) => {
      // Act, Assess
      expect(ours(text)).toBe(reference(text));
    });

    it('never lets a __proto__ member set a prototype', () => {
      // Act
      const value = parseJsonText('{"__proto__":5,"a":{"__proto__":{"polluted":1}}}', LIMITS, '$') as Record<
        string,
        unknown
      >;

      // Assess
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
      expect(Object.getPrototypeOf(value['a'])).toBe(Object.prototype);
      expect(isLosslessNumber(Object.getOwnPropertyDescriptor(value, '__proto__')?.value)).toBe(true);
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    });
  });

  describe('when the text is not valid JSON', () => {
    it.each([
      ['a trailing comma', '{"a":1,}'],
      ['an unclosed string', '{"a":"x'],
      ['a lone minus', '[-]'],
      ['a leading zero', '[01]'],
      ['a raw control character', '["a\u0001b"]'],
      ['two values', '1 2'],
      ['nothing', ''],
      ['a single quote', "{'a':1}"],
    ])('throws what lossless-json throws for %s', (_name, text) => {
      // Act, Assess
      expect(ours(text)).toBe(reference(text));
      expect(ours(text)).toMatch(/^error /);
    });
  });

  describe('when given any JSON text, or one a character away from it (property)', () => {
    it('gives exactly what lossless-json gives', () => {
      const numberText = fc.oneof(
        fc.integer().map(String),
        fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
        fc.constantFrom('1.50', '1e5', '-0', '12345678901234567890', '1E+2', '0.1', '2.5e-7', '1e400'),
      );
      const withOddNumbers = fc
        .tuple(fc.json({ maxDepth: 3 }), fc.array(numberText, { maxLength: 3 }))
        .map(([json, numbers]) => `{"x":${json},"n":[${numbers.join(',')}]}`);
      const nearJson = fc
        .tuple(fc.json({ maxDepth: 2 }), fc.nat(), fc.constantFrom('', ',', '"', '-', '0', '}', '\\', 'e'))
        .map(([json, at, ch]) => {
          const i = at % (json.length + 1);
          return json.slice(0, i) + ch + json.slice(i);
        });
      fc.assert(
        fc.property(fc.oneof(fc.json({ maxDepth: 4 }), withOddNumbers, nearJson), (text) => {
          // Act, Assess
          expect(ours(text)).toBe(reference(text));
        }),
        { numRuns: 3000 },
      );
    });
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventValidationError } from '../../../shared/events/errors.ts';
import {
  elementTexts,
  isLosslessNumber,
  memberText,
  parseJsonText,
  trimJsonWhitespace,
} from '../../../shared/events/json-text.ts';

const LIMITS = { maxLength: 100_000, maxDepth: 64 };

function failure(act: () => unknown): EventValidationError {
  try {
    act();
  } catch (error) {
    if (error instanceof EventValidationError) return error;
    throw error;
  }
  throw new Error('the call did not throw');
}

/** Replaces each LosslessNumber with the double JSON.parse would give, to compare with JSON.parse. */
function asDoubles(value: unknown): unknown {
  if (isLosslessNumber(value)) return Number.parseFloat(value.value);
  if (Array.isArray(value)) return value.map(asDoubles);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      Object.defineProperty(out, key, {
        value: asDoubles((value as Record<string, unknown>)[key]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

/** JSON texts: valid ones with any whitespace, and the same with one character inserted or removed. */
const texts = fc.oneof(
  fc.json({ depthSize: 'medium' }),
  fc
    .tuple(fc.json(), fc.nat(), fc.constantFrom('', '{', '}', '[', ']', '"', '\\', ',', ':', 'e', '-', '0'))
    .map(([text, at, insert]) => {
      const i = at % (text.length + 1);
      return insert === '' ? text.slice(0, i) + text.slice(i + 1) : text.slice(0, i) + insert + text.slice(i);
    }),
);

describe('Function: parseJsonText', () => {
  describe('when given any text (property)', () => {
    it('accepts exactly what JSON.parse accepts, gives the same values, and throws nothing else', () => {
      fc.assert(
        fc.property(texts, (text) => {
          // Act
          let expected: unknown;
          let valid = true;
          try {
            expected = JSON.parse(text);
          } catch {
            valid = false;
          }
          let actual: unknown;
          let accepted = true;
          try {
            actual = parseJsonText(text, LIMITS, '$');
          } catch (error) {
            expect(error).toBeInstanceOf(EventValidationError);
            accepted = false;
          }

          // Assess
          expect(accepted).toBe(valid);
          if (accepted) expect(asDoubles(actual)).toEqual(expected);
        }),
        { numRuns: 500 },
      );
    });
  });

  describe('when numbers are beyond what a double keeps', () => {
    it('keeps each one with its exact text', () => {
      // Act
      const value = parseJsonText(
        '[12345678901234567890, 1e400, -0, 1.50, 5e-324]',
        LIMITS,
        '$',
      ) as unknown[];

      // Assess
      expect(value.map(String)).toEqual(['12345678901234567890', '1e400', '-0', '1.50', '5e-324']);
    });
  });

  describe('when the text nests deeper than the limit, even in text that is not JSON', () => {
    it.each([
      ['arrays', `${'['.repeat(65)}${']'.repeat(65)}`],
      ['objects', `${'{"a":'.repeat(65)}1${'}'.repeat(65)}`],
      ['an unclosed prefix', '['.repeat(200_000).slice(0, 99_000)],
    ])('refuses %s with TOO_DEEP before parsing', (_name, text) => {
      // Act
      const error = failure(() => parseJsonText(text, LIMITS, '$.x'));

      // Assess
      expect(error.code).toBe('TOO_DEEP');
      expect(error.path).toBe('$.x');
    });

    it('counts brackets inside strings as text', () => {
      // Act
      const value = parseJsonText(`["${'['.repeat(1_000)}\\"${'{'.repeat(1_000)}"]`, LIMITS, '$');

      // Assess
      expect(value).toEqual([`${'['.repeat(1_000)}"${'{'.repeat(1_000)}`]);
    });
  });

  describe('when the text is too long, or holds a literal lone surrogate', () => {
    it.each([
      ['too long', `"${'x'.repeat(LIMITS.maxLength)}"`, 'TOO_LARGE'],
      ['a lone high surrogate', '"a\uD800b"', 'LONE_SURROGATE'],
      ['a lone low surrogate', '"\uDC00"', 'LONE_SURROGATE'],
    ])('refuses text %s', (_name, text, code) => {
      // Assess
      expect(failure(() => parseJsonText(text, LIMITS, '$')).code).toBe(code);
    });

    it('accepts the escape of a lone surrogate, and a surrogate pair', () => {
      // Assess
      expect(parseJsonText('["\\ud800", "😀"]', LIMITS, '$')).toEqual(['\uD800', '😀']);
    });
  });

  describe('when the text is not JSON', () => {
    it('names an offset and never echoes the text', () => {
      // Act
      const error = failure(() => parseJsonText('{"secret": tru}', LIMITS, '$'));

      // Assess
      expect(error.code).toBe('INVALID_JSON');
      expect(error.message).toBe('text is not valid JSON (offset 11) at $');
    });
  });

  describe('when a member is named __proto__ or appears twice', () => {
    it('keeps __proto__ as an own member and the last duplicate, as JSON.parse does', () => {
      // Act
      const value = parseJsonText('{"__proto__":{"p":1},"a":1,"a":2}', LIMITS, '$') as Record<
        string,
        unknown
      >;

      // Assess
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
      expect(Object.keys(value)).toEqual(['__proto__', 'a']);
      expect(String(value['a'])).toBe('2');
    });
  });
});

describe('Function: memberText', () => {
  describe('when given any valid object text (property)', () => {
    it('returns the source text of each member, which parses to that member', () => {
      fc.assert(
        fc.property(
          fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 5 }),
          fc.constantFrom('', ' ', '\n\t '),
          (object, ws) => {
            // Prepare
            const text = `${ws}{${Object.entries(object)
              .map(
                ([k, v]) => `${ws}${JSON.stringify(k)}${ws}:${ws}${JSON.stringify(v, null, ws.length)}${ws}`,
              )
              .join(',')}}${ws}`;

            // Act and assess
            for (const key of Object.keys(object)) {
              const member = memberText(text, key);
              expect(member).toBeDefined();
              expect(JSON.parse(member!)).toEqual(JSON.parse(JSON.stringify(object[key])));
              expect(text).toContain(member);
            }
            expect(memberText(text, '\u0000absent')).toBeUndefined();
          },
        ),
        { numRuns: 300 },
      );
    });
  });

  describe('when the member holds numbers and escapes', () => {
    it('returns its characters exactly', () => {
      // Assess
      expect(memberText('{"a":[1,{"b":"}"}],"detail" : {"n": 1e400, "s":"\\"}"} }', 'detail')).toBe(
        '{"n": 1e400, "s":"\\"}"}',
      );
    });
  });
});

describe('Function: trimJsonWhitespace', () => {
  describe('when the text has whitespace around its value', () => {
    it('removes JSON whitespace only, never what is inside or other spaces', () => {
      // Assess
      expect(trimJsonWhitespace(' \t\r\n{ "a" : 1 }\n ')).toBe('{ "a" : 1 }');
      expect(trimJsonWhitespace('\u00a0{}\u2028')).toBe('\u00a0{}\u2028');
      expect(trimJsonWhitespace(' \n ')).toBe('');
    });
  });
});

describe('Function: elementTexts', () => {
  it('gives the exact source text of each element, whitespace and number spellings included', () => {
    // Act and Assess
    expect(elementTexts('[ {"n": 1e400}, 12345678901234567890 ,"a,]" , [1,[2]] ]')).toEqual([
      '{"n": 1e400}',
      '12345678901234567890',
      '"a,]"',
      '[1,[2]]',
    ]);
    expect(elementTexts(' [ ] ')).toEqual([]);
  });

  it('is undefined for text that is not an array', () => {
    expect(elementTexts('{"items":[]}')).toBeUndefined();
  });

  it('splits any JSON array, however indented, into texts that parse to its elements (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue()), fc.constantFrom(0, 1, '\t', '  \n'), (items, space) => {
        // Act
        const texts = elementTexts(JSON.stringify(items, null, space as string | number))!;

        // Assess
        expect(texts.map((t) => JSON.parse(t) as unknown)).toEqual(JSON.parse(JSON.stringify(items)));
      }),
      { numRuns: 300 },
    );
  });
});

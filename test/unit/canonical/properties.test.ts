/**
 * Property tests for the RFC 8785 canonicalizer, with the `canonicalize` npm package as the oracle.
 * A failing run prints its fast-check seed; replay it with `{ seed, path }` in the options.
 */
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CanonicalizationError } from '../../../shared/canonical/errors.ts';
import { canonicalBytes, canonicalString } from '../../../shared/canonical/jcs.ts';

// 'binary' strings cover every code point (controls, astral pairs, noncharacters) but never a lone surrogate.
const jsonArb = fc.oneof(
  fc.jsonValue({ stringUnit: 'binary', maxDepth: 6 }),
  fc.jsonValue({ stringUnit: 'grapheme', maxDepth: 6 }),
  fc.jsonValue({ maxDepth: 3 }),
);

/** Any string with one unpaired surrogate code unit spliced in. */
const loneSurrogateStringArb = fc
  .record({
    before: fc.string({ unit: 'binary', maxLength: 8 }),
    unit: fc.integer({ min: 0xd800, max: 0xdfff }),
    after: fc.string({ unit: 'binary', maxLength: 8 }),
  })
  // A high unit would pair with a low one at the start of `after`; 'binary' strings cannot start with one.
  .map(({ before, unit, after }) => `${before}${String.fromCharCode(unit)}${after}`);

describe('Function: canonicalString', () => {
  describe('when given any JSON value without lone surrogates', () => {
    it('equals the output of the canonicalize reference implementation', () => {
      fc.assert(
        fc.property(jsonArb, (value) => {
          // Prepare
          const expected = canonicalize(value);

          // Act
          const text = canonicalString(value);

          // Assess
          expect(text).toBe(expected);
        }),
        { numRuns: 200 },
      );
    });

    it('is idempotent: canonicalizing the parsed output gives the same text', () => {
      fc.assert(
        fc.property(jsonArb, (value) => {
          // Prepare
          const once = canonicalString(value);

          // Act
          const twice = canonicalString(JSON.parse(once));

          // Assess
          expect(twice).toBe(once);
        }),
        { numRuns: 200 },
      );
    });

    it('parses back to a value deep-equal to the input (with -0 read as 0)', () => {
      fc.assert(
        fc.property(jsonArb, (value) => {
          // Prepare
          // JSON has no -0, so compare with what a JSON round trip of the input gives.
          const expected: unknown = JSON.parse(JSON.stringify(value));

          // Act
          const parsed: unknown = JSON.parse(canonicalString(value));

          // Assess
          expect(parsed).toEqual(expected);
        }),
        { numRuns: 200 },
      );
    });

    it('does not depend on the order in which object members were inserted', () => {
      const caseArb = fc
        .dictionary(fc.string({ unit: 'binary', maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), {
          maxKeys: 12,
        })
        .chain((record) =>
          fc.record({
            record: fc.constant(record),
            order: fc.shuffledSubarray(Object.keys(record), { minLength: Object.keys(record).length }),
          }),
        );
      fc.assert(
        fc.property(caseArb, ({ record, order }) => {
          // Prepare
          const reordered = Object.fromEntries(order.map((key) => [key, record[key]]));

          // Act
          const text = canonicalString(reordered);

          // Assess
          expect(text).toBe(canonicalString(record));
        }),
        { numRuns: 150 },
      );
    });
  });

  describe('when a string value or an object key holds a lone surrogate', () => {
    it('throws LONE_SURROGATE', () => {
      const caseArb = fc.record({ text: loneSurrogateStringArb, inKey: fc.boolean() });
      fc.assert(
        fc.property(caseArb, ({ text, inKey }) => {
          // Prepare
          const value = inKey ? { wrapper: { [text]: 1 } } : { wrapper: [text] };

          // Act
          let caught: unknown;
          try {
            canonicalString(value);
          } catch (error) {
            caught = error;
          }

          // Assess
          expect(caught).toBeInstanceOf(CanonicalizationError);
          expect((caught as CanonicalizationError).code).toBe('LONE_SURROGATE');
        }),
        { numRuns: 200 },
      );
    });
  });
});

describe('Function: canonicalBytes', () => {
  describe('when given any JSON value without lone surrogates', () => {
    it('is the UTF-8 encoding of canonicalString, and decodes without replacement characters', () => {
      fc.assert(
        fc.property(jsonArb, (value) => {
          // Prepare
          const text = canonicalString(value);

          // Act
          const bytes = canonicalBytes(value);

          // Assess
          expect(Buffer.from(bytes).equals(Buffer.from(text, 'utf8'))).toBe(true);
          expect(new TextDecoder('utf-8', { fatal: true }).decode(bytes)).toBe(text);
        }),
        { numRuns: 150 },
      );
    });
  });
});

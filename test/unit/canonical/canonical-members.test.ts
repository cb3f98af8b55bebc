/**
 * `canonicalMembers`: the members of an object as canonical texts, which must join to exactly
 * `canonicalString` of the object, with the same errors.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CanonicalizationError } from '../../../shared/canonical/errors.ts';
import {
  canonicalMembers,
  canonicalString,
  canonicalStringWithMembers,
} from '../../../shared/canonical/jcs.ts';

const joined = (object: object) =>
  `{${canonicalMembers(object)
    .map((m) => m.text)
    .join(',')}}`;

function failure(act: () => unknown): { code: string; path: string; message: string } {
  try {
    act();
  } catch (error) {
    if (error instanceof CanonicalizationError)
      return { code: error.code, path: error.path, message: error.message };
    throw error;
  }
  throw new Error('no CanonicalizationError');
}

describe('Function: canonicalMembers', () => {
  describe('when given a plain object', () => {
    it('returns its members in RFC 8785 order, leaving out undefined values', () => {
      // Prepare
      const object = { b: [1, { z: null, a: 'x' }], a: 'é', '\u00e9': true, A: undefined, '': -0 };

      // Act
      const members = canonicalMembers(object);

      // Assess
      expect(members).toEqual([
        { name: '', text: '"":0' },
        { name: 'a', text: '"a":"é"' },
        { name: 'b', text: '"b":[1,{"a":"x","z":null}]' },
        { name: 'é', text: '"é":true' },
      ]);
    });

    it('joins to exactly canonicalString for any JSON object', () => {
      fc.assert(
        fc.property(
          fc.dictionary(fc.string({ unit: 'binary' }), fc.jsonValue({ stringUnit: 'binary', maxDepth: 4 }), {
            maxKeys: 40,
          }),
          (object) => {
            // Act
            const text = joined(object);

            // Assess
            expect(text).toBe(canonicalString(object));
          },
        ),
        { numRuns: 300 },
      );
    });
  });

  describe('when a member cannot be canonicalized', () => {
    it.each([
      ['a non-finite number', { a: { b: [1, Number.NaN] } }],
      ['a lone surrogate in a value', { a: ['ok', { c: '\uD800' }] }],
      ['a lone surrogate in a nested name', { a: { '\uDC00': 1 } }],
      ['a lone surrogate in a top-level name', { '\uDC00': 1 }],
      ['a function', { a: [() => 1] }],
      ['a class instance', { a: { d: new Date(0) } }],
    ])('throws what canonicalString throws for %s', (_name, object) => {
      // Act
      const error = failure(() => canonicalMembers(object));

      // Assess
      expect(error).toEqual(failure(() => canonicalString(object)));
    });

    it('throws what canonicalString throws for a cycle and for too deep nesting', () => {
      // Prepare
      const cyclic: Record<string, unknown> = { a: [1] };
      (cyclic['a'] as unknown[]).push({ back: cyclic });
      let deep: unknown = 1;
      for (let i = 0; i < 70; i++) deep = i % 2 === 0 ? [deep] : { k: deep };

      // Act
      const errors = [failure(() => canonicalMembers(cyclic)), failure(() => canonicalMembers({ deep }))];

      // Assess
      expect(errors).toEqual([
        failure(() => canonicalString(cyclic)),
        failure(() => canonicalString({ deep })),
      ]);
      expect(errors.map((e) => e.code)).toEqual(['CYCLE', 'TOO_DEEP']);
    });
  });

  describe('when given something that is not a plain object', () => {
    it.each([
      ['an array', [1, 2]],
      ['a class instance', new Date(0)],
    ])('rejects %s with UNSUPPORTED_TYPE at $', (_name, value) => {
      // Act
      const error = failure(() => canonicalMembers(value));

      // Assess
      expect(error).toMatchObject({ code: 'UNSUPPORTED_TYPE', path: '$' });
    });
  });
});

describe('Function: canonicalStringWithMembers', () => {
  /** Canonical `"name":value` texts of members to add, sorted by name. */
  const added = (object: Record<string, unknown>) =>
    Object.keys(object)
      .sort()
      .map((name) => ({ name, text: `${JSON.stringify(name)}:${canonicalString(object[name])}` }));

  describe("when the added names are not the object's", () => {
    it('is canonicalString of the spread, and its starts locate every member (property)', () => {
      fc.assert(
        fc.property(
          fc.dictionary(
            fc.string({ unit: 'binary', maxLength: 6 }),
            fc.jsonValue({ stringUnit: 'binary', maxDepth: 3 }),
            {
              maxKeys: 20,
            },
          ),
          fc.dictionary(fc.string({ unit: 'binary', maxLength: 6 }), fc.jsonValue({ maxDepth: 1 }), {
            maxKeys: 4,
          }),
          (object, extra) => {
            // Prepare: extra names that the object does not have
            for (const name of Object.keys(extra)) if (Object.hasOwn(object, name)) delete extra[name];

            // Act
            const result = canonicalStringWithMembers(object, added(extra));

            // Assess
            expect(result).toBeDefined();
            const { text, names, starts } = result!;
            expect(text).toBe(canonicalString({ ...object, ...extra }));
            expect(names).toEqual(Object.keys({ ...object, ...extra }).sort());
            const members = names.map((_name, i) =>
              text.slice(starts[i]!, i + 1 < names.length ? starts[i + 1]! - 1 : text.length - 1),
            );
            expect(members).toEqual(
              names.map(
                (name) => `${JSON.stringify(name)}:${canonicalString({ ...object, ...extra }[name])}`,
              ),
            );
          },
        ),
        { numRuns: 300 },
      );
    });
  });

  describe("when an added name is also one of the object's members", () => {
    it('returns undefined', () => {
      // Act & Assess
      expect(canonicalStringWithMembers({ a: 1, v: 2 }, [{ name: 'v', text: '"v":1' }])).toBeUndefined();
    });
  });

  describe('when the added members are not sorted', () => {
    it('throws a RangeError', () => {
      // Act & Assess
      expect(() =>
        canonicalStringWithMembers({ a: 1 }, [
          { name: 'v', text: '"v":1' },
          { name: 'c', text: '"c":1' },
        ]),
      ).toThrow(RangeError);
    });
  });

  describe('when a member cannot be canonicalized', () => {
    it.each([
      ['a non-finite number', { a: { b: [1, Number.NaN] } }],
      ['a lone surrogate in a top-level name', { '\uDC00': 1 }],
      ['a class instance', { a: { d: new Date(0) } }],
    ])('throws what canonicalString throws for %s', (_name, object) => {
      // Act
      const error = failure(() => canonicalStringWithMembers(object, [{ name: 'v', text: '"v":1' }]));

      // Assess
      expect(error).toEqual(failure(() => canonicalString(object)));
    });
  });

  describe('when given an array', () => {
    it('rejects it with UNSUPPORTED_TYPE at $', () => {
      // Act
      const error = failure(() => canonicalStringWithMembers([1, 2], []));

      // Assess
      expect(error).toMatchObject({ code: 'UNSUPPORTED_TYPE', path: '$' });
    });
  });
});

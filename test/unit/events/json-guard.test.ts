import { describe, expect, it } from 'vitest';
import type { EventErrorCode } from '../../../shared/events/errors.ts';
import { EventValidationError } from '../../../shared/events/errors.ts';
import { assertSafeJson } from '../../../shared/events/json-guard.ts';
import { DEFAULT_JSON_LIMITS } from '../../../shared/events/limits.ts';

function nestedArrays(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

function guardFailure(value: unknown, limits = DEFAULT_JSON_LIMITS): EventValidationError {
  try {
    assertSafeJson(value, limits);
  } catch (error) {
    if (error instanceof EventValidationError) return error;
    throw error;
  }
  throw new Error('assertSafeJson accepted the value');
}

describe('Function: assertSafeJson', () => {
  describe('when the value is ordinary JSON', () => {
    it('accepts it', () => {
      // Prepare
      const value = JSON.parse('{"a":[1,2.5,-0,true,false,null,"x"],"b":{"c":"😀"},"d":9007199254740991}');

      // Act
      const act = () => assertSafeJson(value);

      // Assess
      expect(act).not.toThrow();
    });
  });

  describe('when nesting is exactly at the limit', () => {
    it('accepts 32 levels and rejects 33 with TOO_DEEP', () => {
      // Prepare
      const atLimit = nestedArrays(32);
      const overLimit = nestedArrays(33);

      // Act
      const error = guardFailure(overLimit);

      // Assess
      expect(() => assertSafeJson(atLimit)).not.toThrow();
      expect(error.code).toBe('TOO_DEEP');
      expect(error.path).toBe(`$${'[0]'.repeat(32)}`);
    });
  });

  describe('when nesting is far deeper than the call stack allows', () => {
    it('reports TOO_DEEP instead of overflowing the stack', () => {
      // Prepare
      const value = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`);

      // Act
      const error = guardFailure(value);

      // Assess
      expect(error.code).toBe('TOO_DEEP');
    });
  });

  describe('when a forbidden key is an own property', () => {
    it.each(['__proto__', 'constructor', 'prototype'])('rejects %s with its path', (key) => {
      // Prepare
      const value = JSON.parse(`{"details":{"ok":1,"${key}":{"polluted":true}}}`);

      // Act
      const error = guardFailure(value);

      // Assess
      expect(error.code).toBe('FORBIDDEN_KEY');
      expect(error.path).toBe(`$.details.${key}`);
    });
  });

  describe('when a string is longer than 32,768 code units', () => {
    it('rejects it with STRING_TOO_LONG and accepts one at the limit', () => {
      // Prepare
      const over = { labels: ['x'.repeat(40_000)] };
      const atLimit = { s: 'x'.repeat(32_768) };

      // Act
      const error = guardFailure(over);

      // Assess
      expect(error.code).toBe('STRING_TOO_LONG');
      expect(error.path).toBe('$.labels[0]');
      expect(error.message).not.toContain('xxxx');
      expect(() => assertSafeJson(atLimit)).not.toThrow();
    });
  });

  describe('when a string or key holds a lone surrogate', () => {
    it.each([
      ['a lone high surrogate in a value', '{"a":"x\\ud800y"}', '$.a'],
      ['a lone low surrogate in a value', '{"a":["\\udc00"]}', '$.a[0]'],
      ['a lone surrogate in a key', '{"k\\ud800":1}', '$["k\\ud800"]'],
    ])('rejects %s', (_name, text, path) => {
      // Prepare
      const value = JSON.parse(text);

      // Act
      const error = guardFailure(value);

      // Assess
      expect(error.code).toBe('LONE_SURROGATE');
      expect(error.path).toBe(path);
    });
  });

  describe('when a number cannot be represented exactly or at all', () => {
    it.each<[string, unknown, EventErrorCode]>([
      ['2^53', { n: 2 ** 53 }, 'UNSAFE_INTEGER'],
      ['-(2^53)', { n: -(2 ** 53) }, 'UNSAFE_INTEGER'],
      ['1e300', { n: 1e300 }, 'UNSAFE_INTEGER'],
      ['NaN', { n: Number.NaN }, 'NON_FINITE_NUMBER'],
      ['Infinity', { n: Number.POSITIVE_INFINITY }, 'NON_FINITE_NUMBER'],
    ])('rejects %s', (_name, value, code) => {
      // Act
      const error = guardFailure(value);

      // Assess
      expect(error.code).toBe(code);
      expect(error.path).toBe('$.n');
    });
  });

  describe('when an object has too many members or a key is too long', () => {
    it('rejects 257 members with TOO_MANY_KEYS', () => {
      // Prepare
      const value = { inner: Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`k${i}`, i])) };

      // Act
      const error = guardFailure(value);

      // Assess
      expect(error.code).toBe('TOO_MANY_KEYS');
      expect(error.path).toBe('$.inner');
    });

    it('rejects a 257-character key with KEY_TOO_LONG without echoing it', () => {
      // Prepare
      const value = { ['k'.repeat(257)]: 1 };

      // Act
      const error = guardFailure(value);

      // Assess
      expect(error.code).toBe('KEY_TOO_LONG');
      expect(error.path).toBe('$');
      expect(error.message).not.toContain('kkkk');
    });
  });

  describe('when an array is longer than 1,000 elements', () => {
    it('rejects it with ARRAY_TOO_LONG', () => {
      // Prepare
      const value = { list: new Array(1_001).fill(0) };

      // Act
      const error = guardFailure(value);

      // Assess
      expect(error.code).toBe('ARRAY_TOO_LONG');
      expect(error.path).toBe('$.list');
    });
  });

  describe('when the total size is beyond the event limit', () => {
    it('rejects it with TOO_LARGE', () => {
      // Prepare
      const value = {
        list: new Array(Math.ceil(DEFAULT_JSON_LIMITS.maxTotalBytes / 30_000) + 1).fill('y'.repeat(30_000)),
      };

      // Act
      const error = guardFailure(value);

      // Assess
      expect(error.code).toBe('TOO_LARGE');
    });

    it('bounds the work of shared references that would expand exponentially', () => {
      // Prepare
      let value: unknown = [];
      for (let i = 0; i < 30; i++) value = [value, value];

      // Act
      const error = guardFailure(value);

      // Assess
      expect(error.code).toBe('TOO_LARGE');
    });
  });

  describe('when the value is not from the JSON data model', () => {
    it.each<[string, unknown]>([
      ['undefined', { a: undefined }],
      ['a function', { a: () => 1 }],
      ['a bigint', { a: 1n }],
      ['a symbol', { a: Symbol('s') }],
      ['a Date', { a: new Date(0) }],
      ['a Map', { a: new Map() }],
      ['a sparse array', { a: new Array(2) }],
    ])('rejects %s with INVALID_JSON_VALUE', (_name, value) => {
      // Act
      const error = guardFailure(value);

      // Assess
      expect(error.code).toBe('INVALID_JSON_VALUE');
      expect(error.path).toBe('$.a');
    });
  });

  describe('when the value has a cycle', () => {
    it('rejects it with TOO_DEEP', () => {
      // Prepare
      const value: Record<string, unknown> = {};
      value['self'] = value;

      // Act
      const error = guardFailure(value);

      // Assess
      expect(error.code).toBe('TOO_DEEP');
    });
  });

  describe('when custom limits are given', () => {
    it('applies them', () => {
      // Prepare
      const limits = { ...DEFAULT_JSON_LIMITS, maxStringLength: 3 };

      // Act
      const error = guardFailure({ s: 'abcd' }, limits);

      // Assess
      expect(error.code).toBe('STRING_TOO_LONG');
    });
  });
});

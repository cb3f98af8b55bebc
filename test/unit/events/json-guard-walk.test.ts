/**
 * `assertSafeJson` walks recursively, without an object per visited value. Its answer must be exactly the
 * one of the explicit-stack walk it replaced (kept below as the reference): the same first error (code,
 * path, message) or none, for any value and any limits, because the error a client gets is the first one
 * found in that order.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EventErrorCode } from '../../../shared/events/errors.ts';
import { EventValidationError } from '../../../shared/events/errors.ts';
import { assertSafeJson, isPlainObject } from '../../../shared/events/json-guard.ts';
import { formatJsonPath } from '../../../shared/events/json-path.ts';
import { DEFAULT_JSON_LIMITS, FORBIDDEN_KEYS, type JsonLimits } from '../../../shared/events/limits.ts';

// --- The reference: the explicit-stack walk as it was before the recursive one (commit 956da5a). ---
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
interface Frame {
  readonly value: unknown;
  readonly depth: number;
  readonly parent: Frame | undefined;
  readonly key: string | number | undefined;
}
function referenceGuard(value: unknown, limits: JsonLimits): void {
  const stack: Frame[] = [{ value, depth: 1, parent: undefined, key: undefined }];
  let total = 0;
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    total += visit(frame, stack, limits);
    if (total > limits.maxTotalBytes)
      fail('TOO_LARGE', frame, `serialized size exceeds ${limits.maxTotalBytes} bytes`);
  }
}
function visit(frame: Frame, stack: Frame[], limits: JsonLimits): number {
  const { value } = frame;
  switch (typeof value) {
    case 'string':
      checkString(value, frame, limits.maxStringLength, 'STRING_TOO_LONG', 'string');
      return value.length + 2;
    case 'number':
      if (!Number.isFinite(value))
        fail(
          'NON_FINITE_NUMBER',
          frame,
          'number is not finite (beyond the largest double); send it as a string',
        );
      if (Number.isInteger(value) && !Number.isSafeInteger(value))
        fail(
          'UNSAFE_INTEGER',
          frame,
          'number is beyond ±(2^53−1), where a double cannot keep every integer; send it as a string',
        );
      return String(value).length;
    case 'boolean':
      return value ? 4 : 5;
    case 'object':
      if (value === null) return 4;
      break;
    default:
      return fail('INVALID_JSON_VALUE', frame, `${typeof value} is not a JSON value`);
  }
  if (frame.depth > limits.maxDepth) fail('TOO_DEEP', frame, `nesting deeper than ${limits.maxDepth}`);
  if (Array.isArray(value)) {
    if (value.length > limits.maxArrayLength)
      fail('ARRAY_TOO_LONG', frame, `array has more than ${limits.maxArrayLength} elements`);
    for (let i = value.length - 1; i >= 0; i--) {
      if (!(i in value)) fail('INVALID_JSON_VALUE', frame, `array has a hole at index ${i}`);
      stack.push({ value: value[i], depth: frame.depth + 1, parent: frame, key: i });
    }
    return 2 + Math.max(0, value.length - 1);
  }
  if (!isPlainObject(value)) return fail('INVALID_JSON_VALUE', frame, 'only plain objects are JSON objects');
  const keys = Object.keys(value);
  if (keys.length > limits.maxObjectKeys)
    fail('TOO_MANY_KEYS', frame, `object has more than ${limits.maxObjectKeys} members`);
  let size = 2 + Math.max(0, keys.length - 1);
  for (let i = keys.length - 1; i >= 0; i--) {
    const key = keys[i]!;
    if (key.length > limits.maxKeyLength)
      fail('KEY_TOO_LONG', frame, `member #${i} has a name longer than ${limits.maxKeyLength}`);
    const child: Frame = { value: value[key], depth: frame.depth + 1, parent: frame, key };
    if (FORBIDDEN_KEYS.has(key)) fail('FORBIDDEN_KEY', child, 'member name is forbidden');
    checkString(key, child, limits.maxKeyLength, 'KEY_TOO_LONG', 'member name');
    size += key.length + 3;
    stack.push(child);
  }
  return size;
}
function checkString(s: string, frame: Frame, max: number, tooLong: EventErrorCode, what: string): void {
  if (s.length > max) fail(tooLong, frame, `${what} is longer than ${max} UTF-16 code units`);
  if (LONE_SURROGATE.test(s)) fail('LONE_SURROGATE', frame, `${what} contains a lone UTF-16 surrogate`);
}
function fail(code: EventErrorCode, frame: Frame, message: string): never {
  const segments: (string | number)[] = [];
  for (let f: Frame | undefined = frame; f?.key !== undefined; f = f.parent) segments.push(f.key);
  throw new EventValidationError(code, formatJsonPath(segments.reverse()), message);
}
// --- end of the reference ---

function answer(act: () => void): unknown {
  try {
    act();
    return 'accepted';
  } catch (error) {
    if (error instanceof EventValidationError)
      return { code: error.code, path: error.path, message: error.message };
    throw error;
  }
}

/** Values with every kind of defect the guard looks for, mostly small, sometimes at a limit. */
const hostileValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string({ maxLength: 6 }),
    fc.constantFrom('\uD800', 'a\uDC00', '😀', 'x'.repeat(40), ''),
    fc.double(),
    fc.constantFrom(2 ** 53, -(2 ** 53), 9007199254740991, Number.POSITIVE_INFINITY, -0, Number.NaN),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.constantFrom(undefined, () => 1, 10n, Symbol('s'), new Date(0), new Map()),
    fc.array(tie('value'), { maxLength: 5 }),
    // biome-ignore lint/suspicious/noSparseArray: holes are what the guard must refuse
    fc.constantFrom([1, , 3], [, 'a', , 'b']),
    fc.dictionary(
      fc.oneof(
        fc.string({ maxLength: 5 }),
        fc.constantFrom('__proto__', 'constructor', 'prototype', 'k'.repeat(12), '\uDBFF'),
      ),
      tie('value'),
      { maxKeys: 5 },
    ),
    tie('value').map((v) => Object.assign(Object.create(null) as object, { n: v })),
  ),
})).value;

/** Small limits, so that every bound is reached by small values. */
const limits = fc.record({
  maxDepth: fc.integer({ min: 1, max: 5 }),
  maxStringLength: fc.integer({ min: 0, max: 20 }),
  maxObjectKeys: fc.integer({ min: 0, max: 5 }),
  maxArrayLength: fc.integer({ min: 0, max: 5 }),
  maxKeyLength: fc.integer({ min: 0, max: 10 }),
  maxTotalBytes: fc.integer({ min: 1, max: 200 }),
});

describe('Function: assertSafeJson', () => {
  describe('when given any value and any limits', () => {
    it('answers exactly what the explicit-stack walk answered (property)', () => {
      fc.assert(
        fc.property(hostileValue, limits, (value, l) => {
          // Act & Assess
          expect(answer(() => assertSafeJson(value, l))).toEqual(answer(() => referenceGuard(value, l)));
        }),
        { numRuns: 5_000 },
      );
    });

    it('answers exactly what the explicit-stack walk answered with the default limits (property)', () => {
      fc.assert(
        fc.property(hostileValue, (value) => {
          // Act & Assess
          expect(answer(() => assertSafeJson(value))).toEqual(
            answer(() => referenceGuard(value, DEFAULT_JSON_LIMITS)),
          );
        }),
        { numRuns: 3_000 },
      );
    });
  });

  describe('when a value is shared by reference many times', () => {
    it('stops at the size budget as the explicit-stack walk did', () => {
      // Prepare: a DAG of 20 levels whose tree form has 2^20 leaves, far over the size budget
      let value: unknown = 'x';
      for (let i = 0; i < 20; i++) value = [value, value];

      // Act & Assess
      expect(answer(() => assertSafeJson(value))).toEqual(
        answer(() => referenceGuard(value, DEFAULT_JSON_LIMITS)),
      );
      expect(answer(() => assertSafeJson(value))).toMatchObject({ code: 'TOO_LARGE' });
    });
  });
});

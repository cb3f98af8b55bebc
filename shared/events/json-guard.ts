/**
 * Hostile-input guard for parsed JSON, run before any schema validation.
 *
 * It accepts only the I-JSON data model (RFC 7493): plain objects, arrays, strings without lone
 * surrogates (§2.1), finite numbers, and integers within ±(2^53−1) (§2.2), since larger ones lose
 * precision in most parsers. It also bounds depth, sizes and key names (`limits.ts`). The walk is
 * iterative, so a deeply nested input cannot exhaust the call stack, and the total-size budget bounds
 * the number of visited nodes.
 *
 * This is the guard of app events (`POST /v1/events`), whose numbers are doubles: a number no double can
 * hold as sent is refused with a path that names it. A CloudTrail record is not walked here: it is kept
 * as its own text (`cloudtrail-record.ts`), so its numbers, names and strings are never refused.
 */

import type { EventErrorCode } from './errors.ts';
import { EventValidationError } from './errors.ts';
import { formatJsonPath } from './json-path.ts';
import type { JsonLimits } from './limits.ts';
import { DEFAULT_JSON_LIMITS, FORBIDDEN_KEYS } from './limits.ts';

/** A value of the JSON data model. */
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

// Unpaired high surrogate, or a low surrogate with no high surrogate before it.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

interface Frame {
  readonly value: unknown;
  /** Depth this value has if it is a container; the root container is at depth 1. */
  readonly depth: number;
  readonly parent: Frame | undefined;
  readonly key: string | number | undefined;
}

/** True for `{}`-style objects (prototype `Object.prototype` or `null`), the only objects JSON produces. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Throws `EventValidationError` unless `value` is safe JSON within `limits`.
 * Example: `assertSafeJson(JSON.parse(body))` before `schema.parse`.
 */
export function assertSafeJson(value: unknown, limits: JsonLimits = DEFAULT_JSON_LIMITS): void {
  const stack: Frame[] = [{ value, depth: 1, parent: undefined, key: undefined }];
  let total = 0;
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    total += visit(frame, stack, limits);
    if (total > limits.maxTotalBytes) {
      fail('TOO_LARGE', frame, `serialized size exceeds ${limits.maxTotalBytes} bytes`);
    }
  }
}

/** Checks one value, pushes its children, and returns a lower bound of its own serialized bytes. */
function visit(frame: Frame, stack: Frame[], limits: JsonLimits): number {
  const { value } = frame;
  switch (typeof value) {
    case 'string':
      checkString(value, frame, limits.maxStringLength, 'STRING_TOO_LONG', 'string');
      return value.length + 2;
    case 'number':
      if (!Number.isFinite(value)) {
        fail(
          'NON_FINITE_NUMBER',
          frame,
          'number is not finite (beyond the largest double); send it as a string',
        );
      }
      if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
        fail(
          'UNSAFE_INTEGER',
          frame,
          'number is beyond ±(2^53−1), where a double cannot keep every integer; send it as a string',
        );
      }
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
  if (Array.isArray(value)) return visitArray(value, frame, stack, limits);
  if (!isPlainObject(value)) return fail('INVALID_JSON_VALUE', frame, 'only plain objects are JSON objects');
  return visitObject(value, frame, stack, limits);
}

function visitArray(array: unknown[], frame: Frame, stack: Frame[], limits: JsonLimits): number {
  if (array.length > limits.maxArrayLength) {
    fail('ARRAY_TOO_LONG', frame, `array has more than ${limits.maxArrayLength} elements`);
  }
  for (let i = array.length - 1; i >= 0; i--) {
    if (!(i in array)) fail('INVALID_JSON_VALUE', frame, `array has a hole at index ${i}`);
    stack.push({ value: array[i], depth: frame.depth + 1, parent: frame, key: i });
  }
  return 2 + Math.max(0, array.length - 1);
}

function visitObject(
  object: Record<string, unknown>,
  frame: Frame,
  stack: Frame[],
  limits: JsonLimits,
): number {
  const keys = Object.keys(object);
  if (keys.length > limits.maxObjectKeys) {
    fail('TOO_MANY_KEYS', frame, `object has more than ${limits.maxObjectKeys} members`);
  }
  let size = 2 + Math.max(0, keys.length - 1);
  for (let i = keys.length - 1; i >= 0; i--) {
    const key = keys[i]!;
    if (key.length > limits.maxKeyLength) {
      fail('KEY_TOO_LONG', frame, `member #${i} has a name longer than ${limits.maxKeyLength}`);
    }
    const child: Frame = { value: object[key], depth: frame.depth + 1, parent: frame, key };
    if (FORBIDDEN_KEYS.has(key)) fail('FORBIDDEN_KEY', child, 'member name is forbidden');
    checkString(key, child, limits.maxKeyLength, 'KEY_TOO_LONG', 'member name');
    size += key.length + 3;
    stack.push(child);
  }
  return size;
}

function checkString(
  s: string,
  frame: Frame,
  maxLength: number,
  tooLong: EventErrorCode,
  what: 'string' | 'member name',
): void {
  if (s.length > maxLength) fail(tooLong, frame, `${what} is longer than ${maxLength} UTF-16 code units`);
  if (LONE_SURROGATE.test(s)) fail('LONE_SURROGATE', frame, `${what} contains a lone UTF-16 surrogate`);
}

function pathOf(frame: Frame): string {
  const segments: (string | number)[] = [];
  for (let f: Frame | undefined = frame; f?.key !== undefined; f = f.parent) segments.push(f.key);
  return formatJsonPath(segments.reverse());
}

function fail(code: EventErrorCode, frame: Frame, message: string): never {
  throw new EventValidationError(code, pathOf(frame), message);
}

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
  walk(value, 1, { limits, total: 0, path: [] });
}

/**
 * The walk's state. The path is one array of member names and indices, pushed and popped on the way
 * down, and turned into text only for an error; the walk allocates nothing on valid input.
 */
interface Walk {
  readonly limits: JsonLimits;
  /** A lower bound of the serialized bytes of everything visited so far. */
  total: number;
  readonly path: (string | number)[];
}

/**
 * Checks `value` (at `depth`: the root container is at depth 1), adds its own size to the total, then
 * walks its children in order. The recursion is bounded: a container deeper than `limits.maxDepth` is
 * refused before its children are visited, so the call stack never holds more than `maxDepth + 1` calls.
 * Values are visited in document order, each container's own checks before its children, exactly as an
 * explicit stack would visit them (children pushed in reverse), so the first error is the same.
 */
function walk(value: unknown, depth: number, w: Walk): void {
  const { limits } = w;
  switch (typeof value) {
    case 'string':
      checkString(value, w, limits.maxStringLength, 'STRING_TOO_LONG', 'string');
      addSize(value.length + 2, w);
      return;
    case 'number':
      if (!Number.isFinite(value)) {
        fail('NON_FINITE_NUMBER', w, 'number is not finite (beyond the largest double); send it as a string');
      }
      if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
        fail(
          'UNSAFE_INTEGER',
          w,
          'number is beyond ±(2^53−1), where a double cannot keep every integer; send it as a string',
        );
      }
      addSize(String(value).length, w);
      return;
    case 'boolean':
      addSize(value ? 4 : 5, w);
      return;
    case 'object':
      if (value === null) {
        addSize(4, w);
        return;
      }
      break;
    default:
      fail('INVALID_JSON_VALUE', w, `${typeof value} is not a JSON value`);
  }
  if (depth > limits.maxDepth) fail('TOO_DEEP', w, `nesting deeper than ${limits.maxDepth}`);
  if (Array.isArray(value)) walkArray(value, depth, w);
  else if (!isPlainObject(value)) fail('INVALID_JSON_VALUE', w, 'only plain objects are JSON objects');
  else walkObject(value, depth, w);
}

function addSize(size: number, w: Walk): void {
  w.total += size;
  if (w.total > w.limits.maxTotalBytes) {
    fail('TOO_LARGE', w, `serialized size exceeds ${w.limits.maxTotalBytes} bytes`);
  }
}

function walkArray(array: unknown[], depth: number, w: Walk): void {
  if (array.length > w.limits.maxArrayLength) {
    fail('ARRAY_TOO_LONG', w, `array has more than ${w.limits.maxArrayLength} elements`);
  }
  for (let i = array.length - 1; i >= 0; i--) {
    if (!(i in array)) fail('INVALID_JSON_VALUE', w, `array has a hole at index ${i}`);
  }
  addSize(2 + Math.max(0, array.length - 1), w);
  for (let i = 0; i < array.length; i++) {
    w.path.push(i);
    walk(array[i], depth + 1, w);
    w.path.pop();
  }
}

function walkObject(object: Record<string, unknown>, depth: number, w: Walk): void {
  const { limits } = w;
  const keys = Object.keys(object);
  if (keys.length > limits.maxObjectKeys) {
    fail('TOO_MANY_KEYS', w, `object has more than ${limits.maxObjectKeys} members`);
  }
  let size = 2 + Math.max(0, keys.length - 1);
  // The members' names are all checked before any value, from the last to the first.
  for (let i = keys.length - 1; i >= 0; i--) {
    const key = keys[i]!;
    if (key.length > limits.maxKeyLength) {
      fail('KEY_TOO_LONG', w, `member #${i} has a name longer than ${limits.maxKeyLength}`);
    }
    w.path.push(key);
    if (FORBIDDEN_KEYS.has(key)) fail('FORBIDDEN_KEY', w, 'member name is forbidden');
    checkString(key, w, limits.maxKeyLength, 'KEY_TOO_LONG', 'member name');
    w.path.pop();
    size += key.length + 3;
  }
  addSize(size, w);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    w.path.push(key);
    walk(object[key], depth + 1, w);
    w.path.pop();
  }
}

function checkString(
  s: string,
  w: Walk,
  maxLength: number,
  tooLong: EventErrorCode,
  what: 'string' | 'member name',
): void {
  if (s.length > maxLength) fail(tooLong, w, `${what} is longer than ${maxLength} UTF-16 code units`);
  if (LONE_SURROGATE.test(s)) fail('LONE_SURROGATE', w, `${what} contains a lone UTF-16 surrogate`);
}

function fail(code: EventErrorCode, w: Walk, message: string): never {
  throw new EventValidationError(code, formatJsonPath(w.path), message);
}

/**
 * RFC 8785 JSON Canonicalization Scheme (JCS).
 * https://www.rfc-editor.org/rfc/rfc8785
 *
 * - Numbers: ECMAScript Number::toString (RFC 8785 §3.2.2.3), which is what `JSON.stringify` emits for
 *   finite numbers. NaN and ±Infinity are rejected (§3.2.2.3 "MUST cause an error").
 * - Strings: ECMAScript JSON string serialization (§3.2.2.2). Lone surrogates are rejected because the
 *   output must be valid UTF-8 (I-JSON, RFC 7493 §2.1); `JSON.stringify` would escape them instead.
 * - Object members: sorted by their names as arrays of UTF-16 code units (§3.2.3), which is exactly
 *   JavaScript's default string comparison.
 */
import { CanonicalizationError } from './errors.ts';

const encoder = new TextEncoder();
// Unpaired high surrogate, or a low surrogate with no high surrogate before it.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Largest nesting depth accepted; deeper input is almost certainly hostile. */
export const MAX_CANONICAL_DEPTH = 64;

/** Serializes a JSON value to its RFC 8785 canonical string. */
export function canonicalString(value: unknown): string {
  const parts: string[] = [];
  write(value, parts, '$', 0, new Set());
  return parts.join('');
}

/** Serializes a JSON value to its RFC 8785 canonical UTF-8 bytes. Example: `canonicalBytes({b:1,a:2})` → `{"a":2,"b":1}`. */
export function canonicalBytes(value: unknown): Uint8Array {
  return encoder.encode(canonicalString(value));
}

function writeString(s: string, parts: string[], path: string): void {
  if (LONE_SURROGATE.test(s)) {
    throw new CanonicalizationError('LONE_SURROGATE', path, 'string contains a lone UTF-16 surrogate');
  }
  parts.push(JSON.stringify(s));
}

function write(value: unknown, parts: string[], path: string, depth: number, seen: Set<object>): void {
  if (value === null) {
    parts.push('null');
    return;
  }
  switch (typeof value) {
    case 'boolean':
      parts.push(value ? 'true' : 'false');
      return;
    case 'number':
      if (!Number.isFinite(value)) {
        throw new CanonicalizationError('NON_FINITE_NUMBER', path, `number ${value} has no JSON form`);
      }
      // Number::toString; also maps -0 to "0" as RFC 8785 requires.
      parts.push(JSON.stringify(value));
      return;
    case 'string':
      writeString(value, parts, path);
      return;
    case 'object':
      break;
    default:
      throw new CanonicalizationError('UNSUPPORTED_TYPE', path, `${typeof value} is not a JSON value`);
  }
  if (depth >= MAX_CANONICAL_DEPTH) {
    throw new CanonicalizationError('TOO_DEEP', path, `nesting deeper than ${MAX_CANONICAL_DEPTH}`);
  }
  const obj = value as object;
  if (seen.has(obj)) throw new CanonicalizationError('CYCLE', path, 'value contains a cycle');
  seen.add(obj);
  if (Array.isArray(obj)) {
    parts.push('[');
    for (let i = 0; i < obj.length; i++) {
      if (i > 0) parts.push(',');
      write(obj[i], parts, `${path}[${i}]`, depth + 1, seen);
    }
    parts.push(']');
  } else {
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      throw new CanonicalizationError('UNSUPPORTED_TYPE', path, 'only plain objects are JSON objects');
    }
    const record = obj as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((k) => record[k] !== undefined)
      .sort();
    parts.push('{');
    keys.forEach((key, i) => {
      if (i > 0) parts.push(',');
      writeString(key, parts, path);
      parts.push(':');
      write(record[key], parts, `${path}.${key}`, depth + 1, seen);
    });
    parts.push('}');
  }
  seen.delete(obj);
}

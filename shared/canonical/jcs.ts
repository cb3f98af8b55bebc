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
// Any surrogate at all: a plain character class, much cheaper to test than LONE_SURROGATE's lookarounds,
// and false for almost every string.
const ANY_SURROGATE = /[\uD800-\uDFFF]/;

/**
 * Where the canonical text grows. Appending to one string lets V8 build it as a rope; an array of parts
 * joined at the end cost more than the values' own serialization on large documents (batch records).
 */
interface Sink {
  text: string;
}

/** Largest nesting depth accepted; deeper input is almost certainly hostile. */
export const MAX_CANONICAL_DEPTH = 64;

/**
 * Bounds a caller can ask `canonicalStringWithMembers` to enforce while it writes, so that one walk both
 * checks a hostile input and canonicalizes it (ingest's fast path: `canonicalizeCheckedAppEvent`). Any value
 * beyond them is an `OUT_OF_BOUNDS` error. The checks are those of the events guard (`assertSafeJson`,
 * shared/events/json-guard.ts) in the guard's own terms: a caller that finds no error here knows the guard
 * would find none, since each bound below is at least as strict as the guard's.
 */
export interface CanonicalBounds {
  /** Deepest container nesting, with the root object at depth 1 (the guard's `maxDepth`). */
  readonly maxDepth: number;
  /** Longest string value, in UTF-16 code units. */
  readonly maxStringLength: number;
  /** Longest member name, in UTF-16 code units. */
  readonly maxKeyLength: number;
  /** Most members in one object (all own enumerable names: a member whose value is `undefined` is an error). */
  readonly maxObjectKeys: number;
  /** Most elements in one array. */
  readonly maxArrayLength: number;
  /**
   * Longest canonical text, in UTF-16 code units, checked as the text grows (so shared references cannot
   * multiply the work). The guard's size is a lower bound of the canonical text's length, so a text within
   * this bound is within the guard's.
   */
  readonly maxTextLength: number;
  /** Member names refused wherever they appear. */
  readonly forbiddenKeys: ReadonlySet<string>;
  /** Integers beyond ±(2^53−1) are refused (I-JSON, RFC 7493 §2.2). */
  readonly safeIntegersOnly: boolean;
}

/** Serializes a JSON value to its RFC 8785 canonical string. */
export function canonicalString(value: unknown): string {
  const out: Sink = { text: '' };
  write(value, out, [], 0, new Set());
  return out.text;
}

/** Serializes a JSON value to its RFC 8785 canonical UTF-8 bytes. Example: `canonicalBytes({b:1,a:2})` → `{"a":2,"b":1}`. */
export function canonicalBytes(value: unknown): Uint8Array {
  return encoder.encode(canonicalString(value));
}

/** One member of a canonical object: its name and its canonical `"name":value` text. */
export interface CanonicalMember {
  readonly name: string;
  readonly text: string;
}

/**
 * The members of a plain object, each as its canonical `"name":value` text, in RFC 8785 member order;
 * members whose value is `undefined` are left out, as `canonicalString` leaves them out. Checks and
 * errors are those of `canonicalString`, so `{` + the texts joined with `,` + `}` is exactly
 * `canonicalString(object)`. It lets a caller that needs the canonical form of an object and of a copy
 * with a few members added splice those members in, instead of canonicalizing everything twice.
 */
export function canonicalMembers(object: object): CanonicalMember[] {
  const proto = Object.getPrototypeOf(object);
  if (Array.isArray(object) || (proto !== Object.prototype && proto !== null)) {
    throw new CanonicalizationError('UNSUPPORTED_TYPE', '$', 'only plain objects are JSON objects');
  }
  const record = object as Record<string, unknown>;
  const seen = new Set<object>([record]);
  const keys = sortNames(Object.keys(record).filter((k) => record[k] !== undefined));
  const members: CanonicalMember[] = [];
  const path: PathSegment[] = [];
  const out: Sink = { text: '' };
  for (const name of keys) {
    writeString(name, out, path);
    out.text += ':';
    path.push(name);
    write(record[name], out, path, 1, seen);
    path.pop();
    members.push({ name, text: out.text });
    out.text = '';
  }
  return members;
}

/** `canonicalString` of an object with members added, and where each top-level member's text lies. */
export interface CanonicalWithMembers {
  /** `canonicalString` of the object with the added members, in RFC 8785 member order. */
  readonly text: string;
  /** The top-level member names, in the order written (the object's and the added ones). */
  readonly names: readonly string[];
  /**
   * Where each member's `"name":value` text starts in `text` (UTF-16 offsets); it ends one before the
   * next member's start (a comma sits between), and the last one just before the closing `}`.
   */
  readonly starts: readonly number[];
}

/**
 * `canonicalString({ ...object, ...added })` in one pass, without building that object, where `added` is
 * given as canonical member texts (`"name":value`) sorted by name, and where each member's text starts.
 * The object's members are checked and written exactly as `canonicalString` checks and writes them
 * (same errors, paths and messages). Returns undefined when an added name is also one of the object's
 * members (their order would be the object's value and the added one, which is not what a spread means).
 * It lets ingest write an event's stored form (its members plus `channel`, `receivedAt` and `v`) and find
 * the input's own members in it, instead of canonicalizing the event twice.
 */
export function canonicalStringWithMembers(
  object: object,
  added: readonly CanonicalMember[],
  /**
   * When given, every value is also held to these bounds (`OUT_OF_BOUNDS`), and so is the object itself: its
   * members count, their names, and a member whose value is `undefined` (an error, not a member to leave out).
   */
  bounds?: CanonicalBounds,
): CanonicalWithMembers | undefined {
  const proto = Object.getPrototypeOf(object);
  if (Array.isArray(object) || (proto !== Object.prototype && proto !== null)) {
    throw new CanonicalizationError('UNSUPPORTED_TYPE', '$', 'only plain objects are JSON objects');
  }
  const record = object as Record<string, unknown>;
  for (let i = 0; i < added.length; i++) {
    const name = added[i]!.name;
    if (i > 0 && !(added[i - 1]!.name < name)) throw new RangeError('added members must be sorted by name');
    if (Object.hasOwn(record, name) && record[name] !== undefined) return undefined;
  }
  // With bounds, the depth bound ends any cycle (as OUT_OF_BOUNDS): no set of the open containers is kept.
  const seen = bounds === undefined ? new Set<object>([record]) : undefined;
  const path: PathSegment[] = [];
  const keys = sortNames(memberNames(record, path, bounds));
  const names: string[] = [];
  const starts: number[] = [];
  const out: Sink = { text: '{' };
  let next = 0;
  for (const name of keys) {
    while (next < added.length && added[next]!.name < name) addMember(added[next++]!, out, names, starts);
    if (names.length > 0) out.text += ',';
    names.push(name);
    starts.push(out.text.length);
    writeString(name, out, path);
    out.text += ':';
    path.push(name);
    write(record[name], out, path, 1, seen, bounds);
    path.pop();
  }
  while (next < added.length) addMember(added[next++]!, out, names, starts);
  out.text += '}';
  if (bounds !== undefined && out.text.length > bounds.maxTextLength) outOfBounds(path, 'text is too long');
  return { text: out.text, names, starts };
}

/**
 * The names of the members to write: those whose value is not `undefined`. With bounds, all of them (a
 * member whose value is `undefined` is then written, and `write` refuses it as no JSON value), and too
 * many members, a name too long and a forbidden name are errors.
 */
function memberNames(
  record: Record<string, unknown>,
  path: PathSegment[],
  bounds: CanonicalBounds | undefined,
): string[] {
  const keys = Object.keys(record);
  if (bounds === undefined) return keys.filter((k) => record[k] !== undefined);
  if (keys.length > bounds.maxObjectKeys) outOfBounds(path, 'object has too many members');
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (key.length > bounds.maxKeyLength || bounds.forbiddenKeys.has(key)) {
      path.push(key);
      outOfBounds(path, 'member name too long or forbidden');
    }
  }
  return keys;
}

function outOfBounds(path: readonly PathSegment[], message: string): never {
  throw new CanonicalizationError('OUT_OF_BOUNDS', pathText(path), message);
}

function addMember(member: CanonicalMember, out: Sink, names: string[], starts: number[]): void {
  if (names.length > 0) out.text += ',';
  names.push(member.name);
  starts.push(out.text.length);
  out.text += member.text;
}

/**
 * Where the writer is, as the member names and array indices from the root. It is one array per call,
 * pushed and popped on the way down, and turned into text (`$`, `$.name`, `$[3]`) only for an error:
 * building a path string for every value cost more than writing most values.
 */
type PathSegment = string | number;

/** Up to this many names are sorted by insertion, in place; `Array#sort` copies into a scratch array. */
const INSERTION_SORT_MAX = 32;

/**
 * Sorts member names in place, in the order `Array#sort` gives them (UTF-16 code units, which is what
 * RFC 8785 §3.2.3 asks for; names are unique, so stability does not matter), and returns the array.
 */
function sortNames(names: string[]): string[] {
  if (names.length > INSERTION_SORT_MAX) return names.sort();
  for (let i = 1; i < names.length; i++) {
    const name = names[i]!;
    let j = i - 1;
    while (j >= 0 && names[j]! > name) {
      names[j + 1] = names[j]!;
      j--;
    }
    names[j + 1] = name;
  }
  return names;
}

function pathText(path: readonly PathSegment[]): string {
  let text = '$';
  for (const segment of path) text += typeof segment === 'number' ? `[${segment}]` : `.${segment}`;
  return text;
}

function writeString(s: string, out: Sink, path: readonly PathSegment[]): void {
  if (ANY_SURROGATE.test(s) && LONE_SURROGATE.test(s)) {
    throw new CanonicalizationError(
      'LONE_SURROGATE',
      pathText(path),
      'string contains a lone UTF-16 surrogate',
    );
  }
  out.text += JSON.stringify(s);
}

function write(
  value: unknown,
  out: Sink,
  path: PathSegment[],
  depth: number,
  /** The containers being written, to report a cycle; undefined with bounds (see canonicalStringWithMembers). */
  seen: Set<object> | undefined,
  bounds?: CanonicalBounds,
): void {
  if (value === null) {
    out.text += 'null';
    return;
  }
  switch (typeof value) {
    case 'boolean':
      out.text += value ? 'true' : 'false';
      return;
    case 'number':
      if (!Number.isFinite(value)) {
        throw new CanonicalizationError(
          'NON_FINITE_NUMBER',
          pathText(path),
          `number ${value} has no JSON form`,
        );
      }
      if (bounds?.safeIntegersOnly === true && Number.isInteger(value) && !Number.isSafeInteger(value)) {
        outOfBounds(path, 'integer beyond ±(2^53−1)');
      }
      // Number::toString; also maps -0 to "0" as RFC 8785 requires.
      out.text += JSON.stringify(value);
      return;
    case 'string':
      if (bounds !== undefined && value.length > bounds.maxStringLength)
        outOfBounds(path, 'string is too long');
      writeString(value, out, path);
      // A string can add up to six times its length (\u00XX escapes), and one array may hold the same
      // long string many times: the text is checked after each one, not only at the next container.
      if (bounds !== undefined && out.text.length > bounds.maxTextLength)
        outOfBounds(path, 'text is too long');
      return;
    case 'object':
      break;
    default:
      throw new CanonicalizationError(
        'UNSUPPORTED_TYPE',
        pathText(path),
        `${typeof value} is not a JSON value`,
      );
  }
  if (depth >= MAX_CANONICAL_DEPTH) {
    throw new CanonicalizationError('TOO_DEEP', pathText(path), `nesting deeper than ${MAX_CANONICAL_DEPTH}`);
  }
  // Bounds: `depth` counts from the members of the object given to canonicalStringWithMembers (depth 1),
  // which is itself at depth 1 in the guard's terms, so this container is at `depth + 1` there. The text
  // only grows; it is checked here, at every container, and after every string (above), so the walk stops
  // within one string's escaped length of the bound.
  if (bounds !== undefined && (depth + 1 > bounds.maxDepth || out.text.length > bounds.maxTextLength)) {
    outOfBounds(path, 'nesting too deep, or text too long');
  }
  const obj = value as object;
  if (seen?.has(obj) === true)
    throw new CanonicalizationError('CYCLE', pathText(path), 'value contains a cycle');
  seen?.add(obj);
  if (Array.isArray(obj)) {
    if (bounds !== undefined && obj.length > bounds.maxArrayLength) outOfBounds(path, 'array is too long');
    out.text += '[';
    for (let i = 0; i < obj.length; i++) {
      if (i > 0) out.text += ',';
      path.push(i);
      write(obj[i], out, path, depth + 1, seen, bounds);
      path.pop();
    }
    out.text += ']';
  } else {
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      throw new CanonicalizationError(
        'UNSUPPORTED_TYPE',
        pathText(path),
        'only plain objects are JSON objects',
      );
    }
    const record = obj as Record<string, unknown>;
    const keys = sortNames(memberNames(record, path, bounds));
    out.text += '{';
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      if (i > 0) out.text += ',';
      writeString(key, out, path);
      out.text += ':';
      path.push(key);
      write(record[key], out, path, depth + 1, seen, bounds);
      path.pop();
    }
    out.text += '}';
  }
  seen?.delete(obj);
}

/**
 * Parses a stored document that must be exactly its own JCS (FORMAT.md conventions) and match `schema`.
 * Returns undefined for anything else: text that is not JSON, fails the schema, or is not canonical.
 */
export function parseCanonicalText<T>(
  text: string,
  schema: { safeParse(value: unknown): { success: boolean; data?: T } },
): T | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) return undefined;
  try {
    return canonicalString(value) === text ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

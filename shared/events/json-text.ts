/**
 * Untrusted JSON text, read without loss: the text of a CloudTrail record or of the EventBridge envelope
 * around one. Numbers are parsed by lossless-json (https://github.com/josdejong/lossless-json) into
 * `LosslessNumber`s that keep their exact source text (`12345678901234567890`, `1e400`, `-0`, `1.50`),
 * so nothing is rounded, and the record's own text is what the ledger keeps (docs/EVENTS.md §5).
 *
 * Before parsing, one linear pass bounds the length and the nesting depth (the parser is recursive, so
 * depth must be bounded first) and refuses text that is not well-formed Unicode. Duplicate member
 * names are accepted and the last one wins, as with `JSON.parse`; the text itself keeps them all.
 * Parser messages quote the input, so they are never passed on: errors give a position only.
 */
import { isLosslessNumber, LosslessNumber, parse } from 'lossless-json';
import { EventValidationError } from './errors.ts';

export { isLosslessNumber, LosslessNumber };

/** Bounds on one JSON text. */
export interface JsonTextLimits {
  /** Longest text, in UTF-16 code units. */
  readonly maxLength: number;
  /** Deepest container nesting; the root container is at depth 1. */
  readonly maxDepth: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

// Unpaired high surrogate, or a low surrogate with no high surrogate before it.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const POSITION = /at position (\d+)/;

const PARSE_OPTIONS = {
  onDuplicateKey: ({ newValue }: { newValue: unknown }) => newValue,
};

/**
 * Parses `text` as JSON with every number kept as a `LosslessNumber`. `path` names the text in errors
 * (`$.cloudtrail`). Throws `EventValidationError`: `TOO_LARGE`, `LONE_SURROGATE` (a literal unpaired
 * surrogate, which UTF-8 cannot carry; the escape `\ud800` is fine), `TOO_DEEP` or `INVALID_JSON`.
 * Example: `parseJsonText('{"n":12345678901234567890}', limits, '$')` → `{ n: LosslessNumber('12345678901234567890') }`.
 */
export function parseJsonText(text: string, limits: JsonTextLimits, path: string): unknown {
  assertTextBounds(text, limits, path);
  const fast = parseRoundTripping(text);
  if (fast !== NOT_FAST) return fast;
  try {
    return parse(text, null, PARSE_OPTIONS);
  } catch (error) {
    // The depth bound keeps the parser well inside the stack; this is a second line of defence.
    if (error instanceof RangeError) {
      throw new EventValidationError('TOO_DEEP', path, 'text nests too deeply to parse', { cause: error });
    }
    const position = error instanceof Error ? POSITION.exec(error.message)?.[1] : undefined;
    throw new EventValidationError(
      'INVALID_JSON',
      path,
      position === undefined ? 'text is not valid JSON' : `text is not valid JSON (offset ${position})`,
    );
  }
}

/** `parseRoundTripping`'s answer when it leaves the text to lossless-json. */
const NOT_FAST: unique symbol = Symbol('not fast');

/**
 * lossless-json's result for `text`, by `JSON.parse`, when that gives the same: the text is valid JSON,
 * and every number in it is written exactly as `String(Number(written))` writes it back (`12`, `0.5`,
 * `-3`, `1.25e+21`; not `1.50`, `1e5`, `-0` or `12345678901234567890`), so that
 * `new LosslessNumber(String(value))` keeps its source text. `JSON.parse` builds objects as lossless-json
 * does (own `__proto__` members, the last of duplicate names kept at the first one's place), so only the
 * numbers differ, and they are replaced. `NOT_FAST` for anything else: lossless-json then parses the text,
 * or throws its own error. The native parser is 3 to 4 times faster, and detections read the record of every
 * CloudTrail event this way (docs/BENCHMARKS.md, detection). `test/unit/events/json-text-fast.test.ts`
 * holds the two to each other.
 */
function parseRoundTripping(text: string): unknown {
  const numbers = roundTrippingNumbers(text);
  if (numbers < 0) return NOT_FAST;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return NOT_FAST;
  }
  return numbers === 0 ? value : withLosslessNumbers(value);
}

/**
 * How many numbers `text` has outside its strings, or -1 when one of them is not written as
 * `String(Number(written))` writes it (or the text ends inside a string). Text that is not valid JSON may
 * get any answer: `JSON.parse` then refuses it.
 */
function roundTrippingNumbers(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (end === text.length && text.charCodeAt(end - 1) !== QUOTE) return -1;
      i = end - 1;
    } else if (c === MINUS || (c >= DIGIT_0 && c <= DIGIT_9)) {
      let end = i + 1;
      while (end < text.length && isNumberChar(text.charCodeAt(end))) end++;
      const written = text.slice(i, end);
      if (String(Number(written)) !== written) return -1;
      count++;
      i = end - 1;
    }
  }
  return count;
}

const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

function isNumberChar(c: number): boolean {
  return (c >= DIGIT_0 && c <= DIGIT_9) || c === DOT || c === MINUS || c === PLUS || c === 0x65 || c === 0x45;
}

/** `value` with every number replaced by the `LosslessNumber` of its text, in place. */
function withLosslessNumbers(value: unknown): unknown {
  if (typeof value === 'number') return new LosslessNumber(String(value));
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = withLosslessNumbers(value[i]);
    return value;
  }
  const object = value as Record<string, unknown>;
  for (const key of Object.keys(object)) {
    const member = object[key];
    if (typeof member !== 'object' && typeof member !== 'number') continue;
    const replaced = withLosslessNumbers(member);
    if (replaced === member) continue;
    // Each member is an own data property already (JSON.parse defines them, `__proto__` too), so
    // assigning replaces it and never reaches the inherited `__proto__` setter.
    object[key] = replaced;
  }
  return object;
}

/** The length, Unicode and depth checks of `parseJsonText`, without parsing. */
export function assertTextBounds(text: string, limits: JsonTextLimits, path: string): void {
  if (text.length > limits.maxLength) {
    throw new EventValidationError(
      'TOO_LARGE',
      path,
      `text is longer than ${limits.maxLength} UTF-16 code units`,
    );
  }
  if (LONE_SURROGATE.test(text)) {
    throw new EventValidationError('LONE_SURROGATE', path, 'text contains a lone UTF-16 surrogate');
  }
  if (exceedsDepth(text, limits.maxDepth)) {
    throw new EventValidationError('TOO_DEEP', path, `text nests deeper than ${limits.maxDepth}`);
  }
}

/**
 * True when the containers of `text`, counted outside strings, nest deeper than `limit`. For valid
 * JSON this is the exact depth. For invalid JSON it still bounds the parser: up to the first syntax
 * error, the parser's recursion depth is the count of unclosed containers in what it has read, which
 * this pass counts the same way.
 */
function exceedsDepth(text: string, limit: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = stringEnd(text, i) - 1;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/** Index just past the string token that starts at `start` (a `"`), or the text's length if unclosed. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH) i++;
    else if (c === QUOTE) return i + 1;
  }
  return text.length;
}

function skipWhitespace(text: string, i: number): number {
  let j = i;
  while (j < text.length && isJsonWhitespace(text.charCodeAt(j))) j++;
  return j;
}

/** Index just past the JSON value that starts at `start`, in text already known to be valid JSON. */
function valueEnd(text: string, start: number): number {
  const first = text.charCodeAt(start);
  if (first === QUOTE) return stringEnd(text, start);
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    let depth = 0;
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) i = stringEnd(text, i) - 1;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && --depth === 0) return i + 1;
    }
    return text.length;
  }
  // A number or a literal: it runs to the next separator or whitespace.
  let i = start;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET || c <= 0x20) break;
    i++;
  }
  return i;
}

/**
 * `text` without the JSON whitespace (RFC 8259 §2: space, tab, LF, CR) around its value, so a record's
 * text is always its characters from `{` to `}`, however it was framed.
 */
export function trimJsonWhitespace(text: string): string {
  let end = text.length;
  while (end > 0 && isJsonWhitespace(text.charCodeAt(end - 1))) end--;
  return text.slice(skipWhitespace(text, 0), end);
}

function isJsonWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * The exact source text of member `name` of the object that `text` holds, for text that
 * `parseJsonText` accepted. With duplicate names it is the last one, the one the parse kept.
 * Example: `memberText('{ "detail" : {"a": 1e400} }', 'detail')` → `'{"a": 1e400}'`.
 */
export function memberText(text: string, name: string): string | undefined {
  let i = skipWhitespace(text, 0);
  if (text.charCodeAt(i) !== OPEN_BRACE) return undefined;
  let found: string | undefined;
  i = skipWhitespace(text, i + 1);
  while (i < text.length && text.charCodeAt(i) === QUOTE) {
    const keyEnd = stringEnd(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipWhitespace(text, keyEnd);
    if (text.charCodeAt(i) !== COLON) return undefined;
    const start = skipWhitespace(text, i + 1);
    const end = valueEnd(text, start);
    if (key === name) found = text.slice(start, end);
    i = skipWhitespace(text, end);
    if (text.charCodeAt(i) !== COMMA) break;
    i = skipWhitespace(text, i + 1);
  }
  return found;
}

/**
 * The exact source texts of the elements of the array that `text` holds, for text that `parseJsonText`
 * (or `JSON.parse`) accepted; undefined when `text` is not an array.
 * Example: `elementTexts('[ {"n": 1e400}, 2 ]')` → `['{"n": 1e400}', '2']`.
 */
export function elementTexts(text: string): string[] | undefined {
  let i = skipWhitespace(text, 0);
  if (text.charCodeAt(i) !== OPEN_BRACKET) return undefined;
  const out: string[] = [];
  i = skipWhitespace(text, i + 1);
  while (i < text.length && text.charCodeAt(i) !== CLOSE_BRACKET) {
    const end = valueEnd(text, i);
    out.push(text.slice(i, end));
    i = skipWhitespace(text, end);
    if (text.charCodeAt(i) !== COMMA) break;
    i = skipWhitespace(text, i + 1);
  }
  return out;
}

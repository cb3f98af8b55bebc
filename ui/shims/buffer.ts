// The page's Buffer: the core uses Node's Buffer; in the browser bundle it is the `buffer` package, with
// the methods replaced where the verifier spends its time on large folders (docs/UI.md, "Speed"):
// - `toString('utf8')`: the package decodes byte by byte in JavaScript; the browser's TextDecoder does it
//   natively, and, like Node, replaces each maximal ill-formed subsequence with one U+FFFD (the Encoding
//   Standard), and keeps a leading byte order mark (`ignoreBOM: true`), as Node does. Short ASCII runs
//   (ids, times, hex) are written out with `String.fromCharCode`, cheaper than a decoder call.
// - `indexOf`/`includes` of a byte sequence: the package compares at every offset in JavaScript; this
//   jumps to each occurrence of one of its bytes. `indexOf` of one byte value (how lines are split) skips
//   the package's argument handling. Both scan long runs 32 bits at a time (`findByte`).
// - `Buffer.from(string)` in UTF-8 and in hex: the package encodes UTF-8 twice (once to measure) in
//   JavaScript, and hex with a parseInt per byte; TextEncoder (lone surrogates become U+FFFD, as in
//   Node) and a table lookup do it at once. Hex stops at the first bad pair, as in Node (the package
//   reads a pair like "0g" as 0).
// - `write(string, offset, length, 'latin1' | 'binary')`, how the verifier packs its digests: the
//   package builds an array of char codes per call; this writes them directly.
// - `subarray` (a view per line, per leaf hash): the TypedArray method makes its result through the
//   package's constructor (argument checks, then `setPrototypeOf`); this makes the view as a Buffer at once.
// test/unit/ui/buffer-shim.test.ts compares all of them with Node's Buffer. The package is imported by
// its file, `buffer/index.js`: in Node a bare `buffer` is Node's own module, which the test would then
// patch and compare with itself.
import type { Buffer as NodeBuffer } from 'node:buffer';
import { Buffer as PackageBuffer } from 'buffer/index.js';

// Typed as Node's Buffer, which the core is written against.
const Buffer = PackageBuffer as unknown as typeof NodeBuffer;

const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });
const originalToString = Buffer.prototype.toString;
const originalIndexOf = Buffer.prototype.indexOf;
const nativeIndexOf = Uint8Array.prototype.indexOf;
const originalFrom = Buffer.from;
const utf8Encoder = new TextEncoder();
const HEX_VALUE = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX_VALUE['0123456789abcdef'.charCodeAt(i)] = i;
  HEX_VALUE['0123456789ABCDEF'.charCodeAt(i)] = i;
}

const originalWrite = Buffer.prototype.write;

/**
 * Text up to this many bytes that is all ASCII is decoded with `String.fromCharCode` (event ids, times,
 * hex): in Chromium that is about twice as fast as a TextDecoder call (docs/UI.md, "Speed").
 */
const SHORT_TEXT = 64;

const nativeSubarray = Uint8Array.prototype.subarray;

/** What `Reflect.construct` needs to make a Uint8Array whose prototype is the package's Buffer.prototype. */
function BufferView(): void {}
BufferView.prototype = Buffer.prototype;

Buffer.prototype.subarray = function bufferSubarray(this: Buffer, start?: number, end?: number): Buffer {
  if (!Number.isInteger(start) || (end !== undefined && !Number.isInteger(end))) {
    return nativeSubarray.call(this, start, end) as Buffer;
  }
  // The TypedArray bounds rules, then the view made directly, as a Buffer.
  const length = this.length;
  const from = start! < 0 ? Math.max(length + start!, 0) : Math.min(start!, length);
  const to = end === undefined ? length : end < 0 ? Math.max(length + end, 0) : Math.min(end, length);
  return Reflect.construct(
    Uint8Array,
    [this.buffer, this.byteOffset + from, Math.max(to - from, 0)],
    BufferView,
  );
} as typeof Buffer.prototype.subarray;

/** A plain Uint8Array over `bytes[from…to)`: `subarray` on a Buffer goes through the package's constructor. */
function viewOf(bytes: Uint8Array, from: number, to: number): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset + from, to - from);
}

Buffer.prototype.write = function writeLatin1(
  this: Buffer,
  string: string,
  offset?: unknown,
  length?: unknown,
  encoding?: unknown,
): number {
  if (
    (encoding === 'latin1' || encoding === 'binary') &&
    typeof offset === 'number' &&
    Number.isInteger(offset) &&
    offset >= 0 &&
    offset <= this.length &&
    typeof length === 'number' &&
    Number.isInteger(length) &&
    length >= 0
  ) {
    const n = Math.min(length, this.length - offset, string.length);
    for (let i = 0; i < n; i++) this[offset + i] = string.charCodeAt(i) & 0xff;
    return n;
  }
  return (originalWrite as (...args: unknown[]) => number).call(this, string, offset, length, encoding);
} as typeof Buffer.prototype.write;

/**
 * Hex decoded as Node decodes it: pair by pair up to the first pair that is not two hex digits (an odd
 * last digit is dropped), each UTF-16 code unit read as its low byte (as Node's decoder does).
 */
function hexBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length >>> 1);
  let n = 0;
  for (; n < out.length; n++) {
    const high = HEX_VALUE[text.charCodeAt(2 * n) & 0xff]!;
    const low = HEX_VALUE[text.charCodeAt(2 * n + 1) & 0xff]!;
    if (high < 0 || low < 0) break;
    out[n] = (high << 4) | low;
  }
  return n === out.length ? out : out.slice(0, n);
}

/** A Uint8Array that is a Buffer of this package, without a copy (what the package's own Buffers are). */
function asBuffer(bytes: Uint8Array): Buffer {
  Object.setPrototypeOf(bytes, Buffer.prototype);
  return bytes as Buffer;
}

Buffer.from = function fromFast(value: unknown, encodingOrOffset?: unknown, length?: unknown): Buffer {
  if (typeof value === 'string') {
    if (encodingOrOffset === undefined || encodingOrOffset === 'utf8' || encodingOrOffset === 'utf-8') {
      return asBuffer(utf8Encoder.encode(value));
    }
    if (encodingOrOffset === 'hex') return asBuffer(hexBytes(value));
  }
  return (originalFrom as (v: unknown, e?: unknown, l?: unknown) => Buffer)(value, encodingOrOffset, length);
} as typeof Buffer.from;

Buffer.prototype.toString = function utf8ToString(
  this: Buffer,
  encoding?: string,
  start?: number,
  end?: number,
): string {
  if (encoding !== undefined && encoding !== 'utf8' && encoding !== 'utf-8') {
    return originalToString.call(this, encoding as BufferEncoding, start, end);
  }
  // The package's bounds rules (slowToString), then a native decode.
  let from = start === undefined || start < 0 ? 0 : start;
  if (from > this.length) return '';
  let to = end === undefined || end > this.length ? this.length : end;
  if (to <= 0) return '';
  to >>>= 0;
  from >>>= 0;
  if (to <= from) return '';
  if (to - from <= SHORT_TEXT) {
    let i = from;
    while (i < to && this[i]! < 0x80) i++;
    if (i === to) return String.fromCharCode.apply(null, viewOf(this, from, to) as unknown as number[]);
  }
  return utf8.decode(from === 0 && to === this.length ? this : viewOf(this, from, to));
} as typeof Buffer.prototype.toString;

Buffer.prototype.indexOf = function sequenceIndexOf(
  this: Buffer,
  value: string | number | Uint8Array,
  byteOffset?: number | string,
  encoding?: BufferEncoding,
): number {
  if (
    typeof value === 'number' &&
    (value & 0xff) === value &&
    (byteOffset === undefined ||
      (typeof byteOffset === 'number' && Number.isInteger(byteOffset) && byteOffset >= 0))
  ) {
    // One byte value from a non-negative offset: what the package ends with, without its argument handling.
    return findByte(this, value, byteOffset ?? 0);
  }
  if (
    !(value instanceof Uint8Array) ||
    value.length === 0 ||
    (byteOffset !== undefined &&
      (typeof byteOffset !== 'number' || !Number.isInteger(byteOffset) || byteOffset < 0))
  ) {
    return originalIndexOf.call(this, value, byteOffset as number, encoding);
  }
  return forwardSearch(this, value, byteOffset ?? 0);
} as typeof Buffer.prototype.indexOf;

/** Bytes common in JSON text: a poor place to anchor a search. */
const COMMON = /[a-z0-9"{}:, ]/;

/**
 * First offset at or after `from` where `needle` starts in `haystack`, or -1. It jumps between the
 * occurrences of one byte of the needle: its first byte that is rare in JSON text (for `profileVersion`,
 * the `V`), else its first byte.
 */
function forwardSearch(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  let anchor = needle.findIndex((b) => !COMMON.test(String.fromCharCode(b)));
  if (anchor === -1) anchor = 0;
  const byte = needle[anchor]!;
  const last = haystack.length - needle.length;
  let at = from;
  while (at <= last) {
    const found = findByte(haystack, byte, at + anchor);
    if (found === -1 || found - anchor > last) return -1;
    at = found - anchor;
    let j = 0;
    while (j < needle.length && haystack[at + j] === needle[j]) j++;
    if (j === needle.length) return at;
    at++;
  }
  return -1;
}

/** Below this many bytes to scan, `findByte` leaves the scan to the native `indexOf`. */
const WORD_SCAN_MIN = 256;

/**
 * The 32-bit words of the buffer `findByte` is scanning (a chunk is scanned line after line), dropped when
 * a scan reaches the end without a match, so that a chunk is not kept alive after its last line.
 */
let wordsOf: { buffer: ArrayBufferLike; words: Uint32Array } | undefined;

/** `Uint8Array.prototype.indexOf`; at the end of a scan without a match, `wordsOf` is dropped. */
function scanRest(bytes: Uint8Array, byte: number, from: number): number {
  const found = nativeIndexOf.call(bytes, byte, from);
  if (found === -1) wordsOf = undefined;
  return found;
}

/**
 * First offset at or after `from` of `byte` in `bytes`, or -1: `Uint8Array.prototype.indexOf`, but on
 * long runs it tests four bytes at a time (a 32-bit word, for a zero byte in `word ^ byte×4`), which in
 * Chromium scans about 1.5 to 3 times as fast as the native call (docs/UI.md, "Speed").
 */
function findByte(bytes: Uint8Array, byte: number, from: number): number {
  const n = bytes.length;
  if (n - from < WORD_SCAN_MIN) return scanRest(bytes, byte, from);
  const base = bytes.byteOffset;
  let i = from;
  // Up to a 4-byte aligned address of the underlying buffer.
  while (((base + i) & 3) !== 0) {
    if (bytes[i] === byte) return i;
    i++;
  }
  if (wordsOf?.buffer !== bytes.buffer) {
    wordsOf = {
      buffer: bytes.buffer,
      words: new Uint32Array(bytes.buffer, 0, bytes.buffer.byteLength >>> 2),
    };
  }
  const { words } = wordsOf;
  const pattern = Math.imul(byte, 0x01010101);
  let k = (base + i) >>> 2;
  // Whole words inside `bytes` only (and inside the word view, should the buffer have grown since).
  const end = Math.min((base + n) >>> 2, words.length);
  for (; k + 1 < end; k += 2) {
    const x = words[k]! ^ pattern;
    const y = words[k + 1]! ^ pattern;
    if ((((x - 0x01010101) & ~x) | ((y - 0x01010101) & ~y)) & 0x80808080) break;
  }
  // The pair of words that holds the byte (if any), then the last bytes.
  return scanRest(bytes, byte, k * 4 - base);
}

export { Buffer };

// The page's Buffer: the core uses Node's Buffer; in the browser bundle it is the `buffer` package, with
// two of its methods replaced where the verifier spends its time on large folders (docs/UI.md, "Speed"):
// - `toString('utf8')`: the package decodes byte by byte in JavaScript; the browser's TextDecoder does it
//   natively, and, like Node, replaces each maximal ill-formed subsequence with one U+FFFD (the Encoding
//   Standard), and keeps a leading byte order mark (`ignoreBOM: true`), as Node does.
// - `indexOf`/`includes` of a byte sequence: the package compares at every offset in JavaScript; this
//   jumps to each occurrence of one of its bytes with the native `Uint8Array.prototype.indexOf`.
// - `Buffer.from(string)` in UTF-8 and in hex: the package encodes UTF-8 twice (once to measure) in
//   JavaScript, and hex with a parseInt per byte; TextEncoder (lone surrogates become U+FFFD, as in
//   Node) and a table lookup do it at once. Hex that is not plain even-length hex goes to the package,
//   which stops at the first bad pair as Node does.
// - `write(string, offset, length, 'latin1' | 'binary')`, how the verifier packs its digests: the
//   package builds an array of char codes per call; this writes them directly.
// test/unit/ui/buffer-shim.test.ts compares all of them with Node's Buffer.
import { Buffer } from 'buffer';

const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });
const originalToString = Buffer.prototype.toString;
const originalIndexOf = Buffer.prototype.indexOf;
const nativeIndexOf = Uint8Array.prototype.indexOf;
const originalFrom = Buffer.from;
const utf8Encoder = new TextEncoder();
const PLAIN_HEX = /^(?:[0-9a-fA-F]{2})*$/;
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX_VALUE['0123456789abcdef'.charCodeAt(i)] = i;
  HEX_VALUE['0123456789ABCDEF'.charCodeAt(i)] = i;
}

const originalWrite = Buffer.prototype.write;

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
    if (encodingOrOffset === 'hex' && PLAIN_HEX.test(value)) {
      const out = new Uint8Array(value.length >>> 1);
      for (let i = 0; i < out.length; i++) {
        out[i] = (HEX_VALUE[value.charCodeAt(2 * i)]! << 4) | HEX_VALUE[value.charCodeAt(2 * i + 1)]!;
      }
      return asBuffer(out);
    }
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
  return utf8.decode(from === 0 && to === this.length ? this : this.subarray(from, to));
} as typeof Buffer.prototype.toString;

Buffer.prototype.indexOf = function sequenceIndexOf(
  this: Buffer,
  value: string | number | Uint8Array,
  byteOffset?: number | string,
  encoding?: BufferEncoding,
): number {
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
    const found = nativeIndexOf.call(haystack, byte, at + anchor);
    if (found === -1 || found - anchor > last) return -1;
    at = found - anchor;
    let j = 0;
    while (j < needle.length && haystack[at + j] === needle[j]) j++;
    if (j === needle.length) return at;
    at++;
  }
  return -1;
}

export { Buffer };

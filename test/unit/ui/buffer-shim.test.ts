/**
 * The page's Buffer (ui/shims/buffer.ts: the `buffer` package with a native UTF-8 decode and a faster
 * byte-sequence search) must give what Node's Buffer gives, since the verifier's results depend on it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Buffer as PageBuffer } from '../../../ui/shims/buffer.ts';

/** Bytes that are mostly text, with ill-formed UTF-8, a byte order mark and JSON-like runs. */
const textish = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => new Uint8Array(Buffer.from(s, 'utf8'))),
  fc
    .array(
      fc.constantFrom(
        0xef,
        0xbb,
        0xbf,
        0xc3,
        0xa9,
        0xe2,
        0x82,
        0xac,
        0xf0,
        0x9f,
        0x80,
        0xff,
        0x41,
        0x22,
        0x56,
      ),
      {
        maxLength: 40,
      },
    )
    .map((a) => new Uint8Array(a)),
);

describe('Module: ui/shims/buffer', () => {
  describe('Method: toString', () => {
    it('decodes UTF-8 as Node does, ill-formed bytes, BOM and bounds included', () => {
      fc.assert(
        fc.property(
          textish,
          fc.integer({ min: -3, max: 70 }),
          fc.integer({ min: -3, max: 70 }),
          (bytes, s, e) => {
            // Act + Assess
            const node = Buffer.from(bytes);
            const page = PageBuffer.from(bytes);
            expect(page.toString()).toBe(node.toString());
            expect(page.toString('utf8', s, e)).toBe(node.toString('utf8', s, e));
            expect(page.toString('utf-8', s)).toBe(node.toString('utf-8', s));
          },
        ),
        { numRuns: 2000 },
      );
    });

    it('decodes short ASCII runs (written out without a TextDecoder) as Node does, inside a larger buffer', () => {
      // Prepare: ASCII of 0..90 bytes (the page writes runs up to 64 bytes itself), sometimes with one
      // byte from 0x7f up (0x7f is ASCII, the others are not), viewed from 0..7 bytes into a larger buffer.
      const ascii = fc.uint8Array({ max: 0x7f, maxLength: 90 });
      const text = fc.oneof(
        ascii,
        fc.tuple(ascii, fc.nat(), fc.constantFrom(0x7f, 0x80, 0xc3, 0xe2, 0xef, 0xff)).map(([a, at, b]) => {
          const i = at % (a.length + 1);
          return Uint8Array.from([...a.subarray(0, i), b, ...a.subarray(i)]);
        }),
      );
      fc.assert(
        fc.property(
          text,
          fc.nat(7),
          fc.integer({ min: -3, max: 95 }),
          fc.integer({ min: -3, max: 95 }),
          (bytes, pad, s, e) => {
            const node = Buffer.from(bytes);
            const outer = PageBuffer.alloc(bytes.length + pad + 8, 0x41);
            outer.set(bytes, pad);
            const page = outer.subarray(pad, pad + bytes.length);
            // Act + Assess
            expect(page.toString()).toBe(node.toString());
            expect(page.toString('utf8', s, e)).toBe(node.toString('utf8', s, e));
            expect(page.toString(undefined, s)).toBe(node.toString(undefined, s));
          },
        ),
        { numRuns: 2000 },
      );
    });

    it('leaves other encodings to the package', () => {
      const bytes = PageBuffer.from([0xde, 0xad, 0xbe, 0xef]);
      expect(bytes.toString('hex')).toBe('deadbeef');
      expect(bytes.toString('base64')).toBe('3q2+7w==');
    });
  });

  describe('Method: Buffer.from', () => {
    it('encodes strings as Node does, in UTF-8 (lone surrogates included) and in hex (bad pairs included)', () => {
      const hexish = fc
        .array(fc.constantFrom(...'0123456789abcdefABCDEFxg \u0130\u0161\u00e1'.split('')), { maxLength: 40 })
        .map((a) => a.join(''));
      fc.assert(
        fc.property(fc.string({ unit: 'binary', maxLength: 40 }), hexish, (text, hex) => {
          // Act + Assess
          const utf8 = PageBuffer.from(text);
          expect(utf8).toBeInstanceOf(PageBuffer);
          expect([...utf8]).toEqual([...Buffer.from(text)]);
          expect([...PageBuffer.from(text, 'utf8')]).toEqual([...Buffer.from(text, 'utf8')]);
          expect([...PageBuffer.from(hex, 'hex')]).toEqual([...Buffer.from(hex, 'hex')]);
          expect(PageBuffer.from(hex, 'hex')).toBeInstanceOf(PageBuffer);
        }),
        { numRuns: 500 },
      );
    });

    it('leaves other inputs to the package', () => {
      expect(PageBuffer.from([1, 2, 3]).toString('hex')).toBe('010203');
      expect(PageBuffer.from('AQID', 'base64').toString('hex')).toBe('010203');
      expect(PageBuffer.from(new Uint8Array([4, 5]).buffer).toString('hex')).toBe('0405');
    });
  });

  describe('Method: write (latin1)', () => {
    it('writes as Node does, at any offset and length', () => {
      fc.assert(
        fc.property(
          fc.string({ unit: 'binary', maxLength: 40 }),
          fc.nat(40),
          fc.nat(50),
          fc.constantFrom('latin1', 'binary') as fc.Arbitrary<'latin1' | 'binary'>,
          (text, offset, room, encoding) => {
            // Prepare: lengths that fit after the offset (past them Node throws, the package writes less).
            const length = room % (41 - offset);
            const node = Buffer.alloc(40, 0xaa);
            const page = PageBuffer.alloc(40, 0xaa);
            // Act + Assess
            expect(page.write(text, offset, length, encoding)).toBe(
              node.write(text, offset, length, encoding),
            );
            expect([...page]).toEqual([...node]);
          },
        ),
        { numRuns: 500 },
      );
    });
  });

  describe('Method: subarray', () => {
    it('gives the view Node gives, any bounds, as a Buffer sharing the memory', () => {
      const bound = fc.oneof(
        fc.integer({ min: -40, max: 40 }),
        fc.constantFrom(undefined, 0.5, -1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
      );
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 30 }), fc.nat(7), bound, bound, (bytes, pad, start, end) => {
          // Prepare: a Buffer that is itself a view 0..7 bytes into a larger one.
          const node = Buffer.from(bytes);
          const outer = PageBuffer.alloc(bytes.length + pad + 8, 0x41);
          outer.set(bytes, pad);
          const page = outer.subarray(pad, pad + bytes.length);
          // Act
          const nodeView = node.subarray(start, end);
          const pageView = page.subarray(start, end);
          // Assess
          expect(Object.getPrototypeOf(pageView)).toBe(PageBuffer.prototype);
          expect([...pageView]).toEqual([...nodeView]);
          expect(pageView.byteOffset - page.byteOffset).toBe(nodeView.byteOffset - node.byteOffset);
          expect(pageView.buffer).toBe(outer.buffer);
          expect(pageView.toString('hex')).toBe(nodeView.toString('hex'));
        }),
        { numRuns: 2000 },
      );
    });
  });

  describe('Method: indexOf / includes', () => {
    it('finds a byte sequence where Node finds it', () => {
      const haystack = fc.uint8Array({ maxLength: 200 }).map((a) => a.map((b) => 0x55 + (b % 4)));
      fc.assert(
        fc.property(
          haystack,
          fc.uint8Array({ minLength: 1, maxLength: 4 }),
          fc.nat(220),
          (hay, raw, from) => {
            // Prepare: needles from the same small alphabet, so that they often occur.
            const needle = raw.map((b) => 0x55 + (b % 4));
            // Act + Assess
            const node = Buffer.from(hay);
            const page = PageBuffer.from(hay);
            expect(page.indexOf(PageBuffer.from(needle))).toBe(node.indexOf(Buffer.from(needle)));
            expect(page.indexOf(PageBuffer.from(needle), from)).toBe(node.indexOf(Buffer.from(needle), from));
            expect(page.includes(PageBuffer.from(needle))).toBe(node.includes(Buffer.from(needle)));
          },
        ),
        { numRuns: 3000 },
      );
    });

    it('finds a byte sequence in long text where Node finds it, at any alignment', () => {
      // Prepare: up to 3000 bytes of JSON-like text with a few copies of a needle, viewed from 0..7 bytes
      // into a larger buffer (the page reads long runs 32 bits at a time from aligned addresses).
      const needle = fc.constantFrom('profileVersion', 'V', '"id":"', 'Vz', '\n');
      fc.assert(
        fc.property(
          fc.string({
            unit: fc.constantFrom(...'abcdefgh{}":, 0123VersionVprofile'.split('')),
            maxLength: 3000,
          }),
          needle,
          fc.array(fc.nat(), { maxLength: 3 }),
          fc.nat(7),
          fc.oneof(fc.constant(undefined), fc.nat(3100)),
          (filler, word, at, pad, from) => {
            let text = filler;
            for (const a of at) {
              const i = a % (text.length + 1);
              text = text.slice(0, i) + word + text.slice(i);
            }
            const node = Buffer.from(text);
            const outer = PageBuffer.alloc(node.length + pad + 8, 0x56);
            outer.set(node, pad);
            const page = outer.subarray(pad, pad + node.length);
            // Act + Assess
            expect(page.indexOf(PageBuffer.from(word), from)).toBe(node.indexOf(Buffer.from(word), from));
            expect(page.includes(PageBuffer.from(word), from)).toBe(node.includes(Buffer.from(word), from));
          },
        ),
        { numRuns: 1000 },
      );
    });

    it('finds a byte value where Node finds it, at any offset and alignment, odd arguments included', () => {
      // Prepare: up to 2000 bytes of one filler with the sought byte at a few places (the page scans long
      // runs 32 bits at a time), viewed from 0..7 bytes into a larger buffer; byte values and offsets
      // include ones the page leaves to the package (256, -1, NaN, 1.5, negative or fractional offsets).
      const value = fc.oneof(
        fc.integer({ min: 0, max: 255 }),
        fc.constantFrom(256, 0x10a, -1, -246, Number.NaN, 1.5, 10.5, -0, Number.POSITIVE_INFINITY),
      );
      const offset = fc.oneof(
        fc.constant(undefined),
        fc.nat(2100),
        fc.constantFrom(-1, -300, 0.5, 300.5, Number.NaN, 2 ** 31, -(2 ** 31) - 5),
      );
      fc.assert(
        fc.property(
          fc.nat(2000),
          fc.integer({ min: 0, max: 255 }),
          fc.array(fc.nat(), { maxLength: 4 }),
          value,
          offset,
          fc.nat(7),
          (length, fill, places, v, from, pad) => {
            const node = Buffer.alloc(length, fill);
            const sought = typeof v === 'number' && Number.isFinite(v) ? v & 0xff : 0;
            for (const p of places) if (length > 0) node[p % length] = sought;
            const outer = PageBuffer.alloc(length + pad + 8, sought);
            outer.set(node, pad);
            const page = outer.subarray(pad, pad + length);
            // Act + Assess
            expect(page.indexOf(v, from)).toBe(node.indexOf(v, from));
            expect(page.includes(v, from)).toBe(node.includes(v, from));
          },
        ),
        { numRuns: 3000 },
      );
    });

    it('finds the profile marker in JSON lines', () => {
      const text = '{"a":"profileVersio","b":{"profileVersion":1}}\n';
      const marker = PageBuffer.from('profileVersion', 'utf8');
      expect(PageBuffer.from(text).indexOf(marker)).toBe(Buffer.from(text).indexOf('profileVersion'));
      expect(PageBuffer.from(text).includes(marker, 30)).toBe(false);
    });
  });
});

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

    it('leaves other encodings to the package', () => {
      const bytes = PageBuffer.from([0xde, 0xad, 0xbe, 0xef]);
      expect(bytes.toString('hex')).toBe('deadbeef');
      expect(bytes.toString('base64')).toBe('3q2+7w==');
    });
  });

  describe('Method: Buffer.from', () => {
    it('encodes strings as Node does, in UTF-8 (lone surrogates included) and in hex (bad pairs included)', () => {
      const hexish = fc
        .array(fc.constantFrom(...'0123456789abcdefABCDEFxg '.split('')), { maxLength: 40 })
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
          (text, offset, length, encoding) => {
            // Prepare
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

    it('finds the profile marker in JSON lines', () => {
      const text = '{"a":"profileVersio","b":{"profileVersion":1}}\n';
      const marker = PageBuffer.from('profileVersion', 'utf8');
      expect(PageBuffer.from(text).indexOf(marker)).toBe(Buffer.from(text).indexOf('profileVersion'));
      expect(PageBuffer.from(text).includes(marker, 30)).toBe(false);
    });
  });
});

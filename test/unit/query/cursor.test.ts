import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CursorCodec } from '../../../shared/query/cursor.ts';
import { QueryError } from '../../../shared/query/errors.ts';

const KEY = Buffer.alloc(32, 7);
const HASH = 'a'.repeat(64);
const SK = '2026-11-22T21:00:00.123Z#arn:aws:ec2:us-east-1:123456789012:instance/i-0abc';

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
    return undefined;
  } catch (error) {
    if (error instanceof QueryError) return error.code;
    throw error;
  }
}

describe('Class: CursorCodec', () => {
  describe('Method: decode', () => {
    it('returns the position an issued cursor names', () => {
      // Prepare
      const codec = new CursorCodec(KEY);
      // Act
      const cursor = codec.encode(HASH, SK);
      // Assess
      expect(codec.decode(cursor, HASH)).toBe(SK);
    });

    describe('when the cursor belongs to another query', () => {
      it('refuses it with CURSOR_MISMATCH', () => {
        const codec = new CursorCodec(KEY);
        const cursor = codec.encode(HASH, SK);
        expect(codeOf(() => codec.decode(cursor, 'b'.repeat(64)))).toBe('CURSOR_MISMATCH');
      });
    });

    describe('when the cursor was issued with another key', () => {
      it('refuses it with INVALID_CURSOR', () => {
        const cursor = new CursorCodec(randomBytes(32)).encode(HASH, SK);
        expect(codeOf(() => new CursorCodec(KEY).decode(cursor, HASH))).toBe('INVALID_CURSOR');
      });
    });

    describe('when the payload is re-encoded with another position and the old MAC', () => {
      it('refuses it with INVALID_CURSOR', () => {
        const codec = new CursorCodec(KEY);
        const [, mac] = codec.encode(HASH, SK).split('.');
        const forged = Buffer.from(
          JSON.stringify({ v: 1, q: HASH, k: '2099-01-01T00:00:00.000Z#x' }),
        ).toString('base64url');
        expect(codeOf(() => codec.decode(`${forged}.${mac}`, HASH))).toBe('INVALID_CURSOR');
      });
    });

    describe('when only the spare bits of the MAC text change', () => {
      it('refuses it with INVALID_CURSOR', () => {
        // Prepare: 32 bytes are 43 base64url characters; the last one carries 2 bits nobody decodes.
        const codec = new CursorCodec(KEY);
        const cursor = codec.encode(HASH, SK);
        const last = cursor.at(-1)!;
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
        const sibling = alphabet[alphabet.indexOf(last) ^ 1]!;
        const altered = cursor.slice(0, -1) + sibling;
        // Act / Assess: the two texts decode to the same bytes, yet only the issued text is accepted.
        expect(Buffer.from(altered.split('.')[1]!, 'base64url')).toEqual(
          Buffer.from(cursor.split('.')[1]!, 'base64url'),
        );
        expect(codeOf(() => codec.decode(altered, HASH))).toBe('INVALID_CURSOR');
      });
    });

    describe('when the cursor is not made of two base64url parts', () => {
      it.each(['', '.', 'abc', 'a.b.c', 'a b.c', '{"v":1}.x'])('refuses %j', (cursor) => {
        expect(codeOf(() => new CursorCodec(KEY).decode(cursor, HASH))).toBe('INVALID_CURSOR');
      });
    });

    it('accepts no alteration of an issued cursor (property)', () => {
      const codec = new CursorCodec(KEY);
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
      fc.assert(
        fc.property(
          fc.string({ minLength: 1, maxLength: 40, unit: fc.constantFrom(...'abcXYZ019:/_-.@') }),
          fc.nat(),
          fc.constantFrom(...alphabet),
          (idTail, at, replacement) => {
            const cursor = codec.encode(HASH, `2026-11-22T21:00:00.123Z#a${idTail}`);
            const position = at % cursor.length;
            fc.pre(cursor[position] !== replacement);
            const altered = cursor.slice(0, position) + replacement + cursor.slice(position + 1);
            expect(['INVALID_CURSOR', 'CURSOR_MISMATCH']).toContain(
              codeOf(() => codec.decode(altered, HASH)),
            );
          },
        ),
        { numRuns: 500 },
      );
    });
  });

  describe('when the key is shorter than 256 bits', () => {
    it('refuses to build', () => {
      expect(() => new CursorCodec(Buffer.alloc(31))).toThrow(RangeError);
    });
  });
});

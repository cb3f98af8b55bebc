import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  sha256Js,
  sha256JsBinary,
  sha256JsInto,
  sha256JsOneInto,
} from '../../../shared/platform/sha256-js.ts';

const nodeSha256 = (data: Uint8Array) => createHash('sha256').update(data).digest();
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const ascii = (text: string) => new TextEncoder().encode(text);

// Lengths where the padding changes shape: the last block holds the length (≤ 55 bytes of data in it)
// or spills into a second block (56..63), and exact multiples of the block size.
const BOUNDARY_LENGTHS = [
  0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 183, 184, 191, 192, 1024, 1025,
];

/** Every way this module hands out a digest, for one input. */
function allDigests(data: Uint8Array, cut: number): string[] {
  const into = new Uint8Array(40);
  sha256JsOneInto(data, into, 5);
  const parts = new Uint8Array(32);
  sha256JsInto([data.subarray(0, cut), data.subarray(cut, cut), data.subarray(cut)], parts, 0);
  return [
    hex(sha256Js(data)),
    Buffer.from(sha256JsBinary(data), 'latin1').toString('hex'),
    hex(into.subarray(5, 37)),
    hex(parts),
  ];
}

describe('Module: sha256-js', () => {
  describe('Method: sha256Js, sha256JsBinary, sha256JsOneInto, sha256JsInto', () => {
    it('matches the FIPS 180-4 / NIST CSRC example digests', () => {
      // Prepare: NIST "SHA256.pdf" examples and the RFC 6234 §8.5 test cases TEST1..TEST4 (TEST4 is 640
      // bytes, ten blocks).
      const vectors: [Uint8Array, string][] = [
        [ascii(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
        [ascii('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
        [
          ascii('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'),
          '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
        ],
        [
          ascii(
            'abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu',
          ),
          'cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1',
        ],
        [
          ascii('01234567012345670123456701234567012345670123456701234567012345670123456701234567'.repeat(8)),
          '594847328451bdfa85056225462cc1d867d877fb388df0ce35f25ab5562bfbb5',
        ],
        [ascii('a'.repeat(1_000_000)), 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0'],
      ];
      for (const [data, digest] of vectors) {
        // Act
        const digests = allDigests(data, data.length >> 1);
        // Assess
        expect(digests).toEqual([digest, digest, digest, digest]);
      }
    });

    it('gives node:crypto digests for every length 0..5000, block boundaries included, and any split', () => {
      // Prepare
      const length = fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.constantFrom(...BOUNDARY_LENGTHS));
      const input = length.chain((n) =>
        fc.tuple(fc.uint8Array({ minLength: n, maxLength: n }), fc.nat({ max: n }), fc.nat({ max: 64 })),
      );
      fc.assert(
        fc.property(input, ([bytes, cut, skew]) => {
          // Act: the input as a view at an odd offset of a larger buffer, as the verifier passes slices.
          const backing = new Uint8Array(skew + bytes.length + 7);
          backing.set(bytes, skew);
          const data = backing.subarray(skew, skew + bytes.length);
          // Assess
          const want = nodeSha256(bytes).toString('hex');
          expect(allDigests(data, cut)).toEqual([want, want, want, want]);
        }),
        { numRuns: 400 },
      );
    });

    it('hashes many small parts fed one to a few bytes at a time', () => {
      fc.assert(
        fc.property(fc.array(fc.uint8Array({ minLength: 0, maxLength: 70 }), { maxLength: 40 }), (parts) => {
          // Act
          const out = new Uint8Array(32);
          sha256JsInto(parts, out, 0);
          // Assess
          expect(hex(out)).toBe(nodeSha256(Buffer.concat(parts)).toString('hex'));
        }),
        { numRuns: 300 },
      );
    });

    describe('when the same buffer is hashed again after it changed', () => {
      it('hashes its current bytes', () => {
        // Prepare: a small reused scratch buffer (its DataView is kept between calls).
        const scratch = new Uint8Array(200);
        const digests: string[] = [];
        const expected: string[] = [];
        for (let i = 0; i < 5; i++) {
          scratch.fill(i);
          // Act
          digests.push(hex(sha256Js(scratch.subarray(3, 3 + 130))));
          expected.push(nodeSha256(scratch.subarray(3, 3 + 130)).toString('hex'));
        }
        // Assess
        expect(digests).toEqual(expected);
        expect(new Set(digests).size).toBe(5);
      });
    });

    describe('when the input is a Buffer, a SharedArrayBuffer view or a large buffer', () => {
      it('gives the same digest as for a plain Uint8Array', () => {
        // Prepare
        const shared = new Uint8Array(new SharedArrayBuffer(300_000));
        for (let i = 0; i < shared.length; i++) shared[i] = (i * 31) & 0xff;
        const inputs = [Buffer.from(shared.subarray(1, 1500)), shared.subarray(1, 1500), shared];
        for (const data of inputs) {
          // Act + Assess
          expect(hex(sha256Js(data))).toBe(nodeSha256(new Uint8Array(data)).toString('hex'));
        }
      });
    });
  });
});

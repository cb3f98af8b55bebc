/**
 * SHA-256 (FIPS 180-4 §6.2) in plain JavaScript, synchronous, for platforms without node:crypto (the
 * auditor's page). Written for many small inputs: no allocation per call beyond the output, words read
 * straight from the input bytes, one shared message schedule.
 * https://nvlpubs.nist.gov/nistpubs/FIPS/NIST.FIPS.180-4.pdf
 */

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);
const INITIAL = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

const W = new Int32Array(64);
const state = new Int32Array(8);
// The last one or two blocks: the input's tail, the 0x80 marker, zeros and the 64-bit bit length.
const tail = new Uint8Array(128);

function compress(bytes: Uint8Array, at: number): void {
  for (let i = 0; i < 16; i++) {
    const j = at + 4 * i;
    W[i] = (bytes[j]! << 24) | (bytes[j + 1]! << 16) | (bytes[j + 2]! << 8) | bytes[j + 3]!;
  }
  for (let i = 16; i < 64; i++) {
    const w15 = W[i - 15]!;
    const w2 = W[i - 2]!;
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0;
  }
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  let e = state[4]!;
  let f = state[5]!;
  let g = state[6]!;
  let h = state[7]!;
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i]! + W[i]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
  state[4] = (state[4]! + e) | 0;
  state[5] = (state[5]! + f) | 0;
  state[6] = (state[6]! + g) | 0;
  state[7] = (state[7]! + h) | 0;
}

/** SHA-256 of the concatenation of `parts`, written as 32 bytes into `out` at `offset`. */
export function sha256JsInto(parts: readonly Uint8Array[], out: Uint8Array, offset: number): void {
  state.set(INITIAL);
  let length = 0;
  let pending = 0;
  for (const part of parts) {
    length += part.length;
    let at = 0;
    if (pending > 0) {
      const take = Math.min(64 - pending, part.length);
      tail.set(part.subarray(0, take), pending);
      pending += take;
      at = take;
      if (pending < 64) continue;
      compress(tail, 0);
      pending = 0;
    }
    for (; at + 64 <= part.length; at += 64) compress(part, at);
    if (at < part.length) {
      tail.set(part.subarray(at), 0);
      pending = part.length - at;
    }
  }
  tail[pending] = 0x80;
  const blocks = pending < 56 ? 1 : 2;
  tail.fill(0, pending + 1, blocks * 64 - 8);
  const end = blocks * 64;
  const high = Math.floor(length / 0x20000000);
  const low = (length * 8) >>> 0;
  tail[end - 8] = high >>> 24;
  tail[end - 7] = high >>> 16;
  tail[end - 6] = high >>> 8;
  tail[end - 5] = high;
  tail[end - 4] = low >>> 24;
  tail[end - 3] = low >>> 16;
  tail[end - 2] = low >>> 8;
  tail[end - 1] = low;
  compress(tail, 0);
  if (blocks === 2) compress(tail, 64);
  for (let i = 0; i < 8; i++) {
    const word = state[i]!;
    out[offset + 4 * i] = word >>> 24;
    out[offset + 4 * i + 1] = word >>> 16;
    out[offset + 4 * i + 2] = word >>> 8;
    out[offset + 4 * i + 3] = word;
  }
}

/** SHA-256 of bytes as a new 32-byte array. */
export function sha256Js(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  sha256JsInto([data], out, 0);
  return out;
}

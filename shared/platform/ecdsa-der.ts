/**
 * DER `Ecdsa-Sig-Value` (RFC 5480 §2.2.3: SEQUENCE { r INTEGER, s INTEGER }) to the fixed-width r || s
 * form WebCrypto verifies (RFC 6979 / IEEE P1363, 32 + 32 bytes for P-256).
 *
 * Strict DER, as OpenSSL checks it when node:crypto verifies with `dsaEncoding: 'der'`: definite short
 * lengths, minimal positive integers, nothing after the sequence. Anything else is not a signature, so
 * both implementations of the port reject the same bytes.
 */

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const P256_SCALAR_BYTES = 32;

/** One minimal positive INTEGER at `at`; returns its value bytes and where the next element starts. */
function readInteger(der: Uint8Array, at: number): { value: Uint8Array; next: number } | undefined {
  if (der[at] !== INTEGER) return undefined;
  const length = der[at + 1];
  if (length === undefined || length === 0 || length >= 0x80) return undefined;
  const start = at + 2;
  const end = start + length;
  if (end > der.length) return undefined;
  const first = der[start]!;
  // Negative, or a leading zero byte that is not needed to keep the value positive.
  if (first >= 0x80) return undefined;
  if (first === 0x00 && length > 1 && der[start + 1]! < 0x80) return undefined;
  let value = der.subarray(start, end);
  while (value.length > 1 && value[0] === 0) value = value.subarray(1);
  return { value, next: end };
}

/** The 64-byte r || s of a strict-DER P-256 signature, or undefined when it is not one. */
export function p256SignatureFromDer(der: Uint8Array): Uint8Array | undefined {
  if (der.length < 2 || der[0] !== SEQUENCE) return undefined;
  const length = der[1]!;
  if (length >= 0x80 || length + 2 !== der.length) return undefined;
  const r = readInteger(der, 2);
  if (!r) return undefined;
  const s = readInteger(der, r.next);
  if (!s || s.next !== der.length) return undefined;
  if (r.value.length > P256_SCALAR_BYTES || s.value.length > P256_SCALAR_BYTES) return undefined;
  const raw = new Uint8Array(2 * P256_SCALAR_BYTES);
  raw.set(r.value, P256_SCALAR_BYTES - r.value.length);
  raw.set(s.value, 2 * P256_SCALAR_BYTES - s.value.length);
  return raw;
}

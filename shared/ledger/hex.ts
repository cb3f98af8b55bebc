/** Lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Strict lowercase-hex decoding; returns undefined unless `text` is exactly `bytes` bytes of lowercase hex. */
export function fromHex(text: string, bytes: number): Buffer | undefined {
  if (text.length !== bytes * 2 || !/^[0-9a-f]*$/.test(text)) return undefined;
  return Buffer.from(text, 'hex');
}

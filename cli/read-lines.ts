/**
 * The lines of a JSON-lines file, for `auditseal seal` and `auditseal local replay-cloudtrail`. Lines are
 * split on LF (a CR before it is dropped) and each is decoded as strict UTF-8, so a line that is not
 * valid UTF-8 is reported as such instead of being silently "repaired" with U+FFFD: CloudTrail records
 * are kept verbatim, and a repaired one would not be.
 */
import { createReadStream } from 'node:fs';

/** One line: its text, or why it has none. `n` counts from 1. */
export type Line =
  | { readonly n: number; readonly text: string }
  | { readonly n: number; readonly problem: 'INVALID_UTF8' | 'TOO_LARGE'; readonly message: string };

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The lines of the file at `path`. A byte order mark at the start of the file is skipped. A line longer
 * than `maxBytes` is reported, not kept, so memory stays bounded by one line of at most `maxBytes`.
 */
export async function* readLines(path: string, maxBytes: number): AsyncGenerator<Line> {
  let n = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const finish = (): Line => {
    n++;
    const parts = pending;
    const size = pendingBytes;
    pending = [];
    pendingBytes = 0;
    if (size > maxBytes) return { n, problem: 'TOO_LARGE', message: `line is longer than ${maxBytes} bytes` };
    let bytes = Buffer.concat(parts);
    if (n === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
    if (bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, -1);
    try {
      return { n, text: utf8.decode(bytes) };
    } catch {
      return { n, problem: 'INVALID_UTF8', message: 'line is not valid UTF-8' };
    }
  };
  const keep = (part: Buffer): void => {
    pendingBytes += part.length;
    if (pendingBytes <= maxBytes) pending.push(Buffer.from(part));
  };
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let end = chunk.indexOf(0x0a); end !== -1; end = chunk.indexOf(0x0a, start)) {
      keep(chunk.subarray(start, end));
      yield finish();
      start = end + 1;
    }
    if (start < chunk.length) keep(chunk.subarray(start));
  }
  if (pendingBytes > 0) yield finish();
}

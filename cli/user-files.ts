/**
 * Files the auditor names on the command line (`--key`, `--head`). A symbolic link the auditor made is
 * followed, but the file must be a regular one: a FIFO or a device would block or never end.
 */

import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { UsageError } from './errors.ts';

/** Reads a named file of at most `maxBytes`; exit 2 (UsageError) when it is missing, special or too large. */
export async function readUserFile(path: string, maxBytes: number, what: string): Promise<Buffer> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    // O_NONBLOCK: opening a FIFO for reading must not wait for a writer before it can be refused.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    throw new UsageError(`cannot read ${what} ${path}`);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new UsageError(`${what} ${path} is not a regular file`);
    if (stats.size > maxBytes) throw new UsageError(`${what} ${path} is larger than ${maxBytes} bytes`);
    const buffer = Buffer.alloc(Math.min(stats.size + 1, maxBytes + 1));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > maxBytes) throw new UsageError(`${what} ${path} is larger than ${maxBytes} bytes`);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

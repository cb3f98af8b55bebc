import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { ObjectConflictError, type ObjectStore, type PutOutcome } from '../ports/object-store.ts';

/** ObjectStore over a local folder that mirrors bucket keys (`DIR/digests/…`, `DIR/archives/…`). Put-only. */
export class FolderObjectStore implements ObjectStore {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  private pathOf(key: string): string {
    const full = resolve(join(this.root, key));
    if (
      !full.startsWith(this.root + sep) ||
      key.includes('\\') ||
      key.split('/').some((s) => s === '..' || s === '')
    ) {
      throw new RangeError(`object key ${JSON.stringify(key)} escapes the folder`);
    }
    return full;
  }

  async putIfAbsent(key: string, body: Uint8Array): Promise<PutOutcome> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    // Write a temporary file, then link(2) it into place: link fails with EEXIST if the name exists, so
    // this is an atomic If-None-Match, and a crash never leaves a half-written object under its key.
    const temp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
    await writeFile(temp, body, { flag: 'wx' });
    try {
      await link(temp, path);
      return 'created';
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const existing = await readFile(path);
      if (existing.equals(body)) return 'unchanged';
      throw new ObjectConflictError(key, existing);
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.pathOf(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }
}

import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';

/** Read-only access to a verifiable folder or bucket copy, by object key. */
export interface ObjectReader {
  /** All keys below a prefix such as `digests/`, in no particular order. */
  list(prefix: string): Promise<string[]>;
  /** An object's bytes, or undefined if absent. */
  read(key: string): Promise<Buffer | undefined>;
}

/** ObjectReader over a local folder (`DIR/digests/…`, `DIR/archives/…`). Symbolic links are not followed. */
export class FolderReader implements ObjectReader {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async list(prefix: string): Promise<string[]> {
    const base = join(this.root, prefix);
    let entries: string[];
    try {
      entries = (await readdir(base, { recursive: true, withFileTypes: true }))
        .filter((e) => e.isFile())
        .map((e) => join(e.parentPath, e.name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return entries.map((p) => relative(this.root, p).split(sep).join('/'));
  }

  async read(key: string): Promise<Buffer | undefined> {
    const full = resolve(this.root, key);
    if (!full.startsWith(this.root + sep)) return undefined;
    try {
      return await readFile(full);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR') return undefined;
      throw error;
    }
  }
}

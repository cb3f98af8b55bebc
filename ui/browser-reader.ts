/**
 * ObjectReaders for the auditor's page: over the files the auditor picked (a folder input or a drop),
 * read lazily and never past the bound the verifier asks for; and over the folder that `auditseal ui DIR`
 * serves on 127.0.0.1, where the CLI's FolderReader enforces the hostile-folder rules on the Node side.
 */
import {
  DEFAULT_MAX_READ_BYTES,
  NotRegularObjectError,
  type ObjectKind,
  type ObjectReader,
} from '../shared/verify/object-reader.ts';
import { type BlobReads, readInThread } from './read-protocol.ts';

/** A picked file and its object key (its path below the folder). */
export interface PickedFile {
  readonly key: string;
  readonly file: Blob;
}

/** Object keys from picked paths: `folder/digests/…` loses its first segment when every path shares it. */
export function keysFromPaths(paths: readonly string[]): string[] {
  const first = paths[0]?.split('/')[0];
  const shared = first !== undefined && paths.every((p) => p.startsWith(`${first}/`));
  return paths.map((p) => (shared ? p.slice(first!.length + 1) : p));
}

export class PickedFilesReader implements ObjectReader {
  readonly #files = new Map<string, Blob>();
  readonly #readBlob: BlobReads;

  /** `readBlob`: how a file's bytes are read (the page's verifier passes its read worker's). */
  constructor(files: readonly PickedFile[], readBlob: BlobReads = readInThread) {
    for (const f of files) this.#files.set(f.key, f.file);
    this.#readBlob = readBlob;
  }

  async list(prefix: string): Promise<string[]> {
    return [...this.#files.keys()].filter((k) => k.startsWith(prefix));
  }

  async read(key: string, maxBytes = DEFAULT_MAX_READ_BYTES): Promise<Buffer | undefined> {
    const file = this.#files.get(key);
    if (!file) return undefined;
    return Buffer.from(await this.#readBlob(file, maxBytes));
  }
}

/** The folder served by `auditseal ui DIR` (cli/commands/ui.ts): list and bounded reads over HTTP. */
export class ServedFolderReader implements ObjectReader {
  constructor(private readonly base: string) {}

  async list(prefix: string): Promise<string[]> {
    const res = await fetch(`${this.base}list?prefix=${encodeURIComponent(prefix)}`);
    if (!res.ok) throw new Error(`listing ${prefix} failed: HTTP ${res.status}`);
    return (await res.json()) as string[];
  }

  async read(key: string, maxBytes = DEFAULT_MAX_READ_BYTES): Promise<Buffer | undefined> {
    const res = await fetch(`${this.base}object?key=${encodeURIComponent(key)}&max=${maxBytes}`);
    if (res.status === 404) return undefined;
    if (res.status === 409) {
      const body = (await res.json()) as { kind: ObjectKind };
      throw new NotRegularObjectError(key, body.kind);
    }
    if (!res.ok) throw new Error(`reading ${key} failed: HTTP ${res.status}`);
    return Buffer.from(await res.arrayBuffer());
  }
}

/**
 * Read-only access to the objects of a verifiable folder, by object key. The folder is hostile input
 * (docs/FORMAT.md §9.1): the folder reader opens regular files only, never follows a symbolic link (not
 * for the object, not for a folder on its way), never blocks on a FIFO or a device, and reads at most the
 * number of bytes its caller asks for, whatever size the file claims.
 */
import { constants } from 'node:buffer';
import { constants as fs, type Stats } from 'node:fs';
import { lstat, open, readdir, realpath } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';

/** Read limit when a caller gives none: more than any object of the format needs (§9.1). */
export const DEFAULT_MAX_READ_BYTES = 64 * 1024 * 1024;

/** Read-only access to a verifiable folder or bucket copy, by object key. */
export interface ObjectReader {
  /**
   * Every object below a prefix such as `digests/`, in no particular order: regular files and anything
   * else that is not a folder (links, FIFOs, devices, sockets), so that the verifier can name them.
   */
  list(prefix: string): Promise<string[]>;
  /**
   * At most `maxBytes` bytes of an object (default DEFAULT_MAX_READ_BYTES), or undefined if absent.
   * A caller that must know whether an object is longer than N bytes asks for N + 1.
   * Throws NotRegularObjectError when the object exists but is not a regular file.
   */
  read(key: string, maxBytes?: number): Promise<Buffer | undefined>;
}

/** What a non-regular object is, in words, for findings. */
export type ObjectKind = 'symbolic link' | 'FIFO' | 'socket' | 'device' | 'folder' | 'special file';

/** An object exists but is not a regular file; it was not opened (or was closed unread). */
export class NotRegularObjectError extends Error {
  override readonly name = 'NotRegularObjectError';
  constructor(
    readonly key: string,
    readonly kind: ObjectKind | 'path through a symbolic link',
  ) {
    super(`${key} is a ${kind}, not a regular file`);
  }
}

/** An object is larger than a verifier can hold in memory (Buffer's limit). */
export class ObjectTooLargeError extends Error {
  override readonly name = 'ObjectTooLargeError';
  readonly code = 'EFBIG';
  constructor(
    readonly key: string,
    readonly bytes: number,
  ) {
    super(`${key} would need ${bytes} bytes in memory, more than one buffer holds (${constants.MAX_LENGTH})`);
  }
}

function kindOf(stats: Stats): ObjectKind {
  if (stats.isSymbolicLink()) return 'symbolic link';
  if (stats.isFIFO()) return 'FIFO';
  if (stats.isSocket()) return 'socket';
  if (stats.isBlockDevice() || stats.isCharacterDevice()) return 'device';
  if (stats.isDirectory()) return 'folder';
  return 'special file';
}

const ABSENT = new Set(['ENOENT', 'ENOTDIR']);

function isAbsent(error: unknown): boolean {
  return ABSENT.has((error as NodeJS.ErrnoException).code ?? '');
}

/** ObjectReader over a local folder (`DIR/digests/…`, `DIR/archives/…`). */
export class FolderReader implements ObjectReader {
  readonly root: string;
  #realRoot: Promise<string> | undefined;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async list(prefix: string): Promise<string[]> {
    const base = join(this.root, prefix);
    let entries: string[];
    try {
      // Dirents carry the lstat type: a link to a folder is listed as a link and is not descended into.
      entries = (await readdir(base, { recursive: true, withFileTypes: true }))
        .filter((e) => !e.isDirectory())
        .map((e) => join(e.parentPath, e.name));
    } catch (error) {
      if (isAbsent(error)) return [];
      throw error;
    }
    return entries.map((p) => relative(this.root, p).split(sep).join('/'));
  }

  async read(key: string, maxBytes = DEFAULT_MAX_READ_BYTES): Promise<Buffer | undefined> {
    if (key.includes('\0')) return undefined;
    const full = resolve(this.root, key);
    if (!full.startsWith(this.root + sep)) return undefined;
    if (!(await this.#reachableWithoutLinks(full))) {
      throw new NotRegularObjectError(key, 'path through a symbolic link');
    }
    let before: Stats;
    try {
      before = await lstat(full);
    } catch (error) {
      if (isAbsent(error)) return undefined;
      throw error;
    }
    // Checked before open: opening a FIFO or a device can block or have side effects.
    if (!before.isFile()) throw new NotRegularObjectError(key, kindOf(before));
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(full, fs.O_RDONLY | fs.O_NOFOLLOW | fs.O_NONBLOCK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') throw new NotRegularObjectError(key, 'symbolic link');
      if (code && ABSENT.has(code)) return undefined;
      throw error;
    }
    try {
      const stats = await handle.stat();
      // Swapped between lstat and open: what was opened is not the file that was checked.
      if (!stats.isFile() || stats.ino !== before.ino || stats.dev !== before.dev) {
        throw new NotRegularObjectError(key, stats.isFile() ? 'special file' : kindOf(stats));
      }
      // One byte beyond the size tells a caller the file grew; never more than asked.
      const capacity = Math.max(0, Math.min(maxBytes, stats.size + 1));
      if (capacity > constants.MAX_LENGTH) throw new ObjectTooLargeError(key, capacity);
      const buffer = Buffer.allocUnsafe(capacity);
      let filled = 0;
      while (filled < capacity) {
        const { bytesRead } = await handle.read(buffer, filled, capacity - filled, filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return buffer.subarray(0, filled);
    } finally {
      await handle.close();
    }
  }

  /** True when every folder between the root and `full` is a real folder, not a link to one. */
  async #reachableWithoutLinks(full: string): Promise<boolean> {
    this.#realRoot ??= realpath(this.root);
    const parent = full.slice(0, full.lastIndexOf(sep));
    let realParent: string;
    try {
      realParent = await realpath(parent);
    } catch (error) {
      // A missing folder: the object is simply absent, which read() then reports.
      if (isAbsent(error)) return true;
      throw error;
    }
    return realParent === join(await this.#realRoot, relative(this.root, parent));
  }
}

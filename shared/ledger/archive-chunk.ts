/**
 * Archive chunks: a period's events are cut into chunks of `chunkLeaves` events (a power of two), so
 * every full chunk is a complete subtree of the period's RFC 6962 tree and chunk roots combine into the
 * period root. Each chunk is two objects:
 *   - `.jsonl`: each event's canonical bytes followed by one 0x0A byte;
 *   - `.idx`:   per event, 64 bytes: the leaf hash, then SHA-256 of the UTF-8 event id. The index lets a
 *               verifier say *which* event was modified, deleted, inserted, duplicated or reordered.
 */
import { HASH_SIZE, hashLeaf, rootFromLeafHashes, sha256 } from '../merkle/rfc6962.ts';
import { sha256Binary } from '../platform/crypto.ts';

/** Bytes per index entry: leaf hash (32) + SHA-256 of the event id (32). */
export const INDEX_ENTRY_SIZE = 64;
/** Default events per chunk: 2^14. */
export const DEFAULT_CHUNK_LEAVES = 16_384;
const NEWLINE = 0x0a;

/** One event ready to seal: its id and its stored canonical bytes. */
export interface SealableEvent {
  readonly id: string;
  readonly bytes: Uint8Array;
}

/** A finished chunk: the two object bodies and what the digest records about them. */
export interface BuiltChunk {
  readonly archive: Buffer;
  readonly index: Buffer;
  readonly count: number;
  readonly root: Buffer;
  readonly leafHashes: Buffer[];
}

/** SHA-256 of the UTF-8 bytes of an event id, as stored in the index. */
export function eventIdHash(id: string): Buffer {
  // A string is hashed as its UTF-8 bytes, exactly as `update(id, 'utf8')` would; the latin1 ('binary')
  // round trip is lossless and lands the 32 bytes in Buffer's pool instead of a separate allocation.
  return Buffer.from(sha256Binary(id), 'binary');
}

/**
 * Accumulates events into one chunk. Each event's bytes are copied into the archive body as they are
 * added, and its two hashes into the index body, so the builder holds no reference to the events it was
 * given: they can be collected young, while the chunk fills. The bodies grow once and are reused by the
 * next chunk after `reset()`, so a period of any length allocates them about once (sealing memory is one
 * chunk, FORMAT.md §7, docs/BENCHMARKS.md "Sealing memory").
 */
export class ChunkBuilder {
  private archive: Buffer;
  private index: Buffer;
  private bytes = 0;
  private entries = 0;

  /** `expectedLeaves`: events per chunk, to size the index body once (it grows if needed). */
  constructor(expectedLeaves = 64) {
    this.archive = Buffer.allocUnsafe(64 * 1024);
    this.index = Buffer.allocUnsafe(Math.max(1, expectedLeaves) * INDEX_ENTRY_SIZE);
  }

  get count(): number {
    return this.entries;
  }

  /**
   * Adds an event; returns its leaf hash (`leafHash` when the caller already computed it from these very
   * bytes; `idHash` likewise, SHA-256 of the UTF-8 id). Rejects bytes that would break the line framing.
   */
  add(event: SealableEvent, leafHash?: Uint8Array, idHash?: Uint8Array): Uint8Array {
    if (event.bytes.includes(NEWLINE)) {
      throw new RangeError(`event ${event.id} contains a raw newline: not canonical JSON`);
    }
    const leaf = leafHash ?? hashLeaf(event.bytes);
    if (leaf.length !== HASH_SIZE) throw new RangeError('a leaf hash is 32 bytes');
    if (idHash !== undefined && idHash.length !== HASH_SIZE) throw new RangeError('an id hash is 32 bytes');
    const line = event.bytes.length + 1;
    if (this.bytes + line > this.archive.length)
      this.archive = grown(this.archive, this.bytes, this.bytes + line);
    this.archive.set(event.bytes, this.bytes);
    this.archive[this.bytes + event.bytes.length] = NEWLINE;
    this.bytes += line;
    const at = this.entries * INDEX_ENTRY_SIZE;
    if (at + INDEX_ENTRY_SIZE > this.index.length) this.index = grown(this.index, at, at + INDEX_ENTRY_SIZE);
    this.index.set(leaf, at);
    if (idHash === undefined) this.index.write(sha256Binary(event.id), at + HASH_SIZE, HASH_SIZE, 'latin1');
    else this.index.set(idHash, at + HASH_SIZE);
    this.entries++;
    return leaf;
  }

  /**
   * Produces the chunk's object bodies and root. The bodies and leaf hashes are views of the builder's
   * buffers: valid until the next `add` or `reset`.
   */
  build(): BuiltChunk {
    const index = this.index.subarray(0, this.entries * INDEX_ENTRY_SIZE);
    const leafHashes: Buffer[] = new Array(this.entries);
    for (let i = 0; i < this.entries; i++) {
      leafHashes[i] = index.subarray(i * INDEX_ENTRY_SIZE, i * INDEX_ENTRY_SIZE + HASH_SIZE);
    }
    return {
      archive: this.archive.subarray(0, this.bytes),
      index,
      count: this.entries,
      root: rootFromLeafHashes(leafHashes),
      leafHashes,
    };
  }

  /** The id hash of entry `i` of the chunk being built (a view, valid until the next `add` or `reset`). */
  idHashAt(i: number): Buffer {
    if (!Number.isInteger(i) || i < 0 || i >= this.entries)
      throw new RangeError(`no entry ${i} in this chunk`);
    const at = i * INDEX_ENTRY_SIZE + HASH_SIZE;
    return this.index.subarray(at, at + HASH_SIZE);
  }

  /** Empties the builder for the next chunk, keeping its buffers. */
  reset(): void {
    this.bytes = 0;
    this.entries = 0;
  }
}

/** Growth step above which a body grows by a fixed amount, so its spare room stays under this. */
const MAX_GROWTH = 4 * 1024 * 1024;

/** A copy of `buffer`'s first `used` bytes in a buffer of at least `needed` bytes (doubling, then +4 MiB steps). */
function grown(buffer: Buffer, used: number, needed: number): Buffer {
  const next = Buffer.allocUnsafe(Math.max(needed, buffer.length + Math.min(buffer.length, MAX_GROWTH)));
  buffer.copy(next, 0, 0, used);
  return next;
}

/** SHA-256 helper re-exported for callers that hash whole objects. */
export { sha256 };

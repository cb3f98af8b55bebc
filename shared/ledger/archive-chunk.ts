/**
 * Archive chunks: a period's events are cut into chunks of `chunkLeaves` events (a power of two), so
 * every full chunk is a complete subtree of the period's RFC 6962 tree and chunk roots combine into the
 * period root. Each chunk is two objects:
 *   - `.jsonl`: each event's canonical bytes followed by one 0x0A byte;
 *   - `.idx`:   per event, 64 bytes: the leaf hash, then SHA-256 of the UTF-8 event id. The index lets a
 *               verifier say *which* event was modified, deleted, inserted, duplicated or reordered.
 */
import { hashLeaf, rootFromLeafHashes, sha256 } from '../merkle/rfc6962.ts';
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

/** Accumulates events into one chunk. */
export class ChunkBuilder {
  private readonly lines: Uint8Array[] = [];
  private readonly entries: Buffer[] = [];
  private readonly leafHashes: Buffer[] = [];
  private bytes = 0;

  get count(): number {
    return this.leafHashes.length;
  }

  /**
   * Adds an event; returns its leaf hash (`leafHash` when the caller already computed it from these very
   * bytes). Rejects bytes that would break the line framing.
   */
  add(event: SealableEvent, leafHash?: Buffer): Buffer {
    if (event.bytes.includes(NEWLINE)) {
      throw new RangeError(`event ${event.id} contains a raw newline: not canonical JSON`);
    }
    const leaf = leafHash ?? hashLeaf(event.bytes);
    this.leafHashes.push(leaf);
    this.lines.push(event.bytes);
    this.entries.push(leaf, eventIdHash(event.id));
    this.bytes += event.bytes.length + 1;
    return leaf;
  }

  /** Produces the chunk's object bodies and root. */
  build(): BuiltChunk {
    const archive = Buffer.allocUnsafe(this.bytes);
    let at = 0;
    for (const line of this.lines) {
      archive.set(line, at);
      at += line.length;
      archive[at++] = NEWLINE;
    }
    return {
      archive,
      index: Buffer.concat(this.entries),
      count: this.count,
      // Computed once here, over the leaf hashes the chunk keeps anyway.
      root: rootFromLeafHashes(this.leafHashes),
      leafHashes: this.leafHashes,
    };
  }
}

/** SHA-256 helper re-exported for callers that hash whole objects. */
export { sha256 };

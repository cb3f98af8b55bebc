/**
 * A compact set of event ids for one period, to find an id sealed twice (G6) in memory proportional to
 * the period: each id is kept as the first 64 bits of SHA-256(UTF-8 id), two 32-bit words, in open-addressing
 * tables (not a JS string each). Two different ids share 64 bits with probability about n² / 2^65: for 36
 * million ids, 3.5 × 10^-5; such a collision can only ever report a duplicate that is not one, never hide a
 * real one.
 *
 * The ids are spread over 256 tables by the first byte of their hash, each grown by half when it would pass
 * a load of 0.8: 10 to 15 bytes per id (about 11 MiB at a million ids), and growing one table copies 1/256
 * of the set, where one table doubling held the old and the new table at once (24 MiB at a million ids).
 */
import { sha256Binary } from '../platform/crypto.ts';

const TABLES = 256;
/** Slots of a table before its first growth. */
const INITIAL_SLOTS = 32;
/** A table grows when it would hold more than MAX_LOAD_NUM / MAX_LOAD_DEN of its slots. */
const MAX_LOAD_NUM = 4;
const MAX_LOAD_DEN = 5;

export class EventIdSet {
  /** Per table: two words per slot (high, low); a zero low word marks an empty slot. */
  readonly #tables: Uint32Array[] = Array.from({ length: TABLES }, () => new Uint32Array(2 * INITIAL_SLOTS));
  readonly #used = new Uint32Array(TABLES);
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Bytes the tables take (their backing stores). */
  get byteLength(): number {
    let bytes = 0;
    for (const table of this.#tables) bytes += table.byteLength;
    return bytes;
  }

  /** Adds `id`; returns false if it (or an id with the same 64-bit hash) was already there. */
  add(id: string): boolean {
    return this.addDigest(Buffer.from(sha256Binary(id), 'binary'));
  }

  /**
   * Adds the id whose SHA-256 (of its UTF-8 bytes) is `digest[offset…offset+32)`, for callers that already
   * hold it; returns false if it was already there.
   */
  addDigest(digest: Uint8Array, offset = 0): boolean {
    const hi =
      ((digest[offset]! << 24) |
        (digest[offset + 1]! << 16) |
        (digest[offset + 2]! << 8) |
        digest[offset + 3]!) >>>
      0;
    // A zero word pair marks an empty slot: keep the low word non-zero. Both words are compared as the
    // unsigned values the table holds (a signed `| 1` would never equal a stored word with its top bit set).
    const lo =
      ((digest[offset + 4]! << 24) |
        (digest[offset + 5]! << 16) |
        (digest[offset + 6]! << 8) |
        digest[offset + 7]! |
        1) >>>
      0;
    const t = hi >>> 24;
    let table = this.#tables[t]!;
    const used = this.#used[t]!;
    if ((used + 1) * MAX_LOAD_DEN > (table.length / 2) * MAX_LOAD_NUM) table = this.#grow(t);
    if (!insert(table, hi, lo)) return false;
    this.#used[t] = used + 1;
    this.#size++;
    return true;
  }

  #grow(t: number): Uint32Array {
    const old = this.#tables[t]!;
    const slots = old.length / 2;
    const next = new Uint32Array(2 * (slots + (slots >>> 1)));
    for (let at = 0; at < old.length; at += 2) {
      if (old[at + 1] !== 0) insert(next, old[at]!, old[at + 1]!);
    }
    this.#tables[t] = next;
    return next;
  }
}

/** Inserts (hi, lo) by linear probing; false if it is already there. The table has a free slot. */
function insert(table: Uint32Array, hi: number, lo: number): boolean {
  const slots = table.length / 2;
  let slot = ((hi ^ Math.imul(lo, 0x9e3779b1)) >>> 0) % slots;
  for (;;) {
    const at = slot * 2;
    if (table[at + 1] === 0) {
      table[at] = hi;
      table[at + 1] = lo;
      return true;
    }
    if (table[at] === hi && table[at + 1] === lo) return false;
    slot = slot + 1 === slots ? 0 : slot + 1;
  }
}

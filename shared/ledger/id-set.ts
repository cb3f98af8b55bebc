/**
 * A compact set of event ids for one period, to find an id sealed twice (G6) in memory proportional to
 * the period: each id is kept as the first 64 bits of SHA-256(UTF-8 id) in an open-addressing table of
 * 32-bit words (16 bytes per id at most, not a JS string each). Two different ids share 64 bits with
 * probability about n² / 2^65: for 36 million ids, 3.5 × 10^-5; such a collision can only ever report a
 * duplicate that is not one, never hide a real one.
 */
import { sha256Binary } from '../platform/crypto.ts';

export class EventIdSet {
  #table = new Uint32Array(2 * 1024);
  #size = 0;

  get size(): number {
    return this.#size;
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
    if ((this.#size + 1) * 2 > this.#table.length / 2) this.#grow();
    return this.#insert(this.#table, hi, lo);
  }

  #insert(table: Uint32Array, hi: number, lo: number): boolean {
    const slots = table.length / 2;
    let slot = (hi ^ Math.imul(lo, 0x9e3779b1)) >>> 0;
    for (;;) {
      slot %= slots;
      const at = slot * 2;
      if (table[at + 1] === 0) {
        table[at] = hi;
        table[at + 1] = lo;
        if (table === this.#table) this.#size++;
        return true;
      }
      if (table[at] === hi && table[at + 1] === lo) return false;
      slot++;
    }
  }

  #grow(): void {
    const old = this.#table;
    const next = new Uint32Array(old.length * 2);
    for (let at = 0; at < old.length; at += 2) {
      if (old[at + 1] !== 0) {
        const target = next;
        const slots = target.length / 2;
        let slot = (old[at]! ^ Math.imul(old[at + 1]!, 0x9e3779b1)) >>> 0;
        for (;;) {
          slot %= slots;
          if (target[slot * 2 + 1] === 0) {
            target[slot * 2] = old[at]!;
            target[slot * 2 + 1] = old[at + 1]!;
            break;
          }
          slot++;
        }
      }
    }
    this.#table = next;
  }
}

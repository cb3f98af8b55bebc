/**
 * Compact sets of event ids for one period. `SealedIdTable` (below) is used by the sealer and by the
 * verifier's period-wide check: a fingerprint match there is confirmed with the full id hash.
 * `EventIdSet` finds an id seen twice (G6) in memory proportional to the ids: each id is kept as the first
 * 64 bits of SHA-256(UTF-8 id), two 32-bit words, in open-addressing tables (not a JS string each). Two
 * different ids share 64 bits with probability about n² / 2^65: for 36 million ids, 3.5 × 10^-5; such a
 * collision can only ever report a duplicate that is not one, never hide a real one, so a caller that
 * reports one confirms it first (the verifier's per-batch check does, with an exact set).
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

/**
 * 256 open-addressing tables of word pairs, the storage both sets below share: two 32-bit words per slot,
 * the first a fingerprint of hash bytes and, by its low bits (`start`), the start of its linear probe, the
 * second never zero in an entry (a zero second word marks an empty slot). A table grows by half when one
 * more entry would pass a load of 0.8, its entries placed again from their first words.
 */
class PairTables {
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

  /** Table `t`, grown first if one more entry would pass the maximum load. */
  tableFor(t: number): Uint32Array {
    const table = this.#tables[t]!;
    if ((this.#used[t]! + 1) * MAX_LOAD_DEN <= (table.length / 2) * MAX_LOAD_NUM) return table;
    const slots = table.length / 2;
    const next = new Uint32Array(2 * (slots + (slots >>> 1)));
    for (let at = 0; at < table.length; at += 2) {
      if (table[at + 1] !== 0) place(next, table[at]!, table[at + 1]!);
    }
    this.#tables[t] = next;
    return next;
  }

  /** Counts an entry just written into `tableFor(t)`. */
  added(t: number): void {
    this.#used[t] = this.#used[t]! + 1;
    this.#size++;
  }
}

export class EventIdSet {
  /** Each id's first word (hash bytes 0–3) and second word (bytes 4–7, its low bit set so it is never zero). */
  readonly #pairs = new PairTables();

  get size(): number {
    return this.#pairs.size;
  }

  /** Bytes the tables take (their backing stores). */
  get byteLength(): number {
    return this.#pairs.byteLength;
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
    const hi = word(digest, offset);
    // A zero second word marks an empty slot: keep it non-zero. Both words are compared as the unsigned
    // values the table holds (a signed `| 1` would never equal a stored word with its top bit set).
    const lo = (word(digest, offset + 4) | 1) >>> 0;
    const t = digest[offset]!;
    const table = this.#pairs.tableFor(t);
    const slots = table.length / 2;
    let slot = start(hi, slots);
    for (;;) {
      const at = slot * 2;
      if (table[at + 1] === 0) break;
      if (table[at] === hi && table[at + 1] === lo) return false;
      slot = slot + 1 === slots ? 0 : slot + 1;
    }
    table[slot * 2] = hi;
    table[slot * 2 + 1] = lo;
    this.#pairs.added(t);
    return true;
  }
}

/** No entry shares the fingerprint: the id was added (`SealedIdTable.tryAdd`). */
const NO_CANDIDATES: readonly number[] = Object.freeze([]);

/** The largest sealed index a `SealedIdTable` entry can hold (a slot stores index + 1 in 32 bits). */
export const MAX_SEALED_INDEX = 0xffff_fffe;

/**
 * The sealer's set of a period's sealed ids (G6: an id is sealed at most once), which never takes two
 * different ids for one (G6/G1: nothing acknowledged goes unsealed because of a hash collision).
 *
 * Each entry is a 40-bit fingerprint of the id's SHA-256 (the first byte chooses one of 256 tables, the
 * next four are stored) and the id's sealed index (its position in the period tree). A fingerprint match
 * only names candidates: the caller reads each candidate's full SHA-256 back at its sealed index (the
 * chunk index holds it, FORMAT.md §5) and compares all 32 bytes before it calls the id a duplicate.
 * Two different ids share a fingerprint with probability about 1 / 2^40 per pair, so about n² / 2^41
 * lookups per period are for nothing (0.45 at a million ids) and cost one read each; a repeated id costs
 * one read too.
 *
 * The verifier (`shared/verify/verify-provenance.ts`) stores, in place of the sealed index, the line of
 * the batch record that placed the id, and reads that record back to compare full hashes.
 *
 * Memory is that of `EventIdSet`: two 32-bit words per slot (fingerprint, sealed index + 1; a zero second
 * word marks an empty slot), 256 tables grown by half at a load of 0.8, 10 to 15 bytes per id.
 */
export class SealedIdTable {
  /** Each id's fingerprint (hash bytes 1–4; byte 0 chose the table) and its sealed index + 1. */
  readonly #pairs = new PairTables();

  get size(): number {
    return this.#pairs.size;
  }

  /** Bytes the tables take (their backing stores). */
  get byteLength(): number {
    return this.#pairs.byteLength;
  }

  /**
   * Adds the id whose SHA-256 is `digest[offset…offset+32)`, sealed at `index`, when no entry shares its
   * fingerprint, and returns an empty list. Otherwise adds nothing and returns the sealed indices of the
   * entries that share it, in no particular order: the caller compares their full hashes, and adds the id
   * with `addConfirmed` if none is its own.
   */
  tryAdd(digest: Uint8Array, offset: number, index: number): readonly number[] {
    const t = digest[offset]!;
    const fp = word(digest, offset + 1);
    const table = this.#pairs.tableFor(t);
    const slots = table.length / 2;
    let slot = start(fp, slots);
    let candidates: number[] | undefined;
    for (;;) {
      const at = slot * 2;
      if (table[at + 1] === 0) break;
      if (table[at] === fp) {
        candidates ??= [];
        candidates.push(table[at + 1]! - 1);
      }
      slot = slot + 1 === slots ? 0 : slot + 1;
    }
    if (candidates) return candidates;
    checkIndex(index);
    table[slot * 2] = fp;
    table[slot * 2 + 1] = index + 1;
    this.#pairs.added(t);
    return NO_CANDIDATES;
  }

  /** Adds an id that shares its fingerprint with entries the caller has compared in full and found different. */
  addConfirmed(digest: Uint8Array, offset: number, index: number): void {
    checkIndex(index);
    const t = digest[offset]!;
    place(this.#pairs.tableFor(t), word(digest, offset + 1), index + 1);
    this.#pairs.added(t);
  }
}

function checkIndex(index: number): void {
  if (!Number.isInteger(index) || index < 0 || index > MAX_SEALED_INDEX) {
    throw new RangeError(`sealed index ${index} is out of range`);
  }
}

/** The unsigned 32-bit big-endian word at `offset`. */
function word(bytes: Uint8Array, offset: number): number {
  return (
    ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>>
    0
  );
}

/**
 * First slot to probe for fingerprint `fp`. It must use the low bits: an EventIdSet's first word starts
 * with the byte that chose its table, so its top bits are the same for every entry of a table.
 */
function start(fp: number, slots: number): number {
  return fp % slots;
}

/** Stores (fp, value) in the first free slot from fp's start (linear probing). The table has a free slot. */
function place(table: Uint32Array, fp: number, value: number): void {
  const slots = table.length / 2;
  let slot = start(fp, slots);
  while (table[slot * 2 + 1] !== 0) slot = slot + 1 === slots ? 0 : slot + 1;
  table[slot * 2] = fp;
  table[slot * 2 + 1] = value;
}

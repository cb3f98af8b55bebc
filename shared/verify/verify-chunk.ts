/**
 * Verifies one archive chunk against its digest entry, and when it does not match, diagnoses which
 * events were modified, deleted, inserted, duplicated or reordered by comparing with the chunk's index.
 *
 * The fast path hashes each line in place: the newline that ends the previous line is briefly replaced
 * by the 0x00 leaf prefix, so no bytes are copied before hashing. Digests are taken as 'binary' (latin1)
 * strings and packed into one buffer per chunk, which avoids one separately allocated Buffer per event.
 * The index is only parsed when the archive does not match, since a clean chunk never needs it.
 */
import { eventIdHash, INDEX_ENTRY_SIZE } from '../ledger/archive-chunk.ts';
import type { ArchiveRef } from '../ledger/formats.ts';
import { fromHex, toHex } from '../ledger/hex.ts';
import {
  HASH_SIZE,
  hashLeaf,
  rootFromLeafHashes,
  rootFromPackedLeafHashes,
  sha256,
} from '../merkle/rfc6962.ts';
import { sha256Into } from '../platform/crypto.ts';
import type { Finding } from './findings.ts';

const NEWLINE = 0x0a;

/** Leaf hashes of every complete line, and whether bytes follow the last newline. */
export interface HashedLines {
  readonly leaves: Buffer[];
  /** The same leaf hashes packed 32 bytes apiece (`leaves` are views into it). */
  readonly packed: Buffer;
  /** Start offset of each line in the data. */
  readonly starts: number[];
  /** Offset just after the last complete line. */
  readonly end: number;
}

/** Hashes each newline-terminated line of `data` as an RFC 6962 leaf. Mutates and restores `data`. */
export function hashLines(data: Buffer): HashedLines {
  const starts: number[] = [];
  // Every line takes at least its newline, so 1 leaf per 256 bytes is a first guess that grows by doubling.
  let packed = Buffer.allocUnsafe(Math.max(64, data.length >> 8) * HASH_SIZE);
  let count = 0;
  let start = 0;
  while (start < data.length) {
    const nl = data.indexOf(NEWLINE, start);
    if (nl === -1) break;
    starts.push(start);
    if ((count + 1) * HASH_SIZE > packed.length) {
      const grown = Buffer.allocUnsafe(packed.length * 2);
      packed.copy(grown, 0, 0, count * HASH_SIZE);
      packed = grown;
    }
    if (start === 0) {
      hashLeaf(data.subarray(0, nl)).copy(packed, 0);
    } else {
      data[start - 1] = 0x00;
      sha256Into(data.subarray(start - 1, nl), packed, count * HASH_SIZE);
      data[start - 1] = NEWLINE;
    }
    count++;
    start = nl + 1;
  }
  const leaves = new Array<Buffer>(count);
  for (let i = 0; i < count; i++) leaves[i] = packed.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE);
  return { leaves, packed: packed.subarray(0, count * HASH_SIZE), starts, end: start };
}

/** Root of a chunk's leaves. */
export function chunkRoot(leaves: readonly Buffer[]): Buffer {
  return rootFromLeafHashes(leaves);
}

/** Root of the lines `hashLines` hashed: `chunkRoot(lines.leaves)`, from the packed hashes. */
function linesRoot(lines: HashedLines): Buffer {
  return rootFromPackedLeafHashes(lines.packed, lines.leaves.length);
}

export interface ChunkResult {
  readonly findings: Finding[];
  /** The leaf hashes the chunk commits to, when they could be established (clean chunk or intact index). */
  readonly committedLeaves?: Buffer[];
  /** True when archive and index both match the digest exactly. */
  readonly clean: boolean;
}

interface IndexEntry {
  readonly leaf: Buffer;
  readonly idHash: string;
}

function parseIndex(index: Buffer): IndexEntry[] | undefined {
  if (index.length % INDEX_ENTRY_SIZE !== 0) return undefined;
  const out: IndexEntry[] = [];
  for (let at = 0; at < index.length; at += INDEX_ENTRY_SIZE) {
    out.push({ leaf: index.subarray(at, at + 32), idHash: toHex(index.subarray(at + 32, at + 64)) });
  }
  return out;
}

/**
 * Verifies one chunk. `archive`/`index` are undefined when the objects are missing. `archiveCut` says
 * that `archive` holds only the first bytes of a longer object (the reader stopped at its bound): the
 * chunk is then not diagnosed event by event, since events past the cut are unknown.
 */
export function verifyChunk(
  ref: ArchiveRef,
  archive: Buffer | undefined,
  index: Buffer | undefined,
  archiveCut = false,
): ChunkResult {
  const findings: Finding[] = [];
  // The intact index, parsed on first use: a clean chunk never needs it.
  let intactIndex: Buffer | undefined;
  let parsed: IndexEntry[] | undefined;
  const indexEntries = (): IndexEntry[] | undefined => {
    if (parsed === undefined && intactIndex !== undefined) parsed = parseIndex(intactIndex);
    return parsed;
  };
  if (index === undefined) {
    findings.push({ code: 'INDEX_MISSING', object: ref.indexKey, message: 'index object is missing' });
  } else {
    const digest = toHex(sha256(index));
    if (digest !== ref.indexSha256) {
      findings.push({
        code: 'INDEX_MODIFIED',
        object: ref.indexKey,
        message: 'index does not match its SHA-256 in the digest',
        evidence: { expected: ref.indexSha256, computed: digest },
      });
    } else {
      intactIndex = index;
    }
  }
  if (archive === undefined) {
    const entries = indexEntries();
    findings.push({
      code: 'ARCHIVE_MISSING',
      object: ref.key,
      message: `archive chunk of ${ref.count} events is missing`,
    });
    return { findings, clean: false, ...(entries ? { committedLeaves: entries.map((e) => e.leaf) } : {}) };
  }

  const lines = hashLines(archive);
  const root = toHex(linesRoot(lines));
  const exact =
    archive.length === ref.size && lines.end === archive.length && lines.leaves.length === ref.count;
  if (exact && root === ref.rootHash) {
    return { findings, clean: findings.length === 0, committedLeaves: lines.leaves };
  }

  // Trailing bytes after an intact, committed prefix.
  if (archive.length > ref.size) {
    const prefix = hashLines(Buffer.from(archive.subarray(0, ref.size)));
    if (
      prefix.end === ref.size &&
      prefix.leaves.length === ref.count &&
      toHex(linesRoot(prefix)) === ref.rootHash
    ) {
      // The folder verifier reads one byte past the committed size, so the length is a lower bound.
      findings.push({
        code: 'ARCHIVE_TRAILING_DATA',
        object: ref.key,
        message: `more bytes follow the ${ref.count} sealed events (${ref.size} bytes)`,
        evidence: { expected: String(ref.size), computed: `at least ${archive.length}` },
      });
      return { findings, clean: false, committedLeaves: prefix.leaves };
    }
  }

  if (archiveCut) {
    const entries = indexEntries();
    findings.push({
      code: 'ROOT_MISMATCH',
      object: ref.key,
      message: `the chunk is much longer than its ${ref.size} committed bytes and does not start with its sealed events; only its first ${archive.length} bytes were read, so its events are not named one by one`,
      evidence: { expected: String(ref.size), computed: `more than ${archive.length}` },
    });
    return { findings, clean: false, ...(entries ? { committedLeaves: entries.map((e) => e.leaf) } : {}) };
  }

  const entries = indexEntries();
  const committed = entries?.map((e) => e.leaf);
  // Truncation: what is there is an exact prefix of what was sealed.
  if (archive.length < ref.size && committed && lines.leaves.every((leaf, i) => committed[i]?.equals(leaf))) {
    findings.push({
      code: 'ARCHIVE_TRUNCATED',
      object: ref.key,
      message: `archive ends after ${lines.leaves.length} of ${ref.count} events (${archive.length} of ${ref.size} bytes)`,
      evidence: { expected: String(ref.size), computed: String(archive.length) },
    });
    return { findings, clean: false, committedLeaves: committed };
  }

  if (!entries) {
    findings.push({
      code: 'ROOT_MISMATCH',
      object: ref.key,
      message:
        'archive chunk does not reproduce its Merkle root, and no intact index is available to say which events differ',
      evidence: { expected: ref.rootHash, computed: root },
    });
    return { findings, clean: false };
  }
  // An intact index must itself reproduce the root, or the digest is inconsistent.
  if (toHex(chunkRoot(entries.map((e) => e.leaf))) !== ref.rootHash || entries.length !== ref.count) {
    findings.push({
      code: 'DIGEST_MALFORMED',
      object: ref.indexKey,
      message: 'index matches its hash but not the chunk root: the digest is inconsistent',
    });
    return { findings, clean: false };
  }
  findings.push(...diagnose(ref, archive, lines, entries));
  if (lines.end !== archive.length) {
    findings.push({
      code: 'ARCHIVE_MALFORMED',
      object: ref.key,
      message: `${archive.length - lines.end} bytes after the last newline`,
    });
  }
  return { findings, clean: false, committedLeaves: entries.map((e) => e.leaf) };
}

interface Observed {
  readonly leaf: Buffer;
  readonly idHash?: string;
  readonly id?: string;
  readonly line: number;
}

function eventIdOf(line: Buffer): string | undefined {
  try {
    const value: unknown = JSON.parse(line.toString('utf8'));
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const id = (value as Record<string, unknown>)['id'];
      if (typeof id === 'string') return id;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** Compares observed events with the committed index and names each defect. */
function diagnose(ref: ArchiveRef, archive: Buffer, lines: HashedLines, committed: IndexEntry[]): Finding[] {
  const findings: Finding[] = [];
  const observed: Observed[] = lines.leaves.map((leaf, i) => {
    const start = lines.starts[i]!;
    const end = i + 1 < lines.starts.length ? lines.starts[i + 1]! - 1 : lines.end - 1;
    const id = eventIdOf(archive.subarray(start, end));
    return id === undefined ? { leaf, line: i } : { leaf, id, idHash: toHex(eventIdHash(id)), line: i };
  });
  const byId = new Map<string, Observed[]>();
  for (const o of observed) {
    if (o.idHash === undefined) {
      findings.push({
        code: 'ARCHIVE_MALFORMED',
        object: ref.key,
        eventIndex: ref.firstIndex + o.line,
        message: `line ${o.line + 1} is not a JSON event with a string id`,
      });
      continue;
    }
    const list = byId.get(o.idHash) ?? [];
    list.push(o);
    byId.set(o.idHash, list);
  }
  const committedPos = new Map<string, number>();
  for (const [i, c] of committed.entries()) committedPos.set(c.idHash, i);

  // For each observed event that matches its committed bytes, the committed position, in observed order.
  const matched: { pos: number; o: Observed }[] = [];
  committed.forEach((c, i) => {
    const occurrences = byId.get(c.idHash) ?? [];
    const eventIndex = ref.firstIndex + i;
    if (occurrences.length === 0) {
      findings.push({
        code: 'EVENT_DELETED',
        object: ref.key,
        eventIndex,
        message: `sealed event #${eventIndex} (id sha256 ${c.idHash.slice(0, 16)}…) is missing`,
        evidence: { expected: toHex(c.leaf) },
      });
      return;
    }
    const exact = occurrences.filter((o) => o.leaf.equals(c.leaf));
    if (exact.length === 0) {
      const o = occurrences[0]!;
      findings.push({
        code: 'EVENT_MODIFIED',
        object: ref.key,
        eventId: o.id!,
        eventIndex,
        message: `event ${o.id} (line ${o.line + 1}) differs from the sealed bytes`,
        evidence: { expected: toHex(c.leaf), computed: toHex(o.leaf) },
      });
      for (const extra of occurrences.slice(1)) findings.push(duplicate(ref, extra, eventIndex));
      return;
    }
    matched.push({ pos: i, o: exact[0]! });
    for (const extra of occurrences.filter((o) => o !== exact[0]))
      findings.push(duplicate(ref, extra, eventIndex));
  });
  for (const [idHash, list] of byId) {
    if (committedPos.has(idHash)) continue;
    for (const o of list) {
      findings.push({
        code: 'EVENT_INSERTED',
        object: ref.key,
        eventId: o.id!,
        message: `event ${o.id} (line ${o.line + 1}) was never sealed in this chunk`,
        evidence: { computed: toHex(o.leaf) },
      });
    }
  }
  matched.sort((a, b) => a.o.line - b.o.line);
  const keep = longestIncreasing(matched.map((m) => m.pos));
  matched.forEach((m, i) => {
    if (keep.has(i)) return;
    findings.push({
      code: 'EVENT_REORDERED',
      object: ref.key,
      eventId: m.o.id!,
      eventIndex: ref.firstIndex + m.pos,
      message: `event ${m.o.id} was sealed at position ${m.pos + 1} of the chunk but appears at line ${m.o.line + 1}`,
    });
  });
  return findings;
}

function duplicate(ref: ArchiveRef, o: Observed, eventIndex: number): Finding {
  return {
    code: 'EVENT_DUPLICATED',
    object: ref.key,
    eventId: o.id!,
    eventIndex,
    message: `event ${o.id} occurs again at line ${o.line + 1}`,
    evidence: { computed: toHex(o.leaf) },
  };
}

/** Indices of one longest strictly increasing subsequence (patience sorting, O(n log n)). */
function longestIncreasing(values: readonly number[]): Set<number> {
  const tails: number[] = [];
  const prev = new Array<number>(values.length).fill(-1);
  values.forEach((v, i) => {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (values[tails[mid]!]! < v) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) prev[i] = tails[lo - 1]!;
    tails[lo] = i;
  });
  const keep = new Set<number>();
  for (let i = tails.length > 0 ? tails[tails.length - 1]! : -1; i !== -1; i = prev[i]!) keep.add(i);
  return keep;
}

/** Parses a hex hash from a digest, for callers combining chunk roots. */
export function hashFromHex(hex: string): Buffer {
  const bytes = fromHex(hex, 32);
  if (!bytes) throw new RangeError(`not a 32-byte hex hash: ${hex}`);
  return bytes;
}

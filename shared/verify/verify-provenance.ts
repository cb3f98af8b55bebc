/**
 * Provenance checks of one sealed period (FORMAT.md §5.1, §5.2, §9 step 6): every sealed event is a leaf
 * of a trusted, signed ingest batch of its period; every signed leaf is sealed (or reported missing);
 * sealed events follow the period order with no event id twice; and the rows the sealer excluded are
 * reported. The batch records stream in alongside the events: a record is read when an event needs it, so
 * memory is the records still open (for an honest sealer, those of about one millisecond of traffic).
 */

import { parseCanonicalText } from '../canonical/jcs.ts';
import { batchSignatureReason, checkAbandon } from '../ledger/batch-check.ts';
import type { KeyLookup } from '../ledger/batch-receipts.ts';
import { type BatchFileRef, type Digest, exclusionSchema } from '../ledger/formats.ts';
import { toHex } from '../ledger/hex.ts';
import { EventIdSet, MAX_SEALED_INDEX, SealedIdTable } from '../ledger/id-set.ts';
import { batchFileKey, exclusionsKey } from '../ledger/object-keys.ts';
import type { Period } from '../ledger/period.ts';
import { HASH_SIZE, sha256 } from '../merkle/rfc6962.ts';
import {
  type CheckedRecord,
  checkBatchRecord,
  MISSING_REASONS,
  type RecordLeaves,
} from './batch-record-check.ts';
import type { Finding } from './findings.ts';
import type { ObjectReader } from './object-reader.ts';

/** A sealed event as provenance establishes it, for receipt matching. */
export interface ProvenEventRef {
  readonly index: number;
  readonly id: string;
  readonly receivedAt: string;
  /** The event's leaf hash (32 bytes; a view, valid during the call). */
  readonly leaf: Uint8Array;
}

/**
 * A signed leaf waiting for its sealed event: position `pos` of a checked record's leaves; `record` is
 * the record's line number in the period (all batch files in order, 0-based).
 */
interface PendingLeaf {
  readonly leaves: RecordLeaves;
  readonly idHashes: Uint8Array;
  readonly pos: number;
  readonly record: number;
}

/**
 * Who checks batch records (checkBatchRecord's work: parse, JCS, schema, batch root). Default: in this
 * thread, one record at a time. A checker that runs elsewhere (worker threads) sets `lookahead` above 1:
 * that many records of a batch file are sent ahead of the one in use, whose results are still used
 * strictly in order, so findings do not depend on it.
 */
export interface RecordChecker {
  readonly lookahead: number;
  checkRecord(
    line: Buffer,
    context: { ledger: string; period: Period },
  ): CheckedRecord | Promise<CheckedRecord>;
}

const RECORDS_IN_THREAD: RecordChecker = { lookahead: 1, checkRecord: checkBatchRecord };

/** Most findings of one kind reported per period; beyond it, one summary finding. */
const MAX_FINDINGS_PER_KIND = 1000;

/**
 * Bytes of batch files read again to confirm id fingerprint matches, per period, beyond the period's own
 * committed batch bytes (which bound them otherwise): past it, a match is reported unconfirmed.
 */
const READ_BACK_SLACK = 64 * 1024 * 1024;

/** Reads an object and checks it against its committed size and SHA-256. */
async function readCommitted(
  reader: ObjectReader,
  ref: { key: string; size: number; sha256: string },
  findings: Finding[],
): Promise<Buffer | undefined> {
  // Never more than the committed size plus one byte (FORMAT.md §9.1).
  const bytes = await reader.read(ref.key, ref.size + 1);
  if (bytes === undefined) {
    findings.push({
      code: 'BATCH_FILE_MISSING',
      object: ref.key,
      message: 'named by its digest but missing',
    });
    return undefined;
  }
  const computed = toHex(sha256(bytes));
  if (bytes.length !== ref.size || computed !== ref.sha256) {
    findings.push({
      code: 'BATCH_FILE_MODIFIED',
      object: ref.key,
      message: `${bytes.length > ref.size ? `more than ${ref.size}` : bytes.length} bytes; the digest commits to ${ref.size}`,
      evidence: { expected: ref.sha256, computed },
    });
    return undefined;
  }
  return bytes;
}

function lines(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  while (start < bytes.length) {
    const nl = bytes.indexOf(0x0a, start);
    if (nl === -1) {
      out.push(bytes.subarray(start));
      break;
    }
    out.push(bytes.subarray(start, nl));
    start = nl + 1;
  }
  return out;
}

function parseLine<T>(
  line: Buffer,
  schema: { safeParse(v: unknown): { success: boolean; data?: T } },
): T | undefined {
  return parseCanonicalText(line.toString('utf8'), schema);
}

/**
 * A set of indices of one period as paged bits: 8 KiB per 65,536 indices touched, where a Set of numbers
 * costs tens of bytes per index (a period may hold tens of millions of events).
 */
class IndexBits {
  static readonly #PAGE = 65_536;
  readonly #pages = new Map<number, Uint32Array>();
  #lastKey = -1;
  #lastPage: Uint32Array | undefined;

  #page(index: number, create: boolean): Uint32Array | undefined {
    const key = Math.floor(index / IndexBits.#PAGE);
    if (key === this.#lastKey) return this.#lastPage;
    let page = this.#pages.get(key);
    if (!page) {
      if (!create) return undefined;
      page = new Uint32Array(IndexBits.#PAGE / 32);
      this.#pages.set(key, page);
    }
    this.#lastKey = key;
    this.#lastPage = page;
    return page;
  }

  has(index: number): boolean {
    const page = this.#page(index, false);
    const bit = index % IndexBits.#PAGE;
    return page !== undefined && (page[bit >>> 5]! & (1 << (bit & 31))) !== 0;
  }

  add(index: number): void {
    const page = this.#page(index, true)!;
    const bit = index % IndexBits.#PAGE;
    page[bit >>> 5]! |= 1 << (bit & 31);
  }
}

/** Provenance of one period, fed the period's sealed leaves in order. */
export class PeriodProvenance {
  readonly #reader: ObjectReader;
  readonly #digest: Digest;
  readonly #period: Period;
  readonly #keys: KeyLookup;
  readonly #findings: Finding[];
  readonly #onEvent: (event: ProvenEventRef) => void;
  readonly #pending = new Map<number, PendingLeaf>();
  readonly #claimed = new IndexBits();
  readonly #counts = new Map<string, number>();
  readonly #records: RecordChecker;
  #fileIndex = 0;
  #queue: Buffer[] = [];
  #queueNext = 0;
  #queueChecks = new Map<number, Promise<CheckedRecord>>();
  #queueFile = '';
  #broken = false;
  #disabled = false;
  #previous: { receivedAt: string; id: string } | undefined;
  readonly #skipped = new IndexBits();
  /**
   * The period's sealed ids (G6): a 40-bit fingerprint of each id's SHA-256 and the line of the batch
   * record that placed it (10 to 15 bytes per id). A fingerprint match is confirmed with the full id hash
   * of that record's leaves, read back from its batch file (`#confirmReuse`).
   */
  readonly #sealedIds = new SealedIdTable();
  /** Record line number of the first line of each batch file read so far. */
  readonly #fileStarts: number[] = [];
  #recordLines = 0;
  /** The batch file last read back (`#recordAt`), split into lines. */
  #readBack: { file: number; lines: Buffer[] } | undefined;
  #readBackBytes = 0;

  constructor(options: {
    enabled?: boolean;
    reader: ObjectReader;
    digest: Digest;
    period: Period;
    keys: KeyLookup;
    findings: Finding[];
    onEvent?: (event: ProvenEventRef) => void;
    /** Who checks the batch records; default: this thread. */
    records?: RecordChecker;
  }) {
    this.#reader = options.reader;
    this.#records = options.records ?? RECORDS_IN_THREAD;
    this.#digest = options.digest;
    this.#period = options.period;
    this.#keys = options.keys;
    this.#findings = options.findings;
    this.#onEvent = options.onEvent ?? (() => undefined);
    if (options.enabled === false) {
      this.#broken = true;
      this.#disabled = true;
      return;
    }
    options.digest.batches.forEach((ref, i) => {
      if (ref.key !== batchFileKey(options.digest.ledger, options.period, i)) {
        this.#broken = true;
        this.#push({
          code: 'DIGEST_MALFORMED',
          object: ref.key,
          message: `batch file ${i} has an unexpected key`,
        });
      }
    });
    const ex = options.digest.exclusions;
    if (ex && ex.key !== exclusionsKey(options.digest.ledger, options.period)) {
      this.#push({
        code: 'DIGEST_MALFORMED',
        object: ex.key,
        message: 'the exclusions file has an unexpected key',
      });
    }
  }

  /** Keys this period's digest names beside its chunks (for the unreferenced-object check). */
  static referencedKeys(digest: Digest): string[] {
    return [...digest.batches.map((b) => b.key), ...(digest.exclusions ? [digest.exclusions.key] : [])];
  }

  #push(finding: Finding): void {
    const n = (this.#counts.get(finding.code) ?? 0) + 1;
    this.#counts.set(finding.code, n);
    if (n <= MAX_FINDINGS_PER_KIND) this.#findings.push(finding);
  }

  /** The leaves of chunk `firstIndex…`, in order, as computed from the archived bytes. */
  async observe(firstIndex: number, leaves: readonly Buffer[]): Promise<void> {
    for (let i = 0; i < leaves.length; i++) {
      const index = firstIndex + i;
      if (this.#broken) return;
      // A record is read only when no pending leaf covers the index (the await costs a microtask per event).
      if (!this.#pending.has(index)) await this.#event(index, leaves[i]!);
      else {
        // A promise only when an id fingerprint match must be confirmed by a read-back.
        const confirming = this.#matched(index, leaves[i]!);
        if (confirming) await confirming;
      }
    }
  }

  /** A chunk whose leaves could not be established (its own findings say why): its indices are not checked. */
  skip(firstIndex: number, count: number): void {
    for (let i = firstIndex; i < firstIndex + count; i++) {
      this.#skipped.add(i);
      this.#pending.delete(i);
    }
    this.#previous = undefined;
  }

  async #event(index: number, leaf: Uint8Array): Promise<void> {
    if (this.#broken) return;
    while (!this.#pending.has(index) && (await this.#readRecord())) {
      // keep reading until a record covers this index, or none is left
    }
    // A batch file that just turned out missing or modified: its own finding says why, nothing is judged.
    if (this.#broken) return;
    if (!this.#pending.has(index)) {
      this.#push({
        code: 'EVENT_UNSIGNED',
        object: this.#chunkKey(index),
        eventIndex: index,
        message: `sealed event #${index} is not a leaf of any trusted, signed batch of this period`,
      });
      this.#previous = undefined;
      return;
    }
    await this.#matched(index, leaf);
  }

  /**
   * The sealed event at `index`, whose signed leaf is pending. Returns a promise only when its id shares
   * a fingerprint with an id sealed earlier, which must be confirmed before the event's other checks.
   */
  #matched(index: number, leaf: Uint8Array): Promise<void> | undefined {
    const { leaves, idHashes, pos, record } = this.#pending.get(index)!;
    this.#pending.delete(index);
    const id = leaves.ids[pos]!;
    const at = pos * HASH_SIZE;
    const signedHash = leaves.leafHashes;
    let same = leaf.length === HASH_SIZE;
    for (let k = 0; same && k < HASH_SIZE; k++) same = signedHash[at + k] === leaf[k];
    if (!same) {
      const expected = toHex(signedHash.subarray(at, at + HASH_SIZE));
      this.#push({
        code: 'EVENT_UNSIGNED',
        object: this.#chunkKey(index),
        eventId: id,
        eventIndex: index,
        message: `sealed event #${index} is not the leaf its batch signed for ${id}`,
        evidence: { expected, computed: toHex(leaf) },
      });
      this.#previous = undefined;
      return undefined;
    }
    const receivedAt = leaves.receivedAt[pos]!;
    const prev = this.#previous;
    // The same id as the event right before: reported below as sealed twice, with no read-back.
    if (prev?.id !== id) {
      const candidates = this.#sealedIds.tryAdd(idHashes, at, Math.min(record, MAX_SEALED_INDEX));
      if (candidates.length > 0) {
        return this.#confirmReuse(candidates, idHashes, at, index, id, record).then(() =>
          this.#ordered(index, id, receivedAt, leaf, prev),
        );
      }
    }
    this.#ordered(index, id, receivedAt, leaf, prev);
    return undefined;
  }

  /**
   * A sealed id whose fingerprint matches ids placed by the batch records `candidates` (record line
   * numbers): EVENT_ID_REUSED only if one of those records places, before `index`, a leaf whose id has
   * the same full SHA-256. The records are read back from their batch files, checked against the
   * SHA-256 the digest commits to; if that fails, the match is reported as unconfirmed (never dropped).
   */
  async #confirmReuse(
    candidates: readonly number[],
    idHashes: Uint8Array,
    at: number,
    index: number,
    id: string,
    record: number,
  ): Promise<void> {
    let unconfirmed: string | undefined;
    for (const candidate of candidates) {
      const earlier = await this.#recordAt(candidate);
      if (typeof earlier === 'string') {
        unconfirmed ??= earlier;
        continue;
      }
      let sharesFingerprint = false;
      for (let p = 0; p < earlier.leaves.count; p++) {
        const i = earlier.leaves.indices[p]!;
        if (i < 0 || i >= index) continue;
        const from = p * HASH_SIZE;
        let k = 0;
        while (k < HASH_SIZE && earlier.idHashes[from + k] === idHashes[at + k]) k++;
        if (k === HASH_SIZE) {
          this.#push({
            code: 'EVENT_ID_REUSED',
            object: this.#chunkKey(index),
            eventId: id,
            eventIndex: index,
            message: `event id ${id} is sealed more than once in this period`,
          });
          return;
        }
        // The table's fingerprint: the first 5 bytes of the id hash.
        if (k >= 5) sharesFingerprint = true;
      }
      if (!sharesFingerprint)
        unconfirmed ??= `batch record ${candidate + 1} of the period read back differently`;
    }
    if (unconfirmed !== undefined) {
      this.#push({
        code: 'EVENT_ID_REUSED',
        object: this.#chunkKey(index),
        eventId: id,
        eventIndex: index,
        message: `event id ${id} may be sealed more than once in this period: its SHA-256 shares a fingerprint with an earlier id that could not be confirmed (${unconfirmed})`,
      });
    }
    this.#sealedIds.addConfirmed(idHashes, at, Math.min(record, MAX_SEALED_INDEX));
  }

  /**
   * The batch record on line `line` of the period, as read back from its batch file (which must still
   * match its committed size and SHA-256: the same bytes that were checked), or why it cannot be had.
   */
  async #recordAt(line: number): Promise<(CheckedRecord & { ok: true }) | string> {
    if (line >= MAX_SEALED_INDEX) return 'too many batch records to name one';
    let file = this.#fileStarts.length - 1;
    while (file > 0 && this.#fileStarts[file]! > line) file--;
    const ref = this.#digest.batches[file];
    if (file < 0 || !ref) return `no batch file holds record ${line + 1}`;
    if (this.#readBack?.file !== file) {
      this.#readBack = undefined;
      this.#readBackBytes += ref.size;
      const budget = READ_BACK_SLACK + this.#digest.batches.reduce((sum, b) => sum + b.size, 0);
      if (this.#readBackBytes > budget) return `more than ${budget} bytes of batch files read back`;
      const bytes = await readCommitted(this.#reader, ref, this.#findings);
      if (!bytes) return `${ref.key} no longer matches its digest`;
      this.#readBack = { file, lines: lines(bytes) };
    }
    const bytes = this.#readBack.lines[line - this.#fileStarts[file]!];
    const checked = bytes && checkBatchRecord(bytes, { ledger: this.#digest.ledger, period: this.#period });
    return checked?.ok
      ? checked
      : `line ${line - this.#fileStarts[file]! + 1} of ${ref.key} is not a batch record`;
  }

  /** The ordering checks of a sealed event, then its report to `onEvent`. */
  #ordered(
    index: number,
    id: string,
    receivedAt: string,
    leaf: Uint8Array,
    prev: { receivedAt: string; id: string } | undefined,
  ): void {
    if (prev) {
      if (prev.id === id) {
        this.#push({
          code: 'EVENT_ID_REUSED',
          object: this.#chunkKey(index),
          eventId: id,
          eventIndex: index,
          message: `event id ${id} is sealed twice`,
        });
      } else if (prev.receivedAt > receivedAt || (prev.receivedAt === receivedAt && prev.id > id)) {
        this.#push({
          code: 'EVENT_ORDER_INVALID',
          object: this.#chunkKey(index),
          eventId: id,
          eventIndex: index,
          message: `event #${index} (${receivedAt} ${id}) comes after ${prev.receivedAt} ${prev.id}`,
        });
      }
    }
    this.#previous = { receivedAt, id };
    this.#onEvent({ index, id, receivedAt, leaf });
  }

  #chunkKey(index: number): string {
    const chunk = this.#digest.archives.find((a) => index >= a.firstIndex && index < a.firstIndex + a.count);
    return chunk?.key ?? `${this.#digest.ledger}#${index}`;
  }

  /** Reads the next batch record; false when none is left (or the files are unusable). */
  async #readRecord(): Promise<boolean> {
    while (this.#queueNext >= this.#queue.length) {
      if (this.#broken || this.#fileIndex >= this.#digest.batches.length) return false;
      const ref: BatchFileRef = this.#digest.batches[this.#fileIndex++]!;
      const bytes = await readCommitted(this.#reader, ref, this.#findings);
      if (!bytes) {
        // Without its batch records a period's provenance cannot be judged; the file finding says why.
        this.#broken = true;
        return false;
      }
      const all = lines(bytes);
      if (all.length !== ref.count || bytes[bytes.length - 1] !== 0x0a) {
        this.#push({
          code: 'DIGEST_MALFORMED',
          object: ref.key,
          message: `holds ${all.length} lines; the digest says ${ref.count}`,
        });
      }
      this.#fileStarts.push(this.#recordLines);
      this.#recordLines += all.length;
      this.#queue = all;
      this.#queueNext = 0;
      this.#queueChecks.clear();
      this.#queueFile = ref.key;
    }
    const at = this.#queueNext++;
    // Records ahead of this one are checked meanwhile (by a checker in other threads); used in order.
    const ahead = Math.max(1, Math.floor(this.#records.lookahead));
    for (let k = at; k < Math.min(this.#queue.length, at + ahead); k++) {
      if (this.#queueChecks.has(k)) continue;
      const context = { ledger: this.#digest.ledger, period: this.#period };
      const check = Promise.resolve().then(() => this.#records.checkRecord(this.#queue[k]!, context));
      check.catch(() => undefined);
      this.#queueChecks.set(k, check);
    }
    const check = this.#queueChecks.get(at)!;
    this.#queueChecks.delete(at);
    await this.#record(await check, this.#queueFile, at + 1, this.#fileStarts.at(-1)! + at);
    return true;
  }

  /** Record `record` of the period: line `lineNo` of `object`. */
  async #record(record: CheckedRecord, object: string, lineNo: number, recordLine: number): Promise<void> {
    if (!record.ok) {
      this.#push({
        code: 'BATCH_INVALID',
        object,
        message: `line ${lineNo} is not a canonical batch record`,
      });
      return;
    }
    const statement = record.batch;
    const batchId = statement?.batchId ?? `line ${lineNo}`;
    const reason = !statement
      ? 'the statement is not a canonical batch statement'
      : (record.contextReason ??
        (await batchSignatureReason(
          statement,
          record.statement,
          Buffer.from(record.signature, 'base64'),
          this.#keys,
        )) ??
        record.leavesReason);
    if (reason !== undefined || !statement) {
      this.#push({
        code: 'BATCH_INVALID',
        object,
        message: `batch ${batchId} (line ${lineNo}): ${reason}`,
      });
      return;
    }
    let abandoned: ReadonlySet<number> = new Set();
    if (record.abandon) {
      const a = await checkAbandon(
        { statement: record.abandon.statement, signature: Buffer.from(record.abandon.signature, 'base64') },
        { statementText: record.statement, statement },
        this.#keys,
      );
      if (!a.ok) {
        this.#push({
          code: 'BATCH_INVALID',
          object,
          message: `batch ${batchId} (line ${lineNo}): ${a.reason}`,
        });
        return;
      }
      abandoned = a.indices;
    }
    const { leaves, idHashes } = record;
    // Ids signed twice in this batch: the id hashes say "maybe" (never missing one); the first maybe
    // starts an exact set of the ids so far, so that a 64-bit hash collision is never reported.
    const seen = new EventIdSet();
    let exact: Set<string> | undefined;
    for (let position = 0; position < leaves.count; position++) {
      const id = leaves.ids[position]!;
      const maybe = !seen.addDigest(idHashes, position * HASH_SIZE);
      if (maybe && !exact) exact = new Set(leaves.ids.slice(0, position));
      if (exact) {
        if (maybe && exact.has(id)) {
          this.#push({
            code: 'EVENT_ID_REUSED',
            object,
            eventId: id,
            message: `batch ${batchId} signs event id ${id} twice`,
          });
        }
        exact.add(id);
      }
      const missing =
        leaves.missing[position]! === 0 ? undefined : MISSING_REASONS[leaves.missing[position]! - 1];
      const index = leaves.indices[position]!;
      if (index === -1 && missing === 'ABANDONED') {
        // Ingest signed that its request did not store this leaf: its absence is explained, not a finding.
        if (!abandoned.has(position)) {
          this.#push({
            code: 'BATCH_INVALID',
            object,
            eventId: id,
            message: `batch ${batchId} marks ${id} abandoned, but its signed abandon statement does not`,
          });
        }
        continue;
      }
      if (index === -1) {
        this.#push({
          code: 'BATCH_LEAF_MISSING',
          object,
          eventId: id,
          message: `event ${id} (received ${leaves.receivedAt[position]!}) was signed at ingest in batch ${batchId} but is not sealed: ${missing === 'MODIFIED' ? 'its stored bytes were changed' : 'no stored row had it'}`,
        });
        continue;
      }
      if (index >= this.#digest.treeSize || this.#claimed.has(index)) {
        this.#push({
          code: 'DIGEST_MALFORMED',
          object,
          eventId: id,
          message: `batch ${batchId} places ${id} at index ${index}, which is out of range or taken`,
        });
        continue;
      }
      this.#claimed.add(index);
      if (this.#skipped.has(index)) continue;
      this.#pending.set(index, { leaves, idHashes, pos: position, record: recordLine });
    }
  }

  /** After the last chunk: remaining records, leaves claimed but never sealed, and the exclusions. */
  async finish(): Promise<void> {
    if (this.#disabled) return;
    while (await this.#readRecord()) {
      // every remaining record is checked, and its missing leaves reported
    }
    if (!this.#broken) {
      for (const [index, { leaves, pos }] of this.#pending) {
        const id = leaves.ids[pos]!;
        this.#push({
          code: 'DIGEST_MALFORMED',
          object: this.#queueFile || `${this.#digest.ledger}`,
          eventId: id,
          message: `a batch record places ${id} at index ${index}, but no such event is sealed there`,
        });
      }
    }
    await this.#exclusions();
    for (const [code, n] of this.#counts) {
      if (n > MAX_FINDINGS_PER_KIND) {
        this.#findings.push({
          code: code as Finding['code'],
          object: this.#digest.archives[0]?.key ?? this.#digest.batches[0]?.key ?? this.#digest.ledger,
          message: `${n - MAX_FINDINGS_PER_KIND} more ${code} findings in this period are not listed`,
        });
      }
    }
  }

  async #exclusions(): Promise<void> {
    const ref = this.#digest.exclusions;
    if (!ref) return;
    const bytes = await readCommitted(this.#reader, ref, this.#findings);
    if (!bytes) return;
    const all = lines(bytes);
    all.forEach((line, i) => {
      const exclusion = parseLine(line, exclusionSchema);
      if (!exclusion) {
        this.#push({
          code: 'DIGEST_MALFORMED',
          object: ref.key,
          message: `line ${i + 1} is not a canonical exclusion`,
        });
        return;
      }
      this.#push({
        code: 'EVENT_EXCLUDED',
        object: ref.key,
        ...(exclusion.eventId !== null ? { eventId: exclusion.eventId } : {}),
        message: `${exclusion.reason} (row ${exclusion.item.pk} / ${exclusion.item.sk}): ${exclusion.detail}`,
      });
    });
    if (all.length !== ref.count) {
      this.#push({
        code: 'DIGEST_MALFORMED',
        object: ref.key,
        message: `holds ${all.length} lines; the digest says ${ref.count}`,
      });
    }
    if (ref.omitted > 0) {
      this.#findings.push({
        code: 'EVENT_EXCLUDED',
        object: ref.key,
        message: `${ref.omitted} more excluded rows were not recorded individually`,
      });
    }
  }
}

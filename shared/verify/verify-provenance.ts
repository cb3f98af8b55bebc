/**
 * Provenance checks of one sealed period (FORMAT.md §5.1, §5.2, §9 step 6): every sealed event is a leaf
 * of a trusted, signed ingest batch of its period; every signed leaf is sealed (or reported missing);
 * sealed events follow the period order with no event id twice; and the rows the sealer excluded are
 * reported. The batch records stream in alongside the events: a record is read when an event needs it, so
 * memory is the records still open (for an honest sealer, those of about one millisecond of traffic).
 */

import { canonicalString } from '../canonical/jcs.ts';
import { checkAbandon, checkSignedBatch } from '../ledger/batch-check.ts';
import type { KeyLookup } from '../ledger/batch-receipts.ts';
import {
  type BatchFileRef,
  type BatchRecord,
  batchRecordSchema,
  type Digest,
  exclusionSchema,
} from '../ledger/formats.ts';
import { fromHex, toHex } from '../ledger/hex.ts';
import { EventIdSet } from '../ledger/id-set.ts';
import { batchFileKey, exclusionsKey } from '../ledger/object-keys.ts';
import type { Period } from '../ledger/period.ts';
import { sha256 } from '../merkle/rfc6962.ts';
import type { Finding } from './findings.ts';
import type { ObjectReader } from './object-reader.ts';

/** A sealed event as provenance establishes it, for receipt matching. */
export interface ProvenEventRef {
  readonly index: number;
  readonly id: string;
  readonly receivedAt: string;
  readonly leafHash: string;
}

interface PendingLeaf {
  readonly id: string;
  readonly receivedAt: string;
  readonly leafHash: string;
}

/** Most findings of one kind reported per period; beyond it, one summary finding. */
const MAX_FINDINGS_PER_KIND = 1000;

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
  const text = line.toString('utf8');
  try {
    const value: unknown = JSON.parse(text);
    const parsed = schema.safeParse(value);
    return parsed.success && canonicalString(value) === text ? parsed.data : undefined;
  } catch {
    return undefined;
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
  readonly #claimed = new Set<number>();
  readonly #counts = new Map<string, number>();
  #fileIndex = 0;
  #queue: Buffer[] = [];
  #queueFile = '';
  #queueLine = 0;
  #broken = false;
  #disabled = false;
  #previous: { receivedAt: string; id: string } | undefined;
  #skipped = new Set<number>();
  readonly #sealedIds = new EventIdSet();

  constructor(options: {
    enabled?: boolean;
    reader: ObjectReader;
    digest: Digest;
    period: Period;
    keys: KeyLookup;
    findings: Finding[];
    onEvent?: (event: ProvenEventRef) => void;
  }) {
    this.#reader = options.reader;
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
    for (let i = 0; i < leaves.length; i++) await this.#event(firstIndex + i, toHex(leaves[i]!));
  }

  /** A chunk whose leaves could not be established (its own findings say why): its indices are not checked. */
  skip(firstIndex: number, count: number): void {
    for (let i = firstIndex; i < firstIndex + count; i++) {
      this.#skipped.add(i);
      this.#pending.delete(i);
    }
    this.#previous = undefined;
  }

  async #event(index: number, leafHash: string): Promise<void> {
    if (this.#broken) return;
    while (!this.#pending.has(index) && (await this.#readRecord())) {
      // keep reading until a record covers this index, or none is left
    }
    // A batch file that just turned out missing or modified: its own finding says why, nothing is judged.
    if (this.#broken) return;
    const signed = this.#pending.get(index);
    const object = this.#chunkKey(index);
    // A batch file that is missing or modified is its own finding; the events it would cover are not judged.
    if (!signed && this.#broken) return;
    if (!signed) {
      this.#push({
        code: 'EVENT_UNSIGNED',
        object,
        eventIndex: index,
        message: `sealed event #${index} is not a leaf of any trusted, signed batch of this period`,
      });
      this.#previous = undefined;
      return;
    }
    this.#pending.delete(index);
    if (signed.leafHash !== leafHash) {
      this.#push({
        code: 'EVENT_UNSIGNED',
        object,
        eventId: signed.id,
        eventIndex: index,
        message: `sealed event #${index} is not the leaf its batch signed for ${signed.id}`,
        evidence: { expected: signed.leafHash, computed: leafHash },
      });
      this.#previous = undefined;
      return;
    }
    const prev = this.#previous;
    const firstTime = this.#sealedIds.add(signed.id);
    if (!firstTime && prev?.id !== signed.id) {
      this.#push({
        code: 'EVENT_ID_REUSED',
        object,
        eventId: signed.id,
        eventIndex: index,
        message: `event id ${signed.id} is sealed more than once in this period`,
      });
    }
    if (prev) {
      if (prev.id === signed.id) {
        this.#push({
          code: 'EVENT_ID_REUSED',
          object,
          eventId: signed.id,
          eventIndex: index,
          message: `event id ${signed.id} is sealed twice`,
        });
      } else if (
        prev.receivedAt > signed.receivedAt ||
        (prev.receivedAt === signed.receivedAt && prev.id > signed.id)
      ) {
        this.#push({
          code: 'EVENT_ORDER_INVALID',
          object,
          eventId: signed.id,
          eventIndex: index,
          message: `event #${index} (${signed.receivedAt} ${signed.id}) comes after ${prev.receivedAt} ${prev.id}`,
        });
      }
    }
    this.#previous = { receivedAt: signed.receivedAt, id: signed.id };
    this.#onEvent({ index, id: signed.id, receivedAt: signed.receivedAt, leafHash });
  }

  #chunkKey(index: number): string {
    const chunk = this.#digest.archives.find((a) => index >= a.firstIndex && index < a.firstIndex + a.count);
    return chunk?.key ?? `${this.#digest.ledger}#${index}`;
  }

  /** Reads the next batch record; false when none is left (or the files are unusable). */
  async #readRecord(): Promise<boolean> {
    while (this.#queue.length === 0) {
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
      this.#queue = all;
      this.#queueFile = ref.key;
      this.#queueLine = 0;
    }
    const line = this.#queue.shift()!;
    const lineNo = ++this.#queueLine;
    this.#record(line, this.#queueFile, lineNo);
    return true;
  }

  #record(line: Buffer, object: string, lineNo: number): void {
    const record = parseLine<BatchRecord>(line, batchRecordSchema);
    if (!record) {
      this.#push({
        code: 'BATCH_INVALID',
        object,
        message: `line ${lineNo} is not a canonical batch record`,
      });
      return;
    }
    const leaves = record.leaves.map((l) => ({
      eventId: l.id,
      receivedAt: l.receivedAt,
      leafHash: fromHex(l.leafHash, 32)!,
    }));
    const check = checkSignedBatch(
      { statement: record.statement, signature: Buffer.from(record.signature, 'base64'), leaves },
      { ledger: this.#digest.ledger, period: this.#period, keys: this.#keys },
    );
    const batchId = check.statement?.batchId ?? `line ${lineNo}`;
    if (!check.ok) {
      this.#push({
        code: 'BATCH_INVALID',
        object,
        message: `batch ${batchId} (line ${lineNo}): ${check.reason}`,
      });
      return;
    }
    let abandoned: ReadonlySet<number> = new Set();
    if (record.abandon) {
      const a = checkAbandon(
        { statement: record.abandon.statement, signature: Buffer.from(record.abandon.signature, 'base64') },
        { statementText: record.statement, statement: check.statement },
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
    const ids = new Set<string>();
    for (const [position, leaf] of record.leaves.entries()) {
      if (ids.has(leaf.id)) {
        this.#push({
          code: 'EVENT_ID_REUSED',
          object,
          eventId: leaf.id,
          message: `batch ${batchId} signs event id ${leaf.id} twice`,
        });
      }
      ids.add(leaf.id);
      if (leaf.index === null && leaf.missing === 'ABANDONED') {
        // Ingest signed that its request did not store this leaf: its absence is explained, not a finding.
        if (!abandoned.has(position)) {
          this.#push({
            code: 'BATCH_INVALID',
            object,
            eventId: leaf.id,
            message: `batch ${batchId} marks ${leaf.id} abandoned, but its signed abandon statement does not`,
          });
        }
        continue;
      }
      if (leaf.index === null) {
        this.#push({
          code: 'BATCH_LEAF_MISSING',
          object,
          eventId: leaf.id,
          message: `event ${leaf.id} (received ${leaf.receivedAt}) was signed at ingest in batch ${batchId} but is not sealed: ${leaf.missing === 'MODIFIED' ? 'its stored bytes were changed' : 'no stored row had it'}`,
        });
        continue;
      }
      if (leaf.index >= this.#digest.treeSize || this.#claimed.has(leaf.index)) {
        this.#push({
          code: 'DIGEST_MALFORMED',
          object,
          eventId: leaf.id,
          message: `batch ${batchId} places ${leaf.id} at index ${leaf.index}, which is out of range or taken`,
        });
        continue;
      }
      this.#claimed.add(leaf.index);
      if (this.#skipped.has(leaf.index)) continue;
      this.#pending.set(leaf.index, { id: leaf.id, receivedAt: leaf.receivedAt, leafHash: leaf.leafHash });
    }
  }

  /** After the last chunk: remaining records, leaves claimed but never sealed, and the exclusions. */
  async finish(): Promise<void> {
    if (this.#disabled) return;
    while (await this.#readRecord()) {
      // every remaining record is checked, and its missing leaves reported
    }
    if (!this.#broken) {
      for (const [index, leaf] of this.#pending) {
        this.#push({
          code: 'DIGEST_MALFORMED',
          object: this.#queueFile || `${this.#digest.ledger}`,
          eventId: leaf.id,
          message: `a batch record places ${leaf.id} at index ${index}, but no such event is sealed there`,
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

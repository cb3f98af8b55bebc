/**
 * The per-record part of provenance (FORMAT.md §5.1, §9 step 6): one archived batch record line is parsed,
 * required to be exactly its own JCS, schema-checked, and its batch root recomputed. It needs no keys and
 * no state, and its result crosses a worker boundary as is (structured clone; its buffers can be
 * transferred), so `auditseal verify --jobs N` runs it in the verifier's workers. The signatures are
 * checked by the caller with its keys (PeriodProvenance), after `contextReason` and before `leavesReason`,
 * which is checkSignedBatch's order.
 *
 * A record line is about 150 bytes per leaf and up to 10,000 leaves. The generic path (JSON.parse, zod,
 * then a full JCS re-serialization compared with the text) costs several microseconds per leaf, so a
 * specialized reader of the record's fixed shape comes first: it accepts a line only when it is, byte for
 * byte, the canonical form of a record the schema accepts, and otherwise defers to the generic path,
 * which then accepts or rejects it. So the fast reader can only ever save time, never change a verdict
 * (test/unit/verify/batch-record-check.test.ts compares the two on generated and mutated records).
 */
import { parseCanonicalText } from '../canonical/jcs.ts';
import {
  batchContextReason,
  batchLeavesReason,
  batchRootReason,
  parseBatchStatement,
} from '../ledger/batch-check.ts';
import { batchLeafHashInto } from '../ledger/batch-leaf.ts';
import {
  BATCH_RECORD_TYPE,
  type BatchRecord,
  type BatchStatement,
  batchRecordSchema,
  MAX_BATCH_LEAVES,
} from '../ledger/formats.ts';
import { toHex } from '../ledger/hex.ts';
import type { Period } from '../ledger/period.ts';
import { HASH_SIZE, rootFromPackedLeafHashes } from '../merkle/rfc6962.ts';
import { sha256Into } from '../platform/crypto.ts';

/** Why a leaf is not sealed; `RecordLeaves.missing` holds 1 + its position here (0: sealed). */
export const MISSING_REASONS = ['MODIFIED', 'ABSENT', 'ABANDONED'] as const;
export type MissingReason = (typeof MISSING_REASONS)[number];

/** The leaves of one record, column by column. */
export interface RecordLeaves {
  readonly count: number;
  readonly ids: string[];
  readonly receivedAt: string[];
  /** 32 bytes per leaf: the event's leaf hash the batch signs. */
  readonly leafHashes: Uint8Array;
  /** The sealed index of each leaf, or -1 when it is not sealed. */
  readonly indices: Float64Array;
  /** 0 for a sealed leaf, else 1 + the MISSING_REASONS position of why it is not. */
  readonly missing: Uint8Array;
}

/** A record line as read: the record's strings and its leaves. */
export interface ParsedRecord {
  readonly statement: string;
  readonly signature: string;
  readonly abandon?: { readonly statement: string; readonly signature: string };
  readonly leaves: RecordLeaves;
}

/** What one record line gives before any signature is checked. */
export type CheckedRecord =
  | { readonly ok: false }
  | (ParsedRecord & {
      readonly ok: true;
      /** Undefined when the statement is not a canonical batch statement. */
      readonly batch?: BatchStatement;
      /** The first reason of checkSignedBatch's context step, if any. */
      readonly contextReason?: string;
      /** The first reason of its leaf count, range and root steps, if any. */
      readonly leavesReason?: string;
      /** SHA-256 of each leaf's event id (UTF-8), 32 bytes per leaf: the batch tree needs it anyway. */
      readonly idHashes: Uint8Array;
    });

/** Checks one batch record line (without its newline) for a period of `ledger`. Never throws. */
export function checkBatchRecord(
  line: Uint8Array,
  context: { ledger: string; period: Period },
): CheckedRecord {
  const parsed = parseBatchRecordLine(line);
  if (!parsed) return { ok: false };
  const { leaves } = parsed;
  const idHashes = new Uint8Array(leaves.count * HASH_SIZE);
  for (let i = 0; i < leaves.count; i++) sha256Into(leaves.ids[i]!, idHashes, i * HASH_SIZE);
  const batch = parseBatchStatement(parsed.statement);
  if (!batch) return { ok: true, ...parsed, idHashes };
  const contextReason = batchContextReason(batch, context);
  const leavesReason =
    batchLeavesReason(
      batch,
      leaves.count,
      (i) => leaves.receivedAt[i]!,
      (i) => leaves.ids[i]!,
    ) ?? batchRootReason(batch, () => toHex(recordBatchRoot(leaves, idHashes)));
  return {
    ok: true,
    ...parsed,
    batch,
    idHashes,
    ...(contextReason !== undefined ? { contextReason } : {}),
    ...(leavesReason !== undefined ? { leavesReason } : {}),
  };
}

/**
 * The batch root over a record's leaves: batchRoot's tree (leaf = leafHash ‖ SHA-256(id) ‖ receivedAt),
 * from the id hashes already computed. Every receivedAt is 24 ASCII bytes (the schema's isoMillis).
 */
export function recordBatchRoot(leaves: RecordLeaves, idHashes: Uint8Array): Buffer {
  // Each digest is written straight into one packed level: no view, Buffer or string per leaf.
  const packed = Buffer.allocUnsafe(leaves.count * HASH_SIZE);
  for (let i = 0; i < leaves.count; i++) {
    const at = i * HASH_SIZE;
    batchLeafHashInto(leaves.leafHashes, at, idHashes, at, leaves.receivedAt[i]!, packed, at);
  }
  return rootFromPackedLeafHashes(packed, leaves.count);
}

/** A record line as read, or undefined when it is not a canonical batch record. */
export function parseBatchRecordLine(line: Uint8Array): ParsedRecord | undefined {
  return readRecordFast(line) ?? readRecordGeneric(line);
}

/** The generic path: JSON.parse, the schema, and a JCS re-serialization equal to the text. */
export function readRecordGeneric(line: Uint8Array): ParsedRecord | undefined {
  const text = Buffer.from(line.buffer, line.byteOffset, line.byteLength).toString('utf8');
  const record = parseCanonicalText<BatchRecord>(text, batchRecordSchema);
  if (!record) return undefined;
  const count = record.leaves.length;
  const leaves: RecordLeaves = {
    count,
    ids: record.leaves.map((l) => l.id),
    receivedAt: record.leaves.map((l) => l.receivedAt),
    leafHashes: new Uint8Array(count * HASH_SIZE),
    indices: new Float64Array(count),
    missing: new Uint8Array(count),
  };
  record.leaves.forEach((l, i) => {
    leaves.leafHashes.set(Buffer.from(l.leafHash, 'hex'), i * HASH_SIZE);
    leaves.indices[i] = l.index ?? -1;
    leaves.missing[i] = l.missing === undefined ? 0 : 1 + MISSING_REASONS.indexOf(l.missing);
  });
  return {
    statement: record.statement,
    signature: record.signature,
    ...(record.abandon
      ? { abandon: { statement: record.abandon.statement, signature: record.abandon.signature } }
      : {}),
    leaves,
  };
}

// ---- The fast reader: the record's one canonical shape, byte by byte ----

const ascii = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const OPEN_ABANDON = ascii('{"abandon":{"signature":');
const ABANDON_STATEMENT = ascii(',"statement":');
const AFTER_ABANDON = ascii('},"leaves":[');
const OPEN_LEAVES = ascii('{"leaves":[');
const LEAF_ID = ascii('{"id":"');
const LEAF_INDEX = ascii('","index":');
const LEAF_HASH = ascii(',"leafHash":"');
const LEAF_MISSING = ascii('","missing":"');
const LEAF_RECEIVED = ascii('","receivedAt":"');
const LEAF_END = ascii('"}');
const NULL = ascii('null');
const SIGNATURE = ascii('],"signature":');
const STATEMENT = ascii(',"statement":');
const END = ascii(`,"type":${JSON.stringify(BATCH_RECORD_TYPE)}}`);
const MISSING_BYTES = MISSING_REASONS.map((m) => ascii(`${m}`));

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** Bytes of an event id (formats.ts eventIdSchema: [A-Za-z0-9][A-Za-z0-9._:@/+=-]*, 1 to 128). */
const ID_BYTE = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789')
  ID_BYTE[c.charCodeAt(0)] = 2;
for (const c of '._:@/+=-') ID_BYTE[c.charCodeAt(0)] = 1;
const MAX_ID = 128;
/** Lowercase hex digit values, 255 for any other byte. */
const HEX = new Uint8Array(256).fill(255);
for (let i = 0; i < 16; i++) HEX['0123456789abcdef'.charCodeAt(i)] = i;
/** isoMillis: dddd-dd-ddTdd:dd:dd.dddZ; 0 marks a digit. */
const TIME_SHAPE = ascii('0000-00-00T00:00:00.000Z');
const TIME_LENGTH = TIME_SHAPE.length;
const SIGNATURE_TEXT = /^[A-Za-z0-9+/]+={0,2}$/;
const MAX_STATEMENT = 4096;
const MAX_SIGNATURE = 200;

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

/** The position after `literal` at `at`, or -1. */
function expect(b: Uint8Array, at: number, literal: Uint8Array): number {
  if (at + literal.length > b.length) return -1;
  for (let i = 0; i < literal.length; i++) if (b[at + i] !== literal[i]) return -1;
  return at + literal.length;
}

/**
 * A JSON string at `at` in its canonical form, restricted to printable ASCII with `\"` and `\\` as its
 * only escapes (anything else defers to the generic path). Returns the value and the position after it.
 */
function readString(b: Uint8Array, at: number): { value: string; end: number } | undefined {
  if (b[at] !== QUOTE) return undefined;
  let escaped = false;
  let i = at + 1;
  for (; i < b.length; i++) {
    const c = b[i]!;
    if (c === QUOTE) break;
    if (c < 0x20 || c >= 0x7f) return undefined;
    if (c === BACKSLASH) {
      const next = b[i + 1];
      if (next !== QUOTE && next !== BACKSLASH) return undefined;
      escaped = true;
      i++;
    }
  }
  if (i >= b.length) return undefined;
  const raw = Buffer.from(b.buffer, b.byteOffset + at + 1, i - at - 1).toString('latin1');
  const value = escaped ? raw.replace(/\\(["\\])/g, '$1') : raw;
  return { value, end: i + 1 };
}

/** A signature string as the schema accepts it. */
function readSignature(b: Uint8Array, at: number): { value: string; end: number } | undefined {
  const s = readString(b, at);
  return s && s.value.length <= MAX_SIGNATURE && SIGNATURE_TEXT.test(s.value) ? s : undefined;
}

function readStatement(b: Uint8Array, at: number): { value: string; end: number } | undefined {
  const s = readString(b, at);
  return s && s.value.length >= 1 && s.value.length <= MAX_STATEMENT ? s : undefined;
}

/**
 * Reads a line that is exactly the JCS form of a schema-valid batch record, or returns undefined (which
 * means "not this fast path", not "invalid"). Exported for the property tests.
 */
export function readRecordFast(b: Uint8Array): ParsedRecord | undefined {
  let at = 0;
  let abandon: { statement: string; signature: string } | undefined;
  if (b[2] === 0x61 /* a: "abandon" */) {
    at = expect(b, 0, OPEN_ABANDON);
    if (at < 0) return undefined;
    const signature = readSignature(b, at);
    if (!signature) return undefined;
    at = expect(b, signature.end, ABANDON_STATEMENT);
    if (at < 0) return undefined;
    const statement = readStatement(b, at);
    if (!statement) return undefined;
    at = expect(b, statement.end, AFTER_ABANDON);
    abandon = { statement: statement.value, signature: signature.value };
  } else {
    at = expect(b, 0, OPEN_LEAVES);
  }
  if (at < 0) return undefined;

  const ids: string[] = [];
  const receivedAt: string[] = [];
  const hashes = new Uint8Array(MAX_BATCH_LEAVES * HASH_SIZE);
  const indices = new Float64Array(MAX_BATCH_LEAVES);
  const missing = new Uint8Array(MAX_BATCH_LEAVES);
  const view = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  for (;;) {
    if (ids.length === MAX_BATCH_LEAVES) return undefined;
    at = expect(b, at, LEAF_ID);
    if (at < 0) return undefined;
    // id
    const idStart = at;
    if (ID_BYTE[b[at]!] !== 2) return undefined;
    while (at < b.length && ID_BYTE[b[at]!]! > 0) at++;
    if (at - idStart > MAX_ID) return undefined;
    ids.push(view.toString('latin1', idStart, at));
    const n = ids.length - 1;
    at = expect(b, at, LEAF_INDEX);
    if (at < 0) return undefined;
    // index: null, or a non-negative safe integer in its shortest decimal form
    let index = -1;
    if (b[at] === 0x6e /* n */) {
      at = expect(b, at, NULL);
      if (at < 0) return undefined;
    } else {
      const start = at;
      if (b[at] === 0x30) at++;
      else while (at < b.length && isDigit(b[at]!)) at++;
      if (at === start || at - start > 16) return undefined;
      index = Number(view.toString('latin1', start, at));
      if (!Number.isSafeInteger(index)) return undefined;
    }
    indices[n] = index;
    at = expect(b, at, LEAF_HASH);
    if (at < 0 || at + 64 > b.length) return undefined;
    for (let i = 0; i < HASH_SIZE; i++) {
      const hi = HEX[b[at + 2 * i]!]!;
      const lo = HEX[b[at + 2 * i + 1]!]!;
      if (hi === 255 || lo === 255) return undefined;
      hashes[n * HASH_SIZE + i] = (hi << 4) | lo;
    }
    at += 64;
    let why = 0;
    const afterMissing = expect(b, at, LEAF_MISSING);
    if (afterMissing >= 0) {
      at = afterMissing;
      for (let m = 0; m < MISSING_BYTES.length && why === 0; m++) {
        const end = expect(b, at, MISSING_BYTES[m]!);
        if (end >= 0 && b[end] === QUOTE) {
          why = m + 1;
          at = end;
        }
      }
      if (why === 0) return undefined;
      // `","receivedAt":"` follows the closing quote of the reason
    }
    // A leaf is either sealed (an index) or missing (a reason), never both or neither.
    if ((index === -1) !== (why !== 0)) return undefined;
    missing[n] = why;
    at = expect(b, at, LEAF_RECEIVED);
    if (at < 0 || at + TIME_LENGTH > b.length) return undefined;
    for (let i = 0; i < TIME_LENGTH; i++) {
      const c = b[at + i]!;
      if (TIME_SHAPE[i] === 0x30 ? !isDigit(c) : c !== TIME_SHAPE[i]) return undefined;
    }
    receivedAt.push(view.toString('latin1', at, at + TIME_LENGTH));
    at = expect(b, at + TIME_LENGTH, LEAF_END);
    if (at < 0) return undefined;
    if (b[at] === 0x2c /* , */) {
      at++;
      continue;
    }
    break;
  }
  at = expect(b, at, SIGNATURE);
  if (at < 0) return undefined;
  const signature = readSignature(b, at);
  if (!signature) return undefined;
  at = expect(b, signature.end, STATEMENT);
  if (at < 0) return undefined;
  const statement = readStatement(b, at);
  if (!statement) return undefined;
  at = expect(b, statement.end, END);
  if (at !== b.length) return undefined;
  const count = ids.length;
  return {
    statement: statement.value,
    signature: signature.value,
    ...(abandon ? { abandon } : {}),
    leaves: {
      count,
      ids,
      receivedAt,
      leafHashes: hashes.slice(0, count * HASH_SIZE),
      indices: indices.slice(0, count),
      missing: missing.slice(0, count),
    },
  };
}

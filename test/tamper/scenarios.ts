/**
 * The tamper scenarios (G4), shared by the tamper suite (tamper-suite.test.ts) and the public test vectors
 * (test/vectors). The tamper suite (G4): one scenario per tamper class, each against its own copy of a folder sealed
 * from the real CloudTrail sample `../shared/data/cloudtrail/strict_permissive.jsonl`. Every scenario
 * asserts the exact set of finding codes, the object each finding names, and the event where the code
 * is about one event. The last test checks that the scenarios exercise every code in FINDING_CODES.
 *
 * The sample spans 2014–2025; sealing all of it hourly would be ~100k periods. The suite seals the
 * window 2024-07-30 … 2024-08-02 with one-hour periods (the default) and 16-event chunks: 288 events,
 * 61 periods of which 49 are empty, 26 chunks. That keeps the whole suite to a few seconds.
 */

import { expect } from 'vitest';
import { deepCheckEvent } from '../../cli/commands/verify.ts';
import { canonicalBytes, canonicalString } from '../../shared/canonical/jcs.ts';
import { KeyFileSigner } from '../../shared/crypto/key-file-signer.ts';
import { loadPublicKey, loadPublicKeys, TrustedKeySet } from '../../shared/crypto/keys.ts';
import { signedHeadOf, type VerifiedHead, verifySignedHead } from '../../shared/head/signed-head.ts';
import { keyRecordBytes, keyRecordObjectKey, signKeyRecord } from '../../shared/keys/key-record.ts';
import { eventIdHash, INDEX_ENTRY_SIZE } from '../../shared/ledger/archive-chunk.ts';
import { batchSealOf, signBatch } from '../../shared/ledger/batch-receipts.ts';
import {
  type BatchRecord,
  type Digest,
  type DigestStatement,
  digestStatementSchema,
  type Receipt,
} from '../../shared/ledger/formats.ts';
import { toHex } from '../../shared/ledger/hex.ts';
import { SealedIdTable } from '../../shared/ledger/id-set.ts';
import { archiveObjectKey, batchFileKey, exclusionsKey } from '../../shared/ledger/object-keys.ts';
import { type Period, periodOf } from '../../shared/ledger/period.ts';
import { readSealedHead, sealPeriod } from '../../shared/ledger/seal-period.ts';
import { hashLeaf, rootFromLeafHashes, sha256 } from '../../shared/merkle/rfc6962.ts';
import type { BatchSeal, PeriodEvent } from '../../shared/ports/ledger-store.ts';
import type { Signer } from '../../shared/ports/signer.ts';
import { FolderObjectStore } from '../../shared/storage/folder-object-store.ts';
import { InMemoryLedgerStore } from '../../shared/storage/in-memory-ledger-store.ts';
import type { Finding, FindingCode } from '../../shared/verify/findings.ts';
import { folderKeyWindows } from '../../shared/verify/folder-key-windows.ts';
import { FolderReader } from '../../shared/verify/object-reader.ts';
import type { VerifyOptions, VerifyReport } from '../../shared/verify/verify-folder.ts';
import { mkfifoSync } from '../support/fifo.ts';
import { appItem, ingestInto, sealFromTable } from '../support/ledger-table.ts';
import {
  appendTrailing,
  archiveLines,
  deleteDigest,
  deleteEvent,
  digestKeys,
  duplicateEvent,
  flipByte,
  insertEvent,
  listObjects,
  loadCloudTrailSample,
  makeEvent,
  modifyDigest,
  modifyEvent,
  readDigest,
  readObject,
  removeObject,
  replaceDigest,
  type SealedFolder,
  sealFolder,
  swapDigests,
  swapEvents,
  TEST_LEDGER,
  tempFolder,
  truncateArchive,
  trustedKeysOf,
  writeObject,
} from '../support/sealed-folder.ts';
import { sealSignedPeriod } from '../support/signed-seal.ts';
import { PROFILE_SCENARIOS } from './profile-scenarios.ts';

export const HOUR = 3600;
export const CHUNK_LEAVES = 16;
export const WINDOW = {
  fromMs: Date.parse('2024-07-30T00:00:00Z'),
  toMs: Date.parse('2024-08-03T00:00:00Z'),
};

const hour = (iso: string): Period => ({ startMs: Date.parse(iso), seconds: HOUR });
/** The periods the scenarios touch, with their event counts in the sealed window. */
export const FIRST = hour('2024-07-30T21:00:00Z'); // 36 events: chunks of 16, 16, 4
const SECOND = hour('2024-07-30T22:00:00Z'); // empty
const EMPTY_MIDDLE = hour('2024-07-31T02:00:00Z'); // empty
const JUL31_12 = hour('2024-07-31T12:00:00Z'); // 28 events
const JUL31_13 = hour('2024-07-31T13:00:00Z'); // 1 event
const JUL31_14 = hour('2024-07-31T14:00:00Z'); // 1 event
const JUL31_19 = hour('2024-07-31T19:00:00Z'); // 19 events
export const AUG01_12 = hour('2024-08-01T12:00:00Z'); // 68 events
const AUG02_08 = hour('2024-08-02T08:00:00Z'); // 49 events
export const LAST = hour('2024-08-02T09:00:00Z'); // 56 events: chunks of 16, 16, 16, 8

const chunk = (period: Period, n: number): string => archiveObjectKey(TEST_LEDGER, period, n, 'events');
const index = (period: Period, n: number): string => archiveObjectKey(TEST_LEDGER, period, n, 'index');
const keysOf = (period: Period) => digestKeys(TEST_LEDGER, period);

/** The pristine folder the scenarios copy; set by sealPristine. */
export let pristine: SealedFolder;
/** Extra folders the scenarios made (forgeries); the caller removes them. */
export const caseFolders: string[] = [];

/**
 * Seals the pristine folder from the CloudTrail sample window. The tamper suite uses a fresh random key;
 * the public test vectors (test/vectors) pass the fixed demo key.
 */
export async function sealPristine(dir: string, signer?: KeyFileSigner): Promise<SealedFolder> {
  const events = loadCloudTrailSample(WINDOW);
  pristine = await sealFolder(dir, {
    events,
    seconds: HOUR,
    chunkLeaves: CHUNK_LEAVES,
    ...(signer ? { signer } : {}),
  });
  return pristine;
}

/** What a scenario's tamper step hands to the verifier and the assertions. */
export interface CaseContext {
  readonly dir: string;
  readonly pristine: SealedFolder;
}

/** The findings a scenario must produce, beyond its code set. */
export interface Expected {
  /** Each must match one finding (object, eventId, eventIndex… as given). */
  readonly findings: Partial<Finding>[];
  /** Exact number of findings, when the scenario pins it. */
  readonly count?: number;
  /** Verifier options for this case (range, keys, deep check). */
  readonly options?: Partial<VerifyOptions>;
  /** Extra assertions on the report. */
  readonly assess?: (report: VerifyReport) => void;
}

export interface Scenario {
  readonly when: string;
  /** The exact set of codes the verifier must report: nothing more, nothing less. */
  readonly codes: readonly FindingCode[];
  readonly tamper: (ctx: CaseContext) => Promise<Expected> | Expected;
}

// ---------------------------------------------------------------------------------------------------
// Helpers for crafted cases.

function readStatement(dir: string, period: Period, ledger = TEST_LEDGER): DigestStatement {
  return digestStatementSchema.parse(
    JSON.parse(readObject(dir, digestKeys(ledger, period).statement).toString('utf8')),
  );
}

/** Writes a digest and its statement for `period`, signed by `signer` (a buggy or forging sealer). */
async function writeSigned(
  dir: string,
  period: Period,
  digest: Digest,
  statement: DigestStatement,
  signer: Signer,
  ledger = TEST_LEDGER,
) {
  const digestBytes = canonicalBytes(digest);
  const nextStatement: DigestStatement = {
    ...statement,
    treeSize: digest.treeSize,
    rootHash: digest.rootHash,
    digestSha256: toHex(sha256(digestBytes)),
  };
  const statementBytes = canonicalBytes(nextStatement);
  const keys = digestKeys(ledger, period);
  writeObject(dir, keys.digest, digestBytes);
  writeObject(dir, keys.statement, statementBytes);
  writeObject(dir, keys.signature, await signer.sign(statementBytes));
}

/** The signed head of `period` as `GET /v1/head` would serve it, checked with the pristine keys. */
function headAt(dir: string, period: Period, folder: SealedFolder): VerifiedHead {
  const statementBytes = readObject(dir, keysOf(period).statement);
  const statement = digestStatementSchema.parse(JSON.parse(statementBytes.toString('utf8')));
  const head = signedHeadOf(statement, statementBytes, readObject(dir, keysOf(period).signature));
  const bytes = Buffer.from(JSON.stringify(head));
  const verified = verifySignedHead(bytes, folder.keys);
  headFiles.set(verified, bytes);
  return verified;
}

/** The head file (`auditseal head --out`) behind each head a scenario passes: test/vectors writes it. */
export const headFiles = new WeakMap<VerifiedHead, Buffer>();
/** The PEM behind each key set a scenario passes instead of the pristine keys: test/vectors writes it. */
export const keyPems = new WeakMap<object, string>();

/** Removes a period's digest objects and its archives: the folder no longer holds that period at all. */
function removePeriod(dir: string, period: Period): void {
  deleteDigest(dir, TEST_LEDGER, period);
  const prefix = `${keysOf(period)
    .digest.replace(/^digests\//, 'archives/')
    .replace(/\.digest\.json$/, '')}/`;
  for (const key of listObjects(dir, prefix)) removeObject(dir, key);
}

/** Leaf hashes of a period's chunks, from their index objects. */
function periodLeaves(dir: string, digest: Digest): Buffer[] {
  const leaves: Buffer[] = [];
  for (const ref of digest.archives) {
    const idx = readObject(dir, ref.indexKey);
    for (let at = 0; at < idx.length; at += INDEX_ENTRY_SIZE) leaves.push(idx.subarray(at, at + 32));
  }
  return leaves;
}

/** Offset just after the first `lines` lines of an archive chunk. */
function lineBoundary(dir: string, key: string, lines: number): number {
  return archiveLines(dir, key)
    .slice(0, lines)
    .reduce((n, line) => n + line.length + 1, 0);
}

/** The largest group of sealed sample events that share one receivedAt: a plausible ingest batch. */
function batchOfSampleEvents(folder: SealedFolder) {
  const groups = new Map<string, typeof folder.events>();
  for (const event of folder.events)
    groups.set(event.receivedAt, [...(groups.get(event.receivedAt) ?? []), event]);
  return [...groups.values()].reduce((best, group) => (group.length > best.length ? group : best));
}

async function receiptsFor(
  events: readonly { id: string; leafHash: Buffer; receivedAt: string }[],
  signer: Signer,
) {
  const batch = await signBatch(
    {
      ledger: TEST_LEDGER,
      batchId: 'batch-0001',
      leaves: events.map((e) => ({ eventId: e.id, receivedAt: e.receivedAt, leafHash: e.leafHash })),
    },
    signer,
  );
  return batch.receipts;
}

function writeReceipts(dir: string, name: string, receipts: readonly Receipt[] | string): string {
  const key = `receipts/${name}`;
  writeObject(dir, key, typeof receipts === 'string' ? receipts : JSON.stringify(receipts, null, 2));
  return key;
}

/** A new, valid canonical event line: a sealed sample event under an id that was never sealed. */
function forgedEventLine(dir: string, key: string, at: number, id: string): Buffer {
  const event = JSON.parse(archiveLines(dir, key)[at]!.toString('utf8')) as Record<string, unknown>;
  event['id'] = id;
  return Buffer.from(canonicalString(event), 'utf8');
}

// ---------------------------------------------------------------------------------------------------
// Provenance (format v2): a second ledger, `table`, ingested through the real ingest path into an
// in-memory ledger table, changed there by an attacker with table access, and sealed from the table the
// way the sealing function does. Its one period sits in the same folder as the sample ledger.

const TABLE_LEDGER = 'table';
const TABLE_PERIOD = hour('2024-08-05T10:00:00Z');
const tableAt = (minutes: number): number => TABLE_PERIOD.startMs + minutes * 60_000 + 123;
const tableChunk = (n: number): string => archiveObjectKey(TABLE_LEDGER, TABLE_PERIOD, n, 'events');
const tableBatches = batchFileKey(TABLE_LEDGER, TABLE_PERIOD, 0);
const tableExclusions = exclusionsKey(TABLE_LEDGER, TABLE_PERIOD);

/** The table after two API requests of TABLE_PERIOD: `app-1`…`app-3` at 10:05, `app-4`, `app-5` at 10:20. */
async function ingestedTable(signer: Signer): Promise<InMemoryLedgerStore> {
  const store = new InMemoryLedgerStore();
  await ingestInto(
    store,
    signer,
    TABLE_LEDGER,
    tableAt(5),
    ['app-1', 'app-2', 'app-3'].map((id) => appItem(id)),
  );
  await ingestInto(
    store,
    signer,
    TABLE_LEDGER,
    tableAt(20),
    ['app-4', 'app-5'].map((id) => appItem(id)),
  );
  return store;
}

/** Seals TABLE_PERIOD from `store` into `dir` with the sample's signer, trusting `keys` for batches. */
async function sealTable(dir: string, store: InMemoryLedgerStore, signer: Signer, keys = pristine.keys) {
  return sealFromTable({
    store,
    ledger: TABLE_LEDGER,
    period: TABLE_PERIOD,
    keys,
    objects: new FolderObjectStore(dir),
    signer,
    chunkLeaves: CHUNK_LEAVES,
  });
}

/** The stored row of event `id` in the table, as the period reader yields it. */
async function tableRow(store: InMemoryLedgerStore, id: string): Promise<PeriodEvent> {
  for await (const row of store.readPeriod(TABLE_LEDGER, TABLE_PERIOD)) {
    if (!('malformed' in row) && row.id === id) return row;
  }
  throw new Error(`no row ${id}`);
}

/** A batch seal of `events` signed by `signer`, as ingest stores it. */
async function signedSealOf(
  signer: Signer,
  ledger: string,
  batchId: string,
  events: readonly { id: string; receivedAt: string; bytes: Uint8Array }[],
): Promise<BatchSeal> {
  const leaves = events.map((e) => ({
    eventId: e.id,
    receivedAt: e.receivedAt,
    leafHash: hashLeaf(e.bytes),
  }));
  const req = { ledger, batchId, leaves };
  return batchSealOf(req, await signBatch(req, signer));
}

/**
 * A sealer that holds the digest key rewrites a sealed period's batch records and signs the digest
 * again: what a buggy or compromised sealer could publish. The archives are left as they are.
 */
async function rewriteBatchRecords(
  dir: string,
  ledger: string,
  period: Period,
  edit: (records: BatchRecord[]) => BatchRecord[],
  signer: Signer,
): Promise<void> {
  const digest = readDigest(dir, ledger, period);
  const ref = digest.batches[0]!;
  const records = edit(archiveLines(dir, ref.key).map((l) => JSON.parse(l.toString('utf8')) as BatchRecord));
  const body = Buffer.from(records.map((r) => `${canonicalString(r)}\n`).join(''), 'utf8');
  const batches =
    records.length === 0
      ? []
      : [{ ...ref, count: records.length, size: body.length, sha256: toHex(sha256(body)) }];
  if (records.length === 0) removeObject(dir, ref.key);
  else writeObject(dir, ref.key, body);
  await writeSigned(dir, period, { ...digest, batches }, readStatement(dir, period, ledger), signer, ledger);
}

// ---------------------------------------------------------------------------------------------------
// The scenario table: one entry per tamper class.

export const SCENARIOS: readonly Scenario[] = [
  {
    when: 'the folder is untampered',
    codes: [],
    tamper: () => ({ findings: [], count: 0 }),
  },
  {
    when: 'the folder is untampered and verified with --deep',
    codes: [],
    tamper: () => ({ findings: [], count: 0, options: { deepCheck: deepCheckEvent } }),
  },

  // Events.
  {
    when: 'an event is modified',
    codes: ['EVENT_MODIFIED'],
    tamper: ({ dir }) => {
      const eventId = modifyEvent(dir, chunk(AUG01_12, 1), 5);
      return {
        count: 1,
        findings: [
          { code: 'EVENT_MODIFIED', object: chunk(AUG01_12, 1), eventId, eventIndex: CHUNK_LEAVES + 5 },
        ],
      };
    },
  },
  {
    when: 'an event is deleted',
    codes: ['EVENT_DELETED'],
    tamper: ({ dir }) => {
      const eventId = deleteEvent(dir, chunk(AUG01_12, 0), 3);
      return {
        count: 1,
        findings: [{ code: 'EVENT_DELETED', object: chunk(AUG01_12, 0), eventIndex: 3 }],
        // The index holds SHA-256(id), not the id: the finding names the deleted event by that hash.
        assess: (report) =>
          expect(report.findings[0]!.message).toContain(eventIdHash(eventId).toString('hex').slice(0, 16)),
      };
    },
  },
  {
    when: 'a new valid canonical event is inserted',
    codes: ['EVENT_INSERTED'],
    tamper: ({ dir }) => {
      const eventId = 'ct:00000000-0000-4000-8000-00000000f0ed';
      insertEvent(dir, chunk(FIRST, 0), 2, forgedEventLine(dir, chunk(FIRST, 0), 2, eventId));
      return { count: 1, findings: [{ code: 'EVENT_INSERTED', object: chunk(FIRST, 0), eventId }] };
    },
  },
  {
    when: 'an event is duplicated',
    codes: ['EVENT_DUPLICATED'],
    tamper: ({ dir }) => {
      const eventId = duplicateEvent(dir, chunk(JUL31_12, 0), 4);
      return {
        count: 1,
        findings: [{ code: 'EVENT_DUPLICATED', object: chunk(JUL31_12, 0), eventId, eventIndex: 4 }],
      };
    },
  },
  {
    when: 'two events are swapped',
    codes: ['EVENT_REORDERED'],
    tamper: ({ dir }) => {
      const ids = swapEvents(dir, chunk(AUG02_08, 2), 6, 7);
      return {
        count: 1,
        findings: [{ code: 'EVENT_REORDERED', object: chunk(AUG02_08, 2) }],
        assess: (report) => expect(ids).toContain(report.findings[0]!.eventId),
      };
    },
  },
  {
    when: 'an archived line is not a JSON event',
    codes: ['ARCHIVE_MALFORMED', 'EVENT_DELETED'],
    tamper: ({ dir }) => {
      const key = chunk(JUL31_19, 0);
      const lines = archiveLines(dir, key);
      lines[3] = Buffer.from('this is not an event');
      writeObject(dir, key, Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));
      return {
        count: 2,
        findings: [
          { code: 'ARCHIVE_MALFORMED', object: key, eventIndex: 3 },
          { code: 'EVENT_DELETED', object: key, eventIndex: 3 },
        ],
      };
    },
  },

  // Digests and the chain.
  {
    when: 'a digest is modified',
    codes: ['DIGEST_MODIFIED'],
    tamper: ({ dir }) => {
      modifyDigest(dir, TEST_LEDGER, JUL31_19, (d) => ({
        ...d,
        archives: d.archives.map((a, i) => (i === 0 ? { ...a, size: a.size + 1 } : a)),
      }));
      return { count: 1, findings: [{ code: 'DIGEST_MODIFIED', object: keysOf(JUL31_19).digest }] };
    },
  },
  {
    when: 'a signed statement is modified',
    codes: ['SIGNATURE_INVALID', 'DIGEST_MALFORMED'],
    tamper: ({ dir }) => {
      const statement = readStatement(dir, LAST);
      writeObject(
        dir,
        keysOf(LAST).statement,
        canonicalBytes({ ...statement, treeSize: statement.treeSize - 1 }),
      );
      return {
        count: 2,
        findings: [
          { code: 'SIGNATURE_INVALID', object: keysOf(LAST).signature },
          { code: 'DIGEST_MALFORMED', object: keysOf(LAST).digest },
        ],
      };
    },
  },
  {
    when: 'an event is removed and digest and statement are rewritten to match, without the signing key',
    codes: ['SIGNATURE_INVALID'],
    tamper: async ({ dir }) => {
      const digest = readDigest(dir, TEST_LEDGER, LAST);
      const last = digest.archives[digest.archives.length - 1]!;
      truncateArchive(dir, last.key, lineBoundary(dir, last.key, last.count - 1));
      truncateArchive(dir, last.indexKey, (last.count - 1) * INDEX_ENTRY_SIZE);
      const chunkLeaves = periodLeaves(dir, { ...digest, archives: [last] });
      const forged: Digest = {
        ...digest,
        treeSize: digest.treeSize - 1,
        rootHash: toHex(rootFromLeafHashes(periodLeaves(dir, digest))),
        archives: [
          ...digest.archives.slice(0, -1),
          {
            ...last,
            count: last.count - 1,
            size: readObject(dir, last.key).length,
            rootHash: toHex(rootFromLeafHashes(chunkLeaves)),
            indexSha256: toHex(sha256(readObject(dir, last.indexKey))),
          },
        ],
      };
      const signature = readObject(dir, keysOf(LAST).signature);
      // Any signer will do: the original signature is put back, as a forger without the key must.
      await writeSigned(dir, LAST, forged, readStatement(dir, LAST), KeyFileSigner.generate());
      writeObject(dir, keysOf(LAST).signature, signature);
      return { count: 1, findings: [{ code: 'SIGNATURE_INVALID', object: keysOf(LAST).signature }] };
    },
  },
  {
    when: 'a signature object is flipped',
    codes: ['SIGNATURE_INVALID'],
    tamper: ({ dir }) => {
      flipByte(dir, keysOf(LAST).signature, 10);
      return { count: 1, findings: [{ code: 'SIGNATURE_INVALID', object: keysOf(LAST).signature }] };
    },
  },
  {
    when: 'all three objects of an empty middle period are deleted',
    codes: ['PERIOD_MISSING'],
    tamper: ({ dir }) => {
      deleteDigest(dir, TEST_LEDGER, EMPTY_MIDDLE);
      return { count: 1, findings: [{ code: 'PERIOD_MISSING', object: keysOf(EMPTY_MIDDLE).digest }] };
    },
  },
  {
    when: 'all three objects of a middle period with archives are deleted',
    codes: ['PERIOD_MISSING', 'ARCHIVE_UNREFERENCED'],
    tamper: ({ dir }) => {
      deleteDigest(dir, TEST_LEDGER, JUL31_12);
      return {
        // Two chunks of two objects each, and (format v2) the period's batch-record file.
        count: 6,
        findings: [
          { code: 'PERIOD_MISSING', object: keysOf(JUL31_12).digest },
          { code: 'ARCHIVE_UNREFERENCED', object: chunk(JUL31_12, 0) },
          { code: 'ARCHIVE_UNREFERENCED', object: index(JUL31_12, 1) },
          { code: 'ARCHIVE_UNREFERENCED', object: batchFileKey(TEST_LEDGER, JUL31_12, 0) },
        ],
      };
    },
  },
  {
    when: 'one of the three objects of a period is deleted',
    codes: ['DIGEST_INCOMPLETE'],
    tamper: ({ dir }) => {
      deleteDigest(dir, TEST_LEDGER, JUL31_12, ['signature']);
      return { count: 1, findings: [{ code: 'DIGEST_INCOMPLETE', object: keysOf(JUL31_12).signature }] };
    },
  },
  {
    when: 'a statement is reformatted and no longer canonical',
    codes: ['DIGEST_MALFORMED'],
    tamper: ({ dir }) => {
      const statement = readStatement(dir, EMPTY_MIDDLE);
      writeObject(dir, keysOf(EMPTY_MIDDLE).statement, JSON.stringify(statement, null, 2));
      return { count: 1, findings: [{ code: 'DIGEST_MALFORMED', object: keysOf(EMPTY_MIDDLE).statement }] };
    },
  },
  {
    when: 'a digest is replaced by one sealed from other events with the trusted key, chained to the period before',
    codes: ['CHAIN_BROKEN'],
    tamper: async ({ dir, pristine }) => {
      const previous = await readSealedHead(new FolderObjectStore(pristine.dir), TEST_LEDGER, JUL31_12);
      const forgery = tempFolder('tamper-forgery');
      caseFolders.push(forgery);
      await sealSignedPeriod(
        {
          ledger: TEST_LEDGER,
          period: JUL31_13,
          previous: previous!,
          events: [makeEvent('forged-event-1', '2024-07-31T13:10:00.000Z')],
          chunkLeaves: CHUNK_LEAVES,
        },
        { store: new FolderObjectStore(forgery), signer: pristine.signer },
      );
      replaceDigest(dir, forgery, TEST_LEDGER, JUL31_13);
      return {
        count: 1,
        findings: [{ code: 'CHAIN_BROKEN', object: keysOf(JUL31_14).statement }],
        assess: (report) =>
          expect(report.findings[0]!.evidence?.expected).toBe(
            toHex(sha256(readObject(dir, keysOf(JUL31_13).statement))),
          ),
      };
    },
  },
  {
    when: 'a digest is replaced by one that starts a new chain at the same period',
    codes: ['CHAIN_BROKEN'],
    tamper: async ({ dir, pristine }) => {
      const forgery = tempFolder('tamper-forgery');
      caseFolders.push(forgery);
      await sealSignedPeriod(
        {
          ledger: TEST_LEDGER,
          period: JUL31_13,
          previous: null,
          events: [makeEvent('forged-event-1', '2024-07-31T13:10:00.000Z')],
          chunkLeaves: CHUNK_LEAVES,
        },
        { store: new FolderObjectStore(forgery), signer: pristine.signer },
      );
      replaceDigest(dir, forgery, TEST_LEDGER, JUL31_13);
      return {
        count: 2,
        findings: [
          { code: 'CHAIN_BROKEN', object: keysOf(JUL31_13).statement },
          { code: 'CHAIN_BROKEN', object: keysOf(JUL31_14).statement },
        ],
      };
    },
  },
  {
    when: 'a digest is replaced by one signed with an untrusted key',
    codes: ['KEY_UNKNOWN', 'CHAIN_BROKEN'],
    tamper: async ({ dir, pristine }) => {
      const previous = await readSealedHead(new FolderObjectStore(pristine.dir), TEST_LEDGER, JUL31_12);
      const forgery = tempFolder('tamper-forgery');
      caseFolders.push(forgery);
      const events = pristine.events.filter(
        (e) => periodOf(Date.parse(e.receivedAt), HOUR).startMs === JUL31_13.startMs,
      );
      await sealSignedPeriod(
        { ledger: TEST_LEDGER, period: JUL31_13, previous: previous!, events, chunkLeaves: CHUNK_LEAVES },
        { store: new FolderObjectStore(forgery), signer: KeyFileSigner.generate() },
      );
      replaceDigest(dir, forgery, TEST_LEDGER, JUL31_13);
      return {
        count: 2,
        findings: [
          { code: 'KEY_UNKNOWN', object: keysOf(JUL31_13).statement },
          { code: 'CHAIN_BROKEN', object: keysOf(JUL31_14).statement },
        ],
      };
    },
  },
  {
    when: 'the digests of two periods are swapped',
    codes: ['DIGEST_MOVED', 'CHAIN_BROKEN'],
    tamper: ({ dir }) => {
      swapDigests(dir, TEST_LEDGER, JUL31_12, AUG01_12);
      const next = (p: Period): Period => ({ startMs: p.startMs + HOUR * 1000, seconds: HOUR });
      return {
        count: 6,
        findings: [
          {
            code: 'DIGEST_MOVED',
            object: keysOf(JUL31_12).statement,
            evidence: { expected: keysOf(AUG01_12).digest, computed: keysOf(JUL31_12).digest },
          },
          { code: 'DIGEST_MOVED', object: keysOf(AUG01_12).statement },
          { code: 'CHAIN_BROKEN', object: keysOf(JUL31_12).statement },
          { code: 'CHAIN_BROKEN', object: keysOf(next(JUL31_12)).statement },
          { code: 'CHAIN_BROKEN', object: keysOf(AUG01_12).statement },
          { code: 'CHAIN_BROKEN', object: keysOf(next(AUG01_12)).statement },
        ],
      };
    },
  },
  {
    when: 'a second chain of another period length overlaps the first period',
    codes: ['PERIOD_OVERLAP'],
    tamper: async ({ dir, pristine }) => {
      await sealSignedPeriod(
        {
          ledger: TEST_LEDGER,
          period: { startMs: FIRST.startMs, seconds: 1800 },
          previous: null,
          events: [],
        },
        { store: new FolderObjectStore(dir), signer: pristine.signer },
      );
      return { count: 1, findings: [{ code: 'PERIOD_OVERLAP', object: keysOf(FIRST).digest }] };
    },
  },
  {
    when: 'a sealer signs a digest whose archives do not reproduce its root',
    codes: ['ROOT_MISMATCH'],
    tamper: async ({ dir, pristine }) => {
      const digest = readDigest(dir, TEST_LEDGER, LAST);
      const wrongRoot = toHex(hashLeaf(Buffer.from('not the root')));
      await writeSigned(
        dir,
        LAST,
        { ...digest, rootHash: wrongRoot },
        readStatement(dir, LAST),
        pristine.signer,
      );
      return {
        count: 1,
        findings: [
          {
            code: 'ROOT_MISMATCH',
            object: keysOf(LAST).statement,
            evidence: { expected: wrongRoot, computed: digest.rootHash },
          },
        ],
      };
    },
  },

  // Missing periods.
  {
    when: 'the verified range extends beyond the sealed periods',
    codes: ['PERIOD_MISSING'],
    tamper: () => ({
      options: { fromMs: Date.parse('2024-07-30T18:00:00Z'), toMs: Date.parse('2024-08-02T12:00:00Z') },
      // One finding per run of missing periods, not one per period.
      count: 1,
      findings: [
        {
          code: 'PERIOD_MISSING',
          object: keysOf(hour('2024-08-02T10:00:00Z')).digest,
          periods: { first: '2024-08-02T10:00:00Z', last: '2024-08-02T11:00:00Z', count: 2, seconds: HOUR },
        },
      ],
    }),
  },

  // Truncation, against a signed head kept earlier.
  {
    when: 'the folder reaches the signed head',
    codes: [],
    tamper: ({ dir, pristine }) => ({
      count: 0,
      findings: [],
      options: { head: headAt(dir, LAST, pristine) },
      assess: (report) =>
        expect(report.ledgers[0]).toMatchObject({
          firstPeriod: '2024-07-30T21:00:00Z',
          lastPeriod: '2024-08-02T09:00:00Z',
          startsAtGenesis: true,
          head: { periodStart: '2024-08-02T09:00:00Z', sequence: 60, status: 'reached' },
        }),
    }),
  },
  {
    when: 'the newest two periods are cut from the folder and the head is given',
    codes: ['LEDGER_TRUNCATED'],
    tamper: ({ dir, pristine }) => {
      const head = headAt(dir, LAST, pristine);
      removePeriod(dir, AUG02_08);
      removePeriod(dir, LAST);
      return {
        count: 1,
        options: { head },
        findings: [
          {
            code: 'LEDGER_TRUNCATED',
            object: keysOf(LAST).digest,
            periods: { first: '2024-08-02T08:00:00Z', last: '2024-08-02T09:00:00Z', count: 2, seconds: HOUR },
          },
        ],
        assess: (report) =>
          expect(report.ledgers[0]).toMatchObject({
            lastPeriod: '2024-08-02T07:00:00Z',
            head: { status: 'truncated' },
          }),
      };
    },
  },
  {
    when: 'the newest two periods are cut from the folder without a head',
    codes: [],
    tamper: ({ dir }) => {
      removePeriod(dir, AUG02_08);
      removePeriod(dir, LAST);
      // This is why heads exist: without one, a cut tail is invisible; the report states where it ends.
      return {
        count: 0,
        findings: [],
        assess: (report) => expect(report.ledgers[0]).toMatchObject({ lastPeriod: '2024-08-02T07:00:00Z' }),
      };
    },
  },
  {
    when: 'the tail is cut, the head is given and --to lies beyond the head',
    codes: ['LEDGER_TRUNCATED', 'PERIOD_MISSING'],
    tamper: ({ dir, pristine }) => {
      const head = headAt(dir, LAST, pristine);
      removePeriod(dir, LAST);
      return {
        count: 2,
        options: { head, toMs: Date.parse('2024-08-02T12:00:00Z') },
        findings: [
          { code: 'LEDGER_TRUNCATED', object: keysOf(LAST).digest },
          {
            code: 'PERIOD_MISSING',
            object: keysOf(hour('2024-08-02T10:00:00Z')).digest,
            periods: { first: '2024-08-02T10:00:00Z', last: '2024-08-02T11:00:00Z', count: 2, seconds: HOUR },
          },
        ],
      };
    },
  },
  {
    when: 'the tail is cut but the head lies after --to',
    codes: [],
    tamper: ({ dir, pristine }) => {
      const head = headAt(dir, LAST, pristine);
      removePeriod(dir, LAST);
      return {
        count: 0,
        findings: [],
        options: { head, toMs: LAST.startMs },
        assess: (report) => expect(report.ledgers[0]!.head?.status).toBe('outside-range'),
      };
    },
  },
  {
    when: 'the folder holds the head period sealed again, differently, with the trusted key',
    codes: ['HEAD_MISMATCH'],
    tamper: async ({ dir, pristine }) => {
      const head = headAt(dir, LAST, pristine);
      const previous = await readSealedHead(new FolderObjectStore(pristine.dir), TEST_LEDGER, AUG02_08);
      const forgery = tempFolder('tamper-forgery');
      caseFolders.push(forgery);
      await sealSignedPeriod(
        {
          ledger: TEST_LEDGER,
          period: LAST,
          previous: previous!,
          events: [makeEvent('forged-event-1', '2024-08-02T09:10:00.000Z')],
          chunkLeaves: CHUNK_LEAVES,
        },
        { store: new FolderObjectStore(forgery), signer: pristine.signer },
      );
      replaceDigest(dir, forgery, TEST_LEDGER, LAST);
      return {
        count: 1,
        options: { head },
        findings: [
          {
            code: 'HEAD_MISMATCH',
            object: keysOf(LAST).statement,
            evidence: {
              expected: head.statementSha256,
              computed: toHex(sha256(readObject(dir, keysOf(LAST).statement))),
            },
          },
        ],
      };
    },
  },
  {
    when: 'the folder holds no digest of the head ledger',
    codes: ['LEDGER_TRUNCATED'],
    tamper: ({ dir, pristine }) => {
      const head = headAt(dir, LAST, pristine);
      for (const key of [...listObjects(dir, 'digests/'), ...listObjects(dir, 'archives/')])
        removeObject(dir, key);
      return {
        count: 1,
        options: { head },
        findings: [
          {
            code: 'LEDGER_TRUNCATED',
            object: keysOf(LAST).digest,
            periods: {
              first: '2024-07-30T21:00:00Z',
              last: '2024-08-02T09:00:00Z',
              count: 61,
              seconds: HOUR,
            },
          },
        ],
      };
    },
  },

  // Objects that are not regular files (test/tamper/hostile-folder.test.ts has one case per kind).
  {
    when: 'an archive chunk is replaced by a FIFO',
    codes: ['OBJECT_NOT_REGULAR', 'ARCHIVE_MISSING'],
    tamper: ({ dir }) => {
      removeObject(dir, chunk(JUL31_19, 1));
      mkfifoSync(`${dir}/${chunk(JUL31_19, 1)}`);
      return {
        count: 2,
        findings: [
          { code: 'OBJECT_NOT_REGULAR', object: chunk(JUL31_19, 1) },
          { code: 'ARCHIVE_MISSING', object: chunk(JUL31_19, 1) },
        ],
      };
    },
  },
  {
    when: 'the first digest is deleted and --from names its period',
    codes: ['PERIOD_MISSING', 'ARCHIVE_UNREFERENCED'],
    tamper: ({ dir }) => {
      deleteDigest(dir, TEST_LEDGER, FIRST);
      return {
        options: { fromMs: FIRST.startMs },
        // Three chunks of two objects each, and (format v2) the period's batch-record file.
        count: 8,
        findings: [
          { code: 'PERIOD_MISSING', object: keysOf(FIRST).digest },
          { code: 'ARCHIVE_UNREFERENCED', object: chunk(FIRST, 2) },
          { code: 'ARCHIVE_UNREFERENCED', object: batchFileKey(TEST_LEDGER, FIRST, 0) },
        ],
      };
    },
  },
  {
    when: 'the first digest is deleted and no --from is given',
    codes: ['CHAIN_START_MISSING', 'ARCHIVE_UNREFERENCED'],
    tamper: ({ dir }) => {
      deleteDigest(dir, TEST_LEDGER, FIRST);
      return {
        // Three chunks of two objects each and the batch-record file, plus CHAIN_START_MISSING.
        count: 8,
        findings: [
          { code: 'CHAIN_START_MISSING', object: keysOf(SECOND).statement },
          { code: 'ARCHIVE_UNREFERENCED', object: chunk(FIRST, 0) },
          { code: 'ARCHIVE_UNREFERENCED', object: index(FIRST, 2) },
          { code: 'ARCHIVE_UNREFERENCED', object: batchFileKey(TEST_LEDGER, FIRST, 0) },
        ],
      };
    },
  },
  {
    when: 'the folder is verified with a different trusted key',
    codes: ['KEY_UNKNOWN'],
    tamper: async ({ pristine }) => {
      const other = KeyFileSigner.generate();
      const pem = await other.publicKeyPem();
      const keys = new TrustedKeySet([loadPublicKey(pem)]);
      keyPems.set(keys, pem);
      return {
        options: { keys },
        count: pristine.sealed.length,
        findings: pristine.sealed.map((s) => ({
          code: 'KEY_UNKNOWN' as const,
          object: keysOf(s.period).statement,
        })),
      };
    },
  },
  {
    when: 'a trusted key record says the signing key was replaced before the last period ended',
    codes: ['KEY_OUTSIDE_WINDOW'],
    tamper: async ({ dir, pristine }) => {
      // The pristine key keeps signing after its successor took over: what a thief holding the retired
      // key, or a sealer left on the old key, produces. Both keys are trusted; the record bounds the old.
      const last = pristine.sealed[pristine.sealed.length - 1]!.period;
      const successor = KeyFileSigner.generate();
      const retiredPem = await pristine.signer.publicKeyPem();
      const record = await signKeyRecord(successor, {
        ledger: TEST_LEDGER,
        notBefore: new Date(last.startMs + 30 * 60 * 1000),
        previousPublicKeyPem: retiredPem,
      });
      writeObject(dir, keyRecordObjectKey(TEST_LEDGER, await successor.keyId()), keyRecordBytes(record));
      const pem = `${retiredPem}${await successor.publicKeyPem()}`;
      const keys = new TrustedKeySet(loadPublicKeys(pem));
      keyPems.set(keys, pem);
      return {
        options: { keys, keyWindow: await folderKeyWindows(new FolderReader(dir), keys) },
        count: 1,
        findings: [{ code: 'KEY_OUTSIDE_WINDOW', object: keysOf(last).statement }],
      };
    },
  },
  {
    when: 'a key record signed by an untrusted key claims the signing key was replaced long ago',
    codes: [],
    tamper: async ({ dir, pristine }) => {
      const intruder = KeyFileSigner.generate();
      const record = await signKeyRecord(intruder, {
        ledger: TEST_LEDGER,
        notBefore: new Date(pristine.sealed[0]!.period.startMs),
        previousPublicKeyPem: await pristine.signer.publicKeyPem(),
      });
      writeObject(dir, keyRecordObjectKey(TEST_LEDGER, await intruder.keyId()), keyRecordBytes(record));
      return {
        options: { keyWindow: await folderKeyWindows(new FolderReader(dir), pristine.keys) },
        count: 0,
        findings: [],
      };
    },
  },

  // Archives and indexes.
  {
    when: 'an archive is truncated at a line boundary',
    codes: ['ARCHIVE_TRUNCATED'],
    tamper: ({ dir }) => {
      truncateArchive(dir, chunk(AUG01_12, 0), lineBoundary(dir, chunk(AUG01_12, 0), 10));
      return { count: 1, findings: [{ code: 'ARCHIVE_TRUNCATED', object: chunk(AUG01_12, 0) }] };
    },
  },
  {
    when: 'an archive is truncated in the middle of a line',
    codes: ['ARCHIVE_TRUNCATED'],
    tamper: ({ dir }) => {
      truncateArchive(dir, chunk(AUG01_12, 0), lineBoundary(dir, chunk(AUG01_12, 0), 10) + 7);
      return { count: 1, findings: [{ code: 'ARCHIVE_TRUNCATED', object: chunk(AUG01_12, 0) }] };
    },
  },
  {
    when: 'an archive has trailing bytes',
    codes: ['ARCHIVE_TRAILING_DATA'],
    tamper: ({ dir }) => {
      appendTrailing(dir, chunk(FIRST, 2), '{"id":"ct:smuggled"}\n');
      return { count: 1, findings: [{ code: 'ARCHIVE_TRAILING_DATA', object: chunk(FIRST, 2) }] };
    },
  },
  {
    when: 'an archive is deleted',
    codes: ['ARCHIVE_MISSING'],
    tamper: ({ dir }) => {
      removeObject(dir, chunk(AUG02_08, 1));
      return { count: 1, findings: [{ code: 'ARCHIVE_MISSING', object: chunk(AUG02_08, 1) }] };
    },
  },
  {
    when: 'an index is modified',
    codes: ['INDEX_MODIFIED'],
    tamper: ({ dir }) => {
      flipByte(dir, index(AUG02_08, 1), 40);
      return { count: 1, findings: [{ code: 'INDEX_MODIFIED', object: index(AUG02_08, 1) }] };
    },
  },
  {
    when: 'an index is deleted',
    codes: ['INDEX_MISSING'],
    tamper: ({ dir }) => {
      removeObject(dir, index(AUG02_08, 1));
      return { count: 1, findings: [{ code: 'INDEX_MISSING', object: index(AUG02_08, 1) }] };
    },
  },
  {
    when: 'an index is deleted and an event of its chunk is modified',
    codes: ['INDEX_MISSING', 'ROOT_MISMATCH'],
    tamper: ({ dir }) => {
      removeObject(dir, index(AUG02_08, 1));
      modifyEvent(dir, chunk(AUG02_08, 1), 0);
      return {
        count: 2,
        findings: [
          { code: 'INDEX_MISSING', object: index(AUG02_08, 1) },
          { code: 'ROOT_MISMATCH', object: chunk(AUG02_08, 1) },
        ],
      };
    },
  },
  {
    when: 'an extra object sits under archives/',
    codes: ['ARCHIVE_UNREFERENCED'],
    tamper: ({ dir }) => {
      const extra = archiveObjectKey(TEST_LEDGER, FIRST, 3, 'events');
      writeObject(dir, extra, readObject(dir, chunk(FIRST, 0)));
      return { count: 1, findings: [{ code: 'ARCHIVE_UNREFERENCED', object: extra }] };
    },
  },
  {
    when: 'junk files sit under digests/ and archives/',
    codes: ['OBJECT_UNEXPECTED'],
    tamper: ({ dir }) => {
      writeObject(dir, 'digests/import/2024/07/30/notes.txt', 'nothing to see');
      writeObject(dir, 'archives/import/2024/07/30/20240730T210000Z-3600s/000000.jsonl.bak', 'old copy');
      return {
        count: 2,
        findings: [
          { code: 'OBJECT_UNEXPECTED', object: 'digests/import/2024/07/30/notes.txt' },
          {
            code: 'OBJECT_UNEXPECTED',
            object: 'archives/import/2024/07/30/20240730T210000Z-3600s/000000.jsonl.bak',
          },
        ],
      };
    },
  },

  // Receipts.
  {
    when: 'valid receipts of sealed events are in receipts/',
    codes: [],
    tamper: async ({ dir, pristine }) => {
      const batch = batchOfSampleEvents(pristine);
      writeReceipts(dir, 'batch-0001.json', await receiptsFor(batch, pristine.signer));
      return {
        count: 0,
        findings: [],
        assess: (report) => {
          expect(batch.length).toBeGreaterThanOrEqual(3);
          expect(report.stats.receipts).toBe(batch.length);
        },
      };
    },
  },
  {
    when: 'a valid receipt names an event that was never sealed',
    codes: ['RECEIPT_NOT_SEALED'],
    tamper: async ({ dir, pristine }) => {
      const unsealed = makeEvent('never-sealed-1', '2024-07-31T12:36:51.000Z');
      const object = writeReceipts(dir, 'unsealed.json', await receiptsFor([unsealed], pristine.signer));
      return { count: 1, findings: [{ code: 'RECEIPT_NOT_SEALED', object, eventId: 'never-sealed-1' }] };
    },
  },
  {
    when: 'a receipt audit path has a flipped byte',
    codes: ['RECEIPT_PROOF_INVALID'],
    tamper: async ({ dir, pristine }) => {
      const [first, ...rest] = await receiptsFor(batchOfSampleEvents(pristine), pristine.signer);
      const path = [...first!.auditPath];
      path[0] = `${path[0]![0] === '0' ? '1' : '0'}${path[0]!.slice(1)}`;
      const object = writeReceipts(dir, 'batch.json', [{ ...first!, auditPath: path }, ...rest]);
      return { count: 1, findings: [{ code: 'RECEIPT_PROOF_INVALID', object, eventId: first!.eventId }] };
    },
  },
  {
    when: 'a receipt signature is damaged',
    codes: ['RECEIPT_SIGNATURE_INVALID'],
    tamper: async ({ dir, pristine }) => {
      const [first] = await receiptsFor(batchOfSampleEvents(pristine), pristine.signer);
      const signature = Buffer.from(first!.signature, 'base64');
      signature[signature.length - 1] = signature[signature.length - 1]! ^ 0x01;
      const object = writeReceipts(dir, 'batch.json', [
        { ...first!, signature: signature.toString('base64') },
      ]);
      return { count: 1, findings: [{ code: 'RECEIPT_SIGNATURE_INVALID', object, eventId: first!.eventId }] };
    },
  },
  {
    when: 'a receipt is signed by an untrusted key',
    codes: ['RECEIPT_KEY_UNKNOWN'],
    tamper: async ({ dir, pristine }) => {
      const [first] = await receiptsFor(batchOfSampleEvents(pristine), KeyFileSigner.generate());
      const object = writeReceipts(dir, 'batch.json', [first!]);
      return { count: 1, findings: [{ code: 'RECEIPT_KEY_UNKNOWN', object, eventId: first!.eventId }] };
    },
  },
  {
    when: 'receipt files do not parse as receipts',
    codes: ['RECEIPT_MALFORMED'],
    tamper: ({ dir }) => {
      const notJson = writeReceipts(dir, 'broken.json', '{"type":');
      const notReceipt = writeReceipts(dir, 'other.json', '{"type":"auditseal.receipt.v0"}');
      return {
        count: 2,
        findings: [
          { code: 'RECEIPT_MALFORMED', object: notJson },
          { code: 'RECEIPT_MALFORMED', object: notReceipt },
        ],
      };
    },
  },

  // Provenance (format v2): batch records, exclusions, and what a sealer can and cannot seal.
  {
    when: 'the batch-record file of a period is deleted',
    codes: ['BATCH_FILE_MISSING'],
    tamper: ({ dir }) => {
      const key = batchFileKey(TEST_LEDGER, AUG01_12, 0);
      removeObject(dir, key);
      return { count: 1, findings: [{ code: 'BATCH_FILE_MISSING', object: key }] };
    },
  },
  {
    when: 'a batch record is rewritten to report a sealed event as never stored',
    codes: ['BATCH_FILE_MODIFIED'],
    tamper: ({ dir }) => {
      const key = batchFileKey(TEST_LEDGER, AUG01_12, 0);
      const lines = archiveLines(dir, key).map((l) => JSON.parse(l.toString('utf8')) as BatchRecord);
      const [leaf, ...rest] = lines[0]!.leaves;
      lines[0] = { ...lines[0]!, leaves: [{ ...leaf!, index: null, missing: 'ABSENT' }, ...rest] };
      writeObject(dir, key, lines.map((r) => `${canonicalString(r)}\n`).join(''));
      return { count: 1, findings: [{ code: 'BATCH_FILE_MODIFIED', object: key }] };
    },
  },
  {
    when: 'an event row is deleted from the ledger table before its period is sealed',
    codes: ['BATCH_LEAF_MISSING'],
    tamper: async ({ dir, pristine }) => {
      const store = await ingestedTable(pristine.signer);
      store.tamper.deleteEvent(TABLE_LEDGER, 'app-2');
      const sealed = await sealTable(dir, store, pristine.signer);
      return {
        count: 1,
        findings: [{ code: 'BATCH_LEAF_MISSING', object: tableBatches, eventId: 'app-2' }],
        assess: (report) => {
          // The untouched events are sealed; the deleted one is named, never silently gone.
          expect(sealed.treeSize).toBe(4);
          expect(sealed.provenance.missingSamples).toEqual([
            expect.objectContaining({ eventId: 'app-2', reason: 'ABSENT' }),
          ]);
          expect(report.findings[0]!.message).toContain('no stored row');
        },
      };
    },
  },
  {
    when: 'an event row is edited in the ledger table before its period is sealed',
    codes: ['BATCH_LEAF_MISSING', 'EVENT_EXCLUDED'],
    tamper: async ({ dir, pristine }) => {
      const store = await ingestedTable(pristine.signer);
      const row = await tableRow(store, 'app-4');
      const edited = Buffer.from(Buffer.from(row.bytes).toString('utf8').replace('ssh.login', 'ssh.logout'));
      store.tamper.editBytes(TABLE_LEDGER, 'app-4', edited);
      const sealed = await sealTable(dir, store, pristine.signer);
      return {
        count: 2,
        findings: [
          { code: 'EVENT_EXCLUDED', object: tableExclusions, eventId: 'app-4' },
          { code: 'BATCH_LEAF_MISSING', object: tableBatches, eventId: 'app-4' },
        ],
        assess: (report) => {
          expect(sealed.treeSize).toBe(4);
          expect(report.findings.find((f) => f.code === 'EVENT_EXCLUDED')!.message).toMatch(
            /^EVENT_MODIFIED/,
          );
          expect(report.findings.find((f) => f.code === 'BATCH_LEAF_MISSING')!.message).toContain('changed');
        },
      };
    },
  },
  {
    when: 'a forged event row and a poison row are inserted in the ledger table before sealing',
    codes: ['EVENT_EXCLUDED'],
    tamper: async ({ dir, pristine }) => {
      const store = await ingestedTable(pristine.signer);
      const forged = await tableRow(store, 'app-5');
      const bytes = Buffer.from(Buffer.from(forged.bytes).toString('utf8').replaceAll('app-5', 'app-9'));
      // It claims a genuine batch; that batch never signed app-9.
      store.tamper.insertEvent(TABLE_LEDGER, {
        id: 'app-9',
        receivedAt: forged.receivedAt,
        bytes,
        batchId: forged.batchId!,
        period: TABLE_PERIOD,
      });
      store.tamper.insertMalformed(
        TABLE_LEDGER,
        TABLE_PERIOD,
        `${forged.receivedAt}#app-9~`,
        'body is not binary',
      );
      const sealed = await sealTable(dir, store, pristine.signer);
      return {
        count: 2,
        findings: [
          { code: 'EVENT_EXCLUDED', object: tableExclusions, eventId: 'app-9' },
          { code: 'EVENT_EXCLUDED', object: tableExclusions },
        ],
        assess: (report) => {
          expect(sealed.treeSize).toBe(5);
          expect(report.findings.map((f) => f.message.split(' ')[0]).sort()).toEqual([
            'EVENT_UNSIGNED',
            'ITEM_MALFORMED',
          ]);
        },
      };
    },
  },
  {
    when: 'a forged batch row signed by an unknown key covers an inserted event, and the sealer was configured to trust that key',
    codes: ['BATCH_INVALID', 'EVENT_UNSIGNED'],
    tamper: async ({ dir, pristine }) => {
      const store = await ingestedTable(pristine.signer);
      const forger = KeyFileSigner.generate();
      const event = makeEvent('ct:00000000-0000-4000-8000-0000000f0bad', new Date(tableAt(30)).toISOString());
      const seal = await signedSealOf(forger, TABLE_LEDGER, 'forged-batch', [event]);
      store.tamper.insertBatch(seal);
      store.tamper.insertEvent(TABLE_LEDGER, { ...event, batchId: 'forged-batch', period: TABLE_PERIOD });
      const sealed = await sealTable(
        dir,
        store,
        pristine.signer,
        await trustedKeysOf(pristine.signer, forger),
      );
      return {
        count: 2,
        findings: [
          { code: 'BATCH_INVALID', object: tableBatches },
          { code: 'EVENT_UNSIGNED', object: tableChunk(0), eventIndex: 5 },
        ],
        assess: (report) => {
          expect(sealed.treeSize).toBe(6);
          expect(report.findings.find((f) => f.code === 'BATCH_INVALID')!.message).toContain('untrusted key');
        },
      };
    },
  },
  {
    when: 'a sealer signs a batch record whose leaves do not reproduce its signed root',
    codes: ['BATCH_INVALID', 'EVENT_UNSIGNED'],
    tamper: async ({ dir, pristine }) => {
      await sealTable(dir, await ingestedTable(pristine.signer), pristine.signer);
      const forgedLeaf = toHex(hashLeaf(Buffer.from('{"id":"app-4","forged":true}')));
      await rewriteBatchRecords(
        dir,
        TABLE_LEDGER,
        TABLE_PERIOD,
        (records) =>
          records.map((r, i) =>
            i === 1
              ? { ...r, leaves: r.leaves.map((l, j) => (j === 0 ? { ...l, leafHash: forgedLeaf } : l)) }
              : r,
          ),
        pristine.signer,
      );
      return {
        count: 3,
        findings: [
          { code: 'BATCH_INVALID', object: tableBatches },
          { code: 'EVENT_UNSIGNED', object: tableChunk(0), eventIndex: 3 },
          { code: 'EVENT_UNSIGNED', object: tableChunk(0), eventIndex: 4 },
        ],
        assess: (report) =>
          expect(report.findings.find((f) => f.code === 'BATCH_INVALID')!.message).toContain(
            'do not reproduce the signed root',
          ),
      };
    },
  },
  {
    when: 'a sealer seals events that no batch record covers',
    codes: ['EVENT_UNSIGNED'],
    tamper: async ({ dir, pristine }) => {
      await sealTable(dir, await ingestedTable(pristine.signer), pristine.signer);
      await rewriteBatchRecords(
        dir,
        TABLE_LEDGER,
        TABLE_PERIOD,
        (records) => records.slice(0, 1),
        pristine.signer,
      );
      return {
        count: 2,
        findings: [
          { code: 'EVENT_UNSIGNED', object: tableChunk(0), eventIndex: 3 },
          { code: 'EVENT_UNSIGNED', object: tableChunk(0), eventIndex: 4 },
        ],
      };
    },
  },
  {
    when: 'a sealer seals one event id twice, each copy under its own signed batch',
    codes: ['EVENT_ID_REUSED'],
    tamper: async ({ dir, pristine }) => {
      const at = new Date(tableAt(10)).toISOString();
      const first = makeEvent('ct:00000000-0000-4000-8000-0000000d0b1e', at);
      const second = makeEvent(first.id, at, { action: 's3:DeleteObject' });
      const batches = [
        await signedSealOf(pristine.signer, TABLE_LEDGER, 'batch-a', [first]),
        await signedSealOf(pristine.signer, TABLE_LEDGER, 'batch-b', [second]),
      ];
      const rows = [
        { id: first.id, receivedAt: at, bytes: first.bytes, batchId: 'batch-a' },
        { id: second.id, receivedAt: at, bytes: second.bytes, batchId: 'batch-b' },
      ];
      // The real sealer refuses a second copy of an id (EVENT_DUPLICATE): this one has no such check.
      const add = Object.getOwnPropertyDescriptor(SealedIdTable.prototype, 'tryAdd')!;
      Object.defineProperty(SealedIdTable.prototype, 'tryAdd', { ...add, value: () => [] });
      try {
        await sealPeriod(
          { ledger: TABLE_LEDGER, period: TABLE_PERIOD, previous: null, rows, batches, keys: pristine.keys },
          { store: new FolderObjectStore(dir), signer: pristine.signer },
        );
      } finally {
        Object.defineProperty(SealedIdTable.prototype, 'tryAdd', add);
      }
      return {
        count: 1,
        findings: [{ code: 'EVENT_ID_REUSED', object: tableChunk(0), eventId: first.id, eventIndex: 1 }],
      };
    },
  },
  {
    when: 'a sealer seals signed events out of period order',
    codes: ['EVENT_ORDER_INVALID'],
    tamper: async ({ dir, pristine }) => {
      const early = makeEvent('ct:00000000-0000-4000-8000-00000000ea71', new Date(tableAt(10)).toISOString());
      const late = makeEvent('ct:00000000-0000-4000-8000-0000000001a7', new Date(tableAt(40)).toISOString());
      // One import batch signs both; the sealer writes the later one first.
      await sealSignedPeriod(
        { ledger: TABLE_LEDGER, period: TABLE_PERIOD, previous: null, events: [late, early] },
        { store: new FolderObjectStore(dir), signer: pristine.signer },
      );
      return {
        count: 1,
        findings: [{ code: 'EVENT_ORDER_INVALID', object: tableChunk(0), eventId: early.id, eventIndex: 1 }],
      };
    },
  },
  {
    when: 'a receipt names a sealed event id whose sealed bytes are not the acknowledged ones',
    codes: ['RECEIPT_EVENT_MISMATCH'],
    tamper: async ({ dir, pristine }) => {
      const sealed = pristine.events.find(
        (e) => periodOf(Date.parse(e.receivedAt), HOUR).startMs === AUG01_12.startMs,
      )!;
      // What the client sent and was acknowledged for; the ledger sealed other bytes under that id.
      const acknowledged = Buffer.from(
        Buffer.from(sealed.bytes)
          .toString('utf8')
          .replace(/"action":"[^"]*"/, '"action":"iam:CreateAccessKey"'),
      );
      const [receipt] = await receiptsFor(
        [{ id: sealed.id, receivedAt: sealed.receivedAt, leafHash: hashLeaf(acknowledged) }],
        pristine.signer,
      );
      const object = writeReceipts(dir, 'acknowledged.json', [receipt!]);
      return { count: 1, findings: [{ code: 'RECEIPT_EVENT_MISMATCH', object, eventId: sealed.id }] };
    },
  },

  // --deep: events that only a buggy sealer could have sealed.
  {
    when: 'a buggy sealer sealed non-canonical, invalid and out-of-period events (--deep)',
    codes: ['EVENT_INVALID', 'EVENT_OUT_OF_PERIOD'],
    tamper: async ({ dir, pristine }) => {
      const period = hour('2024-08-05T10:00:00Z');
      const canonical = makeEvent('crafted-1', '2024-08-05T10:15:00.000Z');
      // Same event, one space after the opening brace: valid JSON, not RFC 8785.
      const spaced = Buffer.from(canonical.bytes).toString('utf8').replace(/^\{/, '{ ');
      const outside = makeEvent('crafted-3', '2024-08-05T11:15:00.000Z');
      await sealSignedPeriod(
        {
          ledger: 'crafted',
          period,
          previous: null,
          // The rows' receivedAt (what ingest signed) lie in the period; the bytes say otherwise or
          // are not events at all. Provenance cannot see that; only --deep can.
          events: [
            { id: 'crafted-1', bytes: Buffer.from(spaced), receivedAt: '2024-08-05T10:15:00.000Z' },
            {
              id: 'crafted-2',
              bytes: Buffer.from('{"id":"crafted-2","v":1}'),
              receivedAt: '2024-08-05T10:20:00.000Z',
            },
            { id: 'crafted-3', bytes: outside.bytes, receivedAt: '2024-08-05T10:30:00.000Z' },
            makeEvent('crafted-4', '2024-08-05T10:59:59.999Z'),
          ],
        },
        { store: new FolderObjectStore(dir), signer: pristine.signer },
      );
      const key = archiveObjectKey('crafted', period, 0, 'events');
      return {
        options: { deepCheck: deepCheckEvent },
        count: 3,
        findings: [
          { code: 'EVENT_INVALID', object: key, eventIndex: 0 },
          { code: 'EVENT_INVALID', object: key, eventIndex: 1 },
          { code: 'EVENT_OUT_OF_PERIOD', object: key, eventIndex: 2 },
        ],
        assess: (report) => expect(report.ledgers.map((l) => l.ledger)).toEqual(['crafted', TEST_LEDGER]),
      };
    },
  },
  ...PROFILE_SCENARIOS,
];

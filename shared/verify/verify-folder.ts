/**
 * The offline auditor's verifier (G4): walks every digest in period order and checks signatures against
 * trusted keys, the chain, missing periods, archives and Merkle roots, and receipts when present.
 * Pure library over an ObjectReader; the CLI is a thin shell around it.
 *
 * The chain walk follows aws-cli's CloudTrail validator (previous-digest links, gap reporting), without
 * its catch-all: an unexpected error propagates as an error, never as a finding.
 */
import { parseCanonicalText } from '../canonical/jcs.ts';
import type { VerifiedHead } from '../head/signed-head.ts';
import { type KeyWindow, signedOutsideWindow } from '../keys/key-record.ts';
import { INDEX_ENTRY_SIZE } from '../ledger/archive-chunk.ts';
import {
  type ArchiveRef,
  DIGEST_STATEMENT_TYPE,
  type Digest,
  type DigestStatement,
  digestSchema,
  digestStatementSchema,
} from '../ledger/formats.ts';
import { toHex } from '../ledger/hex.ts';
import {
  archiveObjectKey,
  digestObjectKey,
  type ParsedDigestKey,
  parseDigestObjectKey,
} from '../ledger/object-keys.ts';
import {
  isoSeconds,
  nextPeriod,
  type Period,
  parseIsoSeconds,
  periodEndMs,
  periodOf,
  samePeriod,
} from '../ledger/period.ts';
import { StreamingTree, sha256 } from '../merkle/rfc6962.ts';
import { MAX_P256_DER_SIGNATURE_BYTES, type PublicKeyHandle, verifyP256Sha256 } from '../platform/crypto.ts';
import { MAX_STATEMENT_BYTES } from '../ports/signer.ts';
import type { CheckedRecord } from './batch-record-check.ts';
import type { Finding, PeriodRun } from './findings.ts';
import { NotRegularObjectError, type ObjectReader } from './object-reader.ts';
import { type ResourceEvents, ResourceEventsCollector } from './resource-events.ts';
import { type ChunkResult, hashFromHex, verifyChunk } from './verify-chunk.ts';
import {
  ProfileChecks,
  type ProfileSummary,
  type ResourceSummary,
  type ResourceTimeline,
} from './verify-profiles.ts';
import { PeriodProvenance, type RecordChecker } from './verify-provenance.ts';
import { type BatchLeafCheck, checkReceiptFile } from './verify-receipts.ts';

/**
 * Largest digest object the verifier reads. The digest schema allows 100,000 chunks (about 520 bytes
 * each) and 100,000 batch files (about 230 bytes each); a bigger object cannot be a digest
 * (docs/FORMAT.md §9.1).
 */
export const MAX_DIGEST_BYTES = 128 * 1024 * 1024;

/**
 * How much of a chunk that is longer than committed is read to name what changed: twice the committed
 * size plus 1 MiB (room for inserted and lengthened events), never the whole of a huge or sparse file.
 */
export function diagnosisWindow(committedSize: number): number {
  return 2 * committedSize + 1024 * 1024;
}

/** Trusted public keys by key id. */
export interface TrustedKeys {
  get(keyId: string): { readonly key: PublicKeyHandle } | undefined;
}

/** Progress of the archive phase, in bytes; called often, so keep the callback cheap. */
export interface VerifyProgress {
  readonly phase: 'digests' | 'archives' | 'receipts';
  readonly done: number;
  readonly total: number;
}

export interface VerifyOptions {
  readonly keys: TrustedKeys;
  /** Only periods overlapping [from, to) are verified; every period in the range must have a digest. */
  readonly fromMs?: number;
  readonly toMs?: number;
  /** Also validate every event against the schema, canonical form and its period (slower). */
  readonly deepCheck?: (line: Buffer, period: Period) => Finding['code'] | undefined;
  readonly onProgress?: (progress: VerifyProgress) => void;
  /**
   * A signed head kept earlier (already verified, see verifySignedHead): the folder must reach its period
   * (LEDGER_TRUNCATED) and hold that period's very statement (HEAD_MISMATCH). Ignored when its period
   * lies outside [from, to).
   */
  readonly head?: VerifiedHead;
  /** `--resource`: check only this resource's profile chain, and report its verified timeline. */
  readonly resource?: string;
  /** Also report every resource with profile versions, as verified (`resources`; the auditor's page). */
  readonly listResources?: boolean;
  /**
   * Who checks each archive chunk (verifyChunk's work: hashing its events, its root, its diagnosis).
   * Default: verifyChunk in this thread, one chunk at a time. A checker that runs elsewhere (worker
   * threads) sets `lookahead` above 1: that many chunks are read and checked ahead of the one being
   * used, and their results are still used strictly in order, so the report does not depend on it.
   */
  readonly chunks?: ChunkChecker;
  /**
   * The window of a trusted key of a ledger, from key records signed by trusted keys (FORMAT.md §9.4):
   * a digest statement that names a key already replaced when its period ended is KEY_OUTSIDE_WINDOW.
   */
  readonly keyWindow?: (ledger: string, keyId: string) => KeyWindow | undefined;
}

/** Checks archive chunks, possibly concurrently; see VerifyOptions.chunks. */
export interface ChunkChecker {
  /** Chunks read and checked ahead of the one in use, at least 1 (1: no lookahead). */
  readonly lookahead: number;
  /**
   * The same result as verifyChunk(ref, archive, index, cut) for the same bytes. A checker may take the
   * buffers it is given (transfer them to another thread); it then gives the archive's bytes back as
   * `archive`, which the caller uses from then on.
   */
  check(
    ref: ArchiveRef,
    archive: Buffer | undefined,
    index: Buffer | undefined,
    cut: boolean,
  ): (ChunkResult & { archive?: Buffer }) | Promise<ChunkResult & { archive?: Buffer }>;
  /**
   * The same result as checkBatchRecord(line, context), when this checker also takes batch records; they
   * are then sent `lookahead` records ahead within a batch file, and used strictly in order.
   */
  checkRecord?(
    line: Buffer,
    context: { ledger: string; period: Period },
  ): CheckedRecord | Promise<CheckedRecord>;
}

const IN_THREAD: ChunkChecker = { lookahead: 1, check: verifyChunk };

/** What loading one chunk found: its bytes, its check, and the objects that were not regular files. */
interface LoadedChunk {
  readonly archive: Buffer | undefined;
  readonly result: ChunkResult;
  /** In the order the sequential verifier reads them: archive, index, then the archive's second read. */
  readonly notRegular: NotRegularObjectError[];
}

/** What a folder covers for one ledger: the range a report always states. */
export interface LedgerSummary {
  readonly ledger: string;
  readonly digests: number;
  readonly events: number;
  /** Start of the first and the last period with a digest object in the folder (by object key). */
  readonly firstPeriod?: string;
  readonly lastPeriod?: string;
  readonly periodSeconds?: number;
  /** True when the first digest is the ledger's genesis (sequence 0, no previous statement). */
  readonly startsAtGenesis: boolean;
  /** The --head of this ledger, and whether the folder reaches it. */
  readonly head?: {
    readonly periodStart: string;
    readonly sequence: number;
    /** `reached`: the folder holds the head's period or later; `truncated`: it ends before. */
    readonly status: 'reached' | 'truncated' | 'outside-range';
  };
}

export interface VerifyReport {
  readonly valid: boolean;
  readonly findings: Finding[];
  /** The requested range (`--from`, `--to`), null where open. */
  readonly range: { readonly from: string | null; readonly to: string | null };
  readonly ledgers: LedgerSummary[];
  readonly stats: { digests: number; archives: number; events: number; bytes: number; receipts: number };
  /** Profile versions found in the archives (docs/PROFILES.md, "Verifying the versions in a folder"). */
  readonly profiles: ProfileSummary;
  /**
   * With `resource`: that resource's versions in time order, whether its chain verified, and the events
   * that name it, each verified or not (`events`).
   */
  readonly resource?: ResourceTimeline & { readonly events: ResourceEvents };
  /** With `listResources`: every resource with profile versions, as verified. */
  readonly resources?: ResourceSummary[];
}

/** A digest whose statement was read, with what the chain walk established. */
interface DigestEntry {
  readonly parsed: ParsedDigestKey;
  readonly statementBytes?: Buffer;
  readonly statement?: DigestStatement;
  readonly digest?: Digest;
  /** True when statement, signature and digest all check out; only then is it a chain anchor. */
  trusted: boolean;
}

function parseCanonical<T>(
  bytes: Buffer,
  schema: { safeParse(v: unknown): { success: boolean; data?: T } },
): T | undefined {
  return parseCanonicalText(bytes.toString('utf8'), schema);
}

/**
 * The reader the checks use: an object that is not a regular file gets one OBJECT_NOT_REGULAR finding
 * and then counts as absent, so whatever its absence implies is reported as for a missing object.
 * `note` reports such an object found by a read made elsewhere (chunks read ahead), when its turn comes.
 */
function regularFilesOnly(
  reader: ObjectReader,
  findings: Finding[],
): { reader: ObjectReader; note: (error: NotRegularObjectError) => void } {
  const reported = new Set<string>();
  const note = (error: NotRegularObjectError): void => {
    if (reported.has(error.key)) return;
    reported.add(error.key);
    findings.push({
      code: 'OBJECT_NOT_REGULAR',
      object: error.key,
      message: `a ${error.kind}, not a regular file: not read, counted as absent`,
    });
  };
  return {
    note,
    reader: {
      list: (prefix) => reader.list(prefix),
      async read(key, maxBytes) {
        try {
          return await reader.read(key, maxBytes);
        } catch (error) {
          if (!(error instanceof NotRegularObjectError)) throw error;
          note(error);
          return undefined;
        }
      },
    },
  };
}

/**
 * Reads one chunk and its index as the verifier always has (bounded reads, a bounded second read of a
 * longer chunk) and checks it. Objects that are not regular files are collected, not reported: the
 * caller reports them when it uses the result, so that read-ahead does not change the findings' order.
 */
async function loadChunk(folder: ObjectReader, ref: ArchiveRef, checker: ChunkChecker): Promise<LoadedChunk> {
  const read = async (key: string, maxBytes: number) => {
    try {
      return { bytes: await folder.read(key, maxBytes) };
    } catch (error) {
      if (!(error instanceof NotRegularObjectError)) throw error;
      return { bytes: undefined, error };
    }
  };
  // Never more than the committed size plus one byte: one more tells trailing data apart.
  const [first, indexRead] = await Promise.all([
    read(ref.key, ref.size + 1),
    read(ref.indexKey, ref.count * INDEX_ENTRY_SIZE + 1),
  ]);
  const notRegular = [first.error, indexRead.error].filter((e) => e !== undefined);
  let archive = first.bytes;
  // A longer chunk was changed. A bounded second read lets the index name the inserted or modified
  // events; past that bound (a huge or sparse file) the chunk is reported without naming them.
  let cut = false;
  if (archive && archive.length > ref.size) {
    const window = diagnosisWindow(ref.size);
    const again = await read(ref.key, window + 1);
    if (again.error) notRegular.push(again.error);
    archive = again.bytes;
    cut = archive !== undefined && archive.length > window;
    if (archive && cut) archive = archive.subarray(0, window);
  }
  const result: ChunkResult & { archive?: Buffer } = await checker.check(ref, archive, indexRead.bytes, cut);
  return { archive: result.archive ?? archive, result, notRegular };
}

/**
 * Loads the chunks of `refs` in order, up to `lookahead` of them ahead of the one being used. A load that
 * fails while waiting its turn is marked handled and its error is thrown when that turn comes.
 */
function orderedLoads(
  folder: ObjectReader,
  refs: readonly ArchiveRef[],
  checker: ChunkChecker,
): (i: number) => Promise<LoadedChunk> {
  const loads: Promise<LoadedChunk>[] = [];
  const ahead = Math.max(1, Math.floor(checker.lookahead));
  const start = (i: number): void => {
    if (i >= refs.length || loads[i]) return;
    const load = loadChunk(folder, refs[i]!, checker);
    load.catch(() => undefined);
    loads[i] = load;
  };
  return (i) => {
    for (let k = i; k < i + ahead; k++) start(k);
    const load = loads[i]!;
    // Only the chunks ahead stay referenced: the one in use is the caller's now.
    delete loads[i];
    return load;
  };
}

function overlapsRange(p: Period, options: Pick<VerifyOptions, 'fromMs' | 'toMs'>): boolean {
  return (
    (options.fromMs === undefined || periodEndMs(p) > options.fromMs) &&
    (options.toMs === undefined || p.startMs < options.toMs)
  );
}

/** Verifies a folder (or any ObjectReader). Never throws for bad content; throws only for I/O failures. */
export async function verifyFolder(folder: ObjectReader, options: VerifyOptions): Promise<VerifyReport> {
  const findings: Finding[] = [];
  const { reader, note } = regularFilesOnly(folder, findings);
  const stats = { digests: 0, archives: 0, events: 0, bytes: 0, receipts: 0 };
  const inRange = (p: Period): boolean => overlapsRange(p, options);
  const head = options.head && inRange(options.head.period) ? options.head : undefined;

  // 1. Inventory of digest objects, grouped by ledger and period.
  const byLedger = new Map<string, Map<string, Partial<Record<ParsedDigestKey['part'], ParsedDigestKey>>>>();
  for (const key of (await reader.list('digests/')).sort()) {
    const parsed = parseDigestObjectKey(key);
    if (!parsed) {
      findings.push({ code: 'OBJECT_UNEXPECTED', object: key, message: 'not a digest object key' });
      continue;
    }
    if (!inRange(parsed.period)) continue;
    const ledger = byLedger.get(parsed.ledger) ?? new Map();
    const parts = ledger.get(parsed.base) ?? {};
    parts[parsed.part] = parsed;
    ledger.set(parsed.base, parts);
    byLedger.set(parsed.ledger, ledger);
  }

  const receiptWork = await checkReceiptFile.collect(reader, options.keys, findings);
  const ledgers: LedgerSummary[] = [];
  const archiveJobs: { entry: DigestEntry; digest: Digest }[] = [];
  // Archive folders of periods whose digest is present but unusable: that digest's own finding covers
  // them, and what it names is unknown, so they are not reported again as unreferenced.
  const unreadable = new Set<string>();

  // 2. Digests: statement, key, signature, placement, digest hash, then the chain.
  let digestsDone = 0;
  const digestsTotal = [...byLedger.values()].reduce((n, m) => n + m.size, 0);
  for (const [ledger, bases] of [...byLedger.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const entries: DigestEntry[] = [];
    for (const [base, parts] of [...bases.entries()].sort(
      ([, a], [, b]) => periodStart(a) - periodStart(b),
    )) {
      const anyPart = (parts.statement ?? parts.digest ?? parts.signature)!;
      const entry = await readDigest(reader, base, anyPart, parts, options, findings);
      entries.push(entry);
      stats.digests++;
      options.onProgress?.({ phase: 'digests', done: ++digestsDone, total: digestsTotal });
    }
    const ledgerHead = head?.ledger === ledger ? head : undefined;
    const reachesHead = walkChain(ledger, entries, options, findings, ledgerHead);
    for (const entry of entries) {
      if (entry.digest && entry.statement) archiveJobs.push({ entry, digest: entry.digest });
      else unreadable.add(`${entry.parsed.base.replace(/^digests\//, 'archives/')}/`);
    }
    const first = entries[0]!;
    const last = entries[entries.length - 1]!;
    ledgers.push({
      ledger,
      digests: entries.length,
      events: entries.reduce((n, e) => n + (e.statement?.treeSize ?? 0), 0),
      firstPeriod: isoSeconds(first.parsed.period.startMs),
      lastPeriod: isoSeconds(last.parsed.period.startMs),
      periodSeconds: first.parsed.period.seconds,
      startsAtGenesis: first.statement?.sequence === 0 && first.statement.previousStatementSha256 === null,
      ...headSummary(options.head?.ledger === ledger ? options.head : undefined, ledgerHead, reachesHead),
    });
  }
  // The head's ledger has no digest at all in the folder: everything up to the head is missing.
  if (head && !byLedger.has(head.ledger)) {
    const width = head.period.seconds * 1000;
    const start =
      options.fromMs !== undefined
        ? periodOf(options.fromMs, head.period.seconds)
        : { startMs: head.period.startMs - head.sequence * width, seconds: head.period.seconds };
    const run = periodRun(start, periodEndMs(head.period));
    findings.push({
      code: 'LEDGER_TRUNCATED',
      object: head.digestKey,
      message: `the folder holds no digest of ledger ${head.ledger}; the head is ${isoSeconds(head.period.startMs)} (sequence ${head.sequence})`,
      ...(run ? { periods: run } : {}),
    });
    ledgers.push({
      ledger: head.ledger,
      digests: 0,
      events: 0,
      startsAtGenesis: false,
      ...headSummary(head, head, false),
    });
  } else if (options.head && !byLedger.has(options.head.ledger)) {
    ledgers.push({
      ledger: options.head.ledger,
      digests: 0,
      events: 0,
      startsAtGenesis: false,
      ...headSummary(options.head, undefined, false),
    });
  }
  ledgers.sort((a, b) => a.ledger.localeCompare(b.ledger));
  // A folder without digests proves nothing: an attacker who deleted every digest must not get VALID.
  if (byLedger.size === 0 && !head) {
    const ranged = options.fromMs !== undefined || options.toMs !== undefined;
    findings.push({
      code: 'PERIOD_MISSING',
      object: 'digests/',
      message: ranged ? 'no digest covers the requested range' : 'the folder holds no digest',
    });
  }

  // 3. Archives: every chunk of every digest, combined into the period root.
  const referenced = new Set<string>();
  const reportedChunks = new Set<string>();
  const profileChecks = new ProfileChecks({
    ...(options.fromMs !== undefined ? { fromMs: options.fromMs } : {}),
    ...(options.resource !== undefined ? { resource: options.resource } : {}),
    ...(options.listResources ? { listResources: true } : {}),
  });
  const resourceEvents =
    options.resource !== undefined ? new ResourceEventsCollector(options.resource) : undefined;
  const totalBytes = archiveJobs.reduce((n, j) => n + j.digest.archives.reduce((m, a) => m + a.size, 0), 0);
  let doneBytes = 0;
  const loadChunkAt = orderedLoads(
    folder,
    archiveJobs.flatMap((j) => j.digest.archives),
    options.chunks ?? IN_THREAD,
  );
  let chunkAt = 0;
  const chunkChecker = options.chunks;
  const recordChecker: RecordChecker | undefined = chunkChecker?.checkRecord
    ? {
        lookahead: chunkChecker.lookahead,
        checkRecord: (line, context) => chunkChecker.checkRecord!(line, context),
      }
    : undefined;
  for (const { entry, digest } of archiveJobs) {
    const statement = entry.statement!;
    // The signed period, not the key's: a moved digest still names its own period's archives.
    const period = signedPeriod(statement, entry.parsed.period);
    const tree = new StreamingTree();
    let complete = true;
    let chunkFindings = 0;
    const height = Math.log2(digest.chunkLeaves);
    for (const key of PeriodProvenance.referencedKeys(digest)) referenced.add(key);
    // Provenance is judged only under a trusted digest: an untrusted one is already a finding, and its
    // batches would be signed by the same untrusted key.
    const provenance = new PeriodProvenance({
      enabled: entry.trusted,
      reader,
      digest,
      period,
      keys: options.keys,
      findings,
      onEvent: (e) => receiptWork.observeEvent(digest.ledger, period, e.id, e.leaf),
      ...(recordChecker ? { records: recordChecker } : {}),
    });
    digest.archives.forEach((ref, i) => {
      referenced.add(ref.key);
      referenced.add(ref.indexKey);
      if (
        ref.key !== archiveObjectKey(digest.ledger, period, i, 'events') ||
        ref.indexKey !== archiveObjectKey(digest.ledger, period, i, 'index')
      ) {
        findings.push({
          code: 'DIGEST_MALFORMED',
          object: `${entry.parsed.base}.digest.json`,
          message: `archive ${i} has an unexpected key`,
        });
      }
    });
    for (const ref of digest.archives) {
      const { archive, result, notRegular } = await loadChunkAt(chunkAt++);
      for (const error of notRegular) note(error);
      // A chunk named again by a moved or copied digest is checked again but reported once.
      const chunkId = [ref.key, ref.indexKey, ref.count, ref.size, ref.rootHash, ref.indexSha256].join(' ');
      const firstReport = !reportedChunks.has(chunkId);
      reportedChunks.add(chunkId);
      if (firstReport) findings.push(...result.findings);
      if (archive && firstReport) {
        const { clean, committedLeaves } = result;
        profileChecks.observeChunk({
          ledger: digest.ledger,
          ref,
          archive,
          clean,
          committedLeaves,
          trusted: entry.trusted,
        });
        resourceEvents?.observeChunk({
          ledger: digest.ledger,
          period,
          digestBase: entry.parsed.base,
          ref,
          archive,
          clean,
          committedLeaves,
          trusted: entry.trusted,
        });
      }
      chunkFindings += result.findings.length;
      stats.archives++;
      doneBytes += ref.size;
      stats.bytes += archive?.length ?? 0;
      options.onProgress?.({ phase: 'archives', done: doneBytes, total: totalBytes });
      const leaves = result.committedLeaves;
      if (!leaves || leaves.length !== ref.count || tree.size !== ref.firstIndex) {
        complete = false;
        provenance.skip(ref.firstIndex, ref.count);
        continue;
      }
      if (result.findings.length > 0) provenance.skip(ref.firstIndex, ref.count);
      else await provenance.observe(ref.firstIndex, leaves);
      stats.events += leaves.length;
      receiptWork.observe(digest.ledger, period, leaves);
      if (Number.isInteger(height) && ref.count === digest.chunkLeaves)
        tree.appendSubtree(hashFromHex(ref.rootHash), height);
      else for (const leaf of leaves) tree.appendLeafHash(leaf);
      if (options.deepCheck && archive && firstReport)
        deepCheckChunk(archive, ref.key, ref.firstIndex, period, options.deepCheck, findings);
    }
    await provenance.finish();
    const root = toHex(tree.root());
    if (
      chunkFindings === 0 &&
      (!complete || tree.size !== statement.treeSize || root !== statement.rootHash)
    ) {
      findings.push({
        code: 'ROOT_MISMATCH',
        object: digestObjectKey(digest.ledger, period, 'statement'),
        message: `archives give ${tree.size} events and root ${root}; the statement signs ${statement.treeSize} events`,
        evidence: { expected: statement.rootHash, computed: root },
      });
    }
  }

  // 4. Objects under archives/ that no digest in range names.
  for (const key of (await reader.list('archives/')).sort()) {
    if (referenced.has(key)) continue;
    const m =
      /^archives\/([a-z0-9][a-z0-9-]{0,62})\/\d{4}\/\d{2}\/\d{2}\/(\d{8}T\d{6}Z)-(\d+)s\/(\d{6}\.(jsonl|idx)|batches-\d{6}\.jsonl|exclusions\.jsonl)$/.exec(
        key,
      );
    if (!m) {
      findings.push({ code: 'OBJECT_UNEXPECTED', object: key, message: 'not an archive object key' });
      continue;
    }
    const parsed = parseDigestObjectKey(
      `digests/${key.split('/').slice(1, 5).join('/')}/${m[2]}-${m[3]}s.sig`,
    );
    if (parsed && !inRange(parsed.period)) continue;
    if (unreadable.has(key.slice(0, key.lastIndexOf('/') + 1))) continue;
    findings.push({
      code: 'ARCHIVE_UNREFERENCED',
      object: key,
      message: 'no digest in the verified range names this object',
    });
  }

  // 5. Receipts whose events were not found in their sealed period.
  stats.receipts = receiptWork.count;
  findings.push(
    ...receiptWork.finish(
      (ms) =>
        (options.fromMs === undefined || ms >= options.fromMs) &&
        (options.toMs === undefined || ms < options.toMs),
    ),
  );

  // 6. Resource profile chains, over the versions the archives hold (docs/PROFILES.md).
  const profiles = profileChecks.finish();
  findings.push(...profiles.findings);

  return {
    valid: findings.length === 0,
    findings,
    range: {
      from: options.fromMs === undefined ? null : new Date(options.fromMs).toISOString(),
      to: options.toMs === undefined ? null : new Date(options.toMs).toISOString(),
    },
    ledgers,
    stats,
    profiles: profiles.summary,
    // Every finding is known now: each event of the resource is judged against all of them.
    ...(profiles.resource && resourceEvents
      ? { resource: { ...profiles.resource, events: resourceEvents.finish(findings) } }
      : {}),
    ...(profiles.resources ? { resources: profiles.resources } : {}),
  };
}

function headSummary(
  given: VerifiedHead | undefined,
  inRange: VerifiedHead | undefined,
  reached: boolean,
): Pick<LedgerSummary, 'head'> {
  if (!given) return {};
  const status = !inRange ? 'outside-range' : reached ? 'reached' : 'truncated';
  return { head: { periodStart: isoSeconds(given.period.startMs), sequence: given.sequence, status } };
}

/** The run of periods of `from`'s length from `from` up to `untilMs` (exclusive), or undefined if empty. */
function periodRun(from: Period, untilMs: number): PeriodRun | undefined {
  const width = from.seconds * 1000;
  const count = Math.ceil((untilMs - from.startMs) / width);
  if (!(count > 0)) return undefined;
  return {
    first: isoSeconds(from.startMs),
    last: isoSeconds(from.startMs + (count - 1) * width),
    count,
    seconds: from.seconds,
  };
}

function periodStart(parts: Partial<Record<string, ParsedDigestKey>>): number {
  return (parts['statement'] ?? parts['digest'] ?? parts['signature'])!.period.startMs;
}

async function readDigest(
  reader: ObjectReader,
  base: string,
  anyPart: ParsedDigestKey,
  parts: Partial<Record<ParsedDigestKey['part'], ParsedDigestKey>>,
  options: Pick<VerifyOptions, 'keys' | 'keyWindow'>,
  findings: Finding[],
): Promise<DigestEntry> {
  const keys = options.keys;
  const entry: DigestEntry = { parsed: anyPart, trusted: false };
  const missing = (['digest', 'statement', 'signature'] as const).filter((p) => !parts[p]);
  for (const part of missing) {
    findings.push({
      code: 'DIGEST_INCOMPLETE',
      object: digestObjectKey(anyPart.ledger, anyPart.period, part),
      message: `the ${part} object of period ${isoSeconds(anyPart.period.startMs)} is missing`,
    });
  }
  // A part that is listed but cannot be read (not a regular file, or gone) is as incomplete as a
  // missing one.
  const unreadable = (part: ParsedDigestKey['part']): void => {
    findings.push({
      code: 'DIGEST_INCOMPLETE',
      object: digestObjectKey(anyPart.ledger, anyPart.period, part),
      message: `the ${part} object of period ${isoSeconds(anyPart.period.startMs)} cannot be read as a regular file`,
    });
  };
  const statementKey = `${base}.statement.json`;
  const statementBytes = parts.statement
    ? await reader.read(statementKey, MAX_STATEMENT_BYTES + 1)
    : undefined;
  if (parts.statement && !statementBytes) unreadable('statement');
  if (!statementBytes) return entry;
  const statement =
    statementBytes.length <= MAX_STATEMENT_BYTES
      ? parseCanonical<DigestStatement>(statementBytes, digestStatementSchema)
      : undefined;
  if (!statement) {
    findings.push({
      code: 'DIGEST_MALFORMED',
      object: statementKey,
      message: `not a canonical ${DIGEST_STATEMENT_TYPE}`,
    });
    return entry;
  }
  const withStatement: DigestEntry = { ...entry, statementBytes, statement };
  let trusted = true;
  const key = keys.get(statement.keyId);
  if (!key) {
    findings.push({
      code: 'KEY_UNKNOWN',
      object: statementKey,
      message: `signed by untrusted key ${statement.keyId}`,
    });
    trusted = false;
  } else if (parts.signature) {
    const signature = await reader.read(`${base}.sig`, MAX_P256_DER_SIGNATURE_BYTES + 1);
    if (!signature) unreadable('signature');
    const ok =
      signature !== undefined &&
      signature.length <= MAX_P256_DER_SIGNATURE_BYTES &&
      (await verifyP256Sha256(key.key, statementBytes, signature));
    if (!ok && signature) {
      findings.push({
        code: 'SIGNATURE_INVALID',
        object: `${base}.sig`,
        message: 'signature does not verify over the statement',
      });
    }
    if (!ok) trusted = false;
    const window = ok ? options.keyWindow?.(statement.ledger, statement.keyId) : undefined;
    const periodEnd = Date.parse(statement.periodStart) + statement.periodSeconds * 1000;
    if (signedOutsideWindow(window, periodEnd)) {
      // Signed and chained: it stays a chain anchor, so one finding names it rather than a cascade.
      findings.push({
        code: 'KEY_OUTSIDE_WINDOW',
        object: statementKey,
        message: `signed by key ${statement.keyId} for a period that ended ${new Date(periodEnd).toISOString()}, after the key was replaced at ${new Date(window!.notAfterMs!).toISOString()}`,
      });
    }
  } else {
    trusted = false;
  }
  const expectedDigestKey = `${base}.digest.json`;
  if (
    statement.digestKey !== expectedDigestKey ||
    statement.ledger !== anyPart.ledger ||
    statement.periodStart !== isoSeconds(anyPart.period.startMs) ||
    statement.periodSeconds !== anyPart.period.seconds
  ) {
    findings.push({
      code: 'DIGEST_MOVED',
      object: statementKey,
      message: `statement is signed for ${statement.digestKey}`,
      evidence: { expected: statement.digestKey, computed: expectedDigestKey },
    });
    trusted = false;
  }
  const digestBytes = parts.digest ? await reader.read(expectedDigestKey, MAX_DIGEST_BYTES + 1) : undefined;
  if (parts.digest && !digestBytes) unreadable('digest');
  if (!digestBytes) return { ...withStatement, trusted: false };
  if (digestBytes.length > MAX_DIGEST_BYTES) {
    findings.push({
      code: 'DIGEST_MALFORMED',
      object: expectedDigestKey,
      message: `larger than ${MAX_DIGEST_BYTES} bytes: not a digest (not read further)`,
    });
    return { ...withStatement, trusted: false };
  }
  const digestHash = toHex(sha256(digestBytes));
  if (digestHash !== statement.digestSha256) {
    findings.push({
      code: 'DIGEST_MODIFIED',
      object: expectedDigestKey,
      message: 'digest bytes do not match the signed statement',
      evidence: { expected: statement.digestSha256, computed: digestHash },
    });
    return { ...withStatement, trusted: false };
  }
  const digest = parseCanonical<Digest>(digestBytes, digestSchema);
  if (
    !digest ||
    digest.ledger !== statement.ledger ||
    digest.sequence !== statement.sequence ||
    digest.treeSize !== statement.treeSize ||
    digest.rootHash !== statement.rootHash ||
    digest.period.start !== statement.periodStart ||
    digest.period.seconds !== statement.periodSeconds ||
    digest.period.end !== isoSeconds(periodEndMs(signedPeriod(statement, anyPart.period))) ||
    (digest.previous?.statementSha256 ?? null) !== statement.previousStatementSha256 ||
    !chunksConsistent(digest)
  ) {
    findings.push({
      code: 'DIGEST_MALFORMED',
      object: expectedDigestKey,
      message: 'digest does not agree with its statement',
    });
    return { ...withStatement, trusted: false };
  }
  return { ...withStatement, digest, trusted };
}

/** The period a statement is signed for (its key's period when the signed start is not a real instant). */
function signedPeriod(statement: DigestStatement, fallback: Period): Period {
  const startMs = parseIsoSeconds(statement.periodStart);
  return startMs === undefined ? fallback : { startMs, seconds: statement.periodSeconds };
}

function chunksConsistent(digest: Digest): boolean {
  let next = 0;
  for (const [i, ref] of digest.archives.entries()) {
    if (ref.firstIndex !== next) return false;
    if (i < digest.archives.length - 1 && ref.count !== digest.chunkLeaves) return false;
    if (ref.count > digest.chunkLeaves) return false;
    next += ref.count;
  }
  return next === digest.treeSize && Number.isInteger(Math.log2(digest.chunkLeaves));
}

/**
 * Chain and period coverage for one ledger's digests, sorted by period. Each run of missing periods is one
 * finding, so the report stays linear in the number of objects whatever the dates say. Returns whether
 * the folder reaches `head` (true when there is none).
 */
function walkChain(
  ledger: string,
  entries: DigestEntry[],
  options: VerifyOptions,
  findings: Finding[],
  head: VerifiedHead | undefined,
): boolean {
  let previous: DigestEntry | undefined;
  const seconds =
    entries.find((e) => e.statement)?.parsed.period.seconds ?? entries[0]?.parsed.period.seconds;
  if (seconds === undefined) return head === undefined;
  const missing = (from: Period, untilMs: number): void => {
    const run = periodRun(from, untilMs);
    if (!run) return;
    findings.push({
      code: 'PERIOD_MISSING',
      object: digestObjectKey(ledger, from, 'digest'),
      message:
        run.count === 1
          ? `no digest for period ${run.first}`
          : `no digest for the ${run.count} periods ${run.first} … ${run.last}`,
      periods: run,
    });
  };
  const first = entries[0];
  if (first && options.fromMs !== undefined) {
    const start = periodOf(options.fromMs, seconds);
    const head = first.statement;
    // A range starting before the chain's genesis is only short of periods that never existed.
    const genesis = head?.sequence === 0 && head.previousStatementSha256 === null;
    if (!genesis) missing(start, first.parsed.period.startMs);
  }
  for (const entry of entries) {
    const period = entry.parsed.period;
    if (previous) {
      const prevEnd = periodEndMs(previous.parsed.period);
      if (period.seconds !== previous.parsed.period.seconds || period.startMs < prevEnd) {
        findings.push({
          code: 'PERIOD_OVERLAP',
          object: `${entry.parsed.base}.digest.json`,
          message: `period ${isoSeconds(period.startMs)}/${period.seconds}s overlaps or changes the period length`,
        });
      } else if (period.startMs > prevEnd) {
        missing({ startMs: prevEnd, seconds: period.seconds }, period.startMs);
      }
    }
    const statement = entry.statement;
    if (statement) {
      const adjacent = previous && periodEndMs(previous.parsed.period) === period.startMs;
      if (previous?.statement && previous.statementBytes && adjacent) {
        const prevHash = toHex(sha256(previous.statementBytes));
        const linkOk =
          statement.previousStatementSha256 === prevHash &&
          statement.sequence === previous.statement.sequence + 1 &&
          (entry.digest === undefined || entry.digest.previous?.digestKey === previous.statement.digestKey);
        if (!linkOk) {
          findings.push({
            code: 'CHAIN_BROKEN',
            object: `${entry.parsed.base}.statement.json`,
            message: `does not link to the digest of ${isoSeconds(previous.parsed.period.startMs)}`,
            evidence: { expected: prevHash, computed: statement.previousStatementSha256 ?? 'null' },
          });
        }
      } else if (
        !previous &&
        options.fromMs === undefined &&
        (statement.sequence !== 0 || statement.previousStatementSha256 !== null)
      ) {
        findings.push({
          code: 'CHAIN_START_MISSING',
          object: `${entry.parsed.base}.statement.json`,
          message: `the first digest has sequence ${statement.sequence}; earlier digests are missing (use --from to verify a partial range)`,
        });
      }
    }
    if (head && samePeriod(period, head.period) && entry.statementBytes) {
      const held = toHex(sha256(entry.statementBytes));
      if (held !== head.statementSha256) {
        findings.push({
          code: 'HEAD_MISMATCH',
          object: `${entry.parsed.base}.statement.json`,
          message: `the head signs another statement for period ${isoSeconds(period.startMs)} (sequence ${head.sequence})`,
          evidence: { expected: head.statementSha256, computed: held },
        });
      }
    }
    previous = entry;
  }
  if (!previous) return head === undefined;
  let tail = nextPeriod(previous.parsed.period);
  let reached = true;
  if (head && head.period.startMs >= tail.startMs) {
    // The folder ends before the head: its newest periods were cut off (or not downloaded).
    reached = false;
    const run = periodRun(tail, periodEndMs(head.period));
    findings.push({
      code: 'LEDGER_TRUNCATED',
      object: head.digestKey,
      message: `the folder ends with period ${isoSeconds(previous.parsed.period.startMs)}; the head is ${isoSeconds(head.period.startMs)} (sequence ${head.sequence})${run ? `: ${run.count} period(s) missing at the end` : ''}`,
      ...(run ? { periods: run } : {}),
    });
    tail = nextPeriod({ startMs: head.period.startMs, seconds: tail.seconds });
  }
  if (options.toMs !== undefined) missing(tail, options.toMs);
  return reached;
}

function deepCheckChunk(
  archive: Buffer,
  object: string,
  firstIndex: number,
  period: Period,
  check: NonNullable<VerifyOptions['deepCheck']>,
  findings: Finding[],
): void {
  let start = 0;
  let i = 0;
  while (start < archive.length) {
    const nl = archive.indexOf(0x0a, start);
    if (nl === -1) break;
    const code = check(archive.subarray(start, nl), period);
    if (code) {
      findings.push({
        code,
        object,
        eventIndex: firstIndex + i,
        message: `event #${firstIndex + i}: ${code}`,
      });
    }
    start = nl + 1;
    i++;
  }
}

export type { BatchLeafCheck };

/**
 * The offline auditor's verifier (G4): walks every digest in period order and checks signatures against
 * trusted keys, the chain, missing periods, archives and Merkle roots, and receipts when present.
 * Pure library over an ObjectReader; the CLI is a thin shell around it.
 *
 * The chain walk follows aws-cli's CloudTrail validator (previous-digest links, gap reporting), without
 * its catch-all: an unexpected error propagates as an error, never as a finding.
 */
import { type KeyObject, verify } from 'node:crypto';
import { canonicalString } from '../canonical/jcs.ts';
import {
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
} from '../ledger/period.ts';
import { StreamingTree, sha256 } from '../merkle/rfc6962.ts';
import type { Finding } from './findings.ts';
import type { ObjectReader } from './object-reader.ts';
import { hashFromHex, verifyChunk } from './verify-chunk.ts';
import { PeriodProvenance } from './verify-provenance.ts';
import { type BatchLeafCheck, checkReceiptFile } from './verify-receipts.ts';

/** Trusted public keys by key id. */
export interface TrustedKeys {
  get(keyId: string): { readonly key: KeyObject } | undefined;
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
}

export interface LedgerSummary {
  readonly ledger: string;
  readonly digests: number;
  readonly events: number;
  readonly firstPeriod?: string;
  readonly lastPeriod?: string;
}

export interface VerifyReport {
  readonly valid: boolean;
  readonly findings: Finding[];
  readonly ledgers: LedgerSummary[];
  readonly stats: { digests: number; archives: number; events: number; bytes: number; receipts: number };
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
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  const result = schema.safeParse(value);
  if (!result.success) return undefined;
  try {
    return canonicalString(value) === bytes.toString('utf8') ? result.data : undefined;
  } catch {
    return undefined;
  }
}

/** Verifies a folder (or any ObjectReader). Never throws for bad content; throws only for I/O failures. */
export async function verifyFolder(reader: ObjectReader, options: VerifyOptions): Promise<VerifyReport> {
  const findings: Finding[] = [];
  const stats = { digests: 0, archives: 0, events: 0, bytes: 0, receipts: 0 };
  const inRange = (p: Period): boolean =>
    (options.fromMs === undefined || periodEndMs(p) > options.fromMs) &&
    (options.toMs === undefined || p.startMs < options.toMs);

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
      const entry = await readDigest(reader, base, anyPart, parts, options.keys, findings);
      entries.push(entry);
      stats.digests++;
      options.onProgress?.({ phase: 'digests', done: ++digestsDone, total: digestsTotal });
    }
    walkChain(ledger, entries, options, findings);
    for (const entry of entries) {
      if (entry.digest && entry.statement) archiveJobs.push({ entry, digest: entry.digest });
      else unreadable.add(`${entry.parsed.base.replace(/^digests\//, 'archives/')}/`);
    }
    const sealed = entries.filter((e) => e.statement);
    ledgers.push({
      ledger,
      digests: entries.length,
      events: sealed.reduce((n, e) => n + (e.statement?.treeSize ?? 0), 0),
      ...(sealed.length > 0
        ? {
            firstPeriod: sealed[0]!.statement!.periodStart,
            lastPeriod: sealed[sealed.length - 1]!.statement!.periodStart,
          }
        : {}),
    });
  }
  // A folder without digests proves nothing: an attacker who deleted every digest must not get VALID.
  if (byLedger.size === 0) {
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
  const totalBytes = archiveJobs.reduce((n, j) => n + j.digest.archives.reduce((m, a) => m + a.size, 0), 0);
  let doneBytes = 0;
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
      onEvent: (e) => receiptWork.observeEvent(digest.ledger, period, e.id, e.leafHash),
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
      const [archive, index] = await Promise.all([reader.read(ref.key), reader.read(ref.indexKey)]);
      const result = verifyChunk(ref, archive, index);
      // A chunk named again by a moved or copied digest is checked again but reported once.
      const chunkId = [ref.key, ref.indexKey, ref.count, ref.size, ref.rootHash, ref.indexSha256].join(' ');
      const firstReport = !reportedChunks.has(chunkId);
      reportedChunks.add(chunkId);
      if (firstReport) findings.push(...result.findings);
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

  return { valid: findings.length === 0, findings, ledgers, stats };
}

function periodStart(parts: Partial<Record<string, ParsedDigestKey>>): number {
  return (parts['statement'] ?? parts['digest'] ?? parts['signature'])!.period.startMs;
}

async function readDigest(
  reader: ObjectReader,
  base: string,
  anyPart: ParsedDigestKey,
  parts: Partial<Record<ParsedDigestKey['part'], ParsedDigestKey>>,
  keys: TrustedKeys,
  findings: Finding[],
): Promise<DigestEntry> {
  const entry: DigestEntry = { parsed: anyPart, trusted: false };
  const missing = (['digest', 'statement', 'signature'] as const).filter((p) => !parts[p]);
  for (const part of missing) {
    findings.push({
      code: 'DIGEST_INCOMPLETE',
      object: digestObjectKey(anyPart.ledger, anyPart.period, part),
      message: `the ${part} object of period ${isoSeconds(anyPart.period.startMs)} is missing`,
    });
  }
  const statementKey = `${base}.statement.json`;
  const statementBytes = parts.statement ? await reader.read(statementKey) : undefined;
  if (!statementBytes) return entry;
  const statement = parseCanonical<DigestStatement>(statementBytes, digestStatementSchema);
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
    const signature = await reader.read(`${base}.sig`);
    let ok = false;
    try {
      ok =
        signature !== undefined &&
        verify('sha256', statementBytes, { key: key.key, dsaEncoding: 'der' }, signature);
    } catch {
      ok = false;
    }
    if (!ok) {
      findings.push({
        code: 'SIGNATURE_INVALID',
        object: `${base}.sig`,
        message: 'signature does not verify over the statement',
      });
      trusted = false;
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
  const digestBytes = parts.digest ? await reader.read(expectedDigestKey) : undefined;
  if (!digestBytes) return { ...withStatement, trusted: false };
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

/** Chain and period coverage for one ledger's digests, sorted by period. */
function walkChain(
  ledger: string,
  entries: DigestEntry[],
  options: VerifyOptions,
  findings: Finding[],
): void {
  let previous: DigestEntry | undefined;
  const seconds =
    entries.find((e) => e.statement)?.parsed.period.seconds ?? entries[0]?.parsed.period.seconds;
  if (seconds === undefined) return;
  const missing = (from: Period, untilMs: number): void => {
    for (let p = from; p.startMs < untilMs; p = nextPeriod(p)) {
      findings.push({
        code: 'PERIOD_MISSING',
        object: digestObjectKey(ledger, p, 'digest'),
        message: `no digest for period ${isoSeconds(p.startMs)}`,
      });
    }
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
    previous = entry;
  }
  if (previous && options.toMs !== undefined) {
    missing(nextPeriod(previous.parsed.period), options.toMs);
  }
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

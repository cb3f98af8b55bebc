/**
 * The auditor's page verification worker: runs the project's own verifier (shared/verify) on the picked
 * or served folder, off the page's thread, and answers the page's questions about periods and events.
 * Bundled for the browser by scripts/build-ui.mjs, with shared/platform/crypto.browser.ts as the crypto
 * port (WebCrypto signatures, JavaScript SHA-256).
 */
import { HeadError, type VerifiedHead, verifySignedHeadAsync } from '../shared/head/signed-head.ts';
import { checkReceiptAsync } from '../shared/ledger/batch-receipts.ts';
import { type Digest, digestSchema, digestStatementSchema } from '../shared/ledger/formats.ts';
import { digestObjectKey, parseDigestObjectKey } from '../shared/ledger/object-keys.ts';
import { isoSeconds, type Period } from '../shared/ledger/period.ts';
import { inclusionProof, rootFromInclusionProof } from '../shared/merkle/proof.ts';
import { hashLeaf } from '../shared/merkle/rfc6962.ts';
import { sha256Hex } from '../shared/platform/crypto.ts';
import { loadWebCryptoPublicKeys, type WebCryptoTrustedKey } from '../shared/platform/webcrypto-keys.ts';
import { MAX_STATEMENT_BYTES } from '../shared/ports/signer.ts';
import { verifyEventProofAsync } from '../shared/query/event-proof.ts';
import { deepCheckEvent } from '../shared/verify/deep-check.ts';
import type { Finding } from '../shared/verify/findings.ts';
import { folderKeyWindows } from '../shared/verify/folder-key-windows.ts';
import { type FolderKeyFile, MAX_KEY_FILE_BYTES } from '../shared/verify/folder-keys.ts';
import type { ObjectReader } from '../shared/verify/object-reader.ts';
import { MAX_LISTED_RESOURCE_EVENTS } from '../shared/verify/resource-events.ts';
import { hashLines, verifyChunk } from '../shared/verify/verify-chunk.ts';
import { MAX_DIGEST_BYTES, type VerifyReport, verifyFolder } from '../shared/verify/verify-folder.ts';
import { inclusionSteps } from './audit-path.ts';
import { PickedFilesReader, ServedFolderReader } from './browser-reader.ts';
import { MAX_PAGE_JOBS, PageChunkPool } from './chunk-pool.ts';
import type {
  EventDetail,
  EventRow,
  FolderSource,
  PageReport,
  PeriodCell,
  PeriodDetail,
  Request,
  ResourceDetail,
  ResourceRow,
  Response,
  TouchingEvent,
  VerifyRequest,
} from './protocol.ts';
import { type ReadEndpoint, WorkerBlobReads } from './read-protocol.ts';

declare const __CHUNK_WORKER_SOURCE__: string;
declare const __READ_WORKER_SOURCE__: string;

const scope = self as unknown as {
  postMessage(message: Response): void;
  onmessage: ((event: { data: Request }) => void) | null;
};

/** Most gap cells drawn for one run of missing periods; a longer run is drawn as one cell. */
const MAX_GAP_CELLS = 500;
/**
 * The verifier alone in this worker (no chunk workers): it checks each chunk itself, as the CLI does, but
 * asks for the next chunk's bytes before checking this one. A picked file's bytes come from the browser
 * process asynchronously; without this the worker would sit idle for every read (about a third of its
 * time on the 100,000-event folder). Results are still used strictly in chunk order, so the report is
 * unchanged; one more chunk is held in memory.
 */
const READ_AHEAD = { lookahead: 2, check: verifyChunk };

/** Most event rows sent for one period. */
const MAX_EVENT_ROWS = 20_000;

let reader: ObjectReader | undefined;
let lastFindings: Finding[] = [];

type KeyLookup = {
  get(keyId: string): WebCryptoTrustedKey | undefined;
  has(keyId: string): boolean;
};

async function keysOf(pems: readonly string[]): Promise<KeyLookup> {
  const map = new Map<string, WebCryptoTrustedKey>();
  for (const pem of pems) for (const key of await loadWebCryptoPublicKeys(pem)) map.set(key.keyId, key);
  return { get: (id) => map.get(id), has: (id) => map.has(id) };
}

/** The read worker (ui/read-worker.ts), started on the first read of picked files and kept for the page's life. */
let blobReads: WorkerBlobReads | undefined;

function startReadWorker(): ReadEndpoint | undefined {
  try {
    const url = URL.createObjectURL(new Blob([__READ_WORKER_SOURCE__], { type: 'text/javascript' }));
    return new Worker(url) as unknown as ReadEndpoint;
  } catch {
    return undefined; // No nested workers: picked files are read in this worker (slower, same result).
  }
}

function readerOf(source: FolderSource): ObjectReader {
  if (source.kind !== 'files') return new ServedFolderReader(source.base);
  blobReads ??= new WorkerBlobReads(startReadWorker());
  return new PickedFilesReader(source.files, blobReads.read);
}

/** `.pem` files at the top of the folder and under keys/, as `auditseal verify` names them. */
async function pemObjects(r: ObjectReader): Promise<string[]> {
  const all = await r.list('');
  return [
    ...all.filter((k) => !k.includes('/') && k.endsWith('.pem')),
    ...all.filter((k) => k.startsWith('keys/') && k.endsWith('.pem')),
  ];
}

async function folderKeys(
  r: ObjectReader,
  trusted: { has(id: string): boolean },
): Promise<{ files: FolderKeyFile[]; pems: Record<string, string> }> {
  const files: FolderKeyFile[] = [];
  const pems: Record<string, string> = {};
  for (const object of (await pemObjects(r)).sort()) {
    let keyIds: string[] = [];
    try {
      const bytes = await r.read(object, MAX_KEY_FILE_BYTES + 1);
      if (bytes && bytes.length <= MAX_KEY_FILE_BYTES) {
        const text = bytes.toString('utf8');
        keyIds = (await loadWebCryptoPublicKeys(text)).map((k) => k.keyId);
        pems[object] = text;
      }
    } catch {
      keyIds = [];
    }
    files.push({ object, keyIds, alsoTrusted: keyIds.length > 0 && keyIds.every((id) => trusted.has(id)) });
  }
  return { files, pems };
}

const PERIOD_IN_KEY = /^(?:digests|archives)\/([^/]+)\/\d{4}\/\d{2}\/\d{2}\/(\d{8}T\d{6}Z)-(\d+)s/;

function labelMs(label: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(label)!;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

function periodKeyOf(f: Finding): string | undefined {
  const m = PERIOD_IN_KEY.exec(f.object);
  return m ? `${m[1]} ${labelMs(m[2]!)} ${m[3]}` : undefined;
}

async function readStatement(r: ObjectReader, ledger: string, p: Period) {
  const bytes = await r
    .read(digestObjectKey(ledger, p, 'statement'), MAX_STATEMENT_BYTES + 1)
    .catch(() => undefined);
  if (!bytes || bytes.length > MAX_STATEMENT_BYTES) return undefined;
  try {
    const parsed = digestStatementSchema.safeParse(JSON.parse(bytes.toString('utf8')));
    return parsed.success ? { statement: parsed.data, bytes } : undefined;
  } catch {
    return undefined;
  }
}

async function periodCells(r: ObjectReader, findings: readonly Finding[]): Promise<PeriodCell[]> {
  const found = new Map<string, { ledger: string; period: Period }>();
  for (const key of await r.list('digests/')) {
    const parsed = parseDigestObjectKey(key);
    if (parsed) found.set(`${parsed.ledger} ${parsed.period.startMs} ${parsed.period.seconds}`, parsed);
  }
  const perPeriod = new Map<string, number>();
  for (const f of findings) {
    const k = periodKeyOf(f);
    if (k) perPeriod.set(k, (perPeriod.get(k) ?? 0) + 1);
  }
  const cells: PeriodCell[] = [];
  const sorted = [...found.values()].sort((a, b) =>
    a.ledger === b.ledger ? a.period.startMs - b.period.startMs : a.ledger < b.ledger ? -1 : 1,
  );
  let previous: { ledger: string; period: Period } | undefined;
  for (const entry of sorted) {
    const { ledger, period } = entry;
    if (previous?.ledger === ledger && previous.period.seconds === period.seconds) {
      const width = period.seconds * 1000;
      const gap = (period.startMs - previous.period.startMs) / width - 1;
      for (let i = 1; i <= Math.min(gap, MAX_GAP_CELLS); i++) {
        const startMs = previous.period.startMs + i * width;
        const missing = findings.filter(
          (f) =>
            f.periods !== undefined &&
            Date.parse(f.periods.first) <= startMs &&
            Date.parse(f.periods.last) >= startMs,
        ).length;
        cells.push({ ledger, startMs, seconds: period.seconds, findings: missing });
      }
    }
    const statement = await readStatement(r, ledger, period);
    cells.push({
      ledger,
      startMs: period.startMs,
      seconds: period.seconds,
      events: statement?.statement.treeSize ?? 0,
      findings: perPeriod.get(`${ledger} ${period.startMs} ${period.seconds}`) ?? 0,
    });
    previous = entry;
  }
  return cells;
}

/** The last verification's request, keys and head: a resource's view re-runs it with `resource`. */
let lastRun: { request: VerifyRequest; keys: KeyLookup; head: VerifiedHead | undefined } | undefined;

async function verify(request: VerifyRequest): Promise<Response> {
  reader = readerOf(request.source);
  const keys = await keysOf(request.trustedPems);
  let head: VerifiedHead | undefined;
  if (request.head) {
    try {
      head = await verifySignedHeadAsync(request.head, keys);
    } catch (error) {
      if (error instanceof HeadError) return { type: 'error', message: `head file ${error.message}` };
      throw error;
    }
  }
  lastRun = { request, keys, head };
  const { report, resources } = await runVerifier(request.resource);
  lastFindings = report.findings;
  const periods = await periodCells(reader, report.findings);
  return {
    type: 'report',
    report,
    periods,
    resources,
    reads: request.source.kind !== 'files' ? 'served' : blobReads?.inWorker ? 'worker' : 'thread',
    ...(request.resource !== undefined ? { resource: resourceDetail(report, request.resource) } : {}),
  };
}

/**
 * `verifyFolder` with the options of the last Verify, as `auditseal verify` runs it (with `--resource`):
 * the report, which is the CLI's, and the resources with profile versions as the verifier established
 * them (only those with a sealed version: a line that no trusted digest commits to lists nothing).
 */
async function runVerifier(
  resource: string | undefined,
): Promise<{ report: PageReport; resources: ResourceRow[] }> {
  const r = reader!;
  const { request, keys, head } = lastRun!;
  let last = 0;
  const jobs = Math.min(MAX_PAGE_JOBS, Math.max(1, Math.floor(request.jobs)));
  const pool = jobs > 1 ? new PageChunkPool(jobs, __CHUNK_WORKER_SOURCE__) : undefined;
  let report: VerifyReport;
  try {
    report = await verifyFolder(r, {
      keys,
      listResources: true,
      chunks: pool ?? READ_AHEAD,
      ...(request.fromMs !== undefined ? { fromMs: request.fromMs } : {}),
      ...(request.toMs !== undefined ? { toMs: request.toMs } : {}),
      ...(request.deep ? { deepCheck: deepCheckEvent } : {}),
      ...(head ? { head } : {}),
      ...(resource !== undefined ? { resource } : {}),
      // Key records (FORMAT.md §9.4) signed by a trusted key narrow its window, as in `auditseal verify`.
      keyWindow: await folderKeyWindows(r, keys),
      onProgress: (progress) => {
        const now = Date.now();
        if (now - last < 100 && progress.done !== progress.total) return;
        last = now;
        scope.postMessage({ type: 'progress', progress });
      },
    });
  } finally {
    pool?.close();
  }
  // `resources` is the page's own: the report stays the one `auditseal verify --json` prints.
  const { resources = [], ...cliReport } = report;
  return {
    report: { ...cliReport, folderKeyFiles: (await folderKeys(r, keys)).files },
    resources: resources.filter((x) => x.sealed > 0),
  };
}

/**
 * A resource's view: the verifier's timeline for it, and the events that name it as the verifier judged
 * them (`resource.events` of `verify --resource ID --json`): each says whether it is verified and, if
 * not, why. Nothing is read again: an event line no trusted digest commits to is listed as NOT VERIFIED.
 */
function resourceDetail(report: PageReport, id: string): ResourceDetail {
  const found = report.resource?.resourceId === id ? report.resource.events : undefined;
  const events = (found?.listed ?? []).map(
    (e): TouchingEvent => ({
      index: e.eventIndex,
      id: e.eventId ?? '(no id)',
      receivedAt: e.receivedAt ?? '',
      actor: e.actor ?? '',
      action: e.action ?? '',
      resource: id,
      ledger: e.ledger,
      startMs: Date.parse(e.periodStart),
      seconds: e.periodSeconds,
      verified: e.verified,
      ...(e.reason !== undefined ? { reason: e.reason } : {}),
    }),
  );
  const shown = found && found.listed.length < found.found;
  return {
    report,
    timeline: report.resource,
    events,
    found: found?.found ?? 0,
    verified: found?.verified ?? 0,
    ...(shown
      ? {
          note: `showing ${found.listed.length} of ${found.found} events that name it (the first ${MAX_LISTED_RESOURCE_EVENTS} found sealed and the first ${MAX_LISTED_RESOURCE_EVENTS} found not)`,
        }
      : {}),
  };
}

async function resource(id: string): Promise<Response> {
  if (!reader || !lastRun) return { type: 'error', message: 'verify a folder first' };
  const { report } = await runVerifier(id);
  return { type: 'resource', detail: resourceDetail(report, id) };
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function eventRow(index: number, line: Buffer): EventRow {
  try {
    const e = JSON.parse(line.toString('utf8')) as Record<string, unknown>;
    const actor = e['actor'] as Record<string, unknown> | undefined;
    const resource = (e['resource'] ?? (e['resources'] as unknown[] | undefined)?.[0]) as
      | Record<string, unknown>
      | undefined;
    return {
      index,
      id: text(e['id']),
      receivedAt: text(e['receivedAt']),
      actor: text(actor?.['id']),
      action: text(e['action']),
      resource: text(resource?.['id']) || text(resource?.['arn']) || text(resource?.['name']),
    };
  } catch {
    return { index, id: '(not JSON)', receivedAt: '', actor: '', action: '', resource: '' };
  }
}

async function readDigest(r: ObjectReader, ledger: string, p: Period): Promise<Digest | undefined> {
  const bytes = await r
    .read(digestObjectKey(ledger, p, 'digest'), MAX_DIGEST_BYTES + 1)
    .catch(() => undefined);
  if (!bytes || bytes.length > MAX_DIGEST_BYTES) return undefined;
  try {
    const parsed = digestSchema.safeParse(JSON.parse(bytes.toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Each archived line of a period, in order, with its tree index. */
async function periodLines(r: ObjectReader, digest: Digest): Promise<{ index: number; line: Buffer }[]> {
  const out: { index: number; line: Buffer }[] = [];
  for (const ref of digest.archives) {
    const archive = await r.read(ref.key, ref.size).catch(() => undefined);
    if (!archive) continue;
    let start = 0;
    let i = 0;
    while (start < archive.length) {
      const nl = archive.indexOf(0x0a, start);
      if (nl === -1) break;
      out.push({ index: ref.firstIndex + i, line: archive.subarray(start, nl) });
      start = nl + 1;
      i++;
    }
  }
  return out;
}

async function period(ledger: string, p: Period): Promise<PeriodDetail> {
  const r = reader!;
  const own = lastFindings.filter((f) => periodKeyOf(f) === `${ledger} ${p.startMs} ${p.seconds}`);
  const held = await readStatement(r, ledger, p);
  if (!held) return { chain: 'no readable statement for this period', findings: own, events: [] };
  const s = held.statement;
  let chain: string;
  if (s.previousStatementSha256 === null) chain = `genesis (sequence ${s.sequence})`;
  else {
    const previous = await readStatement(r, ledger, {
      startMs: p.startMs - p.seconds * 1000,
      seconds: p.seconds,
    });
    if (!previous)
      chain = `links to ${s.previousStatementSha256}; the previous period's statement is not here`;
    else {
      const actual = sha256Hex(previous.bytes);
      chain =
        actual === s.previousStatementSha256
          ? `links to the statement of ${isoSeconds(p.startMs - p.seconds * 1000)} (SHA-256 ${actual}): matches`
          : `names ${s.previousStatementSha256}, but the previous statement hashes to ${actual}: BROKEN`;
    }
  }
  const digest = await readDigest(r, ledger, p);
  const lines = digest ? await periodLines(r, digest) : [];
  return {
    statement: s as unknown as Record<string, unknown>,
    statementText: held.bytes.toString('utf8'),
    chain,
    findings: own,
    events: lines.slice(0, MAX_EVENT_ROWS).map((l) => eventRow(l.index, l.line)),
    ...(lines.length > MAX_EVENT_ROWS
      ? { note: `showing the first ${MAX_EVENT_ROWS} of ${lines.length} events` }
      : {}),
    ...(digest ? {} : { note: 'the digest cannot be read: its events are not listed' }),
  };
}

async function event(ledger: string, p: Period, index: number): Promise<Response> {
  const r = reader!;
  const held = await readStatement(r, ledger, p);
  const digest = await readDigest(r, ledger, p);
  if (!held || !digest) return { type: 'error', message: 'this period has no readable statement and digest' };
  const leaves: Buffer[] = [];
  let line: Buffer | undefined;
  for (const ref of digest.archives) {
    const archive = await r.read(ref.key, ref.size).catch(() => undefined);
    if (!archive) return { type: 'error', message: `archive ${ref.key} is missing: no audit path` };
    const hashed = hashLines(Buffer.from(archive));
    if (index >= ref.firstIndex && index < ref.firstIndex + hashed.leaves.length) {
      const start = hashed.starts[index - ref.firstIndex]!;
      line = archive.subarray(start, archive.indexOf(0x0a, start));
    }
    leaves.push(...hashed.leaves);
  }
  if (!line) return { type: 'error', message: `event #${index} is not in the archives` };
  const leaf = hashLeaf(line);
  const path = inclusionProof(leaves, index);
  const stepped = inclusionSteps(index, leaves.length, leaf, path);
  const core = rootFromInclusionProof(index, leaves.length, leaf, path).toString('hex');
  const detail: EventDetail = {
    index,
    canonicalJson: line.toString('utf8'),
    leafHash: leaf.toString('hex'),
    treeSize: held.statement.treeSize,
    steps: stepped.steps,
    computedRoot: stepped.root,
    signedRoot: held.statement.rootHash,
    coreRoot: core,
    ok:
      stepped.complete &&
      stepped.root === core &&
      core === held.statement.rootHash &&
      leaves.length === held.statement.treeSize,
  };
  return { type: 'event', detail };
}

async function checkFile(kind: 'receipt' | 'proof', text: string, pems: string[]): Promise<Response> {
  const keys = await keysOf(pems);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return {
      type: 'check',
      ok: false,
      code: `${kind.toUpperCase()}_MALFORMED`,
      message: 'the file is not JSON',
    };
  }
  if (kind === 'proof') {
    const c = await verifyEventProofAsync(value, keys);
    return c.ok
      ? {
          type: 'check',
          ok: true,
          message: `event is leaf ${c.leafIndex} of ${c.statement.treeSize} in ${c.statement.ledger} ${c.statement.periodStart}, signed by ${c.statement.keyId}`,
        }
      : { type: 'check', ok: false, code: c.code, message: c.message };
  }
  const items = Array.isArray(value) ? value : [value];
  const messages: string[] = [];
  for (const item of items) {
    const c = await checkReceiptAsync(item, keys);
    if (!c.ok) return { type: 'check', ok: false, code: c.code, message: c.message };
    messages.push(
      `event ${c.receipt.eventId} is leaf ${c.receipt.leafIndex} of batch ${c.statement.batchId}`,
    );
  }
  return { type: 'check', ok: true, message: messages.join('\n') };
}

async function handle(request: Request): Promise<Response> {
  switch (request.type) {
    case 'verify':
      return verify(request);
    case 'folder-keys': {
      const { files, pems } = await folderKeys(readerOf(request.source), { has: () => false });
      return { type: 'folder-keys', files, pems };
    }
    case 'period':
      if (!reader) return { type: 'error', message: 'verify a folder first' };
      return { type: 'period', detail: await period(request.ledger, request) };
    case 'event':
      if (!reader) return { type: 'error', message: 'verify a folder first' };
      return event(request.ledger, request, request.index);
    case 'resource':
      return resource(request.id);
    case 'receipt':
    case 'proof':
      return checkFile(request.type, request.text, request.trustedPems);
  }
}

scope.onmessage = (e) => {
  handle(e.data).then(
    (response) => scope.postMessage(response),
    (error: unknown) =>
      scope.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) }),
  );
};

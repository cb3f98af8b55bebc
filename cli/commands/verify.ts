/** `auditseal verify DIR`: thin shell over the verifier library. */
import { readdir, stat } from 'node:fs/promises';
import {
  HeadError,
  MAX_HEAD_FILE_BYTES,
  type VerifiedHead,
  verifySignedHead,
} from '../../shared/head/signed-head.ts';
import { MAX_RESOURCE_ID_LENGTH } from '../../shared/profiles/limits.ts';
import { deepCheckEvent } from '../../shared/verify/deep-check.ts';
import { FINDING_CODES, type Finding } from '../../shared/verify/findings.ts';
import { folderKeyWindows } from '../../shared/verify/folder-key-windows.ts';
import { type FolderKeyFile, folderKeyFiles } from '../../shared/verify/folder-keys.ts';
import { FolderReader } from '../../shared/verify/object-reader.ts';
import type { ResourceEvents } from '../../shared/verify/resource-events.ts';
import { type VerifyReport, verifyFolder } from '../../shared/verify/verify-folder.ts';
import { UsageError } from '../errors.ts';
import { formatBytes, ProgressBar } from '../progress.ts';
import { loadTrustedKeys } from '../trusted-keys.ts';
import { readUserFile } from '../user-files.ts';
import { ChunkWorkerPool, defaultJobs } from '../verify-workers.ts';

export { parseJobs } from '../verify-workers.ts';

export interface VerifyCommandOptions {
  readonly dir: string;
  readonly keys: string[];
  readonly fromMs?: number;
  readonly toMs?: number;
  readonly deep: boolean;
  readonly json: boolean;
  /** A head file kept with `auditseal head --out FILE`. */
  readonly head?: string;
  /** `--resource ID`: check only this resource's profile chain and print its verified timeline. */
  readonly resource?: string;
  /** Threads that hash archive chunks (default: the cores); 1 hashes in this thread, with no worker. */
  readonly jobs?: number;
}

/** The verifier's report, with what the CLI adds: the key files it found in the folder and did not use. */
export interface VerifyCommandReport extends VerifyReport {
  readonly folderKeyFiles: FolderKeyFile[];
}

/** --deep: the check is shared with the auditor's page (shared/verify/deep-check.ts). */
export { deepCheckEvent };

/** `--resource ID` must be a resource id a profile can have (docs/PROFILES.md, "The profile"); else exit 2. */
function checkResourceOption(id: string): void {
  const bad =
    id.length === 0 || id.length > MAX_RESOURCE_ID_LENGTH
      ? `must be 1 to ${MAX_RESOURCE_ID_LENGTH} characters`
      : [...id].some((c) => c.charCodeAt(0) < 0x20 || (c.charCodeAt(0) >= 0x7f && c.charCodeAt(0) <= 0x9f))
        ? 'must not contain control characters'
        : id.trim() !== id
          ? 'must not start or end with white space'
          : /\p{Cs}/u.test(id)
            ? 'must be well-formed Unicode'
            : undefined;
  if (bad) throw new UsageError(`--resource ${bad}`);
}

/** Reads and checks `--head FILE` with the trusted keys; exit 2 (UsageError) when it cannot be used. */
async function loadHead(path: string, keys: Parameters<typeof verifySignedHead>[1]): Promise<VerifiedHead> {
  const bytes = await readUserFile(path, MAX_HEAD_FILE_BYTES, '--head');
  try {
    return verifySignedHead(bytes, keys);
  } catch (error) {
    if (error instanceof HeadError) throw new UsageError(`--head ${path} ${error.message}`);
    throw error;
  }
}

/** `.pem` files where `download` and `seal` leave keys (`keys/`) and at the top of the folder. */
async function pemObjects(dir: string, reader: FolderReader): Promise<string[]> {
  const top = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => !e.isDirectory() && e.name.endsWith('.pem'))
    .map((e) => e.name);
  return [...top, ...(await reader.list('keys/')).filter((k) => k.endsWith('.pem'))];
}

export async function runVerify(options: VerifyCommandOptions): Promise<VerifyCommandReport> {
  const info = await stat(options.dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new UsageError(`${options.dir} is not a folder`);
  if (options.fromMs !== undefined && options.toMs !== undefined && options.fromMs >= options.toMs) {
    throw new UsageError('--from must be before --to');
  }
  if (options.resource !== undefined) checkResourceOption(options.resource);
  const keys = await loadTrustedKeys(options.keys);
  const head = options.head !== undefined ? await loadHead(options.head, keys) : undefined;
  const reader = new FolderReader(options.dir);
  const bar = new ProgressBar('verifying', !options.json && Boolean(process.stderr.isTTY), 'bytes');
  const jobs = options.jobs ?? defaultJobs();
  // A FolderReader allocates a buffer per read, which the pool may hand to a worker rather than copy.
  const pool = jobs > 1 ? new ChunkWorkerPool(jobs, { takeBuffers: true }) : undefined;
  let report: VerifyReport;
  try {
    report = await verifyFolder(reader, {
      keys,
      ...(options.fromMs !== undefined ? { fromMs: options.fromMs } : {}),
      ...(options.toMs !== undefined ? { toMs: options.toMs } : {}),
      ...(options.deep ? { deepCheck: deepCheckEvent } : {}),
      ...(head ? { head } : {}),
      ...(options.resource !== undefined ? { resource: options.resource } : {}),
      ...(pool ? { chunks: pool } : {}),
      keyWindow: await folderKeyWindows(reader, keys),
      onProgress: (p) => {
        if (p.phase === 'archives') bar.update(p.done, p.total);
      },
    });
  } finally {
    bar.done();
    await pool?.close();
  }
  return {
    ...report,
    folderKeyFiles: await folderKeyFiles(reader, await pemObjects(options.dir, reader), keys),
  };
}

/** An object key as the text report prints it: control characters and odd spaces escaped, long keys cut. */
function printable(text: string, max = 300): string {
  const escaped = text.replace(/[\p{C}\p{Zl}\p{Zp}\\]/gu, (c) =>
    c === '\\' ? '\\\\' : c === '\n' ? '\\n' : `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`,
  );
  return escaped.length > max ? `${escaped.slice(0, 200)}…(${escaped.length} chars)` : escaped;
}

function rangeLines(report: VerifyReport): string[] {
  const out: string[] = [];
  const { from, to } = report.range;
  out.push(`  range: ${from ?? 'from the first digest'} … ${to ?? 'to the last digest'}`);
  for (const l of report.ledgers) {
    out.push(`  ledger ${l.ledger}: ${l.digests} digest(s), ${l.events} event(s)`);
    if (l.firstPeriod) {
      out.push(
        `    periods ${l.firstPeriod} … ${l.lastPeriod} (${l.periodSeconds} s)${l.startsAtGenesis ? ', from the genesis' : ''}`,
      );
    }
    if (!l.head) {
      out.push('    no --head given: newer periods than the last one here would go unnoticed');
    } else if (l.head.status === 'reached') {
      out.push(`    reaches the head ${l.head.periodStart} (sequence ${l.head.sequence})`);
    } else if (l.head.status === 'truncated') {
      out.push(`    does NOT reach the head ${l.head.periodStart} (sequence ${l.head.sequence})`);
    } else {
      out.push(`    the head ${l.head.periodStart} (sequence ${l.head.sequence}) lies outside the range`);
    }
  }
  return out;
}

function keyFileLines(files: readonly FolderKeyFile[]): string[] {
  if (files.length === 0) return [];
  const out = [
    `  note: ${files.length} key file(s) found inside the folder were NOT used; trust comes only from --key:`,
  ];
  for (const f of files.slice(0, 20)) {
    const what =
      f.keyIds.length === 0
        ? 'not a public key'
        : `key id ${f.keyIds.join(', ')}${f.alsoTrusted ? ' (also passed with --key)' : ' (not trusted)'}`;
    out.push(`    - ${printable(f.object)}: ${what}`);
  }
  if (files.length > 20) out.push(`    … and ${files.length - 20} more`);
  return out;
}

/** `--resource`: the resource's versions in time order, each with its chain position and what changed. */
function timelineLines(resource: NonNullable<VerifyReport['resource']>): string[] {
  const out = ['', `resource ${printable(resource.resourceId)}`];
  if (resource.versions === 0) {
    out.push('  no profile version of this resource in the verified range');
    out.push(...resourceEventLines(resource.events));
    return out;
  }
  const head = resource.head ? `, head version ${resource.head.n} ${resource.head.hash}` : '';
  out.push(
    `  ${resource.versions} version(s)${head}: ${resource.verified ? 'chain VERIFIED' : `chain NOT verified (${resource.findings} finding(s))`}`,
  );
  for (const v of resource.timeline) {
    const marks = [
      v.tombstone ? 'deleted' : '',
      v.configurationDelivered ? '' : 'configuration not delivered',
    ]
      .filter((m) => m !== '')
      .join(', ');
    out.push(
      `  ${v.effectiveAt}  version ${v.n}  ${v.verified ? 'verified' : v.sealed ? 'SEALED, WITH FINDINGS' : 'NOT SEALED'}  ${printable(v.source)}${marks ? `  (${marks})` : ''}`,
    );
    out.push(`    recorded ${v.recordedAt}  hash ${v.hash}  in ${printable(v.object)} #${v.eventIndex}`);
    if (v.diff.from === null) continue;
    const ops = v.diff.patch;
    out.push(
      `    from version ${v.diff.from}: ${ops.length === 0 ? 'no change' : `${ops.length} change(s)`}`,
    );
    for (const op of ops.slice(0, 20)) out.push(`      ${op.op} ${printable(op.path, 200)}`);
    if (ops.length > 20) out.push(`      … and ${ops.length - 20} more (use --json for all)`);
    if (v.diff.notCompared.length > 0) out.push(`      not compared: ${v.diff.notCompared.join(', ')}`);
  }
  out.push(...resourceEventLines(resource.events));
  return out;
}

/** `--resource`: how many events name the resource, and each one that is NOT verified, with why. */
function resourceEventLines(events: ResourceEvents): string[] {
  if (events.found === 0) return ['  no event names this resource'];
  const out = [`  ${events.found} event(s) name it, ${events.verified} verified`];
  const bad = events.listed.filter((e) => !e.verified);
  for (const e of bad.slice(0, 20)) {
    out.push(
      `    NOT VERIFIED ${printable(e.eventId ?? '(no id)')} in ${printable(e.object)} #${e.eventIndex}: ${e.reason}`,
    );
  }
  const more = events.found - events.verified - Math.min(bad.length, 20);
  if (more > 0) out.push(`    … and ${more} more not verified (use --json)`);
  return out;
}

/** Readable report: the range covered, a summary, then one block per finding code. */
export function renderReport(dir: string, report: VerifyCommandReport): string {
  const out: string[] = [`auditseal verify ${printable(dir)}`, ...rangeLines(report)];
  out.push(...keyFileLines(report.folderKeyFiles));
  const s = report.stats;
  out.push(
    `  checked ${s.digests} digests, ${s.archives} archive chunks (${formatBytes(s.bytes)}), ${s.events} events, ${s.receipts} receipts`,
  );
  if (report.profiles.versions > 0) {
    out.push(
      `  checked ${report.profiles.versions} profile version(s) of ${report.profiles.resources} resource(s)`,
    );
  }
  if (report.resource) out.push(...timelineLines(report.resource));
  if (report.valid) {
    out.push('', 'VALID: every digest is signed by a trusted key, chained, and matches its archives.');
    return out.join('\n');
  }
  out.push('', `INVALID: ${report.findings.length} finding(s)`);
  const byCode = new Map<string, Finding[]>();
  for (const f of report.findings) {
    const list = byCode.get(f.code);
    if (list) list.push(f);
    else byCode.set(f.code, [f]);
  }
  for (const [code, list] of byCode) {
    out.push('', `${code} (${list.length}): ${FINDING_CODES[code as keyof typeof FINDING_CODES]}`);
    for (const f of list.slice(0, 20)) {
      out.push(
        `  - ${printable(f.object)}${f.eventId ? `  event ${printable(f.eventId)}` : ''}${f.eventIndex !== undefined ? ` #${f.eventIndex}` : ''}`,
      );
      out.push(`    ${printable(f.message, Number.POSITIVE_INFINITY)}`);
      if (f.evidence?.expected || f.evidence?.computed) {
        out.push(`    expected ${f.evidence.expected ?? '-'}  computed ${f.evidence.computed ?? '-'}`);
      }
    }
    if (list.length > 20) out.push(`  … and ${list.length - 20} more (use --json for all)`);
  }
  if (s.digests === 0) out.push('', ...emptyFolderHint(dir, report));
  return out.join('\n');
}

/** Why a folder gave nothing to check, and what to do next. */
function emptyFolderHint(dir: string, report: VerifyCommandReport): string[] {
  const ranged = report.range.from !== null || report.range.to !== null;
  return [
    ranged
      ? `Nothing to verify: no digest in ${printable(dir)} falls in the requested range.`
      : `Nothing to verify: ${printable(dir)} holds no digests/ (is it the folder download or seal wrote?).`,
    '  Fetch a range first (auditor role), waiting until it is sealed:',
    `  npx auditseal download --wait --from <time> --to <time> --out ${printable(dir)}`,
    '  or seal an existing log: npx auditseal seal --in events.jsonl --out DIR --key private.pem',
  ];
}

/** `auditseal verify DIR`: thin shell over the verifier library. */
import { stat } from 'node:fs/promises';
import { canonicalString } from '../../shared/canonical/jcs.ts';
import { parseAuditEvent } from '../../shared/events/audit-event.ts';
import { type Period, periodEndMs } from '../../shared/ledger/period.ts';
import { FINDING_CODES, type Finding } from '../../shared/verify/findings.ts';
import { FolderReader } from '../../shared/verify/object-reader.ts';
import { type VerifyReport, verifyFolder } from '../../shared/verify/verify-folder.ts';
import { UsageError } from '../errors.ts';
import { formatBytes, ProgressBar } from '../progress.ts';
import { loadTrustedKeys } from '../trusted-keys.ts';

export interface VerifyCommandOptions {
  readonly dir: string;
  readonly keys: string[];
  readonly fromMs?: number;
  readonly toMs?: number;
  readonly deep: boolean;
  readonly json: boolean;
}

/** --deep: each archived event must be a schema-valid, canonical event received inside its period. */
export function deepCheckEvent(line: Buffer, period: Period): Finding['code'] | undefined {
  try {
    const text = line.toString('utf8');
    const event = parseAuditEvent(JSON.parse(text));
    if (canonicalString(event) !== text) return 'EVENT_INVALID';
    const t = Date.parse(event.receivedAt);
    if (t < period.startMs || t >= periodEndMs(period)) return 'EVENT_OUT_OF_PERIOD';
    return undefined;
  } catch {
    return 'EVENT_INVALID';
  }
}

export async function runVerify(options: VerifyCommandOptions): Promise<VerifyReport> {
  const info = await stat(options.dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new UsageError(`${options.dir} is not a folder`);
  if (options.fromMs !== undefined && options.toMs !== undefined && options.fromMs >= options.toMs) {
    throw new UsageError('--from must be before --to');
  }
  const keys = await loadTrustedKeys(options.keys);
  const bar = new ProgressBar('verifying', !options.json && Boolean(process.stderr.isTTY), 'bytes');
  try {
    return await verifyFolder(new FolderReader(options.dir), {
      keys,
      ...(options.fromMs !== undefined ? { fromMs: options.fromMs } : {}),
      ...(options.toMs !== undefined ? { toMs: options.toMs } : {}),
      ...(options.deep ? { deepCheck: deepCheckEvent } : {}),
      onProgress: (p) => {
        if (p.phase === 'archives') bar.update(p.done, p.total);
      },
    });
  } finally {
    bar.done();
  }
}

/** Readable report: summary, then one block per finding code. */
export function renderReport(dir: string, report: VerifyReport): string {
  const out: string[] = [`auditseal verify ${dir}`];
  for (const l of report.ledgers) {
    out.push(
      `  ledger ${l.ledger}: ${l.digests} digest(s), ${l.events} event(s)${l.firstPeriod ? `, periods ${l.firstPeriod} … ${l.lastPeriod}` : ''}`,
    );
  }
  const s = report.stats;
  out.push(
    `  checked ${s.digests} digests, ${s.archives} archive chunks (${formatBytes(s.bytes)}), ${s.events} events, ${s.receipts} receipts`,
  );
  if (report.valid) {
    out.push('', 'VALID: every digest is signed by a trusted key, chained, and matches its archives.');
    return out.join('\n');
  }
  out.push('', `INVALID: ${report.findings.length} finding(s)`);
  const byCode = new Map<string, Finding[]>();
  for (const f of report.findings) byCode.set(f.code, [...(byCode.get(f.code) ?? []), f]);
  for (const [code, list] of byCode) {
    out.push('', `${code} (${list.length}): ${FINDING_CODES[code as keyof typeof FINDING_CODES]}`);
    for (const f of list.slice(0, 20)) {
      out.push(
        `  - ${f.object}${f.eventId ? `  event ${f.eventId}` : ''}${f.eventIndex !== undefined ? ` #${f.eventIndex}` : ''}`,
      );
      out.push(`    ${f.message}`);
      if (f.evidence?.expected || f.evidence?.computed) {
        out.push(`    expected ${f.evidence.expected ?? '-'}  computed ${f.evidence.computed ?? '-'}`);
      }
    }
    if (list.length > 20) out.push(`  … and ${list.length - 20} more (use --json for all)`);
  }
  return out.join('\n');
}

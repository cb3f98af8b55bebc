/**
 * Object key layout of the digest bucket, as pure functions (see docs/FORMAT.md §Object keys).
 * A verifiable folder mirrors these keys below `DIR/`.
 *
 *   digests/<ledger>/<YYYY>/<MM>/<DD>/<YYYYMMDDTHHMMSSZ>-<seconds>s.digest.json
 *   digests/<ledger>/<YYYY>/<MM>/<DD>/<YYYYMMDDTHHMMSSZ>-<seconds>s.statement.json
 *   digests/<ledger>/<YYYY>/<MM>/<DD>/<YYYYMMDDTHHMMSSZ>-<seconds>s.sig
 *   archives/<ledger>/<YYYY>/<MM>/<DD>/<YYYYMMDDTHHMMSSZ>-<seconds>s/<chunk:6>.jsonl
 *   archives/<ledger>/<YYYY>/<MM>/<DD>/<YYYYMMDDTHHMMSSZ>-<seconds>s/<chunk:6>.idx
 *   archives/<ledger>/<YYYY>/<MM>/<DD>/<YYYYMMDDTHHMMSSZ>-<seconds>s/batches-<file:6>.jsonl
 *   archives/<ledger>/<YYYY>/<MM>/<DD>/<YYYYMMDDTHHMMSSZ>-<seconds>s/exclusions.jsonl
 */
import { assertPeriodSeconds, compactLabel, type Period, parseCompactLabel } from './period.ts';

/** Ledger names: lowercase, digits and dashes, 1–63 characters. */
export const LEDGER_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

export type DigestPart = 'digest' | 'statement' | 'signature';

const PART_SUFFIX: Record<DigestPart, string> = {
  digest: '.digest.json',
  statement: '.statement.json',
  signature: '.sig',
};

/** Throws unless the ledger id is valid. */
export function assertLedgerId(ledger: string): void {
  if (!LEDGER_ID_PATTERN.test(ledger)) {
    throw new RangeError(`ledger id must match ${LEDGER_ID_PATTERN}, got ${JSON.stringify(ledger)}`);
  }
}

function datedPrefix(root: 'digests' | 'archives', ledger: string, period: Period): string {
  assertLedgerId(ledger);
  const label = compactLabel(period.startMs);
  return `${root}/${ledger}/${label.slice(0, 4)}/${label.slice(4, 6)}/${label.slice(6, 8)}/${label}-${period.seconds}s`;
}

/** Key of one of the three objects that make up a period's digest. */
export function digestObjectKey(ledger: string, period: Period, part: DigestPart): string {
  return datedPrefix('digests', ledger, period) + PART_SUFFIX[part];
}

/** Key of archive chunk `chunk` of a period (`kind` 'events' → .jsonl, 'index' → .idx). */
export function archiveObjectKey(
  ledger: string,
  period: Period,
  chunk: number,
  kind: 'events' | 'index',
): string {
  if (!Number.isInteger(chunk) || chunk < 0 || chunk > 999_999) throw new RangeError(`bad chunk ${chunk}`);
  const name = String(chunk).padStart(6, '0');
  return `${datedPrefix('archives', ledger, period)}/${name}.${kind === 'events' ? 'jsonl' : 'idx'}`;
}

/** Key of batch-record file `file` of a period (FORMAT.md §5.1). */
export function batchFileKey(ledger: string, period: Period, file: number): string {
  if (!Number.isInteger(file) || file < 0 || file > 999_999) throw new RangeError(`bad batch file ${file}`);
  return `${datedPrefix('archives', ledger, period)}/batches-${String(file).padStart(6, '0')}.jsonl`;
}

/** Key of a period's exclusions file (FORMAT.md §5.2). */
export function exclusionsKey(ledger: string, period: Period): string {
  return `${datedPrefix('archives', ledger, period)}/exclusions.jsonl`;
}

/** The archive object names a period folder may hold (FORMAT.md §4). */
export const ARCHIVE_OBJECT_NAME = /^(\d{6}\.(jsonl|idx)|batches-\d{6}\.jsonl|exclusions\.jsonl)$/;

/** What a digest object key names, or undefined if it is not one. */
export interface ParsedDigestKey {
  readonly ledger: string;
  readonly period: Period;
  readonly part: DigestPart;
  /** The key without its part suffix; the three parts share it. */
  readonly base: string;
}

const DIGEST_KEY =
  /^digests\/([a-z0-9][a-z0-9-]{0,62})\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{8}T\d{6}Z)-(\d{1,5})s(\.digest\.json|\.statement\.json|\.sig)$/;

/** Parses a digest object key; returns undefined for any key that digestObjectKey would not produce. */
export function parseDigestObjectKey(key: string): ParsedDigestKey | undefined {
  const m = DIGEST_KEY.exec(key);
  if (!m) return undefined;
  const startMs = parseCompactLabel(m[5]!);
  const seconds = Number(m[6]);
  if (startMs === undefined) return undefined;
  const part = (Object.keys(PART_SUFFIX) as DigestPart[]).find((p) => PART_SUFFIX[p] === m[7]);
  if (!part) return undefined;
  const period = { startMs, seconds };
  try {
    // Only period lengths a digest can have (60 s to a day, dividing a day) fit the layout.
    assertPeriodSeconds(seconds);
    if (digestObjectKey(m[1]!, period, part) !== key) return undefined;
    if (startMs % (seconds * 1000) !== 0) return undefined;
  } catch {
    return undefined;
  }
  return { ledger: m[1]!, period, part, base: key.slice(0, key.length - m[7]!.length) };
}

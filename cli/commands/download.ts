/**
 * `auditseal download --from T --to T --out DIR`: fetches the digests of the periods that overlap
 * [from, to) and every object they name into the verifiable folder layout (DIR/digests/…,
 * DIR/archives/…), using the auditor role. Objects come from short-lived presigned links; an object
 * already in DIR is kept only if identical. `DIR/manifest.json` records what was fetched (the verifier
 * never reads it: it only looks under digests/, archives/ and receipts/).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { z } from 'zod';
import {
  checkKeyRecord,
  keyRecordBytes,
  keyRecordObjectKey,
  keyRecordSchema,
} from '../../shared/keys/key-record.ts';
import { ApiError, type ApiTarget, resolveTarget, signedJson } from '../api-client.ts';
import { UsageError } from '../errors.ts';
import { ProgressBar } from '../progress.ts';

const listSchema = z.object({
  digests: z.array(z.object({ id: z.string(), periodStart: z.string() })),
  nextToken: z.string().optional(),
  periodSeconds: z.number().int().positive().optional(),
  graceSeconds: z.number().int().nonnegative().optional(),
});
const describeSchema = z.object({
  id: z.string(),
  periodStart: z.string(),
  periodSeconds: z.number().int(),
  sequence: z.number().int(),
  digestKey: z.string(),
  objects: z.array(z.object({ key: z.string(), url: z.url() })),
});
const headSchema = z.object({ periodStart: z.string(), periodSeconds: z.number().int() });

/** `DIR/manifest.json`: what one download fetched (docs/FORMAT.md §12). */
export const MANIFEST_TYPE = 'auditseal.download-manifest.v1';
export const MANIFEST_FILE = 'manifest.json';

export interface DownloadManifest {
  readonly type: typeof MANIFEST_TYPE;
  readonly endpoint: string;
  readonly from: string;
  readonly to: string;
  readonly downloadedAt: string;
  readonly periodSeconds: number | null;
  readonly graceSeconds: number | null;
  /** Oldest first; `statementSha256` is computed over the statement bytes written to DIR. */
  readonly periods: {
    readonly id: string;
    readonly periodStart: string;
    readonly periodSeconds: number;
    readonly sequence: number;
    readonly digestKey: string;
    readonly statementSha256: string;
    readonly objects: string[];
  }[];
}
const keysSchema = z.object({
  keys: z.array(
    z.object({
      keyId: z.string().regex(/^[0-9a-f]{64}$/),
      publicKeyPem: z.string(),
      // The signed key record (FORMAT.md §9.4); the verifier checks it, the download only stores it.
      record: keyRecordSchema.nullable().optional(),
    }),
  ),
});
const SAFE_KEY = /^(digests|archives)\/[a-z0-9][a-z0-9-]{0,62}\/[0-9A-Za-z./-]+$/;

export interface DownloadOptions {
  readonly fromMs: number;
  readonly toMs: number;
  readonly out: string;
  readonly endpoint?: string;
  readonly localFile?: string;
  readonly json: boolean;
  /** Wait until the range's last period is sealed, at most this long, before downloading (`--wait`). */
  readonly waitTimeoutMs?: number;
  /** Progress lines while waiting; default standard error. */
  readonly log?: (line: string) => void;
}

export interface DownloadSummary {
  readonly out: string;
  readonly from: string;
  readonly to: string;
  readonly manifest: string;
  readonly digests: number;
  /** First and last period fetched (starts), when any. */
  readonly firstPeriod?: string;
  readonly lastPeriod?: string;
  readonly periodSeconds: number | null;
  readonly graceSeconds: number | null;
  /** The newest sealed period of the ledger (any range), null before the first seal; for the zero case. */
  readonly newestSealedPeriod?: string | null;
  readonly objects: number;
  readonly bytes: number;
  readonly unchanged: number;
  readonly keys: string[];
}

async function writeObject(root: string, key: string, bytes: Buffer): Promise<'written' | 'unchanged'> {
  if (!SAFE_KEY.test(key) || key.split('/').includes('..'))
    throw new Error(`refusing unsafe object key ${JSON.stringify(key)}`);
  const path = resolve(root, key);
  if (!path.startsWith(resolve(root) + sep))
    throw new Error(`refusing object key outside the folder: ${key}`);
  const existing = await readFile(path).catch(() => undefined);
  if (existing) {
    if (existing.equals(bytes)) return 'unchanged';
    throw new UsageError(`${path} already exists with different content; download into an empty folder`);
  }
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.partial`;
  await writeFile(temp, bytes);
  await rename(temp, path);
  return 'written';
}

export async function runDownload(options: DownloadOptions, target?: ApiTarget): Promise<DownloadSummary> {
  if (options.fromMs >= options.toMs) throw new UsageError('--from must be before --to');
  const api =
    target ??
    (await resolveTarget({
      role: 'auditor',
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.localFile ? { localFile: options.localFile } : {}),
    }));
  const from = new Date(options.fromMs).toISOString();
  const to = new Date(options.toMs).toISOString();
  if (options.waitTimeoutMs !== undefined) {
    await waitUntilSealed({
      toMs: options.toMs,
      timeoutMs: options.waitTimeoutMs,
      schedule: async () => {
        const page = listSchema.parse(await signedJson(api, 'GET', '/v1/digests', { from, to, limit: '1' }));
        return { periodSeconds: page.periodSeconds ?? null, graceSeconds: page.graceSeconds ?? null };
      },
      newestSealed: () => newestSealedPeriod(api),
      log: options.log ?? ((line) => process.stderr.write(`${line}\n`)),
    });
  }
  const ids: string[] = [];
  let nextToken: string | undefined;
  let periodSeconds: number | null = null;
  let graceSeconds: number | null = null;
  do {
    const page = listSchema.parse(
      await signedJson(api, 'GET', '/v1/digests', {
        from,
        to,
        limit: '500',
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    ids.push(...page.digests.map((d) => d.id));
    nextToken = page.nextToken;
    periodSeconds = page.periodSeconds ?? periodSeconds;
    graceSeconds = page.graceSeconds ?? graceSeconds;
  } while (nextToken);

  const bar = new ProgressBar('downloading', !options.json && Boolean(process.stderr.isTTY));
  let objects = 0;
  let bytes = 0;
  let unchanged = 0;
  const periods: DownloadManifest['periods'][number][] = [];
  for (const [i, id] of ids.entries()) {
    const described = describeSchema.parse(
      await signedJson(api, 'GET', `/v1/digests/${encodeURIComponent(id)}`),
    );
    let statementSha256 = '';
    for (const object of described.objects) {
      const response = await fetch(object.url);
      if (!response.ok) throw new Error(`download of ${object.key} failed: HTTP ${response.status}`);
      const body = Buffer.from(await response.arrayBuffer());
      if ((await writeObject(options.out, object.key, body)) === 'unchanged') unchanged++;
      if (object.key.endsWith('.statement.json'))
        statementSha256 = createHash('sha256').update(body).digest('hex');
      objects++;
      bytes += body.length;
    }
    periods.push({
      id: described.id,
      periodStart: described.periodStart,
      periodSeconds: described.periodSeconds,
      sequence: described.sequence,
      digestKey: described.digestKey,
      statementSha256,
      objects: described.objects.map((o) => o.key),
    });
    bar.update(i + 1, ids.length);
  }
  bar.done();

  // With nothing in range, say what the newest sealed period is, so "not sealed yet" is told apart from
  // "never will be".
  const newest = ids.length === 0 ? await newestSealedPeriod(api) : undefined;
  const manifest: DownloadManifest = {
    type: MANIFEST_TYPE,
    endpoint: api.endpoint,
    from,
    to,
    downloadedAt: new Date().toISOString(),
    periodSeconds,
    graceSeconds,
    periods,
  };
  await mkdir(options.out, { recursive: true });
  const manifestPath = join(options.out, MANIFEST_FILE);
  await writeFile(`${manifestPath}.partial`, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(`${manifestPath}.partial`, manifestPath);

  const keys = keysSchema.parse(await signedJson(api, 'GET', '/v1/keys'));
  await mkdir(join(options.out, 'keys'), { recursive: true });
  for (const k of keys.keys) {
    await writeFile(join(options.out, 'keys', `${k.keyId}.pem`), k.publicKeyPem);
    const checked = k.record ? await checkKeyRecord(keyRecordBytes(k.record)) : undefined;
    if (k.record && checked?.statement.keyId === k.keyId) {
      const recordKey = keyRecordObjectKey(checked.statement.ledger, k.keyId);
      await mkdir(dirname(join(options.out, recordKey)), { recursive: true });
      await writeFile(join(options.out, recordKey), keyRecordBytes(k.record));
    }
  }
  return {
    out: options.out,
    from,
    to,
    manifest: manifestPath,
    digests: ids.length,
    ...(periods.length > 0
      ? { firstPeriod: periods[0]!.periodStart, lastPeriod: periods[periods.length - 1]!.periodStart }
      : {}),
    periodSeconds,
    graceSeconds,
    ...(newest !== undefined ? { newestSealedPeriod: newest } : {}),
    objects,
    bytes,
    unchanged,
    keys: keys.keys.map((k) => k.keyId),
  };
}

/** Why a download found nothing: the range is not sealed yet, and when it will be. */
export function nothingSealedExplanation(s: DownloadSummary): string[] {
  const schedule =
    s.periodSeconds !== null && s.graceSeconds !== null
      ? `periods are ${s.periodSeconds} s long and each is sealed about ${s.graceSeconds} s after it ends, so an event appears in a digest at most about ${s.periodSeconds + s.graceSeconds} s after it is received`
      : 'each period is sealed shortly after it ends';
  const newest =
    s.newestSealedPeriod === null
      ? 'nothing has been sealed on this ledger yet'
      : s.newestSealedPeriod !== undefined
        ? `the newest sealed period starts ${s.newestSealedPeriod}`
        : undefined;
  return [
    `No digest to download for ${s.from} … ${s.to}: nothing has been sealed in that range yet.`,
    `  ${schedule};`,
    ...(newest ? [`  ${newest}.`] : []),
    '  Run the same command with --wait to wait until the range is sealed, or widen --from.',
  ];
}

/** The start of the newest sealed period of the ledger (`GET /v1/head`), null before the first seal. */
async function newestSealedPeriod(api: ApiTarget): Promise<string | null> {
  try {
    return headSchema.parse(await signedJson(api, 'GET', '/v1/head')).periodStart;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

/** `--wait` ran out of time: nothing was downloaded (exit 1). */
export class SealingWaitTimeout extends Error {
  override readonly name = 'SealingWaitTimeout';
}

/** What `waitUntilSealed` needs: the ledger's schedule and head, a clock, and where to report. */
export interface SealingWait {
  /** `--to`: the range's last period is the one holding the instant just before it. */
  readonly toMs: number;
  readonly timeoutMs: number;
  readonly schedule: () => Promise<{ periodSeconds: number | null; graceSeconds: number | null }>;
  /** Start of the newest sealed period (RFC 3339), null before the first seal. */
  readonly newestSealed: () => Promise<string | null>;
  readonly log: (line: string) => void;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** How often the head is asked for while waiting, at most. */
const WAIT_POLL_MS = 2000;
/** How often a progress line is printed while nothing changes. */
const WAIT_REPORT_MS = 15_000;

/**
 * Waits until the period holding `toMs - 1 ms` is sealed: periods are sealed in order, one chain per
 * ledger, so the head reaching it means every period of the range is sealed (a range before the ledger
 * began has nothing to wait for). Fails at once when even the expected sealing time is past the timeout.
 */
export async function waitUntilSealed(wait: SealingWait): Promise<void> {
  const now = wait.now ?? Date.now;
  const sleep = wait.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const started = now();
  const deadline = started + wait.timeoutMs;
  const { periodSeconds, graceSeconds } = await wait.schedule();
  let newest = await wait.newestSealed();
  const period = periodSeconds;
  if (period === null) {
    throw new Error('the API did not say how long its periods are (GET /v1/digests periodSeconds)');
  }
  const lastStartMs = Math.floor((wait.toMs - 1) / (period * 1000)) * period * 1000;
  const last = new Date(lastStartMs).toISOString().replace('.000Z', 'Z');
  const sealed = () => newest !== null && Date.parse(newest) >= lastStartMs;
  if (sealed()) return;
  const endMs = lastStartMs + period * 1000;
  const expectedMs = graceSeconds === null ? undefined : endMs + graceSeconds * 1000;
  const expected =
    expectedMs === undefined
      ? `it ends ${iso(endMs)} and is sealed shortly after`
      : `it ends ${iso(endMs)} and is sealed about ${graceSeconds} s later, ${iso(expectedMs)}`;
  if (expectedMs !== undefined && expectedMs > deadline) {
    throw new SealingWaitTimeout(
      `not waiting: the last period of the range (${last}) cannot be sealed within the --timeout of ${wait.timeoutMs / 1000} s: ${expected}. Raise --timeout, or end the range earlier with --to.`,
    );
  }
  const eta =
    expectedMs === undefined
      ? ''
      : expectedMs > now()
        ? ` (in about ${seconds(expectedMs - now())} s)`
        : ' (overdue)';
  wait.log(`waiting for period ${last} to be sealed: ${expected}${eta}; ${newestText(newest)}`);
  let reportedAt = now();
  let reported = newest;
  for (;;) {
    const left = deadline - now();
    if (left <= 0) {
      throw new SealingWaitTimeout(
        `timed out after ${seconds(now() - started)} s waiting for period ${last} to be sealed (${expected}); ${newestText(newest)}. ` +
          'Sealing may be stopped: check GET /v1/alarms for SEALING_LAG (auditor role) and, locally, the npm start output; or raise --timeout.',
      );
    }
    const untilExpected = expectedMs === undefined ? WAIT_POLL_MS : expectedMs - now();
    await sleep(Math.max(250, Math.min(WAIT_POLL_MS, left, untilExpected)));
    newest = await wait.newestSealed();
    if (sealed()) {
      wait.log(`period ${last} is sealed (after ${seconds(now() - started)} s); downloading`);
      return;
    }
    if (newest !== reported || now() - reportedAt >= WAIT_REPORT_MS) {
      wait.log(`  still waiting for ${last} (${seconds(now() - started)} s so far); ${newestText(newest)}`);
      reportedAt = now();
      reported = newest;
    }
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function seconds(ms: number): number {
  return Math.max(0, Math.round(ms / 1000));
}

function newestText(newest: string | null): string {
  return newest === null
    ? 'nothing is sealed on this ledger yet'
    : `the newest sealed period starts ${newest}`;
}

export function renderDownload(s: DownloadSummary): string {
  if (s.digests === 0)
    return [...nothingSealedExplanation(s), `  (manifest written to ${s.manifest})`].join('\n');
  return [
    `Downloaded ${s.digests} digest(s), periods ${s.firstPeriod} … ${s.lastPeriod}: ${s.objects} objects, ${s.bytes} bytes (${s.unchanged} already present) into ${s.out}`,
    `  the manifest of what was fetched is ${s.manifest} (the verifier does not read it)`,
    `  the service reports ${s.keys.length} signing key(s), saved under ${s.out}/keys/ for reference;`,
    '  verify against keys you obtained out of band:',
    `  npx auditseal verify ${s.out} --key trusted.pem --from … --to …`,
  ].join('\n');
}

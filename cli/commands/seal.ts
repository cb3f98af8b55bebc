/** `auditseal seal`: seals an existing log (JSON lines) into a verifiable folder with the cloud sealing code. */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KeyFileSigner } from '../../shared/crypto/key-file-signer.ts';
import { SOURCE_TEXT_LIMITS } from '../../shared/events/limits.ts';
import { importLine } from '../../shared/ingest/import-lines.ts';
import { DEFAULT_CHUNK_LEAVES } from '../../shared/ledger/archive-chunk.ts';
import { assertLedgerId, parseDigestObjectKey } from '../../shared/ledger/object-keys.ts';
import { assertPeriodSeconds, isoSeconds } from '../../shared/ledger/period.ts';
import { type ChainHead, readSealedHead } from '../../shared/ledger/seal-period.ts';
import { compareEvents, type OrderedEvent, sealRange } from '../../shared/ledger/seal-range.ts';
import { FolderObjectStore } from '../../shared/storage/folder-object-store.ts';
import { FolderReader } from '../../shared/verify/object-reader.ts';
import { UsageError } from '../errors.ts';
import { ProgressBar } from '../progress.ts';
import { readLines } from '../read-lines.ts';

export interface SealOptions {
  readonly in: string;
  readonly out: string;
  readonly key: string;
  readonly ledger: string;
  readonly periodSeconds: number;
  readonly chunkLeaves?: number;
  readonly skipInvalid: boolean;
  readonly json: boolean;
}

interface Rejection {
  readonly line: number;
  readonly code: string;
  readonly message: string;
}

export interface SealSummary {
  readonly ledger: string;
  readonly out: string;
  readonly keyId: string;
  readonly lines: number;
  readonly events: number;
  readonly duplicates: number;
  readonly rejected: Rejection[];
  readonly periods: number;
  readonly firstPeriod?: string;
  readonly lastPeriod?: string;
  readonly publicKey: string;
}

function errorCode(error: unknown): string {
  const e = error as { code?: unknown; reason?: unknown };
  if (typeof e.reason === 'string') return e.reason;
  if (typeof e.code === 'string') return e.code;
  return 'INVALID';
}

/** Lines longer than this many bytes are refused unread: their text could not be within `SOURCE_TEXT_LIMITS`. */
const MAX_LINE_BYTES = 4 * SOURCE_TEXT_LIMITS.maxLength;

async function readEvents(
  path: string,
  rejected: Rejection[],
): Promise<{ events: OrderedEvent[]; lines: number; duplicates: number }> {
  const events = new Map<string, OrderedEvent & { hash: string }>();
  let lines = 0;
  let duplicates = 0;
  try {
    for await (const line of readLines(path, MAX_LINE_BYTES)) {
      if ('text' in line && line.text.trim() === '') continue;
      lines++;
      const n = line.n;
      try {
        if (!('text' in line)) throw Object.assign(new Error(line.message), { code: line.problem });
        const { event } = importLine(line.text);
        const hash = event.leafHash.toString('hex');
        const previous = events.get(event.event.id);
        if (previous) {
          if (previous.hash === hash) {
            duplicates++;
            continue;
          }
          throw Object.assign(
            new Error(`event id ${event.event.id} already appears with different content`),
            { code: 'ID_CONFLICT' },
          );
        }
        events.set(event.event.id, {
          id: event.event.id,
          bytes: event.bytes,
          receivedAt: event.event.receivedAt,
          hash,
        });
      } catch (error) {
        rejected.push({ line: n, code: errorCode(error), message: (error as Error).message });
      }
    }
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
  }
  return { events: [...events.values()].sort(compareEvents), lines, duplicates };
}

/** Finds the last sealed period of `ledger` already in the folder, so a new import continues its chain. */
async function existingHead(out: string, ledger: string): Promise<ChainHead | null> {
  const keys = (await new FolderReader(out).list(`digests/${ledger}/`))
    .map(parseDigestObjectKey)
    .filter((k) => k?.part === 'signature')
    .sort((a, b) => a!.period.startMs - b!.period.startMs);
  const last = keys[keys.length - 1];
  if (!last) return null;
  return (await readSealedHead(new FolderObjectStore(out), ledger, last.period)) ?? null;
}

export async function runSeal(options: SealOptions): Promise<SealSummary> {
  try {
    assertLedgerId(options.ledger);
    assertPeriodSeconds(options.periodSeconds);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  let signer: KeyFileSigner;
  try {
    signer = new KeyFileSigner(await readFile(options.key, 'utf8'));
  } catch (error) {
    throw new UsageError(`cannot use signing key ${options.key}: ${(error as Error).message}`);
  }
  const rejected: Rejection[] = [];
  const { events, lines, duplicates } = await readEvents(options.in, rejected);
  if (rejected.length > 0 && !options.skipInvalid) {
    const first = rejected[0]!;
    throw new UsageError(
      `${rejected.length} of ${lines} lines rejected (first: line ${first.line}, ${first.code}: ${first.message}); fix them or pass --skip-invalid`,
    );
  }
  if (events.length === 0) throw new UsageError(`no events to seal in ${options.in}`);

  const store = new FolderObjectStore(options.out);
  const previous = await existingHead(options.out, options.ledger);
  const bar = new ProgressBar('sealing', !options.json && Boolean(process.stderr.isTTY));
  let sealedEvents = 0;
  let sealed: Awaited<ReturnType<typeof sealRange>>;
  try {
    sealed = await sealRange(
      {
        ledger: options.ledger,
        seconds: options.periodSeconds,
        events,
        previous,
        chunkLeaves: options.chunkLeaves ?? DEFAULT_CHUNK_LEAVES,
        onPeriod: (_, count) => {
          sealedEvents += count;
          bar.update(sealedEvents, events.length);
        },
      },
      { store, signer },
    );
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(error.message);
    throw error;
  } finally {
    bar.done();
  }
  const keyId = await signer.keyId();
  const publicKey = join(options.out, 'keys', `${keyId}.pem`);
  await mkdir(join(options.out, 'keys'), { recursive: true });
  await writeFile(publicKey, await signer.publicKeyPem());
  return {
    ledger: options.ledger,
    out: options.out,
    keyId,
    lines,
    events: events.length,
    duplicates,
    rejected,
    periods: sealed.length,
    ...(sealed.length > 0
      ? {
          firstPeriod: isoSeconds(sealed[0]!.period.startMs),
          lastPeriod: isoSeconds(sealed[sealed.length - 1]!.period.startMs),
        }
      : {}),
    publicKey,
  };
}

/** Human summary of a seal run. */
export function renderSeal(s: SealSummary): string {
  const lines = [
    `Sealed ${s.events} events from ${s.lines} lines into ${s.periods} period digest(s) of ledger "${s.ledger}"`,
    s.firstPeriod ? `  periods: ${s.firstPeriod} … ${s.lastPeriod}` : '',
    `  folder:  ${s.out}/digests, ${s.out}/archives`,
    `  key:     ${s.keyId}`,
    `  public key written to ${s.publicKey} (give auditors this file, out of band)`,
  ];
  if (s.duplicates > 0) lines.push(`  ${s.duplicates} exact duplicate line(s) skipped`);
  if (s.rejected.length > 0) {
    lines.push(`  ${s.rejected.length} line(s) rejected:`);
    const byCode = new Map<string, number>();
    for (const r of s.rejected) byCode.set(r.code, (byCode.get(r.code) ?? 0) + 1);
    for (const [code, n] of byCode) lines.push(`    ${code}: ${n}`);
  }
  return lines.filter(Boolean).join('\n');
}

export { DEFAULT_CHUNK_LEAVES };

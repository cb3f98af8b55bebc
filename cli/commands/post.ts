/**
 * `auditseal post FILE|- --out DIR`: posts events through `auditseal/client` (writer role) and writes one
 * receipt file per event, `DIR/<eventId>.receipt.json`, that `auditseal verify-receipt` accepts as is.
 *
 * Input: JSON lines (one event per line), a JSON array of events, or `{"events": [...]}`. Every event is
 * checked before the first request, so bad input sends nothing. Receipts are written after each stored
 * batch, so a run that fails part-way keeps the receipts of what was stored; running it again is safe.
 */
import { createHash } from 'node:crypto';
import { link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { AuditsealInputError, AuditsealPostError } from '../../client/errors.ts';
import { validateEvents } from '../../client/validate-events.ts';
import type { Receipt } from '../../shared/ledger/formats.ts';
import { type ApiTarget, clientFor, resolveTarget } from '../api-client.ts';
import { UsageError } from '../errors.ts';
import { ProgressBar } from '../progress.ts';
import { loadTrustedKeys } from '../trusted-keys.ts';

/** Largest input read (the whole input is held in memory). */
export const MAX_INPUT_BYTES = 256 * 1024 * 1024;
const RECEIPT_SUFFIX = '.receipt.json';
/** Event id characters kept as they are in file names; everything else is percent-encoded. */
const FILE_SAFE = /[^A-Za-z0-9._@+=-]/g;

export interface PostOptions {
  /** A file path, or `-` for standard input. */
  readonly input: string;
  readonly out: string;
  readonly endpoint?: string;
  readonly region?: string;
  readonly profile?: string;
  readonly localFile?: string;
  /** Public keys to verify every receipt against (exit 1 if one fails). */
  readonly keys: readonly string[];
  readonly json: boolean;
}

export interface PostSummary {
  readonly endpoint: string;
  readonly events: number;
  readonly requests: number;
  readonly stored: number;
  readonly duplicates: number;
  readonly out: string;
  /** Receipt files written, and files that were already there with the same content. */
  readonly written: number;
  readonly unchanged: number;
  /** Present when `--key` was given. */
  readonly verified?: {
    readonly valid: number;
    readonly invalid: { eventId?: string; code: string; message: string }[];
  };
}

/** Longest file name most file systems accept, in bytes. */
const MAX_FILE_NAME_BYTES = 255;

/**
 * The receipt file name of an event id: the id with every character outside `A-Z a-z 0-9 . _ @ + = -`
 * written as `%XX` (so `/` is `%2F` and `:` is `%3A`), then `.receipt.json`. `decodeURIComponent` of the
 * name without its suffix gives the id back. Ids start with a letter or digit, so no name is hidden or
 * `..`. A name that would be longer than 255 bytes (an id of up to 128 characters, mostly `/` and `:`)
 * is cut to 200 characters and ends in `~` and 32 hex digits of the id's SHA-256 instead; `~` never
 * occurs otherwise. The receipt inside always names its event.
 */
export function receiptFileName(eventId: string): string {
  const encoded = eventId.replace(
    FILE_SAFE,
    (c) =>
      `${[...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('')}`,
  );
  const name = `${encoded}${RECEIPT_SUFFIX}`;
  if (Buffer.byteLength(name) <= MAX_FILE_NAME_BYTES) return name;
  const cut = encoded.slice(0, 200).replace(/%[0-9A-F]?$/, '');
  return `${cut}~${createHash('sha256').update(eventId, 'utf8').digest('hex').slice(0, 32)}${RECEIPT_SUFFIX}`;
}

/**
 * The event id a receipt file name stands for; undefined for a name `receiptFileName` cannot produce,
 * and for a shortened (`~`) name, whose id is only in the receipt.
 */
export function eventIdOfReceiptFile(name: string): string | undefined {
  if (!name.endsWith(RECEIPT_SUFFIX) || name.includes('~')) return undefined;
  try {
    const id = decodeURIComponent(name.slice(0, -RECEIPT_SUFFIX.length));
    return receiptFileName(id) === name ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Events with where each one came from (`line 3`, `item 2`), for messages. */
export interface EventsInput {
  readonly events: unknown[];
  readonly where: (index: number) => string;
}

/** Parses the input text: a JSON array, `{"events": [...]}`, one event, or JSON lines. */
export function parseEventsInput(text: string, name: string): EventsInput {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const trimmed = body.trim();
  if (trimmed === '') throw new UsageError(`${name} holds no events`);
  let whole: unknown;
  let isWhole = false;
  try {
    whole = JSON.parse(trimmed);
    isWhole = true;
  } catch {
    // not one JSON document: JSON lines, below
  }
  if (isWhole) {
    if (Array.isArray(whole)) return { events: whole, where: (i) => `item ${i}` };
    if (whole !== null && typeof whole === 'object' && Object.hasOwn(whole, 'events')) {
      const keys = Object.keys(whole);
      const events = (whole as { events: unknown }).events;
      if (keys.length !== 1 || !Array.isArray(events)) {
        throw new UsageError(`${name}: an object with "events" must be exactly {"events": [ … ]}`);
      }
      return { events, where: (i) => `item ${i}` };
    }
    return { events: [whole], where: () => 'line 1' };
  }
  if (trimmed.startsWith('[')) throw new UsageError(`${name} is not a valid JSON array`);
  const events: unknown[] = [];
  const lines: number[] = [];
  const all = body.split('\n');
  for (const [i, raw] of all.entries()) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') continue;
    try {
      events.push(JSON.parse(line));
    } catch {
      throw new UsageError(
        `${name}: line ${i + 1} is not JSON (the input must be JSON lines, a JSON array, or {"events": [ … ]})`,
      );
    }
    lines.push(i + 1);
  }
  return { events, where: (i) => `line ${lines[i]}` };
}

async function readInput(input: string, stdin: Readable): Promise<string> {
  let bytes: Buffer;
  if (input === '-') {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of stdin) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      size += b.length;
      if (size > MAX_INPUT_BYTES)
        throw new UsageError(`standard input is larger than ${MAX_INPUT_BYTES} bytes`);
      chunks.push(b);
    }
    bytes = Buffer.concat(chunks);
  } else {
    let size: number;
    try {
      const info = await stat(input);
      if (!info.isFile()) throw new UsageError(`${input} is not a file`);
      size = info.size;
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError(`cannot read ${input}: ${(error as Error).message}`);
    }
    if (size > MAX_INPUT_BYTES) {
      throw new UsageError(`${input} is larger than ${MAX_INPUT_BYTES} bytes: split it and post the parts`);
    }
    bytes = await readFile(input);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError(`${input === '-' ? 'standard input' : input} is not valid UTF-8`);
  }
}

/** Writes a receipt file unless one is there: no file is ever replaced. */
async function writeReceipt(
  dir: string,
  receipt: Receipt,
): Promise<'written' | 'unchanged' | { conflict: string }> {
  const name = receiptFileName(receipt.eventId);
  const path = join(dir, name);
  const text = `${JSON.stringify(receipt, null, 2)}\n`;
  const temporary = join(dir, `.${name}.${process.pid}.tmp`);
  await writeFile(temporary, text, { mode: 0o644 });
  try {
    // A hard link creates the name only if it is free, with the whole content already in place.
    await link(temporary, path);
    return 'written';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const existing = await readFile(path, 'utf8').catch(() => undefined);
    return existing === text ? 'unchanged' : { conflict: path };
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}

/** Posts the events and writes the receipts; `target` is for tests (else resolved from the options). */
export async function runPost(
  options: PostOptions,
  target?: ApiTarget,
  stdin: Readable = process.stdin,
): Promise<PostSummary> {
  const keys = options.keys.length > 0 ? await loadTrustedKeys(options.keys) : undefined;
  const name = options.input === '-' ? 'standard input' : options.input;
  const { events, where } = parseEventsInput(await readInput(options.input, stdin), name);
  try {
    validateEvents(events);
  } catch (error) {
    if (error instanceof AuditsealInputError) throw new UsageError(inputMessage(error, name, where));
    throw error;
  }
  const api =
    target ??
    (await resolveTarget({
      role: 'writer',
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.region ? { region: options.region } : {}),
      ...(options.profile ? { profile: options.profile } : {}),
      ...(options.localFile ? { localFile: options.localFile } : {}),
    }));
  try {
    await mkdir(options.out, { recursive: true });
  } catch (error) {
    throw new UsageError(`cannot create ${options.out}: ${(error as Error).message}`);
  }

  const client = clientFor(api, {
    onRetry: (r) =>
      process.stderr.write(
        `auditseal: ${r.error.message}; retrying in ${(r.delayMs / 1000).toFixed(1)} s (attempt ${r.attempt + 1})\n`,
      ),
  });
  const bar = new ProgressBar('posting', !options.json && Boolean(process.stderr.isTTY));
  let written = 0;
  let unchanged = 0;
  const conflicts: string[] = [];
  let result: Awaited<ReturnType<typeof client.postEvents>>;
  try {
    result = await client.postEvents(events, {
      verifyReceipts: false,
      validate: false,
      onBatch: async (progress) => {
        for (const receipt of progress.receipts) {
          const outcome = await writeReceipt(options.out, receipt);
          if (outcome === 'written') written++;
          else if (outcome === 'unchanged') unchanged++;
          else conflicts.push(outcome.conflict);
        }
        bar.update(progress.done, progress.total);
      },
    });
  } catch (error) {
    bar.done();
    if (error instanceof AuditsealInputError) throw new UsageError(inputMessage(error, name, where));
    if (error instanceof AuditsealPostError) {
      throw new UsageError(
        `${error.cause.message}\n  ${error.receipts.length} of ${events.length} event(s) were stored before that; their receipts are in ${options.out}. Running the same command again is safe: stored events are not stored twice.`,
      );
    }
    throw error;
  }
  bar.done();
  if (conflicts.length > 0) {
    throw new UsageError(
      `${conflicts.length} receipt file(s) already exist with other content and were left as they are (the events are stored): ${conflicts.slice(0, 3).join(', ')}${conflicts.length > 3 ? ', …' : ''}`,
    );
  }
  let verified: PostSummary['verified'];
  if (keys) {
    const checks = client.verifyReceipts(result.receipts, keys);
    verified = {
      valid: checks.filter((c) => c.ok).length,
      invalid: checks.flatMap((c) =>
        c.ok
          ? []
          : [
              {
                ...(c.eventId !== undefined ? { eventId: c.eventId } : {}),
                code: c.code,
                message: c.message,
              },
            ],
      ),
    };
  }
  return {
    endpoint: api.endpoint,
    events: events.length,
    requests: result.batches,
    stored: result.stored.length,
    duplicates: result.duplicates.length,
    out: options.out,
    written,
    unchanged,
    ...(verified ? { verified } : {}),
  };
}

function inputMessage(error: AuditsealInputError, name: string, where: (i: number) => string): string {
  if (error.problems.length === 0) return `${name}: ${error.message}`;
  const shown = error.problems
    .slice(0, 10)
    .map((p) => `  ${where(p.index)} (${p.path}): ${p.code}: ${p.message}`);
  const more = error.problems.length > 10 ? ['  …'] : [];
  return [`${name}: ${error.message.split(';')[0]}; nothing was sent:`, ...shown, ...more].join('\n');
}

export function renderPost(s: PostSummary): string {
  const lines = [
    `Posted ${s.events} event(s) to ${s.endpoint} in ${s.requests} request(s): ${s.stored} stored, ${s.duplicates} already stored.`,
    `Receipts: ${s.written} written, ${s.unchanged} already there, in ${s.out}/<eventId>.receipt.json (with / and : in ids written as %2F and %3A).`,
  ];
  if (s.verified) {
    lines.push(
      s.verified.invalid.length === 0
        ? `All ${s.verified.valid} receipt(s) verify against the pinned key(s).`
        : `${s.verified.invalid.length} receipt(s) do NOT verify:\n${s.verified.invalid
            .slice(0, 20)
            .map((i) => `  INVALID ${i.eventId ?? '?'}: ${i.code}: ${i.message}`)
            .join('\n')}`,
    );
  } else {
    lines.push(`Check one offline: npx auditseal verify-receipt ${s.out}/<file> --key <public key>.pem`);
  }
  return lines.join('\n');
}

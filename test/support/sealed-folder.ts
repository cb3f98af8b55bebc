/**
 * Sealed folders for the verifier tests: build one from events (the same `sealRange` the CLI uses), copy
 * it per test case, and damage it with a small tampering toolkit. Every tamper helper works on the files
 * of a folder by object key, the way an attacker with write access to a downloaded copy would.
 *
 * Example: `modifyEvent(dir, archiveKey, 3)` rewrites event 3 of a chunk and returns its id.
 */
import {
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { canonicalBytes, canonicalString } from '../../shared/canonical/jcs.ts';
import { KeyFileSigner } from '../../shared/crypto/key-file-signer.ts';
import { loadPublicKey, TrustedKeySet } from '../../shared/crypto/keys.ts';
import type { AuditEventInput } from '../../shared/events/audit-event.ts';
import { canonicalizeEvent } from '../../shared/ingest/canonical-event.ts';
import { importLine } from '../../shared/ingest/import-lines.ts';
import { type Digest, digestSchema } from '../../shared/ledger/formats.ts';
import { type DigestPart, digestObjectKey } from '../../shared/ledger/object-keys.ts';
import type { Period } from '../../shared/ledger/period.ts';
import type { SealedPeriod } from '../../shared/ledger/seal-period.ts';
import { compareEvents, type OrderedEvent, sealRange } from '../../shared/ledger/seal-range.ts';
import type { Signer } from '../../shared/ports/signer.ts';
import { FolderObjectStore } from '../../shared/storage/folder-object-store.ts';
import type { ObjectReader } from '../../shared/verify/object-reader.ts';
import { sharedDataPath } from './shared-data.ts';

/** The ledger name `auditseal seal` uses by default. */
export const TEST_LEDGER = 'import';

/** An event ready to seal, with its leaf hash for building receipts. */
export interface TestEvent extends OrderedEvent {
  readonly leafHash: Buffer;
}

/** A small valid event received at `receivedAt` (`YYYY-MM-DDTHH:MM:SS.sssZ`). */
export function makeEvent(id: string, receivedAt: string, extra: Partial<AuditEventInput> = {}): TestEvent {
  const { event, bytes, leafHash } = canonicalizeEvent(
    {
      id,
      eventTime: receivedAt,
      actor: { id: 'arn:aws:iam::111122223333:user/alice', type: 'user' },
      action: 's3:GetObject',
      outcome: { result: 'success' },
      ...extra,
    },
    receivedAt,
    'api',
  );
  return { id: event.id, bytes, receivedAt: event.receivedAt, leafHash };
}

/**
 * The real CloudTrail sample `../shared/data/cloudtrail/strict_permissive.jsonl`, imported as
 * `auditseal seal --skip-invalid` does: unsupported records skipped, the first record of an id kept.
 * `window` keeps events received in [fromMs, toMs).
 */
export function loadCloudTrailSample(window?: { fromMs: number; toMs: number }): TestEvent[] {
  const text = readFileSync(sharedDataPath('cloudtrail', 'strict_permissive.jsonl'), 'utf8');
  const byId = new Map<string, TestEvent>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let imported: ReturnType<typeof importLine>;
    try {
      imported = importLine(line);
    } catch {
      continue;
    }
    const { event, bytes, leafHash } = imported.event;
    if (byId.has(event.id)) continue;
    const t = Date.parse(event.receivedAt);
    if (window && (t < window.fromMs || t >= window.toMs)) continue;
    byId.set(event.id, { id: event.id, bytes, receivedAt: event.receivedAt, leafHash });
  }
  return [...byId.values()].sort(compareEvents);
}

/** Raw sample lines whose CloudTrail `eventTime` falls in [fromMs, toMs), for feeding the real CLI. */
export function cloudTrailSampleLines(window: { fromMs: number; toMs: number }): string[] {
  const text = readFileSync(sharedDataPath('cloudtrail', 'strict_permissive.jsonl'), 'utf8');
  return text.split('\n').filter((line) => {
    if (line.trim() === '') return false;
    const record = JSON.parse(line) as { eventTime?: unknown };
    const t = typeof record.eventTime === 'string' ? Date.parse(record.eventTime) : Number.NaN;
    return t >= window.fromMs && t < window.toMs;
  });
}

/** A sealed folder and what built it. */
export interface SealedFolder {
  readonly dir: string;
  readonly ledger: string;
  readonly seconds: number;
  readonly chunkLeaves: number;
  readonly signer: KeyFileSigner;
  readonly keys: TrustedKeySet;
  readonly sealed: SealedPeriod[];
  readonly events: readonly TestEvent[];
}

/** Seals `events` into `dir` with the same code path as `auditseal seal` (FolderObjectStore + sealRange). */
export async function sealFolder(
  dir: string,
  options: {
    events: readonly TestEvent[];
    seconds: number;
    chunkLeaves: number;
    ledger?: string;
    signer?: KeyFileSigner;
    untilMs?: number;
  },
): Promise<SealedFolder> {
  const signer = options.signer ?? KeyFileSigner.generate();
  const ledger = options.ledger ?? TEST_LEDGER;
  const sealed = await sealRange(
    {
      ledger,
      seconds: options.seconds,
      events: options.events,
      previous: null,
      chunkLeaves: options.chunkLeaves,
      ...(options.untilMs !== undefined ? { untilMs: options.untilMs } : {}),
    },
    { store: new FolderObjectStore(dir), signer },
  );
  return {
    dir,
    ledger,
    seconds: options.seconds,
    chunkLeaves: options.chunkLeaves,
    signer,
    keys: await trustedKeysOf(signer),
    sealed,
    events: options.events,
  };
}

/** The trusted key set of these signers' public keys. */
export async function trustedKeysOf(...signers: Signer[]): Promise<TrustedKeySet> {
  const keys = [];
  for (const signer of signers) keys.push(loadPublicKey(await signer.publicKeyPem()));
  return new TrustedKeySet(keys);
}

/** A fresh private temporary folder. */
export function tempFolder(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `auditseal-${prefix}-`));
}

/**
 * Copies a sealed folder to a fresh temporary folder and returns its path. Files are hard links, which
 * is ten times faster than copying; that is safe because every helper here replaces a file (unlink,
 * then create) instead of writing into it.
 */
export function copyFolder(from: string, prefix = 'case'): string {
  const to = tempFolder(prefix);
  linkTree(from, to);
  return to;
}

function linkTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (entry.isDirectory()) linkTree(join(from, entry.name), join(to, entry.name));
    else linkSync(join(from, entry.name), join(to, entry.name));
  }
}

/** Removes a folder made by tempFolder/copyFolder. */
export function removeFolder(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** ObjectReader over a map of objects, e.g. `InMemoryObjectStore.objects`. */
export class MemoryReader implements ObjectReader {
  constructor(private readonly objects: Map<string, Uint8Array>) {}

  async list(prefix: string): Promise<string[]> {
    return [...this.objects.keys()].filter((key) => key.startsWith(prefix));
  }

  async read(key: string, maxBytes = Number.POSITIVE_INFINITY): Promise<Buffer | undefined> {
    const bytes = this.objects.get(key);
    return bytes === undefined ? undefined : Buffer.from(bytes).subarray(0, maxBytes);
  }
}

// ---------------------------------------------------------------------------------------------------
// Reading a folder by object key.

/** Bytes of an object, by key. Throws if it is missing. */
export function readObject(dir: string, key: string): Buffer {
  return readFileSync(join(dir, key));
}

/** Writes (or replaces) an object, creating its folders. Never writes into an existing file: see copyFolder. */
export function writeObject(dir: string, key: string, bytes: Uint8Array | string): void {
  mkdirSync(dirname(join(dir, key)), { recursive: true });
  rmSync(join(dir, key), { force: true });
  writeFileSync(join(dir, key), bytes, { flag: 'wx' });
}

/** Deletes an object. */
export function removeObject(dir: string, key: string): void {
  rmSync(join(dir, key));
}

/** True when the object exists. */
export function hasObject(dir: string, key: string): boolean {
  return existsSync(join(dir, key));
}

/** Every object key below a prefix such as `archives/`, sorted. */
export function listObjects(dir: string, prefix: string): string[] {
  const base = join(dir, prefix);
  if (!existsSync(base)) return [];
  return readdirSync(base, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) =>
      join(entry.parentPath, entry.name)
        .slice(dir.length + 1)
        .split('\\')
        .join('/'),
    )
    .sort();
}

/** The three digest object keys of a period. */
export function digestKeys(ledger: string, period: Period): Record<DigestPart, string> {
  return {
    digest: digestObjectKey(ledger, period, 'digest'),
    statement: digestObjectKey(ledger, period, 'statement'),
    signature: digestObjectKey(ledger, period, 'signature'),
  };
}

/** The parsed digest document of a period. */
export function readDigest(dir: string, ledger: string, period: Period): Digest {
  return digestSchema.parse(
    JSON.parse(readObject(dir, digestObjectKey(ledger, period, 'digest')).toString('utf8')),
  );
}

/** The lines (without their newline) of an archive chunk. */
export function archiveLines(dir: string, key: string): Buffer[] {
  const bytes = readObject(dir, key);
  const lines: Buffer[] = [];
  let start = 0;
  for (let nl = bytes.indexOf(0x0a); nl !== -1; nl = bytes.indexOf(0x0a, start)) {
    lines.push(bytes.subarray(start, nl));
    start = nl + 1;
  }
  return lines;
}

function writeLines(dir: string, key: string, lines: readonly Uint8Array[]): void {
  writeObject(dir, key, Buffer.concat(lines.flatMap((line) => [Buffer.from(line), Buffer.from([0x0a])])));
}

function eventIdOfLine(line: Uint8Array): string {
  const value = JSON.parse(Buffer.from(line).toString('utf8')) as { id: string };
  return value.id;
}

// ---------------------------------------------------------------------------------------------------
// The tampering toolkit.

/**
 * Rewrites event `index` of an archive chunk as canonical JSON after `mutate` (default: changes its
 * action). The id is kept, so the verifier can name the event. Returns the event id.
 */
export function modifyEvent(
  dir: string,
  key: string,
  index: number,
  mutate: (event: Record<string, unknown>) => void = (event) => {
    event['action'] = `${String(event['action'])}-tampered`;
  },
): string {
  const lines = archiveLines(dir, key);
  const event = JSON.parse(lines[index]!.toString('utf8')) as Record<string, unknown>;
  mutate(event);
  lines[index] = Buffer.from(canonicalString(event), 'utf8');
  writeLines(dir, key, lines);
  return String(event['id']);
}

/** Removes event `index` of a chunk; returns its id. */
export function deleteEvent(dir: string, key: string, index: number): string {
  const lines = archiveLines(dir, key);
  const [removed] = lines.splice(index, 1);
  writeLines(dir, key, lines);
  return eventIdOfLine(removed!);
}

/** Inserts `bytes` as a new line before event `index` of a chunk. */
export function insertEvent(dir: string, key: string, index: number, bytes: Uint8Array): void {
  const lines = archiveLines(dir, key);
  lines.splice(index, 0, Buffer.from(bytes));
  writeLines(dir, key, lines);
}

/** Repeats event `index` of a chunk right after itself; returns its id. */
export function duplicateEvent(dir: string, key: string, index: number): string {
  const lines = archiveLines(dir, key);
  lines.splice(index + 1, 0, lines[index]!);
  writeLines(dir, key, lines);
  return eventIdOfLine(lines[index]!);
}

/** Swaps events `i` and `j` of a chunk; returns their ids. */
export function swapEvents(dir: string, key: string, i: number, j: number): [string, string] {
  const lines = archiveLines(dir, key);
  const a = lines[i]!;
  lines[i] = lines[j]!;
  lines[j] = a;
  writeLines(dir, key, lines);
  return [eventIdOfLine(a), eventIdOfLine(lines[i]!)];
}

/** Cuts an object to its first `length` bytes. */
export function truncateArchive(dir: string, key: string, length: number): void {
  writeObject(dir, key, readObject(dir, key).subarray(0, length));
}

/** Appends bytes to an object. */
export function appendTrailing(dir: string, key: string, bytes: Uint8Array | string): void {
  writeObject(dir, key, Buffer.concat([readObject(dir, key), Buffer.from(bytes)]));
}

/** XORs one byte of an object with `mask` (non-zero, so the byte always changes). */
export function flipByte(dir: string, key: string, offset: number, mask = 0x01): void {
  const bytes = Buffer.from(readObject(dir, key));
  bytes[offset] = bytes[offset]! ^ mask;
  writeObject(dir, key, bytes);
}

/** Deletes some or all of a period's digest objects. */
export function deleteDigest(
  dir: string,
  ledger: string,
  period: Period,
  parts: readonly DigestPart[] = ['digest', 'statement', 'signature'],
): void {
  const keys = digestKeys(ledger, period);
  for (const part of parts) removeObject(dir, keys[part]);
}

/** Rewrites a period's digest document (canonical JSON) after `mutate`, without re-signing anything. */
export function modifyDigest(
  dir: string,
  ledger: string,
  period: Period,
  mutate: (digest: Digest) => Digest,
): void {
  const next = mutate(readDigest(dir, ledger, period));
  writeObject(dir, digestObjectKey(ledger, period, 'digest'), canonicalBytes(next));
}

/** Replaces a period's digest objects and archives with those of the same period in `fromDir`. */
export function replaceDigest(dir: string, fromDir: string, ledger: string, period: Period): void {
  const keys = digestKeys(ledger, period);
  const archivePrefix = `${keys.digest.replace(/^digests\//, 'archives/').replace(/\.digest\.json$/, '')}/`;
  for (const key of listObjects(dir, archivePrefix)) removeObject(dir, key);
  for (const key of [...Object.values(keys), ...listObjects(fromDir, archivePrefix)]) {
    writeObject(dir, key, readObject(fromDir, key));
  }
}

/** Puts period A's digest objects under period B's keys and vice versa. */
export function swapDigests(dir: string, ledger: string, a: Period, b: Period): void {
  const ka = digestKeys(ledger, a);
  const kb = digestKeys(ledger, b);
  for (const part of ['digest', 'statement', 'signature'] as const) {
    const bytesA = readObject(dir, ka[part]);
    writeObject(dir, ka[part], readObject(dir, kb[part]));
    writeObject(dir, kb[part], bytesA);
  }
}

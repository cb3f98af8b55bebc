/**
 * A folder handed to the verifier is hostile input. One case per way a folder can try to hurt the
 * verifier rather than fool it: a FIFO (used to hang it), a link to /dev/zero (used to grow it past
 * gigabytes), a link to a file outside, a link on the path, a device node, a huge sparse file, a digest
 * copied under the year 9999 (used to make the report O(n²) and abort with exit 134), and odd names.
 * Each case must finish within the test timeout, with findings that name the object, and nothing read
 * beyond its bound.
 *
 * The folder is sealed from the real CloudTrail sample (../shared/data/cloudtrail), 2024-07-31 12:00 to
 * 20:00 in one-hour periods and 16-event chunks.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReport } from '../../cli/commands/verify.ts';
import { archiveObjectKey } from '../../shared/ledger/object-keys.ts';
import type { Period } from '../../shared/ledger/period.ts';
import type { FindingCode } from '../../shared/verify/findings.ts';
import { FolderReader } from '../../shared/verify/object-reader.ts';
import {
  diagnosisWindow,
  MAX_DIGEST_BYTES,
  type VerifyReport,
  verifyFolder,
} from '../../shared/verify/verify-folder.ts';
import { mkfifoSync } from '../support/fifo.ts';
import {
  copyFolder,
  digestKeys,
  loadCloudTrailSample,
  readDigest,
  readObject,
  removeFolder,
  removeObject,
  type SealedFolder,
  sealFolder,
  TEST_LEDGER,
  tempFolder,
  writeObject,
} from '../support/sealed-folder.ts';

const HOUR = 3600;
const WINDOW = { fromMs: Date.parse('2024-07-31T12:00:00Z'), toMs: Date.parse('2024-07-31T20:00:00Z') };
const JUL31_12: Period = { startMs: Date.parse('2024-07-31T12:00:00Z'), seconds: HOUR }; // 28 events
const JUL31_13: Period = { startMs: Date.parse('2024-07-31T13:00:00Z'), seconds: HOUR }; // 1 event
const CHUNK = archiveObjectKey(TEST_LEDGER, JUL31_12, 1, 'events');
const TIMEOUT = 15_000;
const REPO = fileURLToPath(new URL('../../', import.meta.url));

let pristine: SealedFolder;
const folders: string[] = [];

beforeAll(async () => {
  pristine = await sealFolder(tempFolder('hostile-pristine'), {
    events: loadCloudTrailSample(WINDOW),
    seconds: HOUR,
    chunkLeaves: 16,
    untilMs: WINDOW.toMs,
  });
});

afterAll(() => {
  for (const dir of folders) removeFolder(dir);
  if (pristine) removeFolder(pristine.dir);
});

function caseFolder(): string {
  const dir = copyFolder(pristine.dir, 'hostile-case');
  folders.push(dir);
  return dir;
}

/** Replaces an object by whatever `make` creates at its path. */
function replaceWith(dir: string, key: string, make: (path: string) => void): void {
  removeObject(dir, key);
  make(join(dir, key));
}

function verify(dir: string): Promise<VerifyReport> {
  return verifyFolder(new FolderReader(dir), { keys: pristine.keys });
}

function codes(report: VerifyReport): FindingCode[] {
  return [...new Set(report.findings.map((f) => f.code))].sort();
}

describe('Function: verifyFolder (hostile folders)', () => {
  describe('when an archive chunk is a FIFO', () => {
    it('does not open it: OBJECT_NOT_REGULAR, and the chunk counts as missing', {
      timeout: TIMEOUT,
    }, async () => {
      // Prepare
      const dir = caseFolder();
      replaceWith(dir, CHUNK, mkfifoSync);

      // Act
      const report = await verify(dir);

      // Assess
      expect(codes(report)).toEqual(['ARCHIVE_MISSING', 'OBJECT_NOT_REGULAR']);
      expect(report.findings).toContainEqual(
        expect.objectContaining({
          code: 'OBJECT_NOT_REGULAR',
          object: CHUNK,
          message: expect.stringContaining('FIFO'),
        }),
      );
    });
  });

  describe('when a statement is a FIFO', () => {
    it('reports OBJECT_NOT_REGULAR and DIGEST_INCOMPLETE for that period', { timeout: TIMEOUT }, async () => {
      // Prepare
      const dir = caseFolder();
      const statement = digestKeys(TEST_LEDGER, JUL31_13).statement;
      replaceWith(dir, statement, mkfifoSync);

      // Act
      const report = await verify(dir);

      // Assess
      expect(report.findings).toEqual([
        expect.objectContaining({ code: 'OBJECT_NOT_REGULAR', object: statement }),
        expect.objectContaining({ code: 'DIGEST_INCOMPLETE', object: statement }),
      ]);
    });
  });

  describe('when a receipt file is a FIFO', () => {
    it('reports OBJECT_NOT_REGULAR only', { timeout: TIMEOUT }, async () => {
      // Prepare
      const dir = caseFolder();
      mkdirSync(join(dir, 'receipts'));
      mkfifoSync(join(dir, 'receipts', 'batch.json'));

      // Act
      const report = await verify(dir);

      // Assess
      expect(report.findings).toEqual([
        expect.objectContaining({ code: 'OBJECT_NOT_REGULAR', object: 'receipts/batch.json' }),
      ]);
    });
  });

  describe('when an archive chunk is a symbolic link to /dev/zero', () => {
    it('does not follow it, and memory does not grow', { timeout: TIMEOUT }, async () => {
      // Prepare
      const dir = caseFolder();
      replaceWith(dir, CHUNK, (path) => symlinkSync('/dev/zero', path));
      const before = process.memoryUsage().rss;

      // Act
      const report = await verify(dir);

      // Assess
      expect(codes(report)).toEqual(['ARCHIVE_MISSING', 'OBJECT_NOT_REGULAR']);
      expect(report.findings).toContainEqual(
        expect.objectContaining({
          code: 'OBJECT_NOT_REGULAR',
          object: CHUNK,
          message: expect.stringContaining('symbolic link'),
        }),
      );
      expect(process.memoryUsage().rss - before).toBeLessThan(256 * 1024 * 1024);
    });
  });

  describe('when an archive chunk is a symbolic link to an identical file outside the folder', () => {
    it('does not follow it even though the bytes would verify', { timeout: TIMEOUT }, async () => {
      // Prepare
      const dir = caseFolder();
      const outside = join(tempFolder('hostile-outside'), 'chunk.jsonl');
      folders.push(dirname(outside));
      copyFileSync(join(pristine.dir, CHUNK), outside);
      replaceWith(dir, CHUNK, (path) => symlinkSync(outside, path));

      // Act
      const report = await verify(dir);

      // Assess
      expect(codes(report)).toEqual(['ARCHIVE_MISSING', 'OBJECT_NOT_REGULAR']);
    });
  });

  describe('when a folder on the way to the archives is a symbolic link to a copy outside', () => {
    it('reads nothing through it', { timeout: TIMEOUT }, async () => {
      // Prepare
      const dir = caseFolder();
      const day = 'archives/import/2024/07/31';
      const outside = tempFolder('hostile-outside-day');
      folders.push(outside);
      for (const key of [CHUNK, CHUNK.replace(/\.jsonl$/, '.idx')]) {
        const target = join(outside, key.slice(day.length + 1));
        mkdirSync(dirname(target), { recursive: true });
        copyFileSync(join(pristine.dir, key), target);
      }
      removeFolder(join(dir, day));
      symlinkSync(outside, join(dir, day));

      // Act
      const report = await verify(dir);

      // Assess
      expect(report.valid).toBe(false);
      expect(report.findings).toContainEqual(
        expect.objectContaining({
          code: 'OBJECT_NOT_REGULAR',
          object: CHUNK,
          message: expect.stringContaining('path through a symbolic link'),
        }),
      );
      // The link itself is listed as an object that fits no key, never descended into.
      expect(report.findings).toContainEqual(
        expect.objectContaining({ code: 'OBJECT_UNEXPECTED', object: day }),
      );
    });
  });

  describe('when an archive chunk is a device node', () => {
    it('does not open it', { timeout: TIMEOUT }, async (context) => {
      // Prepare: the same device numbers as /dev/zero; needs root (mknod), skipped otherwise.
      const dir = caseFolder();
      removeObject(dir, CHUNK);
      try {
        await promisify(execFile)('mknod', [join(dir, CHUNK), 'c', '1', '5']);
      } catch {
        context.skip();
      }

      // Act
      const report = await verify(dir);

      // Assess
      expect(codes(report)).toEqual(['ARCHIVE_MISSING', 'OBJECT_NOT_REGULAR']);
      expect(report.findings).toContainEqual(
        expect.objectContaining({
          code: 'OBJECT_NOT_REGULAR',
          object: CHUNK,
          message: expect.stringContaining('device'),
        }),
      );
    });
  });

  describe('when an archive chunk is a 1 TiB sparse file that starts with the sealed events', () => {
    it('reads a bounded window and reports ARCHIVE_TRAILING_DATA', { timeout: TIMEOUT }, async () => {
      // Prepare
      const dir = caseFolder();
      const size = readObject(pristine.dir, CHUNK).length;
      writeObject(dir, CHUNK, readObject(pristine.dir, CHUNK));
      truncateSync(join(dir, CHUNK), 2 ** 40);

      // Act
      const report = await verify(dir);

      // Assess
      expect(report.findings).toEqual([
        expect.objectContaining({ code: 'ARCHIVE_TRAILING_DATA', object: CHUNK }),
      ]);
      // Every other chunk is read whole (it is intact); this one up to its diagnosis window only.
      expect(report.stats.bytes).toBe(sealedChunkBytes() - size + diagnosisWindow(size));
    });
  });

  describe('when an archive chunk is a 1 TiB sparse file of zero bytes', () => {
    it('reads a bounded window and reports the chunk without naming events', {
      timeout: TIMEOUT,
    }, async () => {
      // Prepare
      const dir = caseFolder();
      replaceWith(dir, CHUNK, (path) => {
        writeFileSync(path, '');
        truncateSync(path, 2 ** 40);
      });

      // Act
      const report = await verify(dir);

      // Assess
      expect(report.findings).toEqual([expect.objectContaining({ code: 'ROOT_MISMATCH', object: CHUNK })]);
    });
  });

  describe('when a digest is a 1 TiB sparse file', () => {
    it('reads at most its bound and reports DIGEST_MALFORMED', { timeout: TIMEOUT }, async () => {
      // Prepare
      const dir = caseFolder();
      const digest = digestKeys(TEST_LEDGER, JUL31_13).digest;
      replaceWith(dir, digest, (path) => {
        writeFileSync(path, '');
        truncateSync(path, 2 ** 40);
      });

      // Act
      const report = await verify(dir);

      // Assess
      expect(report.findings).toEqual([
        expect.objectContaining({
          code: 'DIGEST_MALFORMED',
          object: digest,
          message: expect.stringContaining(`larger than ${MAX_DIGEST_BYTES} bytes`),
        }),
      ]);
    });
  });

  describe('when a digest is copied under a period in the year 9999', () => {
    it('reports the gap as one finding, in linear time', { timeout: TIMEOUT }, async () => {
      // Prepare
      const dir = copyUnder9999(caseFolder());

      // Act
      const report = await verify(dir);

      // Assess
      expect(codes(report)).toEqual(['DIGEST_MOVED', 'PERIOD_MISSING']);
      expect(report.findings).toHaveLength(2);
      expect(report.findings).toContainEqual(
        expect.objectContaining({
          code: 'PERIOD_MISSING',
          periods: {
            first: '2024-07-31T21:00:00Z',
            last: '9999-12-31T22:00:00Z',
            count: 69_911_066,
            seconds: HOUR,
          },
        }),
      );
      expect(report.ledgers[0]).toMatchObject({ lastPeriod: '9999-12-31T23:00:00Z' });
    });

    it('exits 1 from the real command line, never 134', { timeout: 60_000 }, async () => {
      // Prepare
      const dir = copyUnder9999(caseFolder());
      const key = join(dir, 'trusted.pem');
      writeFileSync(key, await pristine.signer.publicKeyPem());

      // Act
      const run = await promisify(execFile)(
        process.execPath,
        ['bin/auditseal.mjs', 'verify', dir, '--key', key, '--json'],
        {
          cwd: REPO,
          encoding: 'utf8',
        },
      ).then(
        (r) => ({ code: 0, stdout: r.stdout }),
        (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
      );

      // Assess
      expect(run.code).toBe(1);
      const report = JSON.parse(run.stdout) as VerifyReport & {
        folderKeyFiles: { object: string; alsoTrusted: boolean }[];
      };
      expect(report.findings.map((f) => f.code).sort()).toEqual(['DIGEST_MOVED', 'PERIOD_MISSING']);
      // The key file left in the folder is named, and trusted only because it was passed with --key.
      expect(report.folderKeyFiles).toEqual([
        expect.objectContaining({ object: 'trusted.pem', alsoTrusted: true }),
      ]);
    });
  });

  describe('when objects have odd names: newlines, Unicode, invalid UTF-8 and 255-byte names', () => {
    it('reports each as OBJECT_UNEXPECTED and prints them escaped, one per line', {
      timeout: TIMEOUT,
    }, async () => {
      // Prepare
      const dir = caseFolder();
      const folder = join(dir, 'archives/import/2024/07/31');
      writeFileSync(join(folder, 'evil\nPERIOD_OK.jsonl'), 'x');
      writeFileSync(join(folder, 'é\u202eevil\u200b.jsonl'), 'x');
      mkdirSync(join(folder, 'd'.repeat(255)));
      writeFileSync(join(folder, 'd'.repeat(255), `${'a'.repeat(249)}.jsonl`), 'x');
      writeFileSync(Buffer.from(`${join(dir, 'digests/import')}/\xff\xfe.sig`, 'latin1'), 'x');

      // Act
      const report = await verify(dir);
      const text = renderReport(dir, { ...report, folderKeyFiles: [] });

      // Assess
      expect(codes(report)).toEqual(['OBJECT_UNEXPECTED']);
      expect(report.findings).toHaveLength(4);
      expect(text).toContain('evil\\nPERIOD_OK.jsonl');
      expect(text).toContain('\\u202e');
      expect(text.split('\n').filter((line) => line.includes('PERIOD_OK'))).toHaveLength(1);
      expect(text).toContain('…(');
    });
  });
});

/** Bytes of every sealed archive chunk of the pristine folder. */
function sealedChunkBytes(): number {
  return pristine.sealed
    .flatMap((s) => readDigest(pristine.dir, TEST_LEDGER, s.period).archives)
    .reduce((n, a) => n + a.size, 0);
}

/** Copies the digest objects of JUL31_13 under the keys of 9999-12-31T23:00:00Z. */
function copyUnder9999(dir: string): string {
  const from = digestKeys(TEST_LEDGER, JUL31_13);
  const to = digestKeys(TEST_LEDGER, { startMs: Date.parse('9999-12-31T23:00:00Z'), seconds: HOUR });
  for (const part of ['digest', 'statement', 'signature'] as const)
    writeObject(dir, to[part], readObject(dir, from[part]));
  return dir;
}

/**
 * `auditseal verify --jobs N` (cli/verify-workers.ts): archive chunks and batch records are checked by
 * worker threads, and the report must be byte-identical to the single-threaded one on every folder, clean or tampered. The
 * tamper scenarios run in-process with one shared pool; the public test vectors run through the built
 * command (dist/cli, with its bundled worker) with --jobs 1, --jobs 2 and the default.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkWorkerPool, parseJobs } from '../../cli/verify-workers.ts';
import { periodOf } from '../../shared/ledger/period.ts';
import { checkBatchRecord } from '../../shared/verify/batch-record-check.ts';
import { FolderReader } from '../../shared/verify/object-reader.ts';
import { type ChunkChecker, type VerifyOptions, verifyFolder } from '../../shared/verify/verify-folder.ts';
import {
  copyFolder,
  flipByte,
  listObjects,
  readObject,
  removeFolder,
  type SealedFolder,
  tempFolder,
  writeObject,
} from '../support/sealed-folder.ts';
import { sealSignedGroups } from '../support/signed-groups.ts';
import { caseFolders, SCENARIOS, sealPristine } from '../tamper/scenarios.ts';
import {
  CASES_DIR,
  caseArgs,
  caseKey,
  materialize,
  PRISTINE_DIR,
  TRUSTED_KEY,
} from '../vectors/vector-files.ts';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/auditseal.mjs', import.meta.url));

let pristine: SealedFolder;
let pool2: ChunkWorkerPool;
let pool3: ChunkWorkerPool;
const folders: string[] = [];

beforeAll(async () => {
  pristine = await sealPristine(tempFolder('jobs-pristine'));
  pool2 = new ChunkWorkerPool(2, { takeBuffers: true });
  pool3 = new ChunkWorkerPool(3);
});

afterAll(async () => {
  await pool2?.close();
  await pool3?.close();
  for (const dir of [...folders, ...caseFolders]) removeFolder(dir);
  if (pristine) removeFolder(pristine.dir);
});

/** The report as JSON text, from one thread and from each pool. */
async function reports(dir: string, options: Omit<VerifyOptions, 'chunks'>): Promise<string[]> {
  const reader = new FolderReader(dir);
  return [
    JSON.stringify(await verifyFolder(reader, options)),
    JSON.stringify(await verifyFolder(reader, { ...options, chunks: pool2 })),
    JSON.stringify(await verifyFolder(reader, { ...options, chunks: pool3 })),
  ];
}

/** Runs the built command; returns its exit status and its stdout, unparsed. */
async function verifyCli(
  dir: string,
  args: string[],
): Promise<{ exit: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, 'verify', dir, ...args], {
      maxBuffer: 64 * 1024 * 1024,
    });
    return { exit: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { exit: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('Class: ChunkWorkerPool', () => {
  for (const scenario of SCENARIOS) {
    describe(`when ${scenario.when}`, () => {
      it('gives the same report with 1, 2 and 3 threads', async () => {
        // Prepare
        const dir = copyFolder(pristine.dir, 'jobs-case');
        folders.push(dir);
        const expected = await scenario.tamper({ dir, pristine });

        // Act
        const [one, two, three] = await reports(dir, { keys: pristine.keys, ...expected.options });

        // Assess
        expect(JSON.parse(one!).findings.length > 0).toBe(scenario.codes.length > 0);
        expect(two).toBe(one);
        expect(three).toBe(one);
      });
    });
  }

  describe('when random bytes of random archive chunks are flipped', () => {
    it('gives the same report with 1, 2 and 3 threads (property)', async () => {
      // Prepare
      const chunks = listObjects(pristine.dir, 'archives/').filter((k) => /\/\d{6}\.(jsonl|idx)$/.test(k));
      const flip = fc.record({
        chunk: fc.integer({ min: 0, max: chunks.length - 1 }),
        at: fc.nat(),
        mask: fc.integer({ min: 1, max: 255 }),
      });

      // Act + Assess
      await fc.assert(
        fc.asyncProperty(fc.array(flip, { minLength: 1, maxLength: 3 }), async (flips) => {
          const dir = copyFolder(pristine.dir, 'jobs-flip');
          folders.push(dir);
          for (const f of flips) {
            const key = chunks[f.chunk]!;
            const size = readObject(dir, key).length;
            if (size > 0) flipByte(dir, key, f.at % size, f.mask);
          }
          const [one, two, three] = await reports(dir, { keys: pristine.keys });
          expect(JSON.parse(one!).valid).toBe(false);
          expect(two).toBe(one);
          expect(three).toBe(one);
        }),
        { numRuns: 12 },
      );
    });
  });

  describe('when a sealer seals event ids again, apart from their first copy', () => {
    it('gives the same EVENT_ID_REUSED report with 1, 2 and 3 threads (each confirmed by a read-back)', async () => {
      // Prepare: r-1 and r-2 sealed again under later signed batches, in later chunks
      const store = await sealSignedGroups(
        [
          ['r-1', 'r-2', 'r-3'],
          ['r-4', 'r-1', 'r-5'],
          ['r-6', 'r-2'],
        ],
        { signer: pristine.signer, chunkLeaves: 2, sealRepeats: true },
      );
      const dir = tempFolder('jobs-reused');
      folders.push(dir);
      for (const [key, bytes] of store.objects) writeObject(dir, key, bytes);

      // Act
      const [one, two, three] = await reports(dir, { keys: pristine.keys });

      // Assess
      const findings = (
        JSON.parse(one!) as { findings: { code: string; eventId?: string; message: string }[] }
      ).findings;
      expect(findings.map((f) => [f.code, f.eventId, f.message])).toEqual([
        ['EVENT_ID_REUSED', 'r-1', 'event id r-1 is sealed more than once in this period'],
        ['EVENT_ID_REUSED', 'r-2', 'event id r-2 is sealed more than once in this period'],
      ]);
      expect(two).toBe(one);
      expect(three).toBe(one);
    });
  });
});

/** Every line of every batch record file of a folder, with the ledger and period it belongs to. */
function batchRecordLines(dir: string): { line: Buffer; ledger: string; startMs: number; seconds: number }[] {
  const out: { line: Buffer; ledger: string; startMs: number; seconds: number }[] = [];
  for (const key of listObjects(dir, 'archives/').filter((k) => /\/batches-\d{6}\.jsonl$/.test(k))) {
    // archives/<ledger>/YYYY/MM/DD/<start>-<seconds>s/batches-NNNNNN.jsonl
    const parts = key.split('/');
    const [start, seconds] = parts[parts.length - 2]!.split('-');
    const iso = `${start!.slice(0, 4)}-${start!.slice(4, 6)}-${start!.slice(6, 8)}T${start!.slice(9, 11)}:${start!.slice(11, 13)}:${start!.slice(13, 15)}Z`;
    const startMs = Date.parse(iso);
    const text = readObject(dir, key);
    for (const line of text
      .toString('utf8')
      .split('\n')
      .filter((l) => l.length > 0)) {
      out.push({
        line: Buffer.from(line, 'utf8'),
        ledger: parts[1]!,
        startMs,
        seconds: Number(seconds!.slice(0, -1)),
      });
    }
  }
  return out;
}

describe('Method: checkRecord', () => {
  it("gives checkBatchRecord's result for every pristine batch record, and for the same records with bytes flipped (property)", async () => {
    // Prepare
    const records = batchRecordLines(pristine.dir);
    expect(records.length).toBeGreaterThan(0);
    const flip = fc.record({
      record: fc.integer({ min: 0, max: records.length - 1 }),
      at: fc.nat(),
      mask: fc.integer({ min: 1, max: 255 }),
    });

    // Act + Assess
    await fc.assert(
      fc.asyncProperty(fc.array(flip, { maxLength: 2 }), async (flips) => {
        const r = records[flips[0]?.record ?? 0]!;
        const line = Buffer.from(r.line);
        for (const f of flips) line[f.at % line.length] = line[f.at % line.length]! ^ f.mask;
        const context = { ledger: r.ledger, period: periodOf(r.startMs, r.seconds) };
        const inThread = checkBatchRecord(line, context);
        expect(await pool2.checkRecord(line, context)).toEqual(inThread);
        expect(await pool3.checkRecord(line, context)).toEqual(inThread);
        if (flips.length === 0) expect(inThread).toMatchObject({ ok: true });
      }),
      { numRuns: 40 },
    );
  });

  it('is what verifyFolder uses for the batch records when the pool checks its chunks', async () => {
    // Prepare
    let records = 0;
    const counting: ChunkChecker = {
      lookahead: pool2.lookahead,
      check: (...args) => pool2.check(...args),
      checkRecord: (line, context) => {
        records++;
        return pool2.checkRecord(line, context);
      },
    };
    const reader = new FolderReader(pristine.dir);

    // Act
    const report = await verifyFolder(reader, { keys: pristine.keys, chunks: counting });

    // Assess
    expect(records).toBe(batchRecordLines(pristine.dir).length);
    expect(JSON.stringify(report)).toBe(JSON.stringify(await verifyFolder(reader, { keys: pristine.keys })));
  });
});

describe('Command: auditseal verify --jobs', () => {
  const cases = [
    'an-event-is-modified',
    'a-new-valid-canonical-event-is-inserted',
    'a-digest-is-modified',
    'a-buggy-sealer-sealed-non-canonical-invalid-and-out-of-period-events-deep',
  ];
  describe('when the pristine vector folder is verified', () => {
    it('prints the same JSON with --jobs 1, --jobs 2 and the default', async () => {
      // Act
      const runs = await Promise.all(
        [['--jobs', '1'], ['--jobs', '2'], []].map((jobs) =>
          verifyCli(PRISTINE_DIR, ['--key', TRUSTED_KEY, '--json', '--deep', ...jobs]),
        ),
      );

      // Assess
      expect(runs.map((r) => r.exit)).toEqual([0, 0, 0]);
      expect(runs[1]!.stdout).toBe(runs[0]!.stdout);
      expect(runs[2]!.stdout).toBe(runs[0]!.stdout);
    });
  });

  for (const name of cases) {
    describe(`when vector case ${name} is verified`, () => {
      it('prints the same JSON and exits 1 with --jobs 1, --jobs 2 and the default', async () => {
        // Prepare
        const caseDir = join(CASES_DIR, name);
        const dir = materialize(caseDir);
        folders.push(dir);
        const args = ['--key', caseKey(caseDir), '--json', ...caseArgs(caseDir)];

        // Act
        const runs = [];
        for (const jobs of [['--jobs', '1'], ['--jobs', '2'], []])
          runs.push(await verifyCli(dir, [...args, ...jobs]));

        // Assess
        expect(runs.map((r) => r.exit)).toEqual([1, 1, 1]);
        expect(runs[1]!.stdout).toBe(runs[0]!.stdout);
        expect(runs[2]!.stdout).toBe(runs[0]!.stdout);
      });
    });
  }

  for (const bad of ['0', '-1', '1.5', 'two', '', '257', '1e3', '99999999999999999999']) {
    describe(`when --jobs is ${JSON.stringify(bad)}`, () => {
      it('exits 2 with a message naming --jobs, and prints no report', async () => {
        // Act
        const result = await verifyCli(PRISTINE_DIR, ['--key', TRUSTED_KEY, '--json', '--jobs', bad]);

        // Assess
        expect(result.exit).toBe(2);
        expect(result.stderr).toMatch(/--jobs must be a whole number from 1 to 256/);
        expect(result.stdout).toBe('');
      });
    });
  }
});

describe('Function: parseJobs', () => {
  describe('when given a whole number from 1 to 256', () => {
    it('returns it (property)', () => {
      fc.assert(fc.property(fc.integer({ min: 1, max: 256 }), (n) => parseJobs(String(n)) === n));
    });
  });

  describe('when given anything else', () => {
    it('throws a usage error (property)', () => {
      const bad = fc.oneof(
        fc.integer({ max: 0 }).map(String),
        fc.integer({ min: 257 }).map(String),
        fc.double({ noInteger: true }).map(String),
        fc.string().filter((s) => !/^\s*[0-9]+\s*$/.test(s)),
      );
      fc.assert(
        fc.property(bad, (text) => {
          expect(() => parseJobs(text)).toThrow(/--jobs must be/);
        }),
      );
    });
  });
});

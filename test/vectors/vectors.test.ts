/**
 * The public test vectors (README.md here): every case is rebuilt from pristine/ and its overlay, and the
 * verifier must exit and report exactly what expected.json says. The cases with a head, a FIFO or their own
 * key, and the pristine folder, run the built command `auditseal verify DIR --key … --json` as a child
 * process; the others run the same command in-process (runVerify, what the command calls), which keeps
 * the file well under a minute on a loaded machine.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { runVerify } from '../../cli/commands/verify.ts';
import { parseInstant } from '../../cli/errors.ts';
import { FINDING_CODES } from '../../shared/verify/findings.ts';
import { removeFolder } from '../support/sealed-folder.ts';
import {
  CASES_DIR,
  caseArgs,
  caseKey,
  caseNames,
  type ExpectedVector,
  materialize,
  PRISTINE_DIR,
  readJson,
  sortFindings,
  TRUSTED_KEY,
  type VectorFinding,
  vectorFinding,
} from './vector-files.ts';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/auditseal.mjs', import.meta.url));
const folders: string[] = [];

afterAll(() => {
  for (const dir of folders) removeFolder(dir);
});

/** Runs the built CLI; returns its exit status and parsed JSON report. */
async function verify(dir: string, key: string, args: string[]) {
  try {
    const { stdout } = await run(process.execPath, [BIN, 'verify', dir, '--key', key, '--json', ...args], {
      maxBuffer: 64 * 1024 * 1024,
    });
    return { exit: 0, report: JSON.parse(stdout) };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number' || e.code === 2) throw new Error(`verify failed: ${e.stderr}`);
    return { exit: e.code, report: JSON.parse(e.stdout ?? '') };
  }
}

/** The same verification as the command, in-process: the options the command builds from its arguments. */
async function verifyInProcess(dir: string, key: string, args: string[]) {
  const value = (flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
  const from = value('--from');
  const to = value('--to');
  const head = value('--head');
  const resource = value('--resource');
  const report = await runVerify({
    dir,
    keys: [key],
    ...(from ? { fromMs: parseInstant(from, '--from') } : {}),
    ...(to ? { toMs: parseInstant(to, '--to') } : {}),
    ...(head ? { head } : {}),
    ...(resource !== undefined ? { resource } : {}),
    deep: args.includes('--deep'),
    json: true,
    // One thread: worker threads give the same report (test/cli/verify-jobs.test.ts) and would only add
    // their start-up to each of these in-process cases.
    jobs: 1,
  });
  return { exit: report.valid ? 0 : 1, report: JSON.parse(JSON.stringify(report)) };
}

/** Cases that run as a child process: a head file, a FIFO, their own key, or one finding of each layer. */
const CHILD = /head|fifo|different-trusted-key|an-event-is-modified$/;

const names = caseNames();

describe('Test vectors: auditseal verify', () => {
  describe('when the pristine folder is verified with keys/trusted.pem', () => {
    it('exits 0 with no finding', async () => {
      // Act
      const { exit, report } = await verify(PRISTINE_DIR, TRUSTED_KEY, ['--deep']);

      // Assess
      expect(exit).toBe(0);
      expect(report.valid).toBe(true);
      expect(report.findings).toEqual([]);
    });
  });

  describe('when the cases are listed', () => {
    it('cover every finding code', () => {
      // Act
      const codes = new Set(
        names.flatMap((n) => readJson<ExpectedVector>(join(CASES_DIR, n, 'expected.json')).codes),
      );

      // Assess
      expect([...codes].sort()).toEqual(Object.keys(FINDING_CODES).sort());
    });
  });

  for (const name of names) {
    describe(`when case ${name} is verified`, () => {
      it.concurrent('exits and reports exactly as expected.json says', async () => {
        // Prepare
        const caseDir = join(CASES_DIR, name);
        const expected = readJson<ExpectedVector>(join(caseDir, 'expected.json'));
        const dir = materialize(caseDir);
        folders.push(dir);

        // Act
        const check = CHILD.test(name) ? verify : verifyInProcess;
        const { exit, report } = await check(dir, caseKey(caseDir), caseArgs(caseDir));

        // Assess
        const findings = report.findings as VectorFinding[];
        expect(exit).toBe(expected.exit);
        expect(report.valid).toBe(expected.valid);
        expect([...new Set(findings.map((f) => f.code))].sort()).toEqual(expected.codes);
        expect(sortFindings(findings.map(vectorFinding))).toEqual(expected.findings);
      });
    });
  }
});

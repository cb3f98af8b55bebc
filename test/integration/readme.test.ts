/**
 * The README runs as written. Every fenced block of README.md is either marked as a script,
 * `<!-- readme-test: NAME -->` on the line before its fence, or listed below with the reason it is not
 * run; a new block that is neither fails this test. The marked blocks run in order, each with
 * `bash -c 'set -euo pipefail; …'`, against `npm start` as a user starts it (the same package.json
 * script, in a folder that holds the repository), on a free port.
 *
 * The one edit made to the README's text: the blocks name the default API origin, http://127.0.0.1:4010,
 * and the stack here runs on a free port (`PORT`), so that origin, and only it, is replaced with the
 * stack's, as a user who set PORT would. The blocks run in a scratch folder whose entries are links to
 * the repository's (its own `.auditseal/` aside), so they neither touch a developer's running stack nor
 * leave `./audit` and friends in the repository.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../local/process-group.ts';
import { LOCAL_GRACE_SECONDS, localSealingDelaySeconds } from '../../local/sealing-schedule.ts';
import { DEFAULT_PERIOD_SECONDS } from '../../local/stack.ts';
import { REPO_ROOT, until } from '../support/dynamodb-local.ts';
import { removeFolder } from '../support/local-stack.ts';

/** The origin the README's commands name: the default `PORT`. */
const README_ORIGIN = 'http://127.0.0.1:4010';

/** One fenced block of the README. */
interface Block {
  readonly language: string;
  readonly text: string;
  /** Its `readme-test` name, when marked. */
  readonly name?: string;
  /** Its first line, which names it in the list of blocks that are not run. */
  readonly firstLine: string;
  readonly line: number;
}

/** Blocks that are not run, by their first line, and why. */
const NOT_RUN: Readonly<Record<string, string>> = {
  'npm start   # installs dependencies if needed, then starts the local stack (no AWS account needed)':
    'the two commands themselves: this test runs `npm start`, and `npm test` is what runs this test',
  "import { AuditsealClient } from 'auditseal/client';":
    'a TypeScript excerpt for a deployed endpoint; the complete example app is run by test/examples/client-app.test.ts',
  '# Keep the newest signed statement, and fetch a range to verify (--wait: until the range is sealed).':
    'a deployed ledger, fixed dates and files of your own (pub.pem, receipt.json); the same commands run in the quick start, and test/cli/auditor-commands.test.ts runs them with these options',
  'npx auditseal ui --write auditseal.html     # write the page; send it to the auditor, or open it from disk':
    'the second command serves until stopped and opens a browser; test/ui/page.test.ts runs `ui --write` and the served page in Chromium',
};

/** What each marked block must print, besides exiting 0. */
const EXPECTED: Readonly<Record<string, readonly (string | RegExp)[]>> = {
  quickstart: [/"receipts":\[\{/, /period \S+ is sealed/, /Saved the head of ledger/, /\nVALID: /],
  'quickstart-read': [
    /try-1/,
    /"events": \[\]/,
    /VERIFIED/,
    /Saved the proof of try-1/,
    /VALID {3}try-1\.proof\.json/,
  ],
  detections: [/alert\(s\)\./, /"alerts": \[/, /\nVALID: /, /archives\/.+\n/],
  profiles: [
    /Recorded version 1 of arn:aws:s3:::acme-audit-logs/,
    /Recorded version 2 of arn:aws:s3:::acme-audit-logs/,
    /Unchanged: version 2/,
    /version 1 \(present\), in force from 2026-11-22T21:00:00\.000Z/,
    /Timeline of arn:aws:s3:::acme-audit-logs/,
    /replace \/configuration\/versioning = "Enabled"/,
  ],
  'profile-sources': [
    /profile versions: 6 from AWS Config and 2 from CloudTrail recorded, 1 already stored/,
    /Timeline of arn:aws:s3:::mborch-test-bucket-config-item/,
    /replace \/supplementaryConfiguration\/BucketPolicy\/policyText/,
    /event +\S*PutBucketPolicy .*ct:7f3c2a9e-5b1d-4c8e-9a2f-000000000001/,
    /profile of arn:aws:s3:::mborch-test-bucket-config-item at the event's time: version 1 \(in force from 2019-02-12T07:29:16\.288Z/,
    /the version it caused: version 2 \(in force from 2019-02-12T08:05:00\.000Z/,
    /arn:aws:s3:::example-bucket version 1 \(present\), in force from 2019-01-01T00:00:00\.000Z/,
    /version {2}2 \(deleted/,
  ],
  apps: [/Posted 2 event/, /VALID {3}app-1: leaf /],
  auditor: [/Sealed 619 events/, /\nVALID: /, /Verified OK/, /SHA2-256\(.+\.digest\.json\)= [0-9a-f]{64}/],
};

/** The README's fenced blocks, with the `readme-test` mark on the line before each fence. */
function readmeBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!fence) continue;
    const end = lines.findIndex((line, j) => j > i && line.startsWith('```'));
    if (end < 0) throw new Error(`README.md:${i + 1}: a fence that is never closed`);
    const body = lines.slice(i + 1, end);
    const mark = /^<!-- readme-test: ([a-z0-9-]+) -->$/.exec(lines[i - 1] ?? '');
    blocks.push({
      language: fence[1] ?? '',
      text: body.join('\n'),
      ...(mark ? { name: mark[1]! } : {}),
      firstLine: body.find((line) => line.trim() !== '') ?? '',
      line: i + 1,
    });
    i = end;
  }
  return blocks;
}

const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
const blocks = readmeBlocks(readme);
const marked = blocks.filter((b) => b.name !== undefined);

describe('README.md', () => {
  describe('Method: its fenced blocks', () => {
    it('are each run by this test or listed with the reason they are not', () => {
      // Act
      const unaccounted = blocks.filter((b) => b.name === undefined && NOT_RUN[b.firstLine] === undefined);
      const stale = Object.keys(NOT_RUN).filter((first) => !blocks.some((b) => b.firstLine === first));

      // Assess
      expect(unaccounted.map((b) => `README.md:${b.line}: ${b.firstLine}`)).toEqual([]);
      expect(stale).toEqual([]);
      expect(marked.map((b) => b.name)).toEqual(Object.keys(EXPECTED));
      for (const block of marked) expect(block.language).toBe('sh');
    });

    it('hold no placeholder a shell would choke on', () => {
      // Assess: `<key id>`, `$WRITER_SECRET` and friends are what made the README fail before.
      for (const block of marked) {
        expect(block.text).not.toMatch(/<[a-z][a-z ]*>|\$[A-Z_]{3,}/);
      }
    });
  });

  describe('Method: the sealing delay it states', () => {
    it('is the one the local stack runs with', () => {
      // Prepare
      const delay = localSealingDelaySeconds(LOCAL_GRACE_SECONDS);

      // Assess
      expect(readme).toContain(`each period is sealed **about ${delay} s after it ends**`);
      expect(readme).toContain(`at most about ${DEFAULT_PERIOD_SECONDS + delay} s after it is posted`);
      expect(readme).toContain(`locally ${DEFAULT_PERIOD_SECONDS} s periods, a ${LOCAL_GRACE_SECONDS} s`);
    });
  });
});

describe('README.md quick start, against npm start', () => {
  let work: string;
  let stack: ChildProcess;
  let endpoint: string;
  let output = '';

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'auditseal-readme-'));
    for (const entry of readdirSync(REPO_ROOT)) {
      if (entry === '.auditseal' || entry === '.git') continue;
      symlinkSync(join(REPO_ROOT, entry), join(work, entry));
    }
    const port = await freePort();
    endpoint = `http://127.0.0.1:${port}`;
    stack = spawn('npm', ['start'], {
      cwd: work,
      detached: true,
      env: {
        ...userEnvironment(),
        PORT: String(port),
        AUDITSEAL_CACHE_DIR: process.env['AUDITSEAL_CACHE_DIR'] ?? join(REPO_ROOT, '.auditseal', 'cache'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const append = (chunk: Buffer) => {
      output += chunk.toString('utf8');
    };
    stack.stdout?.on('data', append);
    stack.stderr?.on('data', append);
    const up = await until(
      () => output.includes('Ctrl-C stops everything') || stack.exitCode !== null,
      150_000,
    );
    if (!up || stack.exitCode !== null) throw new Error(`npm start did not come up:\n${output}`);
  }, 180_000);

  afterAll(async () => {
    const exited = () => stack.exitCode !== null || stack.signalCode !== null;
    try {
      // Ctrl-C in the terminal: SIGINT to the whole foreground group, npm and the stack alike.
      if (stack?.pid !== undefined && !exited()) {
        process.kill(-stack.pid, 'SIGINT');
        if (!(await until(exited, 30_000))) process.kill(-stack.pid, 'SIGKILL');
      }
    } finally {
      if (work) removeFolder(work);
    }
  }, 60_000);

  it('prints the sealing delay the README states, and the endpoint the blocks are pointed at', () => {
    // Assess
    const delay = localSealingDelaySeconds(LOCAL_GRACE_SECONDS);
    expect(output).toContain(`each period about ${delay} s after it ends`);
    expect(output).toContain(`API        ${endpoint}`);
    const local = JSON.parse(readFileSync(join(work, '.auditseal', 'local.json'), 'utf8'));
    for (const role of ['writer', 'reader', 'auditor']) {
      expect(output).not.toContain(local.roles[role].secretAccessKey);
    }
  });

  // Serial, in README order: later blocks use what earlier ones wrote (./audit, try-1).
  for (const block of marked) {
    it(`runs the "${block.name}" block (README.md:${block.line}) as written`, async () => {
      // Prepare: the default origin is the only one a block may name.
      for (const origin of block.text.match(/https?:\/\/[^/\s'"]+/g) ?? [])
        expect(origin).toBe(README_ORIGIN);
      const script = `set -euo pipefail\n${block.text.replaceAll(README_ORIGIN, endpoint)}\n`;

      // Act
      const run = await bash(script, work);

      // Assess
      expect(run.code, `${run.stdout}\n${run.stderr}\n--- npm start:\n${output.slice(-4000)}`).toBe(0);
      for (const expected of EXPECTED[block.name!]!) {
        expect(`${run.stdout}\n${run.stderr}`).toMatch(expected);
      }
    }, 420_000);
  }
});

/** The environment a user's shell has: none of the variables that would point the CLI elsewhere. */
function userEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(AUDITSEAL_|AWS_|PORT$|npm_|VITEST|NODE_ENV$)/.test(name)) delete env[name];
  }
  return env;
}

/** Runs a script with bash in `cwd`; resolves with its exit code and output. */
function bash(script: string, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], {
      cwd,
      env: userEnvironment(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * The example app (examples/client-app/bastion-audit.ts) run as an app runs it: a separate process that
 * imports `auditseal/client` by its package name (resolved through package.json `exports` to the built
 * dist/client/index.mjs), against the real local stack. Its kept receipts must verify with the CLI too.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLocalFunctions } from '../../local/routes.ts';
import { generateKeyPairPem } from '../../shared/crypto/keys.ts';
import { REPO_ROOT } from '../support/dynamodb-local.ts';
import { removeFolder, startTestLocalStack, type TestLocalStack } from '../support/local-stack.ts';

const APP = join(REPO_ROOT, 'examples', 'client-app', 'bastion-audit.ts');
const work = mkdtempSync(join(tmpdir(), 'auditseal-example-'));
let stack: TestLocalStack;
let trustedKey: string;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function exec(args: string[], env: Record<string, string> = {}): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, args, {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw error;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

function runApp(env: Record<string, string>): Promise<Run> {
  return exec(['--import', 'tsx', APP], {
    AUDITSEAL_LOCAL_FILE: join(stack.dataDir, 'local.json'),
    AUDITSEAL_TRUSTED_KEY: trustedKey,
    ...env,
  });
}

beforeAll(async () => {
  process.env['POWERTOOLS_LOG_LEVEL'] ??= 'WARN';
  stack = await startTestLocalStack({ functions: loadLocalFunctions });
  // The key the stack saved beside local.json: what a local user pins.
  trustedKey = join(stack.dataDir, 'keys', `${stack.info.signingKeyId}.pem`);
});

afterAll(async () => {
  await stack?.cleanup();
  removeFolder(work);
});

describe('Example: examples/client-app/bastion-audit.ts', () => {
  it('posts a session’s events through the client, keeps the receipts and verifies them', async () => {
    // Prepare
    const receipts = join(work, 'receipts');

    // Act
    const first = await runApp({ RECEIPTS_DIR: receipts, SESSION_ID: 's-1' });

    // Assess
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('stored 3, already stored 0');
    expect(first.stdout).toContain('kept receipts: 3 valid, 0 invalid');
    const kept = readdirSync(receipts);
    expect(kept).toEqual(['session-s-1.json']);
    const cli = await exec([
      'bin/auditseal.mjs',
      'verify-receipt',
      join(receipts, kept[0]!),
      '--key',
      trustedKey,
    ]);
    expect(cli.code, cli.stdout + cli.stderr).toBe(0);
    expect(cli.stdout.split('\n').filter((l) => l.startsWith('VALID'))).toHaveLength(3);
  });

  it('also checks the single-receipt files that `auditseal post --out` keeps in the same folder', async () => {
    // Prepare: the README's `post … --out receipts` and this app share the default folder
    const first = await runApp({ RECEIPTS_DIR: join(work, 'single-src'), SESSION_ID: 's-3' });
    expect(first.code, first.stderr).toBe(0);
    const [one] = JSON.parse(readFileSync(join(work, 'single-src', 'session-s-3.json'), 'utf8')) as unknown[];
    const receipts = join(work, 'shared');
    mkdirSync(receipts, { recursive: true });
    writeFileSync(join(receipts, 'app-1.receipt.json'), `${JSON.stringify(one, null, 2)}\n`);

    // Act
    const result = await runApp({ RECEIPTS_DIR: receipts, SESSION_ID: 's-4' });

    // Assess
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('kept receipts: 4 valid, 0 invalid');
  });

  it('is idempotent: the same session again stores nothing and gets the same receipts', async () => {
    // Prepare
    const receipts = join(work, 'again');
    const session = { RECEIPTS_DIR: receipts, SESSION_ID: 's-2', SESSION_TIME: '2026-11-22T21:00:00Z' };
    await runApp(session);
    const before = readFileSync(join(receipts, 'session-s-2.json'), 'utf8');

    // Act
    const again = await runApp(session);

    // Assess
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('stored 0, already stored 3');
    expect(readFileSync(join(receipts, 'session-s-2.json'), 'utf8')).toBe(before);
  });

  describe('when the pinned key is not the service’s', () => {
    it('refuses the receipts (exit 1)', async () => {
      // Prepare
      const otherKey = join(work, 'other.pem');
      writeFileSync(otherKey, generateKeyPairPem().publicKeyPem);

      // Act
      const result = await runApp({ RECEIPTS_DIR: join(work, 'other'), AUDITSEAL_TRUSTED_KEY: otherKey });

      // Assess
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('RECEIPT_KEY_UNKNOWN');
    });
  });

  describe('when the stack is not running', () => {
    it('names the endpoint and suggests npm start (exit 2)', async () => {
      // Prepare
      const info = JSON.parse(readFileSync(join(stack.dataDir, 'local.json'), 'utf8')) as object;
      const deadFile = join(work, 'dead.json');
      writeFileSync(deadFile, JSON.stringify({ ...info, endpoint: 'http://127.0.0.1:9' }));

      // Act
      const result = await runApp({ RECEIPTS_DIR: join(work, 'dead'), AUDITSEAL_LOCAL_FILE: deadFile });

      // Assess
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('cannot reach the auditseal API at http://127.0.0.1:9');
      expect(result.stderr).toContain('npm start');
    });
  });
});

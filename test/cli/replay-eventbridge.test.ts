/**
 * `auditseal local replay-eventbridge` without a stack: its help, and every bad input exits 2 with a clear
 * message before anything is delivered. The command against a running stack is tested in
 * test/integration/profile-sources-local-stack.test.ts and by the README test.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/main.ts';
import { REPO_ROOT } from '../support/dynamodb-local.ts';

const work = mkdtempSync(join(tmpdir(), 'auditseal-replay-eventbridge-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const NO_STACK = join(work, 'no-such-local.json');
const SAMPLE = join(REPO_ROOT, 'examples', 'profiles', 'eventbridge-sample.jsonl');

async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    return { code: await main(['node', 'auditseal', ...args]), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

function file(name: string, text: string): string {
  const path = join(work, name);
  writeFileSync(path, text);
  return path;
}

describe('Command: auditseal local replay-eventbridge', () => {
  it('explains itself with --help', async () => {
    // Act
    const result = await run('local', 'replay-eventbridge', '--help');

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Config Configuration Item Change');
    expect(result.stdout).toContain('Exit status: 0 all delivered');
  });

  describe.each([
    ['the file does not exist', () => join(work, 'missing.jsonl'), /cannot read .*missing\.jsonl/],
    [
      'a line is not JSON',
      () => file('not-json.jsonl', `${'{"detail-type":"x","detail":{}}'}\n{oops\n`),
      /not-json\.jsonl:2: not JSON/,
    ],
    [
      'a line is not an EventBridge event',
      () => file('not-event.jsonl', '{"eventName":"PutBucketPolicy"}\n'),
      /not-event\.jsonl:1: not an EventBridge event/,
    ],
    ['a line is an array', () => file('array.jsonl', '[1,2]\n'), /array\.jsonl:1: not an EventBridge event/],
  ])('when %s', (_name, path, message) => {
    it('exits 2 with a message naming the line, and delivers nothing', async () => {
      // Act
      const result = await run('local', 'replay-eventbridge', path(), '--local-file', NO_STACK);

      // Assess: the file is judged before the stack is looked for.
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toContain('no running local stack');
    });
  });

  describe('when the local stack is not running', () => {
    it('exits 2 and says so', async () => {
      // Act
      const result = await run('local', 'replay-eventbridge', SAMPLE, '--local-file', NO_STACK);

      // Assess
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('no running local stack');
    });
  });
});

/**
 * `.gitignore` covers what the local stack, the tests, CI and the benchmarks write inside the repository,
 * so that `git status` stays clean after `npm start`, `npm test` or the README's commands; and it does not
 * hide the sources that must be committed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const insideGit = spawnSync('git', ['rev-parse', '--is-inside-work-tree'], { cwd: ROOT }).status === 0;

/** The paths among `paths` that git ignores (`git check-ignore --no-index`: tracked or not). */
function ignored(paths: readonly string[]): string[] {
  const result = spawnSync('git', ['check-ignore', '--no-index', '--stdin'], {
    cwd: ROOT,
    input: paths.join('\n'),
    encoding: 'utf8',
  });
  return result.stdout.split('\n').filter((line) => line !== '');
}

describe('File: .gitignore', () => {
  describe.skipIf(!insideGit)('when the stack, the tests and the benchmarks have run', () => {
    it.each([
      ['the data folder and its secrets', '.auditseal/local.json'],
      ['the ledger of DynamoDB Local', '.auditseal/dynamodb/shared-local-instance.db'],
      ['the signing keys', '.auditseal/keys/0123.pem'],
      ['the stack lock', '.auditseal/stack.lock'],
      [
        'the DynamoDB Local jar cache and its loopback launcher',
        '.auditseal/cache/dynamodb-local/loopback-0123/DynamoDbLocalLoopback.class',
      ],
      ['the demo folder', '.auditseal/demo/digests/x.json'],
      ["CI's test results", '.auditseal/test-results.json'],
      ['the moto virtualenv', '.venv/bin/moto_server'],
      ['cdk synth', 'cdk.out/AuditsealStack.template.json'],
      ["the try-it's download folder", 'audit/digests/local-1/x.digest.json'],
      ["the README's seal example", 'sealed/digests/x.json'],
      ['npm pack', 'auditseal-0.1.0.tgz'],
      ['a CPU profile of a benchmark', 'CPU.20260101.000000.1.0.001.cpuprofile'],
      ['a heap profile', 'Heap.20260101.heapprofile'],
      ['a log', 'npm-debug.log'],
    ])('ignores %s (%s)', (_name, path) => {
      // Act & Assess
      expect(ignored([path])).toEqual([path]);
    });

    it('keeps every tracked file visible', () => {
      // Prepare
      const tracked = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' })
        .split('\n')
        .filter((line) => line !== '');

      // Act & Assess
      expect(tracked.length).toBeGreaterThan(100);
      expect(ignored(tracked)).toEqual([]);
    });

    it('keeps the sources of the local stack visible, the Java launcher included', () => {
      // Act & Assess
      expect(
        ignored(['local/dynamodb-local-loopback.java', 'test/fixtures/keys/x.pem', 'examples/x.jsonl']),
      ).toEqual([]);
    });
  });
});

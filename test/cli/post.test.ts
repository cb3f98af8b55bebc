/**
 * `auditseal post FILE|- --out DIR`: the real command (bin/auditseal.mjs, the bundle) against the real
 * local stack (`local/routes.ts`, the handlers `npm start` serves), with the writer keys of its
 * local.json. Receipt files must be accepted as they are by `auditseal verify-receipt`.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventIdOfReceiptFile, parseEventsInput, receiptFileName } from '../../cli/commands/post.ts';
import { loadLocalFunctions } from '../../local/routes.ts';
import { generateKeyPairPem } from '../../shared/crypto/keys.ts';
import { EVENT_ID_PATTERN } from '../../shared/events/audit-event.ts';
import { REPO_ROOT } from '../support/dynamodb-local.ts';
import { removeFolder, startTestLocalStack, type TestLocalStack } from '../support/local-stack.ts';

const BIN = join(REPO_ROOT, 'bin', 'auditseal.mjs');
const work = mkdtempSync(join(tmpdir(), 'auditseal-post-'));
let stack: TestLocalStack;
let localFile: string;
let publicKey: string;
/** A run-unique prefix, so ids never collide with another run's ledger. */
const run = `r${Date.now().toString(36)}`;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function auditseal(args: string[], stdin?: string): Promise<Run> {
  if (stdin !== undefined) {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], { cwd: work });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      child.stdin.end(stdin);
    });
  }
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], {
      cwd: work,
      encoding: 'utf8',
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw error;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

function event(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: `${run}:bastion-7/ssh/login=${n}`,
    eventTime: '2026-11-22T21:00:00Z',
    actor: { id: 'alice@example.com', type: 'user' },
    action: 'ssh.login',
    resource: { id: `arn:aws:ec2:us-east-1:123456789012:instance/i-0abc${n}`, type: 'AWS::EC2::Instance' },
    outcome: { result: 'success' },
    ...extra,
  };
}

const jsonLines = (events: readonly unknown[]) => `${events.map((e) => JSON.stringify(e)).join('\n')}\n`;

beforeAll(async () => {
  process.env['POWERTOOLS_LOG_LEVEL'] ??= 'WARN';
  stack = await startTestLocalStack({ functions: loadLocalFunctions });
  localFile = join(stack.dataDir, 'local.json');
  publicKey = join(work, 'stack-public.pem');
  writeFileSync(publicKey, stack.info.publicKeyPem);
  writeFileSync(join(work, 'other-public.pem'), generateKeyPairPem().publicKeyPem);
});

afterAll(async () => {
  await stack?.cleanup();
  removeFolder(work);
});

describe('Command: auditseal post', () => {
  describe('when given JSON lines', () => {
    it('stores every event and writes one receipt file per event that verify-receipt accepts as is', async () => {
      // Prepare
      const events = [event(1), event(2), event(3)];
      writeFileSync(join(work, 'events.jsonl'), jsonLines(events));

      // Act
      const posted = await auditseal([
        'post',
        'events.jsonl',
        '--out',
        'receipts',
        '--local-file',
        localFile,
        '--json',
      ]);

      // Assess
      expect(posted.code, posted.stderr).toBe(0);
      expect(JSON.parse(posted.stdout)).toMatchObject({
        endpoint: stack.info.endpoint,
        events: 3,
        requests: 1,
        stored: 3,
        duplicates: 0,
        written: 3,
        unchanged: 0,
      });
      const files = readdirSync(join(work, 'receipts')).sort();
      expect(files).toEqual(events.map((e) => receiptFileName(String(e['id']))).sort());
      expect(files[0]).toBe(`${run}%3Abastion-7%2Fssh%2Flogin=1.receipt.json`);
      for (const file of files) {
        const check = await auditseal(['verify-receipt', join('receipts', file), '--key', publicKey]);
        expect(check.code, check.stdout + check.stderr).toBe(0);
        expect(check.stdout).toMatch(/^VALID {3}/);
        expect(check.stdout).toContain(eventIdOfReceiptFile(file));
      }
    });

    it('is safe to run again: the same receipts, every event a duplicate, no file changed', async () => {
      // Prepare
      const events = [event(11), event(12)];
      writeFileSync(join(work, 'again.jsonl'), jsonLines(events));
      const args = ['post', 'again.jsonl', '--out', 'again', '--local-file', localFile, '--json'];
      expect((await auditseal(args)).code).toBe(0);
      const before = readdirSync(join(work, 'again')).map((f) =>
        readFileSync(join(work, 'again', f), 'utf8'),
      );

      // Act
      const second = await auditseal(args);

      // Assess
      expect(second.code, second.stderr).toBe(0);
      expect(JSON.parse(second.stdout)).toMatchObject({ stored: 0, duplicates: 2, written: 0, unchanged: 2 });
      const after = readdirSync(join(work, 'again')).map((f) => readFileSync(join(work, 'again', f), 'utf8'));
      expect(after).toEqual(before);
    });
  });

  describe('when given a JSON array on standard input, or {"events": [...]}', () => {
    it('accepts both forms', async () => {
      // Prepare
      writeFileSync(join(work, 'wrapped.json'), JSON.stringify({ events: [event(21)] }, null, 2));

      // Act
      const fromStdin = await auditseal(
        ['post', '-', '--out', 'stdin', '--local-file', localFile],
        JSON.stringify([event(22), event(23)], null, 2),
      );
      const wrapped = await auditseal([
        'post',
        'wrapped.json',
        '--out',
        'wrapped',
        '--local-file',
        localFile,
      ]);

      // Assess
      expect(fromStdin.code, fromStdin.stderr).toBe(0);
      expect(fromStdin.stdout).toContain('Posted 2 event(s)');
      expect(readdirSync(join(work, 'stdin'))).toHaveLength(2);
      expect(wrapped.code, wrapped.stderr).toBe(0);
      expect(readdirSync(join(work, 'wrapped'))).toEqual([receiptFileName(String(event(21)['id']))]);
    });
  });

  describe('when --key is given', () => {
    it('verifies every receipt: exit 0 with the stack key, exit 1 with another key', async () => {
      // Prepare
      writeFileSync(join(work, 'keyed.jsonl'), jsonLines([event(31), event(32)]));
      const args = ['post', 'keyed.jsonl', '--out', 'keyed', '--local-file', localFile];

      // Act
      const trusted = await auditseal([...args, '--key', publicKey]);
      const other = await auditseal([...args, '--key', join(work, 'other-public.pem')]);

      // Assess
      expect(trusted.code, trusted.stderr).toBe(0);
      expect(trusted.stdout).toContain('All 2 receipt(s) verify against the pinned key(s).');
      expect(other.code).toBe(1);
      expect(other.stdout).toContain('RECEIPT_KEY_UNKNOWN');
    });
  });

  describe('when one event of the input is invalid', () => {
    it('exits 2 naming its line, and sends nothing', async () => {
      // Prepare
      const good = [event(41), event(42)];
      const bad = event(43, { outcome: { result: 'maybe' } });
      writeFileSync(join(work, 'bad.jsonl'), jsonLines([good[0], bad, good[1]]));

      // Act
      const refused = await auditseal(['post', 'bad.jsonl', '--out', 'bad', '--local-file', localFile]);
      writeFileSync(join(work, 'good.jsonl'), jsonLines(good));
      const later = await auditseal([
        'post',
        'good.jsonl',
        '--out',
        'good',
        '--local-file',
        localFile,
        '--json',
      ]);

      // Assess
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('line 2 ($.outcome.result): SCHEMA_VIOLATION');
      expect(refused.stderr).toContain('nothing was sent');
      expect(existsSync(join(work, 'bad'))).toBe(false);
      expect(JSON.parse(later.stdout)).toMatchObject({ stored: 2, duplicates: 0 });
    });
  });

  describe('when an id is reused with different content', () => {
    it('exits 2 with the API’s ID_CONFLICT', async () => {
      // Prepare
      writeFileSync(join(work, 'first.jsonl'), jsonLines([event(51)]));
      writeFileSync(join(work, 'changed.jsonl'), jsonLines([event(51, { action: 'ssh.logout' })]));
      expect((await auditseal(['post', 'first.jsonl', '--out', 'c1', '--local-file', localFile])).code).toBe(
        0,
      );

      // Act
      const conflict = await auditseal(['post', 'changed.jsonl', '--out', 'c2', '--local-file', localFile]);

      // Assess
      expect(conflict.code).toBe(2);
      expect(conflict.stderr).toContain('409 ID_CONFLICT');
      expect(readdirSync(join(work, 'c2'))).toEqual([]);
    });
  });

  describe('when the stack is not running', () => {
    it('exits 2 naming the endpoint and suggesting npm start', async () => {
      // Prepare: the stack's file with a port nothing listens on
      const info = JSON.parse(readFileSync(localFile, 'utf8')) as { endpoint: string };
      const dead = { ...info, endpoint: 'http://127.0.0.1:9' };
      writeFileSync(join(work, 'dead.json'), JSON.stringify(dead));
      writeFileSync(join(work, 'one.jsonl'), jsonLines([event(61)]));

      // Act
      const result = await auditseal(['post', 'one.jsonl', '--out', 'dead', '--local-file', 'dead.json']);

      // Assess
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('cannot reach the auditseal API at http://127.0.0.1:9');
      expect(result.stderr).toContain('npm start');
    });
  });

  describe('when no stack was started and no endpoint is given', () => {
    it('exits 2 saying how to get one', async () => {
      // Act
      const result = await auditseal(['post', 'one.jsonl', '--out', 'none', '--local-file', 'missing.json']);

      // Assess
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('no API endpoint: start the local stack (npm start');
    });
  });
});

describe('Command: auditseal local replay-cloudtrail (from the bundle)', () => {
  it('feeds records through the bundled forwarder code into the stack', async () => {
    // Prepare: five records of the shipped sample
    const sample = readFileSync(join(REPO_ROOT, 'examples', 'cloudtrail-sample.jsonl'), 'utf8');
    writeFileSync(join(work, 'trail.jsonl'), `${sample.split('\n').slice(0, 5).join('\n')}\n`);

    // Act
    const replay = await auditseal([
      'local',
      'replay-cloudtrail',
      'trail.jsonl',
      '--local-file',
      localFile,
      '--json',
    ]);

    // Assess
    expect(replay.code, replay.stderr).toBe(0);
    const summary = JSON.parse(replay.stdout) as { records: number; stored: number; failed: number };
    expect(summary).toMatchObject({ records: 5, failed: 0 });
    expect(summary.stored).toBeGreaterThan(0);
  });
});

describe('Function: receiptFileName', () => {
  it('is a single safe file name that gives the id back, for every valid id', () => {
    const idChars = fc.constantFrom(...'ABCXYZabcxyz0189._:@/+=-'.split(''));
    const id = fc
      .tuple(fc.constantFrom('a', 'Z', '7'), fc.array(idChars, { maxLength: 127 }))
      .map(([first, rest]) => `${first}${rest.join('')}`);
    fc.assert(
      fc.property(id, id, (a, b) => {
        // Prepare
        expect(EVENT_ID_PATTERN.test(a)).toBe(true);

        // Act
        const name = receiptFileName(a);

        // Assess
        expect(name).not.toMatch(/[/:\\]/);
        expect(name.startsWith('.')).toBe(false);
        expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255);
        expect(name.endsWith('.receipt.json')).toBe(true);
        if (name.includes('~')) expect(eventIdOfReceiptFile(name)).toBeUndefined();
        else expect(eventIdOfReceiptFile(name)).toBe(a);
        if (a !== b) expect(receiptFileName(b)).not.toBe(name);
      }),
    );
  });

  it('shortens the name of a long id made mostly of / and :', () => {
    // Prepare
    const id = `a${'/:'.repeat(63)}b`;

    // Act
    const name = receiptFileName(id);

    // Assess
    expect(name).toMatch(/^a(%2F%3A){33}~[0-9a-f]{32}\.receipt\.json$/);
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255);
  });

  describe('when a name was not made by receiptFileName', () => {
    it.each(['x.json', 'a%2f.receipt.json', 'a%zz.receipt.json', 'a:b.receipt.json'])(
      'gives no id for %s',
      (name) => {
        // Assess
        expect(eventIdOfReceiptFile(name)).toBeUndefined();
      },
    );
  });
});

describe('Function: parseEventsInput', () => {
  it.each([
    ['JSON lines, CRLF and blank lines', '{"id":"a"}\r\n\r\n{"id":"b"}\r\n', ['a', 'b'], 'line 3'],
    ['a JSON array', '[{"id":"a"},\n {"id":"b"}]', ['a', 'b'], 'item 1'],
    ['{"events": [...]}', '{\n "events": [{"id":"a"}, {"id":"b"}]\n}', ['a', 'b'], 'item 1'],
    ['one event', '\uFEFF{"id":"a"}', ['a'], 'line 1'],
  ])('reads %s', (_name, text, ids, second) => {
    // Act
    const input = parseEventsInput(text, 'input');

    // Assess
    expect(input.events.map((e) => (e as { id: string }).id)).toEqual(ids);
    expect(input.where(ids.length - 1)).toBe(second);
  });

  describe('when the input is not events', () => {
    it.each([
      ['', 'holds no events'],
      ['{"id":"a"}\n{"id":', 'line 2 is not JSON'],
      ['[{"id":"a"}', 'not a valid JSON array'],
      ['{"events": [], "more": 1}', 'exactly {"events"'],
      ['{"events": {}}', 'exactly {"events"'],
    ])('refuses %j', (text, message) => {
      // Assess
      expect(() => parseEventsInput(text, 'input')).toThrow(message);
    });
  });
});

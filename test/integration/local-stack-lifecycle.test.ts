/**
 * The local stack across restarts and signals: a restart resumes the ledger only when its KMS key and bucket
 * survived (an external moto), and otherwise starts a clearly new one; Ctrl-C stops every process started,
 * and so do SIGINT and SIGTERM sent to the npm process alone; a stack that died without cleanup is taken
 * over.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MotoServer } from '../../local/moto.ts';
import { startMoto } from '../../local/moto.ts';
import { until } from '../support/dynamodb-local.ts';
import type { NpmStartProcess } from '../support/local-stack.ts';
import { isAlive, removeFolder, spawnNpmStart, startTestLocalStack } from '../support/local-stack.ts';
import { groupMembers, processTree, stillRunning } from '../support/processes.ts';

const folders: string[] = [];

function dataFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), 'auditseal-lifecycle-'));
  folders.push(folder);
  return folder;
}

afterAll(() => {
  for (const folder of folders) removeFolder(folder);
});

async function putMarker(endpoint: string, tableName: string, sk: string): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
  });
  await client.send(
    new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'TEST#restart' }, sk: { S: sk } } }),
  );
  client.destroy();
}

/** How long a stop may take: the servers get SIGTERM, then SIGKILL after 5 s; the rest is a busy machine. */
const STOP_BOUND_MS = 15_000;

// Each test starts (and restarts) whole stacks: DynamoDB Local's JVM and moto take a while on a busy machine.
vi.setConfig({ testTimeout: 120_000 });

describe('Function: startLocalStack, across restarts', () => {
  describe('when moto restarts with the stack (its keys and objects are gone)', () => {
    it('starts a clearly new ledger, keeps the credentials and archives the old ledger', async () => {
      // Prepare
      const dataDir = dataFolder();
      const first = await startTestLocalStack({ dataDir });
      await first.cleanup({ keepDataDir: true });

      // Act
      const second = await startTestLocalStack({ dataDir });
      await second.cleanup({ keepDataDir: true });

      // Assess
      expect(second.ledgerStart).toEqual({
        kind: 'new',
        previousLedger: first.info.ledger,
        reason: expect.stringContaining('moto keeps KMS keys and S3 objects in memory only'),
      });
      expect(second.output.join('\n')).toContain(
        `!! NEW LEDGER ${second.info.ledger}: the previous ledger ${first.info.ledger} cannot be resumed`,
      );
      expect(second.info.ledger).not.toBe(first.info.ledger);
      expect(second.info.kmsKeyId).not.toBe(first.info.kmsKeyId);
      expect(second.info.roles).toEqual(first.info.roles);
      const archived = JSON.parse(
        readFileSync(join(dataDir, 'ledgers', `${first.info.ledger}.json`), 'utf8'),
      );
      expect(archived).toMatchObject({ ledger: first.info.ledger, publicKeyPem: first.info.publicKeyPem });
      expect(existsSync(join(dataDir, 'keys', `${first.info.signingKeyId}.pem`))).toBe(true);
    });
  });

  describe('when moto runs outside the stack (AUDITSEAL_MOTO_ENDPOINT)', () => {
    let moto: MotoServer;

    beforeAll(async () => {
      moto = await startMoto();
    });

    afterAll(async () => {
      await moto?.stop();
    });

    it('resumes the same ledger, key and credentials, and the stream after its checkpoint; a new period is a new ledger', async () => {
      // Prepare
      const dataDir = dataFolder();
      const firstRun: string[] = [];
      const secondRun: string[] = [];
      const collect =
        (into: string[]) =>
        async (event: { Records: { dynamodb?: { Keys?: Record<string, { S?: string }> } }[] }) => {
          for (const record of event.Records) {
            if (record.dynamodb?.Keys?.['pk']?.S === 'TEST#restart')
              into.push(record.dynamodb.Keys['sk']!.S!);
          }
        };
      const first = await startTestLocalStack({
        dataDir,
        motoEndpoint: moto.endpoint,
        functions: { streamHandler: collect(firstRun) },
      });
      await putMarker(first.info.dynamodbEndpoint, first.info.tableName, 'a');
      await until(() => firstRun.length === 1, 15_000);
      await first.cleanup({ keepDataDir: true });

      // Act
      const second = await startTestLocalStack({
        dataDir,
        motoEndpoint: moto.endpoint,
        functions: { streamHandler: collect(secondRun) },
      });
      await putMarker(second.info.dynamodbEndpoint, second.info.tableName, 'b');
      await until(() => secondRun.length >= 1, 15_000);
      await second.cleanup({ keepDataDir: true });

      // Assess
      expect(second.ledgerStart).toEqual({ kind: 'resumed' });
      expect(second.info).toMatchObject({
        ledger: first.info.ledger,
        ledgerCreatedAt: first.info.ledgerCreatedAt,
        kmsKeyId: first.info.kmsKeyId,
        signingKeyId: first.info.signingKeyId,
        roles: first.info.roles,
      });
      expect(second.output.join('\n')).toContain(`ledger     ${first.info.ledger}  resumed`);
      expect(firstRun).toEqual(['a']);
      expect(secondRun).toEqual(['b']);

      // Act: a third start with another period
      const third = await startTestLocalStack({ dataDir, motoEndpoint: moto.endpoint, periodSeconds: 120 });
      await third.cleanup({ keepDataDir: true });

      // Assess: the chain of a period cannot change its period, so the ledger is new (with a new key)
      expect(third.ledgerStart).toMatchObject({
        kind: 'new',
        reason: 'the period changed from 60 s to 120 s',
      });
      expect(third.info.ledger).not.toBe(first.info.ledger);
      expect(third.info.kmsKeyId).not.toBe(first.info.kmsKeyId);
    });
  });

  describe('when a stack already runs on the data folder', () => {
    it('refuses to start a second one', async () => {
      // Prepare
      const dataDir = dataFolder();
      const running = await startTestLocalStack({ dataDir });

      // Act
      const second = startTestLocalStack({ dataDir });

      // Assess
      await expect(second).rejects.toThrow(
        /another local stack \(pid \d+\) is running with this data folder/,
      );
      await running.cleanup({ keepDataDir: true });
    });
  });
});

describe('npm start (local/main.ts)', () => {
  it('stops DynamoDB Local and moto on Ctrl-C (SIGINT) and exits 0', async () => {
    // Prepare
    const dataDir = dataFolder();
    const started = await spawnNpmStart(dataDir);
    expect(started.serverPids).toHaveLength(2);
    expect(started.serverPids.every(isAlive)).toBe(true);

    // Act
    started.child.kill('SIGINT');
    const code = await started.exited;

    // Assess
    expect(code).toBe(0);
    expect(started.output()).toContain('SIGINT: stopping the local stack');
    expect(await until(() => started.serverPids.every((pid) => !isAlive(pid)), 10_000)).toBe(true);
    expect(existsSync(join(dataDir, 'stack.lock'))).toBe(false);
  });

  it('takes over from a stack that died without cleanup, stopping the servers its lock names', async () => {
    // Prepare: a lock left by a dead stack, naming a moto server that still runs. (A stack killed with
    // SIGKILL no longer leaves its servers running: they stop by themselves, see
    // local-stack-operations.test.ts. A lock like this one is what a power loss or a crash of the
    // watchdog itself would leave.)
    const dataDir = dataFolder();
    const leftover = await startMoto();
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    writeFileSync(join(dataDir, 'stack.lock'), JSON.stringify({ pid: dead, children: [leftover.pid] }));
    expect(isAlive(leftover.pid)).toBe(true);

    // Act
    const next = await spawnNpmStart(dataDir);

    // Assess
    expect(next.output()).toContain('stopping a server left running by a previous stack');
    expect(await until(() => !isAlive(leftover.pid), 10_000)).toBe(true);
    next.child.kill('SIGTERM');
    expect(await next.exited).toBe(0);
    expect(await until(() => next.serverPids.every((pid) => !isAlive(pid)), 10_000)).toBe(true);
    await leftover.stop();
  });

  it('rejects a period that does not divide a day, with exit code 2', async () => {
    // Act
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'local/main.ts'], {
      cwd: join(import.meta.dirname, '../..'),
      env: { ...process.env, AUDITSEAL_PERIOD_SECONDS: '61', AUDITSEAL_DATA_DIR: dataFolder() },
      encoding: 'utf8',
    });

    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('AUDITSEAL_PERIOD_SECONDS: must divide a day (86400)');
  });
});

describe('npm start, run by npm in a process group of its own (as a terminal runs it)', () => {
  let started: NpmStartProcess | undefined;

  afterEach(() => {
    // A failed test must not leave a stack running: SIGKILL the group (the servers then stop by themselves).
    if (started !== undefined && started.child.exitCode === null) {
      try {
        process.kill(-started.child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    started = undefined;
  });

  /** Sends `signal` to `target` and returns what of the stack still runs after at most STOP_BOUND_MS. */
  async function signalAndFindOrphans(stack: NpmStartProcess, signal: NodeJS.Signals, target: number) {
    const tree = processTree(stack.child.pid!, stack.serverPids);
    process.kill(target, signal);
    const orphans = () => [...stillRunning(tree), ...groupMembers(stack.serverPids)];
    await until(() => orphans().length === 0, STOP_BOUND_MS);
    return { tree, orphans: orphans() };
  }

  describe.each(['SIGINT', 'SIGTERM'] as const)('when %s goes to the npm process alone', (signal) => {
    it('stops DynamoDB Local, moto and every node process, says so, and npm exits 0', async () => {
      // Prepare
      started = await spawnNpmStart(dataFolder(), {}, { viaNpm: true, detached: true });
      const npmPid = started.child.pid!;
      const commands = processTree(npmPid, started.serverPids).map((p) => p.command);
      expect(commands.some((c) => /DynamoDbLocalLoopback|DynamoDBLocal\.jar/.test(c))).toBe(true);
      expect(commands.some((c) => /moto_server/.test(c))).toBe(true);
      expect(commands.some((c) => /local\/main\.ts/.test(c))).toBe(true);

      // Act
      const { tree, orphans } = await signalAndFindOrphans(started, signal, npmPid);

      // Assess
      expect(tree.map((p) => p.pid)).toContain(started.stackPid);
      expect(orphans).toEqual([]);
      expect(await started.exited).toBe(0);
      expect(started.output()).toContain(`${signal}: stopping the local stack`);
      expect(started.output()).toContain('stopped.');
    });
  });

  // Ctrl-C: npm passes SIGINT on, so the stack gets it twice. A closed terminal: npm dies of SIGHUP, so the
  // stack gets SIGHUP and then sees its parent go.
  describe.each([
    { signal: 'SIGINT', how: 'Ctrl-C' },
    { signal: 'SIGHUP', how: 'a closed terminal' },
  ] as const)('when $signal goes to the whole group ($how): npm and the stack both get it', ({ signal }) => {
    it('stops once, without the second-signal exit, and leaves nothing running', async () => {
      // Prepare
      started = await spawnNpmStart(dataFolder(), {}, { viaNpm: true, detached: true });

      // Act
      const { orphans } = await signalAndFindOrphans(started, signal, -started.child.pid!);

      // Assess
      expect(orphans).toEqual([]);
      const output = started.output();
      expect(output.split('stopping the local stack').length - 1).toBe(1);
      expect(output).toContain(`${signal}: stopping the local stack`);
      expect(output).not.toContain('again: exiting without waiting');
      expect(output).toContain('stopped.');
    });
  });
});

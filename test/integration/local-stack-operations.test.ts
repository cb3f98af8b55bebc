/**
 * `npm start` as an operator meets it: what it listens on, what it prints and writes, how a retry with a
 * rewritten timestamp is answered, and that every way of stopping it (SIGINT, SIGTERM, SIGHUP, SIGKILL,
 * the npm process going away) leaves no process behind.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, until } from '../support/dynamodb-local.ts';
import type { NpmStartProcess } from '../support/local-stack.ts';
import { removeFolder, spawnNpmStart } from '../support/local-stack.ts';
import type { ProcessInfo } from '../support/processes.ts';
import { groupMembers, isLoopback, listeners, processTree, stillRunning } from '../support/processes.ts';
import { signedFetch } from '../support/signed-fetch.ts';

const folders: string[] = [];
/** Starting a stack takes 5 to 20 s on a busy 2-core machine; stopping it up to 5 s more. */
const STACK_TEST_TIMEOUT_MS = 120_000;

/** A data folder that does not exist yet: the stack creates it. */
function newDataFolder(): string {
  const parent = mkdtempSync(join(tmpdir(), 'auditseal-ops-'));
  folders.push(parent);
  return join(parent, 'data');
}

afterAll(() => {
  for (const folder of folders) removeFolder(folder);
});

function portOf(endpoint: string): number {
  return Number(new URL(endpoint).port);
}

/** Stops `started` with `signal` sent to `target`, and returns what was still running 15 s later. */
async function stopAndFindOrphans(
  started: NpmStartProcess,
  signal: NodeJS.Signals,
  target: number,
): Promise<{ tree: ProcessInfo[]; orphans: ProcessInfo[] }> {
  const tree = processTree(started.child.pid!, started.serverPids);
  process.kill(target, signal);
  await until(() => stillRunning(tree).length === 0 && groupMembers(started.serverPids).length === 0, 15_000);
  return { tree, orphans: [...stillRunning(tree), ...groupMembers(started.serverPids)] };
}

describe('npm start (local/main.ts), while it runs', () => {
  let started: NpmStartProcess;
  let dataDir: string;
  const canary = join(mkdtempSync(join(tmpdir(), 'auditseal-canary-')), 'canary.mjs');

  beforeAll(async () => {
    folders.push(join(canary, '..'));
    writeFileSync(canary, "process.emitWarning('auditseal canary warning');\n");
    dataDir = newDataFolder();
    started = await spawnNpmStart(dataDir, { NODE_OPTIONS: `--import=${canary}` });
  });

  afterAll(() => {
    if (started?.child.exitCode === null) started.child.kill('SIGKILL');
  });

  it('listens on 127.0.0.1 only: the API, DynamoDB Local and moto', () => {
    // Prepare
    const tree = processTree(started.child.pid!, started.serverPids);

    // Act
    const open = listeners(tree.map((p) => p.pid));

    // Assess
    const ports = new Set(open.map((l) => l.port));
    for (const endpoint of [started.info.endpoint, started.info.dynamodbEndpoint, started.info.s3Endpoint]) {
      expect(ports).toContain(portOf(endpoint));
    }
    expect(open.filter((l) => !isLoopback(l.address))).toEqual([]);
  });

  it('prints no secret, and keeps the secrets in local.json (0600) in a folder only its owner can open (0700)', () => {
    // Act
    const output = started.output();

    // Assess
    for (const role of Object.values(started.info.roles)) expect(output).not.toContain(role.secretAccessKey);
    expect(output).toContain(join(dataDir, 'local.json'));
    expect(statSync(join(dataDir, 'local.json')).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
  });

  it('prints a curl command that runs as printed, reading the key from local.json', async () => {
    // Prepare: the printed command, from `curl` to the endpoint line
    const lines = started.output().split('\n');
    const first = lines.findIndex((line) => line.trim().startsWith('curl --aws-sigv4'));
    const last = lines.findIndex((line, i) => i > first && line.trim().endsWith('/v1/events'));
    expect(first).toBeGreaterThan(0);
    expect(last).toBeGreaterThan(first);
    const command = lines.slice(first, last + 1).join('\n');

    // Act
    const { stdout } = await promisify(execFile)('sh', ['-c', `${command} -s -w ' %{http_code}'`], {
      cwd: REPO_ROOT,
    });

    // Assess
    expect(stdout).toMatch(/"stored":\["try-1"\].* 201$/);
  });

  it('answers a retry that writes the same instant differently as a duplicate, not a conflict', async () => {
    // Prepare
    const event = (eventTime: string) =>
      JSON.stringify({
        events: [
          {
            id: 'retry-1',
            eventTime,
            actor: { id: 'alice', type: 'user' },
            action: 'ssh.login',
            outcome: { result: 'success' },
          },
        ],
      });
    const now = new Date();
    now.setUTCMilliseconds(0);
    const utc = now.toISOString().replace('.000Z', 'Z');
    const first = await signedFetch(started.info.endpoint, started.info.roles.writer, {
      method: 'POST',
      path: '/v1/events',
      body: event(utc),
    });
    expect(first.status).toBe(201);
    const firstBody = (await first.json()) as { receipts: unknown[] };

    // Act: the same instant with an offset and a fraction
    const retry = await signedFetch(started.info.endpoint, started.info.roles.writer, {
      method: 'POST',
      path: '/v1/events',
      body: event(utc.replace('Z', '.000+00:00')),
    });

    // Assess
    const retryBody = (await retry.json()) as { stored: string[]; duplicates: string[]; receipts: unknown[] };
    expect(retry.status).toBe(200);
    expect(retryBody).toMatchObject({ stored: [], duplicates: ['retry-1'] });
    expect(retryBody.receipts).toEqual(firstBody.receipts);
  });

  it("shows other warnings, but not the AWS SDK's notice about Node.js versions", () => {
    // Act
    const output = started.output();

    // Assess
    expect(output).toContain('auditseal canary warning');
    expect(output).not.toContain('NodeVersionSupportWarning');
  });

  it(
    'stops every process it started on SIGINT (Ctrl-C) and exits 0',
    async () => {
      // Act
      const { tree, orphans } = await stopAndFindOrphans(started, 'SIGINT', started.child.pid!);

      // Assess
      expect(tree.length).toBeGreaterThanOrEqual(3);
      expect(await started.exited).toBe(0);
      expect(orphans).toEqual([]);
    },
    STACK_TEST_TIMEOUT_MS,
  );
});

describe('npm start (local/main.ts), stopped by a signal', () => {
  it.each(['SIGTERM', 'SIGHUP'] as const)(
    'stops every process it started on %s and exits 0',
    async (signal) => {
      // Prepare
      const started = await spawnNpmStart(newDataFolder());

      // Act
      const { orphans } = await stopAndFindOrphans(started, signal, started.child.pid!);

      // Assess
      expect(await started.exited).toBe(0);
      expect(started.output()).toContain(`${signal}: stopping the local stack`);
      expect(orphans).toEqual([]);
    },
    STACK_TEST_TIMEOUT_MS,
  );

  it(
    'leaves no server behind when it is killed outright (SIGKILL): the servers stop by themselves',
    async () => {
      // Prepare
      const started = await spawnNpmStart(newDataFolder());

      // Act
      const { tree, orphans } = await stopAndFindOrphans(started, 'SIGKILL', started.child.pid!);

      // Assess
      expect(tree.some((p) => /DynamoDbLocalLoopback|DynamoDBLocal\.jar/.test(p.command))).toBe(true);
      expect(tree.some((p) => /moto_server/.test(p.command))).toBe(true);
      expect(orphans).toEqual([]);
    },
    STACK_TEST_TIMEOUT_MS,
  );

  it(
    'stops everything when it runs under npm and npm itself gets SIGHUP (npm does not pass it on)',
    async () => {
      // Prepare
      const started = await spawnNpmStart(newDataFolder(), {}, { viaNpm: true });
      expect(started.stackPid).not.toBe(started.child.pid);

      // Act
      const { tree, orphans } = await stopAndFindOrphans(started, 'SIGHUP', started.child.pid!);

      // Assess
      expect(tree.map((p) => p.pid)).toContain(started.stackPid);
      expect(orphans).toEqual([]);
    },
    STACK_TEST_TIMEOUT_MS,
  );
});

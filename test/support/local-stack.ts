/**
 * The whole local stack for integration tests: DynamoDB Local, moto, gateway, poller and scheduler on free
 * ports, with a temporary data folder. Start one per test file (it takes a few seconds).
 *
 * @example
 * let stack: TestLocalStack;
 * beforeAll(async () => { stack = await startTestLocalStack({ functions: { routes } }); });
 * afterAll(async () => { await stack?.cleanup(); });
 * await signedFetch(stack.info.endpoint, stack.info.roles.writer, { method: 'POST', path: '/v1/events', body });
 */

import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalStackFile } from '../../local/local-stack-file.ts';
import type { LocalStack, StartLocalStackOptions } from '../../local/stack.ts';
import { startLocalStack } from '../../local/stack.ts';
import { REPO_ROOT, until } from './dynamodb-local.ts';

/** A running test stack and what it printed. */
export interface TestLocalStack extends LocalStack {
  readonly dataDir: string;
  /** Every status line printed so far. */
  readonly output: readonly string[];
  /** Stops the stack and deletes its data folder (unless `keepDataDir`). */
  cleanup(options?: { keepDataDir?: boolean }): Promise<void>;
}

/** Starts a stack on free ports; `dataDir` defaults to a new temporary folder. */
export async function startTestLocalStack(options: StartLocalStackOptions = {}): Promise<TestLocalStack> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'auditseal-stack-'));
  const output: string[] = [];
  const stack = await startLocalStack({
    port: 0,
    projectDir: REPO_ROOT,
    ...options,
    dataDir,
    log: (line) => void output.push(line),
  });
  return {
    ...stack,
    stop: stack.stop,
    dataDir,
    output,
    async cleanup(cleanupOptions = {}) {
      await stack.stop();
      if (cleanupOptions.keepDataDir !== true) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** `npm start` (`node --import tsx local/main.ts`) as a child process. */
export interface NpmStartProcess {
  /** `npm` with `viaNpm`, else the `local/main.ts` process itself. */
  readonly child: ChildProcess;
  /** The `local/main.ts` process (from local.json). */
  readonly stackPid: number;
  /** stdout and stderr so far. */
  readonly output: () => string;
  /** The local.json it wrote. */
  readonly info: LocalStackFile;
  /** The server process groups it recorded in its lock file. */
  readonly serverPids: readonly number[];
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number | null>;
}

/**
 * Spawns `local/main.ts` on a free API port (or `npm start` itself, with `viaNpm`) and waits until it has
 * printed its summary. With `detached`, the process leads a process group (and session) of its own.
 */
export async function spawnNpmStart(
  dataDir: string,
  env: Record<string, string> = {},
  options: { readonly viaNpm?: boolean; readonly detached?: boolean } = {},
): Promise<NpmStartProcess> {
  const { freePort } = await import('../../local/process-group.ts');
  const port = await freePort();
  const [command, args] =
    options.viaNpm === true
      ? ['npm', ['start', '--silent']]
      : [process.execPath, ['--import', 'tsx', 'local/main.ts']];
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: String(port), AUDITSEAL_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group (and session), as a terminal would make it: a signal to the group (`-pid`)
    // is then Ctrl-C, and one to the pid reaches that process alone.
    detached: options.detached === true,
  });
  let output = '';
  const append = (chunk: Buffer) => {
    output += chunk.toString('utf8');
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await until(
    () => output.includes('Ctrl-C stops everything') || child.exitCode !== null,
    120_000,
  );
  if (!ready || child.exitCode !== null) {
    child.kill('SIGKILL');
    throw new Error(`npm start did not come up:\n${output}`);
  }
  const info = JSON.parse(readFileSync(join(dataDir, 'local.json'), 'utf8')) as LocalStackFile;
  const lock = JSON.parse(readFileSync(join(dataDir, 'stack.lock'), 'utf8')) as { children: number[] };
  return { child, stackPid: info.pid, output: () => output, info, serverPids: lock.children, exited };
}

/** Alive and not a zombie waiting for its reaper. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Removes a folder made by a test. */
export function removeFolder(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

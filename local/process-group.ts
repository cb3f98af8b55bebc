/**
 * Child servers of the local stack (DynamoDB Local, moto) run in their own process group, so that a wrapper
 * (pyenv shim, shell script) and everything it forked stop together, and behind a watchdog, so that they
 * stop even when this process is killed without a chance to stop them (SIGKILL, OOM killer).
 */

import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

const DEFAULT_STOP_GRACE_MS = 5000;

/** Process groups still alive, killed if this process exits without stopping them. */
const running = new Set<number>();
let exitHookInstalled = false;

/**
 * The watchdog, a POSIX shell script run as the group leader. Its standard input is a pipe whose write end
 * only this Node process holds; it keeps the read end on fd 3 and `exec`s the server (so the group
 * leader's pid is the server's, with stdin from /dev/null). A background subshell of the same group waits
 * for end-of-file on fd 3, which comes when this process exits in any way, SIGKILL included. It then sends
 * SIGTERM to the whole group, waits up to 5 s for the server to go, and sends SIGKILL to the group, itself
 * included. It ignores SIGTERM so that it outlives the server; a normal stop ends with SIGKILL to the group.
 */
const WATCHDOG_SCRIPT = [
  'leader=$$',
  'exec 3<&0 </dev/null',
  '(',
  "  trap '' HUP INT TERM",
  '  while read -r _ <&3; do :; done',
  '  kill -TERM 0',
  '  i=0',
  '  while kill -0 "$leader" 2>/dev/null && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done',
  '  kill -KILL 0',
  ') >/dev/null 2>&1 &',
  'exec "$@" 3<&-',
].join('\n');

/** The executable does not exist or cannot be run (the spawn would fail with ENOENT). */
export class ExecutableNotFoundError extends Error {
  override readonly name = 'ExecutableNotFoundError';
  readonly code = 'ENOENT';
}

/**
 * Spawns `command` in a new process group behind the watchdog above, with stdout and stderr piped.
 * Throws `ExecutableNotFoundError` at once if `command` cannot be found or run.
 */
export function spawnGroup(
  command: string,
  args: readonly string[],
  options: { readonly cwd?: string; readonly env?: NodeJS.ProcessEnv } = {},
): ChildProcess {
  const executable = resolveExecutable(command, options.env?.['PATH'] ?? process.env['PATH'] ?? '');
  if (executable === undefined) throw new ExecutableNotFoundError(`${command}: not found`);
  const child = spawn('/bin/sh', ['-c', WATCHDOG_SCRIPT, 'auditseal-server', executable, ...args], {
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    env: options.env ?? process.env,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // The pipe is never written to: it only has to stay open while this process lives.
  child.stdin?.on('error', () => {});
  trackGroup(child);
  return child;
}

/** The path of an executable: `command` itself if it holds a `/`, else the first match on `path`. */
export function resolveExecutable(command: string, path: string): string | undefined {
  if (command.includes('/')) return isExecutable(command) ? command : undefined;
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, command);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Remembers a detached child's group so that it is killed if this process exits first. */
export function trackGroup(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const pid of running) killGroup(pid, 'SIGKILL');
    });
  }
  if (child.pid !== undefined) running.add(child.pid);
}

/**
 * SIGTERM to the child's whole group, SIGKILL after `graceMs`; resolves once the leader has exited.
 * Idempotent.
 */
export async function stopGroup(child: ChildProcess, graceMs = DEFAULT_STOP_GRACE_MS): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  running.delete(pid);
  if (child.exitCode !== null || child.signalCode !== null) {
    killGroup(pid, 'SIGKILL'); // leftovers of the group, if any
    return;
  }
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  killGroup(pid, 'SIGTERM');
  const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
  killGroup(pid, 'SIGKILL');
}

/** Signals a whole process group; a group that is already gone is not an error. */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** A TCP port that was free on 127.0.0.1 a moment ago (callers retry if it is taken meanwhile). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port found'))));
    });
  });
}

/** Keeps the last `maxChars` characters written to a child's stdout and stderr (and drains both pipes). */
export function captureTail(child: ChildProcess, maxChars = 4000): () => string {
  let output = '';
  const keepTail = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-maxChars);
  };
  // Always drain the pipes: a full pipe would stall the server.
  child.stdout?.on('data', keepTail);
  child.stderr?.on('data', keepTail);
  return () => output;
}

/** Polls `probe` until it resolves true, or rejects after `timeoutMs` or once `cancelled` fires. */
export async function pollUntil(
  probe: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; cancelled?: AbortSignal; describe: () => string },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  while (Date.now() < deadline && options.cancelled?.aborted !== true) {
    if (await probe().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
  throw new Error(options.describe());
}

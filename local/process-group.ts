/**
 * Child servers of the local stack (DynamoDB Local, moto) run in their own process group, so that a wrapper
 * (pyenv shim, shell script) and everything it forked stop together.
 */

import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

const DEFAULT_STOP_GRACE_MS = 5000;

/** Process groups still alive, killed if this process exits without stopping them. */
const running = new Set<number>();
let exitHookInstalled = false;

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

/**
 * One local stack per data folder: `.auditseal/stack.lock` names the running stack's process and the
 * process groups it started. A lock left by a stack that died without cleaning up (SIGKILL, power loss) is
 * taken over, and the DynamoDB Local and moto servers it names are stopped first if they are still running.
 */

import { readFileSync } from 'node:fs';
import { open, readFile, rm, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { killGroup } from './process-group.ts';

const lockSchema = z.object({
  pid: z.number().int().positive(),
  children: z.array(z.number().int().positive()).default([]),
});

/** A held lock. */
export interface StackLock {
  /** Records the process groups of the servers started, for a later takeover. */
  recordChildren(pids: readonly number[]): Promise<void>;
  release(): Promise<void>;
}

/** The data folder is in use by a running stack. */
export class StackRunningError extends Error {
  override readonly name = 'StackRunningError';
}

/** Takes the lock at `path`, or throws StackRunningError naming the running stack. */
export async function acquireStackLock(
  path: string,
  log: (line: string) => void = () => {},
): Promise<StackLock> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(JSON.stringify({ pid: process.pid, children: [] }));
      await handle.close();
      return heldLock(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const previous = lockSchema.safeParse(safeJson(await readFile(path, 'utf8').catch(() => '')));
    if (previous.success && isAlive(previous.data.pid)) {
      throw new StackRunningError(
        `another local stack (pid ${previous.data.pid}) is running with this data folder; stop it first (Ctrl-C)`,
      );
    }
    if (previous.success) {
      for (const child of previous.data.children.filter(isOurServer)) {
        log(`stopping a server left running by a previous stack (pid ${child})`);
        killGroup(child, 'SIGKILL');
      }
    }
    await rm(path, { force: true });
  }
  throw new StackRunningError(`could not take the stack lock ${path}`);
}

function heldLock(path: string): StackLock {
  let released = false;
  return {
    async recordChildren(children) {
      if (!released) await writeFile(path, JSON.stringify({ pid: process.pid, children }), { mode: 0o600 });
    },
    async release() {
      released = true;
      await rm(path, { force: true });
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Only kill a leftover pid that is still a DynamoDB Local or moto server (pids get reused). */
function isOurServer(pid: number): boolean {
  try {
    const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /DynamoDBLocal\.jar|moto_server/.test(commandLine);
  } catch {
    return false;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Starts `moto_server` (KMS, S3 with Object Lock…) on a free 127.0.0.1 port, for the local stack and for
 * integration tests. moto keeps every resource in memory: a stopped server forgets its keys and objects.
 *
 * @example
 * const moto = await startMoto({ command: await resolveMotoServer({ projectDir }) });
 * const kms = new KMSClient(moto.clientConfig);
 * await moto.stop();
 */

import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  captureTail,
  ExecutableNotFoundError,
  freePort,
  pollUntil,
  resolveExecutable,
  spawnGroup,
  stopGroup,
} from './process-group.ts';

/** The moto release the local stack is tested against. */
export const MOTO_VERSION = '5.2.1';

/** A running moto server. `stop` is idempotent. */
export interface MotoServer {
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number;
  /** Ready-made SDK client settings: endpoint, region and dummy credentials. */
  readonly clientConfig: {
    endpoint: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
    forcePathStyle: boolean;
  };
  /** Drops every resource in every moto backend, between tests. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartMotoOptions {
  /** Executable to run; default `$MOTO_SERVER` or `moto_server` on PATH. */
  readonly command?: string;
  /** How long to wait for the first HTTP answer; default 30 s (moto imports slowly). */
  readonly timeoutMs?: number;
  /** Region put in `clientConfig`; default `us-east-1`. */
  readonly region?: string;
}

const INSTALL_HINT = "install it with `pip install 'moto[server]'` or set MOTO_SERVER to its path";
const PORT_ATTEMPTS = 3;

/** Starts moto and resolves once it answers HTTP; rejects with a clear message if it cannot. */
export async function startMoto(options: StartMotoOptions = {}): Promise<MotoServer> {
  const command = options.command ?? process.env['MOTO_SERVER'] ?? 'moto_server';
  const timeoutMs = options.timeoutMs ?? 30_000;
  const region = options.region ?? 'us-east-1';
  let lastError: Error | undefined;
  // A free port can be taken between probing and binding; try again on a new one.
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    const port = await freePort();
    try {
      return await launch(command, port, timeoutMs, region);
    } catch (error) {
      lastError = error as Error;
      // ETXTBSY: the executable was just written and another fork still held it open; it clears at once.
      const retryable =
        error instanceof MotoExitedError &&
        (/address already in use/i.test(error.output) || /ETXTBSY/.test(error.message));
      if (!retryable) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw lastError!;
}

class MotoExitedError extends Error {
  override readonly name = 'MotoExitedError';
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(message);
  }
}

async function launch(command: string, port: number, timeoutMs: number, region: string): Promise<MotoServer> {
  let child: ChildProcess;
  try {
    // Own process group behind a watchdog: the pyenv shim or wrapper scripts die with the server, and the
    // server dies with this process, however it ends.
    child = spawnGroup(command, ['-H', '127.0.0.1', '-p', String(port)], {
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
    });
  } catch (error) {
    if (!(error instanceof ExecutableNotFoundError)) throw error;
    throw new MotoExitedError(`cannot start moto: \`${command}\` was not found on PATH; ${INSTALL_HINT}`, '');
  }
  const output = captureTail(child);
  const exited = exitedEarly(child, command, output);
  const endpoint = `http://127.0.0.1:${port}`;
  const polling = new AbortController();
  try {
    await Promise.race([
      exited,
      pollUntil(() => answers(endpoint), {
        timeoutMs,
        cancelled: polling.signal,
        describe: () =>
          `${command} did not answer on ${endpoint} within ${timeoutMs} ms; is it moto?\n${output()}`,
      }),
    ]);
  } catch (error) {
    await stopGroup(child);
    throw error;
  } finally {
    polling.abort();
  }

  return {
    endpoint,
    port,
    pid: child.pid!,
    clientConfig: {
      endpoint,
      region,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      forcePathStyle: true,
    },
    async reset() {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!response.ok) throw new Error(`moto reset failed with HTTP ${response.status}`);
    },
    stop: () => stopGroup(child),
  };
}

function exitedEarly(child: ChildProcess, command: string, output: () => string): Promise<never> {
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      const reason =
        error.code === 'ENOENT' ? `\`${command}\` was not found on PATH; ${INSTALL_HINT}` : error.message;
      reject(new MotoExitedError(`cannot start moto: ${reason}`, output()));
    });
    child.once('exit', (code, signal) => {
      const hint = code === 127 ? `; ${INSTALL_HINT}` : '';
      reject(
        new MotoExitedError(
          `${command} exited before answering (code ${code}, signal ${signal})${hint}\n${output()}`,
          output(),
        ),
      );
    });
  });
  exited.catch(() => {});
  return exited;
}

async function answers(endpoint: string): Promise<boolean> {
  const response = await fetch(`${endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(1000) });
  await response.arrayBuffer();
  return true;
}

/** Where to find moto when it is not on PATH, and how to install it there. */
export interface ResolveMotoServerOptions {
  /** The repository root: `.venv/` is created there. */
  readonly projectDir: string;
  /** Python used to create `.venv`; default `python3`. */
  readonly python?: string;
  /** Progress lines (the install takes a while). */
  readonly log?: (line: string) => void;
}

/**
 * The `moto_server` executable to run: `$MOTO_SERVER`, else `moto_server` on PATH, else
 * `<projectDir>/.venv/bin/moto_server`, installing it there with pip first if needed.
 * Rejects with a message naming what is missing and how to get it.
 */
export async function resolveMotoServer(options: ResolveMotoServerOptions): Promise<string> {
  const fromEnv = process.env['MOTO_SERVER'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const onPath = resolveExecutable('moto_server', process.env['PATH'] ?? '');
  if (onPath !== undefined) return onPath;
  const venv = join(options.projectDir, '.venv');
  const venvServer = join(venv, 'bin', 'moto_server');
  if (resolveExecutable(venvServer, '') !== undefined) return venvServer;

  const python = options.python ?? 'python3';
  const log = options.log ?? (() => {});
  const run = promisify(execFile);
  const requirement = `moto[server]==${MOTO_VERSION}`;
  try {
    if (!existsSync(join(venv, 'bin', 'pip'))) {
      log(`moto_server not found; creating ${venv} with ${python} -m venv`);
      await run(python, ['-m', 'venv', venv]);
    }
    log(`installing '${requirement}' into ${venv} (pip)`);
    await run(
      join(venv, 'bin', 'pip'),
      ['install', '--disable-pip-version-check', '--retries', '1', requirement],
      {
        maxBuffer: 16 * 1024 * 1024,
      },
    );
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message.split('\n').slice(0, 6).join('\n') : String(cause);
    throw new Error(
      [
        `moto_server is missing: it is not on PATH, MOTO_SERVER is not set, and installing '${requirement}'`,
        `into ${venv} failed (is PyPI reachable?):`,
        detail,
        'Install it one of these ways, then run again:',
        `  pip install '${requirement}'`,
        '  sudo apt-get install python3-moto python3-flask python3-flask-cors   (Debian/Ubuntu packages)',
        '  export MOTO_SERVER=/path/to/moto_server',
      ].join('\n'),
      { cause },
    );
  }
  if (resolveExecutable(venvServer, '') === undefined) {
    throw new Error(
      `pip installed '${requirement}' but ${venvServer} is missing; set MOTO_SERVER to its path`,
    );
  }
  return venvServer;
}

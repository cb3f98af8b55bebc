/**
 * Runs DynamoDB Local (AWS's own engine, from `ensureDynamoDbLocalJar`) as a child process group.
 * DynamoDB Local has no bind-address option: it listens on all interfaces of the chosen port.
 *
 * @example
 * const ddb = await startDynamoDbLocal({ jar: await ensureDynamoDbLocalJar(), storage: { inMemory: true } });
 * const client = new DynamoDBClient(ddb.clientConfig);
 * await ddb.stop();
 */

import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDbLocalJar } from './dynamodb-local-jar.ts';
import { captureTail, freePort, pollUntil, stopGroup, trackGroup } from './process-group.ts';

/** A running DynamoDB Local. `stop` is idempotent. */
export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number;
  /** SDK client settings: endpoint, region and dummy credentials (DynamoDB Local checks neither). */
  readonly clientConfig: {
    endpoint: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
  };
  stop(): Promise<void>;
}

export interface StartDynamoDbLocalOptions {
  readonly jar: DynamoDbLocalJar;
  /** `{ dbPath }` keeps one shared database file in that folder (`-sharedDb`); `{ inMemory: true }` keeps none. */
  readonly storage: { readonly dbPath: string } | { readonly inMemory: true };
  /** Default: a free port. */
  readonly port?: number;
  /** Default `$JAVA`, else `java` on PATH. */
  readonly java?: string;
  /** How long to wait for the first answer; default 60 s. */
  readonly timeoutMs?: number;
  readonly region?: string;
  /** JVM options; default `FAST_START_JAVA_OPTIONS`. */
  readonly javaOptions?: readonly string[];
}

/**
 * C1-only JIT and the serial collector: DynamoDB Local answers in about half the time (4–5 s instead of
 * 10–12 s on a busy 2-CPU machine), at some cost in peak throughput that a local stack does not need.
 */
export const FAST_START_JAVA_OPTIONS: readonly string[] = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'];

const PORT_ATTEMPTS = 3;
const JAVA_HINT = 'DynamoDB Local needs a Java runtime (17 or newer): install one, or set JAVA to its path';

/** Starts DynamoDB Local and resolves once it answers `ListTables`. */
export async function startDynamoDbLocal(options: StartDynamoDbLocalOptions): Promise<DynamoDbLocal> {
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < (options.port === undefined ? PORT_ATTEMPTS : 1); attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await launch(options, port);
    } catch (error) {
      lastError = error as Error;
      if (!/address already in use|BindException/i.test(lastError.message)) throw error;
    }
  }
  throw lastError!;
}

async function launch(options: StartDynamoDbLocalOptions, port: number): Promise<DynamoDbLocal> {
  const java = options.java ?? process.env['JAVA'] ?? 'java';
  const timeoutMs = options.timeoutMs ?? 60_000;
  const region = options.region ?? 'us-east-1';
  const storageArgs =
    'inMemory' in options.storage ? ['-inMemory'] : ['-dbPath', options.storage.dbPath, '-sharedDb'];
  if ('dbPath' in options.storage) mkdirSync(options.storage.dbPath, { recursive: true });
  const args = [
    ...(options.javaOptions ?? FAST_START_JAVA_OPTIONS),
    `-Djava.library.path=${options.jar.libDir}`,
    '-jar',
    options.jar.jarPath,
    '-port',
    String(port),
    ...storageArgs,
    '-disableTelemetry',
  ];
  const child = spawn(java, args, {
    cwd: options.jar.dir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackGroup(child);
  const output = captureTail(child);
  const exited = exitedEarly(child, java, output);
  const endpoint = `http://127.0.0.1:${port}`;
  const clientConfig = {
    endpoint,
    region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const client = new DynamoDBClient({ ...clientConfig, maxAttempts: 1 });
  const polling = new AbortController();
  try {
    await Promise.race([
      exited,
      pollUntil(
        async () => {
          await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(2000) });
          return true;
        },
        {
          timeoutMs,
          intervalMs: 200,
          cancelled: polling.signal,
          describe: () => `DynamoDB Local did not answer on ${endpoint} within ${timeoutMs} ms\n${output()}`,
        },
      ),
    ]);
  } catch (error) {
    await stopGroup(child);
    throw error;
  } finally {
    polling.abort();
    client.destroy();
  }
  return { endpoint, port, pid: child.pid!, clientConfig, stop: () => stopGroup(child) };
}

function exitedEarly(child: ChildProcess, java: string, output: () => string): Promise<never> {
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new Error(
          error.code === 'ENOENT'
            ? `cannot start DynamoDB Local: \`${java}\` was not found; ${JAVA_HINT}`
            : `cannot start DynamoDB Local: ${error.message}`,
        ),
      );
    });
    child.once('exit', (code, signal) => {
      reject(
        new Error(`DynamoDB Local exited before answering (code ${code}, signal ${signal})\n${output()}`),
      );
    });
  });
  exited.catch(() => {});
  return exited;
}

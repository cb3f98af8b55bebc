/**
 * Runs DynamoDB Local (AWS's own engine, from `ensureDynamoDbLocalJar`) as a child process group, bound to
 * 127.0.0.1. DynamoDB Local has no bind-address option, so it is started through a small launcher
 * (`dynamodb-local-loopback.java`, compiled once into the jar cache) that sets the address of its Jetty
 * connector before it starts. Without a Java compiler (a JRE without the `jdk.compiler` module), it falls
 * back to the plain jar, which listens on every interface, and says so.
 *
 * @example
 * const ddb = await startDynamoDbLocal({ jar: await ensureDynamoDbLocalJar(), storage: { inMemory: true } });
 * const client = new DynamoDBClient(ddb.clientConfig);
 * await ddb.stop();
 */

import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDbLocalJar } from './dynamodb-local-jar.ts';
import {
  captureTail,
  ExecutableNotFoundError,
  freePort,
  pollUntil,
  resolveExecutable,
  spawnGroup,
  stopGroup,
} from './process-group.ts';

/** A running DynamoDB Local. `stop` is idempotent. */
export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number;
  /** The address it listens on: `127.0.0.1`, or `*` (every interface) when the launcher could not be built. */
  readonly host: string;
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
  /** Warnings (the fallback to every interface); default none. */
  readonly log?: (line: string) => void;
}

/**
 * C1-only JIT and the serial collector: DynamoDB Local answers in about half the time (4–5 s instead of
 * 10–12 s on a busy 2-CPU machine), at some cost in peak throughput that a local stack does not need.
 */
export const FAST_START_JAVA_OPTIONS: readonly string[] = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'];

/** The address DynamoDB Local is bound to. */
export const DYNAMODB_LOCAL_HOST = '127.0.0.1';
const LAUNCHER_SOURCE = fileURLToPath(new URL('./dynamodb-local-loopback.java', import.meta.url));
const LAUNCHER_CLASS = 'DynamoDbLocalLoopback';
const PORT_ATTEMPTS = 3;
const JAVA_HINT = 'DynamoDB Local needs a Java runtime (17 or newer): install one, or set JAVA to its path';

/** Starts DynamoDB Local and resolves once it answers `ListTables`. */
export async function startDynamoDbLocal(options: StartDynamoDbLocalOptions): Promise<DynamoDbLocal> {
  const java = options.java ?? process.env['JAVA'] ?? 'java';
  if (resolveExecutable(java, process.env['PATH'] ?? '') === undefined) {
    throw new Error(`cannot start DynamoDB Local: \`${java}\` was not found; ${JAVA_HINT}`);
  }
  const launcher = await loopbackLauncher(options.jar, java, options.log ?? (() => {}));
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < (options.port === undefined ? PORT_ATTEMPTS : 1); attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await launch(options, java, launcher, port);
    } catch (error) {
      lastError = error as Error;
      if (!/address already in use|BindException/i.test(lastError.message)) throw error;
    }
  }
  throw lastError!;
}

async function launch(
  options: StartDynamoDbLocalOptions,
  java: string,
  launcher: string | undefined,
  port: number,
): Promise<DynamoDbLocal> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const region = options.region ?? 'us-east-1';
  const storageArgs =
    'inMemory' in options.storage ? ['-inMemory'] : ['-dbPath', options.storage.dbPath, '-sharedDb'];
  if ('dbPath' in options.storage) mkdirSync(options.storage.dbPath, { recursive: true });
  const main =
    launcher === undefined
      ? ['-jar', options.jar.jarPath]
      : [
          `-Dauditseal.host=${DYNAMODB_LOCAL_HOST}`,
          '-cp',
          `${options.jar.jarPath}${delimiter}${launcher}`,
          LAUNCHER_CLASS,
        ];
  const args = [
    ...(options.javaOptions ?? FAST_START_JAVA_OPTIONS),
    `-Djava.library.path=${options.jar.libDir}`,
    ...main,
    '-port',
    String(port),
    ...storageArgs,
    '-disableTelemetry',
  ];
  let child: ChildProcess;
  try {
    // DDB_LOCAL_TELEMETRY=0: the launcher skips ServerRunner.main, where -disableTelemetry is applied.
    child = spawnGroup(java, args, {
      cwd: options.jar.dir,
      env: { ...process.env, DDB_LOCAL_TELEMETRY: '0' },
    });
  } catch (error) {
    if (!(error instanceof ExecutableNotFoundError)) throw error;
    throw new Error(`cannot start DynamoDB Local: \`${java}\` was not found; ${JAVA_HINT}`);
  }
  const output = captureTail(child);
  const exited = exitedEarly(child, output);
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
  return {
    endpoint,
    port,
    pid: child.pid!,
    host: launcher === undefined ? '*' : DYNAMODB_LOCAL_HOST,
    clientConfig,
    stop: () => stopGroup(child),
  };
}

/**
 * The folder holding the compiled loopback launcher, compiled on first use into
 * `<jar cache>/loopback-<source hash>/` with the JDK's compiler (`java -m jdk.compiler/…`, so a JRE that
 * ships that module is enough). Undefined, after a warning, when it cannot be compiled.
 */
async function loopbackLauncher(
  jar: DynamoDbLocalJar,
  java: string,
  log: (line: string) => void,
): Promise<string | undefined> {
  const source = readFileSync(LAUNCHER_SOURCE);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const target = join(dirname(jar.dir), `loopback-${hash}`);
  if (existsSync(join(target, `${LAUNCHER_CLASS}.class`))) return target;
  const staging = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await mkdir(staging, { recursive: true });
    await promisify(execFile)(
      java,
      [
        '-XX:TieredStopAtLevel=1',
        '-m',
        'jdk.compiler/com.sun.tools.javac.Main',
        '-d',
        staging,
        LAUNCHER_SOURCE,
      ],
      { timeout: 120_000 },
    );
    await rename(staging, target).catch((error: NodeJS.ErrnoException) => {
      // Another start compiled it at the same time: theirs is as good as ours.
      if (!existsSync(join(target, `${LAUNCHER_CLASS}.class`))) throw error;
    });
    return target;
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    log(
      `WARNING: DynamoDB Local will listen on every interface, not only ${DYNAMODB_LOCAL_HOST}: its loopback ` +
        `launcher could not be compiled (${reason}). Install a full JDK 17+ (with the jdk.compiler module) to fix this.`,
    );
    return undefined;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

function exitedEarly(child: ChildProcess, output: () => string): Promise<never> {
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(new Error(`cannot start DynamoDB Local: ${error.message}`));
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

/**
 * The local stack behind `npm start`: DynamoDB Local (the ledger table and its stream, data kept in
 * `<dataDir>/dynamodb`), moto (KMS and S3 with Object Lock, in memory), the resources of
 * `infra/resources/definitions.ts`, the SigV4 gateway, the stream poller and the heartbeat scheduler.
 *
 * Restart: the ledger is resumed (same id, credentials, signing key, chain) only when everything it depends
 * on survived: the table, the KMS key and the bucket. moto keeps keys and objects in memory, so after a
 * restart of moto they are gone and a NEW ledger is started, loudly, never a silently broken chain.
 * Details: docs/LOCAL-STACK.md.
 */

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { KMSClient } from '@aws-sdk/client-kms';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { KmsSigner } from '../adapters/kms/kms-signer.ts';
import type { StreamEventSourceDefinition } from '../infra/resources/definitions.ts';
import { resourceDefinitions } from '../infra/resources/definitions.ts';
import {
  describeSigningKey,
  ensureDigestBucket,
  ensureKeyAlias,
  ensureLedgerTable,
  ensureReadQueue,
  ensureSigningKey,
  localKeyAlias,
} from './bootstrap.ts';
import type { DynamoDbLocal } from './dynamodb-local.ts';
import { startDynamoDbLocal } from './dynamodb-local.ts';
import { ensureDynamoDbLocalJar } from './dynamodb-local-jar.ts';
import type { LocalGateway } from './gateway.ts';
import { DEFAULT_GATEWAY_PORT, startGateway } from './gateway.ts';
import { lambdaContext } from './lambda-context.ts';
import type { LocalStackFile, RoleCredentials } from './local-stack-file.ts';
import { readLocalStackFile, writeLocalStackFile, writePrivateFile } from './local-stack-file.ts';
import type { MotoServer } from './moto.ts';
import { resolveMotoServer, startMoto } from './moto.ts';
import { freePort } from './process-group.ts';
import { type QueueHandler, type QueuePoller, startQueuePoller } from './queue-poller.ts';
import type { Role, Route } from './route-table.ts';
import { ROLES } from './route-table.ts';
import type { Scheduler } from './scheduler.ts';
import { scheduledEvent, startScheduler } from './scheduler.ts';
import {
  HEARTBEAT_MARGIN_SECONDS,
  localHeartbeatOffsetSeconds,
  localSealingDelaySeconds,
} from './sealing-schedule.ts';
import type { StackLock } from './stack-lock.ts';
import { acquireStackLock } from './stack-lock.ts';
import type { StreamBatchFailure, StreamHandler, StreamPoller } from './stream-poller.ts';
import { startStreamPoller } from './stream-poller.ts';
import { tryItText } from './try-it.ts';

export const DEFAULT_PERIOD_SECONDS = 60;

/** `keys/current.pem` in the data folder: the public key of the ledger that runs now. */
export const CURRENT_KEY_FILE = 'current.pem';
/** The moto SNS topic detection alerts are announced on. */
export const LOCAL_ALERT_TOPIC = 'auditseal-local-alerts';
export const LOCAL_ACCOUNT_ID = '000000000000';

/** The function behind the heartbeat schedule. */
export type HeartbeatHandler = (event: ScheduledEvent, context: Context) => Promise<unknown>;

/** A further function on the ledger stream, with its own poller and checkpoints (a second event source mapping). */
export interface StreamConsumer {
  /** Lambda function name, also the checkpoint file's name (`stream-checkpoints-<name>.json`). */
  readonly functionName: string;
  readonly handler: StreamHandler;
}

/** The handlers the stack serves; every part is optional. */
export interface LocalFunctions {
  readonly routes?: readonly Route[];
  /** The sealer: tamper alarms and sealing. */
  readonly streamHandler?: StreamHandler;
  /** Other functions reading the ledger stream (the detection function). */
  readonly streamConsumers?: readonly StreamConsumer[];
  readonly heartbeat?: HeartbeatHandler;
  /** The read recorder, fed from the read journal's queue (G7). */
  readonly readRecorder?: QueueHandler;
}

/** What handlers need to reach the local resources, handed to the `functions` factory. */
export interface LocalStackContext {
  readonly ledger: string;
  readonly region: string;
  readonly accountId: string;
  readonly periodSeconds: number;
  readonly tableName: string;
  /** The stream ARN as DynamoDB Local names it. */
  readonly streamArn: string;
  readonly bucket: string;
  readonly kmsKeyId: string;
  /** The alias the functions sign through (`alias/auditseal-<ledger>`), pointing at `kmsKeyId` at start. */
  readonly kmsKeyAlias: string;
  readonly dataDir: string;
  /** The gateway's URL. */
  readonly endpoint: string;
  readonly dynamodbEndpoint: string;
  readonly s3Endpoint: string;
  readonly kmsEndpoint: string;
  /** The read journal's queue and its dead-letter queue (moto SQS). */
  readonly readQueueUrl: string;
  readonly readDeadLetterQueueUrl: string;
  /** The SNS topic (in moto) detection alerts are announced on. */
  readonly alertTopicArn: string;
  /**
   * The environment the deployed functions get (`AUDITSEAL_*`, see functions/config.ts), plus region and
   * dummy AWS credentials for SDK clients created in-process. `main.ts` copies it into `process.env`.
   */
  readonly lambdaEnvironment: Readonly<Record<string, string>>;
}

export interface StartLocalStackOptions {
  /** The API port; default `$PORT` handling is main.ts's job, here 4010. 0 picks a free port. */
  readonly port?: number;
  readonly periodSeconds?: number;
  /** Default `<projectDir>/.auditseal`. */
  readonly dataDir?: string;
  /** The repository root (`.venv/`, the jar cache); default the current directory. */
  readonly projectDir?: string;
  readonly region?: string;
  /** Use a moto server that is already running (and survives restarts) instead of starting one. */
  readonly motoEndpoint?: string;
  /** The handlers, or a factory that gets the context once the resources exist. */
  readonly functions?:
    | LocalFunctions
    | ((context: LocalStackContext) => LocalFunctions | Promise<LocalFunctions>);
  /** Overrides of the stream event source definition (batch size, retries…). */
  readonly streamEventSource?: Partial<StreamEventSourceDefinition>;
  /**
   * The sealing grace the handlers run with (`AUDITSEAL_GRACE_SECONDS`). When given, the heartbeat runs
   * right after each period's grace (local/sealing-schedule.ts) and the banner states the sealing delay.
   */
  readonly graceSeconds?: number;
  /** Seconds after each period boundary at which the heartbeat runs; default 0, or right after the grace. */
  readonly heartbeatOffsetSeconds?: number;
  /** Status lines; default console.log. */
  readonly log?: (line: string) => void;
  /** Keep DynamoDB Local's data in memory (benchmarks): nothing survives a restart. Default false. */
  readonly dynamodbInMemory?: boolean;
}

/** Why this start has a new ledger, or `resumed`. */
export type LedgerStart =
  | { readonly kind: 'resumed' }
  | { readonly kind: 'first' }
  | { readonly kind: 'new'; readonly previousLedger: string; readonly reason: string };

/** A running local stack. */
export interface LocalStack {
  /** What was written to `local.json`. */
  readonly info: LocalStackFile;
  readonly context: LocalStackContext;
  readonly ledgerStart: LedgerStart;
  readonly localFile: string;
  /** Process group leaders of the servers started (moto is absent when `motoEndpoint` was given). */
  readonly pids: { readonly dynamodb: number; readonly moto?: number };
  /** Stops everything this stack started. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts the whole local stack and resolves once the API answers.
 * @example const stack = await startLocalStack({ port: 0, dataDir, functions: { routes } });
 */
export async function startLocalStack(options: StartLocalStackOptions = {}): Promise<LocalStack> {
  const projectDir = resolve(options.projectDir ?? process.cwd());
  const dataDir = resolve(options.dataDir ?? join(projectDir, '.auditseal'));
  const region = options.region ?? 'us-east-1';
  const periodSeconds = options.periodSeconds ?? DEFAULT_PERIOD_SECONDS;
  const log = options.log ?? ((line: string) => console.log(line));
  const localFile = join(dataDir, 'local.json');
  await makePrivateFolder(dataDir, log);

  const cleanups: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch((error: unknown) =>
        log(`stop: ${error instanceof Error ? error.message : String(error)}`),
      );
    }
  };

  const lock: StackLock = await acquireStackLock(join(dataDir, 'stack.lock'), log);
  cleanups.push(() => lock.release());
  try {
    const previous = await readLocalStackFile(localFile);
    const unreadable = previous === undefined && existsSync(localFile);
    if (unreadable) await rename(localFile, join(dataDir, `local.unreadable-${Date.now()}.json`));
    const [dynamodbServer, motoServer] = await Promise.all([
      startDynamoDb(projectDir, dataDir, region, log, options.dynamodbInMemory === true),
      options.motoEndpoint === undefined ? startOwnMoto(projectDir, region, log) : undefined,
    ]);
    cleanups.push(() => dynamodbServer.stop());
    if (motoServer !== undefined) cleanups.push(() => motoServer.stop());
    await lock.recordChildren([dynamodbServer.pid, ...(motoServer === undefined ? [] : [motoServer.pid])]);
    const motoEndpoint = motoServer?.endpoint ?? options.motoEndpoint!;

    const clientConfig = { region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
    const dynamodb = new DynamoDBClient({ ...clientConfig, endpoint: dynamodbServer.endpoint });
    const streams = new DynamoDBStreamsClient({ ...clientConfig, endpoint: dynamodbServer.endpoint });
    const s3 = new S3Client({ ...clientConfig, endpoint: motoEndpoint, forcePathStyle: true });
    const kms = new KMSClient({ ...clientConfig, endpoint: motoEndpoint });
    const sqs = new SQSClient({ ...clientConfig, endpoint: motoEndpoint });
    const sns = new SNSClient({ ...clientConfig, endpoint: motoEndpoint });
    cleanups.push(async () => {
      for (const client of [dynamodb, streams, s3, kms, sqs, sns]) client.destroy();
    });

    const definitions = resourceDefinitions('local');
    const table = await ensureLedgerTable(dynamodb, definitions.table);
    const ledgerStart = await decideLedger(previous, unreadable, {
      tableCreated: table.created,
      periodSeconds,
      tableName: definitions.table.tableName,
      keyExists: async (keyId) => (await describeSigningKey(kms, keyId)) !== undefined,
      bucketExists: async (bucket) => bucketExists(s3, bucket),
    });
    const resumed = ledgerStart.kind === 'resumed' ? previous : undefined;
    const bucket = await ensureDigestBucket(s3, definitions.bucket, region);
    const reads = await ensureReadQueue(sqs, definitions.readQueue);
    const cursorKey = await ensureCursorKey(join(dataDir, 'cursor.key'));
    const key = await ensureSigningKey(kms, definitions.signingKey, resumed?.kmsKeyId, {
      project: 'auditseal',
    });
    // CreateTopic is idempotent: the same name gives the same ARN (moto forgets topics on restart).
    const { TopicArn: alertTopicArn } = await sns.send(new CreateTopicCommand({ Name: LOCAL_ALERT_TOPIC }));
    const signer = new KmsSigner({ client: kms, keyId: key.kmsKeyId });
    const [signingKeyId, publicKeyPem] = await Promise.all([signer.keyId(), signer.publicKeyPem()]);
    await writePrivateFile(join(dataDir, 'keys', `${signingKeyId}.pem`), publicKeyPem);
    // A stable name for the key of the ledger that runs now, so that commands can be written down once.
    await writePrivateFile(join(dataDir, 'keys', CURRENT_KEY_FILE), publicKeyPem);
    if (previous !== undefined && ledgerStart.kind === 'new') {
      // Keep what is needed to verify the old ledger's receipts and downloads offline.
      await writePrivateFile(
        join(dataDir, 'ledgers', `${previous.ledger}.json`),
        `${JSON.stringify({ ...previous, pid: undefined }, null, 2)}\n`,
      );
    }

    const port = options.port === 0 ? await freePort() : (options.port ?? DEFAULT_GATEWAY_PORT);
    const endpoint = `http://127.0.0.1:${port}`;
    const now = new Date().toISOString();
    const info: LocalStackFile = {
      endpoint,
      region,
      accountId: LOCAL_ACCOUNT_ID,
      ledger: resumed?.ledger ?? newLedgerId(),
      ledgerCreatedAt: resumed?.ledgerCreatedAt ?? now,
      tableName: definitions.table.tableName,
      bucket: bucket.bucket,
      kmsKeyId: key.kmsKeyId,
      kmsKeyArn: key.arn,
      signingKeyId,
      publicKeyPem,
      periodSeconds,
      // Credentials belong to the local install, not to a ledger: they survive a new ledger.
      roles: previous?.roles ?? generateRoles(),
      dynamodbEndpoint: dynamodbServer.endpoint,
      s3Endpoint: motoEndpoint,
      kmsEndpoint: motoEndpoint,
      pid: process.pid,
      startedAt: now,
    };
    const kmsKeyAlias = localKeyAlias(info.ledger);
    await ensureKeyAlias(kms, kmsKeyAlias, info.kmsKeyId);
    const context: LocalStackContext = {
      ledger: info.ledger,
      region,
      accountId: LOCAL_ACCOUNT_ID,
      periodSeconds,
      tableName: info.tableName,
      streamArn: table.streamArn,
      bucket: info.bucket,
      kmsKeyId: info.kmsKeyId,
      kmsKeyAlias,
      dataDir,
      endpoint,
      dynamodbEndpoint: info.dynamodbEndpoint,
      s3Endpoint: info.s3Endpoint,
      kmsEndpoint: info.kmsEndpoint,
      readQueueUrl: reads.queueUrl,
      readDeadLetterQueueUrl: reads.deadLetterQueueUrl,
      alertTopicArn: alertTopicArn!,
      lambdaEnvironment: {
        AUDITSEAL_TABLE: info.tableName,
        AUDITSEAL_LEDGER: info.ledger,
        // Through the alias, as `auditseal local rotate-key` re-points it (docs/LOCAL-STACK.md).
        AUDITSEAL_KMS_KEY_ID: kmsKeyAlias,
        AUDITSEAL_BUCKET: info.bucket,
        AUDITSEAL_PERIOD_SECONDS: String(periodSeconds),
        AUDITSEAL_DYNAMODB_ENDPOINT: info.dynamodbEndpoint,
        AUDITSEAL_S3_ENDPOINT: info.s3Endpoint,
        AUDITSEAL_KMS_ENDPOINT: info.kmsEndpoint,
        AUDITSEAL_SQS_ENDPOINT: motoEndpoint,
        AUDITSEAL_READ_QUEUE_URL: reads.queueUrl,
        AUDITSEAL_CURSOR_KEY: cursorKey,
        AUDITSEAL_ALERT_TOPIC: alertTopicArn!,
        AUDITSEAL_SNS_ENDPOINT: motoEndpoint,
        AUDITSEAL_EVENT_BUS: 'default',
        AUDITSEAL_EVENTS_ENDPOINT: motoEndpoint,
        AWS_REGION: region,
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
      },
    };
    const functions =
      typeof options.functions === 'function' ? await options.functions(context) : (options.functions ?? {});

    const gateway: LocalGateway = await startGateway({
      routes: functions.routes ?? [],
      credentials: info.roles as Record<Role, RoleCredentials>,
      region,
      port,
      accountId: LOCAL_ACCOUNT_ID,
      log: (line) => log(`api: ${line}`),
    }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EADDRINUSE') throw error;
      throw new Error(`port ${port} is already in use: stop what uses it, or set PORT to another port`, {
        cause: error,
      });
    });
    cleanups.push(() => gateway.close());

    const source = { ...definitions.streamEventSource, ...options.streamEventSource };
    const consumers: StreamConsumer[] = [
      ...(functions.streamHandler === undefined
        ? []
        : [{ functionName: 'auditseal-seal-periods', handler: functions.streamHandler }]),
      ...(functions.streamConsumers ?? []),
    ];
    const pollers: string[] = [];
    for (const [n, consumer] of consumers.entries()) {
      // The sealer keeps the historical checkpoint file name, so a restart resumes where it stopped.
      const checkpointFile = join(
        dataDir,
        n === 0 && functions.streamHandler !== undefined
          ? 'stream-checkpoints.json'
          : `stream-checkpoints-${consumer.functionName}.json`,
      );
      const poller: StreamPoller = await startStreamPoller({
        client: streams,
        streamArn: table.streamArn,
        handler: consumer.handler,
        checkpointFile,
        region,
        accountId: LOCAL_ACCOUNT_ID,
        functionName: consumer.functionName,
        batchSize: source.batchSize,
        startingPosition: source.startingPosition,
        bisectBatchOnFunctionError: source.bisectBatchOnFunctionError,
        reportBatchItemFailures: source.reportBatchItemFailures,
        maximumRetryAttempts: source.maximumRetryAttempts,
        onFailure: (failure) => keepFailedBatch(dataDir, consumer.functionName, failure, log),
        log,
      });
      cleanups.push(() => poller.stop());
      poller.failed.catch((error: unknown) =>
        log(`stream: the poller of ${consumer.functionName} stopped: ${String(error)}`),
      );
      pollers.push(consumer.functionName);
    }

    let recorder: QueuePoller | undefined;
    if (functions.readRecorder !== undefined) {
      const source = definitions.readQueue;
      recorder = startQueuePoller({
        client: sqs,
        queueUrl: reads.queueUrl,
        queueArn: reads.queueArn,
        handler: functions.readRecorder,
        batchSize: source.batchSize,
        batchingWindowMs: source.maximumBatchingWindowSeconds * 1000,
        region,
        accountId: LOCAL_ACCOUNT_ID,
        functionName: 'auditseal-record-reads',
        log,
      });
      const running = recorder;
      cleanups.push(() => running.stop());
    }

    let scheduler: Scheduler | undefined;
    const heartbeat = functions.heartbeat;
    if (heartbeat !== undefined) {
      scheduler = startScheduler({
        intervalSeconds: periodSeconds,
        offsetSeconds:
          options.heartbeatOffsetSeconds ??
          (options.graceSeconds === undefined
            ? 0
            : localHeartbeatOffsetSeconds(periodSeconds, options.graceSeconds)),
        run: async (tick) => {
          const event = scheduledEvent(tick, {
            region,
            accountId: LOCAL_ACCOUNT_ID,
            ruleName: 'auditseal-heartbeat',
          });
          await heartbeat(
            event,
            lambdaContext({
              functionName: 'auditseal-heartbeat',
              region,
              accountId: LOCAL_ACCOUNT_ID,
              timeoutMs: 60_000,
            }),
          );
        },
        log,
      });
      const running = scheduler;
      cleanups.push(() => running.stop());
    }

    await writeLocalStackFile(localFile, info);
    printSummary(log, info, ledgerStart, {
      dataDir,
      routes: functions.routes?.length ?? 0,
      pollers,
      heartbeat: scheduler !== undefined,
      ...(options.graceSeconds === undefined ? {} : { graceSeconds: options.graceSeconds }),
      ownMoto: motoServer !== undefined,
    });

    let stopping: Promise<void> | undefined;
    return {
      info,
      context,
      ledgerStart,
      localFile,
      pids: { dynamodb: dynamodbServer.pid, ...(motoServer === undefined ? {} : { moto: motoServer.pid }) },
      stop: () => {
        stopping ??= stopAll();
        return stopping;
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * The data folder holds the role secrets (`local.json`) and the ledger: owner only (0700). A folder made
 * by an older version, or by hand, with wider permissions is narrowed, and the change is logged.
 */
async function makePrivateFolder(path: string, log: (line: string) => void): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
  const mode = (await stat(path)).mode & 0o777;
  if (mode !== 0o700) {
    await chmod(path, 0o700);
    log(`data folder ${path} had mode ${mode.toString(8).padStart(4, '0')}: now 0700 (owner only)`);
  }
}

async function startDynamoDb(
  projectDir: string,
  dataDir: string,
  region: string,
  log: (line: string) => void,
  inMemory: boolean,
): Promise<DynamoDbLocal> {
  const jar = await ensureDynamoDbLocalJar({ projectDir, log });
  const storage = inMemory ? { inMemory: true as const } : { dbPath: join(dataDir, 'dynamodb') };
  return startDynamoDbLocal({ jar, storage, region, log });
}

async function startOwnMoto(
  projectDir: string,
  region: string,
  log: (line: string) => void,
): Promise<MotoServer> {
  const command = await resolveMotoServer({ projectDir, log });
  return startMoto({ command, region });
}

interface LedgerChecks {
  readonly tableCreated: boolean;
  readonly periodSeconds: number;
  readonly tableName: string;
  readonly keyExists: (kmsKeyId: string) => Promise<boolean>;
  readonly bucketExists: (bucket: string) => Promise<boolean>;
}

/** Resume only if every part of the previous ledger survived; otherwise say exactly what was lost. */
async function decideLedger(
  previous: LocalStackFile | undefined,
  unreadable: boolean,
  checks: LedgerChecks,
): Promise<LedgerStart> {
  if (unreadable) {
    return {
      kind: 'new',
      previousLedger: 'unknown',
      reason: 'local.json could not be read (it was set aside)',
    };
  }
  if (previous === undefined) return { kind: 'first' };
  const lost = (reason: string): LedgerStart => ({ kind: 'new', previousLedger: previous.ledger, reason });
  if (checks.tableCreated || previous.tableName !== checks.tableName) {
    return lost(`the ledger table ${previous.tableName} is gone (was the DynamoDB data folder deleted?)`);
  }
  if (previous.periodSeconds !== checks.periodSeconds) {
    return lost(`the period changed from ${previous.periodSeconds} s to ${checks.periodSeconds} s`);
  }
  if (!(await checks.keyExists(previous.kmsKeyId))) {
    return lost(
      `its KMS signing key ${previous.kmsKeyId} is gone: moto keeps KMS keys and S3 objects in memory only, so ` +
        'they ended with the previous moto process (run moto separately and set AUDITSEAL_MOTO_ENDPOINT to keep them)',
    );
  }
  if (!(await checks.bucketExists(previous.bucket))) {
    return lost(`its digest bucket ${previous.bucket} is gone with the previous moto process`);
  }
  return { kind: 'resumed' };
}

async function bucketExists(s3: S3Client, bucket: string): Promise<boolean> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return true;
  } catch {
    return false;
  }
}

/**
 * The search cursor HMAC key of this install (base64, 32 random bytes), kept in the data folder (mode
 * 0600) so cursors stay valid across restarts; the deployed stack derives its key from a KMS HMAC key.
 */
async function ensureCursorKey(path: string): Promise<string> {
  try {
    const existing = (await readFile(path, 'utf8')).trim();
    if (Buffer.from(existing, 'base64').length >= 32) return existing;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key = randomBytes(32).toString('base64');
  await writePrivateFile(path, `${key}\n`);
  return key;
}

/** `local-` and 8 random hex digits: a valid ledger id (FORMAT.md). */
function newLedgerId(): string {
  return `local-${randomBytes(4).toString('hex')}`;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const SECRET_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Random AWS-shaped credentials for each role: `AKIA` + 16 base32 characters, 40-character secrets. */
export function generateRoles(): Record<Role, RoleCredentials> {
  const pick = (alphabet: string, length: number) =>
    [...randomBytes(length)].map((byte) => alphabet[byte % alphabet.length]).join('');
  const roles = {} as Record<Role, RoleCredentials>;
  for (const role of ROLES) {
    roles[role] = { accessKeyId: `AKIA${pick(BASE32, 16)}`, secretAccessKey: pick(SECRET_ALPHABET, 40) };
  }
  return roles;
}

/** The local on-failure destination: log the batch's position and keep its records in a file. */
async function keepFailedBatch(
  dataDir: string,
  functionName: string,
  failure: StreamBatchFailure,
  log: (line: string) => void,
): Promise<void> {
  const file = join(
    dataDir,
    'stream-failures',
    `${functionName}-${failure.shardId}-${failure.firstSequenceNumber}.json`,
  );
  await mkdir(join(dataDir, 'stream-failures'), { recursive: true });
  await writeFile(file, `${JSON.stringify(failure, null, 2)}\n`);
  log(
    `stream: ${failure.records.length} record(s) of ${failure.shardId} failed ${failure.attempts} time(s) (${failure.reason}); ` +
      `kept in ${file}`,
  );
}

function printSummary(
  log: (line: string) => void,
  info: LocalStackFile,
  ledgerStart: LedgerStart,
  parts: {
    dataDir: string;
    routes: number;
    pollers: readonly string[];
    heartbeat: boolean;
    graceSeconds?: number;
    ownMoto: boolean;
  },
): void {
  const lines: string[] = [];
  if (ledgerStart.kind === 'new') {
    const banner = '!'.repeat(78);
    lines.push(
      banner,
      `!! NEW LEDGER ${info.ledger}: the previous ledger ${ledgerStart.previousLedger} cannot be resumed:`,
      `!! ${ledgerStart.reason}.`,
      `!! Its chain ends where it stopped; its details are kept in ${join(parts.dataDir, 'ledgers', `${ledgerStart.previousLedger}.json`)}.`,
      banner,
    );
  }
  const started =
    ledgerStart.kind === 'resumed' ? 'resumed' : ledgerStart.kind === 'first' ? 'new' : 'NEW (see above)';
  lines.push(
    'auditseal local stack',
    `  API        ${info.endpoint}  (SigV4: service execute-api, region ${info.region}; ${parts.routes} route(s))`,
    `  ledger     ${info.ledger}  ${started}; period ${info.periodSeconds} s`,
    `  DynamoDB   ${info.dynamodbEndpoint}  DynamoDB Local, table ${info.tableName}, data in ${join(parts.dataDir, 'dynamodb')}`,
    `  moto       ${info.s3Endpoint}  ${parts.ownMoto ? 'started here' : 'external'}: bucket ${info.bucket} (Object Lock COMPLIANCE), KMS key ${info.kmsKeyId}`,
    `  signing    key ${info.signingKeyId}  (${join(parts.dataDir, 'keys', `${info.signingKeyId}.pem`)}, also ${join(parts.dataDir, 'keys', CURRENT_KEY_FILE)})`,
    `  stream     ${parts.pollers.length > 0 ? `pollers delivering the ledger stream to ${parts.pollers.join(', ')}` : 'no stream handler registered'}`,
    `  heartbeat  ${parts.heartbeat ? `every ${info.periodSeconds} s` : 'no heartbeat registered'}`,
    ...(parts.graceSeconds === undefined || !parts.heartbeat
      ? []
      : [
          `  sealing    each period about ${localSealingDelaySeconds(parts.graceSeconds)} s after it ends (grace ${parts.graceSeconds} s + ${HEARTBEAT_MARGIN_SECONDS} s): an event is in a digest at most ${info.periodSeconds + localSealingDelaySeconds(parts.graceSeconds)} s after it is posted`,
        ]),
    `  clients    endpoint, region and role credentials in ${join(parts.dataDir, 'local.json')}`,
    '',
    tryItText(info, parts.dataDir, parts.graceSeconds),
    '',
    'Ctrl-C stops everything this started.',
  );
  for (const line of lines) log(line);
}

/**
 * Crash tests of the sealing (G6) with the real adapters, in process, against DynamoDB Local and moto.
 * Events are written by the real ingest core through the DynamoDB ledger store and signed by the moto KMS
 * key. Sealing is then killed at each step of its write order (shared/ledger/seal-period.ts: archive
 * chunks, digest, statement, signature, registry) and run again; and the stream function is killed after
 * sealing but before it returns, so the local poller redelivers its batch. After every crash the bucket
 * holds each acknowledged event exactly once, in objects byte-identical to the ones written before the
 * crash and to a crash-free seal, with one signature per period, and it verifies offline.
 */

import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient, PutItemCommand, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { KMSClient } from '@aws-sdk/client-kms';
import { GetObjectCommand, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbAlarmStore } from '../../adapters/dynamodb/alarm-store.ts';
import { DynamoDbLedgerStore } from '../../adapters/dynamodb/ledger-store.ts';
import { DynamoDbSealRegistry } from '../../adapters/dynamodb/seal-registry.ts';
import { KmsSigner } from '../../adapters/kms/kms-signer.ts';
import { S3ObjectStore } from '../../adapters/s3/s3-object-store.ts';
import { randomBatchId } from '../../functions/ingest-runtime.ts';
import { createSealPeriodsHandler } from '../../functions/seal-periods.ts';
import { serviceKeys } from '../../functions/sealing-runtime.ts';
import { ledgerTable, resourceDefinitions } from '../../infra/resources/definitions.ts';
import { bootstrapResources, ensureLedgerTable } from '../../local/bootstrap.ts';
import type { StreamBatchFailure } from '../../local/stream-poller.ts';
import { startStreamPoller } from '../../local/stream-poller.ts';
import { loadPublicKey, TrustedKeySet } from '../../shared/crypto/keys.ts';
import { GenesisGuard } from '../../shared/ingest/genesis-guard.ts';
import { type IngestDeps, ingestBatch } from '../../shared/ingest/ingest-batch.ts';
import type { Receipt } from '../../shared/ledger/formats.ts';
import { archiveObjectKey, digestObjectKey } from '../../shared/ledger/object-keys.ts';
import { nextPeriod, type Period, periodEndMs } from '../../shared/ledger/period.ts';
import type { ChainHead } from '../../shared/ledger/seal-period.ts';
import type { ObjectStore, PutOutcome } from '../../shared/ports/object-store.ts';
import type { SealRegistry } from '../../shared/ports/sealing.ts';
import {
  type SealingConfig,
  type SealingDeps,
  sealDuePeriods,
} from '../../shared/sealing/seal-due-periods.ts';
import { InMemoryAlarmSink } from '../../shared/storage/in-memory-alarm-sink.ts';
import { InMemoryObjectStore } from '../../shared/storage/in-memory-object-store.ts';
import { InMemorySealRegistry } from '../../shared/storage/in-memory-seal-registry.ts';
import { FolderReader } from '../../shared/verify/object-reader.ts';
import { type VerifyReport, verifyFolder } from '../../shared/verify/verify-folder.ts';
import type { DynamoDbLocal } from '../support/dynamodb-local.ts';
import { startTestDynamoDb, until } from '../support/dynamodb-local.ts';
import type { MotoServer } from '../support/moto.ts';
import { startMoto } from '../support/moto.ts';

const REGION = 'us-east-1';
const PERIOD_SECONDS = 60;
const GRACE_SECONDS = 15;
/** Four events per archive chunk, so that a period of eleven events has three chunks. */
const CHUNK_LEAVES = 4;
const SHARDS = 4;
const WRITER = 'arn:aws:iam::000000000000:user/auditseal-writer';
/** Every test ledger starts here; P1 is the period whose sealing is killed. */
const P0: Period = { startMs: Date.UTC(2026, 0, 15, 10, 0, 0), seconds: PERIOD_SECONDS };
const P1 = nextPeriod(P0);
/** When sealing runs: both periods are due, the next one is not. */
const SEAL_TIME = new Date(periodEndMs(P1) + GRACE_SECONDS * 1000 + 1000);

let ddb: DynamoDbLocal | undefined;
let moto: MotoServer | undefined;
let dynamodb: DynamoDBClient;
let streams: DynamoDBStreamsClient;
let s3: S3Client;
let kms: KMSClient;
let tableName: string;
let bucket: string;
let signer: KmsSigner;
let trustedKeys: TrustedKeySet;
const scratch = mkdtempSync(join(tmpdir(), 'auditseal-crash-'));
const quietLogger = new Logger({ serviceName: 'auditseal-crash-test', logLevel: 'SILENT' });

beforeAll(async () => {
  [ddb, moto] = await Promise.all([startTestDynamoDb(), startMoto({ region: REGION })]);
  dynamodb = new DynamoDBClient({ ...ddb.clientConfig, region: REGION });
  streams = new DynamoDBStreamsClient({ ...ddb.clientConfig, region: REGION });
  s3 = new S3Client(moto.clientConfig);
  kms = new KMSClient(moto.clientConfig);
  const resources = await bootstrapResources(
    { dynamodb, s3, kms },
    { definitions: resourceDefinitions('local'), region: REGION },
  );
  tableName = resources.tableName;
  bucket = resources.bucket;
  signer = new KmsSigner({ client: kms, keyId: resources.kmsKeyId });
  trustedKeys = new TrustedKeySet([loadPublicKey(await signer.publicKeyPem())]);
});

afterAll(async () => {
  for (const client of [dynamodb, streams, s3, kms]) client?.destroy();
  await Promise.all([ddb?.stop(), moto?.stop()]);
  rmSync(scratch, { recursive: true, force: true });
});

/** Thrown by the crash decorators: stands for the process dying at that point. */
class SimulatedCrash extends Error {
  override readonly name = 'SimulatedCrash';
}

/** The real S3 store, dying once before or after the put of the first key that matches. */
class CrashingObjectStore implements ObjectStore {
  #armed = true;

  constructor(
    private readonly inner: ObjectStore,
    private readonly crash: { readonly when: 'before' | 'after'; readonly key: string },
  ) {}

  async putIfAbsent(key: string, body: Uint8Array, contentType: string): Promise<PutOutcome> {
    const hit = this.#armed && key === this.crash.key;
    if (hit && this.crash.when === 'before') {
      this.#armed = false;
      throw new SimulatedCrash(`died before writing ${key}`);
    }
    const outcome = await this.inner.putIfAbsent(key, body, contentType);
    if (hit) {
      this.#armed = false;
      throw new SimulatedCrash(`died after writing ${key}`);
    }
    return outcome;
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.inner.get(key);
  }
}

/** The real registry, dying once before it records `period`. */
class CrashingSealRegistry implements SealRegistry {
  #armed = true;

  constructor(
    private readonly inner: SealRegistry,
    private readonly period: Period,
  ) {}

  ensureGenesis(ledger: string, candidate: Period): Promise<Period> {
    return this.inner.ensureGenesis(ledger, candidate);
  }

  lastSeal(ledger: string): Promise<ChainHead | undefined> {
    return this.inner.lastSeal(ledger);
  }

  sealsNewestFirst(ledger: string): AsyncIterable<ChainHead> {
    return this.inner.sealsNewestFirst(ledger);
  }

  async recordSeal(head: ChainHead): Promise<void> {
    if (this.#armed && head.period.startMs === this.period.startMs) {
      this.#armed = false;
      throw new SimulatedCrash(`died before recording ${head.digestKey}`);
    }
    return this.inner.recordSeal(head);
  }
}

/** What the ingest core acknowledged for one ledger. */
interface Acknowledged {
  readonly ids: readonly string[];
  readonly receipts: readonly Receipt[];
}

function appEvent(ledger: string, n: number, eventTimeMs: number): Record<string, unknown> {
  return {
    id: `${ledger}-evt-${n}`,
    eventTime: new Date(eventTimeMs).toISOString(),
    actor: { id: 'alice@example.com', type: 'user' },
    action: 'ssh.login',
    resource: { id: `i-${String(n).padStart(17, '0')}`, type: 'AWS::EC2::Instance' },
    outcome: { result: 'success' },
  };
}

/**
 * Writes 3 events in P0 and 11 in P1 (three batches and one idempotent retry) through the ingest core,
 * into `table`, and returns the acknowledged ids and receipts.
 */
async function ingestEvents(ledger: string, table = tableName): Promise<Acknowledged> {
  let nowMs = 0;
  const deps: IngestDeps = {
    store: new DynamoDbLedgerStore({ client: dynamodb, tableName: table, shardCount: SHARDS }),
    signer,
    clock: () => new Date(nowMs),
    periodSeconds: PERIOD_SECONDS,
    graceSeconds: GRACE_SECONDS,
    batchIdFactory: randomBatchId,
    genesis: new GenesisGuard(new DynamoDbSealRegistry({ client: dynamodb, tableName: table })),
  };
  const batches = [
    { atMs: P0.startMs + 10_000, numbers: [0, 1, 2] },
    { atMs: P1.startMs + 5_000, numbers: [3, 4, 5, 6, 7, 8] },
    { atMs: P1.startMs + 20_000, numbers: [9, 10, 11, 12, 13] },
  ];
  const receipts = new Map<string, Receipt>();
  for (const batch of batches) {
    nowMs = batch.atMs;
    const result = await ingestBatch(
      {
        ledger,
        items: batch.numbers.map((n) => appEvent(ledger, n, batch.atMs - 1000)),
        channel: 'api',
        principal: WRITER,
        requestId: randomUUID(),
      },
      deps,
    );
    expect(result.status).toBe(201);
    for (const receipt of result.receipts) receipts.set(receipt.eventId, receipt);
  }
  // A client retry of the second batch, later in P1: duplicates, answered with the original receipts.
  nowMs = P1.startMs + 30_000;
  const retry = await ingestBatch(
    {
      ledger,
      items: batches[1]!.numbers.map((n) => appEvent(ledger, n, batches[1]!.atMs - 1000)),
      channel: 'api',
      principal: WRITER,
      requestId: randomUUID(),
    },
    deps,
  );
  expect(retry.status).toBe(200);
  expect(retry.receipts).toEqual(batches[1]!.numbers.map((n) => receipts.get(`${ledger}-evt-${n}`)));
  return { ids: [...receipts.keys()], receipts: [...receipts.values()] };
}

function sealingConfig(ledger: string): SealingConfig {
  return {
    ledger,
    periodSeconds: PERIOD_SECONDS,
    graceSeconds: GRACE_SECONDS,
    chunkLeaves: CHUNK_LEAVES,
  };
}

/** The stream function's sealing dependencies, with the real adapters (`table` holds the events). */
function realSealingDeps(table = tableName): SealingDeps {
  return {
    objects: new S3ObjectStore({ client: s3, bucket }),
    signer,
    events: new DynamoDbLedgerStore({ client: dynamodb, tableName: table, shardCount: SHARDS }),
    registry: new DynamoDbSealRegistry({ client: dynamodb, tableName: table }),
    clock: () => SEAL_TIME,
    trustedKeys: serviceKeys(signer),
    alarms: new InMemoryAlarmSink(),
  };
}

/** A crash-free seal of the same events into memory: the bytes every re-run must reproduce. */
async function referenceObjects(ledger: string, table = tableName): Promise<Map<string, Buffer>> {
  const objects = new InMemoryObjectStore();
  const registry = new InMemorySealRegistry();
  await registry.ensureGenesis(ledger, P0);
  await sealDuePeriods(sealingConfig(ledger), { ...realSealingDeps(table), objects, registry });
  return new Map([...objects.objects].map(([key, bytes]) => [key, Buffer.from(bytes)]));
}

/** Every version of every object of a ledger in the bucket, with its bytes. */
async function bucketVersions(ledger: string): Promise<Map<string, Buffer[]>> {
  const versions = new Map<string, Buffer[]>();
  for (const prefix of [`digests/${ledger}/`, `archives/${ledger}/`]) {
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectVersionsCommand({
          Bucket: bucket,
          Prefix: prefix,
          ...(keyMarker === undefined ? {} : { KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }),
        }),
      );
      expect(page.DeleteMarkers ?? []).toEqual([]);
      for (const version of page.Versions ?? []) {
        const object = await s3.send(
          new GetObjectCommand({ Bucket: bucket, Key: version.Key!, VersionId: version.VersionId! }),
        );
        const bytes = Buffer.from(await object.Body!.transformToByteArray());
        versions.set(version.Key!, [...(versions.get(version.Key!) ?? []), bytes]);
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      versionIdMarker = page.NextVersionIdMarker;
    } while (keyMarker !== undefined);
  }
  return versions;
}

/** The latest bytes of each object of a ledger. */
async function bucketObjects(ledger: string): Promise<Map<string, Buffer>> {
  const latest = new Map<string, Buffer>();
  for (const [key, versions] of await bucketVersions(ledger)) latest.set(key, versions[0]!);
  return latest;
}

/** Copies objects and receipts into a new verifiable folder and verifies it offline. */
async function verifyCopy(
  objects: ReadonlyMap<string, Buffer>,
  receipts: readonly Receipt[],
): Promise<VerifyReport> {
  const dir = mkdtempSync(join(scratch, 'folder-'));
  for (const [key, bytes] of objects) {
    mkdirSync(dirname(join(dir, key)), { recursive: true });
    writeFileSync(join(dir, key), bytes);
  }
  mkdirSync(join(dir, 'receipts'));
  writeFileSync(join(dir, 'receipts', 'receipts.json'), JSON.stringify(receipts));
  return verifyFolder(new FolderReader(dir), { keys: trustedKeys });
}

/** The ids of the events in the archive chunks, in period order. */
function sealedEventIds(objects: ReadonlyMap<string, Buffer>): string[] {
  return [...objects.keys()]
    .filter((key) => /\/\d{6}\.jsonl$/.test(key))
    .sort()
    .flatMap((key) =>
      objects
        .get(key)!
        .toString('utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => (JSON.parse(line) as { id: string }).id),
    );
}

/** The nine objects of P1, in the order sealing writes them (three chunks, then the digest parts). */
function p1WriteOrder(ledger: string): string[] {
  return [
    ...[0, 1, 2].flatMap((chunk) => [
      archiveObjectKey(ledger, P1, chunk, 'events'),
      archiveObjectKey(ledger, P1, chunk, 'index'),
    ]),
    digestObjectKey(ledger, P1, 'digest'),
    digestObjectKey(ledger, P1, 'statement'),
    digestObjectKey(ledger, P1, 'signature'),
  ];
}

/** Asserts what every recovery must end with: complete, identical to a clean seal, and verifiable. */
async function assessRecovered(
  ledger: string,
  acknowledged: Acknowledged,
  beforeRerun: ReadonlyMap<string, Buffer>,
  table = tableName,
): Promise<void> {
  const versions = await bucketVersions(ledger);
  const after = await bucketObjects(ledger);
  const reference = await referenceObjects(ledger, table);

  // Nothing written before the crash changed.
  for (const [key, bytes] of beforeRerun) expect(after.get(key)?.equals(bytes), key).toBe(true);
  // The same objects as a crash-free seal, byte for byte, apart from the (randomized) ECDSA signatures.
  expect([...after.keys()].sort()).toEqual([...reference.keys()].sort());
  for (const [key, bytes] of reference) {
    if (!key.endsWith('.sig')) expect(after.get(key)?.equals(bytes), key).toBe(true);
  }
  // Each object was written once: one version per key, so one signature per period.
  for (const [key, list] of versions) expect(list, key).toHaveLength(1);
  expect([...after.keys()].filter((key) => key.endsWith('.sig'))).toEqual([
    digestObjectKey(ledger, P0, 'signature'),
    digestObjectKey(ledger, P1, 'signature'),
  ]);
  // Every acknowledged event exactly once.
  const sealed = sealedEventIds(after);
  expect(sealed).toHaveLength(acknowledged.ids.length);
  expect([...sealed].sort()).toEqual([...acknowledged.ids].sort());
  // And the folder verifies offline, receipts included.
  const report = await verifyCopy(after, acknowledged.receipts);
  expect(report.findings).toEqual([]);
  expect(report.valid).toBe(true);
  expect(report.ledgers).toEqual([
    expect.objectContaining({ ledger, digests: 2, events: acknowledged.ids.length }),
  ]);
  expect(report.stats.receipts).toBe(acknowledged.ids.length);
  const head = await new DynamoDbSealRegistry({ client: dynamodb, tableName: table }).lastSeal(ledger);
  expect(head).toMatchObject({ period: P1, sequence: 1 });
}

interface CrashPoint {
  readonly name: string;
  /** How P1's sealing dies. */
  readonly crash: (ledger: string) => { objects?: CrashingObjectStore; registry?: CrashingSealRegistry };
  /** How many of P1's nine objects exist after the crash. */
  readonly written: number;
}

const s3Store = () => new S3ObjectStore({ client: s3, bucket });
const dbRegistry = () => new DynamoDbSealRegistry({ client: dynamodb, tableName });

const CRASH_POINTS: readonly CrashPoint[] = [
  {
    name: 'after the first archive chunk is written, before its index',
    crash: (ledger) => ({
      objects: new CrashingObjectStore(s3Store(), {
        when: 'after',
        key: archiveObjectKey(ledger, P1, 0, 'events'),
      }),
    }),
    written: 1,
  },
  {
    name: 'right after the archive objects are written',
    crash: (ledger) => ({
      objects: new CrashingObjectStore(s3Store(), {
        when: 'after',
        key: archiveObjectKey(ledger, P1, 2, 'index'),
      }),
    }),
    written: 6,
  },
  {
    name: 'right before the digest write',
    crash: (ledger) => ({
      objects: new CrashingObjectStore(s3Store(), {
        when: 'before',
        key: digestObjectKey(ledger, P1, 'digest'),
      }),
    }),
    written: 6,
  },
  {
    name: 'after the statement write, before the signature',
    crash: (ledger) => ({
      objects: new CrashingObjectStore(s3Store(), {
        when: 'after',
        key: digestObjectKey(ledger, P1, 'statement'),
      }),
    }),
    written: 8,
  },
  {
    name: 'after the signature write, before the registry write',
    crash: () => ({ registry: new CrashingSealRegistry(dbRegistry(), P1) }),
    written: 9,
  },
];

describe('Function: sealDuePeriods with the S3, KMS and DynamoDB adapters', () => {
  describe.each(CRASH_POINTS.map((point, index) => ({ ...point, ledger: `crash-${index}` })))(
    'when the sealing dies $name',
    ({ ledger, crash, written }) => {
      it('completes on the next run with every acknowledged event exactly once and byte-identical objects', async () => {
        // Prepare
        const acknowledged = await ingestEvents(ledger);
        const dying = crash(ledger);
        const crashed = await sealDuePeriods(sealingConfig(ledger), {
          ...realSealingDeps(),
          ...(dying.objects ? { objects: dying.objects } : {}),
          ...(dying.registry ? { registry: dying.registry } : {}),
        }).catch((error: unknown) => error);
        const afterCrash = await bucketObjects(ledger);

        // Act
        const rerun = await sealDuePeriods(sealingConfig(ledger), realSealingDeps());

        // Assess
        expect(crashed).toBeInstanceOf(SimulatedCrash);
        const p1Keys = p1WriteOrder(ledger);
        expect(p1Keys.filter((key) => afterCrash.has(key))).toEqual(p1Keys.slice(0, written));
        expect(afterCrash.has(digestObjectKey(ledger, P0, 'signature'))).toBe(true);
        expect(rerun.map((sealed) => ({ period: sealed.period, sequence: sealed.sequence }))).toEqual([
          { period: P1, sequence: 1 },
        ]);
        expect(rerun[0]!.outcome).toBe(written === 9 ? 'already-sealed' : 'created');
        await assessRecovered(ledger, acknowledged, afterCrash);
      });
    },
  );

  describe('when it runs again after a complete seal', () => {
    it('writes nothing and reports the periods as sealed', async () => {
      // Prepare
      const ledger = 'crash-rerun';
      const acknowledged = await ingestEvents(ledger);
      await sealDuePeriods(sealingConfig(ledger), realSealingDeps());
      const before = await bucketObjects(ledger);

      // Act
      const again = await sealDuePeriods(sealingConfig(ledger), realSealingDeps());

      // Assess
      expect(again).toEqual([]);
      await assessRecovered(ledger, acknowledged, before);
    });
  });
});

describe('Function: the stream handler (createSealPeriodsHandler) behind the local stream poller', () => {
  describe('when its process dies after sealing, before the stream checkpoint', () => {
    it('gets the batch again, and the redelivery neither loses nor doubles anything', async () => {
      // Prepare: a table of its own, so that its stream holds this ledger's writes only.
      const ledger = 'crash-stream';
      const table = 'auditseal-ledger-crash-stream';
      const { streamArn } = await ensureLedgerTable(dynamodb, ledgerTable('local', { tableName: table }));
      const acknowledged = await ingestEvents(ledger, table);
      // A tampered item, so that the batch that is redelivered also carries a MODIFY (an alarm).
      const tampered = { pk: { S: `TEST#${ledger}` }, sk: { S: 'tampered' } };
      await dynamodb.send(new PutItemCommand({ TableName: table, Item: { ...tampered, n: { N: '1' } } }));
      await dynamodb.send(
        new UpdateItemCommand({
          TableName: table,
          Key: tampered,
          UpdateExpression: 'SET n = :n',
          ExpressionAttributeValues: { ':n': { N: '2' } },
        }),
      );
      let sealedByLastCall = 0;
      const handler = createSealPeriodsHandler({
        logger: quietLogger,
        alarms: new DynamoDbAlarmStore({ client: dynamodb, tableName: table, ledger }),
        sealDue: async () => {
          const sealed = await sealDuePeriods(sealingConfig(ledger), realSealingDeps(table));
          sealedByLastCall = sealed.filter((s) => s.outcome === 'created').length;
          return sealed;
        },
      });
      const crashes: { records: DynamoDBRecord[]; objects: Map<string, Buffer> }[] = [];
      const completed: DynamoDBRecord[][] = [];
      const failures: StreamBatchFailure[] = [];
      const checkpointFile = join(scratch, 'stream-checkpoints.json');

      // Act
      const poller = await startStreamPoller({
        client: streams,
        streamArn,
        region: REGION,
        checkpointFile,
        batchSize: 100,
        bisectBatchOnFunctionError: true,
        reportBatchItemFailures: true,
        maximumRetryAttempts: 10,
        retryDelayMs: () => 50,
        pollIntervalMs: 100,
        onFailure: (failure) => void failures.push(failure),
        handler: async (event, context) => {
          const response = await handler(event, context);
          if (crashes.length === 0 && sealedByLastCall > 0) {
            crashes.push({ records: event.Records, objects: await bucketObjects(ledger) });
            throw new SimulatedCrash('the function died after sealing, before returning');
          }
          completed.push(event.Records);
          return response;
        },
      });
      const isTamperRecord = (record: DynamoDBRecord) =>
        record.eventName === 'MODIFY' && record.dynamodb?.Keys?.['pk']?.S === tampered.pk.S;
      const delivered = await until(() => completed.flat().some(isTamperRecord), 30_000);
      await poller.stop();

      // Assess
      expect(delivered).toBe(true);
      expect(failures).toEqual([]);
      expect(crashes).toHaveLength(1);
      const crashed = crashes[0]!;
      // The batch that sealed both periods and carried the MODIFY was delivered again, record by record.
      expect(crashed.records.some(isTamperRecord)).toBe(true);
      const redelivered = new Set(completed.flat().map((record) => record.eventID));
      for (const record of crashed.records) expect(redelivered.has(record.eventID)).toBe(true);
      expect(crashed.objects.has(digestObjectKey(ledger, P1, 'signature'))).toBe(true);
      // The checkpoint moved past the redelivered batch.
      const checkpoints = JSON.parse(readFileSync(checkpointFile, 'utf8')) as {
        streams: Record<string, { shards: Record<string, { sequenceNumber?: string }> }>;
      };
      const positions = Object.values(checkpoints.streams).flatMap((s) =>
        Object.values(s.shards).map((shard) => BigInt(shard.sequenceNumber ?? '0')),
      );
      const lastCrashed = crashed.records.at(-1)!.dynamodb!.SequenceNumber!;
      expect(positions.some((position) => position >= BigInt(lastCrashed))).toBe(true);
      // One alarm for the one MODIFY, although its record was handled twice.
      const alarms = await dynamodb.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: `AL#${ledger}` } },
          ConsistentRead: true,
        }),
      );
      expect(alarms.Items?.map((item) => [item['eventName']?.S, item['itemPk']?.S])).toEqual([
        ['MODIFY', tampered.pk.S],
      ]);
      await assessRecovered(ledger, acknowledged, crashed.objects, table);
    });
  });
});

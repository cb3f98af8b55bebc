/**
 * The write path end to end on the real local stack (`local/routes.ts`: the very handlers `npm start`
 * serves), with a 60 s period: app events through signed HTTP requests and real CloudTrail records
 * through EventBridge → SQS → the forwarder; the digests appear, download and verify offline with the
 * receipts. Then the table is tampered with directly: the stream raises alarms, sealed evidence stays
 * valid (WORM), and a period tampered with before its seal fails receipt verification for exactly the
 * tampered events. The bucket refuses deletes and overwrites; roles are enforced by the gateway.
 *
 * The steps run in order and build on each other; the whole file takes about two to three minutes, most
 * of it waiting for periods to end (a period is sealed 15 s after it ends, by the heartbeat at :16).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiTarget } from '../../cli/api-client.ts';
import { runDownload } from '../../cli/commands/download.ts';
import { runHead } from '../../cli/commands/head.ts';
import { runReplay } from '../../cli/commands/replay-cloudtrail.ts';
import { loadLocalFunctions } from '../../local/routes.ts';
import { canonicalBytes } from '../../shared/canonical/jcs.ts';
import { loadPublicKey, TrustedKeySet } from '../../shared/crypto/keys.ts';
import { verifySignedHead } from '../../shared/head/signed-head.ts';
import type { Receipt } from '../../shared/ledger/formats.ts';
import { digestObjectKey } from '../../shared/ledger/object-keys.ts';
import { compactLabel, isoSeconds } from '../../shared/ledger/period.ts';
import { FolderReader } from '../../shared/verify/object-reader.ts';
import { type VerifyReport, verifyFolder } from '../../shared/verify/verify-folder.ts';
import { REPO_ROOT, until } from '../support/dynamodb-local.ts';
import type { TestLocalStack } from '../support/local-stack.ts';
import { startTestLocalStack } from '../support/local-stack.ts';
import { sharedDataPath } from '../support/shared-data.ts';
import { signedFetch } from '../support/signed-fetch.ts';

const PERIOD_SECONDS = 60;
const PERIOD_MS = PERIOD_SECONDS * 1000;
/** The heartbeat runs 16 s into each period: just after the 15 s grace of the period before. */
const HEARTBEAT_OFFSET_SECONDS = 16;
const SAMPLE = join(REPO_ROOT, 'examples/cloudtrail-sample.jsonl');
const AUDITOR_ROUTES = [
  '/v1/digests',
  '/v1/digests/20261122T210000Z-60s',
  '/v1/head',
  '/v1/keys',
  '/v1/alarms',
];

let stack: TestLocalStack;
let dynamodb: DynamoDBClient;
let s3: S3Client;
let auditor: ApiTarget;
let trustedKeys: TrustedKeySet;
let searchFromMs: number;
const scratch = mkdtempSync(join(tmpdir(), 'auditseal-e2e-'));

// What the steps hand on to later steps.
const appReceipts: Receipt[] = [];
/** The first period boundary after everything of the first phase was stored. */
let boundaryMs: number;
const openPeriod = {
  receipts: [] as Receipt[],
  modifiedId: 'open-0',
  deletedId: 'open-1',
  keptId: 'open-2',
  forgedId: 'open-3-forged',
};
let sealedFolder: string;

beforeAll(async () => {
  process.env['POWERTOOLS_LOG_LEVEL'] ??= 'WARN';
  searchFromMs = Math.floor(Date.now() / PERIOD_MS) * PERIOD_MS - PERIOD_MS;
  stack = await startTestLocalStack({
    periodSeconds: PERIOD_SECONDS,
    heartbeatOffsetSeconds: HEARTBEAT_OFFSET_SECONDS,
    functions: loadLocalFunctions,
  });
  const config = {
    region: stack.info.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  dynamodb = new DynamoDBClient({ ...config, endpoint: stack.info.dynamodbEndpoint });
  s3 = new S3Client({ ...config, endpoint: stack.info.s3Endpoint, forcePathStyle: true });
  auditor = {
    endpoint: stack.info.endpoint,
    region: stack.info.region,
    credentials: stack.info.roles.auditor,
  };
  trustedKeys = new TrustedKeySet([loadPublicKey(stack.info.publicKeyPem)]);
});

afterAll(async () => {
  dynamodb?.destroy();
  s3?.destroy();
  await stack?.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

function appEvent(id: string): Record<string, unknown> {
  return {
    id,
    eventTime: new Date().toISOString(),
    actor: { id: 'alice@example.com', type: 'user', mfa: true },
    action: 'ssh.login',
    resource: { id: 'i-0abc1234def567890', type: 'AWS::EC2::Instance' },
    outcome: { result: 'success' },
    sourceIp: '10.0.0.7',
  };
}

interface IngestAnswer {
  readonly stored: string[];
  readonly duplicates: string[];
  readonly receipts: Receipt[];
}

async function postEvents(
  events: readonly Record<string, unknown>[],
): Promise<{ status: number; body: IngestAnswer }> {
  const response = await signedFetch(stack.info.endpoint, stack.info.roles.writer, {
    method: 'POST',
    path: '/v1/events',
    body: JSON.stringify({ events }),
  });
  return { status: response.status, body: (await response.json()) as IngestAnswer };
}

async function auditorGet<T>(path: string): Promise<T> {
  const response = await signedFetch(stack.info.endpoint, stack.info.roles.auditor, { path });
  expect(response.status, path).toBe(200);
  return (await response.json()) as T;
}

interface DigestSummary {
  readonly id: string;
  readonly periodStart: string;
  readonly sequence: number;
  readonly digestKey: string;
}

async function listDigests(): Promise<DigestSummary[]> {
  const { digests } = await auditorGet<{ digests: DigestSummary[] }>(
    `/v1/digests?from=${new Date(searchFromMs).toISOString()}&limit=1000`,
  );
  return digests;
}

/** Polls `GET /v1/digests` until the period starting at `periodStartMs` is sealed. */
async function waitForSeal(periodStartMs: number, timeoutMs: number): Promise<DigestSummary[]> {
  let digests: DigestSummary[] = [];
  const sealed = await until(async () => {
    digests = await listDigests();
    return digests.some((digest) => digest.periodStart === isoSeconds(periodStartMs));
  }, timeoutMs);
  expect(sealed, `period ${isoSeconds(periodStartMs)} sealed`).toBe(true);
  return digests;
}

interface Alarm {
  readonly kind: string;
  readonly period?: string;
  readonly eventId?: string;
  readonly detail?: string;
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE' | 'NONE';
  readonly pk: string;
  readonly sk: string;
}

/** Polls `GET /v1/alarms` until one satisfies `wanted`. */
async function waitForAlarmWhere(
  what: string,
  wanted: (alarm: Alarm) => boolean,
  timeoutMs = 20_000,
): Promise<Alarm[]> {
  let alarms: Alarm[] = [];
  const raised = await until(async () => {
    ({ alarms } = await auditorGet<{ alarms: Alarm[] }>('/v1/alarms'));
    return alarms.some(wanted);
  }, timeoutMs);
  expect(raised, what).toBe(true);
  return alarms;
}

/** Polls `GET /v1/alarms` until an alarm names `eventName` on the item `key`. */
async function waitForAlarm(eventName: Alarm['eventName'], key: EventKey): Promise<Alarm[]> {
  let alarms: Alarm[] = [];
  const raised = await until(async () => {
    ({ alarms } = await auditorGet<{ alarms: Alarm[] }>('/v1/alarms'));
    return alarms.some((a) => a.eventName === eventName && a.pk === key.pk && a.sk === key.sk);
  }, 20_000);
  expect(raised, `${eventName} alarm on ${key.pk} ${key.sk}`).toBe(true);
  return alarms;
}

interface EventKey {
  readonly pk: string;
  readonly sk: string;
}

/** Where an event item is, from its id item. */
async function eventKeyOf(id: string): Promise<EventKey> {
  const { Item } = await dynamodb.send(
    new GetItemCommand({
      TableName: stack.info.tableName,
      Key: { pk: { S: `ID#${stack.info.ledger}#${id}` }, sk: { S: 'ID' } },
      ConsistentRead: true,
    }),
  );
  return { pk: Item!['eventPk']!.S!, sk: Item!['eventSk']!.S! };
}

/** Rewrites an event item's canonical bytes with another action: still canonical JSON, other content. */
async function modifyEventBody(id: string): Promise<EventKey> {
  const key = await eventKeyOf(id);
  const { Item } = await dynamodb.send(
    new GetItemCommand({
      TableName: stack.info.tableName,
      Key: { pk: { S: key.pk }, sk: { S: key.sk } },
      ConsistentRead: true,
    }),
  );
  const event = JSON.parse(Buffer.from(Item!['body']!.B!).toString('utf8')) as Record<string, unknown>;
  await dynamodb.send(
    new UpdateItemCommand({
      TableName: stack.info.tableName,
      Key: { pk: { S: key.pk }, sk: { S: key.sk } },
      UpdateExpression: 'SET #body = :body',
      ExpressionAttributeNames: { '#body': 'body' },
      ExpressionAttributeValues: { ':body': { B: canonicalBytes({ ...event, action: 'ssh.logout' }) } },
    }),
  );
  return key;
}

/**
 * Inserts an event row the service never wrote: a copy of `templateId`'s row under a new id, claiming
 * that row's batch (as an attacker with table write access would).
 */
async function insertForgedEvent(templateId: string, id: string): Promise<EventKey> {
  const template = await eventKeyOf(templateId);
  const { Item } = await dynamodb.send(
    new GetItemCommand({
      TableName: stack.info.tableName,
      Key: { pk: { S: template.pk }, sk: { S: template.sk } },
      ConsistentRead: true,
    }),
  );
  const event = JSON.parse(Buffer.from(Item!['body']!.B!).toString('utf8')) as Record<string, unknown>;
  const receivedAt = Item!['receivedAt']!.S!;
  const key = { pk: template.pk, sk: `${receivedAt}#${id}` };
  await dynamodb.send(
    new PutItemCommand({
      TableName: stack.info.tableName,
      Item: {
        ...Item!,
        pk: { S: key.pk },
        sk: { S: key.sk },
        id: { S: id },
        body: { B: canonicalBytes({ ...event, id, action: 'iam.grant-admin' }) },
      },
    }),
  );
  return key;
}

async function deleteEvent(id: string): Promise<EventKey> {
  const key = await eventKeyOf(id);
  await dynamodb.send(
    new DeleteItemCommand({ TableName: stack.info.tableName, Key: { pk: { S: key.pk }, sk: { S: key.sk } } }),
  );
  return key;
}

/** Every ledger item whose key starts with `prefix`. */
async function scanPrefix(prefix: string): Promise<Record<string, { S?: string; L?: unknown[] }>[]> {
  const items: Record<string, { S?: string; L?: unknown[] }>[] = [];
  let start: Record<string, never> | undefined;
  do {
    const page = await dynamodb.send(
      new ScanCommand({
        TableName: stack.info.tableName,
        FilterExpression: 'begins_with(#pk, :prefix)',
        ExpressionAttributeValues: { ':prefix': { S: prefix } },
        ProjectionExpression: '#pk, #sk, #receivedAt, #conflicts, #kind, #channel',
        ExpressionAttributeNames: {
          '#pk': 'pk',
          '#sk': 'sk',
          '#receivedAt': 'receivedAt',
          '#conflicts': 'conflicts',
          '#kind': 'kind',
          '#channel': 'channel',
        },
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    items.push(...((page.Items ?? []) as Record<string, { S?: string; L?: unknown[] }>[]));
    start = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start);
  return items;
}

/** `auditseal download` of [searchFrom, toMs) into a new folder, with the receipts beside it. */
async function downloadWithReceipts(
  name: string,
  toMs: number,
  receipts: readonly Receipt[],
): Promise<string> {
  const out = join(scratch, name);
  const summary = await runDownload({ fromMs: searchFromMs, toMs, out, json: true }, auditor);
  expect(summary.keys).toEqual([stack.info.signingKeyId]);
  await mkdir(join(out, 'receipts'));
  writeFileSync(join(out, 'receipts', 'receipts.json'), JSON.stringify(receipts));
  return out;
}

function verify(dir: string): Promise<VerifyReport> {
  return verifyFolder(new FolderReader(dir), { keys: trustedKeys });
}

/**
 * The SHA-256 of every file below `dir/sub`, by relative path. (Hashes, not bytes: a deep equality of
 * large Buffers blocks the event loop long enough for the gateway, in this same process, to drop idle
 * keep-alive connections the client still counts on.)
 */
function filesOf(dir: string, sub: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(join(dir, sub), { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      files.set(path.slice(dir.length + 1), createHash('sha256').update(readFileSync(path)).digest('hex'));
    }
  }
  return files;
}

/** The events in the archive chunks of the period starting at `periodStartMs`, in period order. */
/** How many `read` events (G7) the folder's archives hold. */
function sealedReadEvents(dir: string): number {
  return readdirSync(join(dir, 'archives'), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /^\d{6}\.jsonl$/.test(entry.name))
    .flatMap((entry) => readFileSync(join(entry.parentPath, entry.name), 'utf8').split('\n'))
    .filter((line) => line !== '' && (JSON.parse(line) as { channel?: string }).channel === 'read').length;
}

function archivedEvents(dir: string, periodStartMs: number): { id: string; action: string }[] {
  const chunks = readdirSync(join(dir, 'archives'), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /^\d{6}\.jsonl$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((path) => path.includes(`/${compactLabel(periodStartMs)}-${PERIOD_SECONDS}s/`))
    .sort();
  return chunks.flatMap((path) =>
    readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { id: string; action: string }),
  );
}

describe('Local stack with the real handlers', () => {
  describe('when app events are posted with the writer key', () => {
    it('stores each batch with 201 and a receipt per event, and answers a retry with the same receipts', async () => {
      // Prepare
      const batches = [1, 20, 100].map((size, b) =>
        Array.from({ length: size }, (_, i) => appEvent(`app-${b}-${i}`)),
      );

      // Act
      const answers = [];
      for (const batch of batches) answers.push(await postEvents(batch));
      const retry = await postEvents(batches[1]!);

      // Assess
      for (const [b, answer] of answers.entries()) {
        const ids = batches[b]!.map((event) => event['id']);
        expect(answer.status).toBe(201);
        expect(answer.body.stored).toEqual(ids);
        expect(answer.body.duplicates).toEqual([]);
        expect(answer.body.receipts.map((receipt) => receipt.eventId)).toEqual(ids);
        appReceipts.push(...answer.body.receipts);
      }
      expect(retry.status).toBe(200);
      expect(retry.body.duplicates).toEqual(batches[1]!.map((event) => event['id']));
      expect(retry.body.receipts).toEqual(answers[1]!.body.receipts);
    });
  });

  describe('when the CloudTrail sample is replayed through EventBridge, SQS and the forwarder', () => {
    it('stores all 619 records as ct: events', async () => {
      // Act
      const summary = await runReplay(SAMPLE, { localFile: stack.localFile, json: true });

      // Assess
      expect(summary).toMatchObject({
        records: 619,
        delivered: 619,
        stored: 619,
        duplicates: 0,
        rejected: [],
        failed: 0,
      });
      expect(await scanPrefix(`ID#${stack.info.ledger}#ct:`)).toHaveLength(619);
    }, 120_000);
  });

  describe('when the whole all_permissive.jsonl corpus is replayed after it', () => {
    it('rejects 171 records in the mapping and 264 reused ids as ID_CONFLICT, and stores nothing new', async () => {
      // Act
      const summary = await runReplay(sharedDataPath('cloudtrail', 'all_permissive.jsonl'), {
        localFile: stack.localFile,
        json: true,
      });

      // Assess
      const reasons: Record<string, number> = {};
      for (const { reason } of summary.rejected) reasons[reason] = (reasons[reason] ?? 0) + 1;
      expect(reasons).toEqual({ BAD_EVENT_TIME: 114, MISSING_EVENT_ID: 57, ID_CONFLICT: 264 });
      expect(summary).toMatchObject({ records: 1054, delivered: 883, stored: 0, duplicates: 619, failed: 0 });
      expect(await scanPrefix(`ID#${stack.info.ledger}#ct:`)).toHaveLength(619);
      // Each rejected request is recorded as a security signal naming its conflicting ids.
      const signals = await scanPrefix(`SG#${stack.info.ledger}#`);
      expect(new Set(signals.map((signal) => `${signal['kind']?.S}/${signal['channel']?.S}`))).toEqual(
        new Set(['ID_CONFLICT/cloudtrail']),
      );
      const conflicts = signals.flatMap(
        (signal) => (signal['conflicts']?.L ?? []) as { M: { eventId: { S: string } } }[],
      );
      expect(new Set(conflicts.map((conflict) => conflict.M.eventId.S)).size).toBe(41);
      expect(conflicts.every((conflict) => conflict.M.eventId.S.startsWith('ct:'))).toBe(true);
    }, 120_000);
  });

  describe('when events of a period that is still open are modified, deleted and inserted in the table', () => {
    it('raises a MODIFY and a REMOVE tamper alarm and a FOREIGN_ROW alarm, readable by the auditor', async () => {
      // Prepare: the first events of a fresh period, so that it cannot be sealed before the tampering.
      boundaryMs = Math.ceil(Date.now() / PERIOD_MS) * PERIOD_MS;
      await new Promise((resolve) => setTimeout(resolve, boundaryMs + 300 - Date.now()));
      const posted = await postEvents(
        [openPeriod.modifiedId, openPeriod.deletedId, openPeriod.keptId].map(appEvent),
      );
      expect(posted.status).toBe(201);
      openPeriod.receipts.push(...posted.body.receipts);
      const receivedAt = Date.parse(posted.body.receipts[0]!.receivedAt);
      expect(receivedAt).toBeGreaterThanOrEqual(boundaryMs);
      expect(receivedAt).toBeLessThan(boundaryMs + PERIOD_MS);

      // Act
      const modified = await modifyEventBody(openPeriod.modifiedId);
      const deleted = await deleteEvent(openPeriod.deletedId);
      const forged = await insertForgedEvent(openPeriod.keptId, openPeriod.forgedId);

      // Assess
      await waitForAlarm('MODIFY', modified);
      await waitForAlarmWhere(
        'FOREIGN_ROW alarm on the forged row',
        (a) => a.kind === 'FOREIGN_ROW' && a.pk === forged.pk && a.sk === forged.sk,
      );
      const alarms = await waitForAlarm('REMOVE', deleted);
      expect(
        alarms.filter((a) => a.pk === modified.pk && a.sk === modified.sk).map((a) => a.eventName),
      ).toEqual(['MODIFY']);
      expect(
        alarms.filter((a) => a.pk === deleted.pk && a.sk === deleted.sk).map((a) => a.eventName),
      ).toEqual(['REMOVE']);
      expect(Date.now()).toBeLessThan(boundaryMs + PERIOD_MS);
    }, 100_000);
  });

  describe('when the periods before it are sealed', () => {
    it('lists one chained digest for every period from the genesis to the last one', async () => {
      // Act
      const digests = await waitForSeal(boundaryMs - PERIOD_MS, 45_000);

      // Assess
      const before = digests.filter((digest) => Date.parse(digest.periodStart) < boundaryMs);
      expect(before.map((digest) => digest.sequence)).toEqual(before.map((_, i) => i));
      const first = Date.parse(before[0]!.periodStart);
      expect(before.map((digest) => digest.periodStart)).toEqual(
        before.map((_, i) => isoSeconds(first + i * PERIOD_MS)),
      );
      expect(before.at(-1)!.periodStart).toBe(isoSeconds(boundaryMs - PERIOD_MS));
    }, 60_000);

    it('downloads into a folder that verifies valid, with every stored event and every receipt', async () => {
      // Prepare
      const { keys } = await auditorGet<{ keys: { keyId: string; publicKeyPem: string }[] }>('/v1/keys');
      const events = (await scanPrefix(`EV#${stack.info.ledger}#`)).filter(
        (item) => Date.parse(item['receivedAt']!.S!) < boundaryMs,
      );

      // Act
      sealedFolder = await downloadWithReceipts('sealed', boundaryMs, appReceipts);
      const report = await verify(sealedFolder);

      // Assess
      expect(keys).toEqual([
        expect.objectContaining({ keyId: stack.info.signingKeyId, publicKeyPem: stack.info.publicKeyPem }),
      ]);
      expect(report.findings).toEqual([]);
      expect(report.valid).toBe(true);
      // The sample's attack records raise detection alerts: ledger events too (det: ids), sealed with them.
      const alerts = events.filter((item) => item['sk']!.S!.slice(25).startsWith('det:'));
      // CloudTrail records that carry a resource's new state (a policy, tags) become profile versions
      // (pv: ids, docs/PROFILES.md), signed and sealed like any event.
      const versions = events.filter((item) => item['sk']!.S!.slice(25).startsWith('pv:'));
      expect(events.length - alerts.length - versions.length).toBe(121 + 619);
      expect(alerts.length).toBeGreaterThan(0);
      expect(versions.length).toBeGreaterThan(0);
      expect(report.ledgers).toEqual([
        expect.objectContaining({ ledger: stack.info.ledger, events: events.length }),
      ]);
      expect(report.stats.receipts).toBe(121);
    });
  });

  describe('when the auditor keeps the head', () => {
    it('saves a head that verifies; a download up to it reaches it, one cut short is LEDGER_TRUNCATED', async () => {
      // Prepare
      const headFile = join(scratch, 'head.json');

      // Act
      const saved = await runHead({ out: headFile }, auditor);
      const head = verifySignedHead(readFileSync(headFile), trustedKeys);
      const out = join(scratch, 'to-head');
      await runDownload(
        { fromMs: searchFromMs, toMs: head.period.startMs + PERIOD_MS, out, json: true },
        auditor,
      );
      const whole = await verifyFolder(new FolderReader(out), { keys: trustedKeys, head });
      for (const part of ['digest', 'statement', 'signature'] as const)
        rmSync(join(out, digestObjectKey(head.ledger, head.period, part)));
      const cut = await verifyFolder(new FolderReader(out), { keys: trustedKeys, head });

      // Assess
      expect(saved).toMatchObject({ ledger: stack.info.ledger, keyId: stack.info.signingKeyId });
      expect(head.period.startMs).toBeGreaterThanOrEqual(boundaryMs - PERIOD_MS);
      expect(whole.ledgers[0]!.head).toMatchObject({ status: 'reached', sequence: head.sequence });
      expect(cut.findings.map((f) => f.code)).toContain('LEDGER_TRUNCATED');
    });
  });

  describe('when an event of a sealed period is modified in the table', () => {
    it('raises a MODIFY alarm, and a fresh download still verifies valid with the same objects', async () => {
      // Act
      const modified = await modifyEventBody('app-1-7');

      // Assess
      await waitForAlarm('MODIFY', modified);
      const again = await downloadWithReceipts('sealed-again', boundaryMs, appReceipts);
      const report = await verify(again);
      expect(report.findings).toEqual([]);
      expect(report.valid).toBe(true);
      for (const sub of ['digests', 'archives'])
        expect(filesOf(again, sub)).toEqual(filesOf(sealedFolder, sub));
    });
  });

  describe('when a digest object is deleted or overwritten in the bucket', () => {
    it('denies deleting the locked version with 403 and an overwrite with 412, and keeps the bytes', async () => {
      // Prepare
      const digests = await listDigests();
      const key = digests.find(
        (digest) => digest.periodStart === isoSeconds(boundaryMs - PERIOD_MS),
      )!.digestKey;
      const versions = await s3.send(
        new ListObjectVersionsCommand({ Bucket: stack.info.bucket, Prefix: key }),
      );
      expect(versions.Versions).toHaveLength(1);
      const versionId = versions.Versions![0]!.VersionId!;

      // Act
      const deleted = await s3
        .send(new DeleteObjectCommand({ Bucket: stack.info.bucket, Key: key, VersionId: versionId }))
        .catch((error: unknown) => error);
      const overwritten = await s3
        .send(
          new PutObjectCommand({
            Bucket: stack.info.bucket,
            Key: key,
            Body: '{"forged":true}',
            IfNoneMatch: '*',
          }),
        )
        .catch((error: unknown) => error);

      // Assess
      expect(deleted).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
      expect(overwritten).toMatchObject({ name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
      const after = await s3.send(new ListObjectVersionsCommand({ Bucket: stack.info.bucket, Prefix: key }));
      expect(after.Versions?.map((version) => version.VersionId)).toEqual([versionId]);
      const stored = await s3.send(new GetObjectCommand({ Bucket: stack.info.bucket, Key: key }));
      const bytes = Buffer.from(await stored.Body!.transformToByteArray());
      expect(bytes.equals(readFileSync(join(sealedFolder, key)))).toBe(true);
    });
  });

  describe('when a role calls a route it is not given', () => {
    it('answers 403 ACCESS_DENIED to the reader and the writer on every auditor route', async () => {
      // Act
      const answers = [];
      for (const role of ['reader', 'writer'] as const) {
        for (const path of AUDITOR_ROUTES) {
          const response = await signedFetch(stack.info.endpoint, stack.info.roles[role], { path });
          answers.push({
            role,
            path,
            status: response.status,
            code: ((await response.json()) as { code: string }).code,
          });
        }
      }

      // Assess
      expect(answers).toEqual(
        ['reader', 'writer'].flatMap((role) =>
          AUDITOR_ROUTES.map((path) => ({ role, path, status: 403, code: 'ACCESS_DENIED' })),
        ),
      );
    });

    it('answers 403 ACCESS_DENIED to the reader and the auditor on POST /v1/events', async () => {
      // Act
      const answers = [];
      for (const role of ['reader', 'auditor'] as const) {
        const response = await signedFetch(stack.info.endpoint, stack.info.roles[role], {
          method: 'POST',
          path: '/v1/events',
          body: JSON.stringify({ events: [appEvent(`denied-${role}`)] }),
        });
        answers.push({
          role,
          status: response.status,
          code: ((await response.json()) as { code: string }).code,
        });
      }

      // Assess
      expect(answers).toEqual([
        { role: 'reader', status: 403, code: 'ACCESS_DENIED' },
        { role: 'auditor', status: 403, code: 'ACCESS_DENIED' },
      ]);
      expect(await scanPrefix(`ID#${stack.info.ledger}#denied-`)).toEqual([]);
    });

    it('answers 403 MISSING_AUTHENTICATION to unsigned requests', async () => {
      // Act
      const responses = await Promise.all(
        [
          ...AUDITOR_ROUTES.map((path) => ({ path, method: 'GET' })),
          { path: '/v1/events', method: 'POST' },
        ].map(async ({ path, method }) => {
          const response = await fetch(new URL(path, stack.info.endpoint), {
            method,
            ...(method === 'POST'
              ? {
                  body: JSON.stringify({ events: [appEvent('unsigned-1')] }),
                  headers: { 'content-type': 'application/json' },
                }
              : {}),
          });
          return { path, status: response.status, code: ((await response.json()) as { code: string }).code };
        }),
      );

      // Assess
      for (const response of responses) {
        expect(response).toEqual({ path: response.path, status: 403, code: 'MISSING_AUTHENTICATION' });
      }
    });
  });

  describe('when the period tampered with before its seal is sealed', () => {
    it('seals only what ingest signed, and the downloaded folder names every edit, deletion and insertion', async () => {
      // Prepare
      await waitForSeal(boundaryMs, boundaryMs + PERIOD_MS + 40_000 - Date.now());

      // Act
      const dir = await downloadWithReceipts('tampered', boundaryMs + PERIOD_MS, [
        ...appReceipts,
        ...openPeriod.receipts,
      ]);
      const report = await verify(dir);

      // Assess: the edited and the inserted rows were excluded (with evidence), the edited and the deleted
      // events' signed leaves are reported missing, and their receipts are not sealed. Nothing else.
      expect(report.valid).toBe(false);
      expect(report.findings.map((finding) => `${finding.code} ${finding.eventId}`).sort()).toEqual(
        [
          `BATCH_LEAF_MISSING ${openPeriod.deletedId}`,
          `BATCH_LEAF_MISSING ${openPeriod.modifiedId}`,
          `EVENT_EXCLUDED ${openPeriod.forgedId}`,
          `EVENT_EXCLUDED ${openPeriod.modifiedId}`,
          `RECEIPT_NOT_SEALED ${openPeriod.deletedId}`,
          `RECEIPT_NOT_SEALED ${openPeriod.modifiedId}`,
        ].sort(),
      );
      // The untouched event of that period is sealed; the edited, deleted and forged ones are not.
      const sealed = archivedEvents(dir, boundaryMs);
      expect(
        sealed.filter((event) => event.id.startsWith('open-')).map((event) => [event.id, event.action]),
      ).toEqual([[openPeriod.keptId, 'ssh.login']]);
      // Every read of the API is itself a sealed event (G7): the auditor's reads of this test are in the
      // folder too, verified like the rest, on top of the 121 app, 619 CloudTrail and 1 kept events.
      const reads = sealedReadEvents(dir);
      expect(reads).toBeGreaterThan(0);
      // Detection alerts (det: ids) and profile versions derived from CloudTrail (pv: ids) too.
      const inRange = (await scanPrefix(`EV#${stack.info.ledger}#`)).filter(
        (item) => Date.parse(item['receivedAt']!.S!) < boundaryMs + PERIOD_MS,
      );
      const alerts = inRange.filter((item) => item['sk']!.S!.slice(25).startsWith('det:'));
      const versions = inRange.filter((item) => item['sk']!.S!.slice(25).startsWith('pv:'));
      expect(report.ledgers).toEqual([
        expect.objectContaining({ events: 121 + 619 + 1 + reads + alerts.length + versions.length }),
      ]);
      // And the sealer raised an alarm naming each of them and the period.
      const period = isoSeconds(boundaryMs);
      const alarms = await waitForAlarmWhere(
        'sealing exclusion alarms',
        (a) => a.kind === 'SEALING_EXCLUSION',
      );
      const exclusions = alarms.filter((a) => a.kind === 'SEALING_EXCLUSION' && a.period === period);
      expect(new Set(exclusions.map((a) => a.eventId))).toEqual(
        new Set([openPeriod.modifiedId, openPeriod.deletedId, openPeriod.forgedId]),
      );
      // Every row the service wrote itself was recognized: the one FOREIGN_ROW alarm is the forged row's.
      expect(
        alarms.filter((a) => a.kind === 'FOREIGN_ROW').map((a) => a.sk.endsWith(`#${openPeriod.forgedId}`)),
      ).toEqual([true]);
    }, 120_000);
  });
});

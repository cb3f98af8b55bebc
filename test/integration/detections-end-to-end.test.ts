/**
 * Detections and the Kubernetes source end to end on the real local stack (`local/routes.ts`: the very
 * handlers `npm start` serves): a real StopLogging record replayed through EventBridge → SQS → the
 * CloudTrail forwarder raises an alert in the stream batch that delivers it; the alert shows in
 * `GET /v1/alerts` and `auditseal alerts`, on the SNS topic in moto (through an SQS subscription) and as an
 * EventBridge event in moto (through a rule targeting SQS). A Kubernetes audit Event goes through the
 * CloudWatch Logs forwarder (a malformed payload is refused whole); an Event holding numbers no double
 * holds is kept as its exact text and found with `GET /v1/events` by actor and by resource. Once their
 * period is sealed, the downloaded folder verifies offline (with the `--deep` event checks) and holds the
 * alert and the Kubernetes events, their texts intact.
 *
 * About two minutes, most of it waiting for the period to be sealed.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiTarget } from '../../cli/api-client.ts';
import { renderAlerts, runAlerts } from '../../cli/commands/alerts.ts';
import { runDownload } from '../../cli/commands/download.ts';
import { runSearch } from '../../cli/commands/read-events.ts';
import { runReplay } from '../../cli/commands/replay-cloudtrail.ts';
import { runCloudWatchLogsReplay } from '../../cli/commands/replay-cloudwatch-logs.ts';
import { deepCheckEvent } from '../../cli/commands/verify.ts';
import { loadLocalFunctions } from '../../local/routes.ts';
import { loadPublicKey, TrustedKeySet } from '../../shared/crypto/keys.ts';
import { alertId } from '../../shared/detect/alert-ids.ts';
import type { AlertView } from '../../shared/detect/alert-query.ts';
import { checkReceipt } from '../../shared/ledger/batch-receipts.ts';
import { isoSeconds } from '../../shared/ledger/period.ts';
import { FolderReader } from '../../shared/verify/object-reader.ts';
import { verifyFolder } from '../../shared/verify/verify-folder.ts';
import { until } from '../support/dynamodb-local.ts';
import { startTestLocalStack, type TestLocalStack } from '../support/local-stack.ts';
import { sharedDataPath } from '../support/shared-data.ts';
import { signedFetch } from '../support/signed-fetch.ts';

const PERIOD_MS = 60_000;
const DISABLE_LOGGING_RULE = '4db60cc0-36fb-42b7-9b58-a5b53019fb74';
const FALCO = sharedDataPath('kubernetes', 'falco-trace-files');
const stopLogging = readFileSync(sharedDataPath('cloudtrail', 'records', 'stratus-red-team.jsonl'), 'utf8')
  .split('\n')
  .find((line) => line.includes('"eventName":"StopLogging"'))!;
const STOP_LOGGING_ID = `ct:${String(JSON.parse(stopLogging).eventID)}`;
/** The real trace's Event: its text (the file without its final newline) and its parse. */
const createSecretText = readFileSync(join(FALCO, 'create_secret.json'), 'utf8').trim();
const createSecret = JSON.parse(createSecretText) as Record<string, unknown>;
const K8S_ID = `k8s:${String(createSecret['auditID'])}`;
/**
 * An Event no double can read: the real trace by another user on another secret, with a `requestObject`
 * holding an integer beyond 2^53, an exponent beyond the largest double and `-0`.
 */
const LOSSLESS_AUDIT_ID = 'c0ffee00-0000-4000-8000-000000000002';
const LOSSLESS_ID = `k8s:${LOSSLESS_AUDIT_ID}`;
const LOSSLESS_ACTOR = 'arn:aws:sts::123456789012:assumed-role/EksAdmin/k8s-e2e';
const losslessText = `${JSON.stringify({
  ...createSecret,
  auditID: LOSSLESS_AUDIT_ID,
  user: { username: LOSSLESS_ACTOR, groups: ['system:authenticated'] },
  objectRef: { resource: 'secrets', namespace: 'payments', name: 'db-credentials', apiVersion: 'v1' },
}).slice(0, -1)},"requestObject":{"metadata":{"generation":12345678901234567890},"e":1e400,"z":-0}}`;

let stack: TestLocalStack;
let dynamodb: DynamoDBClient;
let sqs: SQSClient;
let snsInbox: string;
let eventsInbox: string;
let fromMs: number;
const scratch = mkdtempSync(join(tmpdir(), 'auditseal-detections-'));

/** An SQS queue in moto and its ARN. */
async function queue(name: string): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: QueueUrl!, AttributeNames: ['QueueArn'] }),
  );
  return { url: QueueUrl!, arn: Attributes!['QueueArn']! };
}

beforeAll(async () => {
  process.env['POWERTOOLS_LOG_LEVEL'] ??= 'WARN';
  fromMs = Math.floor(Date.now() / PERIOD_MS) * PERIOD_MS - PERIOD_MS;
  stack = await startTestLocalStack({
    periodSeconds: 60,
    heartbeatOffsetSeconds: 16,
    functions: loadLocalFunctions,
  });
  const config = {
    region: stack.info.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    endpoint: stack.info.s3Endpoint,
  };
  dynamodb = new DynamoDBClient({ ...config, endpoint: stack.info.dynamodbEndpoint });
  sqs = new SQSClient(config);
  // What a pager would do: subscribe a queue to the alert topic, and route the detections to another.
  const sns = new SNSClient(config);
  const events = new EventBridgeClient(config);
  const snsQueue = await queue('alerts-by-sns');
  await sns.send(
    new SubscribeCommand({ TopicArn: stack.context.alertTopicArn, Protocol: 'sqs', Endpoint: snsQueue.arn }),
  );
  const eventsQueue = await queue('alerts-by-eventbridge');
  await events.send(
    new PutRuleCommand({
      Name: 'auditseal-detections',
      EventPattern: JSON.stringify({ source: ['auditseal'], 'detail-type': ['auditseal Detection'] }),
    }),
  );
  await events.send(
    new PutTargetsCommand({ Rule: 'auditseal-detections', Targets: [{ Id: 'inbox', Arn: eventsQueue.arn }] }),
  );
  sns.destroy();
  events.destroy();
  snsInbox = snsQueue.url;
  eventsInbox = eventsQueue.url;
});

afterAll(async () => {
  dynamodb?.destroy();
  sqs?.destroy();
  await stack?.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

function reader(): ApiTarget {
  return { endpoint: stack.info.endpoint, region: stack.info.region, credentials: stack.info.roles.reader };
}

async function getAlerts(role: 'reader' | 'auditor' | 'writer', query = ''): Promise<Response> {
  return signedFetch(stack.info.endpoint, stack.info.roles[role], { path: `/v1/alerts${query}` });
}

async function receiveAll(queueUrl: string, wanted: (bodies: unknown[]) => boolean): Promise<unknown[]> {
  const bodies: unknown[] = [];
  await until(async () => {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    bodies.push(...(Messages ?? []).map((m: Message) => JSON.parse(m.Body!) as unknown));
    return wanted(bodies);
  }, 20_000);
  return bodies;
}

/** The receivedAt of a stored event, from its id item's receipt. */
async function receivedAtOf(id: string): Promise<string | undefined> {
  const { Item } = await dynamodb.send(
    new GetItemCommand({
      TableName: stack.info.tableName,
      Key: { pk: { S: `ID#${stack.info.ledger}#${id}` }, sk: { S: 'ID' } },
      ConsistentRead: true,
    }),
  );
  return Item ? (JSON.parse(Item['receipt']!.S!) as { receivedAt: string }).receivedAt : undefined;
}

const expectedAlert = alertId(DISABLE_LOGGING_RULE, STOP_LOGGING_ID);
let alert: AlertView;

describe('Detections on the local stack', () => {
  describe('when a real StopLogging record is replayed through the CloudTrail forwarder', () => {
    it('raises an alert in the stream batch that delivers it, listed by GET /v1/alerts', async () => {
      // Prepare
      const file = join(scratch, 'stop-logging.jsonl');
      writeFileSync(file, `${stopLogging}\n`);

      // Act
      const replay = await runReplay(file, { localFile: stack.localFile, json: true });
      let alerts: AlertView[] = [];
      const raised = await until(async () => {
        const response = await getAlerts('reader');
        alerts = ((await response.json()) as { alerts: AlertView[] }).alerts;
        return alerts.length > 0;
      }, 20_000);

      // Assess
      expect(replay.stored).toBe(1);
      expect(raised).toBe(true);
      expect(alerts.map((a) => a.alertId)).toEqual([expectedAlert]);
      alert = alerts[0]!;
      expect(alert).toMatchObject({
        kind: 'alert',
        level: 'medium',
        rule: { id: DISABLE_LOGGING_RULE, title: 'AWS CloudTrail Important Change', author: 'vitaliy0x1' },
        eventIds: [STOP_LOGGING_ID],
        event: { channel: 'detection', details: { match: { eventId: STOP_LOGGING_ID } } },
      });
      // Raised by the first delivery of the record, not after a retry: within seconds of it landing.
      const landedAt = Date.parse((await receivedAtOf(STOP_LOGGING_ID))!);
      expect(Date.parse(alert.receivedAt) - landedAt).toBeLessThan(5_000);
      const keys = new TrustedKeySet([loadPublicKey(stack.info.publicKeyPem)]);
      expect(checkReceipt(alert.receipt, keys).ok).toBe(true);
    });

    it('lets the auditor list it too, refuses the writer, and answers 400 to a bad query', async () => {
      // Act
      const auditor = await getAlerts('auditor', `?rule=${DISABLE_LOGGING_RULE}&level=medium`);
      const writer = await getAlerts('writer');
      const bad = await getAlerts('reader', '?level=urgent');

      // Assess
      expect(auditor.status).toBe(200);
      expect(((await auditor.json()) as { alerts: AlertView[] }).alerts.map((a) => a.alertId)).toEqual([
        expectedAlert,
      ]);
      expect(writer.status).toBe(403);
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ code: 'INVALID_QUERY' });
    });

    it('announces it on the SNS topic and as an EventBridge "auditseal Detection" event', async () => {
      // Act
      const byTopic = await receiveAll(snsInbox, (b) => b.length > 0);
      const byBus = await receiveAll(eventsInbox, (b) => b.length > 0);

      // Assess
      const notice = JSON.parse((byTopic[0] as { Message: string }).Message);
      expect(notice).toMatchObject({
        type: 'auditseal.detection.v1',
        alertId: expectedAlert,
        rule: { id: DISABLE_LOGGING_RULE, level: 'medium', author: 'vitaliy0x1' },
        eventIds: [STOP_LOGGING_ID],
      });
      expect((byTopic[0] as { Subject: string }).Subject).toContain('AWS CloudTrail Important Change');
      expect(byBus[0]).toMatchObject({
        source: 'auditseal',
        'detail-type': 'auditseal Detection',
        detail: { alertId: expectedAlert, leafHash: alert.receipt.leafHash },
      });
    });

    it('does not alert twice when the same record is replayed again', async () => {
      // Act
      const replay = await runReplay(join(scratch, 'stop-logging.jsonl'), {
        localFile: stack.localFile,
        json: true,
      });
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const response = await getAlerts('reader');

      // Assess
      expect(replay.duplicates).toBe(1);
      expect(((await response.json()) as { alerts: AlertView[] }).alerts).toHaveLength(1);
    });

    it('shows it in auditseal alerts', async () => {
      // Act
      const result = await runAlerts({ all: true, max: 100, localFile: stack.localFile });

      // Assess
      expect(result.alerts.map((a) => a.alertId)).toEqual([expectedAlert]);
      expect(renderAlerts(result)).toContain('AWS CloudTrail Important Change');
      expect(renderAlerts(result)).toContain(STOP_LOGGING_ID);
    });
  });

  describe('when Kubernetes audit payloads arrive through the CloudWatch Logs forwarder', () => {
    it('stores a real audit Event verbatim under its cluster, and refuses a malformed payload whole', async () => {
      // Prepare
      const bad = join(scratch, 'bad.json');
      writeFileSync(
        bad,
        [createSecret, JSON.parse(readFileSync(join(FALCO, 'fal_01_003.json'), 'utf8'))]
          .map((e) =>
            JSON.stringify({
              ...e,
              auditID: e === createSecret ? 'c0ffee00-0000-4000-8000-000000000001' : e.auditID,
            }),
          )
          .join('\n'),
      );

      // Act
      const good = await runCloudWatchLogsReplay(join(FALCO, 'create_secret.json'), {
        localFile: stack.localFile,
        cluster: 'prod',
      });
      const refused = await runCloudWatchLogsReplay(bad, { localFile: stack.localFile, cluster: 'prod' });

      // Assess
      expect(good).toMatchObject({ payloads: 1, events: 1, stored: 1, refused: [] });
      expect(good.clusterArns).toEqual([
        `arn:aws:eks:${stack.info.region}:${stack.info.accountId}:cluster/prod`,
      ]);
      expect(await receivedAtOf(K8S_ID)).toBeDefined();
      expect(refused.refused).toEqual([
        expect.objectContaining({ code: 'BAD_LOG_EVENT', path: '$.logEvents[1].message.kind' }),
      ]);
      expect(await receivedAtOf('k8s:c0ffee00-0000-4000-8000-000000000001')).toBeUndefined();
    });

    it('finds an Event with numbers no double holds by actor and by resource (GET /v1/events, auditseal search), text intact', async () => {
      // Prepare
      const file = join(scratch, 'lossless.jsonl');
      writeFileSync(file, `${losslessText}\n`);
      const keyFile = join(scratch, 'public.pem');
      writeFileSync(keyFile, stack.info.publicKeyPem);
      // The resource id: the cluster ARN, then the namespace, kind and name of the object.
      const resourceId = `arn:aws:eks:${stack.info.region}:${stack.info.accountId}:cluster/prod/api/namespaces/payments/secrets/db-credentials`;

      // Act
      const replay = await runCloudWatchLogsReplay(file, { localFile: stack.localFile, cluster: 'prod' });
      const byActor = await runSearch(
        { filters: { actor: LOSSLESS_ACTOR }, all: true, verifyKeys: [keyFile], localFile: stack.localFile },
        reader(),
      );
      const byResource = await signedFetch(stack.info.endpoint, stack.info.roles.reader, {
        path: `/v1/events?resource=${encodeURIComponent(resourceId)}&channel=kubernetes`,
      });

      // Assess
      expect(replay).toMatchObject({ events: 1, stored: 1, omitted: [], refused: [] });
      expect(byActor.events.map((e) => e.id)).toEqual([LOSSLESS_ID]);
      expect(byActor.checks).toEqual([{ id: LOSSLESS_ID, ok: true }]);
      expect(byResource.status).toBe(200);
      const hits = ((await byResource.json()) as { events: { id: string; eventJson: string }[] }).events;
      expect(hits.map((e) => e.id)).toEqual([LOSSLESS_ID]);
      const event = JSON.parse(hits[0]!.eventJson) as Record<string, unknown>;
      expect(event).toMatchObject({
        channel: 'kubernetes',
        actor: { id: LOSSLESS_ACTOR, type: 'user' },
        action: 'create',
        resource: { id: resourceId, type: 'Kubernetes::core::secrets', name: 'db-credentials' },
      });
      expect(event['kubernetes']).toBe(losslessText);
      expect(hits[0]!.eventJson).toBe(byActor.events[0]!.eventJson);
    });
  });

  describe('when their period is sealed', () => {
    it('downloads a folder that verifies offline and holds the alert and the Kubernetes event', async () => {
      // Prepare: wait until the period of the last write is sealed (15 s after it ends).
      const lastMs = Math.max(
        Date.parse((await receivedAtOf(K8S_ID))!),
        Date.parse((await receivedAtOf(LOSSLESS_ID))!),
      );
      const toMs = Math.floor(lastMs / PERIOD_MS) * PERIOD_MS + PERIOD_MS;
      const auditor: ApiTarget = { ...reader(), credentials: stack.info.roles.auditor };
      const sealed = await until(async () => {
        const response = await signedFetch(stack.info.endpoint, stack.info.roles.auditor, {
          path: `/v1/digests?from=${new Date(fromMs).toISOString()}&limit=1000`,
        });
        const { digests } = (await response.json()) as { digests: { periodStart: string }[] };
        return digests.some((d) => d.periodStart === isoSeconds(toMs - PERIOD_MS));
      }, 120_000);
      const out = join(scratch, 'sealed');

      // Act
      await runDownload({ fromMs, toMs, out, json: true }, auditor);
      const report = await verifyFolder(new FolderReader(out), {
        keys: new TrustedKeySet([loadPublicKey(stack.info.publicKeyPem)]),
        // `auditseal verify --deep`: every archived event is schema-valid and canonical.
        deepCheck: deepCheckEvent,
      });

      // Assess
      expect(sealed).toBe(true);
      expect(report.valid, JSON.stringify(report.findings.slice(0, 3))).toBe(true);
      const archived = new Map(
        readdirSync(join(out, 'archives'), { recursive: true, withFileTypes: true })
          .filter((e) => e.isFile() && /^\d{6}\.jsonl$/.test(e.name))
          .flatMap((e) => readFileSync(join(e.parentPath, e.name), 'utf8').split('\n'))
          .filter((line) => line !== '')
          .map((line) => {
            const event = JSON.parse(line) as { id: string };
            return [event.id, event] as const;
          }),
      );
      expect(archived.get(expectedAlert)).toMatchObject({
        channel: 'detection',
        details: { rule: { id: DISABLE_LOGGING_RULE }, match: { eventId: STOP_LOGGING_ID } },
      });
      expect(archived.get(STOP_LOGGING_ID)).toMatchObject({ channel: 'cloudtrail' });
      expect(archived.get(K8S_ID)).toMatchObject({
        channel: 'kubernetes',
        actor: { id: 'minikube-user' },
        action: 'create',
        resource: {
          id: `arn:aws:eks:${stack.info.region}:${stack.info.accountId}:cluster/prod/api/namespaces/default/secrets/example-secret`,
          type: 'Kubernetes::core::secrets',
        },
        kubernetes: createSecretText,
      });
      expect(archived.get(LOSSLESS_ID)).toMatchObject({ channel: 'kubernetes', kubernetes: losslessText });
    }, 180_000);
  });
});

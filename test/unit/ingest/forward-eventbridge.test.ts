/**
 * The forwarder's core on AWS Config items and on CloudTrail records that change a resource, over the
 * in-memory ledger and profile stores (the ledger store writes each version with its event, as on
 * DynamoDB). The Config samples of `../shared/data/config/` are wrapped in the EventBridge envelope AWS
 * would deliver: `detail` is the notification (test/unit/profiles/config-fixtures.ts says so); the
 * CloudTrail records of `../shared/data/cloudtrail/` in theirs (`wrapInEventBridgeEnvelope`).
 */
import { describe, expect, it } from 'vitest';
import { parseAuditEvent } from '../../../shared/events/audit-event.ts';
import { wrapInEventBridgeEnvelope } from '../../../shared/events/cloudtrail.ts';
import type { ForwardObserver, Rejection } from '../../../shared/ingest/forward-cloudtrail.ts';
import { forwardEventBridge } from '../../../shared/ingest/forward-eventbridge.ts';
import { LedgerUnavailableError } from '../../../shared/ports/ledger-store.ts';
import { profileVersionEventId } from '../../../shared/profiles/ledger-event.ts';
import { readProfileAt } from '../../../shared/profiles/read-profile.ts';
import {
  configEventText,
  configItemFiles,
  itemOf,
  jsonLines,
  notificationInSample,
  notificationsOf,
  textLines,
} from '../profiles/config-fixtures.ts';
import { type Harness, harness, LEDGER } from './ingest-fixtures.ts';

const QUEUE = 'arn:aws:sqs:eu-west-1:123456789012:auditseal-forwarder';

function observer() {
  const rejected: Rejection[] = [];
  const failed: string[] = [];
  const o: ForwardObserver = {
    rejected: (r) => void rejected.push(r),
    failed: (_error, ids) => void failed.push(...ids),
  };
  return { o, rejected, failed };
}

function forward(h: Harness, bodies: readonly string[], prefix = 'm') {
  const watch = observer();
  return forwardEventBridge(
    {
      ledger: LEDGER,
      principal: QUEUE,
      requestId: 'req-1',
      messages: bodies.map((body, i) => ({ messageId: `${prefix}-${i}`, body })),
    },
    { ingest: h.deps, profiles: h.profiles },
    watch.o,
  ).then((outcome) => ({ outcome, ...watch }));
}

/** The stored ledger event of version n of a resource, parsed. */
async function versionEvent(h: Harness, resourceId: string, n: number) {
  const stored = await h.store.getEvent(LEDGER, profileVersionEventId(resourceId, n));
  return stored === undefined
    ? undefined
    : parseAuditEvent(JSON.parse(new TextDecoder().decode(stored.bytes)));
}

/** Line `index` of all_permissive.jsonl, checked to be the record named. */
function ctLine(index: number, eventName: string): Record<string, unknown> {
  const record = JSON.parse(textLines('cloudtrail/all_permissive.jsonl')[index]!) as Record<string, unknown>;
  expect(record['eventName']).toBe(eventName);
  return record;
}

describe('Function: forwardEventBridge', () => {
  describe('when given every real configuration item, wrapped as EventBridge delivers it', () => {
    it('writes one sealed version per item, rejects the one with a Python capture time, and fails none', async () => {
      // Prepare
      const h = await harness();
      const files = configItemFiles().filter((f) => f.value !== undefined);
      const bodies = files.flatMap((f) => notificationsOf(f.value).map((n, i) => configEventText(n, i)));

      // Act
      const { outcome, rejected, failed } = await forward(h, bodies);

      // Assess
      expect(files).toHaveLength(68);
      expect(failed).toEqual([]);
      expect(rejected.map((r) => r.reason)).toEqual(['BAD_CAPTURE_TIME']);
      expect(outcome.stored).toHaveLength(67);
      expect(outcome.versions.every((v) => v.source === 'aws-config' && v.status === 'created')).toBe(true);
      const s3 = outcome.versions.find(
        (v) => v.resourceId === 'arn:aws:s3:::mborch-test-bucket-config-item',
      )!;
      const event = await versionEvent(h, s3.resourceId, 1);
      expect(event).toMatchObject({
        channel: 'profile',
        actor: { id: QUEUE, type: 'service' },
        profileVersion: { n: 1, profile: { source: 'aws-config', resourceType: 'AWS::S3::Bucket' } },
      });
      // One signed batch per version: each is its own ingest at its own time.
      expect(h.signer.signCalls).toBe(67);
    });
  });

  describe('when the same item is delivered again, in one delivery and in a later one', () => {
    it('answers the copies as duplicates and writes nothing more', async () => {
      // Prepare
      const h = await harness();
      const body = configEventText(
        notificationsOf(configItemFiles().find((f) => f.file === 'AWS_S3_Bucket.json')!.value)[0]!,
      );
      await forward(h, [body, body], 'first');
      const events = h.store.eventCount;
      const signs = h.signer.signCalls;

      // Act
      const { outcome } = await forward(h, [body], 'again');

      // Assess
      expect(events).toBe(1);
      expect(outcome.duplicates).toEqual(['again-0']);
      expect(outcome.versions).toMatchObject([{ n: 1, status: 'unchanged' }]);
      expect(h.store.eventCount).toBe(events);
      expect(h.signer.signCalls).toBe(signs);
    });
  });

  describe('when an item older than the latest version arrives', () => {
    it('takes the next position in the chain and its place in time', async () => {
      // Prepare: the real "created" item of a bucket, and its deletion modeled on the real ResourceDeleted
      // item ten minutes later (same shape as the real one); the deletion is delivered first.
      const samples = jsonLines('config/more-samples.jsonl');
      const created = notificationInSample(samples[9]!).notification;
      const deletion = structuredClone(notificationInSample(samples[8]!).notification);
      const deletedItem = itemOf(deletion);
      for (const key of ['ARN', 'resourceId', 'resourceName', 'awsAccountId', 'awsRegion'])
        deletedItem[key] = itemOf(created)[key];
      deletedItem['configurationItemCaptureTime'] = '2017-08-10T14:23:25.320Z';
      const bucket = 'arn:aws:s3:::custodian-test-data-23';
      const h = await harness();

      // Act
      await forward(h, [configEventText(deletion)], 'late');
      h.clock.nowMs += 1000;
      const { outcome } = await forward(h, [configEventText(created)], 'early');

      // Assess
      expect(outcome.versions).toMatchObject([{ resourceId: bucket, n: 2, status: 'created' }]);
      expect(await readProfileAt(h.profiles, bucket, '2017-08-10T14:20:00.000Z')).toMatchObject({
        status: 'found',
        version: { n: 2 },
      });
      expect(await readProfileAt(h.profiles, bucket)).toMatchObject({ status: 'deleted', version: { n: 1 } });
    });
  });

  describe('when the notification is oversized', () => {
    it('keeps a version that says the configuration was not delivered, never drops it', async () => {
      // Prepare: the real oversized EventBridge event, and the documentation's delivery-failed example.
      const h = await harness();
      const samples = textLines('config/more-samples.jsonl');
      const failedDelivery = jsonLines('config/more-samples.jsonl').findIndex(
        (s) =>
          notificationInSample(s).notification['messageType'] ===
          'OversizedConfigurationItemChangeDeliveryFailed',
      );
      const bodies = [
        samples[3]!,
        configEventText(
          notificationInSample(jsonLines('config/more-samples.jsonl')[failedDelivery]!).notification,
        ),
      ];

      // Act
      const { outcome, rejected } = await forward(h, bodies);

      // Assess
      expect(rejected).toEqual([]);
      expect(outcome.stored).toEqual(['m-0', 'm-1']);
      const oversized = await readProfileAt(
        h.profiles,
        'arn:aws:ssm:us-east-1:123456789012:managed-instance-inventory/mi-1234567890123456',
      );
      expect(oversized).toMatchObject({
        status: 'found',
        version: {
          configurationDelivered: false,
          profile: { configuration: null, configurationNotDelivered: { reason: 'SOURCE_OVERSIZED' } },
        },
      });
    });
  });

  describe('when a Config event cannot become a profile', () => {
    it('rejects it with its reason, writes nothing, and does not ask for redelivery', async () => {
      // Prepare
      const h = await harness();
      const item = structuredClone(
        itemOf(notificationsOf(configItemFiles().find((f) => f.file === 'AWS_IAM_Role.json')!.value)[0]!),
      );
      item['configurationItemStatus'] = '';
      const bad = configEventText({
        messageType: 'ConfigurationItemChangeNotification',
        configurationItem: item,
      });

      // Act
      const { outcome, rejected } = await forward(h, [bad]);

      // Assess
      expect(rejected).toEqual([expect.objectContaining({ messageId: 'm-0', reason: 'BAD_STATUS' })]);
      expect(outcome.failed).toEqual([]);
      expect(h.store.eventCount).toBe(0);
    });
  });

  describe('when the ledger is unavailable', () => {
    it('returns the Config messages as failed, and a redelivery stores them', async () => {
      // Prepare
      let down = true;
      const h = await harness({
        beforeGroup: () => {
          if (down) throw new LedgerUnavailableError('throttled', []);
        },
      });
      const bodies = jsonLines('config/sns-notifications.jsonl').map((sns, i) =>
        configEventText(sns['Message'] as Record<string, unknown>, i),
      );

      // Act
      const first = await forward(h, bodies, 'try1');
      down = false;
      const second = await forward(h, bodies, 'try2');

      // Assess
      expect(first.outcome.failed).toEqual(['try1-0', 'try1-1', 'try1-2']);
      expect(first.outcome.stored).toEqual([]);
      expect(first.failed).toEqual(['try1-0', 'try1-1', 'try1-2']);
      expect(second.outcome.stored).toEqual(['try2-0', 'try2-1', 'try2-2']);
      expect(h.store.eventCount).toBe(3);
    });
  });

  describe('when a CloudTrail record carries the new state of a resource', () => {
    it('stores the event and derives a version linked to it; a redelivery derives nothing new', async () => {
      // Prepare: the real PutBucketPolicy record (all_permissive.jsonl line 701).
      const h = await harness();
      const body = wrapInEventBridgeEnvelope(JSON.stringify(ctLine(700, 'PutBucketPolicy')));

      // Act
      const first = await forward(h, [body], 'first');
      const again = await forward(h, [body], 'again');

      // Assess
      expect(first.outcome.stored).toEqual(['first-0']);
      expect(first.outcome.versions).toMatchObject([
        { source: 'cloudtrail', resourceId: 'arn:aws:s3:::example-bucket', n: 1, status: 'created' },
      ]);
      const version = await readProfileAt(h.profiles, 'arn:aws:s3:::example-bucket');
      expect(version).toMatchObject({
        status: 'found',
        version: {
          profile: {
            source: 'cloudtrail',
            relatedEventIds: ['ct:1111'],
            lastModified: '2019-01-01T00:00:00.000Z',
            policies: { bucketPolicy: { Version: '2012-10-17' } },
          },
        },
      });
      expect(again.outcome.duplicates).toEqual(['again-0']);
      expect(again.outcome.versions).toMatchObject([{ n: 1, status: 'unchanged' }]);
      expect(h.store.eventCount).toBe(2);
    });
  });

  describe('when AWS Config keeps the resource’s profile', () => {
    it('stores the CloudTrail change (it is on the timeline) but derives no version', async () => {
      // Prepare: the real bucket item, and the real PutBucketPolicy pointed at that bucket an hour later.
      const h = await harness();
      const item = configEventText(
        notificationsOf(configItemFiles().find((f) => f.file === 'AWS_S3_Bucket.json')!.value)[0]!,
      );
      const record = ctLine(700, 'PutBucketPolicy');
      (record['requestParameters'] as Record<string, unknown>)['bucketName'] =
        'mborch-test-bucket-config-item';
      record['eventID'] = 'put-policy-on-the-config-bucket';
      record['eventTime'] = '2019-02-12T08:29:16Z';
      await forward(h, [item], 'config');

      // Act
      const { outcome } = await forward(h, [wrapInEventBridgeEnvelope(JSON.stringify(record))], 'trail');

      // Assess
      expect(outcome.stored).toEqual(['trail-0']);
      expect(outcome.versions).toEqual([]);
      expect(await h.profiles.head('arn:aws:s3:::mborch-test-bucket-config-item')).toMatchObject({ n: 1 });
      const stored = await h.store.getEvent(LEDGER, 'ct:put-policy-on-the-config-bucket');
      expect(JSON.parse(new TextDecoder().decode(stored!.bytes))).toMatchObject({
        resource: { id: 'arn:aws:s3:::mborch-test-bucket-config-item', type: 'AWS::S3::Bucket' },
      });
    });
  });

  describe('when one delivery holds a resource’s tag changes out of order', () => {
    it('applies them in event-time order over the known tags', async () => {
      // Prepare: the real KMS UntagResource (21:19:19) and TagResource (21:19:25), delivered tag first, over
      // a CloudTrail-known version with tags (ours: a version of the key at 21:00).
      const h = await harness();
      const untag = ctLine(999, 'UntagResource');
      const tag = ctLine(998, 'TagResource');
      const keyArn = String((untag['resources'] as { ARN: string }[])[0]!.ARN);
      const { writeProfile } = await import('../../../shared/profiles/write-profile.ts');
      const { parseProfile } = await import('../../../shared/profiles/profile.ts');
      await writeProfile(
        h.profiles,
        parseProfile({
          resourceId: keyArn,
          resourceType: 'AWS::KMS::Key',
          configuration: null,
          configurationNotDelivered: { reason: 'NOT_IN_SOURCE' },
          tags: { Dept: 'Finance', Owner: 'ops' },
          lastModified: '2020-07-01T21:00:00Z',
          source: 'cloudtrail',
        }),
        { clock: h.clock.now },
      );

      // Act
      const { outcome } = await forward(h, [
        wrapInEventBridgeEnvelope(JSON.stringify(tag)),
        wrapInEventBridgeEnvelope(JSON.stringify(untag)),
      ]);

      // Assess
      expect(outcome.versions.map((v) => v.messageIds)).toEqual([['m-1'], ['m-0']]);
      const versions = await h.profiles.listByTime(keyArn, { limit: 10 });
      expect(versions.map((v) => v.profile.tags)).toEqual([
        { Dept: 'Finance', Owner: 'ops' },
        { Owner: 'ops' },
        { Department: 'IT', Owner: 'ops' },
      ]);
    });
  });
});

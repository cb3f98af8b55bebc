import { describe, expect, it } from 'vitest';
import { canonicalString } from '../../../shared/canonical/jcs.ts';
import { profileAt } from '../../../shared/profiles/at-time.ts';
import {
  profileFromConfigEvent,
  profileFromConfigNotification,
} from '../../../shared/profiles/aws-config.ts';
import { diffProfiles } from '../../../shared/profiles/diff.ts';
import { ConfigMappingError, type ConfigRejectReason } from '../../../shared/profiles/errors.ts';
import { jcsSha256, type Profile } from '../../../shared/profiles/profile.ts';
import { readTimeline } from '../../../shared/profiles/timeline.ts';
import { createVersion } from '../../../shared/profiles/version.ts';
import { writeProfile } from '../../../shared/profiles/write-profile.ts';
import { InMemoryProfileStore } from '../../../shared/storage/in-memory-profile-store.ts';
import { readSharedText } from '../../support/shared-data.ts';
import {
  configEventText,
  configItemFiles,
  itemOf,
  jsonLines,
  notificationInSample,
  notificationsOf,
  textLines,
  wrapInConfigEvent,
} from './config-fixtures.ts';

type Json = Record<string, unknown>;

function mappingError(act: () => unknown): ConfigMappingError {
  try {
    act();
  } catch (error) {
    if (error instanceof ConfigMappingError) return error;
    throw error;
  }
  throw new Error('the mapping did not throw');
}

/** Normalized capture time, as the mapping reads it (RFC 3339 text or the CLI's epoch seconds). */
function expectedTime(value: unknown): string {
  return typeof value === 'number'
    ? new Date(Math.floor(value * 1000)).toISOString()
    : new Date(String(value)).toISOString();
}

/** Checks that the profile keeps every member of the item: the bulky ones as members, the rest in origin. */
function expectItemKept(profile: Profile, item: Json): void {
  const config = item['configuration'];
  const expectedConfig =
    typeof config === 'string' && /^[[{]/.test(config) ? JSON.parse(config) : (config ?? null);
  expect(profile.configuration).toEqual(expectedConfig);
  for (const member of ['supplementaryConfiguration', 'tags', 'relationships'] as const) {
    expect(profile[member]).toEqual(item[member] ?? undefined);
  }
  const origin = (profile.origin as Json)['configurationItem'] as Json;
  const rebuilt = { ...origin };
  for (const member of ['configuration', 'supplementaryConfiguration', 'tags', 'relationships']) {
    if (member in item) rebuilt[member] = item[member];
  }
  expect(rebuilt).toEqual(item);
  const related = Array.isArray(item['relatedEvents']) ? (item['relatedEvents'] as string[]) : [];
  expect(profile.relatedEventIds ?? []).toEqual(related.map((id) => `ct:${id}`));
  expect(profile.lastModified).toBe(expectedTime(item['configurationItemCaptureTime']));
  expect(profile.resourceType).toBe(item['resourceType']);
}

describe('Function: profileFromConfigEvent', () => {
  describe('when mapping all 70 configuration items, each wrapped in an EventBridge event', () => {
    const files = configItemFiles();
    type Outcome =
      | { file: string; outcome: 'MAPPED'; mapped: ReturnType<typeof profileFromConfigEvent>; item: Json }
      | { file: string; outcome: ConfigRejectReason | 'NOT_JSON' };
    const outcomes = files.flatMap((f): Outcome[] => {
      if (f.parseError !== undefined) return [{ file: f.file, outcome: 'NOT_JSON' }];
      return notificationsOf(f.value).map((notification, i): Outcome => {
        try {
          const mapped = profileFromConfigEvent(configEventText(notification, i));
          return { file: f.file, outcome: 'MAPPED', mapped, item: itemOf(notification) };
        } catch (error) {
          if (!(error instanceof ConfigMappingError)) throw error;
          return { file: f.file, outcome: error.reason };
        }
      });
    });

    it('maps every item that is valid JSON with a real capture time, and names the others', () => {
      // Assess
      expect(files).toHaveLength(70);
      const tally: Record<string, number> = {};
      for (const o of outcomes) tally[o.outcome] = (tally[o.outcome] ?? 0) + 1;
      expect(tally).toEqual({ MAPPED: 67, NOT_JSON: 2, BAD_CAPTURE_TIME: 1 });
      expect(outcomes.filter((o) => o.outcome !== 'MAPPED').map((o) => [o.file, o.outcome])).toEqual([
        // The sample's capture time is a Python repr, `datetime.datetime(2020, 4, 22, …)`.
        ['AWS_ACM_Certificate.json', 'BAD_CAPTURE_TIME'],
        // Broken upstream: a missing comma, and a raw control character in a string.
        ['AWS_EC2_NetworkInterface.json', 'NOT_JSON'],
        ['AWS_SSM_ManagedInstanceInventory_Linux.json', 'NOT_JSON'],
      ]);
    });

    it('keeps configuration, supplementaryConfiguration, tags, relationships and every other member', () => {
      // Assess
      for (const o of outcomes) {
        if (o.outcome !== 'MAPPED') continue;
        expectItemKept(o.mapped.parsed.profile, o.item);
        expect(o.mapped.parsed.profile.source).toBe('aws-config');
      }
    });

    it('names each resource by its ARN, or by a documented id when the item has none', () => {
      // Assess
      const ids = outcomes.flatMap((o) =>
        o.outcome === 'MAPPED' ? [o.mapped.parsed.profile.resourceId] : [],
      );
      expect(ids.filter((id) => !id.startsWith('arn:'))).toEqual([
        'aws-config:us-east-1:123456789012:AWS::EC2::Host/h-test',
        'aws-config:us-east-1:123456789012:AWS::S3::AccountPublicAccessBlock/123456789012',
      ]);
      expect(ids).toContain('arn:aws:iam::264683526309:role/service-role/config-role-ezcrc2');
    });

    it('gives versions that fit the bounds, related events as ct: ids', () => {
      // Assess
      for (const o of outcomes) {
        if (o.outcome !== 'MAPPED') continue;
        const version = createVersion(o.mapped.parsed, {
          n: 1,
          previousHash: null,
          recordedAt: '2026-11-23T00:00:00.000Z',
        });
        expect(version.configurationDelivered).toBe(true);
      }
      const instance = outcomes.find((o) => o.file === 'AWS_EC2_Instance.json');
      expect(instance?.outcome === 'MAPPED' && instance.mapped.parsed.profile.relatedEventIds).toEqual([
        'ct:d3d87c29-bde3-4380-a7de-810f379246cc',
      ]);
    });
  });

  describe('when the detail-type is not a Config item change', () => {
    it('rejects it with UNSUPPORTED_DETAIL_TYPE', () => {
      // Prepare
      const envelope = {
        ...wrapInConfigEvent(notificationsOf(jsonLines('config/more-samples.jsonl')[14])[0]!),
        'detail-type': 'Config Rules Compliance Change',
      };

      // Assess
      expect(mappingError(() => profileFromConfigEvent(JSON.stringify(envelope))).reason).toBe(
        'UNSUPPORTED_DETAIL_TYPE',
      );
    });
  });

  describe('when the envelope lacks a member', () => {
    it('rejects it with BAD_ENVELOPE and the path', () => {
      // Prepare
      const { id: _id, ...envelope } = wrapInConfigEvent(
        notificationsOf(jsonLines('config/more-samples.jsonl')[14])[0]!,
      );

      // Act
      const error = mappingError(() => profileFromConfigEvent(JSON.stringify(envelope)));

      // Assess
      expect(error.reason).toBe('BAD_ENVELOPE');
      expect(error.path).toBe('$.id');
    });
  });
});

describe('Function: profileFromConfigNotification', () => {
  describe('when given the documentation’s three SNS change notifications', () => {
    const notifications = jsonLines('config/sns-notifications.jsonl').map((sns) => sns['Message'] as Json);

    it('maps each one, keeps its item and leaves out configurationItemDiff', () => {
      // Act
      const mapped = notifications.map((n) => profileFromConfigEvent(configEventText(n)));

      // Assess
      expect(mapped.map((m) => m.parsed.profile.resourceId)).toEqual([
        'arn:aws:us-west-2b:123456789012:volume/vol-ce676ccc',
        'arn:aws:ec2:us-east-2:123456789012:instance/i-007d374c8912e3e90',
        'arn:aws:ec2:us-east-2:123456789012:security-group/sg-3f1fef43',
      ]);
      mapped.forEach((m, i) => {
        expect(m.parsed.profile.origin).not.toHaveProperty('configurationItemDiff');
        expect(m.parsed.profile.origin).toHaveProperty('messageType', 'ConfigurationItemChangeNotification');
        expectItemKept(m.parsed.profile, itemOf(notifications[i]!));
      });
    });

    it('turns AWS Config’s six changed properties of the instance into five RFC 6902 replacements', () => {
      // Prepare: the instance before the change, rebuilt from the previous values in its own diff.
      const notification = notifications[1]!;
      const changed = (notification['configurationItemDiff'] as Json)['changedProperties'] as Record<
        string,
        Json
      >;
      const current = itemOf(notification);
      const before = structuredClone(current) as { configuration: Json; relationships: Json[] };
      (before.configuration['networkInterfaces'] as Json[])[0] = changed[
        'Configuration.NetworkInterfaces.0'
      ]!['previousValue'] as Json;
      (before.configuration['securityGroups'] as Json[])[0] = changed['Configuration.SecurityGroups.0']![
        'previousValue'
      ] as Json;
      const sg = before.relationships.findIndex((r) => r['resourceId'] === 'sg-3f1fef43');
      before.relationships[sg] = changed['Relationships.0']!['previousValue'] as Json;
      const previous = profileFromConfigNotification({ ...notification, configurationItem: before });
      const next = profileFromConfigNotification(notification);

      // Act
      const diff = diffProfiles({ n: 1, profile: previous.parsed.profile }, { profile: next.parsed.profile });

      // Assess
      expect(Object.keys(changed)).toHaveLength(6);
      expect(diff.patch).toEqual(
        expect.arrayContaining([
          {
            op: 'replace',
            path: '/configuration/networkInterfaces/0/groups/0/groupName',
            value: 'example-security-group-2',
          },
          {
            op: 'replace',
            path: '/configuration/networkInterfaces/0/groups/0/groupId',
            value: 'sg-3f1fef43',
          },
          {
            op: 'replace',
            path: '/configuration/securityGroups/0/groupName',
            value: 'example-security-group-2',
          },
          { op: 'replace', path: '/configuration/securityGroups/0/groupId', value: 'sg-3f1fef43' },
          { op: 'replace', path: `/relationships/${sg}/resourceId`, value: 'sg-3f1fef43' },
        ]),
      );
      expect(diff.patch).toHaveLength(5);
    });
  });

  describe('when given every sample of more-samples.jsonl, whatever carries it', () => {
    const samples = jsonLines('config/more-samples.jsonl');
    const sampleTexts = textLines('config/more-samples.jsonl');

    it('maps all 18, with the message types and statuses they carry', () => {
      // Act
      const mapped = samples.map((sample, i) => {
        const { carrier, notification } = notificationInSample(sample);
        // The real EventBridge events are mapped from their own text, as delivered.
        const text = carrier === 'eventbridge' ? sampleTexts[i]! : configEventText(notification, i);
        return { carrier, ...profileFromConfigEvent(text) };
      });

      // Assess
      expect(mapped.map((m) => m.carrier)).toEqual([
        'item',
        'lambda-sns',
        'eventbridge',
        'eventbridge',
        'config-rule',
        'config-rule',
        'config-rule',
        'eventbridge',
        'sns',
        'sns',
        'sns',
        'config-rule',
        'config-rule',
        'config-rule',
        'item',
        'item',
        'item',
        'notification',
      ]);
      expect(mapped.map((m) => m.messageType.replace('ConfigurationItemChange', ''))).toEqual([
        'Notification',
        'Notification',
        'Notification',
        'OversizedNotification',
        'Notification',
        'Notification',
        'Notification',
        'Notification',
        'Notification',
        'Notification',
        'Notification',
        'Notification',
        'Notification',
        'Notification',
        'Notification',
        'Notification',
        'Notification',
        'OversizedDeliveryFailed',
      ]);
      // Line 0 is the CLI's output: capture time as epoch seconds.
      expect(mapped[0]!.parsed.profile.lastModified).toBe('2014-10-30T22:35:29.922Z');
      // Line 14: an API-shape item with an offset and microseconds, configuration as a JSON string.
      expect(mapped[14]!.parsed.profile.lastModified).toBe('2017-02-04T11:10:33.880Z');
      expect(mapped[14]!.parsed.profile.configuration).toMatchObject({ name: 'config-rule-sanity' });
    });

    it('makes the real ResourceDeleted item a tombstone, with its related CloudTrail event', () => {
      // Act
      const deleted = profileFromConfigEvent(configEventText(notificationInSample(samples[8]!).notification));

      // Assess
      expect(deleted.status).toBe('ResourceDeleted');
      expect(deleted.parsed.profile).toMatchObject({
        resourceId: 'arn:aws:s3:::custodian-test-data-21',
        tombstone: true,
        configuration: null,
        relatedEventIds: ['ct:f0a77d15-7b72-45a8-a54c-ab6540254b5a'],
      });
      expect(deleted.parsed.profile.configurationNotDelivered).toBeUndefined();
    });

    it('keeps the real oversized EventBridge event as a version whose configuration was not delivered', () => {
      // Act
      const oversized = profileFromConfigEvent(sampleTexts[3]!);
      const failed = profileFromConfigEvent(configEventText(samples[17]!));

      // Assess
      expect(oversized.parsed.profile).toMatchObject({
        resourceId: 'arn:aws:ssm:us-east-1:123456789012:managed-instance-inventory/mi-1234567890123456',
        configuration: null,
        configurationNotDelivered: { reason: 'SOURCE_OVERSIZED' },
      });
      expect(oversized.parsed.profile.configurationNotDelivered?.location).toBe('bucket/file.json.gz');
      expect(failed.parsed.profile.configurationNotDelivered).toEqual({
        reason: 'SOURCE_DELIVERY_FAILED',
        detail: 'NoSuchBucket',
      });
    });
  });

  describe('when given the documentation’s oversized-item example', () => {
    it('keeps it, naming the S3 object that holds the configuration', () => {
      // Prepare: the JSON part of the e-mail text.
      const text = readSharedText('config/oversized-notification-example.txt');
      const notification = JSON.parse(text.slice(text.indexOf('{'))) as Json;

      // Act
      const mapped = profileFromConfigEvent(configEventText(notification));

      // Assess
      expect(mapped.messageType).toBe('OversizedConfigurationItemChangeNotification');
      const version = createVersion(mapped.parsed, {
        n: 1,
        previousHash: null,
        recordedAt: '2026-11-23T00:00:00.000Z',
      });
      expect(version.configurationDelivered).toBe(false);
      expect(mapped.parsed.profile.configurationNotDelivered?.location).toMatch(
        /^my-bucket\/AWSLogs\/.*\.json\.gz$/,
      );
      expect(mapped.parsed.profile.lastModified).toBe('2016-10-06T16:46:16.261Z');
    });
  });

  describe('when the configuration is larger than a profile may be', () => {
    it('keeps the item as a version that says so, with the SHA-256 of what was left out', () => {
      // Prepare
      const item = structuredClone(itemOf(notificationsOf(jsonLines('config/more-samples.jsonl')[14])[0]!));
      item['configuration'] = Object.fromEntries(
        Array.from({ length: 200 }, (_, i) => [`k${i}`, 'x'.repeat(2_000)]),
      );

      // Act
      const mapped = profileFromConfigNotification({
        messageType: 'ConfigurationItemChangeNotification',
        configurationItem: item,
      });

      // Assess
      const { profile } = mapped.parsed;
      expect(profile.configuration).toBeNull();
      expect(profile.configurationNotDelivered).toEqual({
        reason: 'PROFILE_LIMIT',
        detail: 'TOO_LARGE',
        sha256: jcsSha256({
          configuration: item['configuration'],
          supplementaryConfiguration: item['supplementaryConfiguration'],
          relationships: item['relationships'],
        }),
      });
      expect(profile.tags).toEqual({ Planet: 'Earth', Verbose: 'Game' });
    });
  });

  describe('when a configuration number is one no double holds exactly', () => {
    it('never rounds it: the configuration is kept out and the version names why', () => {
      // Prepare: the text as EventBridge would deliver it, with an integer beyond 2^53.
      const text =
        '{"version":"0","id":"e-1","detail-type":"Config Configuration Item Change","source":"aws.config","account":"123456789012","time":"2024-01-01T00:00:00Z","region":"us-east-1","resources":[],' +
        '"detail":{"messageType":"ConfigurationItemChangeNotification","configurationItem":{"resourceType":"AWS::S3::Bucket","ARN":"arn:aws:s3:::b","configurationItemCaptureTime":"2024-01-01T00:00:00Z","configurationItemStatus":"OK","configurationStateId":1549956556288,"configuration":{"objects":12345678901234567890,"ratio":1.50}}}}';

      // Act
      const mapped = profileFromConfigEvent(text);

      // Assess
      const { profile } = mapped.parsed;
      expect(profile.configuration).toBeNull();
      expect(profile.configurationNotDelivered).toEqual({
        reason: 'PROFILE_LIMIT',
        detail: 'INEXACT_NUMBER',
      });
      expect((profile.origin as Json)['configurationItem']).toMatchObject({
        configurationStateId: 1549956556288,
      });
    });
  });

  describe('when the event text is not JSON', () => {
    it('refuses it with INVALID_JSON, without quoting it', () => {
      // Prepare: one of the two sample files that are not JSON, as if it were delivered.
      const broken = configItemFiles().find((f) => f.file === 'AWS_EC2_NetworkInterface.json')!;
      const text = readSharedText('config/configuration-items/AWS_EC2_NetworkInterface.json');

      // Act
      const error = mappingError(() => profileFromConfigEvent(text));

      // Assess
      expect(broken.parseError).toBeDefined();
      expect(error.reason).toBe('INVALID_JSON');
      expect(error.message).not.toContain('eni-');
    });
  });

  describe('when the configuration holds a __proto__ member', () => {
    it('does not keep that configuration, says why, and leaves Object.prototype alone', () => {
      // Prepare: as a JSON body would carry it.
      const notification = JSON.parse(
        '{"messageType":"ConfigurationItemChangeNotification","configurationItem":{"resourceType":"AWS::S3::Bucket","ARN":"arn:aws:s3:::b","configurationItemCaptureTime":"2024-01-01T00:00:00Z","configurationItemStatus":"OK","configuration":{"__proto__":{"polluted":1}}}}',
      ) as Json;

      // Act
      const mapped = profileFromConfigNotification(notification);

      // Assess
      expect(mapped.parsed.profile.configurationNotDelivered).toMatchObject({
        reason: 'PROFILE_LIMIT',
        detail: 'FORBIDDEN_KEY',
      });
      expect(({} as Json)['polluted']).toBeUndefined();
    });
  });

  describe('when the tags are not strings', () => {
    it('keeps the configuration and records that the tags were not kept', () => {
      // Act
      const mapped = profileFromConfigNotification({
        configurationItem: {
          resourceType: 'AWS::S3::Bucket',
          ARN: 'arn:aws:s3:::b',
          configurationItemCaptureTime: '2024-01-01T00:00:00Z',
          configurationItemStatus: 'OK',
          configuration: { name: 'b' },
          tags: { team: 7 },
        },
      });

      // Assess
      expect(mapped.parsed.profile.configuration).toEqual({ name: 'b' });
      expect(mapped.parsed.profile.tags).toBeUndefined();
      expect(mapped.parsed.profile.origin).toMatchObject({ notKept: ['tags'] });
    });
  });

  describe('when the status is ResourceNotRecorded', () => {
    it('marks the configuration as not recorded by the source', () => {
      // Act
      const mapped = profileFromConfigNotification({
        configurationItem: {
          resourceType: 'AWS::S3::Bucket',
          ARN: 'arn:aws:s3:::b',
          configurationItemCaptureTime: '2024-01-01T00:00:00Z',
          configurationItemStatus: 'ResourceNotRecorded',
          configuration: null,
        },
      });

      // Assess
      expect(mapped.parsed.profile.configurationNotDelivered).toEqual({ reason: 'NOT_RECORDED_BY_SOURCE' });
    });
  });

  describe.each([
    [
      'a snapshot delivery message',
      { messageType: 'ConfigurationSnapshotDeliveryCompleted' },
      'UNSUPPORTED_MESSAGE_TYPE',
    ],
    [
      'an item without resourceType',
      { configurationItem: { ARN: 'arn:aws:s3:::b' } },
      'MISSING_RESOURCE_TYPE',
    ],
    [
      'an item without an id',
      { configurationItem: { resourceType: 'AWS::S3::Bucket' } },
      'MISSING_RESOURCE_ID',
    ],
    [
      'an item without a status',
      {
        configurationItem: {
          resourceType: 'AWS::S3::Bucket',
          ARN: 'arn:aws:s3:::b',
          configurationItemCaptureTime: '2024-01-01T00:00:00Z',
        },
      },
      'BAD_STATUS',
    ],
    ['an array of two items', { configurationItem: [{}, {}] }, 'MISSING_CONFIGURATION_ITEM'],
    [
      'an origin member named constructor',
      {
        constructor: {},
        configurationItem: {
          resourceType: 'AWS::S3::Bucket',
          ARN: 'arn:aws:s3:::b',
          configurationItemCaptureTime: '2024-01-01T00:00:00Z',
          configurationItemStatus: 'OK',
        },
      },
      'INVALID_ITEM',
    ],
  ] as const)('when the notification is %s', (_name, notification, reason) => {
    it(`rejects it with ${reason}`, () => {
      // Assess
      expect(
        mappingError(() => profileFromConfigNotification(JSON.parse(JSON.stringify(notification)))).reason,
      ).toBe(reason);
    });
  });
});

describe('Scenario: a real bucket created, then deleted, read at any time', () => {
  it('answers found, then deleted, and shows the deletion on the timeline', async () => {
    // Prepare: the real "created" item (line 9), and a deletion of the same bucket modeled on the real
    // ResourceDeleted item of line 8 (same shape, configuration null), ten minutes later.
    const samples = jsonLines('config/more-samples.jsonl');
    const created = notificationInSample(samples[9]!).notification;
    const deletion = structuredClone(notificationInSample(samples[8]!).notification);
    const deletedItem = itemOf(deletion);
    const createdItem = itemOf(created);
    for (const key of ['ARN', 'resourceId', 'resourceName', 'awsAccountId', 'awsRegion'])
      deletedItem[key] = createdItem[key];
    deletedItem['configurationItemCaptureTime'] = '2017-08-10T14:23:25.320Z';
    const store = new InMemoryProfileStore();
    const clock = () => new Date('2026-11-23T00:00:00.000Z');

    // Act
    const first = await writeProfile(store, profileFromConfigEvent(configEventText(created)).parsed, {
      clock,
    });
    const second = await writeProfile(store, profileFromConfigEvent(configEventText(deletion)).parsed, {
      clock,
    });
    const again = await writeProfile(store, profileFromConfigEvent(configEventText(created)).parsed, {
      clock,
    });
    const versions = await store.listByTime('arn:aws:s3:::custodian-test-data-23', { limit: 10 });
    const timeline = await readTimeline(store, 'arn:aws:s3:::custodian-test-data-23', () => [], {
      limit: 10,
    });

    // Assess
    expect([first.status, second.status, again.status]).toEqual(['created', 'created', 'unchanged']);
    expect(profileAt(versions, '2017-08-10T14:13:25.319Z')).toMatchObject({
      status: 'none',
      reason: 'BEFORE_FIRST_VERSION',
    });
    expect(profileAt(versions, '2017-08-10T14:13:25.320Z')).toMatchObject({
      status: 'found',
      version: { n: 1 },
    });
    expect(profileAt(versions, '2030-01-01T00:00:00.000Z')).toMatchObject({
      status: 'deleted',
      version: { n: 2 },
    });
    const last = timeline.items.at(-1)!;
    expect(last.kind === 'version' && last.diff.patch).toEqual(
      expect.arrayContaining([
        { op: 'replace', path: '/tombstone', value: true },
        { op: 'replace', path: '/configuration', value: null },
      ]),
    );
    expect(canonicalString(second.version.profile.relatedEventIds)).toBe(
      '["ct:f0a77d15-7b72-45a8-a54c-ab6540254b5a"]',
    );
  });
});

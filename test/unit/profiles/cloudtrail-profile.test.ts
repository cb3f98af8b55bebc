import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AuditEventInput } from '../../../shared/events/audit-event.ts';
import { fromCloudTrailRecord, fromEventBridgeEnvelope } from '../../../shared/events/cloudtrail.ts';
import { CloudTrailMappingError } from '../../../shared/events/errors.ts';
import { profileAt } from '../../../shared/profiles/at-time.ts';
import { profileFromCloudTrail, resourceLinkOf } from '../../../shared/profiles/cloudtrail-profile.ts';
import { parseProfile } from '../../../shared/profiles/profile.ts';
import { readTimeline } from '../../../shared/profiles/timeline.ts';
import type { ProfileVersion } from '../../../shared/profiles/version.ts';
import { writeProfile } from '../../../shared/profiles/write-profile.ts';
import { InMemoryProfileStore } from '../../../shared/storage/in-memory-profile-store.ts';
import { readSharedText, sharedDataPath } from '../../support/shared-data.ts';

const allLines = readSharedText('cloudtrail/all_permissive.jsonl')
  .split('\n')
  .filter((line) => line.length > 0);

/** The mapped audit event of line `index` of all_permissive.jsonl, checked against its eventID. */
function realEvent(index: number, eventId: string): AuditEventInput {
  const line = allLines[index]!;
  expect((JSON.parse(line) as Record<string, unknown>)['eventID']).toBe(eventId);
  return fromCloudTrailRecord(line);
}

const clock = () => new Date('2026-11-23T00:00:00.000Z');

/** Writes what the event derives, from the version in force at its time; returns the outcome. */
async function apply(store: InMemoryProfileStore, event: AuditEventInput) {
  const link = resourceLinkOf(event)!;
  const inForce = await store.versionAt(link.resourceId, link.time);
  const derivation = profileFromCloudTrail(event, inForce);
  return derivation.derived
    ? { derivation, written: await writeProfile(store, derivation.parsed, { clock }) }
    : { derivation };
}

describe('Function: resourceLinkOf', () => {
  describe('when mapping every record of all_permissive.jsonl', () => {
    const events = allLines.flatMap((line) => {
      try {
        return [fromCloudTrailRecord(line)];
      } catch (error) {
        if (error instanceof CloudTrailMappingError) return [];
        throw error;
      }
    });

    it('links the events that name a resource, and tells the changes apart (pinned counts)', () => {
      // Act
      const links = events.flatMap((e) => resourceLinkOf(e) ?? []);

      // Assess
      expect(events).toHaveLength(883);
      expect(links).toHaveLength(492);
      expect(links.filter((l) => l.changes)).toHaveLength(240);
      for (const link of links) expect(link.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    });

    it('derives a version only from records that carry the new state (pinned counts)', () => {
      // Act
      const tally: Record<string, number> = {};
      for (const event of events) {
        const d = profileFromCloudTrail(event, undefined);
        const key = d.derived ? d.aspect.replace(/:.*$/, '') : d.reason;
        tally[key] = (tally[key] ?? 0) + 1;
      }

      // Assess
      expect(tally).toEqual({
        NOT_A_CHANGE: 643,
        STATE_NOT_IN_RECORD: 218,
        TAGS_UNKNOWN: 7,
        tombstone: 8,
        'policies.bucketPolicy': 2,
        'policies.assumeRolePolicy': 1,
        'policies.inline': 3,
        'policies.keyPolicy': 1,
      });
    });
  });

  it('links a successful write to the resource ARN as a change (AttachRolePolicy)', () => {
    // Act
    const link = resourceLinkOf(realEvent(297, '39480357-0a1d-4531-a3f2-71be4c041c25'));

    // Assess
    expect(link).toEqual({
      resourceId: 'arn:aws:iam::609418236337:role/stratus-red-team-malicious-iam-role',
      resourceType: 'AWS::IAM::Role',
      eventId: 'ct:39480357-0a1d-4531-a3f2-71be4c041c25',
      time: '2024-08-01T13:37:41.000Z',
      eventName: 'AttachRolePolicy',
      changes: true,
    });
  });

  it('judges a record without readOnly by the verb of its name', () => {
    // Act
    const event = realEvent(525, '1');

    // Assess
    expect(event.cloudtrail).not.toHaveProperty('readOnly');
    expect(resourceLinkOf(event)?.changes).toBe(true);
  });

  describe('when the call failed', () => {
    it('links it without calling it a change', () => {
      // Act
      const link = resourceLinkOf(realEvent(527, '1'));

      // Assess
      expect(link?.resourceId).toBe('arn:aws:ec2:us-west-2:123456789012:security-group/sg-1');
      expect(link?.changes).toBe(false);
    });
  });

  it('links events that arrive through EventBridge', () => {
    // Prepare
    const envelope = readFileSync(
      sharedDataPath('cloudtrail', 'eventbridge', 'cloud-custodian_event-cloud-trail-appelb-add-tags.json'),
      'utf8',
    );

    // Act
    const link = resourceLinkOf(fromEventBridgeEnvelope(envelope));

    // Assess
    expect(link?.resourceId).toMatch(/^arn:aws:elasticloadbalancing:us-east-1:\d+:loadbalancer\/app\//);
    expect(link?.changes).toBe(true);
  });
});

describe('Function: profileFromCloudTrail', () => {
  it('derives the bucket policy from PutBucketPolicy, and knows nothing else about the bucket', () => {
    // Act
    const derivation = profileFromCloudTrail(realEvent(700, '1111'), undefined);

    // Assess
    expect(derivation.derived).toBe(true);
    const profile = derivation.derived ? derivation.parsed.profile : undefined;
    expect(profile).toMatchObject({
      resourceId: 'arn:aws:s3:::example-bucket',
      resourceType: 'AWS::S3::Bucket',
      source: 'cloudtrail',
      lastModified: '2019-01-01T00:00:00.000Z',
      relatedEventIds: ['ct:1111'],
      configuration: null,
      configurationNotDelivered: { reason: 'NOT_IN_SOURCE' },
      policies: {
        bucketPolicy: {
          Statement: [
            {
              Action: 's3:GetBucketAcl',
              Effect: 'Allow',
              Principal: { AWS: '*' },
              Resource: 'arn:aws:s3:::example-bucket',
              Sid: 'Public Access',
            },
          ],
          Version: '2012-10-17',
        },
      },
    });
    expect(profile?.tags).toBeUndefined();
  });

  it('reads IAM policy documents, which CloudTrail records as JSON text', () => {
    // Act
    const trust = profileFromCloudTrail(realEvent(292, '62e290e2-ee95-4a7c-a9f8-db4ef462b12d'), undefined);
    const inline = profileFromCloudTrail(realEvent(564, '7ee6ba6e-1943-417a-a6a3-3a2b0292cdac'), undefined);
    const removed = profileFromCloudTrail(realEvent(579, '1'), undefined);

    // Assess
    expect(trust.derived && trust.parsed.profile.policies?.['assumeRolePolicy']).toMatchObject({
      Version: '2012-10-17',
    });
    expect(inline.derived && inline.parsed.profile.policies).toEqual({
      'inline:TestUserDenyAll': {
        Version: '2012-10-17',
        Statement: [{ Sid: 'TestUserDenyAll', Effect: 'Deny', Action: ['*'], Resource: ['*'] }],
      },
    });
    expect(removed.derived && removed.parsed.profile.policies).toEqual({ 'inline:policy': null });
  });

  it('makes DeleteBucket a tombstone', () => {
    // Act
    const derivation = profileFromCloudTrail(
      realEvent(722, '6795ef5c-7777-4444-8888-cabb7f252bd3'),
      undefined,
    );

    // Assess
    expect(derivation.derived && derivation.parsed.profile).toMatchObject({
      resourceId: 'arn:aws:s3:::secrets',
      tombstone: true,
    });
  });

  describe('when a policy document holds numbers', () => {
    it('keeps exact ones as numbers and gives no version for one it would have to round', () => {
      // Prepare: the real PutBucketPolicy record with a numeric condition added (ours).
      const withCondition = (value: string) => {
        const line = allLines[700]!;
        return fromCloudTrailRecord(
          line.replace(
            '"Sid":"Public Access"',
            `"Sid":"Public Access","Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":${value}}}`,
          ),
        );
      };

      // Act
      const exact = profileFromCloudTrail(withCondition('3600'), undefined);
      const inexact = profileFromCloudTrail(withCondition('12345678901234567890'), undefined);

      // Assess
      const policy = exact.derived ? exact.parsed.profile.policies!['bucketPolicy'] : undefined;
      const statement = (policy as { Statement: { Condition: unknown }[] } | undefined)?.Statement[0];
      expect(statement?.Condition).toEqual({ NumericLessThan: { 'aws:MultiFactorAuthAge': 3600 } });
      expect(inexact).toEqual({ derived: false, reason: 'PROFILE_INVALID' });
    });
  });

  describe('when the record carries only a change, not the new state', () => {
    it('gives no version (AttachRolePolicy, AuthorizeSecurityGroupIngress, CreateBucket)', () => {
      // Assess
      expect(
        profileFromCloudTrail(realEvent(297, '39480357-0a1d-4531-a3f2-71be4c041c25'), undefined),
      ).toEqual({
        derived: false,
        reason: 'STATE_NOT_IN_RECORD',
      });
      expect(
        profileFromCloudTrail(realEvent(265, '9fd68588-ecbf-4528-a345-199fa6bb0821'), undefined),
      ).toMatchObject({
        reason: 'STATE_NOT_IN_RECORD',
      });
      expect(
        profileFromCloudTrail(realEvent(852, 'c4fa3db1-2303-40e4-bde0-3b7246bdbf0b'), undefined),
      ).toMatchObject({
        reason: 'STATE_NOT_IN_RECORD',
      });
    });
  });

  describe('when AWS Config keeps the resource’s profile', () => {
    it('only links: the Config snapshot is authoritative', () => {
      // Prepare: a Config-sourced version of the bucket in force at the event's time.
      const event = realEvent(700, '1111');
      const config = parseProfile({
        resourceId: 'arn:aws:s3:::example-bucket',
        resourceType: 'AWS::S3::Bucket',
        configuration: { name: 'example-bucket' },
        lastModified: '2018-12-31T00:00:00Z',
        source: 'aws-config',
      });
      const inForce = { resourceId: config.profile.resourceId, profile: config.profile } as ProfileVersion;

      // Act
      const derivation = profileFromCloudTrail(event, inForce);

      // Assess
      expect(derivation).toEqual({ derived: false, reason: 'AUTHORITATIVE_SOURCE' });
    });
  });

  describe('when a tag delta arrives and the tags before it are known', () => {
    it('applies the real UntagResource and TagResource of a KMS key in time order', async () => {
      // Prepare: a CloudTrail-derived version with known tags, before the two real records (ours).
      const store = new InMemoryProfileStore();
      const keyArn = 'arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
      await writeProfile(
        store,
        parseProfile({
          resourceId: keyArn,
          resourceType: 'AWS::KMS::Key',
          configuration: null,
          configurationNotDelivered: { reason: 'NOT_IN_SOURCE' },
          tags: { Dept: 'Finance', Owner: 'ops' },
          lastModified: '2020-07-01T21:00:00Z',
          source: 'cloudtrail',
        }),
        { clock },
      );
      const untag = realEvent(999, '0b00f4b0-036e-411d-aa75-87eb4a35a4b3');
      const tag = realEvent(998, '0a091b9b-0df5-4cf9-b667-6f2879532b8f');

      // Act
      await apply(store, untag);
      await apply(store, tag);

      // Assess
      const versions = await store.listByTime(keyArn, { limit: 10 });
      expect(versions.map((v) => v.profile.tags)).toEqual([
        { Dept: 'Finance', Owner: 'ops' },
        { Owner: 'ops' },
        { Department: 'IT', Owner: 'ops' },
      ]);
      expect(profileAt(versions, '2020-07-01T21:19:20.000Z')).toMatchObject({
        status: 'found',
        version: { n: 2 },
      });
    });
  });

  describe('when a tag delta arrives and the tags before it are not known', () => {
    it('gives no version rather than a partial tag set', () => {
      // Assess
      expect(
        profileFromCloudTrail(realEvent(998, '0a091b9b-0df5-4cf9-b667-6f2879532b8f'), undefined),
      ).toEqual({
        derived: false,
        reason: 'TAGS_UNKNOWN',
      });
    });
  });

  it('builds a bucket’s timeline from its real policy change and its deletion (same bucket, ours)', async () => {
    // Prepare: the real PutBucketPolicy, and the real DeleteBucket record pointed at the same bucket a year later.
    const store = new InMemoryProfileStore();
    const put = realEvent(700, '1111');
    const deleteRecord = JSON.parse(allLines[722]!) as {
      requestParameters: { bucketName: string };
      eventTime: string;
    };
    deleteRecord.requestParameters.bucketName = 'example-bucket';
    deleteRecord.eventTime = '2020-01-01T00:00:00Z';
    const deletion = fromCloudTrailRecord(JSON.stringify(deleteRecord));

    // Act
    await apply(store, put);
    await apply(store, deletion);
    const page = await readTimeline(store, 'arn:aws:s3:::example-bucket', () => [], { limit: 10 });

    // Assess
    expect(
      page.items.map((i) => (i.kind === 'version' ? [i.version.n, i.diff.patch.map((op) => op.path)] : [])),
    ).toEqual([
      [1, []],
      [2, ['/tombstone']],
    ]);
    expect(page.items[1]).toMatchObject({
      version: { tombstone: true, profile: { relatedEventIds: [deletion.id] } },
    });
  });
});

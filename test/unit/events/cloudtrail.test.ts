import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { canonicalBytes, canonicalString } from '../../../shared/canonical/jcs.ts';
import type { AuditEventInput } from '../../../shared/events/audit-event.ts';
import { parseAuditEventInput } from '../../../shared/events/audit-event.ts';
import {
  cloudTrailRecordOf,
  fromCloudTrailRecord,
  fromEventBridgeEnvelope,
  wrapInEventBridgeEnvelope,
} from '../../../shared/events/cloudtrail.ts';
import type { CloudTrailRejectReason } from '../../../shared/events/errors.ts';
import { CloudTrailMappingError, EventValidationError } from '../../../shared/events/errors.ts';
import { isLosslessNumber, type LosslessNumber } from '../../../shared/events/json-text.ts';
import { MAX_EVENT_BYTES, MAX_RECORD_DEPTH } from '../../../shared/events/limits.ts';

// The vectors live beside the repository (../shared/data), in CI as here.
const CLOUDTRAIL_DIR = new URL('../../../../shared/data/cloudtrail/', import.meta.url);

function readLines(name: string): string[] {
  return readFileSync(new URL(name, CLOUDTRAIL_DIR), 'utf8')
    .split('\n')
    .filter((line) => line.length > 0);
}

type Outcome = { ok: true; event: AuditEventInput } | { ok: false; reason: CloudTrailRejectReason };

function mapAll(lines: string[]): Outcome[] {
  return lines.map((line) => {
    try {
      return { ok: true, event: fromCloudTrailRecord(line) };
    } catch (error) {
      if (error instanceof CloudTrailMappingError) return { ok: false, reason: error.reason };
      throw error;
    }
  });
}

function tally(outcomes: Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) {
    const key = o.ok ? 'accepted' : o.reason;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** Maps a record given as a JS value (its `JSON.stringify` text). */
const mapValue = (record: unknown): AuditEventInput => fromCloudTrailRecord(JSON.stringify(record));

function mappingFailure(act: () => unknown): CloudTrailMappingError {
  try {
    act();
  } catch (error) {
    if (error instanceof CloudTrailMappingError) return error;
    throw error;
  }
  throw new Error('the mapping did not throw');
}

const allLines = readLines('all_permissive.jsonl');
const strictLines = readLines('strict_permissive.jsonl');

/** Line `index` (0-based) of all_permissive.jsonl, checked against its eventID so a changed file fails loudly. */
function realRecord(index: number, eventId: string): Record<string, unknown> {
  const record = JSON.parse(allLines[index]!) as Record<string, unknown>;
  expect(record['eventID']).toBe(eventId);
  return record;
}

describe('Function: fromCloudTrailRecord', () => {
  describe('when mapping every record of all_permissive.jsonl', () => {
    const outcomes = mapAll(allLines);

    it('accepts or rejects each one with the pinned counts', () => {
      // Assess
      expect(allLines).toHaveLength(1_054);
      expect(tally(outcomes)).toEqual({ accepted: 883, BAD_EVENT_TIME: 114, MISSING_EVENT_ID: 57 });
    });

    it('produces events that parse and canonicalize within MAX_EVENT_BYTES', () => {
      // Prepare
      const events = outcomes.flatMap((o) => (o.ok ? [o.event] : []));

      // Act
      const sizes = events.map((event) => canonicalBytes(parseAuditEventInput(event)).length);

      // Assess
      expect(sizes).toHaveLength(883);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(MAX_EVENT_BYTES);
    });

    it('keeps every original record verbatim in cloudtrail: its own text, byte for byte', () => {
      // Act
      const mismatches = outcomes.filter((o, i) => o.ok && o.event.cloudtrail !== allLines[i]);

      // Assess
      expect(mismatches).toHaveLength(0);
    });

    it('derives action as <eventSource minus .amazonaws.com>:<eventName>, unaltered', () => {
      // Act
      const malformed = outcomes.filter((o, i) => {
        const record = JSON.parse(allLines[i]!) as { eventSource: string; eventName: string };
        return (
          o.ok &&
          o.event.action !== `${record.eventSource.replace(/\.amazonaws\.com$/, '')}:${record.eventName}`
        );
      });

      // Assess
      expect(malformed).toHaveLength(0);
      expect(outcomes.filter((o) => o.ok && !o.event.action.includes('.amazonaws.com:'))).toHaveLength(883);
    });
  });

  describe('when mapping every record of every file under ../shared/data/cloudtrail', () => {
    const files = readdirSync(CLOUDTRAIL_DIR, { recursive: true })
      .map(String)
      .filter((name) => name.endsWith('.jsonl') && !name.endsWith('.provenance.jsonl'))
      .sort();

    it('accepts each one, or refuses it only for no eventID or a placeholder eventTime', () => {
      // Act
      const refusals = files.flatMap((name) =>
        readLines(name).flatMap((line, i) => {
          try {
            fromCloudTrailRecord(line);
            return [];
          } catch (error) {
            if (!(error instanceof CloudTrailMappingError)) throw error;
            const time = (JSON.parse(line) as { eventTime?: unknown }).eventTime;
            return [{ where: `${name}:${i + 1}`, reason: error.reason, time }];
          }
        }),
      );

      // Assess
      expect(files).toEqual([
        'all_permissive.jsonl',
        'records/awsdocs.jsonl',
        'records/cloud-custodian.jsonl',
        'records/otrf-security-datasets.jsonl',
        'records/panther-analysis.jsonl',
        'records/stratus-red-team.jsonl',
        'strict_permissive.jsonl',
      ]);
      const unexplained = refusals.filter(
        (r) =>
          r.reason !== 'MISSING_EVENT_ID' &&
          !(
            r.reason === 'BAD_EVENT_TIME' &&
            typeof r.time === 'string' &&
            (/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/.test(r.time) || r.time === 'redacted')
          ),
      );
      expect(unexplained).toEqual([]);
      // all_permissive 171, strict_permissive 16, and by source: awsdocs 7, cloud-custodian 1, panther 172
      // (`npm run report:cloudtrail`, docs/EVENTS.md §6).
      expect(refusals.length).toBe(171 + 16 + 7 + 1 + 172);
    });
  });

  describe('when mapping every record of strict_permissive.jsonl', () => {
    it('accepts all but the 16 that have no eventID', () => {
      // Act
      const outcomes = mapAll(strictLines);

      // Assess
      expect(strictLines).toHaveLength(898);
      expect(tally(outcomes)).toEqual({ accepted: 882, MISSING_EVENT_ID: 16 });
    });
  });

  describe('when the record is a Root console sign-in without MFA', () => {
    it('maps a root actor, console auth, mfa false and success', () => {
      // Prepare
      const record = realRecord(913, 'deb1e1f9-c99b-4612-8e9f-21f93b5d79c0');

      // Act
      const event = mapValue(record);

      // Assess
      expect(event.id).toBe('ct:deb1e1f9-c99b-4612-8e9f-21f93b5d79c0');
      expect(event.action).toBe('signin:ConsoleLogin');
      expect(event.actor).toEqual({
        id: 'arn:aws:iam::111122223333:root',
        type: 'root',
        authMethod: 'console',
        mfa: false,
        accountId: '111122223333',
      });
      expect(event.outcome).toEqual({ result: 'success' });
      expect(event.resource).toBeUndefined();
      expect(event.sourceIp).toBe('192.0.2.0');
      expect(event.endpoint).toBe('signin.amazonaws.com');
      expect(event.details).toEqual({
        eventType: 'AwsConsoleSignIn',
        eventVersion: '1.05',
        awsRegion: 'us-east-1',
        recipientAccountId: '111122223333',
      });
    });
  });

  describe('when the console sign-in used MFA', () => {
    it('maps mfa true from additionalEventData.MFAUsed', () => {
      // Prepare
      const record = realRecord(463, 'fed06f42-cb12-4764-8c69-121063dc79b9');

      // Act
      const event = mapValue(record);

      // Assess
      expect(event.actor).toEqual({
        id: 'arn:aws:iam::111122223333:user/anaya',
        type: 'user',
        authMethod: 'console',
        mfa: true,
        accountId: '111122223333',
      });
    });
  });

  describe('when only the session context reports MFA', () => {
    it.each([
      ['true', true],
      ['false', false],
    ])('maps mfaAuthenticated %s', (flag, expected) => {
      // Prepare
      const record = realRecord(120, '16903cbd-fdff-4818-82f2-d66ad09aaf57');
      const identity = record['userIdentity'] as { sessionContext: { attributes: Record<string, string> } };
      identity.sessionContext.attributes['mfaAuthenticated'] = flag;

      // Act
      const event = mapValue(record);

      // Assess
      expect(event.actor.mfa).toBe(expected);
    });
  });

  describe('when the record is a failed console sign-in', () => {
    it('maps a failure carrying the error message', () => {
      // Prepare
      const record = realRecord(915, 'a4fbbe77-91a0-4238-804a-64314184edb6');

      // Act
      const event = mapValue(record);

      // Assess
      expect(event.action).toBe('signin:ConsoleLogin');
      expect(event.actor.type).toBe('root');
      expect(event.actor.mfa).toBe(false);
      expect(event.outcome).toEqual({ result: 'failure', errorMessage: 'Failed authentication' });
    });

    it('maps a failure from responseElements alone', () => {
      // Prepare
      const record = realRecord(915, 'a4fbbe77-91a0-4238-804a-64314184edb6');
      delete record['errorMessage'];

      // Act
      const event = mapValue(record);

      // Assess
      expect(event.outcome).toEqual({ result: 'failure' });
    });
  });

  describe('when the call was denied', () => {
    it('maps an AccessDenied failure by an assumed role', () => {
      // Prepare
      const record = realRecord(120, '16903cbd-fdff-4818-82f2-d66ad09aaf57');

      // Act
      const event = mapValue(record);

      // Assess
      expect(event.action).toBe('organizations:LeaveOrganization');
      expect(event.outcome.result).toBe('failure');
      expect(event.outcome.errorCode).toBe('AccessDenied');
      expect(event.outcome.errorMessage).toMatch(/^User: arn:aws:sts::307578594326:assumed-role\//);
      expect(event.actor).toEqual({
        id: 'arn:aws:sts::307578594326:assumed-role/stratus-red-team-leave-org-role/aws-go-sdk-1722587398902687000',
        type: 'role',
        authMethod: 'assumed-role',
        mfa: false,
        sessionId: 'ASIA36EV31F1RB3OA8IG',
        accountId: '307578594326',
      });
      expect(event.labels).toEqual(['cloudtrail', 'category:Management']);
    });
  });

  describe('when the record is an AssumeRole', () => {
    it('maps the assumed role as the resource', () => {
      // Prepare
      const record = realRecord(1046, '1917948f-3042-46ec-98e2-62865EXAMPLE');

      // Act
      const event = mapValue(record);

      // Assess
      expect(event.action).toBe('sts:AssumeRole');
      expect(event.actor.type).toBe('role');
      expect(event.actor.mfa).toBe(false);
      expect(event.outcome).toEqual({ result: 'success' });
      expect(event.resource).toEqual({
        id: 'arn:aws:iam::111111111111:role/JohnRole2',
        type: 'AWS::IAM::Role',
      });
    });
  });

  describe('when the record is a StopLogging', () => {
    it('maps the trail from requestParameters.name', () => {
      // Prepare
      const record = realRecord(117, '10163ed2-2253-469d-a5ee-cbc6651f8934');

      // Act
      const event = mapValue(record);

      // Assess
      expect(event.action).toBe('cloudtrail:StopLogging');
      expect(event.actor).toEqual({
        id: 'arn:aws:iam::143434273843:user/christophe',
        type: 'user',
        authMethod: 'access-key',
        sessionId: 'AKIAGGWFBBHBE7D3M9WI',
        accountId: '143434273843',
      });
      expect(event.resource).toEqual({
        id: 'arn:aws:cloudtrail:apiso-centralnorth-2r:143434273843:trail/stratus-red-team-ct-stop-trail-buykxbqejv',
        type: 'AWS::CloudTrail::Trail',
        name: 'stratus-red-team-ct-stop-trail-buykxbqejv',
      });
      expect(event.outcome).toEqual({ result: 'success' });
    });
  });

  describe('when the record is a read-only EC2 call on one instance', () => {
    it('builds the instance ARN and labels the event read-only', () => {
      // Prepare
      const record = realRecord(0, '450230d4-b39e-4a18-a6a0-d07a6e2105cb');

      // Act
      const event = mapValue(record);

      // Assess
      expect(event.action).toBe('ec2:GetPasswordData');
      expect(event.resource).toEqual({
        id: 'arn:aws:ec2:apiso-northsouth-3r:457448411975:instance/i-i2jnm5swa59p4fxg',
        type: 'AWS::EC2::Instance',
        name: 'i-i2jnm5swa59p4fxg',
      });
      expect(event.labels).toEqual(['cloudtrail', 'category:Management', 'read-only']);
      expect(event.outcome.errorCode).toBe('Client.UnauthorizedOperation');
    });
  });

  describe('when the resource comes from the requestParameters table', () => {
    const base = () => realRecord(117, '10163ed2-2253-469d-a5ee-cbc6651f8934');
    it.each<[string, Record<string, unknown>, unknown]>([
      [
        'an IAM role created under a path',
        { eventSource: 'iam.amazonaws.com', requestParameters: { roleName: 'r', path: '/svc/' } },
        { id: 'arn:aws:iam::143434273843:role/svc/r', type: 'AWS::IAM::Role', name: 'r' },
      ],
      [
        'a KMS key id',
        {
          eventSource: 'kms.amazonaws.com',
          requestParameters: { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab' },
        },
        {
          id: 'arn:aws:kms:apiso-centralnorth-2r:143434273843:key/1234abcd-12ab-34cd-56ef-1234567890ab',
          type: 'AWS::KMS::Key',
          name: '1234abcd-12ab-34cd-56ef-1234567890ab',
        },
      ],
      [
        'a KMS alias',
        { eventSource: 'kms.amazonaws.com', requestParameters: { keyId: 'alias/app' } },
        {
          id: 'arn:aws:kms:apiso-centralnorth-2r:143434273843:alias/app',
          type: 'AWS::KMS::Alias',
          name: 'alias/app',
        },
      ],
      [
        'a bucket in a China region',
        { eventSource: 's3.amazonaws.com', awsRegion: 'cn-north-1', requestParameters: { bucketName: 'b' } },
        { id: 'arn:aws-cn:s3:::b', type: 'AWS::S3::Bucket', name: 'b' },
      ],
      [
        'a secret by name (its ARN has a suffix the record lacks)',
        { eventSource: 'secretsmanager.amazonaws.com', requestParameters: { secretId: 'db/pass' } },
        { id: 'db/pass', type: 'AWS::SecretsManager::Secret' },
      ],
      [
        'a tagging call by ARN',
        {
          eventSource: 'apigateway.amazonaws.com',
          requestParameters: { resourceArn: 'arn:aws:apigateway:us-east-1::/restapis/a/stages/b' },
        },
        { id: 'arn:aws:apigateway:us-east-1::/restapis/a/stages/b', type: 'AWS::ApiGateway::Stage' },
      ],
      [
        'a resources[] entry without type',
        { resources: [{ ARNPrefix: 'arn:aws:s3:::b/' }, { arn: 'arn:aws:iam::1:role/x' }] },
        { id: 'arn:aws:iam::1:role/x', type: 'AWS::IAM::Role' },
      ],
      [
        'no known parameter',
        { eventSource: 'iam.amazonaws.com', requestParameters: { maxItems: 5 } },
        undefined,
      ],
    ])('maps %s', (_name, change, expected) => {
      // Prepare
      const record = { ...base(), ...change };

      // Act
      const event = mapValue(record);

      // Assess
      expect(event.resource).toEqual(expected);
    });
  });

  describe('when the record names an S3 object', () => {
    it('builds the object ARN from bucketName and key', () => {
      // Prepare
      const record = {
        ...realRecord(117, '10163ed2-2253-469d-a5ee-cbc6651f8934'),
        eventSource: 's3.amazonaws.com',
        eventName: 'GetObject',
        requestParameters: { bucketName: 'logs', key: 'a/b.json' },
      };

      // Act
      const event = mapValue(record);

      // Assess
      expect(event.resource).toEqual({
        id: 'arn:aws:s3:::logs/a/b.json',
        type: 'AWS::S3::Object',
        name: 'logs/a/b.json',
      });
    });
  });

  describe('when userIdentity has no type but names the invoking service', () => {
    it('maps a service actor', () => {
      // Prepare
      const record = {
        ...realRecord(117, '10163ed2-2253-469d-a5ee-cbc6651f8934'),
        userIdentity: { accountId: '123456789012', invokedBy: 's3.amazonaws.com' },
      };

      // Act
      const event = mapValue(record);

      // Assess
      expect(event.actor).toEqual({
        id: 's3.amazonaws.com',
        type: 'service',
        authMethod: 'service',
        accountId: '123456789012',
      });
    });
  });

  describe('when userIdentity has an unrecognized type', () => {
    it.each(['SomethingNew', 'constructor', '__proto__'])('maps %s to unknown', (type) => {
      // Prepare
      const record = { ...realRecord(117, '10163ed2-2253-469d-a5ee-cbc6651f8934'), userIdentity: { type } };

      // Act
      const event = mapValue(record);

      // Assess
      expect(event.actor).toEqual({ id: 'unknown', type: 'unknown' });
    });
  });

  describe('when sourceIPAddress is neither an IP literal nor a host name', () => {
    it.each(['AWS Internal', '253.252.51.07', ''])(
      'omits sourceIp for %j but keeps the record whole',
      (ip) => {
        // Prepare
        const record = { ...realRecord(117, '10163ed2-2253-469d-a5ee-cbc6651f8934'), sourceIPAddress: ip };

        // Act
        const event = mapValue(record);

        // Assess
        expect(event).not.toHaveProperty('sourceIp');
        expect(cloudTrailRecordOf(event)?.['sourceIPAddress']).toBe(ip);
      },
    );
  });

  describe('when the record text has whitespace, escapes and members in its own order', () => {
    it('keeps that text exactly from "{" to "}", and maps it like the compact record', () => {
      // Prepare
      const compact = allLines[117]!;
      const record = JSON.parse(compact) as Record<string, unknown>;
      const spaced = `\r\n {\n${Object.entries(record)
        .reverse()
        .map(([k, v]) => `\t${JSON.stringify(k)} :  ${JSON.stringify(v, null, 1)}`)
        .join(' ,\n')}\n}\t`.replace('"StopLogging"', '"Stop\\u004cogging"');

      // Act
      const event = fromCloudTrailRecord(spaced);

      // Assess: the record is its text from "{" to "}"; the whitespace around it is framing.
      expect(event.cloudtrail).toBe(spaced.slice(3, -1));
      expect(event.cloudtrail?.startsWith('{\n\t"')).toBe(true);
      expect({ ...event, cloudtrail: compact }).toEqual(fromCloudTrailRecord(compact));
      expect(fromEventBridgeEnvelope(wrapInEventBridgeEnvelope(spaced))).toEqual(event);
    });
  });

  describe('when the record cannot be mapped', () => {
    const base = () => realRecord(117, '10163ed2-2253-469d-a5ee-cbc6651f8934');
    it.each<[string, () => unknown, CloudTrailRejectReason, string]>([
      ['an array', () => [base()], 'NOT_A_RECORD', '$'],
      ['null', () => null, 'NOT_A_RECORD', '$'],
      ['no eventID', () => ({ ...base(), eventID: undefined }), 'MISSING_EVENT_ID', '$.eventID'],
      ['a numeric eventID', () => ({ ...base(), eventID: 7 }), 'BAD_EVENT_ID', '$.eventID'],
      ['an eventID with a space', () => ({ ...base(), eventID: 'a b' }), 'BAD_EVENT_ID', '$.eventID'],
      [
        'a 126-character eventID',
        () => ({ ...base(), eventID: 'a'.repeat(126) }),
        'BAD_EVENT_ID',
        '$.eventID',
      ],
      ['no eventTime', () => ({ ...base(), eventTime: null }), 'MISSING_EVENT_TIME', '$.eventTime'],
      [
        "Panther's placeholder eventTime",
        () => ({ ...base(), eventTime: '2019-01-01 00:00:00.000000000' }),
        'BAD_EVENT_TIME',
        '$.eventTime',
      ],
      ['eventTime "redacted"', () => ({ ...base(), eventTime: 'redacted' }), 'BAD_EVENT_TIME', '$.eventTime'],
      [
        'no eventSource',
        () => ({ ...base(), eventSource: undefined }),
        'MISSING_EVENT_SOURCE',
        '$.eventSource',
      ],
      ['an empty eventSource', () => ({ ...base(), eventSource: '' }), 'BAD_EVENT_SOURCE', '$.eventSource'],
      ['no eventName', () => ({ ...base(), eventName: undefined }), 'MISSING_EVENT_NAME', '$.eventName'],
      ['a numeric eventName', () => ({ ...base(), eventName: 1 }), 'BAD_EVENT_NAME', '$.eventName'],
      [
        'no userIdentity',
        () => ({ ...base(), userIdentity: null }),
        'MISSING_USER_IDENTITY',
        '$.userIdentity',
      ],
      [
        'a string userIdentity',
        () => ({ ...base(), userIdentity: 'x' }),
        'BAD_USER_IDENTITY',
        '$.userIdentity',
      ],
    ])('rejects %s', (_name, build, reason, path) => {
      // Act
      const error = mappingFailure(() => mapValue(build()));

      // Assess
      expect(error.reason).toBe(reason);
      expect(error.code).toBe('UNSUPPORTED_RECORD');
      expect(error.path).toBe(path);
    });
  });

  describe('when the text is not a record CloudTrail could have written', () => {
    const valid = () => allLines[117]!;
    it.each<[string, () => string, CloudTrailRejectReason, RegExp]>([
      ['not JSON', () => valid().slice(0, -1), 'INVALID_JSON', /not valid JSON \(offset \d+\)/],
      ['two values', () => `${valid()} {}`, 'INVALID_JSON', /not valid JSON/],
      [
        'a raw control character in a string',
        () => valid().replace('Stop', 'St\u0001op'),
        'INVALID_JSON',
        /JSON/,
      ],
      [
        'a literal lone surrogate (not UTF-8 text)',
        () => valid().replace('Stop', 'St\uD800op'),
        'UNSAFE_JSON',
        /lone UTF-16 surrogate/,
      ],
      [
        `nesting deeper than ${MAX_RECORD_DEPTH}`,
        () =>
          valid()
            .replace('{"name"', `${'{"a":'.repeat(MAX_RECORD_DEPTH - 1)}{"name"`)
            .replace(/}}$/, `${'}'.repeat(MAX_RECORD_DEPTH)}}`),
        'UNSAFE_JSON',
        /nests deeper than 1100/,
      ],
      [
        'a text longer than a stored event can be',
        () => `${valid().slice(0, -1)},"pad":"${'p'.repeat(MAX_EVENT_BYTES)}"}`,
        'UNSAFE_JSON',
        /longer than 393216/,
      ],
    ])('rejects %s', (_name, build, reason, message) => {
      // Act
      const error = mappingFailure(() => fromCloudTrailRecord(build()));

      // Assess
      expect(error.reason).toBe(reason);
      expect(error.path).toBe('$');
      expect(error.message).toMatch(message);
    });

    it('never echoes the text in its message', () => {
      // Act
      const error = mappingFailure(() => fromCloudTrailRecord('{"eventID": SECRET}'));

      // Assess
      expect(error.reason).toBe('INVALID_JSON');
      expect(error.message).toBe('text is not valid JSON (offset 12) at $');
    });
  });

  describe(`when the record nests exactly ${MAX_RECORD_DEPTH} deep, EventBridge's limit`, () => {
    it('maps it bare and inside an envelope (one level deeper)', () => {
      // Prepare: the record is level 1 and requestParameters level 2.
      const nested = (levels: number) =>
        allLines[117]!.replace(
          '"requestParameters":{',
          `"requestParameters":{"deep":${'['.repeat(levels)}-0${']'.repeat(levels)},`,
        );
      const text = nested(MAX_RECORD_DEPTH - 2);

      // Act
      const bare = fromCloudTrailRecord(text);
      const wrapped = fromEventBridgeEnvelope(wrapInEventBridgeEnvelope(text));

      // Assess
      expect(bare.cloudtrail).toBe(text);
      expect(wrapped).toEqual(bare);
      const deeper = nested(MAX_RECORD_DEPTH - 1);
      expect(mappingFailure(() => fromCloudTrailRecord(deeper)).reason).toBe('UNSAFE_JSON');
    });
  });

  describe('when a projected member does not fit its limit', () => {
    it('cuts it with a mark, and the record keeps it whole', () => {
      // Prepare
      const record = {
        ...realRecord(117, '10163ed2-2253-469d-a5ee-cbc6651f8934'),
        userAgent: 'u'.repeat(2_000),
        errorCode: 'AccessDenied',
        errorMessage: '😀'.repeat(3_000),
        userIdentity: {
          type: 'AssumedRole',
          arn: `arn:aws:sts::143434273843:assumed-role/${'p/'.repeat(300)}r/s`,
        },
      };

      // Act
      const event = mapValue(record);

      // Assess
      expect(event.userAgent).toBe(`${'u'.repeat(1_023)}…`);
      // 4,095 would split a surrogate pair, so the cut comes one code unit earlier.
      expect(event.outcome.errorMessage).toHaveLength(4_095);
      expect(event.outcome.errorMessage?.endsWith('😀…')).toBe(true);
      expect(event.actor.id).toHaveLength(512);
      expect(event.actor.id.endsWith('…')).toBe(true);
      expect(cloudTrailRecordOf(event)).toEqual(record);
    });
  });

  describe('when strings hold lone surrogates as \\u escapes', () => {
    it('keeps the escapes in the record and puts U+FFFD in the projection', () => {
      // Prepare
      const text = allLines[117]!
        .replace('"userAgent":"', '"userAgent":"\\udc00')
        .replace('"requestParameters":{', '"requestParameters":{"\\ud800k":"v\\udbff",');

      // Act
      const event = fromCloudTrailRecord(text);

      // Assess
      expect(event.cloudtrail).toBe(text);
      expect(event.userAgent?.startsWith('\uFFFD')).toBe(true);
      expect(cloudTrailRecordOf(event)?.['requestParameters']).toMatchObject({ '\uD800k': 'v\uDBFF' });
      expect(JSON.parse(canonicalString(event)).cloudtrail).toBe(text);
    });
  });

  describe('when member names are __proto__, constructor or prototype', () => {
    it('keeps the record, and __proto__ stays a plain member, never a prototype', () => {
      // Prepare
      const text = allLines[117]!.replace(
        '"requestParameters":{',
        '"requestParameters":{"__proto__":{"eventID":"forged"},"constructor":"c","prototype":1,',
      );

      // Act
      const event = fromCloudTrailRecord(text);
      const params = cloudTrailRecordOf(event)?.['requestParameters'] as Record<string, unknown>;

      // Assess
      expect(event.cloudtrail).toBe(text);
      expect(Object.getPrototypeOf(params)).toBe(Object.prototype);
      expect(Object.hasOwn(params, '__proto__')).toBe(true);
      expect(params['constructor']).toBe('c');
      expect(event.id).toBe('ct:10163ed2-2253-469d-a5ee-cbc6651f8934');
    });
  });
});

describe('Function: cloudTrailRecordOf', () => {
  describe('when the event carries a record with numbers no double can hold', () => {
    it('gives each number as a LosslessNumber with its exact source text', () => {
      // Prepare
      const text = allLines[117]!.replace(
        '"requestParameters":{',
        '"requestParameters":{"big":12345678901234567890,"huge":1e400,"zero":-0,"list":[-0.0,1.50]},"x":{',
      );
      const event = fromCloudTrailRecord(text);

      // Act
      const record = cloudTrailRecordOf(event);

      // Assess
      const params = record?.['requestParameters'] as Record<string, unknown>;
      expect(isLosslessNumber(params['big'])).toBe(true);
      expect(String(params['big'])).toBe('12345678901234567890');
      expect((params['big'] as LosslessNumber).valueOf()).toBe(12345678901234567890n);
      expect(String(params['huge'])).toBe('1e400');
      expect(String(params['zero'])).toBe('-0');
      expect((params['list'] as unknown[]).map(String)).toEqual(['-0.0', '1.50']);
      expect(record?.['eventID']).toBe('10163ed2-2253-469d-a5ee-cbc6651f8934');
    });
  });

  describe('when the event has no cloudtrail member', () => {
    it('returns undefined', () => {
      // Assess
      expect(cloudTrailRecordOf({ id: 'app-1' })).toBeUndefined();
    });
  });

  describe('when cloudtrail is not the text of a record', () => {
    it.each([
      ['an object', { eventID: 'x' }, 'SCHEMA_VIOLATION'],
      ['an array text', '[1]', 'SCHEMA_VIOLATION'],
      ['a broken text', '{"a":', 'INVALID_JSON'],
    ])('throws for %s', (_name, cloudtrail, code) => {
      // Act
      const act = () => cloudTrailRecordOf({ cloudtrail });

      // Assess
      expect(act).toThrow(EventValidationError);
      expect(act).toThrow(expect.objectContaining({ code, path: '$.cloudtrail' }));
    });
  });
});

const ENVELOPE_DIR = new URL('eventbridge/', CLOUDTRAIL_DIR);
const envelopeFiles = readdirSync(ENVELOPE_DIR)
  .filter((name) => name.endsWith('.json'))
  .sort();

function readEnvelopeText(name: string): string {
  return readFileSync(new URL(name, ENVELOPE_DIR), 'utf8');
}

function readEnvelope(name: string): Record<string, unknown> {
  return JSON.parse(readEnvelopeText(name)) as Record<string, unknown>;
}

/** Maps an envelope given as a JS value (its `JSON.stringify` text). */
const mapEnvelope = (envelope: unknown): AuditEventInput => fromEventBridgeEnvelope(JSON.stringify(envelope));

describe('Function: fromEventBridgeEnvelope', () => {
  describe('when given the 16 real envelopes', () => {
    it.each(envelopeFiles)('ingests %s with the text of its detail kept verbatim', (name) => {
      // Prepare
      const text = readEnvelopeText(name);
      const envelope = JSON.parse(text) as Record<string, unknown>;

      // Act
      const event = fromEventBridgeEnvelope(text);

      // Assess
      expect(text).toContain(event.cloudtrail);
      expect(event.cloudtrail?.startsWith('{')).toBe(true);
      expect(JSON.parse(event.cloudtrail!)).toEqual(envelope['detail']);
      expect(event.id).toBe(`ct:${(envelope['detail'] as Record<string, unknown>)['eventID']}`);
    });

    it('finds all 16 files', () => {
      // Assess
      expect(envelopeFiles).toHaveLength(16);
    });
  });

  describe('when the envelope is the Root console sign-in from the AWS docs', () => {
    it('maps it like the bare record', () => {
      // Prepare
      const text = readEnvelopeText('awsdocs-cwe_EventTypes_signin-ConsoleLogin.json');

      // Act
      const event = fromEventBridgeEnvelope(text);

      // Assess
      expect(event).toEqual(fromCloudTrailRecord(event.cloudtrail!));
      expect(event.actor.type).toBe('root');
      expect(event.action).toBe('signin:ConsoleLogin');
    });
  });

  describe('when the envelope holds detail twice', () => {
    it('keeps the last one, as JSON.parse would', () => {
      // Prepare
      const first = allLines[0]!;
      const last = allLines[117]!;
      const text = `{"version":"0","id":"e","detail-type":"AWS API Call via CloudTrail","source":"aws.cloudtrail","account":"1","time":"2024-07-31T13:06:24Z","region":"r","resources":[],"detail":${first},"detail":${last}}`;

      // Act
      const event = fromEventBridgeEnvelope(text);

      // Assess
      expect(event.cloudtrail).toBe(last);
    });
  });

  describe('when the envelope is not a CloudTrail one', () => {
    it('rejects another detail-type with UNSUPPORTED_DETAIL_TYPE', () => {
      // Prepare
      const envelope = {
        ...readEnvelope('awsdocs-cwe_EventTypes_s3-CreateBucket.json'),
        'detail-type': 'EC2 Instance State-change Notification',
      };

      // Act
      const error = mappingFailure(() => mapEnvelope(envelope));

      // Assess
      expect(error.reason).toBe('UNSUPPORTED_DETAIL_TYPE');
      expect(error.path).toBe('$["detail-type"]');
    });
  });

  describe('when the envelope is malformed', () => {
    const valid = () => readEnvelope('awsdocs-cwe_EventTypes_s3-CreateBucket.json');
    it.each<[string, () => unknown, CloudTrailRejectReason, string]>([
      ['a missing detail', () => ({ ...valid(), detail: undefined }), 'BAD_ENVELOPE', '$.detail'],
      ['a string detail', () => ({ ...valid(), detail: '{}' }), 'BAD_ENVELOPE', '$.detail'],
      ['a missing id', () => ({ ...valid(), id: undefined }), 'BAD_ENVELOPE', '$.id'],
      ['a bad time', () => ({ ...valid(), time: 'yesterday' }), 'BAD_ENVELOPE', '$.time'],
      ['resources as a string', () => ({ ...valid(), resources: 'x' }), 'BAD_ENVELOPE', '$.resources'],
      ['an array', () => [valid()], 'BAD_ENVELOPE', '$'],
      [
        'a detail without eventID',
        () => ({ ...valid(), detail: { ...(valid()['detail'] as object), eventID: undefined } }),
        'MISSING_EVENT_ID',
        '$.detail.eventID',
      ],
    ])('rejects %s', (_name, build, reason, path) => {
      // Act
      const error = mappingFailure(() => mapEnvelope(build()));

      // Assess
      expect(error.reason).toBe(reason);
      expect(error.path).toBe(path);
    });

    it('rejects a body that is not JSON with INVALID_JSON', () => {
      // Act
      const error = mappingFailure(() => fromEventBridgeEnvelope('{"detail":'));

      // Assess
      expect(error.reason).toBe('INVALID_JSON');
      expect(error.path).toBe('$');
    });
  });

  describe('when the envelope has extra members', () => {
    it('tolerates them, even prototype names, and does not store them', () => {
      // Prepare
      const text = JSON.stringify({
        ...readEnvelope('awsdocs-cwe_EventTypes_s3-CreateBucket.json'),
        debug: true,
      }).replace('{', '{"constructor":{"__proto__":1},');

      // Act
      const event = fromEventBridgeEnvelope(text);

      // Assess
      expect(canonicalString(event)).not.toContain('debug');
      expect(canonicalString(event)).not.toContain('constructor');
    });
  });
});

describe('Function: wrapInEventBridgeEnvelope', () => {
  describe('when wrapping every accepted record of all_permissive.jsonl', () => {
    it('maps back to the same event through fromEventBridgeEnvelope', () => {
      // Prepare
      const accepted = allLines.flatMap((line) => {
        try {
          return [{ line, event: fromCloudTrailRecord(line) }];
        } catch {
          return [];
        }
      });

      // Act
      const mismatches = accepted.filter(
        ({ line, event }) =>
          canonicalString(fromEventBridgeEnvelope(wrapInEventBridgeEnvelope(line))) !==
          canonicalString(event),
      );

      // Assess
      expect(accepted).toHaveLength(883);
      expect(mismatches).toHaveLength(0);
    });
  });

  describe('when wrapping a console sign-in, a console action, a service event and an API call', () => {
    it('picks the detail-type AWS would use, and a deterministic UUIDv5 id', () => {
      // Prepare
      const signIn = realRecord(913, 'deb1e1f9-c99b-4612-8e9f-21f93b5d79c0');
      const apiCall = realRecord(117, '10163ed2-2253-469d-a5ee-cbc6651f8934');
      const consoleAction = { ...apiCall, eventType: 'AwsConsoleAction' };
      const serviceEvent = { ...apiCall, eventType: 'AwsServiceEvent' };
      const wrap = (record: unknown, opts = {}) =>
        JSON.parse(wrapInEventBridgeEnvelope(JSON.stringify(record), opts)) as Record<string, unknown>;

      // Act
      const envelopes = [signIn, consoleAction, serviceEvent, apiCall].map((record) => wrap(record));

      // Assess
      expect(envelopes.map((e) => e['detail-type'])).toEqual([
        'AWS Console Sign In via CloudTrail',
        'AWS Console Action via CloudTrail',
        'AWS Service Event via CloudTrail',
        'AWS API Call via CloudTrail',
      ]);
      expect(envelopes[3]).toEqual({
        version: '0',
        id: envelopes[3]!['id'],
        'detail-type': 'AWS API Call via CloudTrail',
        source: 'aws.cloudtrail',
        account: '143434273843',
        time: '2024-07-31T13:06:24Z',
        region: 'apiso-centralnorth-2r',
        resources: [],
        detail: apiCall,
      });
      expect(envelopes[3]!['id']).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      expect(envelopes[2]!['id']).toBe(envelopes[3]!['id']);
      expect(envelopes[0]!['id']).not.toBe(envelopes[3]!['id']);
      expect(wrap(apiCall, { account: '000011112222', region: 'eu-west-1' })).toMatchObject({
        account: '000011112222',
        region: 'eu-west-1',
      });
    });
  });

  describe('when the record holds numbers no double can hold', () => {
    it('puts its text in detail byte for byte', () => {
      // Prepare
      const text = allLines[117]!.replace('"requestParameters":{', '"requestParameters":{"n":-0, "m":1E400,');

      // Act
      const envelope = wrapInEventBridgeEnvelope(text);

      // Assess
      expect(envelope.endsWith(`,"detail":${text}}`)).toBe(true);
      expect(fromEventBridgeEnvelope(envelope).cloudtrail).toBe(text);
    });
  });

  describe('when the record has no eventID', () => {
    it('throws MISSING_EVENT_ID', () => {
      // Prepare
      const record = { ...realRecord(117, '10163ed2-2253-469d-a5ee-cbc6651f8934'), eventID: null };

      // Act
      const error = mappingFailure(() => wrapInEventBridgeEnvelope(JSON.stringify(record)));

      // Assess
      expect(error.reason).toBe('MISSING_EVENT_ID');
    });
  });
});

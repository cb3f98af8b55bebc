/**
 * CloudTrail records (and the EventBridge envelopes that carry them) to audit events. The original
 * record is kept verbatim in `cloudtrail`; the other members are a searchable projection of it. Nothing
 * is truncated or repaired: a record whose projection breaks a schema limit is rejected with a reason.
 * Field reference: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
 * The mapping table is in docs/EVENTS.md.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ActorType, AuditEventInput } from './audit-event.ts';
import { EVENT_ID_PATTERN, MAX_EVENT_ID_LENGTH, parseAuditEventInput } from './audit-event.ts';
import { deriveResource } from './cloudtrail-resources.ts';
import type { CloudTrailRejectReason } from './errors.ts';
import { CloudTrailMappingError, EventValidationError } from './errors.ts';
import type { JsonObject } from './json-guard.ts';
import { assertSafeJson, isPlainObject } from './json-guard.ts';
import { appendJsonPath, formatJsonPath } from './json-path.ts';
import { isRfc3339 } from './rfc3339.ts';
import { isSourceAddress } from './source-address.ts';

/** Prefix of the event id of every CloudTrail-derived event: `ct:<eventID>`. */
export const CLOUDTRAIL_ID_PREFIX = 'ct:';
const AWS_DOMAIN_SUFFIX = '.amazonaws.com';

const ACTOR_TYPE_BY_IDENTITY = new Map<string, ActorType>([
  ['IAMUser', 'user'],
  ['IdentityCenterUser', 'user'],
  ['AssumedRole', 'role'],
  ['Root', 'root'],
  ['AWSService', 'service'],
  ['FederatedUser', 'federated'],
  ['SAMLUser', 'federated'],
  ['WebIdentityUser', 'federated'],
  ['AWSAccount', 'account'],
]);

/** The EventBridge detail-types that carry a CloudTrail record in `detail`. */
export const CLOUDTRAIL_DETAIL_TYPES = [
  'AWS API Call via CloudTrail',
  'AWS Console Sign In via CloudTrail',
  'AWS Service Event via CloudTrail',
] as const;
export type CloudTrailDetailType = (typeof CLOUDTRAIL_DETAIL_TYPES)[number];

/**
 * An EventBridge event. Unknown envelope members are tolerated (AWS may add some, and test fixtures
 * such as cloud-custodian's add `debug`); only `detail` is kept, so they never reach the ledger.
 * `version` is optional because AWS documentation samples omit it.
 */
const envelopeSchema = z.looseObject({
  version: z.string().max(16).optional(),
  id: z.string().min(1).max(128),
  'detail-type': z.string().min(1).max(128),
  source: z.string().min(1).max(256),
  account: z.string().min(1).max(64),
  time: z.string().refine(isRfc3339, 'must be an RFC 3339 date-time'),
  region: z.string().min(1).max(64),
  resources: z.array(z.string().max(2048)),
  detail: z.custom<JsonObject>((value) => isPlainObject(value), 'must be a JSON object'),
});

/** The EventBridge envelope that `wrapInEventBridgeEnvelope` builds. */
export interface EventBridgeEnvelope {
  version: '0';
  id: string;
  'detail-type': CloudTrailDetailType;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: JsonObject;
}

/**
 * Maps one CloudTrail record to an event input; `cloudtrail` holds a deep copy of the record.
 * Throws `CloudTrailMappingError` (with `reason`) when the record cannot be mapped.
 */
export function fromCloudTrailRecord(record: unknown): AuditEventInput {
  return mapRecord(record, '$');
}

/** Maps an EventBridge "… via CloudTrail" event through `fromCloudTrailRecord` of its `detail`. */
export function fromEventBridgeEnvelope(envelope: unknown): AuditEventInput {
  guard(envelope, '$');
  const parsed = envelopeSchema.safeParse(envelope);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CloudTrailMappingError(
      'BAD_ENVELOPE',
      formatJsonPath(issue.path),
      `envelope: ${issue.message}`,
    );
  }
  const detailType = parsed.data['detail-type'];
  if (!(CLOUDTRAIL_DETAIL_TYPES as readonly string[]).includes(detailType)) {
    throw new CloudTrailMappingError(
      'UNSUPPORTED_DETAIL_TYPE',
      '$["detail-type"]',
      'detail-type does not carry a CloudTrail record',
    );
  }
  return mapRecord(parsed.data.detail, '$.detail', true);
}

/**
 * Builds the EventBridge envelope AWS would deliver for `record`, for local replay. Its `id` is a UUIDv5
 * of the record's eventID, so replaying a record twice yields the same envelope.
 */
export function wrapInEventBridgeEnvelope(
  record: unknown,
  opts: { account?: string; region?: string } = {},
): EventBridgeEnvelope {
  if (!isPlainObject(record))
    throw new CloudTrailMappingError('NOT_A_RECORD', '$', 'a CloudTrail record must be a JSON object');
  guard(record, '$');
  const { eventId, eventTime, service } = requireCoreFields(record, '$');
  const detail = structuredClone(record) as JsonObject;
  const account =
    opts.account ?? str(record['recipientAccountId']) ?? str(at(record['userIdentity'], 'accountId'));
  const region = opts.region ?? str(record['awsRegion']);
  return {
    version: '0',
    id: uuidV5(eventId),
    'detail-type': detailTypeOf(record),
    source: `aws.${service}`,
    account: account ?? '000000000000',
    time: eventTime,
    region: region ?? 'us-east-1',
    resources: [],
    detail,
  };
}

function mapRecord(record: unknown, base: string, guarded = false): AuditEventInput {
  if (!isPlainObject(record))
    throw new CloudTrailMappingError('NOT_A_RECORD', base, 'a CloudTrail record must be a JSON object');
  if (!guarded) guard(record, base);
  const { eventId, eventTime, service, eventName } = requireCoreFields(record, base);
  const identity = record['userIdentity'];
  if (identity === undefined || identity === null) {
    throw reject('MISSING_USER_IDENTITY', base, 'userIdentity', 'record has no userIdentity');
  }
  if (!isPlainObject(identity))
    throw reject('BAD_USER_IDENTITY', base, 'userIdentity', 'userIdentity is not an object');

  const event: Record<string, unknown> = {
    id: `${CLOUDTRAIL_ID_PREFIX}${eventId}`,
    eventTime,
    actor: mapActor(record, identity, eventName),
    action: `${service}:${eventName}`,
  };
  const resource = deriveResource(record, service);
  if (resource !== undefined) event['resource'] = resource;
  event['outcome'] = mapOutcome(record, eventName);
  const sourceIp = str(record['sourceIPAddress']);
  if (sourceIp !== undefined && isSourceAddress(sourceIp)) event['sourceIp'] = sourceIp;
  putString(event, 'userAgent', record['userAgent']);
  putString(event, 'requestId', record['requestID']);
  event['endpoint'] = record['eventSource'];
  event['labels'] = mapLabels(record);
  const details = pickStrings(record, ['eventType', 'eventVersion', 'awsRegion', 'recipientAccountId']);
  if (Object.keys(details).length > 0) event['details'] = details;
  event['cloudtrail'] = structuredClone(record);

  try {
    return parseAuditEventInput(event);
  } catch (error) {
    if (!(error instanceof EventValidationError)) throw error;
    const reason = error.code === 'SCHEMA_VIOLATION' ? 'INVALID_MAPPED_FIELD' : 'UNSAFE_JSON';
    throw new CloudTrailMappingError(reason, base, `mapped event ${error.message}`, { cause: error });
  }
}

interface CoreFields {
  eventId: string;
  eventTime: string;
  service: string;
  eventName: string;
}

/** The members every mapped record needs, checked in the order the reasons are reported. */
function requireCoreFields(record: Record<string, unknown>, base: string): CoreFields {
  const eventId = record['eventID'];
  if (eventId === undefined || eventId === null)
    throw reject('MISSING_EVENT_ID', base, 'eventID', 'record has no eventID');
  if (typeof eventId !== 'string') throw reject('BAD_EVENT_ID', base, 'eventID', 'eventID is not a string');
  const id = `${CLOUDTRAIL_ID_PREFIX}${eventId}`;
  if (id.length > MAX_EVENT_ID_LENGTH || !EVENT_ID_PATTERN.test(id)) {
    throw reject('BAD_EVENT_ID', base, 'eventID', 'eventID does not form a valid event id');
  }
  const eventTime = record['eventTime'];
  if (eventTime === undefined || eventTime === null) {
    throw reject('MISSING_EVENT_TIME', base, 'eventTime', 'record has no eventTime');
  }
  if (typeof eventTime !== 'string' || !isRfc3339(eventTime)) {
    throw reject(
      'BAD_EVENT_TIME',
      base,
      'eventTime',
      'eventTime is not an RFC 3339 date-time with a time zone',
    );
  }
  const eventSource = record['eventSource'];
  if (eventSource === undefined || eventSource === null) {
    throw reject('MISSING_EVENT_SOURCE', base, 'eventSource', 'record has no eventSource');
  }
  const service = typeof eventSource === 'string' ? serviceOf(eventSource) : '';
  if (service.length === 0)
    throw reject('BAD_EVENT_SOURCE', base, 'eventSource', 'eventSource is not a service name');
  const eventName = record['eventName'];
  if (eventName === undefined || eventName === null) {
    throw reject('MISSING_EVENT_NAME', base, 'eventName', 'record has no eventName');
  }
  if (typeof eventName !== 'string' || eventName.length === 0) {
    throw reject('BAD_EVENT_NAME', base, 'eventName', 'eventName is not a non-empty string');
  }
  return { eventId, eventTime, service, eventName };
}

/** `s3.amazonaws.com` → `s3`. A source outside amazonaws.com is kept whole. */
function serviceOf(eventSource: string): string {
  return eventSource.endsWith(AWS_DOMAIN_SUFFIX)
    ? eventSource.slice(0, -AWS_DOMAIN_SUFFIX.length)
    : eventSource;
}

function mapActor(
  record: Record<string, unknown>,
  identity: Record<string, unknown>,
  eventName: string,
): AuditEventInput['actor'] {
  const identityType = str(identity['type']);
  const invokedBy = str(identity['invokedBy']);
  // Service events often carry only { accountId, invokedBy }: AWS itself acted.
  const type: ActorType =
    identityType !== undefined
      ? (ACTOR_TYPE_BY_IDENTITY.get(identityType) ?? 'unknown')
      : invokedBy !== undefined
        ? 'service'
        : 'unknown';
  const actor: AuditEventInput['actor'] = {
    id:
      str(identity['arn']) ??
      str(identity['principalId']) ??
      invokedBy ??
      str(identity['userName']) ??
      'unknown',
    type,
  };
  const authMethod = authMethodOf(identityType, type, eventName, identity);
  if (authMethod !== undefined) actor.authMethod = authMethod;
  const mfa = mfaOf(record, identity);
  if (mfa !== undefined) actor.mfa = mfa;
  const sessionId = sessionIdOf(identity);
  if (sessionId !== undefined) actor.sessionId = sessionId;
  const accountId = str(identity['accountId']);
  if (accountId !== undefined) actor.accountId = accountId;
  return actor;
}

function authMethodOf(
  identityType: string | undefined,
  type: ActorType,
  eventName: string,
  identity: Record<string, unknown>,
): string | undefined {
  if (identityType === 'SAMLUser') return 'saml';
  if (identityType === 'WebIdentityUser') return 'web-identity';
  if (eventName === 'ConsoleLogin') return 'console';
  if (type === 'service') return 'service';
  if (identityType === 'AssumedRole') return 'assumed-role';
  if (str(identity['accessKeyId']) !== undefined) return 'access-key';
  return undefined;
}

/** `additionalEventData.MFAUsed` (sign-in events) wins over the session's `mfaAuthenticated`. */
function mfaOf(record: Record<string, unknown>, identity: Record<string, unknown>): boolean | undefined {
  const used = str(at(record['additionalEventData'], 'MFAUsed'))?.toLowerCase();
  if (used === 'yes') return true;
  if (used === 'no') return false;
  const authenticated = str(
    at(at(identity['sessionContext'], 'attributes'), 'mfaAuthenticated'),
  )?.toLowerCase();
  if (authenticated === 'true') return true;
  if (authenticated === 'false') return false;
  return undefined;
}

/** The access key of the call; without one, a session is named by its principal and creation time. */
function sessionIdOf(identity: Record<string, unknown>): string | undefined {
  const accessKeyId = str(identity['accessKeyId']);
  if (accessKeyId !== undefined) return accessKeyId;
  const principalId = str(identity['principalId']);
  const createdAt = str(at(at(identity['sessionContext'], 'attributes'), 'creationDate'));
  return principalId !== undefined && createdAt !== undefined ? `${principalId}@${createdAt}` : undefined;
}

/**
 * Failure when CloudTrail reports an error (errorCode, or errorMessage alone as sign-in events do), or
 * when a sign-in event answers `{ "<eventName>": "Failure" }`.
 */
function mapOutcome(record: Record<string, unknown>, eventName: string): AuditEventInput['outcome'] {
  const errorCode = str(record['errorCode']);
  const errorMessage = str(record['errorMessage']);
  const answer = at(record['responseElements'], eventName);
  if (errorCode === undefined && errorMessage === undefined && answer !== 'Failure')
    return { result: 'success' };
  const outcome: AuditEventInput['outcome'] = { result: 'failure' };
  if (errorCode !== undefined) outcome.errorCode = errorCode;
  if (errorMessage !== undefined) outcome.errorMessage = errorMessage;
  return outcome;
}

function mapLabels(record: Record<string, unknown>): string[] {
  const labels = ['cloudtrail'];
  const category = str(record['eventCategory']);
  if (category !== undefined) labels.push(`category:${category}`);
  if (record['readOnly'] === true) labels.push('read-only');
  return labels;
}

function detailTypeOf(record: Record<string, unknown>): CloudTrailDetailType {
  if (record['eventName'] === 'ConsoleLogin' || record['eventType'] === 'AwsConsoleSignIn') {
    return 'AWS Console Sign In via CloudTrail';
  }
  if (record['eventType'] === 'AwsServiceEvent') return 'AWS Service Event via CloudTrail';
  return 'AWS API Call via CloudTrail';
}

/** Runs the JSON guard on untrusted input, reporting a violation as `UNSAFE_JSON`. */
function guard(value: unknown, base: string): void {
  try {
    assertSafeJson(value);
  } catch (error) {
    if (!(error instanceof EventValidationError)) throw error;
    throw new CloudTrailMappingError('UNSAFE_JSON', base + error.path.slice(1), error.message, {
      cause: error,
    });
  }
}

function reject(
  reason: CloudTrailRejectReason,
  base: string,
  field: string,
  message: string,
): CloudTrailMappingError {
  return new CloudTrailMappingError(reason, appendJsonPath(base, field), message);
}

/** A non-empty string, else undefined. */
function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function at(value: unknown, key: string): unknown {
  return isPlainObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
}

function putString(target: Record<string, unknown>, key: string, value: unknown): void {
  const s = str(value);
  if (s !== undefined) target[key] = s;
}

function pickStrings(record: Record<string, unknown>, keys: readonly string[]): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const key of keys) putString(picked, key, record[key]);
  return picked;
}

/** Namespace of the envelope ids built by `wrapInEventBridgeEnvelope` (a fixed random UUID). */
const ENVELOPE_ID_NAMESPACE = Buffer.from('6b1f3c0e8d2a4f7b9e5c1a3d7f0b2e4c', 'hex');

/** RFC 9562 §5.5 UUIDv5 of `name` in the envelope namespace. */
function uuidV5(name: string): string {
  const hash = createHash('sha1').update(ENVELOPE_ID_NAMESPACE).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

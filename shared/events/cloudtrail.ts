/**
 * CloudTrail records (and the EventBridge envelopes that carry them) to audit events.
 *
 * Input is JSON text, parsed without loss (`json-text.ts`). The record's own text is kept verbatim as
 * the string member `cloudtrail`, so every number stays as CloudTrail wrote it (beyond 2^53, `1e400`,
 * `-0`) and the event's bytes are still RFC 8785 JCS. The other members are a searchable projection of
 * the record; a projection never refuses a record: a string that does not fit its member is cut (and
 * marked), one that cannot hold the value is left out, and the record keeps the original.
 * Field reference: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
 * The mapping table is in docs/EVENTS.md.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ActorType, AuditEventInput } from './audit-event.ts';
import { EVENT_ID_PATTERN, MAX_EVENT_ID_LENGTH, MAX_LENGTH, parseAuditEventInput } from './audit-event.ts';
import { parseRecordText } from './cloudtrail-record.ts';
import { deriveResource } from './cloudtrail-resources.ts';
import type { CloudTrailRejectReason } from './errors.ts';
import { CloudTrailMappingError, EventValidationError } from './errors.ts';
import { isPlainObject } from './json-guard.ts';
import { appendJsonPath, formatJsonPath } from './json-path.ts';
import { type JsonTextLimits, memberText, parseJsonText, trimJsonWhitespace } from './json-text.ts';
import { DEFAULT_JSON_LIMITS, RECORD_TEXT_LIMITS, SOURCE_TEXT_LIMITS } from './limits.ts';
import { isRfc3339 } from './rfc3339.ts';
import { isSourceAddress } from './source-address.ts';

/** Prefix of the event id of every CloudTrail-derived event: `ct:<eventID>`. */
export const CLOUDTRAIL_ID_PREFIX = 'ct:';
const AWS_DOMAIN_SUFFIX = '.amazonaws.com';
/** Ends a projected string that was cut to fit its member. */
const CUT_MARK = '\u2026';
const LONE_SURROGATES = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

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
  'AWS Console Action via CloudTrail',
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
  detail: z.custom<Record<string, unknown>>((value) => isPlainObject(value), 'must be a JSON object'),
});

/**
 * Maps the JSON text of one CloudTrail record to an event input whose `cloudtrail` is that text, from
 * its `{` to its `}` (whitespace around the record is not part of it, as it is not in an envelope).
 * Throws `CloudTrailMappingError` (with `reason`) when the record cannot be mapped.
 * Example: `fromCloudTrailRecord(line)` for one line of a CloudTrail JSON-lines file.
 */
export function fromCloudTrailRecord(text: string): AuditEventInput {
  const record = parseSource(text, RECORD_TEXT_LIMITS, '$');
  if (!isPlainObject(record))
    throw new CloudTrailMappingError('NOT_A_RECORD', '$', 'a CloudTrail record must be a JSON object');
  return mapRecord(trimJsonWhitespace(text), record, '$');
}

/**
 * Maps the JSON text of an EventBridge "… via CloudTrail" event: `cloudtrail` is the exact text of its
 * `detail` member, as it stands in `text`.
 */
export function fromEventBridgeEnvelope(text: string): AuditEventInput {
  const envelope = parseSource(text, SOURCE_TEXT_LIMITS, '$');
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
  // The schema accepted `detail`, so the text has that member.
  const detailText = memberText(text, 'detail')!;
  if (detailText.length > RECORD_TEXT_LIMITS.maxLength) {
    throw new CloudTrailMappingError(
      'UNSAFE_JSON',
      '$.detail',
      `text is longer than ${RECORD_TEXT_LIMITS.maxLength} UTF-16 code units`,
    );
  }
  return mapRecord(detailText, parsed.data.detail, '$.detail');
}

/**
 * Builds the text of the EventBridge envelope AWS would deliver for the record `text`, for local
 * replay; its `detail` is `text` itself, byte for byte. Its `id` is a UUIDv5 of the record's eventID,
 * so replaying a record twice yields the same envelope.
 */
export function wrapInEventBridgeEnvelope(
  text: string,
  opts: { account?: string; region?: string } = {},
): string {
  const record = parseSource(text, RECORD_TEXT_LIMITS, '$');
  if (!isPlainObject(record))
    throw new CloudTrailMappingError('NOT_A_RECORD', '$', 'a CloudTrail record must be a JSON object');
  const { eventId, eventTime, service } = requireCoreFields(record, '$');
  const account =
    opts.account ??
    str(own(record, 'recipientAccountId')) ??
    str(at(own(record, 'userIdentity'), 'accountId'));
  const region = opts.region ?? str(own(record, 'awsRegion'));
  const header = {
    version: '0',
    id: uuidV5(eventId),
    'detail-type': detailTypeOf(record),
    source: `aws.${service}`,
    account: account ?? '000000000000',
    time: eventTime,
    region: region ?? 'us-east-1',
    resources: [],
  };
  // JSON.stringify escapes any lone surrogate, so the header is well-formed text.
  return `${JSON.stringify(header).slice(0, -1)},"detail":${trimJsonWhitespace(text)}}`;
}

/**
 * The CloudTrail record an event carries, parsed from its verbatim text; undefined when the event has
 * no `cloudtrail` member. For the Sigma evaluator and other readers of the original record:
 * - numbers are lossless-json `LosslessNumber`s (`isLosslessNumber(v)`; `v.value` is the exact source
 *   text, `String(v)` too; `v.valueOf()` gives a number, or a bigint for a large integer);
 * - objects are plain objects whose members are the record's, in its order; a member named `__proto__`
 *   is an own property, so read members with `Object.hasOwn`;
 * - with duplicate member names, the last one wins, as with `JSON.parse`.
 * Throws `EventValidationError` if `cloudtrail` is not the text of a record (never for an event that
 * `parseAuditEvent` or `parseAuditEventInput` accepted).
 */
export function cloudTrailRecordOf(event: object): Record<string, unknown> | undefined {
  const text: unknown = Object.hasOwn(event, 'cloudtrail')
    ? (event as { cloudtrail?: unknown }).cloudtrail
    : undefined;
  if (text === undefined) return undefined;
  if (typeof text !== 'string') {
    throw new EventValidationError('SCHEMA_VIOLATION', '$.cloudtrail', 'must be the JSON text of a record');
  }
  return parseRecordText(text, '$.cloudtrail');
}

/** Parses source text, reporting a violation as `INVALID_JSON` or `UNSAFE_JSON`. */
function parseSource(text: string, limits: JsonTextLimits, base: string): unknown {
  if (typeof text !== 'string') throw new CloudTrailMappingError('INVALID_JSON', base, 'input is not text');
  try {
    return parseJsonText(text, limits, base);
  } catch (error) {
    if (!(error instanceof EventValidationError)) throw error;
    const reason = error.code === 'INVALID_JSON' ? 'INVALID_JSON' : 'UNSAFE_JSON';
    throw new CloudTrailMappingError(reason, base, error.message.replace(/ at \S+$/, ''), { cause: error });
  }
}

function mapRecord(text: string, record: Record<string, unknown>, base: string): AuditEventInput {
  const { eventId, eventTime, service, eventName } = requireCoreFields(record, base);
  const identity = own(record, 'userIdentity');
  if (identity === undefined || identity === null) {
    throw reject('MISSING_USER_IDENTITY', base, 'userIdentity', 'record has no userIdentity');
  }
  if (!isPlainObject(identity))
    throw reject('BAD_USER_IDENTITY', base, 'userIdentity', 'userIdentity is not an object');

  const event: Record<string, unknown> = {
    id: `${CLOUDTRAIL_ID_PREFIX}${eventId}`,
    eventTime,
    actor: mapActor(record, identity, eventName),
    action: fitTo(`${service}:${eventName}`, MAX_LENGTH.action),
  };
  const resource = deriveResource(record, service);
  if (resource !== undefined) {
    event['resource'] = {
      id: fitTo(resource.id, MAX_LENGTH.resourceId),
      type: fitTo(resource.type, MAX_LENGTH.resourceType),
      ...(resource.name !== undefined ? { name: fitTo(resource.name, MAX_LENGTH.resourceName) } : {}),
    };
  }
  event['outcome'] = mapOutcome(record, eventName);
  const sourceIp = str(own(record, 'sourceIPAddress'));
  if (sourceIp !== undefined && isSourceAddress(sourceIp)) event['sourceIp'] = sourceIp;
  putString(event, 'userAgent', own(record, 'userAgent'), MAX_LENGTH.userAgent);
  putString(event, 'requestId', own(record, 'requestID'), MAX_LENGTH.requestId);
  putString(event, 'endpoint', own(record, 'eventSource'), MAX_LENGTH.endpoint);
  event['labels'] = mapLabels(record);
  const details: Record<string, string> = {};
  for (const key of ['eventType', 'eventVersion', 'awsRegion', 'recipientAccountId']) {
    putString(details, key, own(record, key), DEFAULT_JSON_LIMITS.maxStringLength);
  }
  if (Object.keys(details).length > 0) event['details'] = details;

  let projection: AuditEventInput;
  try {
    projection = parseAuditEventInput(event);
  } catch (error) {
    // Every member above is built to fit the schema, so this is a bug here, not a bad record.
    if (!(error instanceof EventValidationError)) throw error;
    throw new Error(`the CloudTrail mapping built an invalid event: ${error.message}`, { cause: error });
  }
  // The record text was parsed above; the projection is valid without it and the text is a valid record.
  return { ...projection, cloudtrail: text };
}

interface CoreFields {
  eventId: string;
  eventTime: string;
  service: string;
  eventName: string;
}

/** The members every mapped record needs, checked in the order the reasons are reported. */
function requireCoreFields(record: Record<string, unknown>, base: string): CoreFields {
  const eventId = own(record, 'eventID');
  if (eventId === undefined || eventId === null)
    throw reject('MISSING_EVENT_ID', base, 'eventID', 'record has no eventID');
  if (typeof eventId !== 'string') throw reject('BAD_EVENT_ID', base, 'eventID', 'eventID is not a string');
  const id = `${CLOUDTRAIL_ID_PREFIX}${eventId}`;
  if (id.length > MAX_EVENT_ID_LENGTH || !EVENT_ID_PATTERN.test(id)) {
    throw reject('BAD_EVENT_ID', base, 'eventID', 'eventID does not form a valid event id');
  }
  const eventTime = own(record, 'eventTime');
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
  const eventSource = own(record, 'eventSource');
  if (eventSource === undefined || eventSource === null) {
    throw reject('MISSING_EVENT_SOURCE', base, 'eventSource', 'record has no eventSource');
  }
  const service = typeof eventSource === 'string' ? serviceOf(wellFormed(eventSource)) : '';
  if (service.length === 0)
    throw reject('BAD_EVENT_SOURCE', base, 'eventSource', 'eventSource is not a service name');
  const eventName = own(record, 'eventName');
  if (eventName === undefined || eventName === null) {
    throw reject('MISSING_EVENT_NAME', base, 'eventName', 'record has no eventName');
  }
  if (typeof eventName !== 'string' || eventName.length === 0) {
    throw reject('BAD_EVENT_NAME', base, 'eventName', 'eventName is not a non-empty string');
  }
  return { eventId, eventTime, service, eventName: wellFormed(eventName) };
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
  const identityType = str(own(identity, 'type'));
  const invokedBy = str(own(identity, 'invokedBy'));
  // Service events often carry only { accountId, invokedBy }: AWS itself acted.
  const type: ActorType =
    identityType !== undefined
      ? (ACTOR_TYPE_BY_IDENTITY.get(identityType) ?? 'unknown')
      : invokedBy !== undefined
        ? 'service'
        : 'unknown';
  const id =
    str(own(identity, 'arn')) ??
    str(own(identity, 'principalId')) ??
    invokedBy ??
    str(own(identity, 'userName')) ??
    'unknown';
  const actor: AuditEventInput['actor'] = { id: fitTo(id, MAX_LENGTH.actorId), type };
  const authMethod = authMethodOf(identityType, type, eventName, identity);
  if (authMethod !== undefined) actor.authMethod = authMethod;
  const mfa = mfaOf(record, identity);
  if (mfa !== undefined) actor.mfa = mfa;
  const sessionId = sessionIdOf(identity);
  if (sessionId !== undefined) actor.sessionId = fitTo(sessionId, MAX_LENGTH.sessionId);
  const accountId = str(own(identity, 'accountId'));
  if (accountId !== undefined) actor.accountId = fitTo(accountId, MAX_LENGTH.accountId);
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
  if (str(own(identity, 'accessKeyId')) !== undefined) return 'access-key';
  return undefined;
}

/** `additionalEventData.MFAUsed` (sign-in events) wins over the session's `mfaAuthenticated`. */
function mfaOf(record: Record<string, unknown>, identity: Record<string, unknown>): boolean | undefined {
  const used = str(at(own(record, 'additionalEventData'), 'MFAUsed'))?.toLowerCase();
  if (used === 'yes') return true;
  if (used === 'no') return false;
  const authenticated = str(
    at(at(own(identity, 'sessionContext'), 'attributes'), 'mfaAuthenticated'),
  )?.toLowerCase();
  if (authenticated === 'true') return true;
  if (authenticated === 'false') return false;
  return undefined;
}

/** The access key of the call; without one, a session is named by its principal and creation time. */
function sessionIdOf(identity: Record<string, unknown>): string | undefined {
  const accessKeyId = str(own(identity, 'accessKeyId'));
  if (accessKeyId !== undefined) return accessKeyId;
  const principalId = str(own(identity, 'principalId'));
  const createdAt = str(at(at(own(identity, 'sessionContext'), 'attributes'), 'creationDate'));
  return principalId !== undefined && createdAt !== undefined ? `${principalId}@${createdAt}` : undefined;
}

/**
 * Failure when CloudTrail reports an error (errorCode, or errorMessage alone as sign-in events do), or
 * when a sign-in event answers `{ "<eventName>": "Failure" }`.
 */
function mapOutcome(record: Record<string, unknown>, eventName: string): AuditEventInput['outcome'] {
  const errorCode = str(own(record, 'errorCode'));
  const errorMessage = str(own(record, 'errorMessage'));
  const answer = at(own(record, 'responseElements'), eventName);
  if (errorCode === undefined && errorMessage === undefined && answer !== 'Failure')
    return { result: 'success' };
  const outcome: AuditEventInput['outcome'] = { result: 'failure' };
  if (errorCode !== undefined) outcome.errorCode = fitTo(errorCode, MAX_LENGTH.errorCode);
  if (errorMessage !== undefined) outcome.errorMessage = fitTo(errorMessage, MAX_LENGTH.errorMessage);
  return outcome;
}

function mapLabels(record: Record<string, unknown>): string[] {
  const labels = ['cloudtrail'];
  const category = str(own(record, 'eventCategory'));
  if (category !== undefined) labels.push(fitTo(`category:${category}`, MAX_LENGTH.label));
  if (own(record, 'readOnly') === true) labels.push('read-only');
  return labels;
}

function detailTypeOf(record: Record<string, unknown>): CloudTrailDetailType {
  const eventType = own(record, 'eventType');
  if (own(record, 'eventName') === 'ConsoleLogin' || eventType === 'AwsConsoleSignIn') {
    return 'AWS Console Sign In via CloudTrail';
  }
  if (eventType === 'AwsConsoleAction') return 'AWS Console Action via CloudTrail';
  if (eventType === 'AwsServiceEvent') return 'AWS Service Event via CloudTrail';
  return 'AWS API Call via CloudTrail';
}

function reject(
  reason: CloudTrailRejectReason,
  base: string,
  field: string,
  message: string,
): CloudTrailMappingError {
  return new CloudTrailMappingError(reason, appendJsonPath(base, field), message);
}

/** Replaces each lone UTF-16 surrogate with U+FFFD: a projection must be valid UTF-8; the record keeps the escape. */
function wellFormed(s: string): string {
  return s.replace(LONE_SURROGATES, '\uFFFD');
}

/** A non-empty string, made well-formed, else undefined. */
function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? wellFormed(value) : undefined;
}

/**
 * `s`, made well-formed, if it has at most `max` UTF-16 code units; else its first `max - 1` (one fewer
 * if that would split a surrogate pair) followed by `…`.
 */
function fitTo(s: string, max: number): string {
  const w = wellFormed(s);
  if (w.length <= max) return w;
  let end = max - 1;
  const last = w.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return w.slice(0, end) + CUT_MARK;
}

/** The record's own member `key`: never one inherited from `Object.prototype` (`constructor`, …). */
function own(value: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(value, key) ? value[key] : undefined;
}

function at(value: unknown, key: string): unknown {
  return isPlainObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
}

function putString(target: Record<string, unknown>, key: string, value: unknown, max: number): void {
  const s = str(value);
  if (s !== undefined) target[key] = fitTo(s, max);
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

/**
 * CloudTrail events and resource profiles (G8, G10).
 *
 * 1. Linking: a mapped CloudTrail event names its resource (`shared/events/cloudtrail-resources.ts`),
 *    so it shows on that resource's timeline. `resourceLinkOf` says whether the call changed the
 *    resource: it succeeded, and CloudTrail marks it `readOnly: false` (or, in records without
 *    `readOnly`, its name starts with a verb that writes).
 * 2. Deriving: a profile version comes from a CloudTrail event only where the record carries the new
 *    state of one aspect itself: a full tag set, a policy document, or the resource's deletion; and a
 *    tag delta when the tags before it are known. The version is the one in force at the event's time
 *    with that aspect replaced. Where AWS Config or an app (`api`) keeps the resource's profile, their
 *    full snapshots are authoritative and CloudTrail only links. Table and reasons: docs/PROFILES.md.
 */
import type { AuditEventInput } from '../events/audit-event.ts';
import { cloudTrailRecordOf } from '../events/cloudtrail.ts';
import { isPlainObject, type JsonValue } from '../events/json-guard.ts';
import { normalizeTimestamp } from '../events/rfc3339.ts';
import { ProfileValidationError } from './errors.ts';
import { withExactNumbers } from './lossless.ts';
import { type ParsedProfile, type Profile, parseProfile } from './profile.ts';
import type { ProfileVersion } from './version.ts';

/** A CloudTrail event placed on a resource's timeline. */
export interface ResourceLink {
  readonly resourceId: string;
  readonly resourceType: string;
  /** The audit event id, `ct:<eventID>`. */
  readonly eventId: string;
  /** The record's `eventTime`, normalized. */
  readonly time: string;
  readonly eventName: string;
  /** The call succeeded and writes: it changed the resource. */
  readonly changes: boolean;
}

/** Name prefixes of API calls that change what they name (used when a record has no `readOnly`). */
const WRITING_VERBS = [
  'Accept',
  'Add',
  'Allocate',
  'Apply',
  'Associate',
  'Attach',
  'Authorize',
  'Cancel',
  'Change',
  'Copy',
  'Create',
  'Delete',
  'Deregister',
  'Detach',
  'Disable',
  'Disassociate',
  'Enable',
  'Import',
  'Modify',
  'Promote',
  'Put',
  'Reboot',
  'Register',
  'Reject',
  'Release',
  'Remove',
  'Replace',
  'Reset',
  'Restore',
  'Revoke',
  'Rotate',
  'Run',
  'Schedule',
  'Set',
  'Start',
  'Stop',
  'Tag',
  'Terminate',
  'Untag',
  'Update',
  'Upload',
];

/** The link of a mapped CloudTrail event to its resource, or undefined when it names none. */
export function resourceLinkOf(event: AuditEventInput): ResourceLink | undefined {
  const record = cloudTrailRecordOf(event);
  return record === undefined ? undefined : linkOf(event, record);
}

function linkOf(event: AuditEventInput, record: Record<string, unknown>): ResourceLink | undefined {
  if (event.resource === undefined) return undefined;
  const name = own(record, 'eventName');
  const eventName = typeof name === 'string' ? name : event.action;
  return {
    resourceId: event.resource.id,
    resourceType: event.resource.type,
    eventId: event.id,
    time: normalizeTimestamp(event.eventTime),
    eventName,
    changes: event.outcome.result === 'success' && writes(record, eventName),
  };
}

function writes(record: Record<string, unknown>, eventName: string): boolean {
  const readOnly = own(record, 'readOnly');
  if (typeof readOnly === 'boolean') return !readOnly;
  return WRITING_VERBS.some(
    (verb) => eventName.startsWith(verb) && /^[A-Z0-9]?$/.test(eventName.charAt(verb.length)),
  );
}

/** One aspect of a resource's state that a record carries in full. */
type Change =
  | { readonly kind: 'tags'; readonly tags: Record<string, string> }
  | { readonly kind: 'tag-delta'; readonly add: Record<string, string>; readonly remove: readonly string[] }
  | { readonly kind: 'policy'; readonly name: string; readonly document: JsonValue | null }
  | { readonly kind: 'deleted' };

/** Why an event did not give a version. */
export type NotDerivedReason =
  /** The event names no resource, failed, or only reads. */
  | 'NOT_A_CHANGE'
  /** The record does not carry the new state (no rule for this call). */
  | 'STATE_NOT_IN_RECORD'
  /** A rule applies but the record lacks the member that holds the state. */
  | 'STATE_MISSING'
  /** AWS Config or an app keeps this resource's profile: their snapshots are authoritative. */
  | 'AUTHORITATIVE_SOURCE'
  /** A tag delta, but the tags before it are not known. */
  | 'TAGS_UNKNOWN'
  /** The derived profile breaks the profile bounds (for example a huge policy). */
  | 'PROFILE_INVALID';

export type CloudTrailDerivation =
  | { readonly derived: true; readonly parsed: ParsedProfile; readonly aspect: string }
  | { readonly derived: false; readonly reason: NotDerivedReason };

type Rule = (params: Record<string, unknown>) => Change | undefined;

const policy =
  (name: string | ((p: Record<string, unknown>) => string | undefined), member: string): Rule =>
  (params) => {
    const policyName = typeof name === 'string' ? name : name(params);
    const document = policyDocument(params[member]);
    return policyName === undefined || document === undefined
      ? undefined
      : { kind: 'policy', name: policyName, document };
  };
const policyRemoved =
  (name: string | ((p: Record<string, unknown>) => string | undefined)): Rule =>
  (params) => {
    const policyName = typeof name === 'string' ? name : name(params);
    return policyName === undefined ? undefined : { kind: 'policy', name: policyName, document: null };
  };
const inlineName = (params: Record<string, unknown>) =>
  typeof params['policyName'] === 'string' && params['policyName'] !== ''
    ? `inline:${params['policyName']}`
    : undefined;
const deleted: Rule = () => ({ kind: 'deleted' });
const tagsAdded =
  (...members: string[]): Rule =>
  (params) => {
    for (const member of members) {
      const add = tagMap(dig(params, member));
      if (add !== undefined) return { kind: 'tag-delta', add, remove: [] };
    }
    return undefined;
  };
const tagsRemoved =
  (...members: string[]): Rule =>
  (params) => {
    for (const member of members) {
      const remove = tagKeys(dig(params, member));
      if (remove !== undefined) return { kind: 'tag-delta', add: {}, remove };
    }
    return undefined;
  };

/**
 * `<service>:<eventName>` → how the record carries the new state. `*` matches any service. Lambda's
 * versioned names (`DeleteFunction20150331`) are matched without their date suffix.
 */
const RULES: ReadonlyMap<string, Rule> = new Map<string, Rule>([
  [
    's3:PutBucketTagging',
    (p) => {
      const tags = tagMap(dig(p, 'Tagging.TagSet.Tag'));
      return tags === undefined ? undefined : { kind: 'tags', tags };
    },
  ],
  ['s3:DeleteBucketTagging', () => ({ kind: 'tags', tags: {} })],
  ['s3:PutBucketPolicy', policy('bucketPolicy', 'bucketPolicy')],
  ['s3:DeleteBucketPolicy', policyRemoved('bucketPolicy')],
  ['s3:DeleteBucket', deleted],
  [
    'kms:PutKeyPolicy',
    policy((p) => `keyPolicy:${typeof p['policyName'] === 'string' ? p['policyName'] : 'default'}`, 'policy'),
  ],
  ['iam:UpdateAssumeRolePolicy', policy('assumeRolePolicy', 'policyDocument')],
  ['iam:PutRolePolicy', policy(inlineName, 'policyDocument')],
  ['iam:PutUserPolicy', policy(inlineName, 'policyDocument')],
  ['iam:PutGroupPolicy', policy(inlineName, 'policyDocument')],
  ['iam:DeleteRolePolicy', policyRemoved(inlineName)],
  ['iam:DeleteUserPolicy', policyRemoved(inlineName)],
  ['iam:DeleteGroupPolicy', policyRemoved(inlineName)],
  ['iam:DeleteRole', deleted],
  ['iam:DeleteUser', deleted],
  ['iam:DeleteGroup', deleted],
  ['iam:TagRole', tagsAdded('tags')],
  ['iam:TagUser', tagsAdded('tags')],
  ['iam:UntagRole', tagsRemoved('tagKeys')],
  ['iam:UntagUser', tagsRemoved('tagKeys')],
  ['ecr:SetRepositoryPolicy', policy('repositoryPolicy', 'policyText')],
  ['ecr:DeleteRepositoryPolicy', policyRemoved('repositoryPolicy')],
  ['ecr:DeleteRepository', deleted],
  ['secretsmanager:PutResourcePolicy', policy('resourcePolicy', 'resourcePolicy')],
  ['secretsmanager:DeleteResourcePolicy', policyRemoved('resourcePolicy')],
  ['lambda:DeleteFunction', deleted],
  ['sns:DeleteTopic', deleted],
  ['sqs:DeleteQueue', deleted],
  ['dynamodb:DeleteTable', deleted],
  ['ec2:DeleteSecurityGroup', deleted],
  ['elasticloadbalancing:AddTags', tagsAdded('tags')],
  ['elasticloadbalancing:RemoveTags', tagsRemoved('tagKeys')],
  ['*:TagResource', tagsAdded('tags', 'tags.items', 'tagResourceInput.tags', 'Tags')],
  ['*:UntagResource', tagsRemoved('tagKeys', 'tagKeys.items', 'TagKeys', 'keys')],
]);

function ruleFor(service: string, eventName: string): Rule | undefined {
  const name = eventName.replace(/\d{8}(?:v\d+)?$/, '');
  return RULES.get(`${service}:${name}`) ?? RULES.get(`*:${name}`);
}

/**
 * The profile a CloudTrail event gives its resource, from the version in force at the event's time
 * (`inForce`, looked up by the caller), or why there is none.
 */
export function profileFromCloudTrail(
  event: AuditEventInput,
  inForce: ProfileVersion | undefined,
): CloudTrailDerivation {
  const record = cloudTrailRecordOf(event);
  const link = record === undefined ? undefined : linkOf(event, record);
  if (record === undefined || link === undefined || !link.changes)
    return { derived: false, reason: 'NOT_A_CHANGE' };
  if (inForce !== undefined && inForce.resourceId !== link.resourceId)
    throw new RangeError('inForce is another resource');
  const eventSource = own(record, 'eventSource');
  const service = typeof eventSource === 'string' ? eventSource.replace(/\.amazonaws\.com$/, '') : '';
  const rule = ruleFor(service, link.eventName);
  if (rule === undefined) return { derived: false, reason: 'STATE_NOT_IN_RECORD' };
  if (inForce !== undefined && inForce.profile.source !== 'cloudtrail')
    return { derived: false, reason: 'AUTHORITATIVE_SOURCE' };
  // Policy documents may hold numbers (`NumericLessThan` conditions): exact ones become numbers.
  const requested = withExactNumbers(own(record, 'requestParameters'));
  const params = isPlainObject(requested) ? requested : {};
  const change = rule(params);
  if (change === undefined) return { derived: false, reason: 'STATE_MISSING' };

  const base = baseProfile(link, inForce);
  let aspect: string;
  const next: Record<string, unknown> = { ...base };
  switch (change.kind) {
    case 'tags':
      next['tags'] = change.tags;
      aspect = 'tags';
      break;
    case 'tag-delta': {
      if (base.tags === undefined) return { derived: false, reason: 'TAGS_UNKNOWN' };
      const tags = { ...base.tags, ...change.add };
      for (const key of change.remove) delete tags[key];
      next['tags'] = tags;
      aspect = 'tags';
      break;
    }
    case 'policy':
      next['policies'] = { ...(base.policies ?? {}), [change.name]: change.document };
      aspect = `policies.${change.name}`;
      break;
    case 'deleted':
      next['tombstone'] = true;
      aspect = 'tombstone';
      break;
  }
  next['source'] = 'cloudtrail';
  next['lastModified'] = link.time;
  next['relatedEventIds'] = [link.eventId];
  next['origin'] = { eventSource, eventName: link.eventName, eventID: own(record, 'eventID'), aspect };
  try {
    return { derived: true, parsed: parseProfile(next), aspect };
  } catch (error) {
    if (!(error instanceof ProfileValidationError)) throw error;
    return { derived: false, reason: 'PROFILE_INVALID' };
  }
}

/** What the derived version starts from: the CloudTrail-derived version in force, or nothing known. */
function baseProfile(link: ResourceLink, inForce: ProfileVersion | undefined): Profile {
  if (inForce !== undefined && inForce.profile.tombstone !== true) {
    const { relatedEventIds: _r, origin: _o, ...rest } = inForce.profile;
    return rest as Profile;
  }
  // A first sighting, or a resource created again after a deletion: only its id and type are known.
  return {
    resourceId: link.resourceId,
    resourceType: link.resourceType,
    configuration: null,
    configurationNotDelivered: { reason: 'NOT_IN_SOURCE' },
    lastModified: link.time,
    source: 'cloudtrail',
  };
}

/** An own member of a record (never one reached through the prototype). */
function own(record: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(record, name) ? record[name] : undefined;
}

/** A member at a dotted path (`Tagging.TagSet.Tag`), own properties only. */
function dig(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split('.')) {
    if (!isPlainObject(current) || !Object.hasOwn(current, key)) return undefined;
    current = current[key];
  }
  return current;
}

/** A policy as the request sent it: a JSON object, or a JSON string of one (IAM, ECR, KMS). */
function policyDocument(value: unknown): JsonValue | undefined {
  if (isPlainObject(value)) return value as JsonValue;
  if (typeof value !== 'string' || value === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    return isPlainObject(parsed) ? (parsed as JsonValue) : value;
  } catch {
    return value;
  }
}

const KEY_NAMES = ['key', 'Key', 'tagKey', 'TagKey'];
const VALUE_NAMES = ['value', 'Value', 'tagValue', 'TagValue'];

/** Tags in the shapes AWS APIs use: `{k: v}`, `[{key, value}]` (any casing), or one `{Key, Value}`. */
function tagMap(value: unknown): Record<string, string> | undefined {
  const entries = Array.isArray(value)
    ? value
    : isPlainObject(value) && pick(value, KEY_NAMES) !== undefined
      ? [value]
      : undefined;
  if (entries !== undefined) {
    const tags = emptyTags();
    for (const entry of entries) {
      if (!isPlainObject(entry)) return undefined;
      const key = pick(entry, KEY_NAMES);
      const tagValue = pick(entry, VALUE_NAMES) ?? '';
      if (key === undefined) return undefined;
      tags[key] = tagValue;
    }
    return tags;
  }
  if (!isPlainObject(value)) return undefined;
  const tags = emptyTags();
  for (const [key, tagValue] of Object.entries(value)) {
    if (typeof tagValue !== 'string') return undefined;
    tags[key] = tagValue;
  }
  return tags;
}

/** A map without a prototype: a key such as `__proto__` stays an own member, which the profile guard refuses. */
function emptyTags(): Record<string, string> {
  return Object.create(null) as Record<string, string>;
}

function tagKeys(value: unknown): string[] | undefined {
  if (!Array.isArray(value) || !value.every((k) => typeof k === 'string')) return undefined;
  return value as string[];
}

function pick(entry: Record<string, unknown>, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = entry[name];
    if (Object.hasOwn(entry, name) && typeof value === 'string') return value;
  }
  return undefined;
}

/**
 * The audit event: what a producer sends (`AuditEventInput`) and what the ledger stores (`AuditEvent`).
 * Field-by-field rules and their reasons are in docs/EVENTS.md. Every object is strict: unknown members
 * are rejected, so a stored event never carries data that its schema version does not describe.
 */
import { z } from 'zod';
import { type ProfileVersionDocument, versionDocumentProblem } from '../profiles/version.ts';
import { parseRecordText } from './cloudtrail-record.ts';
import { EventValidationError } from './errors.ts';
import { EVENT_ID_PATTERN, MAX_EVENT_ID_LENGTH } from './event-id.ts';
import type { JsonValue } from './json-guard.ts';
import { assertSafeJson, isPlainObject } from './json-guard.ts';
import { formatJsonPath } from './json-path.ts';
import { MAX_EVENT_BYTES } from './limits.ts';
import { isCanonicalTimestamp, isRfc3339 } from './rfc3339.ts';
import { isSourceAddress, MAX_HOSTNAME_LENGTH } from './source-address.ts';

export { EVENT_ID_PATTERN, MAX_EVENT_ID_LENGTH } from './event-id.ts';
export { normalizeTimestamp } from './rfc3339.ts';
export const ACTOR_TYPES = [
  'user',
  'role',
  'service',
  'root',
  'federated',
  'account',
  'anonymous',
  'unknown',
] as const;
export const OUTCOME_RESULTS = ['success', 'failure'] as const;
/**
 * `read`: a read of the ledger itself, recorded by the read path (G7); `kubernetes`: Kubernetes audit
 * Events; `detection`: alerts raised by the detection function; `profile`: one version of a resource
 * profile (G8, docs/PROFILES.md "Versions in the ledger").
 */
export const EVENT_CHANNELS = [
  'api',
  'cloudtrail',
  'import',
  'kubernetes',
  'detection',
  'read',
  'profile',
] as const;
export const MAX_TAGS = 50;
export const MAX_LABELS = 50;
/** Version of the stored event format, the `v` member. */
export const EVENT_FORMAT_VERSION = 1;

/** Longest value, in UTF-16 code units, of each bounded string member (docs/EVENTS.md §2). */
export const MAX_LENGTH = Object.freeze({
  actorId: 512,
  authMethod: 64,
  sessionId: 512,
  accountId: 64,
  action: 256,
  resourceId: 2048,
  resourceType: 256,
  resourceName: 1024,
  errorCode: 256,
  errorMessage: 4096,
  userAgent: 1024,
  requestId: 256,
  endpoint: 1024,
  label: 128,
});

/** A string of `min..max` UTF-16 code units. Optional strings, when present, are never empty. */
const text = (max: number, min = 1) => z.string().min(min).max(max);

const actorSchema = z.strictObject({
  id: text(MAX_LENGTH.actorId),
  type: z.enum(ACTOR_TYPES),
  authMethod: text(MAX_LENGTH.authMethod).optional(),
  mfa: z.boolean().optional(),
  sessionId: text(MAX_LENGTH.sessionId).optional(),
  accountId: text(MAX_LENGTH.accountId).optional(),
});

const resourceSchema = z.strictObject({
  id: text(MAX_LENGTH.resourceId),
  type: text(MAX_LENGTH.resourceType),
  name: text(MAX_LENGTH.resourceName).optional(),
});

const outcomeSchema = z.strictObject({
  result: z.enum(OUTCOME_RESULTS),
  errorCode: text(MAX_LENGTH.errorCode).optional(),
  errorMessage: text(MAX_LENGTH.errorMessage).optional(),
});

// `details` is free-form. `parseAuditEvent*` runs `assertSafeJson` first, which proves it is bounded JSON,
// so the schema only checks its outer shape instead of walking it again. In the same way, `guardEvent` has
// already parsed the `cloudtrail` and `kubernetes` texts, so the schema only checks that they are strings.
const jsonValue = z.custom<JsonValue>((value) => value !== undefined, 'must be a JSON value');
// A profile version document, verbatim: it must be exactly what `parseVersionBytes` accepts from its JCS
// (a strict, canonical, schema-valid document whose profile passes `parseProfile`).
const profileVersionDocument = z.custom<ProfileVersionDocument>().superRefine((value, context) => {
  const problem = versionDocumentProblem(value);
  if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
});

/** Schema of one item of a `POST /v1/events` body. Run it through `parseAuditEventInput`, not directly. */
export const auditEventInputSchema = z.strictObject({
  id: text(MAX_EVENT_ID_LENGTH).regex(
    EVENT_ID_PATTERN,
    'must start with a letter or digit and use only A-Z a-z 0-9 . _ : @ / + = -',
  ),
  eventTime: z
    .string()
    .refine(isRfc3339, 'must be an RFC 3339 date-time with Z or an offset, years 1970..9999'),
  actor: actorSchema,
  action: text(MAX_LENGTH.action),
  resource: resourceSchema.optional(),
  outcome: outcomeSchema,
  sourceIp: z
    .string()
    .max(MAX_HOSTNAME_LENGTH)
    .refine(isSourceAddress, 'must be an IPv4 or IPv6 literal or a DNS host name')
    .optional(),
  userAgent: text(MAX_LENGTH.userAgent).optional(),
  requestId: text(MAX_LENGTH.requestId).optional(),
  endpoint: text(MAX_LENGTH.endpoint).optional(),
  tags: z
    .record(text(128), z.string().max(256))
    .refine((tags) => Object.keys(tags).length <= MAX_TAGS, `must have at most ${MAX_TAGS} entries`)
    .optional(),
  labels: z.array(text(MAX_LENGTH.label)).max(MAX_LABELS).optional(),
  details: jsonValue.optional(),
  /** The CloudTrail record, verbatim: its own JSON text (docs/EVENTS.md §5). */
  cloudtrail: z.string().max(MAX_EVENT_BYTES).optional(),
  /** The Kubernetes audit Event, verbatim: its own JSON text (`shared/events/kubernetes.ts`). */
  kubernetes: z.string().max(MAX_EVENT_BYTES).optional(),
  /**
   * The version document of a profile version (docs/PROFILES.md). Only events of channel `profile` carry
   * it, and every such event does (`parseAuditEvent`; the ingest core checks the rest).
   */
  profileVersion: profileVersionDocument.optional(),
});

/** Schema of a stored event: the input plus the members only the server assigns. */
export const auditEventSchema = auditEventInputSchema.extend({
  v: z.literal(EVENT_FORMAT_VERSION),
  receivedAt: z
    .string()
    .refine(isCanonicalTimestamp, 'must be a UTC time of the form YYYY-MM-DDTHH:MM:SS.sssZ'),
  channel: z.enum(EVENT_CHANNELS),
});

export type AuditEventInput = z.infer<typeof auditEventInputSchema>;
export type AuditEvent = z.infer<typeof auditEventSchema>;
export type ActorType = (typeof ACTOR_TYPES)[number];
export type EventChannel = (typeof EVENT_CHANNELS)[number];

/**
 * A fast acceptance check for the common app event: plain members only, no `cloudtrail`, `kubernetes` or
 * `profileVersion`. It answers true only for a value that `auditEventInputSchema` accepts as it is (the
 * schema has no transforms or defaults, so its output is an equal copy), and `parseAuditEventInput` then
 * returns the value itself; for anything else (any doubt, any error) it answers false, and the schema runs
 * and reports exactly what it always reported. Each rule restates one of the schema above; keep them
 * together. The property test `test/unit/events/app-event-fast-path.test.ts` holds the two to each other.
 * Why: zod's generic parse cost about a third of the floor of ingest's whole work per event
 * (docs/BENCHMARKS.md, ingest benchmark).
 */
const ACTOR_TYPE_SET: ReadonlySet<unknown> = new Set(ACTOR_TYPES);
const OUTCOME_RESULT_SET: ReadonlySet<unknown> = new Set(OUTCOME_RESULTS);
/** Members the fast path handles; any other member (also `cloudtrail`, `kubernetes`, `profileVersion`) takes the schema. */
const EVENT_MEMBERS: ReadonlySet<string> = new Set([
  'id',
  'eventTime',
  'actor',
  'action',
  'resource',
  'outcome',
  'sourceIp',
  'userAgent',
  'requestId',
  'endpoint',
  'tags',
  'labels',
  'details',
]);
const ACTOR_MEMBERS: ReadonlySet<string> = new Set([
  'id',
  'type',
  'authMethod',
  'mfa',
  'sessionId',
  'accountId',
]);
const RESOURCE_MEMBERS: ReadonlySet<string> = new Set(['id', 'type', 'name']);
const OUTCOME_MEMBERS: ReadonlySet<string> = new Set(['result', 'errorCode', 'errorMessage']);

const L = MAX_LENGTH;

/** An object as JSON.parse makes them: prototype Object.prototype, not an array. */
function isJsonObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.getPrototypeOf(value) === Object.prototype
  );
}

/** A string of 1..max UTF-16 code units (zod's `min(1).max(max)`). */
function isText(value: unknown, max: number): boolean {
  return typeof value === 'string' && value.length >= 1 && value.length <= max;
}

/** Absent, or a text of 1..max. */
function isOptionalText(object: Record<string, unknown>, key: string, max: number): boolean {
  return !Object.hasOwn(object, key) || isText(object[key], max);
}

/** Every own key is in `allowed`, and no value is `undefined` (zod treats those apart). */
function hasOnly(object: Record<string, unknown>, allowed: ReadonlySet<string>): boolean {
  for (const key in object) {
    if (!Object.hasOwn(object, key)) return false;
    if (!allowed.has(key) || object[key] === undefined) return false;
  }
  // Symbol or non-enumerable own keys: zod does not see them, but the fast path leaves them to it.
  return Object.getOwnPropertySymbols(object).length === 0;
}

function isActor(value: unknown): boolean {
  if (!isJsonObject(value) || !hasOnly(value, ACTOR_MEMBERS)) return false;
  return (
    isText(value['id'], L.actorId) &&
    ACTOR_TYPE_SET.has(value['type']) &&
    isOptionalText(value, 'authMethod', L.authMethod) &&
    (!Object.hasOwn(value, 'mfa') || typeof value['mfa'] === 'boolean') &&
    isOptionalText(value, 'sessionId', L.sessionId) &&
    isOptionalText(value, 'accountId', L.accountId)
  );
}

function isResource(value: unknown): boolean {
  if (!isJsonObject(value) || !hasOnly(value, RESOURCE_MEMBERS)) return false;
  return (
    isText(value['id'], L.resourceId) &&
    isText(value['type'], L.resourceType) &&
    isOptionalText(value, 'name', L.resourceName)
  );
}

function isOutcome(value: unknown): boolean {
  if (!isJsonObject(value) || !hasOnly(value, OUTCOME_MEMBERS)) return false;
  return (
    OUTCOME_RESULT_SET.has(value['result']) &&
    isOptionalText(value, 'errorCode', L.errorCode) &&
    isOptionalText(value, 'errorMessage', L.errorMessage)
  );
}

function isTags(value: unknown): boolean {
  if (!isJsonObject(value) || Object.getOwnPropertySymbols(value).length > 0) return false;
  let count = 0;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) return false;
    const tag = value[key];
    if (++count > MAX_TAGS || !isText(key, 128)) return false;
    if (typeof tag !== 'string' || tag.length > 256) return false;
  }
  return true;
}

function isLabels(value: unknown): boolean {
  if (!Array.isArray(value) || value.length > MAX_LABELS) return false;
  for (let i = 0; i < value.length; i++) if (!isText(value[i], L.label)) return false;
  return true;
}

/**
 * True only if `auditEventInputSchema` accepts `value` and would return an equal copy of it (the schema has
 * no transforms or defaults), given that `value` is also safe JSON. Run after `guardEvent`, which proves
 * that, or before a walk that proves it (ingest's `canonicalizeCheckedAppEvent` holds the canonical writer
 * to the guard's bounds). It is safe on any value: it looks into no member it does not bound (`details` is
 * not looked into, `tags` and `labels` only up to their counts).
 */
export function isPlainAppEventInput(value: unknown): value is AuditEventInput {
  // JSON.parse's objects only: anything else is the schema's to judge.
  if (!isJsonObject(value) || !hasOnly(value, EVENT_MEMBERS)) return false;
  const id = value['id'];
  const eventTime = value['eventTime'];
  const sourceIp = value['sourceIp'];
  return (
    isText(id, MAX_EVENT_ID_LENGTH) &&
    EVENT_ID_PATTERN.test(id as string) &&
    typeof eventTime === 'string' &&
    isRfc3339(eventTime) &&
    isActor(value['actor']) &&
    isText(value['action'], L.action) &&
    (!Object.hasOwn(value, 'resource') || isResource(value['resource'])) &&
    isOutcome(value['outcome']) &&
    (sourceIp === undefined ||
      (typeof sourceIp === 'string' &&
        sourceIp.length <= MAX_HOSTNAME_LENGTH &&
        isSourceAddress(sourceIp))) &&
    isOptionalText(value, 'userAgent', L.userAgent) &&
    isOptionalText(value, 'requestId', L.requestId) &&
    isOptionalText(value, 'endpoint', L.endpoint) &&
    (!Object.hasOwn(value, 'tags') || isTags(value['tags'])) &&
    (!Object.hasOwn(value, 'labels') || isLabels(value['labels']))
    // `details`: any JSON value; guardEvent has checked it, and hasOnly that it is not undefined.
  );
}

/** Validates a producer's event: `guardEvent`, then the schema. Throws `EventValidationError`. */
export function parseAuditEventInput(value: unknown): AuditEventInput {
  guardEvent(value);
  if (isPlainAppEventInput(value)) return value;
  return parseWith(auditEventInputSchema, value);
}

/** Validates a stored event, for example one read back from the ledger. Throws `EventValidationError`. */
export function parseAuditEvent(value: unknown): AuditEvent {
  guardEvent(value);
  const event = parseWith(auditEventSchema, value);
  if ((event.channel === 'profile') !== (event.profileVersion !== undefined)) {
    throw new EventValidationError(
      'SCHEMA_VIOLATION',
      '$.profileVersion',
      event.channel === 'profile'
        ? 'events of channel "profile" must carry a profileVersion'
        : 'only events of channel "profile" may carry a profileVersion',
    );
  }
  return event;
}

/** The members that hold a source's record as its own JSON text (docs/EVENTS.md §5, docs/DETECTIONS.md §7). */
const VERBATIM_TEXT_MEMBERS = ['cloudtrail', 'kubernetes'] as const;

/**
 * The hostile-input guard of an event: `assertSafeJson` on every member, except a string `cloudtrail` or
 * `kubernetes`, which is the text of a CloudTrail record or a Kubernetes audit Event and is checked as one
 * (`parseRecordText`): its numbers, member names and strings are the source's, kept as text, so the
 * app-event rules do not apply to them.
 */
function guardEvent(value: unknown): void {
  if (!isPlainObject(value)) {
    assertSafeJson(value);
    return;
  }
  const texts = VERBATIM_TEXT_MEMBERS.filter((m) => Object.hasOwn(value, m) && typeof value[m] === 'string');
  if (texts.length === 0) {
    assertSafeJson(value);
    return;
  }
  const rest = Object.fromEntries(Object.entries(value).filter(([k]) => !(texts as string[]).includes(k)));
  assertSafeJson(rest);
  for (const m of texts) parseRecordText(value[m] as string, `$.${m}`);
}

function parseWith<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    throw new EventValidationError(
      'SCHEMA_VIOLATION',
      formatJsonPath([...issue.path, issue.keys[0]!]),
      'unknown field',
    );
  }
  throw new EventValidationError('SCHEMA_VIOLATION', formatJsonPath(issue.path), issue.message);
}

/**
 * The audit event: what a producer sends (`AuditEventInput`) and what the ledger stores (`AuditEvent`).
 * Field-by-field rules and their reasons are in docs/EVENTS.md. Every object is strict: unknown members
 * are rejected, so a stored event never carries data that its schema version does not describe.
 */
import { z } from 'zod';
import { EventValidationError } from './errors.ts';
import type { JsonObject, JsonValue } from './json-guard.ts';
import { assertSafeJson, isPlainObject } from './json-guard.ts';
import { formatJsonPath } from './json-path.ts';
import { isCanonicalTimestamp, isRfc3339 } from './rfc3339.ts';
import { isSourceAddress, MAX_HOSTNAME_LENGTH } from './source-address.ts';

export { normalizeTimestamp } from './rfc3339.ts';

/**
 * Event ids: the producer's idempotency key. CloudTrail events use `ct:<eventID>`, Kubernetes audit events
 * `k8s:<auditID>`, detection alerts `det:…` (each prefix is reserved to its channel).
 */
export const EVENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@/+=-]*$/;
export const MAX_EVENT_ID_LENGTH = 128;
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
export const EVENT_CHANNELS = ['api', 'cloudtrail', 'import', 'kubernetes', 'detection'] as const;
export const MAX_TAGS = 50;
export const MAX_LABELS = 50;
/** Version of the stored event format, the `v` member. */
export const EVENT_FORMAT_VERSION = 1;

/** A string of `min..max` UTF-16 code units. Optional strings, when present, are never empty. */
const text = (max: number, min = 1) => z.string().min(min).max(max);

const actorSchema = z.strictObject({
  id: text(512),
  type: z.enum(ACTOR_TYPES),
  authMethod: text(64).optional(),
  mfa: z.boolean().optional(),
  sessionId: text(512).optional(),
  accountId: text(64).optional(),
});

const resourceSchema = z.strictObject({
  id: text(2048),
  type: text(256),
  name: text(1024).optional(),
});

const outcomeSchema = z.strictObject({
  result: z.enum(OUTCOME_RESULTS),
  errorCode: text(256).optional(),
  errorMessage: text(4096).optional(),
});

// `details`, `cloudtrail` and `kubernetes` are free-form. `parseAuditEvent*` runs `assertSafeJson` first, which proves
// they are bounded JSON, so the schema only checks their outer shape instead of walking them again.
const jsonValue = z.custom<JsonValue>((value) => value !== undefined, 'must be a JSON value');
const jsonObject = z.custom<JsonObject>((value) => isPlainObject(value), 'must be a JSON object');

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
  action: text(256),
  resource: resourceSchema.optional(),
  outcome: outcomeSchema,
  sourceIp: z
    .string()
    .max(MAX_HOSTNAME_LENGTH)
    .refine(isSourceAddress, 'must be an IPv4 or IPv6 literal or a DNS host name')
    .optional(),
  userAgent: text(1024).optional(),
  requestId: text(256).optional(),
  endpoint: text(1024).optional(),
  tags: z
    .record(text(128), z.string().max(256))
    .refine((tags) => Object.keys(tags).length <= MAX_TAGS, `must have at most ${MAX_TAGS} entries`)
    .optional(),
  labels: z.array(text(128)).max(MAX_LABELS).optional(),
  details: jsonValue.optional(),
  cloudtrail: jsonObject.optional(),
  /** The verbatim Kubernetes audit Event (`shared/events/kubernetes.ts`). */
  kubernetes: jsonObject.optional(),
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

/** Validates a producer's event: `assertSafeJson`, then the schema. Throws `EventValidationError`. */
export function parseAuditEventInput(value: unknown): AuditEventInput {
  assertSafeJson(value);
  return parseWith(auditEventInputSchema, value);
}

/** Validates a stored event, for example one read back from the ledger. Throws `EventValidationError`. */
export function parseAuditEvent(value: unknown): AuditEvent {
  assertSafeJson(value);
  return parseWith(auditEventSchema, value);
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

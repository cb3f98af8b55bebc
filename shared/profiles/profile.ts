/**
 * A resource profile: what one resource was at one time (G8). `parseProfile` is the only way in: it
 * runs the JSON guard, the strict schema and the size bound, normalizes `lastModified`, and returns a
 * deep-frozen copy whose canonical text is known. Field rules: docs/PROFILES.md ("The profile").
 *
 * Optional members mean "not known": `tags: {}` says the resource has no tags, while no `tags` says the
 * source did not tell. Diffs compare only what both versions know.
 */

import { z } from 'zod';
import { canonicalString } from '../canonical/jcs.ts';
import { EventValidationError } from '../events/errors.ts';
import { EVENT_ID_PATTERN, MAX_EVENT_ID_LENGTH } from '../events/event-id.ts';
import { assertSafeJson, isPlainObject, type JsonObject, type JsonValue } from '../events/json-guard.ts';
import { formatJsonPath } from '../events/json-path.ts';
import { isRfc3339, normalizeTimestamp } from '../events/rfc3339.ts';
import { sha256Hex } from '../platform/crypto.ts';
import { type ProfileValidationCode, ProfileValidationError } from './errors.ts';
import {
  MAX_LABEL_LENGTH,
  MAX_POLICIES,
  MAX_POLICY_NAME_LENGTH,
  MAX_PROFILE_BYTES,
  MAX_PROFILE_LABELS,
  MAX_PROFILE_TAGS,
  MAX_RELATED_EVENT_IDS,
  MAX_RESOURCE_ID_LENGTH,
  MAX_RESOURCE_TYPE_LENGTH,
  MAX_TAG_KEY_LENGTH,
  MAX_TAG_VALUE_LENGTH,
  PROFILE_JSON_LIMITS,
} from './limits.ts';

/** Where a profile came from. */
export const PROFILE_SOURCES = ['api', 'aws-config', 'cloudtrail'] as const;
export type ProfileSource = (typeof PROFILE_SOURCES)[number];

/** Why a version holds no configuration although the resource has one. */
export const NOT_DELIVERED_REASONS = [
  /** AWS Config sent an oversized-item notification: the item is in S3 at `location`. */
  'SOURCE_OVERSIZED',
  /** AWS Config could not deliver an oversized item to S3 either (`detail` has its error code). */
  'SOURCE_DELIVERY_FAILED',
  /** AWS Config does not record this resource's configuration (`ResourceNotRecorded`). */
  'NOT_RECORDED_BY_SOURCE',
  /** The source record does not carry a configuration (a CloudTrail-derived version). */
  'NOT_IN_SOURCE',
  /** The configuration arrived but breaks the profile bounds (`detail` names the check, `sha256` its JCS). */
  'PROFILE_LIMIT',
] as const;
export type NotDeliveredReason = (typeof NOT_DELIVERED_REASONS)[number];

/** Resource types: CloudFormation style (`AWS::S3::Bucket`) or an app's own (`acme:db/cluster`). */
export const RESOURCE_TYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$/;
/** C0 and C1 controls and DEL: never part of a resource id, and dangerous in logs and terminals. */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}
const HEX_SHA256 = /^[0-9a-f]{64}$/;

const text = (max: number, min = 1) => z.string().min(min).max(max);
// The guard has already proven these members to be bounded JSON; the schema only checks their shape.
const jsonValue = z.custom<JsonValue>((value) => value !== undefined, 'must be a JSON value');
const jsonObject = z.custom<JsonObject>((value) => isPlainObject(value), 'must be a JSON object');

const resourceIdSchema = text(MAX_RESOURCE_ID_LENGTH)
  .refine((id) => !hasControlCharacter(id), 'must not contain control characters')
  .refine((id) => id.trim() === id, 'must not start or end with white space');

const notDeliveredSchema = z.strictObject({
  reason: z.enum(NOT_DELIVERED_REASONS),
  /** Where the source put the configuration instead (an S3 location). */
  location: text(2048).optional(),
  /** Hex SHA-256 of the JCS of the configuration that was not kept, when it could be computed. */
  sha256: z.string().regex(HEX_SHA256, 'must be 64 lowercase hex digits').optional(),
  /** A short machine-readable detail: an error code from the source, or the check that failed. */
  detail: text(256).optional(),
});

/** Schema of a profile as written (`PUT /v1/resources/{id}/profile`) or mapped from a source. */
export const profileSchema = z
  .strictObject({
    resourceId: resourceIdSchema,
    resourceType: text(MAX_RESOURCE_TYPE_LENGTH).regex(
      RESOURCE_TYPE_PATTERN,
      'must start with a letter or digit and use only A-Z a-z 0-9 . _ : / @ + -',
    ),
    /** The resource's configuration, any JSON; `null` when it has none or it was not delivered. */
    configuration: jsonValue,
    configurationNotDelivered: notDeliveredSchema.optional(),
    supplementaryConfiguration: jsonObject.optional(),
    relationships: z.array(jsonValue).optional(),
    tags: z
      .record(text(MAX_TAG_KEY_LENGTH), z.string().max(MAX_TAG_VALUE_LENGTH))
      .refine(
        (tags) => Object.keys(tags).length <= MAX_PROFILE_TAGS,
        `must have at most ${MAX_PROFILE_TAGS} entries`,
      )
      .optional(),
    labels: z.array(text(MAX_LABEL_LENGTH)).max(MAX_PROFILE_LABELS).optional(),
    /** Policy documents by name (`bucketPolicy`, `inline:<name>`, …); kept by CloudTrail-derived versions. */
    policies: z
      .record(text(MAX_POLICY_NAME_LENGTH), jsonValue)
      .refine((p) => Object.keys(p).length <= MAX_POLICIES, `must have at most ${MAX_POLICIES} entries`)
      .optional(),
    /** When the resource was in this state; normalized to `YYYY-MM-DDTHH:MM:SS.sssZ`. */
    lastModified: z
      .string()
      .refine(isRfc3339, 'must be an RFC 3339 date-time with Z or an offset, years 1970..9999')
      .transform(normalizeTimestamp),
    source: z.enum(PROFILE_SOURCES),
    relatedEventIds: z
      .array(
        text(MAX_EVENT_ID_LENGTH).regex(
          EVENT_ID_PATTERN,
          'must be an event id (start with a letter or digit; A-Z a-z 0-9 . _ : @ / + = -)',
        ),
      )
      .max(MAX_RELATED_EVENT_IDS)
      .refine((ids) => new Set(ids).size === ids.length, 'must not repeat an id')
      .optional(),
    /** The resource no longer exists from `lastModified` on. */
    tombstone: z.boolean().optional(),
    /** Source-specific members kept as they came (for AWS Config, the item's metadata). */
    origin: jsonObject.optional(),
  })
  .superRefine((profile, ctx) => {
    if (profile.configurationNotDelivered !== undefined && profile.configuration !== null) {
      ctx.addIssue({
        code: 'custom',
        path: ['configuration'],
        message: 'must be null when configurationNotDelivered is present',
      });
    }
  });

/** A validated profile. Its objects are frozen. */
export type Profile = z.output<typeof profileSchema>;

/** A validated profile with its canonical text (RFC 8785) and that text's SHA-256. */
export interface ParsedProfile {
  readonly profile: Profile;
  /** JCS of the profile. */
  readonly canonical: string;
  /** Hex SHA-256 of `canonical`: equal for two profiles exactly when they are the same JSON. */
  readonly contentHash: string;
}

/**
 * Validates a profile: JSON guard (depth, sizes, `__proto__`/`constructor`/`prototype` names, unsafe
 * integers), the strict schema, then the canonical size bound. Throws `ProfileValidationError`.
 * Example: `parseProfile(JSON.parse(body)).profile.lastModified` → `'2026-11-22T21:00:00.000Z'`.
 */
export function parseProfile(value: unknown): ParsedProfile {
  try {
    assertSafeJson(value, PROFILE_JSON_LIMITS);
  } catch (error) {
    if (!(error instanceof EventValidationError)) throw error;
    throw new ProfileValidationError(
      error.code as ProfileValidationCode,
      error.path,
      stripPath(error.message),
      { cause: error },
    );
  }
  const result = profileSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') {
      throw new ProfileValidationError(
        'SCHEMA_VIOLATION',
        formatJsonPath([...issue.path, issue.keys[0]!]),
        'unknown field',
      );
    }
    throw new ProfileValidationError('SCHEMA_VIOLATION', formatJsonPath(issue.path), issue.message);
  }
  return fromValidProfile(result.data);
}

/** Canonical text, hash and a frozen deep copy of a profile the schema accepted. */
function fromValidProfile(profile: Profile): ParsedProfile {
  const canonical = canonicalString(profile);
  const size = Buffer.byteLength(canonical, 'utf8');
  if (size > MAX_PROFILE_BYTES) {
    throw new ProfileValidationError('TOO_LARGE', '$', `canonical size exceeds ${MAX_PROFILE_BYTES} bytes`);
  }
  // A copy through the canonical text: nothing the caller still holds can change the stored profile.
  const copy = deepFreeze(JSON.parse(canonical) as Profile);
  return { profile: copy, canonical, contentHash: sha256Hex(canonical) };
}

/** Hex SHA-256 of the JCS of a JSON value. */
export function jcsSha256(value: unknown): string {
  return sha256Hex(canonicalString(value));
}

/** Freezes a JSON value and everything in it; returns it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** The guard's messages end in ` at <path>`; the path is carried separately here. */
function stripPath(message: string): string {
  const at = message.lastIndexOf(' at $');
  return at === -1 ? message : message.slice(0, at);
}

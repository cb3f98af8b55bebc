/**
 * Bounds of a resource profile and of its versions. They keep one hostile write cheap, and they are
 * chosen so that a version document still satisfies the audit event limits (`events/limits.ts`) when
 * it is carried one level deep inside a ledger event (docs/PROFILES.md, "Versions in the ledger").
 */
import { DEFAULT_JSON_LIMITS, type JsonLimits, MAX_EVENT_BYTES } from '../events/limits.ts';

/**
 * Largest canonical size of one version document. The rest of `MAX_EVENT_BYTES` (16 KiB) is left for
 * the event members around it (id, actor, resource, times), which are far smaller.
 */
export const MAX_PROFILE_VERSION_BYTES = MAX_EVENT_BYTES - 16_384;

/** Largest canonical size of a profile: the version document adds at most 512 bytes around it. */
export const MAX_PROFILE_BYTES = MAX_PROFILE_VERSION_BYTES - 512;

/**
 * JSON bounds of a profile. The profile sits at depth 3 of an event (event → version → profile), so
 * 30 levels here keep every container within the event guard's 32.
 */
export const PROFILE_JSON_LIMITS: JsonLimits = Object.freeze({
  ...DEFAULT_JSON_LIMITS,
  maxDepth: 30,
  maxTotalBytes: MAX_PROFILE_BYTES,
});

export const MAX_RESOURCE_ID_LENGTH = 2048;
export const MAX_RESOURCE_TYPE_LENGTH = 256;
/** AWS allows 50 user tags per resource, plus the `aws:` tags it adds itself. */
export const MAX_PROFILE_TAGS = 128;
/** 128 Unicode characters (AWS's limit) can take 256 UTF-16 code units. */
export const MAX_TAG_KEY_LENGTH = 256;
/** 256 Unicode characters (AWS's limit) can take 512 UTF-16 code units. */
export const MAX_TAG_VALUE_LENGTH = 512;
export const MAX_PROFILE_LABELS = 50;
export const MAX_LABEL_LENGTH = 128;
export const MAX_RELATED_EVENT_IDS = 100;
export const MAX_POLICIES = 64;
export const MAX_POLICY_NAME_LENGTH = 256;
/** Largest chain position; keeps `n` a safe integer with room to spare. */
export const MAX_VERSION_NUMBER = 2 ** 48;

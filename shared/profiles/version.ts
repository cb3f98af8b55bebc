/**
 * Profile versions and their hash chain (G8). A version is the JCS of a small document:
 *
 *   { "type": "auditseal.profile-version.v1", "n": 1, "recordedAt": "<ms time>",
 *     "previousHash": "<hex>" | null, "profile": { … } }
 *
 * and its hash is the RFC 6962 leaf hash of those bytes, `SHA-256(0x00 ‖ bytes)`, in hex
 * (https://www.rfc-editor.org/rfc/rfc9162#section-2.1.1). `previousHash` is the hash of version n−1,
 * so each version commits to the whole chain before it. Chain order is arrival order: `n` and
 * `recordedAt` both increase along the chain, while `profile.lastModified` (the effective time) may go
 * back when a late item arrives. Byte-level spec and reasons: docs/PROFILES.md.
 */

import { z } from 'zod';
import { canonicalBytes, canonicalString } from '../canonical/jcs.ts';
import { isCanonicalTimestamp } from '../events/rfc3339.ts';
import { hashLeaf } from '../merkle/rfc6962.ts';
import { sha256Hex } from '../platform/crypto.ts';
import { ProfileValidationError, VersionDocumentError } from './errors.ts';
import { MAX_PROFILE_VERSION_BYTES, MAX_VERSION_NUMBER } from './limits.ts';
import { deepFreeze, type ParsedProfile, type Profile, parseProfile } from './profile.ts';

/** The `type` of a version document. */
export const PROFILE_VERSION_TYPE = 'auditseal.profile-version.v1';

/** The hashed document of one version. */
export interface ProfileVersionDocument {
  readonly type: typeof PROFILE_VERSION_TYPE;
  /** Chain position, from 1. */
  readonly n: number;
  /** Server time the version was written; strictly increasing along a resource's chain. */
  readonly recordedAt: string;
  /** Hash of version n−1; null for n = 1. */
  readonly previousHash: string | null;
  readonly profile: Profile;
}

/** One immutable version of a resource's profile. */
export interface ProfileVersion {
  readonly resourceId: string;
  readonly n: number;
  readonly recordedAt: string;
  /** When the resource was in this state: `profile.lastModified`. */
  readonly effectiveAt: string;
  readonly previousHash: string | null;
  /** Hex `SHA-256(0x00 ‖ bytes)`. */
  readonly hash: string;
  /** Hex SHA-256 of the profile's JCS: the idempotency key of a write. */
  readonly contentHash: string;
  readonly tombstone: boolean;
  /** False when the source did not deliver the configuration (`profile.configurationNotDelivered`). */
  readonly configurationDelivered: boolean;
  readonly profile: Profile;
  /** JCS of the version document: what is hashed, stored and sealed. */
  readonly bytes: Uint8Array;
}

const HEX_HASH = /^[0-9a-f]{64}$/;

/** Hex chain hash of a version document's canonical bytes: `SHA-256(0x00 ‖ bytes)`. */
export function hashVersionBytes(bytes: Uint8Array): string {
  return hashLeaf(bytes).toString('hex');
}

/** Position of a version in time order: effective time, then chain position. */
export interface VersionTimeKey {
  readonly effectiveAt: string;
  readonly n: number;
}

/** Orders versions by (effectiveAt, n). Canonical millisecond times sort as strings. */
export function compareTimeKeys(a: VersionTimeKey, b: VersionTimeKey): number {
  if (a.effectiveAt !== b.effectiveAt) return a.effectiveAt < b.effectiveAt ? -1 : 1;
  return a.n - b.n;
}

/**
 * Builds version `n` of `parsed.profile`. Throws `ProfileValidationError('TOO_LARGE')` when the
 * document exceeds `MAX_PROFILE_VERSION_BYTES`.
 */
export function createVersion(
  parsed: ParsedProfile,
  position: { readonly n: number; readonly previousHash: string | null; readonly recordedAt: string },
): ProfileVersion {
  const { n, previousHash, recordedAt } = position;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_VERSION_NUMBER)
    throw new RangeError(`invalid version number ${n}`);
  if ((n === 1) !== (previousHash === null)) throw new RangeError('only version 1 has no previous hash');
  if (previousHash !== null && !HEX_HASH.test(previousHash))
    throw new RangeError('previousHash must be hex SHA-256');
  if (!isCanonicalTimestamp(recordedAt))
    throw new RangeError('recordedAt must be a canonical millisecond time');
  const document: ProfileVersionDocument = {
    type: PROFILE_VERSION_TYPE,
    n,
    recordedAt,
    previousHash,
    profile: parsed.profile,
  };
  const bytes = canonicalBytes(document);
  if (bytes.length > MAX_PROFILE_VERSION_BYTES) {
    throw new ProfileValidationError(
      'TOO_LARGE',
      '$',
      `version document exceeds ${MAX_PROFILE_VERSION_BYTES} bytes`,
    );
  }
  return versionOf(document, bytes, parsed.contentHash);
}

function versionOf(document: ProfileVersionDocument, bytes: Uint8Array, contentHash: string): ProfileVersion {
  const { profile } = document;
  return Object.freeze({
    resourceId: profile.resourceId,
    n: document.n,
    recordedAt: document.recordedAt,
    effectiveAt: profile.lastModified,
    previousHash: document.previousHash,
    hash: hashVersionBytes(bytes),
    contentHash,
    tombstone: profile.tombstone === true,
    configurationDelivered: profile.configurationNotDelivered === undefined,
    profile,
    bytes,
  });
}

/** What a write should do: store a new version, or nothing because the content is already there. */
export type NextVersion =
  | { readonly status: 'new'; readonly version: ProfileVersion }
  | { readonly status: 'unchanged'; readonly version: ProfileVersion };

/** What `buildNextVersion` needs to know about the stored chain. */
export interface ChainContext {
  /** The latest version in chain order (highest n), or undefined for a new resource. */
  readonly head: ProfileVersion | undefined;
  /** A stored version whose `contentHash` equals the new profile's, if any. */
  readonly sameContent: ProfileVersion | undefined;
  /** The version in force at the new profile's `lastModified` (see `at-time.ts`), if any. */
  readonly inForce: ProfileVersion | undefined;
}

/**
 * Version n+1 from the chain head and a new profile, or the existing version when nothing changed:
 * - a version with the very same content exists (a duplicate delivery, even of an old item) → it;
 * - the version in force at the profile's time has the same state (all but `lastModified`) → it;
 * - otherwise a new version chained to the head. Its `recordedAt` is `now`, moved to 1 ms after the
 *   head's when the clock is not ahead of it, so `recordedAt` strictly increases along the chain.
 * A profile older than the head gets the next position too (chain order is arrival order); its
 * effective time puts it in its place in time (docs/PROFILES.md, "Late items").
 */
export function buildNextVersion(parsed: ParsedProfile, chain: ChainContext, now: Date): NextVersion {
  const { profile } = parsed;
  for (const known of [chain.head, chain.sameContent, chain.inForce]) {
    if (known !== undefined && known.resourceId !== profile.resourceId) {
      throw new RangeError('chain context belongs to another resource');
    }
  }
  if (chain.sameContent !== undefined) {
    if (chain.sameContent.contentHash !== parsed.contentHash)
      throw new RangeError('sameContent has other content');
    return { status: 'unchanged', version: chain.sameContent };
  }
  if (chain.inForce !== undefined) {
    if (chain.inForce.effectiveAt > profile.lastModified)
      throw new RangeError('inForce starts after the profile');
    if (stateHash(chain.inForce.profile) === stateHash(profile))
      return { status: 'unchanged', version: chain.inForce };
  }
  const head = chain.head;
  const clock = now.getTime();
  if (!Number.isFinite(clock)) throw new RangeError('clock returned an invalid time');
  const afterHead = head === undefined ? clock : Math.max(clock, Date.parse(head.recordedAt) + 1);
  const version = createVersion(parsed, {
    n: head === undefined ? 1 : head.n + 1,
    previousHash: head === undefined ? null : head.hash,
    recordedAt: new Date(afterHead).toISOString(),
  });
  return { status: 'new', version };
}

/** Hex SHA-256 of a profile's JCS without `lastModified`: equal when two profiles say the same. */
export function stateHash(profile: Profile): string {
  const { lastModified: _ignored, ...state } = profile;
  return sha256Hex(canonicalString(state));
}

const versionDocumentSchema = z.strictObject({
  type: z.literal(PROFILE_VERSION_TYPE),
  n: z.number().int().min(1).max(MAX_VERSION_NUMBER),
  recordedAt: z.string().refine(isCanonicalTimestamp, 'must be a canonical millisecond time'),
  previousHash: z.string().regex(HEX_HASH).nullable(),
  profile: z.unknown(),
});

/**
 * Reads a stored version document back, as a verifier does: the bytes must be at most
 * `MAX_PROFILE_VERSION_BYTES`, parse as JSON, be their own JCS, and hold a valid document and profile.
 * The hash is computed from the bytes as given. Throws `VersionDocumentError`.
 */
export function parseVersionBytes(bytes: Uint8Array): ProfileVersion {
  if (bytes.length > MAX_PROFILE_VERSION_BYTES) {
    throw new VersionDocumentError(`document exceeds ${MAX_PROFILE_VERSION_BYTES} bytes`);
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new VersionDocumentError('document is not UTF-8 JSON', { cause });
  }
  const result = versionDocumentSchema.safeParse(value);
  if (!result.success) throw new VersionDocumentError(`document: ${result.error.issues[0]!.message}`);
  const doc = result.data;
  if ((doc.n === 1) !== (doc.previousHash === null)) {
    throw new VersionDocumentError('document: only version 1 has a null previousHash');
  }
  let parsed: ParsedProfile;
  try {
    parsed = parseProfile(doc.profile);
  } catch (cause) {
    if (!(cause instanceof ProfileValidationError)) throw cause;
    throw new VersionDocumentError(`profile: ${cause.message}`, { cause });
  }
  const document: ProfileVersionDocument = {
    type: PROFILE_VERSION_TYPE,
    n: doc.n,
    recordedAt: doc.recordedAt,
    previousHash: doc.previousHash,
    profile: parsed.profile,
  };
  const canonical = canonicalBytes(document);
  if (!Buffer.from(canonical).equals(Buffer.from(bytes))) {
    throw new VersionDocumentError('document is not in canonical (RFC 8785) form');
  }
  return versionOf(deepFreeze(document), Uint8Array.from(bytes), parsed.contentHash);
}

/**
 * Reads a version document given as a JSON value (the `profileVersion` member of a ledger event): the
 * same checks as `parseVersionBytes` on its JCS, which is exactly how the value appears, byte for byte,
 * inside the event's own JCS. Throws `VersionDocumentError`.
 */
export function parseVersionDocument(value: unknown): ProfileVersion {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new VersionDocumentError('document must be a JSON object');
  }
  let bytes: Uint8Array;
  try {
    bytes = canonicalBytes(value);
  } catch (cause) {
    throw new VersionDocumentError('document is not JSON', { cause });
  }
  return parseVersionBytes(bytes);
}

/** Why `value` is not a valid version document (the message of `parseVersionDocument`), or undefined. */
export function versionDocumentProblem(value: unknown): string | undefined {
  try {
    parseVersionDocument(value);
    return undefined;
  } catch (error) {
    if (error instanceof VersionDocumentError) return error.message;
    throw error;
  }
}

/**
 * Write-once storage of resource profile versions (G1, G8). Layout and rules: docs/PROFILES.md
 * ("Storage"). Every write is put-only and conditional: version n+1 is stored only if no version n+1
 * exists, version n is the head with the hash the new version names, and no version has the same
 * content. Of two writers racing for n+1 exactly one wins; the other gets `ProfileVersionConflictError`
 * carrying the head as it now is.
 *
 * An in-memory fake (`shared/storage/in-memory-profile-store.ts`) implements it with the same
 * semantics; the shared contract test is `test/unit/profiles/profile-store-contract.ts`.
 */
import type { ProfileVersion, VersionTimeKey } from '../profiles/version.ts';

export interface ProfileStore {
  /** The latest version in chain order (highest n), or undefined when the resource has none. */
  head(resourceId: string): Promise<ProfileVersion | undefined>;
  /** Version `n`, or undefined. */
  getVersion(resourceId: string, n: number): Promise<ProfileVersion | undefined>;
  /** The version whose `contentHash` is `contentHash`, or undefined (the idempotency lookup). */
  findByContent(resourceId: string, contentHash: string): Promise<ProfileVersion | undefined>;
  /** The version in force at `at` (canonical millisecond time): the last in time order with effectiveAt ≤ at. */
  versionAt(resourceId: string, at: string): Promise<ProfileVersion | undefined>;
  /** The last version in time order whose key is strictly before `key`, or undefined. */
  versionBefore(resourceId: string, key: VersionTimeKey): Promise<ProfileVersion | undefined>;
  /** Up to `limit` versions in time order (effectiveAt, n), starting after `after` (or at the first). */
  listByTime(
    resourceId: string,
    page: { readonly after?: VersionTimeKey; readonly limit: number },
  ): Promise<ProfileVersion[]>;
  /** Up to `limit` versions in chain order, with n > `afterN` (default 0). */
  listByChain(
    resourceId: string,
    page: { readonly afterN?: number; readonly limit: number },
  ): Promise<ProfileVersion[]>;
  /**
   * Stores `version` if, and only if, it is the next one: no version `n` exists, version n−1 is the head
   * and has hash `previousHash` (n = 1: the resource has no version), and no version has the same
   * `contentHash`. Never overwrites. Throws `ProfileVersionConflictError` otherwise,
   * `ProfileStoreUnavailableError` when the backend stays unavailable.
   */
  putVersion(version: ProfileVersion): Promise<void>;
}

/** Most versions one list call returns. */
export const MAX_PROFILE_PAGE = 1000;

export type ProfileStoreErrorCode = 'VERSION_CONFLICT' | 'UNAVAILABLE' | 'CORRUPT_ITEM';

/** Base class of profile storage errors. */
export class ProfileStoreError extends Error {
  override readonly name: string = 'ProfileStoreError';
  constructor(
    readonly code: ProfileStoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Why a put lost: position n is taken (a concurrent writer won it), the version does not follow the
 * head (a stale or skipped head), or a version with the same content exists.
 */
export type ProfileConflictReason = 'VERSION_TAKEN' | 'PREVIOUS_MISMATCH' | 'CONTENT_EXISTS';

/** A conditional put failed; `current` is the head as the store now has it (409 with the current version). */
export class ProfileVersionConflictError extends ProfileStoreError {
  override readonly name = 'ProfileVersionConflictError';
  constructor(
    readonly reason: ProfileConflictReason,
    readonly resourceId: string,
    /** The position the failed put tried to take. */
    readonly attempted: number,
    readonly current: ProfileVersion | undefined,
    /** For `CONTENT_EXISTS`: the version that already holds this content. */
    readonly existing?: ProfileVersion,
  ) {
    super('VERSION_CONFLICT', `version ${attempted} was not stored: ${reason}`);
  }
}

/** The backend stayed throttled or unavailable; the same write can be retried. */
export class ProfileStoreUnavailableError extends ProfileStoreError {
  override readonly name = 'ProfileStoreUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('UNAVAILABLE', message, options);
  }
}

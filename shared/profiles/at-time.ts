/**
 * Versions in time order, and the version in force at a time (G8). Time order is (effectiveAt, n):
 * the effective time first, then the chain position, so that of two versions with the same effective
 * time the one that arrived later wins. A version is in force from its effective time (inclusive) until
 * the next version's. A late item, older than the head, is simply inserted at its place in this order;
 * the chain (arrival order) is untouched. Every lookup is a binary search: O(log n).
 */
import { compareTimeKeys, type ProfileVersion, type VersionTimeKey } from './version.ts';

/** The answer to "what was this resource at time T?". */
export type ProfileAt =
  | { readonly status: 'found'; readonly version: ProfileVersion }
  /** The version in force is a tombstone: the resource did not exist at T. */
  | { readonly status: 'deleted'; readonly version: ProfileVersion }
  /** No version is in force: the resource has no versions, or T is before the first one. */
  | {
      readonly status: 'none';
      readonly reason: 'NO_VERSIONS' | 'BEFORE_FIRST_VERSION';
      /** The earliest version in time, when there is one. */
      readonly first?: ProfileVersion;
    };

/** Index of the first element of `sorted` whose key is greater than `key` (`sorted.length` if none). */
export function upperBound(sorted: readonly VersionTimeKey[], key: VersionTimeKey): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (compareTimeKeys(sorted[mid]!, key) <= 0) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** A key after every version with effective time `at` (chain positions are at most 2^48). */
export function endOfInstant(at: string): VersionTimeKey {
  return { effectiveAt: at, n: Number.MAX_SAFE_INTEGER };
}

/**
 * The version in force at `at` (a canonical millisecond time) among versions sorted by time key:
 * the last one whose effective time is at or before `at`.
 */
export function versionInForce<V extends ProfileVersion>(byTime: readonly V[], at: string): V | undefined {
  const index = upperBound(byTime, endOfInstant(at));
  return index === 0 ? undefined : byTime[index - 1];
}

/** `versionInForce` as a typed answer: found, deleted (a tombstone is in force) or none. */
export function profileAt(byTime: readonly ProfileVersion[], at: string): ProfileAt {
  return classifyAt(versionInForce(byTime, at), byTime[0]);
}

/** Turns "the version in force" and "the earliest version" into a `ProfileAt`. */
export function classifyAt(
  inForce: ProfileVersion | undefined,
  first: ProfileVersion | undefined,
): ProfileAt {
  if (inForce !== undefined) {
    return inForce.tombstone
      ? { status: 'deleted', version: inForce }
      : { status: 'found', version: inForce };
  }
  return first === undefined
    ? { status: 'none', reason: 'NO_VERSIONS' }
    : { status: 'none', reason: 'BEFORE_FIRST_VERSION', first };
}

/**
 * Inserts `version` into `byTime` (sorted by time key) at its place, in place, and returns its index.
 * A late (older) item lands before the versions whose effective time is later than its own.
 */
export function insertByTime<V extends VersionTimeKey>(byTime: V[], version: V): number {
  const index = upperBound(byTime, version);
  byTime.splice(index, 0, version);
  return index;
}

/**
 * `GET /v1/resources/{id}/profile?at=T` over a `ProfileStore`: the version in force at T, or without T
 * the latest in time (which is not always the chain head: a late item can be older). Two indexed
 * reads at most, whatever the number of versions.
 */
import { isCanonicalTimestamp } from '../events/rfc3339.ts';
import type { ProfileStore } from '../ports/profile-store.ts';
import { classifyAt, type ProfileAt } from './at-time.ts';

/** After every canonical time: "now and forever", for the latest version. */
const END_OF_TIME = '9999-12-31T23:59:59.999Z';

/** The profile of `resourceId` at `at` (a canonical millisecond time), or the latest without it. */
export async function readProfileAt(
  store: ProfileStore,
  resourceId: string,
  at?: string,
): Promise<ProfileAt> {
  if (at !== undefined && !isCanonicalTimestamp(at))
    throw new RangeError('at must be a canonical millisecond time');
  const inForce = await store.versionAt(resourceId, at ?? END_OF_TIME);
  if (inForce !== undefined) return classifyAt(inForce, undefined);
  const [first] = await store.listByTime(resourceId, { limit: 1 });
  return classifyAt(undefined, first);
}

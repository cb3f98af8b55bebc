/**
 * Writing a profile through a `ProfileStore` (G1, G8): validate, look up the chain, build version n+1
 * (or find that nothing changed), and put it conditionally. When another writer took n+1 first, the
 * chain is read again: if the winner stored the same content this write is a duplicate and succeeds
 * as `unchanged`; otherwise the conflict goes to the caller with the current head (409), or, with
 * `retries`, the write is rebuilt on the new head (what a forwarder of AWS Config items wants).
 */
import { type ProfileStore, ProfileVersionConflictError } from '../ports/profile-store.ts';
import { diffProfiles, type ProfileDiff } from './diff.ts';
import type { ParsedProfile } from './profile.ts';
import { buildNextVersion, type ProfileVersion } from './version.ts';

export interface WriteProfileOptions {
  readonly clock: () => Date;
  /** How many times a lost race is rebuilt on the new head before the conflict is thrown (default 0). */
  readonly retries?: number;
}

export interface WriteProfileResult {
  /** `created`: this call stored `version`; `unchanged`: the content was already there. */
  readonly status: 'created' | 'unchanged';
  readonly version: ProfileVersion;
  /** For `created`: the diff from the version before it in time. */
  readonly diff?: ProfileDiff;
}

/**
 * Stores a validated profile (from `parseProfile`) as the resource's next version, or returns the
 * version that already holds it. Throws `ProfileVersionConflictError` when the race is lost.
 * Example: `await writeProfile(store, parseProfile(body), { clock: () => new Date() })`.
 */
export async function writeProfile(
  store: ProfileStore,
  parsed: ParsedProfile,
  options: WriteProfileOptions,
): Promise<WriteProfileResult> {
  const retries = options.retries ?? 0;
  if (!Number.isSafeInteger(retries) || retries < 0)
    throw new RangeError('retries must be a non-negative integer');
  for (let attempt = 0; ; attempt++) {
    const chain = await readChainContext(store, parsed);
    const next = buildNextVersion(parsed, chain, options.clock());
    if (next.status === 'unchanged') return { status: 'unchanged', version: next.version };
    try {
      await store.putVersion(next.version);
      return { status: 'created', version: next.version, diff: diffProfiles(chain.inForce, next.version) };
    } catch (error) {
      if (!(error instanceof ProfileVersionConflictError)) throw error;
      // The winner may have stored this very content: then this write is a duplicate, not a conflict.
      const again = buildNextVersion(parsed, await readChainContext(store, parsed), options.clock());
      if (again.status === 'unchanged') return { status: 'unchanged', version: again.version };
      if (attempt >= retries) throw error;
    }
  }
}

async function readChainContext(store: ProfileStore, parsed: ParsedProfile) {
  const { resourceId, lastModified } = parsed.profile;
  const [head, sameContent, inForce] = await Promise.all([
    store.head(resourceId),
    store.findByContent(resourceId, parsed.contentHash),
    store.versionAt(resourceId, lastModified),
  ]);
  return { head, sameContent, inForce };
}

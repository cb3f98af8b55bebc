/**
 * In-memory `ProfileStore` with the conditional, put-only semantics of the port: version n+1 goes in
 * only after head n with the hash it names, never twice, never with content already stored. Lookups
 * in time order are binary searches over a per-resource array kept sorted by (effectiveAt, n), so
 * they cost O(log n) like a DynamoDB range query on a sorted key.
 *
 * `beforePut` lets tests play a concurrent writer (or a failing backend) right before the check.
 */

import { MAX_PROFILE_PAGE, type ProfileStore, ProfileVersionConflictError } from '../ports/profile-store.ts';
import { insertByTime, upperBound, versionInForce } from '../profiles/at-time.ts';
import type { ProfileVersion, VersionTimeKey } from '../profiles/version.ts';

export interface InMemoryProfileStoreOptions {
  /** Called before each put is checked; it may write into the store or throw. */
  readonly beforePut?: (version: ProfileVersion, store: InMemoryProfileStore) => void | Promise<void>;
}

interface Chain {
  /** Index n−1 holds version n. */
  readonly byN: ProfileVersion[];
  /** Sorted by (effectiveAt, n). */
  readonly byTime: ProfileVersion[];
  readonly byContent: Map<string, ProfileVersion>;
}

export class InMemoryProfileStore implements ProfileStore {
  readonly #chains = new Map<string, Chain>();
  readonly #beforePut: InMemoryProfileStoreOptions['beforePut'];
  /** Number of versions stored; tests compare it to prove "nothing written". */
  writes = 0;

  constructor(options: InMemoryProfileStoreOptions = {}) {
    this.#beforePut = options.beforePut;
  }

  async head(resourceId: string): Promise<ProfileVersion | undefined> {
    return copy(this.#chains.get(resourceId)?.byN.at(-1));
  }

  async getVersion(resourceId: string, n: number): Promise<ProfileVersion | undefined> {
    if (!Number.isSafeInteger(n) || n < 1) return undefined;
    return copy(this.#chains.get(resourceId)?.byN[n - 1]);
  }

  async findByContent(resourceId: string, contentHash: string): Promise<ProfileVersion | undefined> {
    return copy(this.#chains.get(resourceId)?.byContent.get(contentHash));
  }

  async versionAt(resourceId: string, at: string): Promise<ProfileVersion | undefined> {
    const chain = this.#chains.get(resourceId);
    return chain && copy(versionInForce(chain.byTime, at));
  }

  async versionBefore(resourceId: string, key: VersionTimeKey): Promise<ProfileVersion | undefined> {
    const chain = this.#chains.get(resourceId);
    if (chain === undefined) return undefined;
    // The first index whose key is ≥ `key`, minus one.
    const index = upperBound(chain.byTime, { effectiveAt: key.effectiveAt, n: key.n - 1 });
    return index === 0 ? undefined : copy(chain.byTime[index - 1]);
  }

  async listByTime(
    resourceId: string,
    page: { readonly after?: VersionTimeKey; readonly limit: number },
  ): Promise<ProfileVersion[]> {
    const limit = pageLimit(page.limit);
    const chain = this.#chains.get(resourceId);
    if (chain === undefined) return [];
    const start = page.after === undefined ? 0 : upperBound(chain.byTime, page.after);
    return chain.byTime.slice(start, start + limit).map((v) => copy(v)!);
  }

  async listByChain(
    resourceId: string,
    page: { readonly afterN?: number; readonly limit: number },
  ): Promise<ProfileVersion[]> {
    const limit = pageLimit(page.limit);
    const start = Math.max(0, page.afterN ?? 0);
    return (this.#chains.get(resourceId)?.byN.slice(start, start + limit) ?? []).map((v) => copy(v)!);
  }

  async putVersion(version: ProfileVersion): Promise<void> {
    await this.#beforePut?.(version, this);
    const chain: Chain = this.#chains.get(version.resourceId) ?? {
      byN: [],
      byTime: [],
      byContent: new Map(),
    };
    const head = chain.byN.at(-1);
    const conflict = (
      reason: ConstructorParameters<typeof ProfileVersionConflictError>[0],
      existing?: ProfileVersion,
    ) => new ProfileVersionConflictError(reason, version.resourceId, version.n, copy(head), copy(existing));
    if (version.n <= chain.byN.length) throw conflict('VERSION_TAKEN');
    if (version.n !== chain.byN.length + 1 || version.previousHash !== (head?.hash ?? null)) {
      throw conflict('PREVIOUS_MISMATCH');
    }
    const sameContent = chain.byContent.get(version.contentHash);
    if (sameContent !== undefined) throw conflict('CONTENT_EXISTS', sameContent);
    const stored = copy(version)!;
    chain.byN.push(stored);
    insertByTime(chain.byTime, stored);
    chain.byContent.set(stored.contentHash, stored);
    this.#chains.set(version.resourceId, chain);
    this.writes++;
  }
}

function pageLimit(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PROFILE_PAGE) {
    throw new RangeError(`limit must be an integer in 1..${MAX_PROFILE_PAGE}`);
  }
  return limit;
}

/** A version with its own copy of the bytes, so no caller can change stored bytes. */
function copy(version: ProfileVersion | undefined): ProfileVersion | undefined {
  return version && Object.freeze({ ...version, bytes: version.bytes.slice() });
}

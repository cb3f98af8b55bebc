/**
 * The profile write path of the service (G1, G8): `writeProfile` over a `ProfileStore` whose `putVersion`
 * ingests the version's ledger event (`ledger-event.ts`) through the ingest core, channel `profile`, with a
 * clock that reads the version's `recordedAt`. The ledger store writes the version's items in the same
 * transaction as the event and its id item, under the same conditions as `ProfileStore.putVersion`, so a
 * stored version is always a signed event sealed with its period, and the reverse.
 *
 * A lost race surfaces either as the id of position n already taken (`IdConflictError` from ingest: the
 * winner's event has that id) or as the chain's own conditions (`ProfileVersionConflictError` from the
 * store); both become `ProfileVersionConflictError` with the head as it now is, so `writeProfile` answers
 * a duplicate as `unchanged` and anything else as 409 with the current version.
 */

import type { AuditEventInput } from '../events/audit-event.ts';
import { IdConflictError } from '../ingest/errors.ts';
import { type IngestDeps, type IngestResult, ingestBatch } from '../ingest/ingest-batch.ts';
import { type ProfileStore, ProfileVersionConflictError } from '../ports/profile-store.ts';
import { type ProfileWriter, profileVersionEvent } from './ledger-event.ts';
import type { ParsedProfile } from './profile.ts';
import type { ProfileVersion } from './version.ts';
import { type WriteProfileResult, writeProfile } from './write-profile.ts';

export interface SealedWriteDeps {
  /** Reads the chain (the items the ledger store writes with each version's event). */
  readonly store: ProfileStore;
  /**
   * Ingests one item on channel `profile` at `receivedAt` (the ingest core with a clock that reads it).
   * Throws what `ingestBatch` throws.
   */
  readonly ingest: (item: AuditEventInput, receivedAt: string) => Promise<IngestResult>;
  /** Who writes: the caller's IAM principal, or the forwarder's identity. */
  readonly actor: ProfileWriter;
  readonly clock: () => Date;
  /** Rebuilds on the new head after a lost race this many times (a forwarder); default 0 (409). */
  readonly retries?: number;
}

/** What a sealed write answers: the `writeProfile` result and, when this call stored it, the event's receipt. */
export interface SealedWriteResult extends WriteProfileResult {
  readonly receipt?: IngestResult['receipts'][number];
}

/** Stores `parsed` as the next version of its resource, sealed in the ledger. */
export async function writeSealedProfile(
  parsed: ParsedProfile,
  deps: SealedWriteDeps,
): Promise<SealedWriteResult> {
  let receipt: SealedWriteResult['receipt'];
  const store = sealedStore(deps, (r) => {
    receipt = r;
  });
  const result = await writeProfile(store, parsed, {
    clock: deps.clock,
    ...(deps.retries === undefined ? {} : { retries: deps.retries }),
  });
  return result.status === 'created' && receipt !== undefined ? { ...result, receipt } : result;
}

/** The chain reads of `deps.store`, with `putVersion` going through the ledger. */
function sealedStore(
  deps: SealedWriteDeps,
  onReceipt: (receipt: IngestResult['receipts'][number]) => void,
): ProfileStore {
  const { store } = deps;
  return {
    head: (id) => store.head(id),
    getVersion: (id, n) => store.getVersion(id, n),
    findByContent: (id, hash) => store.findByContent(id, hash),
    versionAt: (id, at) => store.versionAt(id, at),
    versionBefore: (id, key) => store.versionBefore(id, key),
    listByTime: (id, page) => store.listByTime(id, page),
    listByChain: (id, page) => store.listByChain(id, page),
    async putVersion(version: ProfileVersion): Promise<void> {
      let result: IngestResult;
      try {
        result = await deps.ingest(profileVersionEvent(version, deps.actor), version.recordedAt);
      } catch (error) {
        if (error instanceof IdConflictError) throw await conflict(store, 'VERSION_TAKEN', version);
        if (error instanceof ProfileVersionConflictError && error.current === undefined) {
          throw await conflict(store, error.reason, version);
        }
        throw error;
      }
      onReceipt(result.receipts[0]!);
    },
  };
}

async function conflict(
  store: ProfileStore,
  reason: ProfileVersionConflictError['reason'],
  version: ProfileVersion,
): Promise<ProfileVersionConflictError> {
  const [current, existing] = await Promise.all([
    store.head(version.resourceId),
    reason === 'CONTENT_EXISTS' ? store.findByContent(version.resourceId, version.contentHash) : undefined,
  ]);
  return new ProfileVersionConflictError(reason, version.resourceId, version.n, current, existing);
}

/**
 * The `ingest` of `SealedWriteDeps` over the ingest core: one item, channel `profile`, with a clock that
 * reads `receivedAt` (the version's `recordedAt`), so the stored event's `receivedAt` is the version's time.
 */
export function ingestAtVersionTime(
  request: { readonly ledger: string; readonly principal: string; readonly requestId: string },
  deps: IngestDeps,
): SealedWriteDeps['ingest'] {
  return (item, receivedAt) =>
    ingestBatch(
      { ...request, items: [item], channel: 'profile' },
      { ...deps, clock: () => new Date(receivedAt) },
    );
}

/**
 * Profile versions sealed into a folder the way the service does it (docs/PROFILES.md, "Versions in the
 * ledger"): each version is built by the write path core (`writeProfile` over a `ProfileStore`), becomes
 * its ledger event (`profileVersionEvent`), is ingested through the real ingest core (`ingestBatch`,
 * channel `profile`, with a clock that reads the version's `recordedAt`: one signed batch per version),
 * and the periods are sealed from the table by the real sealer (`sealPeriod` over the rows and batch
 * seals read back, provenance-checked). Nothing here writes archive objects by hand.
 *
 * The profiles are real AWS Config items from `../shared/data/config/configuration-items/`: a bucket
 * (`AWS_S3_Bucket.json`), whose later versions are tag changes an app wrote and, last, its deletion; and
 * a security group (`AWS_EC2_SecurityGroup.json`) with one tag change.
 *
 * Example: `const versions = await bucketHistory(); await sealVersions(dir, signer, keys, versions)`.
 */
import { readFileSync } from 'node:fs';
import { GenesisGuard } from '../../shared/ingest/genesis-guard.ts';
import { ingestBatch } from '../../shared/ingest/ingest-batch.ts';
import type { KeyLookup } from '../../shared/ledger/batch-receipts.ts';
import { nextPeriod, type Period, periodOf } from '../../shared/ledger/period.ts';
import type { ChainHead, SealedPeriod } from '../../shared/ledger/seal-period.ts';
import type { Signer } from '../../shared/ports/signer.ts';
import { profileFromConfigNotification } from '../../shared/profiles/aws-config.ts';
import { profileVersionEvent } from '../../shared/profiles/ledger-event.ts';
import { type ParsedProfile, type Profile, parseProfile } from '../../shared/profiles/profile.ts';
import { createVersion, type ProfileVersion } from '../../shared/profiles/version.ts';
import { writeProfile } from '../../shared/profiles/write-profile.ts';
import { FolderObjectStore } from '../../shared/storage/folder-object-store.ts';
import { InMemoryLedgerStore } from '../../shared/storage/in-memory-ledger-store.ts';
import { InMemoryProfileStore } from '../../shared/storage/in-memory-profile-store.ts';
import { InMemorySealRegistry } from '../../shared/storage/in-memory-seal-registry.ts';
import { sealFromTable } from './ledger-table.ts';
import { sharedDataPath } from './shared-data.ts';

/** The ledger the profile folders use, beside the CloudTrail sample's `import` ledger. */
export const PROFILE_LEDGER = 'profiles';
export const PROFILE_SECONDS = 3600;
/** The first period of PROFILE_LEDGER: its genesis. */
export const PROFILE_GENESIS: Period = {
  startMs: Date.parse('2024-08-05T12:00:00Z'),
  seconds: PROFILE_SECONDS,
};
/** The real bucket of `AWS_S3_Bucket.json`. */
export const BUCKET = 'arn:aws:s3:::mborch-test-bucket-config-item';
/** Who writes: the profile writer's role. */
const WRITER = { id: 'arn:aws:iam::123456789012:role/auditseal-profile-writer', type: 'role' as const };

/** `HH:MM` of the genesis day as a canonical millisecond time. */
export const at = (hhmm: string, ms = 0): string =>
  new Date(Date.parse(`2024-08-05T${hhmm}:00Z`) + ms).toISOString();

function configProfile(file: string): ParsedProfile {
  const item = JSON.parse(readFileSync(sharedDataPath('config', 'configuration-items', file), 'utf8'));
  return profileFromConfigNotification({
    messageType: 'ConfigurationItemChangeNotification',
    configurationItem: item,
  }).parsed;
}

/** `base` as an app would write it later: other tags, its own time, no Config metadata. */
function appWrite(base: Profile, lastModified: string, tags: Record<string, string>): ParsedProfile {
  const { origin: _o, relatedEventIds: _r, ...rest } = base;
  return parseProfile({ ...rest, source: 'api', lastModified, tags });
}

/** The real bucket item, then three tag changes an app wrote, then the bucket's deletion (5 versions). */
export function bucketProfiles(): ParsedProfile[] {
  const created = configProfile('AWS_S3_Bucket.json');
  if (created.profile.resourceId !== BUCKET)
    throw new Error(`unexpected sample: ${created.profile.resourceId}`);
  const base = created.profile;
  const t = Date.parse(base.lastModified);
  const later = (hours: number) => new Date(t + hours * 3_600_000).toISOString();
  const { origin: _o, relatedEventIds: _r, ...rest } = base;
  return [
    created,
    appWrite(base, later(1), { ...(base.tags ?? {}), team: 'audit' }),
    appWrite(base, later(2), { ...(base.tags ?? {}), team: 'audit', env: 'prod' }),
    appWrite(base, later(3), { ...(base.tags ?? {}), team: 'security', env: 'prod' }),
    parseProfile({ ...rest, source: 'api', lastModified: later(4), configuration: null, tombstone: true }),
  ];
}

/** The real security group item, then one tag change (2 versions). */
export function securityGroupProfiles(): ParsedProfile[] {
  const created = configProfile('AWS_EC2_SecurityGroup.json');
  const t = Date.parse(created.profile.lastModified);
  return [created, appWrite(created.profile, new Date(t + 3_600_000).toISOString(), { owner: 'network' })];
}

/** Writes `profiles` in order through `writeProfile`, the i-th at `times[i]`; returns the new versions. */
export async function writeVersions(
  profiles: readonly ParsedProfile[],
  times: readonly string[],
  store = new InMemoryProfileStore(),
): Promise<ProfileVersion[]> {
  const versions: ProfileVersion[] = [];
  for (const [i, parsed] of profiles.entries()) {
    const result = await writeProfile(store, parsed, { clock: () => new Date(times[i]!) });
    if (result.status !== 'created') throw new Error(`profile ${i} did not create a version`);
    versions.push(result.version);
  }
  return versions;
}

/**
 * A version a writer built by hand, bypassing the store's checks (a buggy or malicious writer): any
 * position, link and time.
 */
export function handBuiltVersion(
  parsed: ParsedProfile,
  position: { n: number; previousHash: string | null; recordedAt: string },
): ProfileVersion {
  return createVersion(parsed, position);
}

/** The bucket's five versions and the security group's two, interleaved in time over two periods. */
export async function twoResourceHistory(): Promise<{ bucket: ProfileVersion[]; group: ProfileVersion[] }> {
  const bucket = await writeVersions(bucketProfiles(), [
    at('12:05'),
    at('12:20'),
    at('12:40'),
    at('13:10'),
    at('13:30'),
  ]);
  const group = await writeVersions(securityGroupProfiles(), [at('12:10'), at('13:20')]);
  return { bucket, group };
}

let requests = 0;

/** Ingests each version's event as one request of channel `profile`, received at its `recordedAt`. */
export async function ingestVersions(
  store: InMemoryLedgerStore,
  signer: Signer,
  versions: readonly ProfileVersion[],
  ledger = PROFILE_LEDGER,
): Promise<void> {
  const genesis = new GenesisGuard(new InMemorySealRegistry());
  for (const version of versions) {
    const n = ++requests;
    await ingestBatch(
      {
        ledger,
        items: [profileVersionEvent(version, WRITER)],
        channel: 'profile',
        principal: WRITER.id,
        requestId: `pv-${n}`,
      },
      {
        store,
        signer,
        clock: () => new Date(version.recordedAt),
        periodSeconds: PROFILE_SECONDS,
        graceSeconds: 60,
        batchIdFactory: () => `pv-batch-${String(n).padStart(6, '0')}`,
        genesis,
      },
    );
  }
}

/**
 * Seals every period of `ledger` from `first` through the one holding `lastMs`, from `store`, into `dir`,
 * chained from `previous` (null: `first` is the genesis).
 */
export async function sealTablePeriods(req: {
  readonly dir: string;
  readonly store: InMemoryLedgerStore;
  readonly signer: Signer;
  readonly keys: KeyLookup;
  readonly first: Period;
  readonly lastMs: number;
  readonly ledger?: string;
  readonly previous?: ChainHead | null;
  readonly chunkLeaves?: number;
}): Promise<SealedPeriod[]> {
  const sealed: SealedPeriod[] = [];
  let previous = req.previous ?? null;
  const last = periodOf(req.lastMs, req.first.seconds);
  for (let period = req.first; period.startMs <= last.startMs; period = nextPeriod(period)) {
    const result = await sealFromTable({
      store: req.store,
      ledger: req.ledger ?? PROFILE_LEDGER,
      period,
      keys: req.keys,
      objects: new FolderObjectStore(req.dir),
      signer: req.signer,
      previous,
      chunkLeaves: req.chunkLeaves ?? 16,
    });
    sealed.push(result);
    previous = result;
  }
  return sealed;
}

/** Ingests `versions` and seals PROFILE_LEDGER from its genesis through the last version's period. */
export async function sealVersions(
  dir: string,
  signer: Signer,
  keys: KeyLookup,
  versions: readonly ProfileVersion[],
  options: { lastMs?: number } = {},
): Promise<SealedPeriod[]> {
  const store = new InMemoryLedgerStore();
  await ingestVersions(store, signer, versions);
  const lastMs = Math.max(options.lastMs ?? 0, ...versions.map((v) => Date.parse(v.recordedAt)));
  return sealTablePeriods({ dir, store, signer, keys, first: PROFILE_GENESIS, lastMs });
}

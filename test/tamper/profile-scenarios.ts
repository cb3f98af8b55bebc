/**
 * Tamper scenarios of resource chains (G8, docs/PROFILES.md "Verifying the versions in a folder"), part
 * of SCENARIOS (scenarios.ts), so the tamper suite runs them and test/vectors publishes them.
 *
 * Each scenario adds a second ledger, `profiles`, to its copy of the pristine folder: the real bucket's
 * five versions and a security group's two (test/support/profile-ledger.ts), written by the write path
 * core, ingested as events of channel `profile` and sealed from the table by the real sealer, in two
 * hourly periods:
 *
 *   12:00  #0 bucket v1 (12:05) · #1 group v1 (12:10) · #2 bucket v2 (12:20) · #3 bucket v3 (12:40)
 *   13:00  #0 bucket v4 (13:10) · #1 group v2 (13:20) · #2 bucket v5 (13:30)
 *
 * Two kinds of defect: an archive changed after sealing (named by the event checks and, by resource and
 * position, by the chain check), and a chain the writer broke before sealing, signed and sealed as it is
 * (named only by the chain check: what signatures alone do not prove).
 */
import { expect } from 'vitest';
import { deepCheckEvent } from '../../cli/commands/verify.ts';
import { canonicalizeEvent } from '../../shared/ingest/canonical-event.ts';
import { archiveObjectKey } from '../../shared/ledger/object-keys.ts';
import { sealRange } from '../../shared/ledger/seal-range.ts';
import { profileVersionEvent, profileVersionEventId } from '../../shared/profiles/ledger-event.ts';
import type { ProfileVersion } from '../../shared/profiles/version.ts';
import { FolderObjectStore } from '../../shared/storage/folder-object-store.ts';
import {
  at,
  BUCKET,
  bucketProfiles,
  handBuiltVersion,
  PROFILE_GENESIS,
  PROFILE_LEDGER,
  PROFILE_SECONDS,
  sealVersions,
  twoResourceHistory,
} from '../support/profile-ledger.ts';
import {
  deleteEvent,
  duplicateEvent,
  insertEvent,
  modifyEvent,
  swapEvents,
} from '../support/sealed-folder.ts';
import type { CaseContext, Scenario } from './scenarios.ts';

const P12 = PROFILE_GENESIS;
const P13 = { startMs: P12.startMs + PROFILE_SECONDS * 1000, seconds: PROFILE_SECONDS };
const chunk12 = archiveObjectKey(PROFILE_LEDGER, P12, 0, 'events');
const chunk13 = archiveObjectKey(PROFILE_LEDGER, P13, 0, 'events');
const bucketId = (n: number): string => profileVersionEventId(BUCKET, n);
const WRITER = { id: 'arn:aws:iam::123456789012:role/auditseal-profile-writer', type: 'role' as const };

function byTime(versions: readonly ProfileVersion[]): ProfileVersion[] {
  return [...versions].sort((a, b) =>
    a.recordedAt < b.recordedAt ? -1 : a.recordedAt > b.recordedAt ? 1 : 0,
  );
}

/** Seals the honest history into the case folder; returns the bucket's versions. */
async function sealHonest({ dir, pristine }: CaseContext): Promise<ProfileVersion[]> {
  const { bucket, group } = await twoResourceHistory();
  await sealVersions(dir, pristine.signer, pristine.keys, byTime([...bucket, ...group]));
  return bucket;
}

/** Seals the group's history and the bucket's versions as a writer produced them, broken or not. */
async function sealWithBucket({ dir, pristine }: CaseContext, bucket: readonly ProfileVersion[]) {
  const { group } = await twoResourceHistory();
  await sealVersions(dir, pristine.signer, pristine.keys, byTime([...bucket, ...group]), {
    lastMs: Date.parse(at('13:59')),
  });
}

export const PROFILE_SCENARIOS: readonly Scenario[] = [
  {
    when: 'profile versions of two resources are sealed as ledger events (--deep)',
    codes: [],
    tamper: async (ctx) => {
      await sealHonest(ctx);
      return {
        count: 0,
        findings: [],
        options: { deepCheck: deepCheckEvent },
        assess: (report) => expect(report.profiles).toEqual({ versions: 7, resources: 2 }),
      };
    },
  },
  {
    when: "one resource's verified timeline is asked for (--resource)",
    codes: [],
    tamper: async (ctx) => {
      const bucket = await sealHonest(ctx);
      return {
        count: 0,
        findings: [],
        options: { resource: BUCKET },
        assess: (report) => {
          const resource = report.resource!;
          expect(resource).toMatchObject({ resourceId: BUCKET, versions: 5, verified: true, findings: 0 });
          expect(resource.head).toEqual({ n: 5, hash: bucket[4]!.hash });
          expect(resource.timeline.map((v) => [v.n, v.verified, v.object, v.eventIndex])).toEqual([
            [1, true, chunk12, 0],
            [2, true, chunk12, 2],
            [3, true, chunk12, 3],
            [4, true, chunk13, 0],
            [5, true, chunk13, 2],
          ]);
          expect(resource.timeline[1]!.diff).toEqual({
            from: 1,
            patch: [{ op: 'add', path: '/tags/team', value: 'audit' }],
            notCompared: [],
          });
          expect(resource.timeline[4]!.diff.patch).toContainEqual({
            op: 'replace',
            path: '/tombstone',
            value: true,
          });
          expect(report.profiles).toEqual({ versions: 5, resources: 1 });
        },
      };
    },
  },
  {
    when: "a range starts after a resource's first versions (--from): the chain starts after them",
    codes: [],
    tamper: async (ctx) => {
      await sealHonest(ctx);
      return {
        count: 0,
        findings: [],
        options: { fromMs: P13.startMs },
        assess: (report) => expect(report.profiles).toEqual({ versions: 3, resources: 2 }),
      };
    },
  },
  // Archives changed after sealing: the event checks and the chain check both name the change.
  {
    when: 'a sealed profile version is edited in its archive',
    codes: ['EVENT_MODIFIED', 'PROFILE_VERSION_MODIFIED'],
    tamper: async (ctx) => {
      const bucket = await sealHonest(ctx);
      modifyEvent(ctx.dir, chunk12, 2, (event) => {
        const document = event['profileVersion'] as { profile: { tags: Record<string, string> } };
        document.profile.tags['team'] = 'nobody';
      });
      return {
        count: 2,
        findings: [
          { code: 'EVENT_MODIFIED', object: chunk12, eventId: bucketId(2) },
          {
            code: 'PROFILE_VERSION_MODIFIED',
            object: chunk12,
            eventId: bucketId(2),
            eventIndex: 2,
            resource: { id: BUCKET, n: 2 },
            evidence: { expected: bucket[2]!.previousHash!, computed: expect.any(String) },
          },
        ],
      };
    },
  },
  {
    when: 'a sealed profile version is deleted from its archive',
    codes: ['EVENT_DELETED', 'PROFILE_VERSION_REMOVED'],
    tamper: async (ctx) => {
      await sealHonest(ctx);
      deleteEvent(ctx.dir, chunk12, 2);
      return {
        count: 2,
        findings: [
          { code: 'EVENT_DELETED', object: chunk12 },
          // Named by the id the missing version has, in the chunk of the version after the gap.
          {
            code: 'PROFILE_VERSION_REMOVED',
            object: chunk12,
            eventId: bucketId(2),
            resource: { id: BUCKET, n: 2, count: 1 },
          },
        ],
      };
    },
  },
  {
    when: 'a second version at a taken position is inserted into an archive',
    // The forged line has the id of the real version 3 (ids are pv:H(resource, n)): the event checks
    // call it a duplicate id, the chain check a second version at position 3.
    codes: ['EVENT_DUPLICATED', 'PROFILE_VERSION_INSERTED'],
    tamper: async (ctx) => {
      const bucket = await sealHonest(ctx);
      // A forged version 3 chained to the real version 2, as a canonical event line.
      const forged = handBuiltVersion(bucketProfiles()[3]!, {
        n: 3,
        previousHash: bucket[1]!.hash,
        recordedAt: at('12:41'),
      });
      const line = canonicalizeEvent(profileVersionEvent(forged, WRITER), forged.recordedAt, 'profile');
      insertEvent(ctx.dir, chunk12, 3, line.bytes);
      return {
        findings: [
          { code: 'EVENT_DUPLICATED', object: chunk12, eventId: bucketId(3) },
          {
            code: 'PROFILE_VERSION_INSERTED',
            object: chunk12,
            eventId: bucketId(3),
            eventIndex: 3,
            resource: { id: BUCKET, n: 3 },
            evidence: { computed: forged.hash },
          },
        ],
        assess: (report) => {
          const profileFindings = report.findings.filter((f) => f.code.startsWith('PROFILE_'));
          expect(profileFindings).toHaveLength(1);
        },
      };
    },
  },
  {
    when: 'two sealed profile versions are swapped in their archive',
    codes: ['EVENT_REORDERED', 'PROFILE_VERSION_REORDERED'],
    tamper: async (ctx) => {
      await sealHonest(ctx);
      swapEvents(ctx.dir, chunk12, 2, 3);
      return {
        count: 2,
        findings: [
          { code: 'EVENT_REORDERED', object: chunk12 },
          {
            code: 'PROFILE_VERSION_REORDERED',
            object: chunk12,
            eventId: bucketId(2),
            eventIndex: 3,
            resource: { id: BUCKET, n: 2 },
          },
        ],
      };
    },
  },
  {
    when: 'a sealed profile version is duplicated in its archive',
    codes: ['EVENT_DUPLICATED', 'PROFILE_VERSION_DUPLICATED'],
    tamper: async (ctx) => {
      await sealHonest(ctx);
      duplicateEvent(ctx.dir, chunk13, 0);
      return {
        count: 2,
        findings: [
          { code: 'EVENT_DUPLICATED', object: chunk13, eventId: bucketId(4) },
          {
            code: 'PROFILE_VERSION_DUPLICATED',
            object: chunk13,
            eventId: bucketId(4),
            eventIndex: 1,
            resource: { id: BUCKET, n: 4 },
          },
        ],
      };
    },
  },
  // Chains the writer broke before sealing: signed at ingest and sealed as written, so only the chain
  // check can see them.
  {
    when: 'the writer skipped a chain position (signed and sealed as written)',
    codes: ['PROFILE_VERSION_REMOVED'],
    tamper: async (ctx) => {
      const { bucket } = await twoResourceHistory();
      // Version 4 names version 3, which was never ingested.
      await sealWithBucket(ctx, [bucket[0]!, bucket[1]!, bucket[3]!, bucket[4]!]);
      return {
        count: 1,
        findings: [
          {
            code: 'PROFILE_VERSION_REMOVED',
            object: chunk13,
            eventId: bucketId(3),
            resource: { id: BUCKET, n: 3, count: 1 },
          },
        ],
      };
    },
  },
  {
    when: 'the writer chained version 3 to version 1, not version 2 (signed and sealed as written)',
    codes: ['PROFILE_VERSION_MODIFIED'],
    tamper: async (ctx) => {
      const { bucket } = await twoResourceHistory();
      const profiles = bucketProfiles();
      const v3 = handBuiltVersion(profiles[2]!, {
        n: 3,
        previousHash: bucket[0]!.hash,
        recordedAt: at('12:40'),
      });
      const v4 = handBuiltVersion(profiles[3]!, { n: 4, previousHash: v3.hash, recordedAt: at('13:10') });
      await sealWithBucket(ctx, [bucket[0]!, bucket[1]!, v3, v4]);
      return {
        count: 1,
        findings: [
          {
            code: 'PROFILE_VERSION_MODIFIED',
            object: chunk12,
            eventId: bucketId(2),
            eventIndex: 2,
            resource: { id: BUCKET, n: 2 },
            evidence: { expected: bucket[0]!.hash, computed: bucket[1]!.hash },
          },
        ],
      };
    },
  },
  {
    when: 'the writer recorded two versions at the same instant (signed and sealed as written)',
    codes: ['PROFILE_VERSION_TIME_REVERSED'],
    tamper: async (ctx) => {
      // Events of one instant are sealed in id order; take two consecutive positions whose ids sort in
      // chain order, so that only the time is wrong (not the order found).
      const k = [1, 2, 3, 4].find((i) => bucketId(i) < bucketId(i + 1))!;
      const profiles = bucketProfiles();
      const times = [at('12:05'), at('12:20'), at('12:40'), at('13:10'), at('13:30')];
      times[k] = times[k - 1]!;
      const chain: ProfileVersion[] = [];
      for (const [i, parsed] of profiles.entries()) {
        chain.push(
          handBuiltVersion(parsed, {
            n: i + 1,
            previousHash: i === 0 ? null : chain[i - 1]!.hash,
            recordedAt: times[i]!,
          }),
        );
      }
      await sealWithBucket(ctx, chain);
      return {
        count: 1,
        findings: [
          {
            code: 'PROFILE_VERSION_TIME_REVERSED',
            eventId: bucketId(k + 1),
            resource: { id: BUCKET, n: k + 1 },
          },
        ],
      };
    },
  },
  {
    when: 'an import sealed a profile version at the import time, not at its recordedAt',
    codes: ['PROFILE_VERSION_MALFORMED'],
    tamper: async ({ dir, pristine }) => {
      // The `auditseal seal` path (signImportBatches) signs and seals the events it is given, with their
      // own channel; this import gave version 3's event a receivedAt one second after its recordedAt.
      const { bucket, group } = await twoResourceHistory();
      const events = byTime([...bucket, ...group]).map((v) => {
        const receivedAt =
          v === bucket[2] ? new Date(Date.parse(v.recordedAt) + 1000).toISOString() : v.recordedAt;
        const { event, bytes } = canonicalizeEvent(profileVersionEvent(v, WRITER), receivedAt, 'profile');
        return { id: event.id, bytes, receivedAt: event.receivedAt };
      });
      await sealRange(
        { ledger: PROFILE_LEDGER, seconds: PROFILE_SECONDS, events, previous: null, chunkLeaves: 16 },
        { store: new FolderObjectStore(dir), signer: pristine.signer },
      );
      return {
        count: 1,
        findings: [
          { code: 'PROFILE_VERSION_MALFORMED', object: chunk12, eventId: bucketId(3), eventIndex: 3 },
        ],
        assess: (report) => expect(report.findings[0]!.message).toContain('$.receivedAt'),
      };
    },
  },
];

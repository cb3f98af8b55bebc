import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalString } from '../../../shared/canonical/jcs.ts';
import { canonicalizeEvent } from '../../../shared/ingest/canonical-event.ts';
import { hashLeaf } from '../../../shared/merkle/rfc6962.ts';
import { profileVersionEvent, profileVersionEventId } from '../../../shared/profiles/ledger-event.ts';
import { parseProfile } from '../../../shared/profiles/profile.ts';
import { createVersion, type ProfileVersion } from '../../../shared/profiles/version.ts';
import { type ObservedChunk, ProfileChecks } from '../../../shared/verify/verify-profiles.ts';

const WRITER = { id: 'arn:aws:iam::123456789012:role/writer', type: 'role' as const };
const T0 = Date.parse('2026-11-23T00:00:00.000Z');

/** A well-linked chain of `length` versions of `resourceId`, one minute apart. */
function chain(resourceId: string, length: number): ProfileVersion[] {
  const versions: ProfileVersion[] = [];
  for (let i = 0; i < length; i++) {
    const recordedAt = new Date(T0 + i * 60_000).toISOString();
    const parsed = parseProfile({
      resourceId,
      resourceType: 'acme:db/cluster',
      configuration: { size: i },
      lastModified: recordedAt,
      source: 'api',
    });
    versions.push(
      createVersion(parsed, { n: i + 1, previousHash: versions[i - 1]?.hash ?? null, recordedAt }),
    );
  }
  return versions;
}

/** The canonical event line of a version, as the ingest core stores it. */
function line(version: ProfileVersion): Buffer {
  return Buffer.from(
    canonicalizeEvent(profileVersionEvent(version, WRITER), version.recordedAt, 'profile').bytes,
  );
}

function chunkOf(lines: readonly Buffer[], overrides: Partial<ObservedChunk> = {}): ObservedChunk {
  return {
    ledger: 'app',
    ref: { key: 'archives/app/chunk.jsonl', firstIndex: 0 },
    archive: Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])),
    clean: true,
    committedLeaves: undefined,
    trusted: true,
    ...overrides,
  };
}

/** Splits `items` into consecutive runs at the given cut points. */
function split<T>(items: readonly T[], cuts: readonly number[]): T[][] {
  const points = [...new Set(cuts.map((c) => c % (items.length + 1)))].sort((a, b) => a - b);
  const runs: T[][] = [];
  let start = 0;
  for (const p of [...points, items.length]) {
    if (p > start) runs.push(items.slice(start, p));
    start = Math.max(start, p);
  }
  return runs;
}

describe('Class: ProfileChecks', () => {
  describe('Method: observeChunk and finish', () => {
    it('finds nothing in a well-linked chain, however it is split into chunks', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 12 }),
          fc.array(fc.nat(20), { maxLength: 4 }),
          (length, cuts) => {
            // Prepare
            const checks = new ProfileChecks();
            const lines = chain('app:db/1', length).map(line);

            // Act
            for (const run of split(lines, cuts)) checks.observeChunk(chunkOf(run));
            const result = checks.finish();

            // Assess
            expect(result.findings).toEqual([]);
            expect(result.summary).toEqual({ versions: length, resources: 1 });
          },
        ),
        { numRuns: 40 },
      );
    });

    it('reports exactly the missing position when any version but the newest is absent', () => {
      fc.assert(
        fc.property(
          fc
            .integer({ min: 2, max: 10 })
            .chain((length) => fc.tuple(fc.constant(length), fc.nat(length - 2))),
          ([length, missing]) => {
            // Prepare
            const checks = new ProfileChecks();
            const versions = chain('app:db/1', length);
            const kept = versions.filter((_, i) => i !== missing);

            // Act
            checks.observeChunk(chunkOf(kept.map(line)));
            const { findings } = checks.finish();

            // Assess
            expect(findings).toHaveLength(1);
            expect(findings[0]).toMatchObject({
              code: 'PROFILE_VERSION_REMOVED',
              eventId: profileVersionEventId('app:db/1', missing + 1),
              resource: { id: 'app:db/1', n: missing + 1, count: 1 },
            });
          },
        ),
        { numRuns: 40 },
      );
    });
  });

  describe('when --from starts the range after the first versions of a chain', () => {
    it('starts the chain after them, and reports them removed without --from', () => {
      fc.assert(
        fc.property(
          fc
            .integer({ min: 2, max: 10 })
            .chain((length) => fc.tuple(fc.constant(length), fc.integer({ min: 1, max: length - 1 }))),
          ([length, before]) => {
            // Prepare
            const lines = chain('app:db/1', length).slice(before).map(line);
            const ranged = new ProfileChecks({ fromMs: T0 + before * 60_000 });
            const whole = new ProfileChecks();

            // Act
            ranged.observeChunk(chunkOf(lines));
            whole.observeChunk(chunkOf(lines));

            // Assess
            expect(ranged.finish().findings).toEqual([]);
            expect(whole.finish().findings).toEqual([
              expect.objectContaining({
                code: 'PROFILE_VERSION_REMOVED',
                resource: { id: 'app:db/1', n: 1, count: before },
              }),
            ]);
          },
        ),
        { numRuns: 30 },
      );
    });
  });

  describe('when a resource is asked for and another resource has a broken chain', () => {
    it("reports nothing about the other, and the resource's timeline in time order", () => {
      // Prepare
      const mine = chain('app:db/1', 3);
      const other = chain('app:db/2', 3);
      const lines = [mine[0]!, other[0]!, mine[1]!, other[2]!, mine[2]!].map(line);
      const only = new ProfileChecks({ resource: 'app:db/1' });
      const all = new ProfileChecks();

      // Act
      only.observeChunk(chunkOf(lines));
      all.observeChunk(chunkOf(lines));
      const result = only.finish();

      // Assess
      expect(result.findings).toEqual([]);
      expect(result.resource).toMatchObject({ resourceId: 'app:db/1', versions: 3, verified: true });
      expect(result.resource!.timeline.map((v) => [v.n, v.eventIndex, v.diff.from])).toEqual([
        [1, 0, null],
        [2, 2, 1],
        [3, 4, 2],
      ]);
      expect(result.resource!.timeline[1]!.diff.patch).toEqual([
        { op: 'replace', path: '/configuration/size', value: 1 },
      ]);
      expect(all.finish().findings.map((f) => [f.code, f.resource])).toEqual([
        ['PROFILE_VERSION_REMOVED', { id: 'app:db/2', n: 2, count: 1 }],
      ]);
    });
  });

  describe("when every resource is listed (listResources, the auditor's page)", () => {
    it('gives each resource what `--resource` reports for it, whatever lines are sealed', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 5 }),
          fc.integer({ min: 1, max: 5 }),
          fc.array(fc.boolean(), { minLength: 10, maxLength: 10 }),
          fc.array(fc.nat(9), { maxLength: 2 }),
          (a, b, committedMask, dropped) => {
            // Prepare: two chains interleaved, some lines not committed, some versions removed.
            const versions = [...chain('app:db/1', a), ...chain('app:db/2', b)].filter(
              (_, i) => !dropped.includes(i),
            );
            const lines = versions.map(line);
            const committed = lines.filter((_, i) => committedMask[i]).map((l) => hashLeaf(l));
            const chunk = chunkOf(lines, { clean: false, committedLeaves: committed });
            const all = new ProfileChecks({ listResources: true });

            // Act
            all.observeChunk(chunk);
            const listed = all.finish().resources!;

            // Assess
            const ids = [...new Set(versions.map((v) => v.resourceId))].sort();
            expect(listed.map((r) => r.id)).toEqual(ids);
            for (const summary of listed) {
              const one = new ProfileChecks({ resource: summary.id });
              one.observeChunk(chunk);
              const timeline = one.finish().resource!;
              expect(summary.versions).toBe(timeline.versions);
              expect(summary.sealed).toBe(timeline.timeline.filter((v) => v.sealed).length);
              expect(summary.findings).toBe(timeline.findings);
              expect(summary.verified).toBe(timeline.verified);
            }
          },
        ),
      );
    });

    it('is not returned unless asked for', () => {
      // Prepare
      const checks = new ProfileChecks();

      // Act
      checks.observeChunk(chunkOf(chain('app:db/1', 2).map(line)));

      // Assess
      expect(checks.finish().resources).toBeUndefined();
    });
  });

  describe('when a line is not one the trusted digest commits to', () => {
    it('marks the version not sealed, so the timeline is not verified', () => {
      // Prepare
      const versions = chain('app:db/1', 2);
      const lines = versions.map(line);
      const committed = [hashLeaf(lines[0]!)];
      const checks = new ProfileChecks({ resource: 'app:db/1' });

      // Act
      checks.observeChunk(chunkOf(lines, { clean: false, committedLeaves: committed }));
      const resource = checks.finish().resource!;

      // Assess
      expect(resource.timeline.map((v) => [v.n, v.sealed, v.verified])).toEqual([
        [1, true, true],
        [2, false, false],
      ]);
      expect(resource.verified).toBe(false);
    });
  });

  describe('when the digest of the period is not trusted', () => {
    it('marks every version not sealed', () => {
      // Prepare
      const checks = new ProfileChecks({ resource: 'app:db/1' });

      // Act
      checks.observeChunk(chunkOf(chain('app:db/1', 2).map(line), { trusted: false }));

      // Assess
      expect(checks.finish().resource!.timeline.every((v) => !v.sealed)).toBe(true);
    });
  });

  describe('when an event of another channel carries a profileVersion (sealed by a sealer that did not check)', () => {
    it('reports PROFILE_VERSION_MALFORMED at that event', () => {
      // Prepare: parseAuditEvent would refuse it, so the line is written as such a sealer would have.
      const version = chain('app:db/1', 1)[0]!;
      const event = JSON.parse(line(version).toString('utf8')) as Record<string, unknown>;
      event['channel'] = 'api';
      const forged = Buffer.from(canonicalString(event), 'utf8');
      const checks = new ProfileChecks();

      // Act
      checks.observeChunk(chunkOf([forged], { ref: { key: 'archives/app/c.jsonl', firstIndex: 16 } }));
      const { findings, summary } = checks.finish();

      // Assess
      expect(findings).toEqual([
        expect.objectContaining({
          code: 'PROFILE_VERSION_MALFORMED',
          object: 'archives/app/c.jsonl',
          eventId: profileVersionEventId('app:db/1', 1),
          eventIndex: 16,
        }),
      ]);
      expect(findings[0]!.message).toContain('$.profileVersion');
      expect(summary).toEqual({ versions: 1, resources: 0 });
    });
  });

  describe('when a line holds a marker but is not JSON, or is an ordinary event', () => {
    it('leaves it to the event checks', () => {
      // Prepare
      const checks = new ProfileChecks();
      const text = Buffer.from('{"channel":"profile" not json');
      const ordinary = Buffer.from(
        canonicalizeEvent(
          {
            id: 'app-1',
            eventTime: '2026-11-23T00:00:00.000Z',
            actor: WRITER,
            action: 'db.resize',
            outcome: { result: 'success' },
            // Its canonical text holds `profileVersion`, one level down.
            details: { profileVersion: 'none', channel: 'profile' },
          },
          '2026-11-23T00:00:00.000Z',
          'api',
        ).bytes,
      );

      expect(ordinary.includes('"profileVersion":')).toBe(true);

      // Act
      checks.observeChunk(chunkOf([text, ordinary]));
      const result = checks.finish();

      // Assess
      expect(result.findings).toEqual([]);
      expect(result.summary).toEqual({ versions: 0, resources: 0 });
    });
  });
});

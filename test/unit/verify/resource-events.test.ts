/**
 * `verify --resource R`: the events that name R, each verified or not (shared/verify/resource-events.ts),
 * first on chunks as the folder verifier hands them over, then through `verifyFolder` on sealed folders
 * with forged lines inserted into their archives and periods signed by untrusted keys.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyFileSigner } from '../../../shared/crypto/key-file-signer.ts';
import { archiveObjectKey } from '../../../shared/ledger/object-keys.ts';
import type { Period } from '../../../shared/ledger/period.ts';
import type { ChainHead } from '../../../shared/ledger/seal-period.ts';
import { hashLeaf } from '../../../shared/merkle/rfc6962.ts';
import { InMemoryObjectStore } from '../../../shared/storage/in-memory-object-store.ts';
import type { Finding } from '../../../shared/verify/findings.ts';
import {
  MAX_LISTED_RESOURCE_EVENTS,
  type ResourceEventChunk,
  ResourceEventsCollector,
} from '../../../shared/verify/resource-events.ts';
import { verifyFolder } from '../../../shared/verify/verify-folder.ts';
import { MemoryReader, makeEvent, trustedKeysOf } from '../../support/sealed-folder.ts';
import { sealSignedPeriod } from '../../support/signed-seal.ts';

const R = 'arn:aws:s3:::resource-events-bucket';
const OTHER = 'arn:aws:s3:::another-bucket';
const PERIOD: Period = { startMs: Date.parse('2026-11-22T00:00:00Z'), seconds: 3600 };
const BASE = 'digests/app/2026/11/22/20261122T000000Z-3600s';
const CHUNK_KEY = 'archives/app/2026/11/22/20261122T000000Z-3600s/000000.jsonl';
const at = (i: number) => new Date(PERIOD.startMs + (i + 1) * 1000).toISOString();

/** The canonical line of an event `id`, naming `resource` when given. */
function line(id: string, i: number, resource?: string): Buffer {
  return Buffer.from(
    makeEvent(id, at(i), resource ? { resource: { id: resource, type: 'AWS::S3::Bucket' } } : {}).bytes,
  );
}

function chunkOf(lines: readonly Buffer[], overrides: Partial<ResourceEventChunk> = {}): ResourceEventChunk {
  return {
    ledger: 'app',
    period: PERIOD,
    digestBase: BASE,
    ref: { key: CHUNK_KEY, firstIndex: 0 },
    archive: Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])),
    clean: true,
    committedLeaves: lines.map((l) => hashLeaf(l)),
    trusted: true,
    ...overrides,
  };
}

describe('Class: ResourceEventsCollector', () => {
  describe('Method: observeChunk and finish', () => {
    it('lists the events whose resource.id is the resource, sealed ones verified at their position', () => {
      // Prepare
      const collector = new ResourceEventsCollector(R);
      const lines = [line('e0', 0), line('e1', 1, R), line('e2', 2, OTHER), line('e3', 3, R)];

      // Act
      collector.observeChunk(chunkOf(lines, { ref: { key: CHUNK_KEY, firstIndex: 8 } }));
      const events = collector.finish([]);

      // Assess
      expect(events.found).toBe(2);
      expect(events.verified).toBe(2);
      expect(events.listed).toEqual([
        {
          ledger: 'app',
          periodStart: '2026-11-22T00:00:00Z',
          periodSeconds: 3600,
          object: CHUNK_KEY,
          eventIndex: 9,
          eventId: 'e1',
          receivedAt: at(1),
          action: 's3:GetObject',
          actor: 'arn:aws:iam::111122223333:user/alice',
          verified: true,
        },
        expect.objectContaining({ eventIndex: 11, eventId: 'e3', verified: true }),
      ]);
    });

    it('finds an id that JSON writes with escapes (quotes, backslashes, non-ASCII)', () => {
      // Prepare
      const id = 'app:files/"quoted"\\path/é✓';
      const collector = new ResourceEventsCollector(id);

      // Act
      collector.observeChunk(chunkOf([line('e0', 0, id), line('e1', 1, 'app:files/other')]));
      const events = collector.finish([]);

      // Assess
      expect(events.listed.map((e) => e.eventId)).toEqual(['e0']);
    });

    describe('when a profile version names the resource', () => {
      it('is not listed: versions are the timeline', () => {
        // Prepare
        const collector = new ResourceEventsCollector(R);
        const profile = JSON.parse(line('pv:x', 0, R).toString('utf8')) as Record<string, unknown>;
        profile['channel'] = 'profile';

        // Act
        collector.observeChunk(chunkOf([Buffer.from(JSON.stringify(profile))]));

        // Assess
        expect(collector.finish([]).found).toBe(0);
      });
    });

    describe("when the period's digest is not trusted", () => {
      it('marks its events NOT verified, with the reason', () => {
        // Prepare
        const collector = new ResourceEventsCollector(R);

        // Act
        collector.observeChunk(chunkOf([line('e0', 0, R)], { trusted: false }));
        const events = collector.finish([]);

        // Assess
        expect(events).toMatchObject({ found: 1, verified: 0 });
        expect(events.listed[0]).toMatchObject({ verified: false });
        expect(events.listed[0]!.reason).toContain('not signed by a trusted key');
      });
    });

    describe('when a line naming the resource is inserted into a sealed chunk', () => {
      it('marks that line NOT verified and the sealed events verified at their sealed positions', () => {
        // Prepare: the sealed chunk commits to e0, e1, e2; a forged line goes in before e1.
        const collector = new ResourceEventsCollector(R);
        const sealed = [line('e0', 0, R), line('e1', 1, R), line('e2', 2)];
        const forged = line('forged', 1, R);
        const chunk = chunkOf([sealed[0]!, forged, sealed[1]!, sealed[2]!], {
          clean: false,
          committedLeaves: sealed.map((l) => hashLeaf(l)),
        });

        // Act
        collector.observeChunk(chunk);
        const events = collector.finish([]);

        // Assess
        expect(events).toMatchObject({ found: 3, verified: 2 });
        expect(events.listed.map((e) => [e.eventId, e.eventIndex, e.verified])).toEqual([
          ['e0', 0, true],
          ['forged', 1, false],
          ['e1', 1, true],
        ]);
        expect(events.listed[1]!.reason).toContain('no trusted digest commits to these bytes');
      });
    });

    describe('when a sealed line naming the resource is copied within its chunk', () => {
      it('verifies one copy only', () => {
        // Prepare
        const collector = new ResourceEventsCollector(R);
        const sealed = [line('e0', 0, R), line('e1', 1)];
        const chunk = chunkOf([sealed[0]!, sealed[0]!, sealed[1]!], {
          clean: false,
          committedLeaves: sealed.map((l) => hashLeaf(l)),
        });

        // Act
        collector.observeChunk(chunk);
        const events = collector.finish([]);

        // Assess
        expect(events.listed.map((e) => e.verified)).toEqual([true, false]);
        expect(events.listed[1]!.reason).toContain('another copy of a sealed event');
      });
    });

    describe('when the chunk differs from its digest and has no intact index', () => {
      it('marks its events NOT verified', () => {
        // Prepare
        const collector = new ResourceEventsCollector(R);

        // Act
        collector.observeChunk(chunkOf([line('e0', 0, R)], { clean: false, committedLeaves: undefined }));
        const events = collector.finish([]);

        // Assess
        expect(events.verified).toBe(0);
        expect(events.listed[0]!.reason).toContain('cannot be checked');
      });
    });

    describe('when a finding names the event', () => {
      it('marks it NOT verified with the finding code', () => {
        // Prepare
        const collector = new ResourceEventsCollector(R);
        collector.observeChunk(chunkOf([line('e0', 0, R), line('e1', 1, R)]));
        const finding: Finding = {
          code: 'EVENT_UNSIGNED',
          object: CHUNK_KEY,
          eventIndex: 1,
          message: 'not a leaf of any trusted batch',
        };

        // Act
        const events = collector.finish([finding]);

        // Assess
        expect(events.listed.map((e) => e.verified)).toEqual([true, false]);
        expect(events.listed[1]!.reason).toBe('findings about this event: EVENT_UNSIGNED');
      });
    });

    describe("when a finding names the period's digest", () => {
      it('marks every event of that period NOT verified', () => {
        // Prepare
        const collector = new ResourceEventsCollector(R);
        collector.observeChunk(chunkOf([line('e0', 0, R)]));
        const other: ResourceEventChunk = chunkOf([line('e9', 9, R)], {
          digestBase: 'digests/app/2026/11/22/20261122T010000Z-3600s',
          ref: { key: 'archives/app/2026/11/22/20261122T010000Z-3600s/000000.jsonl', firstIndex: 0 },
        });
        collector.observeChunk(other);

        // Act
        const events = collector.finish([
          { code: 'CHAIN_BROKEN', object: `${BASE}.statement.json`, message: 'does not link' },
        ]);

        // Assess
        expect(events.listed.map((e) => [e.eventId, e.verified])).toEqual([
          ['e0', false],
          ['e9', true],
        ]);
        expect(events.listed[0]!.reason).toBe("its period's digest has findings: CHAIN_BROKEN");
      });
    });

    describe('when more events name the resource than are listed', () => {
      it('counts them all and still lists the lines no trusted digest commits to', () => {
        // Prepare: more sealed events than the list holds, then one forged line in an untrusted period.
        const collector = new ResourceEventsCollector(R);
        const many = Array.from({ length: MAX_LISTED_RESOURCE_EVENTS + 5 }, (_, i) => line(`e${i}`, 0, R));
        collector.observeChunk(chunkOf(many));
        collector.observeChunk(chunkOf([line('forged', 1, R)], { trusted: false }));

        // Act
        const events = collector.finish([]);

        // Assess
        expect(events.found).toBe(MAX_LISTED_RESOURCE_EVENTS + 6);
        expect(events.verified).toBe(MAX_LISTED_RESOURCE_EVENTS + 5);
        expect(events.listed).toHaveLength(MAX_LISTED_RESOURCE_EVENTS + 1);
        expect(events.listed.at(-1)).toMatchObject({ eventId: 'forged', verified: false });
      });
    });

    it('verifies exactly the sealed events that name the resource, wherever lines are inserted', () => {
      fc.assert(
        fc.property(
          fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }),
          fc.array(fc.tuple(fc.nat(12), fc.boolean()), { maxLength: 4 }),
          (names, inserts) => {
            // Prepare: sealed lines (some naming R), and forged lines (some naming R) inserted anywhere.
            const sealed = names.map((n, i) => line(`s${i}`, i, n ? R : OTHER));
            const archive = [...sealed];
            inserts.forEach(([pos, n], k) => {
              archive.splice(pos % (archive.length + 1), 0, line(`f${k}`, 0, n ? R : OTHER));
            });
            const collector = new ResourceEventsCollector(R);

            // Act
            collector.observeChunk(
              chunkOf(archive, {
                clean: inserts.length === 0,
                committedLeaves: sealed.map((l) => hashLeaf(l)),
              }),
            );
            const events = collector.finish([]);

            // Assess
            const verified = events.listed.filter((e) => e.verified);
            expect(verified.map((e) => [e.eventId, e.eventIndex])).toEqual(
              names.flatMap((n, i) => (n ? [[`s${i}`, i]] : [])),
            );
            expect(events.listed.filter((e) => !e.verified).map((e) => e.eventId)).toEqual(
              archive
                .map((l) => JSON.parse(l.toString('utf8')) as { id: string; resource: { id: string } })
                .filter((e) => e.id.startsWith('f') && e.resource.id === R)
                .map((e) => e.id),
            );
            expect(events.found).toBe(events.listed.length);
          },
        ),
        { numRuns: 60 },
      );
    });
  });
});

const LEDGER = 'app';
const periodAt = (i: number): Period => ({ startMs: PERIOD.startMs + i * 3600_000, seconds: 3600 });

/** Two chained periods, the second signed by `second`; events 1 and 3 of each name R. */
async function sealedFolder(second: KeyFileSigner, first: KeyFileSigner): Promise<InMemoryObjectStore> {
  const store = new InMemoryObjectStore();
  let previous: ChainHead | null = null;
  for (const [p, signer] of [first, second].entries()) {
    const period = periodAt(p);
    const events = [0, 1, 2, 3].map((i) =>
      makeEvent(
        `p${p}-e${i}`,
        new Date(period.startMs + (i + 1) * 1000).toISOString(),
        i % 2 === 1 ? { resource: { id: R, type: 'AWS::S3::Bucket' } } : {},
      ),
    );
    previous = await sealSignedPeriod(
      { ledger: LEDGER, period, previous, events, chunkLeaves: 4 },
      { store, signer },
    );
  }
  return store;
}

describe('Function: verifyFolder', () => {
  describe('when a resource is asked for', () => {
    it('reports the events that name the resource, all verified in a sealed folder', async () => {
      // Prepare
      const signer = KeyFileSigner.generate();
      const store = await sealedFolder(signer, signer);

      // Act
      const report = await verifyFolder(new MemoryReader(store.objects), {
        keys: await trustedKeysOf(signer),
        resource: R,
      });

      // Assess
      expect(report.valid).toBe(true);
      expect(report.resource?.events).toMatchObject({ found: 4, verified: 4 });
      expect(report.resource?.events.listed.map((e) => [e.eventId, e.eventIndex, e.verified])).toEqual([
        ['p0-e1', 1, true],
        ['p0-e3', 3, true],
        ['p1-e1', 1, true],
        ['p1-e3', 3, true],
      ]);
    });

    it('adds nothing to the report without resource', async () => {
      // Prepare
      const signer = KeyFileSigner.generate();
      const store = await sealedFolder(signer, signer);

      // Act
      const report = await verifyFolder(new MemoryReader(store.objects), {
        keys: await trustedKeysOf(signer),
      });

      // Assess
      expect(Object.keys(report)).toEqual(['valid', 'findings', 'range', 'ledgers', 'stats', 'profiles']);
    });

    describe('when a forged line names the resource and a period is signed by an untrusted key', () => {
      it('reports those events NOT verified, and the sealed ones verified', async () => {
        // Prepare: the second period is signed by a key the auditor does not trust, and a copy of a
        // sealed event with another id is inserted at the top of the first period's chunk.
        const [trusted, intruder] = [KeyFileSigner.generate(), KeyFileSigner.generate()];
        const store = await sealedFolder(intruder, trusted);
        const key = archiveObjectKey(LEDGER, periodAt(0), 0, 'events');
        const text = Buffer.from(store.objects.get(key)!).toString('utf8');
        const sealed = text.split('\n').find((l) => l.includes('"p0-e1"'))!;
        store.objects.set(key, Buffer.from(`${sealed.replace('"p0-e1"', '"forged"')}\n${text}`));

        // Act
        const report = await verifyFolder(new MemoryReader(store.objects), {
          keys: await trustedKeysOf(trusted),
          resource: R,
        });

        // Assess
        const codes = report.findings.map((f) => f.code);
        expect(codes).toContain('EVENT_INSERTED');
        expect(codes).toContain('KEY_UNKNOWN');
        expect(report.resource?.events).toMatchObject({ found: 5, verified: 2 });
        const byId = Object.fromEntries(
          report.resource!.events.listed.map((e) => [e.eventId, [e.verified, e.reason ?? '']]),
        );
        expect(byId).toEqual({
          forged: [false, expect.stringContaining('no trusted digest commits to these bytes')],
          'p0-e1': [true, ''],
          'p0-e3': [true, ''],
          'p1-e1': [false, expect.stringContaining('not signed by a trusted key')],
          'p1-e3': [false, expect.stringContaining('not signed by a trusted key')],
        });
      });
    });
  });
});

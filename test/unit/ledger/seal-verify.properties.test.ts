/**
 * Property tests for sealing and verification together: whatever the events and chunk size, a sealed
 * store verifies, and changing any single byte of any sealed object is detected.
 * A failing run prints its fast-check seed; replay it with `{ seed, path }` in the options.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyFileSigner } from '../../../shared/crypto/key-file-signer.ts';
import { sealRange } from '../../../shared/ledger/seal-range.ts';
import { InMemoryObjectStore } from '../../../shared/storage/in-memory-object-store.ts';
import { verifyFolder } from '../../../shared/verify/verify-folder.ts';
import { MemoryReader, makeEvent, type TestEvent, trustedKeysOf } from '../../support/sealed-folder.ts';

const START = Date.parse('2026-11-22T21:00:00Z');
const signer = KeyFileSigner.generate();

/** Up to 40 events with distinct ids, received within three one-hour periods. */
const eventsArb = fc
  .uniqueArray(
    fc.record({
      id: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,20}$/),
      offsetMs: fc.integer({ min: 0, max: 3 * 3_600_000 - 1 }),
      action: fc.constantFrom('s3:GetObject', 'iam:CreateUser', 'kms:Decrypt', 'sts:AssumeRole'),
    }),
    { maxLength: 40, selector: (e) => e.id },
  )
  .map((list) =>
    list.map(
      (e): TestEvent => makeEvent(e.id, new Date(START + e.offsetMs).toISOString(), { action: e.action }),
    ),
  );
const chunkLeavesArb = fc.constantFrom(1, 2, 4, 8, 16);

async function sealInMemory(
  events: readonly TestEvent[],
  chunkLeaves: number,
): Promise<{ store: InMemoryObjectStore; periods: number }> {
  const store = new InMemoryObjectStore();
  const sealed = await sealRange(
    { ledger: 'prop', seconds: 3600, events, previous: null, chunkLeaves, untilMs: START + 2 * 3_600_000 },
    { store, signer },
  );
  return { store, periods: sealed.length };
}

describe('Function: verifyFolder (properties)', () => {
  describe('when random events are sealed with a random chunk size', () => {
    it('verifies with no finding and counts every event', async () => {
      const keys = await trustedKeysOf(signer);
      await fc.assert(
        fc.asyncProperty(eventsArb, chunkLeavesArb, async (events, chunkLeaves) => {
          // Prepare
          const { store, periods } = await sealInMemory(events, chunkLeaves);

          // Act
          const report = await verifyFolder(new MemoryReader(store.objects), { keys });

          // Assess
          expect(report.findings).toEqual([]);
          expect(report.stats.events).toBe(events.length);
          expect(report.stats.digests).toBe(periods);
          expect(periods).toBeGreaterThanOrEqual(1);
        }),
        { numRuns: 40 },
      );
    });
  });

  describe('when any single byte of any archive or index object is changed', () => {
    it('reports at least one finding naming that object', async () => {
      const keys = await trustedKeysOf(signer);
      await fc.assert(
        fc.asyncProperty(
          eventsArb.filter((events) => events.length > 0),
          chunkLeavesArb,
          fc.nat(),
          fc.nat(),
          fc.integer({ min: 1, max: 255 }),
          async (events, chunkLeaves, pickObject, pickOffset, mask) => {
            // Prepare
            const { store } = await sealInMemory(events, chunkLeaves);
            const archiveKeys = [...store.objects.keys()].filter((k) => k.startsWith('archives/')).sort();
            const key = archiveKeys[pickObject % archiveKeys.length]!;
            const bytes = Buffer.from(store.objects.get(key)!);
            const offset = pickOffset % bytes.length;
            bytes[offset] = bytes[offset]! ^ mask;
            store.objects.set(key, bytes);

            // Act
            const report = await verifyFolder(new MemoryReader(store.objects), { keys });

            // Assess
            expect(report.valid).toBe(false);
            expect(report.findings.map((f) => f.object)).toContain(key);
          },
        ),
        { numRuns: 60 },
      );
    });
  });

  describe('when any single byte of any digest, statement or signature object is changed', () => {
    it('reports at least one finding', async () => {
      const keys = await trustedKeysOf(signer);
      await fc.assert(
        fc.asyncProperty(
          eventsArb,
          chunkLeavesArb,
          fc.nat(),
          fc.nat(),
          fc.integer({ min: 1, max: 255 }),
          async (events, chunkLeaves, pickObject, pickOffset, mask) => {
            // Prepare
            const { store } = await sealInMemory(events, chunkLeaves);
            const digestKeys = [...store.objects.keys()].filter((k) => k.startsWith('digests/')).sort();
            const key = digestKeys[pickObject % digestKeys.length]!;
            const bytes = Buffer.from(store.objects.get(key)!);
            const offset = pickOffset % bytes.length;
            bytes[offset] = bytes[offset]! ^ mask;
            store.objects.set(key, bytes);

            // Act
            const report = await verifyFolder(new MemoryReader(store.objects), { keys });

            // Assess
            expect(report.valid).toBe(false);
            expect(report.findings.length).toBeGreaterThan(0);
          },
        ),
        { numRuns: 60 },
      );
    });
  });
});

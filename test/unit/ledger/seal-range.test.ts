import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyFileSigner } from '../../../shared/crypto/key-file-signer.ts';
import { checkSignedBatch } from '../../../shared/ledger/batch-check.ts';
import { digestSchema, MAX_BATCH_LEAVES } from '../../../shared/ledger/formats.ts';
import { digestObjectKey } from '../../../shared/ledger/object-keys.ts';
import { nextPeriod, type Period } from '../../../shared/ledger/period.ts';
import {
  compareEvents,
  importBatches,
  importBatchId,
  type OrderedEvent,
  sealRange,
  signImportBatches,
} from '../../../shared/ledger/seal-range.ts';
import { rootFromLeafHashes } from '../../../shared/merkle/rfc6962.ts';
import type { BatchSeal } from '../../../shared/ports/ledger-store.ts';
import { InMemoryObjectStore } from '../../../shared/storage/in-memory-object-store.ts';
import { verifyFolder } from '../../../shared/verify/verify-folder.ts';
import { MemoryReader, makeEvent, trustedKeysOf } from '../../support/sealed-folder.ts';

const LEDGER = 'unit';
const P0: Period = { startMs: Date.parse('2026-11-22T21:00:00Z'), seconds: 3600 };
const P1 = nextPeriod(P0);
const P2 = nextPeriod(P1);
const P3 = nextPeriod(P2);

const ordered = (id: string, receivedAt: string): OrderedEvent => ({
  id,
  receivedAt,
  bytes: new Uint8Array(),
});

describe('Function: compareEvents', () => {
  describe('when events differ in receivedAt', () => {
    it('orders by receivedAt first, whatever the ids', () => {
      // Prepare
      const early = ordered('z', '2026-11-22T21:00:00.000Z');
      const late = ordered('a', '2026-11-22T21:00:00.001Z');

      // Act
      const sorted = [late, early].sort(compareEvents);

      // Assess
      expect(sorted).toEqual([early, late]);
    });
  });

  describe('when events share receivedAt', () => {
    it('orders by id in code-unit order, and equal ids compare equal', () => {
      // Prepare
      const at = '2026-11-22T21:00:00.000Z';
      const events = ['b', 'B', 'a-2', 'a-10'].map((id) => ordered(id, at));

      // Act
      const ids = [...events].sort(compareEvents).map((e) => e.id);

      // Assess
      expect(ids).toEqual(['B', 'a-10', 'a-2', 'b']);
      expect(compareEvents(events[0]!, ordered('b', at))).toBe(0);
    });
  });
});

describe('Function: sealRange', () => {
  describe('when events fall in the first and last of four periods, unordered', () => {
    it('seals every period, empty ones included, each in (receivedAt, id) order', async () => {
      // Prepare
      const store = new InMemoryObjectStore();
      const signer = KeyFileSigner.generate();
      const e1 = makeEvent('b', '2026-11-22T21:10:00.000Z');
      const e2 = makeEvent('a', '2026-11-22T21:10:00.000Z');
      const e3 = makeEvent('c', '2026-11-22T21:05:00.000Z');
      const e4 = makeEvent('d', '2026-11-23T00:59:59.999Z');
      const counts: number[] = [];

      // Act
      const sealed = await sealRange(
        {
          ledger: LEDGER,
          seconds: 3600,
          events: [e1, e4, e2, e3],
          previous: null,
          onPeriod: (_, n) => counts.push(n),
        },
        { store, signer },
      );

      // Assess
      expect(sealed.map((s) => s.period)).toEqual([P0, P1, P2, P3]);
      expect(sealed.map((s) => s.treeSize)).toEqual([3, 0, 0, 1]);
      expect(counts).toEqual([3, 0, 0, 1]);
      expect(sealed[0]!.rootHash).toBe(
        rootFromLeafHashes([e3.leafHash, e2.leafHash, e1.leafHash]).toString('hex'),
      );
      const report = await verifyFolder(new MemoryReader(store.objects), {
        keys: await trustedKeysOf(signer),
      });
      expect(report.valid).toBe(true);
      expect(report.stats).toMatchObject({ digests: 4, events: 4 });
    });
  });

  describe('when a period holds more events than one import batch may sign', () => {
    it('signs them in batches of at most 10,000 leaves, one Sign each, each a trusted batch of the period', async () => {
      // Prepare
      const signer = KeyFileSigner.generate();
      let signs = 0;
      const counting = {
        keyId: () => signer.keyId(),
        publicKeyPem: () => signer.publicKeyPem(),
        sign: (bytes: Uint8Array) => {
          signs++;
          return signer.sign(bytes);
        },
      };
      // Small events keep the test fast; signing does not look inside them.
      const events = Array.from({ length: MAX_BATCH_LEAVES + 3 }, (_, i) => {
        const id = `evt-${String(i).padStart(5, '0')}`;
        const receivedAt = new Date(P0.startMs + 1000 + i * 7).toISOString();
        return { id, receivedAt, bytes: Buffer.from(`{"id":"${id}","receivedAt":"${receivedAt}"}`) };
      });

      // Act
      const { rows, batches } = await signImportBatches(LEDGER, P0, events, { signer: counting });

      // Assess
      expect(signs).toBe(2);
      expect(batches.map((b) => [b.batchId, b.leaves.length])).toEqual([
        ['imp-20261122T210000Z-000000', MAX_BATCH_LEAVES],
        ['imp-20261122T210000Z-000001', 3],
      ]);
      expect(rows.map((r) => r.batchId)).toEqual(
        events.map((_, i) => batches[i < MAX_BATCH_LEAVES ? 0 : 1]!.batchId),
      );
      const keys = await trustedKeysOf(signer);
      for (const batch of batches) {
        expect(await checkSignedBatch(batch, { ledger: LEDGER, period: P0, keys })).toMatchObject({
          ok: true,
        });
      }
      expect(JSON.parse(batches[1]!.statement)).toMatchObject({
        receivedFrom: events[MAX_BATCH_LEAVES]!.receivedAt,
        receivedTo: events[MAX_BATCH_LEAVES + 2]!.receivedAt,
      });
    });
  });

  describe('when untilMs lies after the last event', () => {
    it('seals the empty periods through the one containing untilMs', async () => {
      // Prepare
      const store = new InMemoryObjectStore();

      // Act
      const sealed = await sealRange(
        {
          ledger: LEDGER,
          seconds: 3600,
          events: [makeEvent('a', '2026-11-22T21:30:00.000Z')],
          previous: null,
          untilMs: P2.startMs + 1,
        },
        { store, signer: KeyFileSigner.generate() },
      );

      // Assess
      expect(sealed.map((s) => s.period)).toEqual([P0, P1, P2]);
    });
  });

  describe('when there are no events and no untilMs', () => {
    it('seals nothing', async () => {
      // Prepare
      const store = new InMemoryObjectStore();

      // Act
      const sealed = await sealRange(
        { ledger: LEDGER, seconds: 3600, events: [], previous: null },
        { store, signer: KeyFileSigner.generate() },
      );

      // Assess
      expect(sealed).toEqual([]);
      expect(store.objects.size).toBe(0);
    });
  });

  describe('when continuing a chain', () => {
    it('starts right after the head, sealing the gap as empty periods', async () => {
      // Prepare
      const store = new InMemoryObjectStore();
      const signer = KeyFileSigner.generate();
      const [head] = await sealRange(
        {
          ledger: LEDGER,
          seconds: 3600,
          events: [makeEvent('a', '2026-11-22T21:30:00.000Z')],
          previous: null,
        },
        { store, signer },
      );

      // Act
      const sealed = await sealRange(
        {
          ledger: LEDGER,
          seconds: 3600,
          events: [makeEvent('b', '2026-11-23T00:00:00.000Z')],
          previous: head!,
        },
        { store, signer },
      );

      // Assess
      expect(sealed.map((s) => [s.period, s.sequence])).toEqual([
        [P1, 1],
        [P2, 2],
        [P3, 3],
      ]);
      const digest = digestSchema.parse(
        JSON.parse(Buffer.from(store.objects.get(digestObjectKey(LEDGER, P1, 'digest'))!).toString('utf8')),
      );
      expect(digest.previous?.digestKey).toBe(head!.digestKey);
      const report = await verifyFolder(new MemoryReader(store.objects), {
        keys: await trustedKeysOf(signer),
      });
      expect(report.findings).toEqual([]);
    });
  });

  describe('when new events fall in a period the chain has already sealed', () => {
    it('throws a RangeError and writes nothing', async () => {
      // Prepare
      const store = new InMemoryObjectStore();
      const signer = KeyFileSigner.generate();
      const [head] = await sealRange(
        {
          ledger: LEDGER,
          seconds: 3600,
          events: [makeEvent('a', '2026-11-22T21:30:00.000Z')],
          previous: null,
        },
        { store, signer },
      );
      const before = store.objects.size;

      // Act
      const act = sealRange(
        {
          ledger: LEDGER,
          seconds: 3600,
          events: [makeEvent('late', '2026-11-22T21:59:00.000Z')],
          previous: head!,
        },
        { store, signer },
      );

      // Assess
      await expect(act).rejects.toThrow(RangeError);
      expect(store.objects.size).toBe(before);
    });
  });
});

describe('Function: importBatches', () => {
  const eventsOf = (n: number, step: number): OrderedEvent[] =>
    Array.from({ length: n }, (_, i) => {
      const id = `evt-${String(i).padStart(6, '0')}`;
      const receivedAt = new Date(P0.startMs + 1000 + Math.floor(i * step)).toISOString();
      return { id, receivedAt, bytes: Buffer.from(`{"id":"${id}","n":${i}}`) };
    });

  describe('when its batches are collected', () => {
    it('gives the batches signImportBatches gives, in the same order, each trusted', async () => {
      const signer = KeyFileSigner.generate();
      const keys = await trustedKeysOf(signer);
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 2 * MAX_BATCH_LEAVES + 5 }),
          fc.constantFrom(0.3, 1, 7),
          async (n, step) => {
            // Prepare
            const events = eventsOf(n, step);

            // Act
            const lazy: BatchSeal[] = [];
            for await (const batch of importBatches(LEDGER, P0, events, { signer })) lazy.push(batch);
            const eager = await signImportBatches(LEDGER, P0, events, { signer });

            // Assess: equal but for the signatures (ECDSA is randomized), which each check on its own.
            const strip = (b: BatchSeal) => ({
              ...b,
              signature: undefined,
              leaves: b.leaves.map((l) => ({ ...l, leafHash: Buffer.from(l.leafHash).toString('hex') })),
            });
            expect(lazy.map(strip)).toEqual(eager.batches.map(strip));
            expect(eager.rows.map((r) => r.batchId)).toEqual(
              events.map((_, i) => importBatchId(P0, Math.floor(i / MAX_BATCH_LEAVES))),
            );
            for (const batch of lazy) {
              expect(await checkSignedBatch(batch, { ledger: LEDGER, period: P0, keys })).toMatchObject({
                ok: true,
              });
            }
          },
        ),
        { numRuns: 6 },
      );
    });
  });

  describe('when only its first batch is taken', () => {
    it('reads one block of events, not the whole period', async () => {
      // Prepare
      const events = eventsOf(3 * MAX_BATCH_LEAVES, 0.1);
      let read = 0;
      function* counted(): Generator<OrderedEvent> {
        for (const e of events) {
          read++;
          yield e;
        }
      }

      // Act
      const batches = importBatches(LEDGER, P0, counted(), { signer: KeyFileSigner.generate() });
      const first = await batches.next();

      // Assess
      expect(first.done).toBe(false);
      expect(first.value?.leaves).toHaveLength(MAX_BATCH_LEAVES);
      expect(read).toBe(MAX_BATCH_LEAVES);
    });
  });
});

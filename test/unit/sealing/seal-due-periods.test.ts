import { describe, expect, it } from 'vitest';
import { KeyFileSigner } from '../../../shared/crypto/key-file-signer.ts';
import { loadPublicKey, TrustedKeySet } from '../../../shared/crypto/keys.ts';
import type { SealableEvent } from '../../../shared/ledger/archive-chunk.ts';
import { digestObjectKey } from '../../../shared/ledger/object-keys.ts';
import { type Period, periodOf } from '../../../shared/ledger/period.ts';
import type { ObjectStore, PutOutcome } from '../../../shared/ports/object-store.ts';
import type { PeriodEventSource } from '../../../shared/ports/sealing.ts';
import { lastDuePeriod, sealDuePeriods } from '../../../shared/sealing/seal-due-periods.ts';
import { InMemoryObjectStore } from '../../../shared/storage/in-memory-object-store.ts';
import { InMemorySealRegistry } from '../../../shared/storage/in-memory-seal-registry.ts';
import type { ObjectReader } from '../../../shared/verify/object-reader.ts';
import { verifyFolder } from '../../../shared/verify/verify-folder.ts';

const LEDGER = 'test';
const SECONDS = 60;
const T0 = Date.parse('2026-11-22T10:00:00Z');

/** Events by period start, read back in (receivedAt, id) order like the table. */
class ArrayEventSource implements PeriodEventSource {
  readonly reads: number[] = [];
  constructor(private readonly events: Map<number, SealableEvent[]>) {}
  async *readPeriod(_ledger: string, period: Period): AsyncIterable<SealableEvent> {
    this.reads.push(period.startMs);
    for (const e of this.events.get(period.startMs) ?? []) yield e;
  }
}

function eventsIn(periodStartMs: number, n: number): SealableEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `e-${periodStartMs}-${i}`,
    bytes: Buffer.from(JSON.stringify({ id: `e-${periodStartMs}-${i}`, n: i })),
  }));
}

function readerOf(store: InMemoryObjectStore): ObjectReader {
  return {
    list: async (prefix) => [...store.objects.keys()].filter((k) => k.startsWith(prefix)),
    read: async (key) => {
      const v = store.objects.get(key);
      return v ? Buffer.from(v) : undefined;
    },
  };
}

async function setup(events = new Map<number, SealableEvent[]>()) {
  const signer = KeyFileSigner.generate();
  const keys = new TrustedKeySet([loadPublicKey(await signer.publicKeyPem())]);
  return {
    signer,
    keys,
    objects: new InMemoryObjectStore(),
    registry: new InMemorySealRegistry(),
    events: new ArrayEventSource(events),
  };
}

const config = { ledger: LEDGER, periodSeconds: SECONDS, graceSeconds: 10, chunkLeaves: 4 };

describe('Function: lastDuePeriod', () => {
  describe('when the grace time has not passed since the period ended', () => {
    it('returns the period before', () => {
      // Prepare
      const now = T0 + 60_000 + 9_000; // 9 s after the first period ended; grace is 10 s

      // Act
      const due = lastDuePeriod(now, SECONDS, 10);

      // Assess
      expect(due.startMs).toBe(T0 - 60_000);
    });
  });

  describe('when the grace time has passed', () => {
    it('returns the period that just ended', () => {
      // Act
      const due = lastDuePeriod(T0 + 70_000, SECONDS, 10);

      // Assess
      expect(due.startMs).toBe(T0);
    });
  });
});

describe('Function: sealDuePeriods', () => {
  describe('when the ledger has no seal yet', () => {
    it('records the current period as genesis and seals nothing before its end', async () => {
      // Prepare
      const deps = await setup();

      // Act
      const sealed = await sealDuePeriods(config, { ...deps, clock: () => new Date(T0 + 5_000) });

      // Assess
      expect(sealed).toEqual([]);
      expect(deps.registry.genesis.get(LEDGER)).toEqual(periodOf(T0, SECONDS));
    });
  });

  describe('when periods with and without events are due', () => {
    it('seals every one in order, empty ones included, and the folder verifies', async () => {
      // Prepare
      const events = new Map([
        [T0, eventsIn(T0, 5)],
        [T0 + 120_000, eventsIn(T0 + 120_000, 9)],
      ]);
      const deps = await setup(events);
      await deps.registry.ensureGenesis(LEDGER, periodOf(T0, SECONDS));

      // Act
      const sealed = await sealDuePeriods(config, {
        ...deps,
        clock: () => new Date(T0 + 4 * 60_000 + 10_000),
      });

      // Assess
      expect(sealed.map((s) => [s.sequence, s.treeSize])).toEqual([
        [0, 5],
        [1, 0],
        [2, 9],
        [3, 0],
      ]);
      expect((await deps.registry.lastSeal(LEDGER))?.sequence).toBe(3);
      const report = await verifyFolder(readerOf(deps.objects), { keys: deps.keys });
      expect(report.findings).toEqual([]);
      expect(report.stats.events).toBe(14);
    });
  });

  describe('when it runs again with nothing new due', () => {
    it('seals nothing and writes nothing', async () => {
      // Prepare
      const deps = await setup(new Map([[T0, eventsIn(T0, 3)]]));
      await deps.registry.ensureGenesis(LEDGER, periodOf(T0, SECONDS));
      const clock = () => new Date(T0 + 70_000);
      await sealDuePeriods(config, { ...deps, clock });
      const before = new Map(deps.objects.objects);

      // Act
      const again = await sealDuePeriods(config, { ...deps, clock });

      // Assess
      expect(again).toEqual([]);
      expect(deps.objects.objects).toEqual(before);
    });
  });

  describe('when a crash hit between the archive writes and the registry write', () => {
    it('resumes, keeps the objects byte-identical, and loses or doubles nothing', async () => {
      // Prepare
      const events = new Map([[T0, eventsIn(T0, 10)]]);
      const deps = await setup(events);
      await deps.registry.ensureGenesis(LEDGER, periodOf(T0, SECONDS));
      let writes = 0;
      const crashing: ObjectStore = {
        putIfAbsent: async (key, body): Promise<PutOutcome> => {
          if (++writes === 4) throw new Error('crash after the archives');
          return deps.objects.putIfAbsent(key, body);
        },
        get: (key) => deps.objects.get(key),
      };
      const clock = () => new Date(T0 + 70_000);
      await expect(sealDuePeriods(config, { ...deps, objects: crashing, clock })).rejects.toThrow('crash');
      const afterCrash = new Map(deps.objects.objects);

      // Act
      const sealed = await sealDuePeriods(config, { ...deps, clock });

      // Assess
      expect(sealed).toHaveLength(1);
      for (const [key, bytes] of afterCrash) expect(deps.objects.objects.get(key)).toEqual(bytes);
      const report = await verifyFolder(readerOf(deps.objects), { keys: deps.keys });
      expect(report.valid).toBe(true);
      expect(report.stats.events).toBe(10);
    });
  });

  describe('when the signature was written but the registry write was lost', () => {
    it('accepts the existing signature and records the same head', async () => {
      // Prepare
      const deps = await setup(new Map([[T0, eventsIn(T0, 2)]]));
      await deps.registry.ensureGenesis(LEDGER, periodOf(T0, SECONDS));
      const clock = () => new Date(T0 + 70_000);
      const lossy = {
        ...deps.registry,
        ensureGenesis: deps.registry.ensureGenesis.bind(deps.registry),
        lastSeal: deps.registry.lastSeal.bind(deps.registry),
        recordSeal: async () => {
          throw new Error('lost');
        },
      };
      await expect(sealDuePeriods(config, { ...deps, registry: lossy, clock })).rejects.toThrow('lost');
      const signature = deps.objects.objects.get(digestObjectKey(LEDGER, periodOf(T0, SECONDS), 'signature'));

      // Act
      const sealed = await sealDuePeriods(config, { ...deps, clock });

      // Assess
      expect(sealed[0]?.outcome).toBe('already-sealed');
      expect(deps.objects.objects.get(digestObjectKey(LEDGER, periodOf(T0, SECONDS), 'signature'))).toEqual(
        signature,
      );
      expect((await deps.registry.lastSeal(LEDGER))?.sequence).toBe(0);
    });
  });

  describe('when two runs race on the same period', () => {
    it('both succeed and leave one valid chain', async () => {
      // Prepare
      const deps = await setup(new Map([[T0, eventsIn(T0, 7)]]));
      await deps.registry.ensureGenesis(LEDGER, periodOf(T0, SECONDS));
      const clock = () => new Date(T0 + 2 * 60_000 + 10_000);

      // Act
      const [a, b] = await Promise.all([
        sealDuePeriods(config, { ...deps, clock }),
        sealDuePeriods(config, { ...deps, clock }),
      ]);

      // Assess
      expect(a.map((s) => s.statementSha256)).toEqual(b.map((s) => s.statementSha256));
      const report = await verifyFolder(readerOf(deps.objects), { keys: deps.keys });
      expect(report.valid).toBe(true);
    });
  });
});

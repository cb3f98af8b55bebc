import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyFileSigner } from '../../../shared/crypto/key-file-signer.ts';
import { PeriodClosingError } from '../../../shared/ingest/errors.ts';
import { GenesisGuard } from '../../../shared/ingest/genesis-guard.ts';
import { ingestBatch } from '../../../shared/ingest/ingest-batch.ts';
import { digestObjectKey } from '../../../shared/ledger/object-keys.ts';
import { isoSeconds, nextPeriod, type Period, periodOf } from '../../../shared/ledger/period.ts';
import type { ChainHead } from '../../../shared/ledger/seal-period.ts';
import { type LedgerEvent, PeriodClosedError, type PeriodRow } from '../../../shared/ports/ledger-store.ts';
import type { ObjectStore, PutOutcome } from '../../../shared/ports/object-store.ts';
import type { PeriodEventSource } from '../../../shared/ports/sealing.ts';
import {
  DEFAULT_LAG_MARGIN_SECONDS,
  lastDuePeriod,
  type SealingDeps,
  sealDuePeriods,
} from '../../../shared/sealing/seal-due-periods.ts';
import { InMemoryAlarmSink } from '../../../shared/storage/in-memory-alarm-sink.ts';
import { InMemoryLedgerStore } from '../../../shared/storage/in-memory-ledger-store.ts';
import { InMemoryObjectStore } from '../../../shared/storage/in-memory-object-store.ts';
import { InMemorySealRegistry } from '../../../shared/storage/in-memory-seal-registry.ts';
import { verifyFolder } from '../../../shared/verify/verify-folder.ts';
import { appItem, ingestInto } from '../../support/ledger-table.ts';
import { MemoryReader, trustedKeysOf } from '../../support/sealed-folder.ts';

const LEDGER = 'test';
const SECONDS = 60;
const GRACE = 10;
const T0 = Date.parse('2026-11-22T10:00:00Z');
const P0 = periodOf(T0, SECONDS);

const config = { ledger: LEDGER, periodSeconds: SECONDS, graceSeconds: GRACE, chunkLeaves: 4 };

/** Records the order of the sealer's calls on the ledger table. */
class RecordingSource implements PeriodEventSource {
  readonly calls: string[] = [];
  constructor(private readonly store: InMemoryLedgerStore) {}
  async closePeriod(ledger: string, period: Period): Promise<void> {
    this.calls.push(`close ${isoSeconds(period.startMs)}`);
    await this.store.closePeriod(ledger, period);
  }
  readPeriod(ledger: string, period: Period): AsyncIterable<PeriodRow> {
    this.calls.push(`readPeriod ${isoSeconds(period.startMs)}`);
    expect(this.store.isClosed(ledger, period)).toBe(true);
    return this.store.readPeriod(ledger, period);
  }
  readPeriodBatches(ledger: string, period: Period) {
    this.calls.push(`readPeriodBatches ${isoSeconds(period.startMs)}`);
    expect(this.store.isClosed(ledger, period)).toBe(true);
    return this.store.readPeriodBatches(ledger, period);
  }
}

/** The sealer's dependencies over an in-memory table that ingest fills; `nowMs` drives both clocks. */
async function setup() {
  const signer = KeyFileSigner.generate();
  const keys = await trustedKeysOf(signer);
  const registry = new InMemorySealRegistry();
  const store = new InMemoryLedgerStore();
  const alarms = new InMemoryAlarmSink();
  const objects = new InMemoryObjectStore();
  const genesis = new GenesisGuard(registry);
  const deps: Omit<SealingDeps, 'clock'> = {
    signer,
    objects,
    registry,
    events: store,
    trustedKeys: async () => keys,
    alarms,
  };
  /** Ingests `n` app events as one request received at `atMs`. */
  const ingest = (atMs: number, n: number, prefix = `e${atMs - T0}`) =>
    ingestInto(
      store,
      signer,
      LEDGER,
      atMs,
      Array.from({ length: n }, (_, i) => appItem(`${prefix}-${i}`)),
      { periodSeconds: SECONDS, graceSeconds: GRACE, genesis },
    );
  const seal = (nowMs: number, extra: Partial<SealingDeps> = {}) =>
    sealDuePeriods(config, { ...deps, clock: () => new Date(nowMs), ...extra });
  const verify = () => verifyFolder(new MemoryReader(objects.objects), { keys });
  return { signer, keys, registry, store, alarms, objects, deps, ingest, seal, verify };
}

const period = (n: number): Period => ({ startMs: T0 + n * SECONDS * 1000, seconds: SECONDS });

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
      const s = await setup();

      // Act
      const sealed = await s.seal(T0 + 5_000);

      // Assess
      expect(sealed).toEqual([]);
      expect(s.registry.genesis.get(LEDGER)).toEqual(P0);
      expect(s.alarms.alarms.size).toBe(0);
    });
  });

  describe('when periods with and without events are due', () => {
    it('seals every one in order, empty ones included, and the folder verifies', async () => {
      // Prepare
      const s = await setup();
      await s.ingest(T0 + 1_000, 5);
      await s.ingest(T0 + 120_000 + 5_000, 9);

      // Act
      const sealed = await s.seal(T0 + 4 * 60_000 + 10_000);

      // Assess
      expect(sealed.map((p) => [p.sequence, p.treeSize])).toEqual([
        [0, 5],
        [1, 0],
        [2, 9],
        [3, 0],
      ]);
      expect(sealed.every((p) => p.provenance.excluded === 0 && p.provenance.missing === 0)).toBe(true);
      expect((await s.registry.lastSeal(LEDGER))?.sequence).toBe(3);
      const report = await s.verify();
      expect(report.findings).toEqual([]);
      expect(report.stats.events).toBe(14);
      expect(s.alarms.alarms.size).toBe(0);
    });
  });

  describe('when it runs again with nothing new due', () => {
    it('seals nothing and writes nothing', async () => {
      // Prepare
      const s = await setup();
      await s.ingest(T0 + 1_000, 3);
      await s.seal(T0 + 70_000);
      const before = new Map(s.objects.objects);
      const table = s.store.snapshot();

      // Act
      const again = await s.seal(T0 + 70_000);

      // Assess
      expect(again).toEqual([]);
      expect(s.objects.objects).toEqual(before);
      expect(s.store.snapshot()).toBe(table);
    });
  });

  describe('when a crash hit between the archive writes and the registry write', () => {
    it('resumes, keeps the objects byte-identical, and loses or doubles nothing', async () => {
      // Prepare
      const s = await setup();
      await s.ingest(T0 + 1_000, 10);
      let writes = 0;
      const crashing: ObjectStore = {
        putIfAbsent: async (key, body): Promise<PutOutcome> => {
          if (++writes === 4) throw new Error('crash after the archives');
          return s.objects.putIfAbsent(key, body);
        },
        get: (key) => s.objects.get(key),
      };
      await expect(s.seal(T0 + 70_000, { objects: crashing })).rejects.toThrow('crash');
      const afterCrash = new Map(s.objects.objects);

      // Act
      const sealed = await s.seal(T0 + 70_000);

      // Assess
      expect(sealed).toHaveLength(1);
      for (const [key, bytes] of afterCrash) expect(s.objects.objects.get(key)).toEqual(bytes);
      const report = await s.verify();
      expect(report.valid).toBe(true);
      expect(report.stats.events).toBe(10);
    });
  });

  describe('when the signature was written but the registry write was lost', () => {
    it('accepts the existing signature and records the same head', async () => {
      // Prepare
      const s = await setup();
      await s.ingest(T0 + 1_000, 2);
      const lossy = {
        ensureGenesis: s.registry.ensureGenesis.bind(s.registry),
        lastSeal: s.registry.lastSeal.bind(s.registry),
        sealsNewestFirst: s.registry.sealsNewestFirst.bind(s.registry),
        recordSeal: async () => {
          throw new Error('lost');
        },
      };
      await expect(s.seal(T0 + 70_000, { registry: lossy })).rejects.toThrow('lost');
      const signature = s.objects.objects.get(digestObjectKey(LEDGER, P0, 'signature'));

      // Act
      const sealed = await s.seal(T0 + 70_000);

      // Assess
      expect(sealed[0]?.outcome).toBe('already-sealed');
      expect(s.objects.objects.get(digestObjectKey(LEDGER, P0, 'signature'))).toEqual(signature);
      expect((await s.registry.lastSeal(LEDGER))?.sequence).toBe(0);
    });
  });

  describe('when two runs race on the same period', () => {
    it('both succeed and leave one valid chain', async () => {
      // Prepare
      const s = await setup();
      await s.ingest(T0 + 1_000, 7);

      // Act
      const [a, b] = await Promise.all([s.seal(T0 + 2 * 60_000 + 10_000), s.seal(T0 + 2 * 60_000 + 10_000)]);

      // Assess
      expect(a.map((p) => p.statementSha256)).toEqual(b.map((p) => p.statementSha256));
      const report = await s.verify();
      expect(report.valid).toBe(true);
    });
  });

  describe('when it seals a period', () => {
    it('closes the period before it reads a row or a batch of it', async () => {
      // Prepare
      const s = await setup();
      await s.ingest(T0 + 1_000, 2);
      const source = new RecordingSource(s.store);

      // Act
      await s.seal(T0 + 2 * 60_000 + 10_000, { events: source });

      // Assess
      expect(source.calls).toEqual([
        `close ${isoSeconds(period(0).startMs)}`,
        `readPeriod ${isoSeconds(period(0).startMs)}`,
        `readPeriodBatches ${isoSeconds(period(0).startMs)}`,
        `close ${isoSeconds(period(1).startMs)}`,
        `readPeriod ${isoSeconds(period(1).startMs)}`,
        `readPeriodBatches ${isoSeconds(period(1).startMs)}`,
      ]);
    });

    it('refuses every later write into it with PeriodClosedError, storing no event', async () => {
      // Prepare
      const s = await setup();
      await s.ingest(T0 + 1_000, 2);
      await s.seal(T0 + 70_000);
      const late = (await s.store.getEvent(LEDGER, 'e1000-0'))!;
      const seal = s.store.batchSeal(LEDGER, late.batchId)!;
      const event: LedgerEvent = {
        id: 'late-1',
        receivedAt: late.receivedAt,
        period: P0,
        bytes: late.bytes,
        leafHash: late.leafHash,
        batchId: 'late-batch',
        inputSha256: late.inputSha256,
        receipt: late.receipt,
        index: { actorId: 'a', action: 'b', outcome: 'success' },
      };
      const eventsBefore = s.store.eventCount;

      // Act
      const error = await s.store
        .putBatch({ ...seal, batchId: 'late-batch' }, [event])
        .catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(PeriodClosedError);
      expect((error as PeriodClosedError).stored).toEqual([]);
      expect(s.store.eventCount).toBe(eventsBefore);
      expect(await s.store.getEvent(LEDGER, 'late-1')).toBeUndefined();
      expect(s.store.isClosed(LEDGER, nextPeriod(P0))).toBe(false);
    });
  });

  describe('when the registry holds a forged row for a period in the year 9999', () => {
    it('refuses it with a HEAD_REFUSED alarm and keeps sealing on time (regression: sealing stopped silently)', async () => {
      // Prepare
      const s = await setup();
      await s.ingest(T0 + 1_000, 3);
      await s.seal(T0 + 70_000);
      const far: Period = { startMs: Date.parse('9999-12-31T23:59:00Z'), seconds: SECONDS };
      s.registry.forgeForTest({
        ledger: LEDGER,
        period: far,
        sequence: 1_000_000,
        digestKey: digestObjectKey(LEDGER, far, 'digest'),
        statementSha256: 'ab'.repeat(32),
      });
      await s.ingest(T0 + 61_000, 4);

      // Act
      const sealed = await s.seal(T0 + 2 * 60_000 + 10_000);
      const later = await s.seal(T0 + 3 * 60_000 + 10_000);

      // Assess
      expect(sealed.map((p) => [isoSeconds(p.period.startMs), p.sequence, p.treeSize])).toEqual([
        [isoSeconds(period(1).startMs), 1, 4],
      ]);
      expect(later.map((p) => p.sequence)).toEqual([2]);
      const refused = [...s.alarms.alarms.values()].filter((a) => a.kind === 'HEAD_REFUSED');
      expect(refused).toEqual([
        expect.objectContaining({
          period: '9999-12-31T23:59:00Z',
          eventName: 'NONE',
          detail: expect.stringContaining('not ended'),
        }),
      ]);
      expect((await s.verify()).findings).toEqual([]);
    });
  });

  describe('when the registry holds a row that no signed statement backs', () => {
    it('refuses it with a HEAD_REFUSED alarm and seals that period from the last signed head', async () => {
      // Prepare
      const s = await setup();
      await s.ingest(T0 + 1_000, 3);
      const [first] = await s.seal(T0 + 70_000);
      const forged: ChainHead = {
        ledger: LEDGER,
        period: period(1),
        sequence: 1,
        digestKey: digestObjectKey(LEDGER, period(1), 'digest'),
        statementSha256: 'cd'.repeat(32),
      };
      s.registry.forgeForTest(forged);
      await s.ingest(T0 + 61_000, 2);

      // Act
      const sealed = await s.seal(T0 + 3 * 60_000 + 10_000);

      // Assess
      // The forged row would have made the sealer skip period 1 and lose its events.
      expect(sealed.map((p) => [p.sequence, p.treeSize])).toEqual([
        [1, 2],
        [2, 0],
      ]);
      expect(sealed[0]!.statement.previousStatementSha256).toBe(first!.statementSha256);
      const refused = [...s.alarms.alarms.values()].filter((a) => a.kind === 'HEAD_REFUSED');
      expect(refused).toEqual([
        expect.objectContaining({
          period: isoSeconds(period(1).startMs),
          detail: expect.stringContaining('no signed statement'),
        }),
      ]);
      const report = await s.verify();
      expect(report.findings).toEqual([]);
      expect(report.stats.events).toBe(5);
    });
  });

  describe('when a registry row names a real statement with another hash', () => {
    it('refuses it too: only the signed statement is trusted', async () => {
      // Prepare
      const s = await setup();
      await s.ingest(T0 + 1_000, 1);
      const [first] = await s.seal(T0 + 70_000);
      s.registry.seals.set(LEDGER, [{ ...first!, sequence: 41, statementSha256: 'ef'.repeat(32) }]);

      // Act
      const sealed = await s.seal(T0 + 2 * 60_000 + 10_000);

      // Assess
      // No trusted head: the chain restarts at the genesis, whose objects exist and are accepted as is.
      expect(sealed.map((p) => [p.sequence, p.outcome])).toEqual([
        [0, 'already-sealed'],
        [1, 'created'],
      ]);
      expect([...s.alarms.alarms.values()].map((a) => [a.kind, a.period])).toContainEqual([
        'HEAD_REFUSED',
        isoSeconds(P0.startMs),
      ]);
      expect((await s.verify()).findings).toEqual([]);
    });
  });

  describe('when the sealer cannot seal (the object store fails)', () => {
    const failing: ObjectStore = {
      putIfAbsent: async () => Promise.reject(new Error('S3 unavailable')),
      get: async () => undefined,
    };

    it('raises SEALING_LAG once the oldest unsealed period is past its grace plus the margin', async () => {
      // Prepare
      const s = await setup();
      await s.ingest(T0 + 1_000, 1);
      const late = T0 + (SECONDS + GRACE + DEFAULT_LAG_MARGIN_SECONDS) * 1000 + 1;

      // Act
      await expect(s.seal(late, { objects: failing })).rejects.toThrow('S3 unavailable');

      // Assess
      const lag = [...s.alarms.alarms.values()].filter((a) => a.kind === 'SEALING_LAG');
      expect(lag).toEqual([
        expect.objectContaining({
          period: isoSeconds(P0.startMs),
          eventName: 'NONE',
          detail: expect.stringContaining('not sealed'),
        }),
      ]);
    });

    it('raises nothing while the period is still within its grace plus the margin', async () => {
      // Prepare
      const s = await setup();
      await s.ingest(T0 + 1_000, 1);
      const onTime = T0 + (SECONDS + GRACE + DEFAULT_LAG_MARGIN_SECONDS) * 1000;

      // Act
      await expect(s.seal(onTime, { objects: failing })).rejects.toThrow('S3 unavailable');

      // Assess
      expect(s.alarms.alarms.size).toBe(0);
    });
  });

  describe('when rows were changed in the table before sealing', () => {
    it('seals the untouched events, excludes the rest with evidence, and raises SEALING_EXCLUSION alarms', async () => {
      // Prepare
      const s = await setup();
      await s.ingest(T0 + 1_000, 4);
      const edited = (await s.store.getEvent(LEDGER, 'e1000-1'))!;
      s.store.tamper.editBytes(
        LEDGER,
        'e1000-1',
        Buffer.from(Buffer.from(edited.bytes).toString().replace('ssh.login', 'ssh.logout')),
      );
      s.store.tamper.deleteEvent(LEDGER, 'e1000-2');
      s.store.tamper.insertMalformed(LEDGER, P0, `${edited.receivedAt}#zzz`, 'body is not binary');

      // Act
      const [sealed] = await s.seal(T0 + 70_000);

      // Assess
      expect(sealed!.treeSize).toBe(2);
      expect(sealed!.provenance).toMatchObject({ excluded: 2, missing: 2 });
      const alarms = [...s.alarms.alarms.values()].filter((a) => a.kind === 'SEALING_EXCLUSION');
      // The edited event (its excluded row and its missing signed leaf), the deleted one, the poison row.
      expect(alarms.map((a) => a.eventId ?? a.sk).sort()).toEqual([
        `${edited.receivedAt}#zzz`,
        'e1000-1',
        'e1000-1',
        'e1000-2',
      ]);
      expect(alarms.every((a) => a.period === isoSeconds(P0.startMs))).toBe(true);
      const codes = (await s.verify()).findings.map((f) => f.code).sort();
      expect(codes).toEqual(['BATCH_LEAF_MISSING', 'BATCH_LEAF_MISSING', 'EVENT_EXCLUDED', 'EVENT_EXCLUDED']);
    });
  });

  describe('when an ingest is slowed between its write transactions and the sealer runs in between', () => {
    it('never acknowledges an event it does not seal: each is sealed, or refused with 503 and the exact stored ids', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 9 }),
          fc.integer({ min: 1, max: 4 }),
          fc.integer({ min: 0, max: 5 }),
          async (events, perGroup, slowGroup) => {
            // Prepare
            const now = { ms: T0 + 59_000 };
            const signer = KeyFileSigner.generate();
            const keys = await trustedKeysOf(signer);
            const registry = new InMemorySealRegistry();
            const objects = new InMemoryObjectStore();
            const alarms = new InMemoryAlarmSink();
            let group = 0;
            let sealRuns = 0;
            const store: InMemoryLedgerStore = new InMemoryLedgerStore({
              eventsPerGroup: perGroup,
              // Group `slowGroup` takes 20 s to commit; the sealer runs meanwhile, on time.
              beforeGroup: async () => {
                if (group++ !== slowGroup) return;
                now.ms = T0 + (SECONDS + GRACE) * 1000 + 10_000;
                sealRuns++;
                await sealDuePeriods(config, {
                  signer,
                  objects,
                  registry,
                  events: store,
                  trustedKeys: async () => keys,
                  alarms,
                  clock: () => new Date(now.ms),
                });
              },
            });
            await registry.ensureGenesis(LEDGER, P0);
            const items = Array.from({ length: events }, (_, i) => appItem(`slow-${i}`));

            // Act
            const outcome = await ingestBatch(
              { ledger: LEDGER, items, channel: 'api', principal: 'p', requestId: 'r' },
              {
                store,
                signer,
                clock: () => new Date(now.ms),
                periodSeconds: SECONDS,
                graceSeconds: GRACE,
                batchIdFactory: () => 'slow-batch',
                genesis: new GenesisGuard(registry),
              },
            ).then(
              (result) => ({ status: result.status as number, stored: [...result.stored] }),
              (error: unknown) => {
                if (!(error instanceof PeriodClosingError)) throw error;
                return { status: error.status as number, stored: [...error.stored] };
              },
            );
            now.ms = T0 + (SECONDS + GRACE) * 1000 + 20_000;
            await sealDuePeriods(config, {
              signer,
              objects,
              registry,
              events: store,
              trustedKeys: async () => keys,
              alarms,
              clock: () => new Date(now.ms),
            });

            // Assess
            const archived = [...objects.objects.entries()]
              .filter(([key]) => /\/\d{6}\.jsonl$/.test(key))
              .flatMap(([, body]) =>
                Buffer.from(body)
                  .toString('utf8')
                  .split('\n')
                  .filter((l) => l !== '')
                  .map((l) => (JSON.parse(l) as { id: string }).id),
              )
              .sort();
            const acknowledged = [...outcome.stored].sort();
            // Acknowledged (201, or listed as stored in the 503) is exactly what the sealed period holds.
            expect(archived).toEqual(acknowledged);
            if (sealRuns > 0) expect(outcome.status).toBe(503);
            else expect(outcome.status).toBe(201);
            // Nothing acknowledged is missing, altered or unsigned in the sealed folder. Known limit: the
            // request's batch seal is stored before its first transaction, so the leaves of the events
            // refused after the close show as BATCH_LEAF_MISSING (signed, never acknowledged, not sealed).
            const report = await verifyFolder(new MemoryReader(objects.objects), { keys });
            for (const finding of report.findings) {
              expect(finding.code).toBe('BATCH_LEAF_MISSING');
              expect(acknowledged).not.toContain(finding.eventId);
            }
          },
        ),
        { numRuns: 40 },
      );
    });
  });
});

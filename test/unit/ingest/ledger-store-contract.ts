/**
 * The `LedgerStore` contract, run against the in-memory fake (unit) and the DynamoDB adapter on
 * DynamoDB Local (integration), so that both keep the same semantics: put-only, atomic groups (50 events
 * in memory, 49 on DynamoDB), exact `stored` lists, period order, batch seals read back by period, and
 * closed periods refusing every later transaction.
 */
import { describe, expect, it } from 'vitest';
import type { Period } from '../../../shared/ledger/period.ts';
import {
  type BatchSeal,
  BatchSealConflictError,
  EventIdsTakenError,
  type LedgerStore,
  type MalformedRow,
  PeriodClosedError,
  type PeriodEvent,
  WriteStoppedError,
} from '../../../shared/ports/ledger-store.ts';
import { DEFAULT_EVENTS_PER_GROUP } from '../../../shared/storage/in-memory-ledger-store.ts';
import { LEDGER, ledgerEvent, PERIOD, RECEIVED_AT, SEAL } from '../adapters/ledger-fixtures.ts';

/** Every row of the period; the contract's stores hold no malformed row, so any is a failure. */
async function readAll(store: LedgerStore, ledger: string, period = PERIOD): Promise<PeriodEvent[]> {
  const events: PeriodEvent[] = [];
  for await (const row of store.readPeriod(ledger, period)) {
    if ((row as MalformedRow).malformed) throw new Error(`malformed row: ${JSON.stringify(row)}`);
    events.push(row as PeriodEvent);
  }
  return events;
}

async function readBatches(
  store: LedgerStore,
  ledger: string,
  period: Period = PERIOD,
): Promise<BatchSeal[]> {
  const batches: BatchSeal[] = [];
  for await (const row of store.readPeriodBatches(ledger, period)) {
    if ((row as MalformedRow).malformed) throw new Error(`malformed batch row: ${JSON.stringify(row)}`);
    batches.push(row as BatchSeal);
  }
  return batches;
}

/**
 * Registers the contract tests; `fresh` returns an empty store and a ledger id unique to the test.
 * `eventsPerGroup` is the store's atomic group size (DynamoDB: MAX_EVENTS_PER_TRANSACTION).
 */
export function ledgerStoreContract(
  name: string,
  fresh: () => Promise<{ store: LedgerStore; ledger: string }>,
  options: { eventsPerGroup?: number } = {},
): void {
  const groupSize = options.eventsPerGroup ?? DEFAULT_EVENTS_PER_GROUP;
  const sealFor = (ledger: string, batchId = 'b1'): BatchSeal => ({ ...SEAL, ledger, batchId });

  describe(`LedgerStore contract: ${name}`, () => {
    describe('Method: putBatch', () => {
      it('stores events with their id records, readable by id and by period', async () => {
        // Prepare
        const { store, ledger } = await fresh();
        const events = [ledgerEvent(1), ledgerEvent(2)];

        // Act
        await store.putBatch(sealFor(ledger), events);

        // Assess
        const found = await store.findEventIds(ledger, ['app-1', 'app-2', 'app-3']);
        expect([...found.keys()].sort()).toEqual(['app-1', 'app-2']);
        expect(found.get('app-1')).toEqual({
          id: 'app-1',
          inputSha256: events[0]!.inputSha256,
          receivedAt: events[0]!.receivedAt,
          receipt: events[0]!.receipt,
        });
        const event = await store.getEvent(ledger, 'app-2');
        expect(Buffer.from(event!.bytes).equals(Buffer.from(events[1]!.bytes))).toBe(true);
        expect(Buffer.from(event!.leafHash).equals(Buffer.from(events[1]!.leafHash))).toBe(true);
        expect(event!.batchId).toBe('b1');
        expect(await store.getEvent(ledger, 'app-3')).toBeUndefined();
      });

      it('accepts the same seal again (a retried call) and stores the remaining events', async () => {
        // Prepare
        const { store, ledger } = await fresh();
        await store.putBatch(sealFor(ledger), [ledgerEvent(1)]);

        // Act
        await store.putBatch(sealFor(ledger), [ledgerEvent(2)]);

        // Assess
        expect((await readAll(store, ledger)).map((e) => e.id)).toEqual(['app-1', 'app-2']);
      });

      describe('when a different seal uses the batch id', () => {
        it('throws BatchSealConflictError', async () => {
          // Prepare
          const { store, ledger } = await fresh();
          await store.putBatch(sealFor(ledger), [ledgerEvent(1)]);

          // Act
          const error = await store
            .putBatch({ ...sealFor(ledger), statement: '{"other":true}' }, [ledgerEvent(2)])
            .catch((e: unknown) => e);

          // Assess
          expect(error).toBeInstanceOf(BatchSealConflictError);
          expect(await store.getEvent(ledger, 'app-2')).toBeUndefined();
        });
      });

      describe('when an id exists', () => {
        it('never overwrites, names the taken id with its record, and reports the groups stored before', async () => {
          // Prepare
          const { store, ledger } = await fresh();
          const original = ledgerEvent(55);
          await store.putBatch(sealFor(ledger, 'first'), [original]);
          const second = Array.from({ length: 60 }, (_, i) => ({
            ...ledgerEvent(i),
            inputSha256: 'cd'.repeat(32),
            batchId: 'second',
          }));

          // Act
          const error = (await store
            .putBatch(sealFor(ledger, 'second'), second)
            .catch((e: unknown) => e)) as EventIdsTakenError;

          // Assess
          expect(error).toBeInstanceOf(EventIdsTakenError);
          expect(error.taken).toEqual(['app-55']);
          expect(error.stored).toEqual(second.slice(0, groupSize).map((e) => e.id));
          const existing =
            error.existing.get('app-55') ?? (await store.findEventIds(ledger, ['app-55'])).get('app-55');
          expect(existing?.inputSha256).toBe(original.inputSha256);
          // The whole failing group is absent; the original is untouched.
          const ids = (await readAll(store, ledger)).map((e) => e.id);
          expect(ids).toHaveLength(groupSize + 1);
          expect(ids).not.toContain('app-50');
          expect((await store.getEvent(ledger, 'app-55'))!.batchId).toBe('b1');
        });
      });
    });

    describe('Method: readPeriod', () => {
      it('yields only the period’s events, ordered by receivedAt then id', async () => {
        // Prepare
        const { store, ledger } = await fresh();
        const at = (s: string) => `2026-11-22T21:${s}Z`;
        const events = [
          ledgerEvent(10, { receivedAt: at('59:59.999') }),
          ledgerEvent(2, { receivedAt: at('00:00.000') }),
          ledgerEvent(1, { receivedAt: at('00:00.000') }),
          ledgerEvent(30, { receivedAt: at('30:00.000') }),
          ledgerEvent(3, { receivedAt: at('00:00.001') }),
        ];
        const nextPeriod = {
          ...ledgerEvent(4, { receivedAt: '2026-11-22T22:00:00.000Z' }),
          period: { startMs: PERIOD.startMs + 3_600_000, seconds: 3600 },
        };

        // Act
        await store.putBatch(sealFor(ledger), [...events, nextPeriod]);

        // Assess
        const read = await readAll(store, ledger);
        expect(read.map((e) => e.id)).toEqual(['app-1', 'app-2', 'app-3', 'app-30', 'app-10']);
        expect(read[0]!.receivedAt).toBe(at('00:00.000'));
        // Each row names the batch it claims, for the sealer's provenance check.
        expect(read.map((e) => e.batchId)).toEqual(['b1', 'b1', 'b1', 'b1', 'b1']);
        expect(Buffer.from(read[0]!.bytes).equals(Buffer.from(events[2]!.bytes))).toBe(true);
        expect((await readAll(store, ledger, nextPeriod.period)).map((e) => e.id)).toEqual(['app-4']);
        expect(await readAll(store, LEDGER === ledger ? 'other-ledger' : LEDGER)).toEqual([]);
      });
    });

    describe('Method: readPeriodBatches', () => {
      it('yields the period’s batch seals with their leaves, ordered by receivedAt then batch id', async () => {
        // Prepare
        const { store, ledger } = await fresh();
        const late = '2026-11-22T21:30:00.000Z';
        const nextHour = '2026-11-22T22:00:00.000Z';
        const sealAt = (batchId: string, receivedAt: string, n: number): BatchSeal => ({
          ...sealFor(ledger, batchId),
          receivedAt,
          size: 1,
          leaves: [{ eventId: `app-${n}`, receivedAt, leafHash: ledgerEvent(n, { receivedAt }).leafHash }],
        });
        const inPeriod = (n: number, receivedAt: string) => ledgerEvent(n, { receivedAt });

        // Act
        await store.putBatch(sealAt('zz', late, 7), [{ ...inPeriod(7, late), batchId: 'zz' }]);
        await store.putBatch(sealAt('b2', RECEIVED_AT, 3), [{ ...inPeriod(3, RECEIVED_AT), batchId: 'b2' }]);
        await store.putBatch(sealAt('b1', RECEIVED_AT, 1), [inPeriod(1, RECEIVED_AT)]);
        await store.putBatch(sealAt('b3', nextHour, 4), [
          {
            ...inPeriod(4, nextHour),
            batchId: 'b3',
            period: { startMs: PERIOD.startMs + 3_600_000, seconds: 3600 },
          },
        ]);

        // Assess
        const read = await readBatches(store, ledger);
        expect(read.map((b) => [b.receivedAt, b.batchId])).toEqual([
          [RECEIVED_AT, 'b1'],
          [RECEIVED_AT, 'b2'],
          [late, 'zz'],
        ]);
        const first = read[0]!;
        expect(first.statement).toBe(SEAL.statement);
        expect(Buffer.from(first.signature).equals(Buffer.from(SEAL.signature))).toBe(true);
        expect(
          first.leaves.map((l) => [l.eventId, l.receivedAt, Buffer.from(l.leafHash).toString('hex')]),
        ).toEqual([['app-1', RECEIVED_AT, Buffer.from(ledgerEvent(1).leafHash).toString('hex')]]);
        const next = await readBatches(store, ledger, { startMs: PERIOD.startMs + 3_600_000, seconds: 3600 });
        expect(next.map((b) => b.batchId)).toEqual(['b3']);
      });
    });

    describe('Method: closePeriod', () => {
      describe('when the period is closed before a write', () => {
        it('refuses the write with PeriodClosedError, stores no event, and leaves other periods open', async () => {
          // Prepare
          const { store, ledger } = await fresh();
          await store.putBatch(sealFor(ledger), [ledgerEvent(1)]);
          await store.closePeriod(ledger, PERIOD);
          await store.closePeriod(ledger, PERIOD); // closing twice is a no-op

          // Act
          const error = await store
            .putBatch(sealFor(ledger, 'late'), [{ ...ledgerEvent(2), batchId: 'late' }])
            .catch((e: unknown) => e);

          // Assess
          expect(error).toBeInstanceOf(PeriodClosedError);
          expect((error as PeriodClosedError).stored).toEqual([]);
          expect((await readAll(store, ledger)).map((e) => e.id)).toEqual(['app-1']);
          expect(await store.findEventIds(ledger, ['app-2'])).toEqual(new Map());
          const nextAt = '2026-11-22T22:00:00.001Z';
          const next = { ...ledgerEvent(3, { receivedAt: nextAt }), batchId: 'next' };
          await store.putBatch({ ...sealFor(ledger, 'next'), receivedAt: nextAt }, [
            { ...next, period: { startMs: PERIOD.startMs + 3_600_000, seconds: 3600 } },
          ]);
          expect(await store.getEvent(ledger, 'app-3')).toBeDefined();
        });
      });
    });

    describe('Method: putBatch with a guard', () => {
      describe('when the guard throws before the second transaction', () => {
        it('stops there with WriteStoppedError naming exactly the first group', async () => {
          // Prepare
          const { store, ledger } = await fresh();
          const events = Array.from({ length: groupSize + 5 }, (_, i) => ledgerEvent(i + 1));
          let calls = 0;
          const guard = (): void => {
            calls++;
            if (calls === 2) throw new Error('deadline passed');
          };

          // Act
          const error = await store.putBatch(sealFor(ledger), events, guard).catch((e: unknown) => e);

          // Assess
          expect(error).toBeInstanceOf(WriteStoppedError);
          expect((error as WriteStoppedError).stored).toEqual(events.slice(0, groupSize).map((e) => e.id));
          expect(((error as WriteStoppedError).cause as Error).message).toBe('deadline passed');
          expect((await readAll(store, ledger)).map((e) => e.id).sort()).toEqual(
            events
              .slice(0, groupSize)
              .map((e) => e.id)
              .sort(),
          );
        });
      });
    });

    describe('Method: recordSecuritySignal', () => {
      it('records two signals for the same instant without a collision', async () => {
        // Prepare
        const { store, ledger } = await fresh();
        const signal = {
          ledger,
          kind: 'ID_CONFLICT' as const,
          at: '2026-11-22T21:10:00.000Z',
          principal: 'p',
          requestId: 'r',
          channel: 'api',
          conflicts: [{ eventId: 'a', storedInputSha256: 'aa', attemptedInputSha256: 'bb' }],
        };

        // Act
        const both = Promise.all([store.recordSecuritySignal(signal), store.recordSecuritySignal(signal)]);

        // Assess
        await expect(both).resolves.toBeDefined();
      });
    });
  });
}

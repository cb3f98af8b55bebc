/**
 * The `LedgerStore` contract, run against the in-memory fake (unit) and the DynamoDB adapter on
 * DynamoDB Local (integration), so that both keep the same semantics: put-only, atomic groups of 50,
 * exact `stored` lists, period order.
 */
import { describe, expect, it } from 'vitest';
import {
  type BatchSeal,
  BatchSealConflictError,
  EventIdsTakenError,
  type LedgerStore,
} from '../../../shared/ports/ledger-store.ts';
import { LEDGER, ledgerEvent, PERIOD, SEAL } from '../adapters/ledger-fixtures.ts';

async function readAll(store: LedgerStore, ledger: string, period = PERIOD) {
  const events = [];
  for await (const event of store.readPeriod(ledger, period)) events.push(event);
  return events;
}

/** Registers the contract tests; `fresh` returns an empty store and a ledger id unique to the test. */
export function ledgerStoreContract(
  name: string,
  fresh: () => Promise<{ store: LedgerStore; ledger: string }>,
): void {
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
          expect(error.stored).toEqual(second.slice(0, 50).map((e) => e.id));
          const existing =
            error.existing.get('app-55') ?? (await store.findEventIds(ledger, ['app-55'])).get('app-55');
          expect(existing?.inputSha256).toBe(original.inputSha256);
          // The whole failing group of ten is absent; the original is untouched.
          const ids = (await readAll(store, ledger)).map((e) => e.id);
          expect(ids).toHaveLength(51);
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
        expect((await readAll(store, ledger, nextPeriod.period)).map((e) => e.id)).toEqual(['app-4']);
        expect(await readAll(store, LEDGER === ledger ? 'other-ledger' : LEDGER)).toEqual([]);
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

import { describe, expect, it } from 'vitest';
import { PeriodClosedError, type PeriodRow } from '../../../shared/ports/ledger-store.ts';
import { InMemoryLedgerStore } from '../../../shared/storage/in-memory-ledger-store.ts';
import { LEDGER, ledgerEvent, PERIOD, RECEIVED_AT, SEAL } from '../adapters/ledger-fixtures.ts';
import { ledgerStoreContract } from './ledger-store-contract.ts';

async function rows(store: InMemoryLedgerStore): Promise<PeriodRow[]> {
  const out: PeriodRow[] = [];
  for await (const row of store.readPeriod(LEDGER, PERIOD)) out.push(row);
  return out;
}

ledgerStoreContract('InMemoryLedgerStore', async () => ({
  store: new InMemoryLedgerStore(),
  ledger: LEDGER,
}));

describe('Class: InMemoryLedgerStore', () => {
  describe('Method: getEvent', () => {
    it('returns copies, so callers cannot change stored bytes', async () => {
      // Prepare
      const store = new InMemoryLedgerStore();
      await store.putBatch(SEAL, [ledgerEvent(1)]);
      const first = await store.getEvent(LEDGER, 'app-1');

      // Act
      first!.bytes.fill(0);

      // Assess
      const again = await store.getEvent(LEDGER, 'app-1');
      expect(Buffer.from(again!.bytes).equals(Buffer.from(ledgerEvent(1).bytes))).toBe(true);
    });
  });

  describe('Method: putBatch', () => {
    describe('when the period is closed between two transactions of one batch', () => {
      it('refuses the second transaction atomically and names exactly the first group as stored', async () => {
        // Prepare
        const store = new InMemoryLedgerStore({
          eventsPerGroup: 2,
          beforeGroup: async (group, self) => {
            if (group[0]!.id === 'app-3') await self.closePeriod(LEDGER, PERIOD);
          },
        });
        const events = [1, 2, 3, 4].map((n) => ledgerEvent(n));

        // Act
        const error = await store.putBatch(SEAL, events).catch((e: unknown) => e);

        // Assess
        expect(error).toBeInstanceOf(PeriodClosedError);
        expect((error as PeriodClosedError).stored).toEqual(['app-1', 'app-2']);
        expect(store.isClosed(LEDGER, PERIOD)).toBe(true);
        expect((await rows(store)).map((r) => ('id' in r ? r.id : 'malformed'))).toEqual(['app-1', 'app-2']);
      });
    });
  });

  describe('Property: tamper', () => {
    it('plays an attacker with table access: edits, deletes, inserts and poison rows show in the period read', async () => {
      // Prepare
      const store = new InMemoryLedgerStore();
      await store.putBatch(SEAL, [ledgerEvent(1), ledgerEvent(2), ledgerEvent(3)]);
      const forged = ledgerEvent(9, { receivedAt: '2026-11-22T21:20:00.000Z' });

      // Act
      store.tamper.editBytes(LEDGER, 'app-1', Buffer.from('{"edited":true}'));
      store.tamper.deleteEvent(LEDGER, 'app-2');
      store.tamper.insertEvent(LEDGER, { ...forged, batchId: 'b1' });
      store.tamper.insertMalformed(LEDGER, PERIOD, `${RECEIVED_AT}#app-1~`, 'body is not bytes');
      store.tamper.insertBatch({ ...SEAL, batchId: 'forged' });

      // Assess
      const read = await rows(store);
      expect(read.map((r) => ('malformed' in r ? `malformed:${r.reason}` : r.id))).toEqual([
        'app-1',
        'malformed:body is not bytes',
        'app-3',
        'app-9',
      ]);
      const first = read[0]!;
      expect('bytes' in first && Buffer.from(first.bytes).toString()).toBe('{"edited":true}');
      expect(read[3]).toMatchObject({ batchId: 'b1', item: { sk: `2026-11-22T21:20:00.000Z#app-9` } });
      const batches = [];
      for await (const b of store.readPeriodBatches(LEDGER, PERIOD)) batches.push(b);
      expect(batches.map((b) => ('batchId' in b ? b.batchId : 'malformed'))).toEqual(['b1', 'forged']);
      expect(() => store.tamper.deleteEvent(LEDGER, 'app-2')).toThrow(/no event app-2/);
    });
  });

  describe('Method: snapshot', () => {
    it('changes with every write and only then', async () => {
      // Prepare
      const store = new InMemoryLedgerStore();
      const empty = store.snapshot();

      // Act
      await store.findEventIds(LEDGER, ['app-1']);
      const afterRead = store.snapshot();
      await store.putBatch(SEAL, [ledgerEvent(1)]);

      // Assess
      expect(afterRead).toBe(empty);
      expect(store.snapshot()).not.toBe(empty);
    });
  });
});

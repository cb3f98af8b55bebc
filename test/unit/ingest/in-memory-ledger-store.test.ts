import { describe, expect, it } from 'vitest';
import { InMemoryLedgerStore } from '../../../shared/storage/in-memory-ledger-store.ts';
import { LEDGER, ledgerEvent, SEAL } from '../adapters/ledger-fixtures.ts';
import { ledgerStoreContract } from './ledger-store-contract.ts';

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

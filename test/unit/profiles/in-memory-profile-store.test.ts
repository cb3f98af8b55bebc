import { describe, expect, it } from 'vitest';
import { InMemoryProfileStore } from '../../../shared/storage/in-memory-profile-store.ts';
import { chainOf, INSTANCE_ARN } from './profile-fixtures.ts';
import { profileStoreContract } from './profile-store-contract.ts';

profileStoreContract('InMemoryProfileStore', async () => new InMemoryProfileStore());

describe('Class: InMemoryProfileStore', () => {
  describe('Method: getVersion', () => {
    it('returns copies, so callers cannot change stored bytes', async () => {
      // Prepare
      const store = new InMemoryProfileStore();
      const [v1] = chainOf([0]);
      await store.putVersion(v1!);
      const first = await store.getVersion(INSTANCE_ARN, 1);

      // Act
      first!.bytes.fill(0);

      // Assess
      const again = await store.getVersion(INSTANCE_ARN, 1);
      expect(Buffer.from(again!.bytes).equals(Buffer.from(v1!.bytes))).toBe(true);
    });
  });

  describe('Method: listByTime', () => {
    describe('when the limit is out of range', () => {
      it('throws RangeError', async () => {
        // Prepare
        const store = new InMemoryProfileStore();

        // Assess
        await expect(store.listByTime(INSTANCE_ARN, { limit: 0 })).rejects.toThrow(RangeError);
        await expect(store.listByTime(INSTANCE_ARN, { limit: 1001 })).rejects.toThrow(RangeError);
      });
    });
  });
});

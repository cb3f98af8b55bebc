/**
 * The `ProfileStore` contract. The in-memory fake runs it here; the DynamoDB adapter, when it comes,
 * must run the same function against DynamoDB Local, so both keep the same semantics: put-only,
 * exactly one winner for position n+1, the loser told the current head, time-ordered reads.
 */
import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../../../shared/events/json-guard.ts';
import { type ProfileStore, ProfileVersionConflictError } from '../../../shared/ports/profile-store.ts';
import { parseProfile } from '../../../shared/profiles/profile.ts';
import { createVersion, type ProfileVersion } from '../../../shared/profiles/version.ts';
import { chainOf, INSTANCE_ARN, minute, profileInput } from './profile-fixtures.ts';

async function conflictOf(promise: Promise<unknown>): Promise<ProfileVersionConflictError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error instanceof ProfileVersionConflictError) return error;
  throw new Error(`expected ProfileVersionConflictError, got ${String(error)}`);
}

async function putAll(store: ProfileStore, versions: readonly ProfileVersion[]): Promise<void> {
  for (const v of versions) await store.putVersion(v);
}

/** Registers the contract tests; `fresh` returns an empty store. */
export function profileStoreContract(name: string, fresh: () => Promise<ProfileStore>): void {
  describe(`ProfileStore contract: ${name}`, () => {
    describe('Method: putVersion', () => {
      it('stores a chain readable by position, by content, by time and as the head', async () => {
        // Prepare
        const store = await fresh();
        const chain = chainOf([10, 20, 30]);

        // Act
        await putAll(store, chain);

        // Assess
        expect((await store.head(INSTANCE_ARN))?.hash).toBe(chain[2]!.hash);
        expect((await store.getVersion(INSTANCE_ARN, 2))?.hash).toBe(chain[1]!.hash);
        expect(await store.getVersion(INSTANCE_ARN, 4)).toBeUndefined();
        expect((await store.findByContent(INSTANCE_ARN, chain[0]!.contentHash))?.n).toBe(1);
        expect((await store.versionAt(INSTANCE_ARN, minute(25)))?.n).toBe(2);
        expect(await store.versionAt(INSTANCE_ARN, minute(9))).toBeUndefined();
        const stored = await store.getVersion(INSTANCE_ARN, 1);
        expect(Buffer.from(stored!.bytes).equals(Buffer.from(chain[0]!.bytes))).toBe(true);
      });

      describe('when position n is already taken', () => {
        it('throws VERSION_TAKEN with the current head and never overwrites', async () => {
          // Prepare
          const store = await fresh();
          const chain = chainOf([10, 20]);
          await putAll(store, chain);
          const rival = createVersion(parseProfile(profileInput(minute(21), { rival: true })), {
            n: 2,
            previousHash: chain[0]!.hash,
            recordedAt: '2026-11-23T00:00:09.000Z',
          });

          // Act
          const error = await conflictOf(store.putVersion(rival));

          // Assess
          expect(error.reason).toBe('VERSION_TAKEN');
          expect(error.attempted).toBe(2);
          expect(error.current?.hash).toBe(chain[1]!.hash);
          expect((await store.getVersion(INSTANCE_ARN, 2))?.hash).toBe(chain[1]!.hash);
        });
      });

      describe('when the version skips a position or names another previous hash', () => {
        it('throws PREVIOUS_MISMATCH and stores nothing', async () => {
          // Prepare
          const store = await fresh();
          const chain = chainOf([10, 20, 30]);
          await store.putVersion(chain[0]!);
          const wrongPrevious = createVersion(parseProfile(profileInput(minute(20), { step: 2 })), {
            n: 2,
            previousHash: 'ab'.repeat(32),
            recordedAt: chain[1]!.recordedAt,
          });

          // Act
          const skipped = await conflictOf(store.putVersion(chain[2]!));
          const mismatched = await conflictOf(store.putVersion(wrongPrevious));

          // Assess
          expect(skipped.reason).toBe('PREVIOUS_MISMATCH');
          expect(mismatched.reason).toBe('PREVIOUS_MISMATCH');
          expect((await store.head(INSTANCE_ARN))?.n).toBe(1);
        });
      });

      describe('when a version with the same content exists', () => {
        it('throws CONTENT_EXISTS naming it', async () => {
          // Prepare
          const store = await fresh();
          const [v1] = chainOf([10]);
          await store.putVersion(v1!);
          const again = createVersion(parseProfile(profileInput(minute(10), { step: 1 })), {
            n: 2,
            previousHash: v1!.hash,
            recordedAt: '2026-11-23T00:00:09.000Z',
          });

          // Act
          const error = await conflictOf(store.putVersion(again));

          // Assess
          expect(error.reason).toBe('CONTENT_EXISTS');
          expect(error.existing?.n).toBe(1);
        });
      });

      describe('when two writers race for the same position', () => {
        it('lets exactly one win; the other gets the winner as the current version', async () => {
          // Prepare
          const store = await fresh();
          const [v1] = chainOf([10]);
          await store.putVersion(v1!);
          const [a, b] = ([{ a: 1 }, { b: 2 }] as JsonValue[]).map((configuration, i) =>
            createVersion(parseProfile(profileInput(minute(20 + i), configuration)), {
              n: 2,
              previousHash: v1!.hash,
              recordedAt: '2026-11-23T00:00:09.000Z',
            }),
          );

          // Act
          const results = await Promise.allSettled([store.putVersion(a!), store.putVersion(b!)]);

          // Assess
          const winners = results.filter((r) => r.status === 'fulfilled');
          const losers = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
          expect(winners).toHaveLength(1);
          expect(losers).toHaveLength(1);
          const head = await store.head(INSTANCE_ARN);
          expect(losers[0]).toBeInstanceOf(ProfileVersionConflictError);
          expect((losers[0] as ProfileVersionConflictError).current?.hash).toBe(head!.hash);
        });
      });
    });

    describe('Method: listByTime', () => {
      it('orders by effective time, puts a late item in its place, and pages after a key', async () => {
        // Prepare: version 3 arrives last but is effective between versions 1 and 2.
        const store = await fresh();
        await putAll(store, chainOf([10, 30, 20, 40]));

        // Act
        const all = await store.listByTime(INSTANCE_ARN, { limit: 10 });
        const page = await store.listByTime(INSTANCE_ARN, { after: all[1]!, limit: 1 });

        // Assess
        expect(all.map((v) => v.n)).toEqual([1, 3, 2, 4]);
        expect(page.map((v) => v.n)).toEqual([2]);
        expect((await store.versionBefore(INSTANCE_ARN, all[2]!))?.n).toBe(3);
        expect(await store.versionBefore(INSTANCE_ARN, all[0]!)).toBeUndefined();
      });
    });

    describe('Method: listByChain', () => {
      it('returns versions by position after afterN', async () => {
        // Prepare
        const store = await fresh();
        await putAll(store, chainOf([10, 30, 20]));

        // Act
        const page = await store.listByChain(INSTANCE_ARN, { afterN: 1, limit: 5 });

        // Assess
        expect(page.map((v) => v.n)).toEqual([2, 3]);
        expect(await store.listByChain('arn:aws:s3:::none', { limit: 5 })).toEqual([]);
      });
    });
  });
}

/**
 * The DynamoDB `ProfileStore` on DynamoDB Local: the same contract the in-memory fake passes
 * (`test/unit/profiles/profile-store-contract.ts`), then what only a table can get wrong: items that do not
 * agree with their key are refused as corrupt, pages larger than one Query page.
 */
import { CreateTableCommand, DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbLedgerStore } from '../../adapters/dynamodb/ledger-store.ts';
import {
  DynamoDbProfileStore,
  profilePartitionKey,
  profileVersionWrite,
  versionSortKey,
} from '../../adapters/dynamodb/profile-store.ts';
import { createRowRecognizer } from '../../adapters/dynamodb/row-recognizer.ts';
import { ledgerTable } from '../../infra/resources/definitions.ts';
import { createTableInput } from '../../infra/resources/sdk-commands.ts';
import { ProfileStoreError, ProfileVersionConflictError } from '../../shared/ports/profile-store.ts';
import { profileVersionEventId } from '../../shared/profiles/ledger-event.ts';
import { parseProfile } from '../../shared/profiles/profile.ts';
import { ingestAtVersionTime, writeSealedProfile } from '../../shared/profiles/sealed-write.ts';
import type { ProfileVersion } from '../../shared/profiles/version.ts';
import { createVersion } from '../../shared/profiles/version.ts';
import { InMemoryObjectStore } from '../../shared/storage/in-memory-object-store.ts';
import { type DynamoDbLocal, startTestDynamoDb } from '../support/dynamodb-local.ts';
import { harness, T0 } from '../unit/ingest/ingest-fixtures.ts';
import { chainOf, INSTANCE_ARN, minute, profileInput } from '../unit/profiles/profile-fixtures.ts';
import { profileStoreContract } from '../unit/profiles/profile-store-contract.ts';

const TABLE = 'auditseal-profiles-it';

let ddb: DynamoDbLocal | undefined;
let client: DynamoDBClient;
let ledgers = 0;

beforeAll(async () => {
  ddb = await startTestDynamoDb();
  client = new DynamoDBClient({ ...ddb.clientConfig, maxAttempts: 3 });
  await client.send(new CreateTableCommand(createTableInput(ledgerTable('local', { tableName: TABLE }))));
}, 60_000);

afterAll(async () => {
  client?.destroy();
  await ddb?.stop();
});

function freshStore(): DynamoDbProfileStore {
  return new DynamoDbProfileStore({ client, tableName: TABLE, ledger: `profiles-${++ledgers}` });
}

profileStoreContract('DynamoDB Local', async () => freshStore());

describe('Class: DynamoDbProfileStore', () => {
  describe('Method: listByTime', () => {
    it('fills a page across Query pages of large versions (1 MB each)', async () => {
      // Prepare: 8 versions of about 300 KB each, more than one Query page.
      const store = freshStore();
      const big = 'x'.repeat(30_000);
      const versions = [];
      for (let i = 0; i < 8; i++) {
        const configuration = { step: i, blob: Array.from({ length: 10 }, () => big) };
        const previous = versions.at(-1);
        const version = createVersion(parseProfile(profileInput(minute(i), configuration)), {
          n: i + 1,
          previousHash: previous?.hash ?? null,
          recordedAt: new Date(Date.UTC(2026, 10, 23, 0, 0, i)).toISOString(),
        });
        versions.push(version);
        await store.putVersion(version);
      }

      // Act
      const page = await store.listByTime(INSTANCE_ARN, { limit: 8 });

      // Assess
      expect(page.map((v) => v.n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    });
  });

  describe('Method: versionBefore', () => {
    it('returns the version just before a key, across equal times and position carries', async () => {
      // Prepare: ten versions at the same time, so positions 9 and 10 differ in two digits.
      const store = freshStore();
      const chain = chainOf([5, 5, 5, 5, 5, 5, 5, 5, 5, 5]);
      for (const version of chain) await store.putVersion(version);

      // Act
      const before10 = await store.versionBefore(INSTANCE_ARN, { effectiveAt: minute(5), n: 10 });
      const before1 = await store.versionBefore(INSTANCE_ARN, { effectiveAt: minute(5), n: 1 });

      // Assess
      expect(before10?.n).toBe(9);
      expect(before1).toBeUndefined();
    });
  });

  describe('when a stored item does not agree with its key', () => {
    it('refuses to read it (CORRUPT_ITEM)', async () => {
      // Prepare: version 1 of another resource, written under this resource's position 1.
      const ledger = `profiles-${++ledgers}`;
      const store = new DynamoDbProfileStore({ client, tableName: TABLE, ledger });
      const [other] = chainOf([1], 'arn:aws:s3:::other-bucket');
      const [item] = profileVersionWrite(ledger, other!).puts;
      await client.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: {
            ...item!,
            pk: { S: profilePartitionKey(ledger, INSTANCE_ARN) },
            sk: { S: versionSortKey(1) },
          },
        }),
      );

      // Act
      const error = await store.getVersion(INSTANCE_ARN, 1).catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(ProfileStoreError);
      expect(error).toMatchObject({ code: 'CORRUPT_ITEM' });
    });
  });
});

describe('Function: writeSealedProfile, on the DynamoDB ledger', () => {
  const WRITER = { id: 'arn:aws:sts::123456789012:assumed-role/writer/app', type: 'role' } as const;

  async function sealedLedger() {
    const ledger = `profiles-${++ledgers}`;
    const h = await harness();
    const ledgerStore = new DynamoDbLedgerStore({ client, tableName: TABLE, shardCount: 4 });
    const profiles = new DynamoDbProfileStore({ client, tableName: TABLE, ledger });
    const ingest = ingestAtVersionTime(
      { ledger, principal: WRITER.id, requestId: 'req' },
      { ...h.deps, store: ledgerStore },
    );
    let now = T0;
    const write = (input: object) =>
      writeSealedProfile(parseProfile(input), {
        store: profiles,
        ingest,
        actor: WRITER,
        clock: () => {
          now += 1000;
          return new Date(now);
        },
      });
    const recognize = createRowRecognizer({
      ledger,
      periodSeconds: 3600,
      graceSeconds: 60,
      keys: async () => h.keys,
      getBatch: async () => undefined,
      getEvent: (id) => ledgerStore.getEvent(ledger, id),
      objects: new InMemoryObjectStore(),
      clock: () => new Date(T0),
    });
    const rowsOf = async (resourceId: string) =>
      (
        await client.send(
          new QueryCommand({
            TableName: TABLE,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': { S: profilePartitionKey(ledger, resourceId) } },
          }),
        )
      ).Items ?? [];
    return { ledger, ledgerStore, profiles, write, recognize, rowsOf };
  }

  it('writes each version with its event in one transaction; its rows are recognized', async () => {
    // Prepare
    const { ledger, ledgerStore, profiles, write, recognize, rowsOf } = await sealedLedger();

    // Act
    await write(profileInput(minute(1), { state: 'running' }));
    const second = await write(profileInput(minute(2), { state: 'stopped' }));

    // Assess
    expect((await profiles.head(INSTANCE_ARN))?.hash).toBe(second.version.hash);
    const event = await ledgerStore.getEvent(ledger, profileVersionEventId(INSTANCE_ARN, 2));
    expect(Buffer.from(event!.bytes).toString()).toContain(Buffer.from(second.version.bytes).toString());
    const rows = await rowsOf(INSTANCE_ARN);
    expect(rows).toHaveLength(6);
    for (const row of rows) expect(await recognize(row)).toBeUndefined();
  });

  describe('when two writers race for the same position', () => {
    it('stores exactly one version and its event; the other gets 409 material', async () => {
      // Prepare
      const { ledger, ledgerStore, profiles, write } = await sealedLedger();
      await write(profileInput(minute(1), { v: 0 }));

      // Act
      const results = await Promise.allSettled(
        ['a', 'b', 'c'].map((v) => write(profileInput(minute(2), { v }))),
      );

      // Assess
      const won = results.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<{
        version: ProfileVersion;
      }>[];
      expect(won).toHaveLength(1);
      for (const lost of results.filter((r) => r.status === 'rejected')) {
        expect(lost.reason).toBeInstanceOf(ProfileVersionConflictError);
        expect(lost.reason).toMatchObject({ current: { n: 2, hash: won[0]!.value.version.hash } });
      }
      expect((await profiles.listByChain(INSTANCE_ARN, { limit: 10 })).map((v) => v.n)).toEqual([1, 2]);
      const event = await ledgerStore.getEvent(ledger, profileVersionEventId(INSTANCE_ARN, 2));
      expect(Buffer.from(event!.bytes).toString()).toContain(
        Buffer.from(won[0]!.value.version.bytes).toString(),
      );
    });
  });

  describe('when a profile row is forged or altered', () => {
    it.each<[string, (row: Record<string, unknown>) => Record<string, unknown>]>([
      ['a row naming no event', (row) => ({ ...row, eventId: { S: profileVersionEventId('other', 1) } })],
      ['altered bytes', (row) => ({ ...row, bytes: { B: Buffer.from('{}') } })],
      ['another hash', (row) => ({ ...row, hash: { S: '0'.repeat(64) } })],
    ])('calls %s foreign', async (_name, change) => {
      // Prepare
      const { write, recognize, rowsOf } = await sealedLedger();
      await write(profileInput(minute(1)));
      const rows = await rowsOf(INSTANCE_ARN);
      const versionRow = rows.find((r) => r['sk']?.S?.startsWith('N#'))!;

      // Act
      const problem = await recognize(change(versionRow) as never);

      // Assess
      expect(problem).toEqual(expect.any(String));
    });
  });
});

/**
 * The ingest write path against a real DynamoDB Local (AWS's own engine): the `LedgerStore` contract
 * shared with the in-memory fake, then `ingestBatch` end to end with the DynamoDB adapter.
 * The table is created from the same resource definitions the CDK app and the local stack use.
 */

import { fileURLToPath } from 'node:url';
import {
  CreateTableCommand,
  DynamoDBClient,
  QueryCommand,
  ScanCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SHARD_COUNT } from '../../adapters/dynamodb/ledger-items.ts';
import { DynamoDbLedgerStore, MAX_EVENTS_PER_TRANSACTION } from '../../adapters/dynamodb/ledger-store.ts';
import { ledgerTable } from '../../infra/resources/definitions.ts';
import { createTableInput } from '../../infra/resources/sdk-commands.ts';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../local/dynamodb-local.ts';
import { ensureDynamoDbLocalJar } from '../../local/dynamodb-local-jar.ts';
import { IdConflictError } from '../../shared/ingest/errors.ts';
import { ingestBatch } from '../../shared/ingest/ingest-batch.ts';
import { checkReceipt } from '../../shared/ledger/batch-receipts.ts';
import { hashLeaf } from '../../shared/merkle/rfc6962.ts';
import { EventIdsTakenError } from '../../shared/ports/ledger-store.ts';
import { ledgerEvent, SEAL } from '../unit/adapters/ledger-fixtures.ts';
import { apiRequest, appEvent, harness } from '../unit/ingest/ingest-fixtures.ts';
import { ledgerStoreContract } from '../unit/ingest/ledger-store-contract.ts';

const PROJECT_DIR = fileURLToPath(new URL('../../', import.meta.url));
const TABLE = 'auditseal-ingest-it';

let ddb: DynamoDbLocal | undefined;
let client: DynamoDBClient;
let ledgers = 0;

beforeAll(async () => {
  const jar = await ensureDynamoDbLocalJar({ projectDir: PROJECT_DIR });
  ddb = await startDynamoDbLocal({ jar, storage: { inMemory: true } });
  client = new DynamoDBClient({ ...ddb.clientConfig, maxAttempts: 3 });
  await client.send(new CreateTableCommand(createTableInput(ledgerTable('local', { tableName: TABLE }))));
});

afterAll(async () => {
  client?.destroy();
  await ddb?.stop();
});

/** A store over the shared table and a ledger id no other test uses. */
function freshStore(): { store: DynamoDbLedgerStore; ledger: string } {
  ledgers++;
  return { store: new DynamoDbLedgerStore({ client, tableName: TABLE }), ledger: `it-${ledgers}` };
}

async function scanAll(): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, never> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: TABLE,
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start);
  return items;
}

ledgerStoreContract('DynamoDbLedgerStore on DynamoDB Local', async () => freshStore(), {
  eventsPerGroup: MAX_EVENTS_PER_TRANSACTION,
});

describe('DynamoDB Local behaviour the adapter relies on', () => {
  it('returns the old id item with a cancelled transaction (ReturnValuesOnConditionCheckFailure)', async () => {
    // Prepare
    const { store, ledger } = freshStore();
    const event = ledgerEvent(1);
    await store.putBatch({ ...SEAL, ledger }, [event]);

    // Act
    const error = (await store
      .putBatch({ ...SEAL, ledger, batchId: 'b2' }, [{ ...event, batchId: 'b2' }])
      .catch((e: unknown) => e)) as EventIdsTakenError;

    // Assess
    expect(error).toBeInstanceOf(EventIdsTakenError);
    expect(error.existing.get('app-1')?.receipt).toEqual(event.receipt);
  });

  it('rejects a second put of any ledger key: nothing is ever overwritten', async () => {
    // Prepare
    const { store, ledger } = freshStore();
    await store.putBatch({ ...SEAL, ledger }, [ledgerEvent(1)]);
    const before = await scanAll();

    // Act
    const overwrite = client.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Put: {
              TableName: TABLE,
              Item: { pk: { S: `ID#${ledger}#app-1` }, sk: { S: 'ID' }, inputSha256: { S: 'forged' } },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
        ],
      }),
    );

    // Assess
    await expect(overwrite).rejects.toThrow();
    expect(await scanAll()).toEqual(before);
  });
});

describe('Function: ingestBatch with the DynamoDB adapter', () => {
  it('stores 500 events in 10 transactions, signs once, and reads them back in period order', async () => {
    // Prepare
    const h = await harness();
    const { store, ledger } = freshStore();
    const deps = { ...h.deps, store };
    const items = Array.from({ length: 500 }, (_, i) => appEvent(i));

    // Act
    const result = await ingestBatch({ ...apiRequest(items), ledger }, deps);

    // Assess
    expect(result.status).toBe(201);
    expect(result.stored).toHaveLength(500);
    expect(h.signer.signCalls).toBe(1);
    for (const receipt of result.receipts.slice(0, 20)) expect(checkReceipt(receipt, h.keys).ok).toBe(true);
    const period = { startMs: Date.UTC(2026, 10, 22, 21), seconds: 3600 };
    const read = [];
    for await (const row of store.readPeriod(ledger, period)) {
      if ('malformed' in row) throw new Error(`malformed row ${row.item.pk}`);
      read.push(row);
    }
    expect(read.map((e) => e.id)).toEqual(items.map((i) => i['id'] as string).sort());
    const byId = new Map(result.receipts.map((r) => [r.eventId, r]));
    for (const event of read)
      expect(hashLeaf(event.bytes).toString('hex')).toBe(byId.get(event.id)!.leafHash);
    const partitions = new Set(
      (await scanAll())
        .map((item) => (item['pk'] as { S: string }).S)
        .filter((pk) => pk.startsWith(`EV#${ledger}#`)),
    );
    expect(partitions.size).toBe(DEFAULT_SHARD_COUNT);
  });

  it('answers a retry with the original receipts and a conflicting reuse with 409 and a signal item', async () => {
    // Prepare
    const h = await harness();
    const { store, ledger } = freshStore();
    const deps = { ...h.deps, store };
    const first = await ingestBatch({ ...apiRequest([appEvent(1), appEvent(2)]), ledger }, deps);

    // Act
    const retry = await ingestBatch({ ...apiRequest([appEvent(2), appEvent(1)]), ledger }, deps);
    const conflict = await ingestBatch(
      { ...apiRequest([appEvent(3), appEvent(1, { action: 'x' })]), ledger },
      deps,
    ).catch((e: unknown) => e);

    // Assess
    expect(retry.status).toBe(200);
    expect(retry.receipts).toEqual([first.receipts[1], first.receipts[0]]);
    expect(conflict).toBeInstanceOf(IdConflictError);
    expect(await store.getEvent(ledger, 'app-3')).toBeUndefined();
    const signals = await client.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: `SG#${ledger}#2026-11-22` } },
        ConsistentRead: true,
      }),
    );
    expect(signals.Items).toHaveLength(1);
    expect(signals.Items![0]!['kind']).toEqual({ S: 'ID_CONFLICT' });
  });

  it('reports a concurrent writer’s identical event as a duplicate', async () => {
    // Prepare
    const h = await harness();
    const { store, ledger } = freshStore();
    const deps = { ...h.deps, store };
    // Two requests for the same event race; both must answer 2xx with the same receipt.
    const requests = [1, 2].map(() => ingestBatch({ ...apiRequest([appEvent(9)]), ledger }, deps));

    // Act
    const [a, b] = await Promise.all(requests);

    // Assess
    expect(a!.receipts[0]).toEqual(b!.receipts[0]);
    expect([a!.status, b!.status].sort()).toEqual([200, 201]);
  });

  it('leaves no item without its partner: every id item points to an existing event', async () => {
    // Prepare
    const items = await scanAll();
    const keys = new Set(items.map((i) => `${(i['pk'] as { S: string }).S}|${(i['sk'] as { S: string }).S}`));

    // Act
    const idItems = items.filter((i) => (i['sk'] as { S: string }).S === 'ID');

    // Assess
    expect(idItems.length).toBeGreaterThan(0);
    for (const item of idItems) {
      expect(
        keys.has(`${(item['eventPk'] as { S: string }).S}|${(item['eventSk'] as { S: string }).S}`),
      ).toBe(true);
    }
  });
});

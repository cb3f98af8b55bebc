/**
 * Search on a real DynamoDB Local table built from the shared resource definitions (its global secondary
 * indexes included): events written by the real ingest path (real CloudTrail records and app events with
 * ARNs for ids), searched through the real index adapter, page by page, against a brute-force answer.
 */
import { fileURLToPath } from 'node:url';
import { CreateTableCommand, DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbEventIndex } from '../../adapters/dynamodb/event-index.ts';
import { INDEX_SHARDS } from '../../adapters/dynamodb/index-keys.ts';
import { DynamoDbLedgerStore } from '../../adapters/dynamodb/ledger-store.ts';
import { DynamoDbSealRegistry } from '../../adapters/dynamodb/seal-registry.ts';
import { ledgerTable, SEARCH_INDEXES } from '../../infra/resources/definitions.ts';
import { createTableInput } from '../../infra/resources/sdk-commands.ts';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../local/dynamodb-local.ts';
import { ensureDynamoDbLocalJar } from '../../local/dynamodb-local-jar.ts';
import { KeyFileSigner } from '../../shared/crypto/key-file-signer.ts';
import { loadPublicKey, TrustedKeySet } from '../../shared/crypto/keys.ts';
import { GenesisGuard } from '../../shared/ingest/genesis-guard.ts';
import { type IngestChannel, ingestBatch } from '../../shared/ingest/ingest-batch.ts';
import { checkReceipt, checkReceiptAgainstEvent } from '../../shared/ledger/batch-receipts.ts';
import { CursorCodec } from '../../shared/query/cursor.ts';
import { type SearchDeps, searchEvents } from '../../shared/query/search-events.ts';
import { type SearchQuery, searchParametersSchema, toSearchQuery } from '../../shared/query/search-query.ts';
import { cloudTrailInputs } from '../support/search-fixtures.ts';

const PROJECT_DIR = fileURLToPath(new URL('../../', import.meta.url));
const TABLE = 'auditseal-search-it';
const LEDGER = 'search-it';

interface Written {
  id: string;
  receivedAt: string;
  actorId: string;
  action: string;
  outcome: string;
  channel: string;
  resourceId?: string;
}

let ddb: DynamoDbLocal | undefined;
let client: DynamoDBClient;
let deps: SearchDeps;
let signer: KeyFileSigner;
const written: Written[] = [];

async function ingest(items: Record<string, unknown>[], channel: IngestChannel, atMs: number): Promise<void> {
  const store = new DynamoDbLedgerStore({ client, tableName: TABLE });
  await ingestBatch(
    { ledger: LEDGER, items, channel, principal: 'arn:aws:iam::123456789012:role/w', requestId: `r-${atMs}` },
    {
      store,
      signer,
      clock: () => new Date(atMs),
      periodSeconds: 3600,
      graceSeconds: 1_000_000,
      batchIdFactory: () => `b${atMs}`,
      genesis: new GenesisGuard(new DynamoDbSealRegistry({ client, tableName: TABLE })),
    },
  );
  for (const item of items as {
    id: string;
    actor: { id: string };
    action: string;
    outcome: { result: string };
    resource?: { id: string };
  }[]) {
    written.push({
      id: item.id,
      receivedAt: new Date(atMs).toISOString(),
      actorId: item.actor.id,
      action: item.action,
      outcome: item.outcome.result,
      channel,
      ...(item.resource ? { resourceId: item.resource.id } : {}),
    });
  }
}

function query(parameters: Record<string, string>): SearchQuery {
  return toSearchQuery(searchParametersSchema.parse(parameters));
}

function expected(q: SearchQuery): string[] {
  return written
    .filter(
      (e) =>
        (q.actor === undefined || e.actorId === q.actor) &&
        (q.resource === undefined || e.resourceId === q.resource) &&
        (q.action === undefined || e.action === q.action) &&
        (q.outcome === undefined || e.outcome === q.outcome) &&
        (q.channel === undefined || e.channel === q.channel) &&
        (q.from === undefined || e.receivedAt >= q.from) &&
        (q.to === undefined || e.receivedAt < q.to),
    )
    .sort((a, b) => {
      const ka = `${a.receivedAt}#${a.id}`;
      const kb = `${b.receivedAt}#${b.id}`;
      return ka < kb ? 1 : -1;
    })
    .map((e) => e.id);
}

async function everyPage(q: SearchQuery): Promise<{ ids: string[]; pages: number; itemsRead: number }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  let itemsRead = 0;
  do {
    const page = await searchEvents({ ...q, ...(cursor ? { cursor } : {}) }, deps);
    ids.push(...page.events.map((e) => e.id));
    itemsRead += page.itemsRead;
    cursor = page.nextCursor;
    pages++;
  } while (cursor !== undefined && pages < 500);
  return { ids, pages, itemsRead };
}

beforeAll(async () => {
  const jar = await ensureDynamoDbLocalJar({ projectDir: PROJECT_DIR });
  ddb = await startDynamoDbLocal({ jar, storage: { inMemory: true } });
  client = new DynamoDBClient({ ...ddb.clientConfig, maxAttempts: 3 });
  await client.send(new CreateTableCommand(createTableInput(ledgerTable('local', { tableName: TABLE }))));
  signer = KeyFileSigner.generate();
  deps = {
    ledger: LEDGER,
    index: new DynamoDbEventIndex({ client, tableName: TABLE }),
    cursors: new CursorCodec(Buffer.alloc(32, 9)),
    receipts: new DynamoDbLedgerStore({ client, tableName: TABLE }),
  };
  // Real CloudTrail records through the forwarder's channel, 20 per batch, one millisecond apart.
  const records = cloudTrailInputs();
  const start = Date.UTC(2026, 10, 22, 21, 0, 0);
  for (let i = 0; i < records.length; i += 20) {
    await ingest(records.slice(i, i + 20) as unknown as Record<string, unknown>[], 'cloudtrail', start + i);
  }
  // App events whose ids and resources are ARNs with '/' and ':'.
  const apps = Array.from({ length: 30 }, (_, n) => ({
    id: `arn:aws:ec2:us-east-1:123456789012:instance/i-0abc${n}/login:${n}`,
    eventTime: '2026-11-22T21:09:59Z',
    actor: { id: n % 2 === 0 ? 'alice@example.com' : 'bob@example.com', type: 'user' },
    action: 'ssh.login',
    resource: {
      id: `arn:aws:ec2:us-east-1:123456789012:instance/i-0abc${n % 3}`,
      type: 'AWS::EC2::Instance',
    },
    outcome: { result: n % 4 === 0 ? 'failure' : 'success' },
  }));
  await ingest(apps.slice(0, 15), 'api', start + 5_000);
  await ingest(apps.slice(15), 'api', start + 6_000);
}, 120_000);

afterAll(async () => {
  client?.destroy();
  await ddb?.stop();
});

describe('Class: DynamoDbEventIndex (on DynamoDB Local)', () => {
  it('creates one global secondary index per search pattern, from the shared definitions', async () => {
    const { Table } = await import('@aws-sdk/client-dynamodb').then(async (m) =>
      client.send(new m.DescribeTableCommand({ TableName: TABLE })),
    );
    expect((Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName).sort()).toEqual(
      SEARCH_INDEXES.map((i) => i.indexName).sort(),
    );
  });

  const cases: [string, () => Record<string, string>][] = [
    ['an actor', () => ({ actor: 'alice@example.com' })],
    ['a CloudTrail actor', () => ({ actor: written[0]!.actorId })],
    ['a resource ARN with "/"', () => ({ resource: 'arn:aws:ec2:us-east-1:123456789012:instance/i-0abc1' })],
    ['an action', () => ({ action: written[3]!.action })],
    ['an outcome', () => ({ outcome: 'failure' })],
    ['a channel', () => ({ channel: 'api' })],
    ['an actor and an outcome', () => ({ actor: 'alice@example.com', outcome: 'failure' })],
    ['a time range', () => ({ from: written[40]!.receivedAt, to: written[200]!.receivedAt })],
    ['nothing', () => ({})],
  ];
  describe.each(cases)('when searching by %s', (_name, parameters) => {
    it('returns exactly the matching events, newest first, across pages of 7', async () => {
      // Prepare
      const q = query({ ...parameters(), limit: '7' });
      const want = expected(q);
      expect(want.length).toBeGreaterThan(0);
      // Act
      const { ids } = await everyPage(q);
      // Assess
      expect(ids).toEqual(want);
    });
  });

  it('reads at most twice what it returns for one actor', async () => {
    const actor = 'alice@example.com';
    const q = query({ actor, limit: '10' });
    const page = await searchEvents(q, deps);
    expect(page.events).toHaveLength(10);
    expect(page.itemsRead / page.events.length).toBeLessThanOrEqual(2);
  });

  it('returns receipts that verify and match the returned event bytes', async () => {
    const keys = new TrustedKeySet([loadPublicKey(await signer.publicKeyPem())]);
    const page = await searchEvents(query({ channel: 'api', limit: '30', receipts: 'true' }), deps);
    expect(page.events).toHaveLength(30);
    for (const hit of page.events) {
      expect(checkReceipt(hit.receipt, keys)).toMatchObject({ ok: true });
      expect(checkReceiptAgainstEvent(hit.receipt!, Buffer.from(hit.eventJson, 'utf8'))).toEqual({
        ok: true,
      });
    }
  });

  it('keeps every index key within one partition per shard, never a scan', async () => {
    // Each shard partition of an actor holds only that actor's events.
    const page = await client.send(
      new QueryCommand({
        TableName: TABLE,
        IndexName: 'byActor',
        KeyConditionExpression: 'ixActor = :pk',
        ExpressionAttributeValues: {
          ':pk': {
            S: (await import('../../adapters/dynamodb/index-keys.ts')).indexPartitionKey(
              LEDGER,
              { index: 'actor', value: 'bob@example.com' },
              0,
            ),
          },
        },
      }),
    );
    for (const item of page.Items ?? []) expect(item['actorId']?.S).toBe('bob@example.com');
    expect(INDEX_SHARDS).toBe(16);
  });
});

/**
 * The local stream poller against a real DynamoDB Local stream: order, batches, partial batch failures,
 * retries and bisection, the on-failure destination, checkpoints across restarts, and the Lambda record shape
 * (including the service identity of TTL deletes).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateTableCommand,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ledgerTable } from '../../infra/resources/definitions.ts';
import { createTableInput } from '../../infra/resources/sdk-commands.ts';
import type {
  StreamBatchFailure,
  StreamHandler,
  StreamPoller,
  StreamPollerOptions,
} from '../../local/stream-poller.ts';
import { startStreamPoller } from '../../local/stream-poller.ts';
import type { DynamoDbLocal } from '../support/dynamodb-local.ts';
import { startTestDynamoDb, until } from '../support/dynamodb-local.ts';

let ddb: DynamoDbLocal;
let dynamodb: DynamoDBClient;
let streams: DynamoDBStreamsClient;
const scratch = mkdtempSync(join(tmpdir(), 'auditseal-poller-'));
const pollers: StreamPoller[] = [];

beforeAll(async () => {
  ddb = await startTestDynamoDb();
  dynamodb = new DynamoDBClient(ddb.clientConfig);
  streams = new DynamoDBStreamsClient(ddb.clientConfig);
});

afterAll(async () => {
  await Promise.all(pollers.map((poller) => poller.stop()));
  dynamodb?.destroy();
  streams?.destroy();
  await ddb?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** A fresh ledger-shaped table; resolves with its name and stream ARN. */
/**
 * A table with the ledger table's keys and stream. `withoutIndexes` drops its search indexes: DynamoDB
 * Local 1.25.1 never expires items by TTL in a table that has global secondary indexes, and the TTL case
 * is about what the poller delivers, not about the ledger's indexes (no ledger row has a TTL).
 */
async function newTable(withoutIndexes = false): Promise<{ tableName: string; streamArn: string }> {
  const tableName = `poller-${randomUUID()}`;
  const input = createTableInput(ledgerTable('local', { tableName }));
  const { GlobalSecondaryIndexes: _indexes, ...rest } = input;
  const plain = {
    ...rest,
    AttributeDefinitions: input.AttributeDefinitions?.filter((d) =>
      input.KeySchema?.some((k) => k.AttributeName === d.AttributeName),
    ),
  };
  const { TableDescription } = await dynamodb.send(new CreateTableCommand(withoutIndexes ? plain : input));
  return { tableName, streamArn: TableDescription!.LatestStreamArn! };
}

async function putItems(tableName: string, from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i++) {
    await dynamodb.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          pk: { S: 'p' },
          sk: { S: String(i).padStart(4, '0') },
          n: { N: String(i) },
          b: { B: new Uint8Array([i, 255]) },
        },
      }),
    );
  }
}

/** The `n` attribute of each record's new image. */
function numbers(records: readonly DynamoDBRecord[]): number[] {
  return records.map((record) => Number(record.dynamodb?.NewImage?.['n']?.N));
}

async function poll(
  streamArn: string,
  handler: StreamHandler,
  options: Partial<StreamPollerOptions> = {},
): Promise<StreamPoller> {
  const poller = await startStreamPoller({
    client: streams,
    streamArn,
    handler,
    checkpointFile: join(scratch, `${randomUUID()}.json`),
    region: 'us-east-1',
    pollIntervalMs: 50,
    discoveryIntervalMs: 200,
    retryDelayMs: () => 0,
    ...options,
  });
  pollers.push(poller);
  return poller;
}

describe('Function: startStreamPoller (DynamoDB Local)', () => {
  it('delivers every record once, in order, in batches of at most batchSize, in the Lambda shape', async () => {
    // Prepare
    const { tableName, streamArn } = await newTable();
    await putItems(tableName, 0, 25);
    const batches: DynamoDBStreamEvent[] = [];

    // Act
    await poll(streamArn, async (event) => void batches.push(event), { batchSize: 10 });
    await until(() => batches.flatMap((b) => b.Records).length >= 25);

    // Assess
    const records = batches.flatMap((batch) => batch.Records);
    expect(numbers(records)).toEqual([...Array(25).keys()]);
    expect(batches.every((batch) => batch.Records.length <= 10)).toBe(true);
    const first = records[0]!;
    expect(first).toMatchObject({
      eventName: 'INSERT',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      eventSourceARN: streamArn.replace(':ddblocal:', ':us-east-1:'),
      dynamodb: {
        Keys: { pk: { S: 'p' }, sk: { S: '0000' } },
        NewImage: { n: { N: '0' }, b: { B: Buffer.from([0, 255]).toString('base64') } },
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    });
    expect(first.eventID).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof first.dynamodb?.ApproximateCreationDateTime).toBe('number');
    expect(Math.abs(first.dynamodb!.ApproximateCreationDateTime! - Date.now() / 1000)).toBeLessThan(300);
    expect(first.dynamodb?.SequenceNumber).toMatch(/^\d+$/);
    expect(first.userIdentity).toBeUndefined();
    const sequence = records.map((record) => BigInt(record.dynamodb!.SequenceNumber!));
    expect(sequence).toEqual([...sequence].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });

  it('delivers MODIFY and REMOVE with their old images', async () => {
    // Prepare
    const { tableName, streamArn } = await newTable();
    await putItems(tableName, 0, 1);
    const key = { pk: { S: 'p' }, sk: { S: '0000' } };
    await dynamodb.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: key,
        UpdateExpression: 'SET n = :n',
        ExpressionAttributeValues: { ':n': { N: '7' } },
      }),
    );
    await dynamodb.send(new DeleteItemCommand({ TableName: tableName, Key: key }));
    const records: DynamoDBRecord[] = [];

    // Act
    await poll(streamArn, async (event) => void records.push(...event.Records));
    await until(() => records.length >= 3);

    // Assess
    expect(records.map((record) => record.eventName)).toEqual(['INSERT', 'MODIFY', 'REMOVE']);
    expect(records[1]!.dynamodb).toMatchObject({ OldImage: { n: { N: '0' } }, NewImage: { n: { N: '7' } } });
    expect(records[2]!.dynamodb?.OldImage?.['n']).toEqual({ N: '7' });
    expect(records[2]!.dynamodb?.NewImage).toBeUndefined();
    expect(records[2]!.userIdentity).toBeUndefined();
  });

  describe('when the handler reports a batch item failure', () => {
    it('redelivers from the failed record, not from the start of the batch', async () => {
      // Prepare
      const { tableName, streamArn } = await newTable();
      await putItems(tableName, 0, 10);
      const deliveries: number[][] = [];
      let failedOnce = false;

      // Act
      await poll(
        streamArn,
        async (event) => {
          deliveries.push(numbers(event.Records));
          const poisoned = event.Records.find((record) => record.dynamodb?.NewImage?.['n']?.N === '4');
          if (poisoned !== undefined && !failedOnce) {
            failedOnce = true;
            return { batchItemFailures: [{ itemIdentifier: poisoned.dynamodb!.SequenceNumber! }] };
          }
          return { batchItemFailures: [] };
        },
        { batchSize: 10, reportBatchItemFailures: true },
      );
      await until(() => deliveries.flat().includes(9) && deliveries.length >= 2);

      // Assess
      expect(deliveries[0]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(deliveries[1]).toEqual([4, 5, 6, 7, 8, 9]);
      expect(deliveries).toHaveLength(2);
    });

    it('fails the whole batch when an identifier names no record of the batch', async () => {
      // Prepare
      const { tableName, streamArn } = await newTable();
      await putItems(tableName, 0, 3);
      const deliveries: number[][] = [];

      // Act
      await poll(
        streamArn,
        async (event) => {
          deliveries.push(numbers(event.Records));
          return deliveries.length === 1
            ? { batchItemFailures: [{ itemIdentifier: 'not-a-sequence-number' }] }
            : undefined;
        },
        { reportBatchItemFailures: true },
      );
      await until(() => deliveries.length >= 2);

      // Assess
      expect(deliveries.slice(0, 2)).toEqual([
        [0, 1, 2],
        [0, 1, 2],
      ]);
    });

    it('ignores the response when ReportBatchItemFailures is off, as Lambda does', async () => {
      // Prepare
      const { tableName, streamArn } = await newTable();
      await putItems(tableName, 0, 3);
      const deliveries: number[][] = [];

      // Act
      await poll(streamArn, async (event) => {
        deliveries.push(numbers(event.Records));
        return { batchItemFailures: [{ itemIdentifier: event.Records[0]!.dynamodb!.SequenceNumber! }] };
      });
      await until(() => deliveries.length >= 1);
      await new Promise((resolve) => setTimeout(resolve, 300));

      // Assess
      expect(deliveries).toEqual([[0, 1, 2]]);
    });
  });

  describe('when the handler throws', () => {
    it('retries the whole batch, then sends it to the on-failure destination and moves on', async () => {
      // Prepare
      const { tableName, streamArn } = await newTable();
      await putItems(tableName, 0, 4);
      const deliveries: number[][] = [];
      const failures: StreamBatchFailure[] = [];

      // Act
      await poll(
        streamArn,
        async (event) => {
          deliveries.push(numbers(event.Records));
          if (numbers(event.Records).includes(1)) throw new Error('poison');
        },
        { batchSize: 2, maximumRetryAttempts: 2, onFailure: (failure) => void failures.push(failure) },
      );
      await until(() => deliveries.flat().includes(3));

      // Assess
      expect(deliveries).toEqual([
        [0, 1],
        [0, 1],
        [0, 1],
        [2, 3],
      ]);
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatchObject({ reason: 'FunctionError', attempts: 3 });
      expect(numbers(failures[0]!.records)).toEqual([0, 1]);
    });

    it('bisects the batch down to the failing record, retries it, and delivers every other record', async () => {
      // Prepare
      const { tableName, streamArn } = await newTable();
      await putItems(tableName, 0, 8);
      const deliveries: number[][] = [];
      const failures: StreamBatchFailure[] = [];

      // Act
      await poll(
        streamArn,
        async (event) => {
          deliveries.push(numbers(event.Records));
          if (numbers(event.Records).includes(5)) throw new Error('poison');
        },
        {
          batchSize: 8,
          bisectBatchOnFunctionError: true,
          maximumRetryAttempts: 1,
          onFailure: (failure) => void failures.push(failure),
        },
      );
      await until(() => deliveries.length >= 8);

      // Assess
      expect(deliveries).toEqual([
        [0, 1, 2, 3, 4, 5, 6, 7],
        [0, 1, 2, 3],
        [4, 5, 6, 7],
        [4, 5],
        [4],
        [5],
        [5],
        [6, 7],
      ]);
      expect(numbers(failures[0]!.records)).toEqual([5]);
      expect(failures[0]!.firstSequenceNumber).toBe(failures[0]!.records[0]!.dynamodb!.SequenceNumber);
    });
  });

  describe('when the poller restarts', () => {
    it('resumes after the last checkpointed record', async () => {
      // Prepare
      const { tableName, streamArn } = await newTable();
      const checkpointFile = join(scratch, `${randomUUID()}.json`);
      await putItems(tableName, 0, 5);
      const firstRun: number[] = [];
      const secondRun: number[] = [];
      const first = await poll(streamArn, async (event) => void firstRun.push(...numbers(event.Records)), {
        checkpointFile,
      });
      await until(() => firstRun.length >= 5);
      await first.stop();

      // Act
      await putItems(tableName, 5, 3);
      await poll(streamArn, async (event) => void secondRun.push(...numbers(event.Records)), {
        checkpointFile,
      });
      await until(() => secondRun.length >= 3);
      await new Promise((resolve) => setTimeout(resolve, 300));

      // Assess
      expect(firstRun).toEqual([0, 1, 2, 3, 4]);
      expect(secondRun).toEqual([5, 6, 7]);
      const saved = JSON.parse(readFileSync(checkpointFile, 'utf8'));
      expect(Object.values(saved.streams[streamArn].shards)).toEqual([
        { sequenceNumber: expect.stringMatching(/^\d+$/) },
      ]);
    });

    it('redelivers a batch whose handler did not finish before the stop (at-least-once)', async () => {
      // Prepare
      const { tableName, streamArn } = await newTable();
      const checkpointFile = join(scratch, `${randomUUID()}.json`);
      await putItems(tableName, 0, 2);
      let started = false;
      const first = await poll(
        streamArn,
        async () => {
          started = true;
          throw new Error('crashed mid-batch');
        },
        { checkpointFile, retryDelayMs: () => 60_000 },
      );
      await until(() => started);
      await first.stop();
      const redelivered: number[] = [];

      // Act
      await poll(streamArn, async (event) => void redelivered.push(...numbers(event.Records)), {
        checkpointFile,
      });
      await until(() => redelivered.length >= 2);

      // Assess
      expect(redelivered).toEqual([0, 1]);
    });
  });

  describe('when DynamoDB Local expires an item by TTL', () => {
    it('delivers a REMOVE carrying the DynamoDB service identity', { timeout: 60_000 }, async () => {
      // Prepare
      const { tableName, streamArn } = await newTable(true);
      await dynamodb.send(
        new UpdateTimeToLiveCommand({
          TableName: tableName,
          TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        }),
      );
      await dynamodb.send(
        new PutItemCommand({
          TableName: tableName,
          Item: {
            pk: { S: 'ttl' },
            sk: { S: '1' },
            expiresAt: { N: String(Math.floor(Date.now() / 1000) - 60) },
          },
        }),
      );
      const records: DynamoDBRecord[] = [];

      // Act
      await poll(streamArn, async (event) => void records.push(...event.Records));
      const expired = await until(() => records.some((record) => record.eventName === 'REMOVE'), 50_000);

      // Assess
      expect(
        expired,
        'DynamoDB Local expired the item within 50 s (its TTL sweep is slow on a loaded machine)',
      ).toBe(true);
      const removal = records.find((record) => record.eventName === 'REMOVE');
      expect(removal?.userIdentity).toEqual({ type: 'Service', principalId: 'dynamodb.amazonaws.com' });
      expect(records[0]!.userIdentity).toBeUndefined();
    });
  });
});

import { createHash } from 'node:crypto';
import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_SHARD_COUNT, eventPartitionKey, shardOf } from '../../../adapters/dynamodb/ledger-items.ts';
import { DynamoDbLedgerStore } from '../../../adapters/dynamodb/ledger-store.ts';
import { canonicalString } from '../../../shared/canonical/jcs.ts';
import {
  BatchSealConflictError,
  CorruptItemError,
  EventIdsTakenError,
  LedgerUnavailableError,
  LedgerWriteError,
} from '../../../shared/ports/ledger-store.ts';
import { LEDGER, ledgerEvent, PERIOD, RECEIVED_AT, SEAL, STATEMENT, TABLE } from './ledger-fixtures.ts';

const ddb = mockClient(DynamoDBClient);
const IF_ABSENT = 'attribute_not_exists(pk)';

function store(options: { shardCount?: number; maxAttempts?: number } = {}): DynamoDbLedgerStore {
  return new DynamoDbLedgerStore({
    client: new DynamoDBClient({ region: 'eu-west-1' }),
    tableName: TABLE,
    sleep: async () => {},
    ...options,
  });
}

const meta = { $metadata: {} };

let validationErrorInstance: Error | undefined;
/** A non-retryable client-side SDK error, shaped like the SDK's ValidationException. */
function validationError(): Error {
  validationErrorInstance = Object.assign(new Error('bad'), {
    name: 'ValidationException',
    $fault: 'client',
  });
  return validationErrorInstance;
}

function idItemOf(event: ReturnType<typeof ledgerEvent>, shards = DEFAULT_SHARD_COUNT) {
  return {
    pk: { S: `ID#${LEDGER}#${event.id}` },
    sk: { S: 'ID' },
    eventPk: { S: eventPartitionKey(LEDGER, PERIOD, shardOf(event.id, shards)) },
    eventSk: { S: `${event.receivedAt}#${event.id}` },
    leafHash: { B: event.leafHash },
    inputSha256: { S: event.inputSha256 },
    receipt: { S: canonicalString(event.receipt) },
  };
}

describe('Class: DynamoDbLedgerStore', () => {
  beforeEach(() => {
    ddb.reset();
  });

  afterEach(() => {
    // G1: the adapter never updates or deletes a ledger item.
    expect(ddb.commandCalls(UpdateItemCommand)).toHaveLength(0);
    expect(ddb.commandCalls(DeleteItemCommand)).toHaveLength(0);
  });

  describe('Function: shardOf', () => {
    it('is the first byte of SHA-256(id) modulo the shard count', () => {
      // Prepare
      const first = createHash('sha256').update('app-1').digest()[0]!;

      // Act
      const shard = shardOf('app-1', 16);

      // Assess
      expect(shard).toBe(first % 16);
      expect(eventPartitionKey('main', PERIOD, 7)).toBe('EV#main#20261122T210000Z#07');
    });
  });

  describe('Method: putBatch', () => {
    it('puts the batch seal first, then each event with its id item in one conditional transaction', async () => {
      // Prepare
      const events = [ledgerEvent(1), ledgerEvent(2)];
      ddb.on(PutItemCommand).resolves({});
      ddb.on(TransactWriteItemsCommand).resolves({});

      // Act
      await store().putBatch(SEAL, events);

      // Assess
      expect(ddb.commandCalls(PutItemCommand)[0]!.args[0].input).toEqual({
        TableName: TABLE,
        Item: {
          pk: { S: 'BA#main#b1' },
          sk: { S: 'BA' },
          statement: { S: STATEMENT },
          signature: { B: SEAL.signature },
          receivedAt: { S: RECEIVED_AT },
          size: { N: '2' },
        },
        ConditionExpression: IF_ABSENT,
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
      const [transaction] = ddb.commandCalls(TransactWriteItemsCommand);
      const input = transaction!.args[0].input;
      expect(input.ClientRequestToken).toMatch(/^[0-9a-f]{36}$/);
      expect(input.TransactItems).toEqual(
        events.flatMap((event) => [
          {
            Put: {
              TableName: TABLE,
              Item: {
                pk: { S: eventPartitionKey(LEDGER, PERIOD, shardOf(event.id, DEFAULT_SHARD_COUNT)) },
                sk: { S: `${RECEIVED_AT}#${event.id}` },
                id: { S: event.id },
                body: { B: event.bytes },
                leafHash: { B: event.leafHash },
                batchId: { S: 'b1' },
                receivedAt: { S: RECEIVED_AT },
                actorId: { S: 'alice' },
                action: { S: 'ssh.login' },
                outcome: { S: 'success' },
                ...(event.index.resourceId ? { resourceId: { S: event.index.resourceId } } : {}),
              },
              ConditionExpression: IF_ABSENT,
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
          {
            Put: {
              TableName: TABLE,
              Item: idItemOf(event),
              ConditionExpression: IF_ABSENT,
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
        ]),
      );
      const order = ddb.calls().map((c) => c.args[0].constructor.name);
      expect(order).toEqual(['PutItemCommand', 'TransactWriteItemsCommand']);
    });

    it('writes at most 50 events (100 items) per transaction', async () => {
      // Prepare
      const events = Array.from({ length: 120 }, (_, i) => ledgerEvent(i));
      ddb.on(PutItemCommand).resolves({});
      ddb.on(TransactWriteItemsCommand).resolves({});

      // Act
      await store().putBatch(SEAL, events);

      // Assess
      const sizes = ddb
        .commandCalls(TransactWriteItemsCommand)
        .map((c) => c.args[0].input.TransactItems!.length);
      expect(sizes).toEqual([100, 100, 40]);
    });

    it('keeps each transaction under 4 MB of items', async () => {
      // Prepare
      const events = Array.from({ length: 30 }, (_, i) => ledgerEvent(i, { bodyPadding: 200_000 }));
      ddb.on(PutItemCommand).resolves({});
      ddb.on(TransactWriteItemsCommand).resolves({});

      // Act
      await store().putBatch(SEAL, events);

      // Assess
      const calls = ddb.commandCalls(TransactWriteItemsCommand);
      expect(calls.length).toBe(2);
      for (const call of calls) {
        const bytes = call.args[0].input.TransactItems!.reduce(
          (n, t) => n + ((t.Put!.Item!['body']?.B?.length ?? 0) as number),
          0,
        );
        expect(bytes).toBeLessThan(4_000_000);
      }
    });

    describe('when an identical batch seal already exists (a retried call)', () => {
      it('goes on with the events', async () => {
        // Prepare
        const existing = ddb.commandCalls(PutItemCommand); // none yet
        expect(existing).toHaveLength(0);
        ddb.on(PutItemCommand).rejects(
          new ConditionalCheckFailedException({
            message: 'exists',
            ...meta,
            Item: {
              pk: { S: 'BA#main#b1' },
              sk: { S: 'BA' },
              statement: { S: STATEMENT },
              signature: { B: SEAL.signature },
              receivedAt: { S: RECEIVED_AT },
              size: { N: '2' },
            },
          }),
        );
        ddb.on(TransactWriteItemsCommand).resolves({});

        // Act
        await store().putBatch(SEAL, [ledgerEvent(1)]);

        // Assess
        expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(1);
      });
    });

    describe('when a different batch seal exists under the batch id', () => {
      it('throws BatchSealConflictError and writes no event', async () => {
        // Prepare
        ddb.on(PutItemCommand).rejects(
          new ConditionalCheckFailedException({
            message: 'exists',
            ...meta,
            Item: {
              statement: { S: 'other' },
              signature: { B: SEAL.signature },
              receivedAt: { S: RECEIVED_AT },
              size: { N: '2' },
            },
          }),
        );

        // Act
        const error = await store()
          .putBatch(SEAL, [ledgerEvent(1)])
          .catch((e: unknown) => e);

        // Assess
        expect(error).toBeInstanceOf(BatchSealConflictError);
        expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(0);
      });
    });

    describe('when the condition fails without the old item', () => {
      it('reads the seal back with a consistent GetItem to compare', async () => {
        // Prepare
        ddb.on(PutItemCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', ...meta }));
        ddb.on(GetItemCommand).resolves({
          Item: {
            statement: { S: STATEMENT },
            signature: { B: SEAL.signature },
            receivedAt: { S: RECEIVED_AT },
            size: { N: '2' },
          },
        });
        ddb.on(TransactWriteItemsCommand).resolves({});

        // Act
        await store().putBatch(SEAL, [ledgerEvent(1)]);

        // Assess
        expect(ddb.commandCalls(GetItemCommand)[0]!.args[0].input).toEqual({
          TableName: TABLE,
          Key: { pk: { S: 'BA#main#b1' }, sk: { S: 'BA' } },
          ConsistentRead: true,
        });
      });
    });

    describe('when ids already exist', () => {
      it('maps the cancellation reasons to the taken ids and their old id items', async () => {
        // Prepare
        const events = Array.from({ length: 52 }, (_, i) => ledgerEvent(i));
        const taken = events[51]!;
        ddb.on(PutItemCommand).resolves({});
        const reasons = [
          { Code: 'None' },
          { Code: 'None' },
          { Code: 'ConditionalCheckFailed' },
          { Code: 'ConditionalCheckFailed', Item: idItemOf(taken) },
        ];
        ddb
          .on(TransactWriteItemsCommand)
          .resolvesOnce({})
          .rejectsOnce(
            new TransactionCanceledException({ message: 'cancelled', ...meta, CancellationReasons: reasons }),
          );

        // Act
        const error = (await store()
          .putBatch(SEAL, events)
          .catch((e: unknown) => e)) as EventIdsTakenError;

        // Assess
        expect(error).toBeInstanceOf(EventIdsTakenError);
        expect(error.taken).toEqual(['app-51']);
        expect(error.stored).toEqual(events.slice(0, 50).map((e) => e.id));
        expect(error.existing.get('app-51')).toEqual({
          id: 'app-51',
          inputSha256: taken.inputSha256,
          receivedAt: RECEIVED_AT,
          receipt: taken.receipt,
        });
      });
    });

    describe('when a transaction is cancelled by a conflict', () => {
      it('retries the same transaction with the same token', async () => {
        // Prepare
        ddb.on(PutItemCommand).resolves({});
        ddb
          .on(TransactWriteItemsCommand)
          .rejectsOnce(
            new TransactionCanceledException({
              message: 'cancelled',
              ...meta,
              CancellationReasons: [{ Code: 'TransactionConflict' }, { Code: 'None' }],
            }),
          )
          .resolves({});

        // Act
        await store().putBatch(SEAL, [ledgerEvent(1)]);

        // Assess
        const calls = ddb.commandCalls(TransactWriteItemsCommand);
        expect(calls).toHaveLength(2);
        expect(calls[1]!.args[0].input).toEqual(calls[0]!.args[0].input);
      });

      it('gives up after maxAttempts with LedgerUnavailableError naming what was stored', async () => {
        // Prepare
        const events = Array.from({ length: 51 }, (_, i) => ledgerEvent(i));
        ddb.on(PutItemCommand).resolves({});
        ddb
          .on(TransactWriteItemsCommand)
          .resolvesOnce({})
          .rejects(
            new TransactionCanceledException({
              message: 'cancelled',
              ...meta,
              CancellationReasons: [{ Code: 'ThrottlingError' }, { Code: 'None' }],
            }),
          );

        // Act
        const error = (await store({ maxAttempts: 3 })
          .putBatch(SEAL, events)
          .catch((e: unknown) => e)) as LedgerUnavailableError;

        // Assess
        expect(error).toBeInstanceOf(LedgerUnavailableError);
        expect(error.stored).toEqual(events.slice(0, 50).map((e) => e.id));
        expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(1 + 3);
      });
    });

    describe('when DynamoDB stays throttled after the SDK retries', () => {
      it('throws LedgerUnavailableError', async () => {
        // Prepare
        ddb.on(PutItemCommand).resolves({});
        ddb
          .on(TransactWriteItemsCommand)
          .rejects(new ProvisionedThroughputExceededException({ message: 'slow down', ...meta }));

        // Act
        const error = (await store()
          .putBatch(SEAL, [ledgerEvent(1)])
          .catch((e: unknown) => e)) as LedgerUnavailableError;

        // Assess
        expect(error).toBeInstanceOf(LedgerUnavailableError);
        expect(error.stored).toEqual([]);
      });
    });

    describe('when an unexpected error follows a committed transaction', () => {
      it('throws LedgerWriteError naming the stored ids', async () => {
        // Prepare
        const events = Array.from({ length: 51 }, (_, i) => ledgerEvent(i));
        ddb.on(PutItemCommand).resolves({});
        ddb.on(TransactWriteItemsCommand).resolvesOnce({}).rejects(validationError());

        // Act
        const error = (await store()
          .putBatch(SEAL, events)
          .catch((e: unknown) => e)) as LedgerWriteError;

        // Assess
        expect(error).toBeInstanceOf(LedgerWriteError);
        expect(error.stored).toHaveLength(50);
        expect(error.cause).toBe(validationErrorInstance);
      });
    });

    describe('when an unexpected error comes before anything is stored', () => {
      it('passes the SDK error on unchanged', async () => {
        // Prepare
        const sdkError = validationError();
        ddb.on(PutItemCommand).resolves({});
        ddb.on(TransactWriteItemsCommand).rejects(sdkError);

        // Act
        const error = await store()
          .putBatch(SEAL, [ledgerEvent(1)])
          .catch((e: unknown) => e);

        // Assess
        expect(error).toBe(sdkError);
      });
    });
  });

  describe('Method: findEventIds', () => {
    it('reads id items with consistent BatchGetItem, 100 keys per call', async () => {
      // Prepare
      const events = Array.from({ length: 150 }, (_, i) => ledgerEvent(i));
      ddb.on(BatchGetItemCommand).resolves({ Responses: { [TABLE]: [idItemOf(events[7]!)] } });

      // Act
      const found = await store().findEventIds(
        LEDGER,
        events.map((e) => e.id),
      );

      // Assess
      const calls = ddb.commandCalls(BatchGetItemCommand);
      expect(calls).toHaveLength(2);
      expect(calls[0]!.args[0].input).toEqual({
        RequestItems: {
          [TABLE]: {
            Keys: events.slice(0, 100).map((e) => ({ pk: { S: `ID#${LEDGER}#${e.id}` }, sk: { S: 'ID' } })),
            ConsistentRead: true,
          },
        },
      });
      expect(calls[1]!.args[0].input.RequestItems![TABLE]!.Keys).toHaveLength(50);
      expect([...found.keys()]).toEqual(['app-7']);
      expect(found.get('app-7')!.receipt).toEqual(events[7]!.receipt);
    });

    it('retries unprocessed keys', async () => {
      // Prepare
      const event = ledgerEvent(1);
      const key = { pk: { S: `ID#${LEDGER}#app-1` }, sk: { S: 'ID' } };
      ddb
        .on(BatchGetItemCommand)
        .resolvesOnce({ UnprocessedKeys: { [TABLE]: { Keys: [key] } } })
        .resolves({ Responses: { [TABLE]: [idItemOf(event)] } });

      // Act
      const found = await store().findEventIds(LEDGER, ['app-1']);

      // Assess
      expect(ddb.commandCalls(BatchGetItemCommand)[1]!.args[0].input.RequestItems![TABLE]!.Keys).toEqual([
        key,
      ]);
      expect(found.has('app-1')).toBe(true);
    });

    describe('when keys stay unprocessed', () => {
      it('throws LedgerUnavailableError', async () => {
        // Prepare
        const key = { pk: { S: `ID#${LEDGER}#app-1` }, sk: { S: 'ID' } };
        ddb.on(BatchGetItemCommand).resolves({ UnprocessedKeys: { [TABLE]: { Keys: [key] } } });

        // Act
        const error = await store({ maxAttempts: 2 })
          .findEventIds(LEDGER, ['app-1'])
          .catch((e: unknown) => e);

        // Assess
        expect(error).toBeInstanceOf(LedgerUnavailableError);
        expect(ddb.commandCalls(BatchGetItemCommand)).toHaveLength(2);
      });
    });

    describe('when an id item has been tampered with', () => {
      it('throws CorruptItemError naming the item', async () => {
        // Prepare
        const item = { ...idItemOf(ledgerEvent(1)), receipt: { S: '{"type":"x"}' } };
        ddb.on(BatchGetItemCommand).resolves({ Responses: { [TABLE]: [item] } });

        // Act
        const error = (await store()
          .findEventIds(LEDGER, ['app-1'])
          .catch((e: unknown) => e)) as CorruptItemError;

        // Assess
        expect(error).toBeInstanceOf(CorruptItemError);
        expect(error.key).toEqual({ pk: 'ID#main#app-1', sk: 'ID' });
      });
    });
  });

  describe('Method: readPeriod', () => {
    it('queries every shard with consistent reads, page by page, and merges by sort key', async () => {
      // Prepare
      const times = ['2026-11-22T21:00:00.000Z', '2026-11-22T21:00:00.001Z', '2026-11-22T21:30:00.000Z'];
      const events = [
        ledgerEvent(1, { receivedAt: times[2] }),
        ledgerEvent(2, { receivedAt: times[0] }),
        ledgerEvent(3, { receivedAt: times[1] }),
        ledgerEvent(4, { receivedAt: times[0] }),
      ];
      const itemOf = (e: (typeof events)[number]) => ({
        sk: { S: `${e.receivedAt}#${e.id}` },
        id: { S: e.id },
        body: { B: e.bytes },
        receivedAt: { S: e.receivedAt },
      });
      // Shard 00 holds two pages; shard 01 one page; the other shards are empty.
      const pk = (shard: number) => eventPartitionKey(LEDGER, PERIOD, shard);
      ddb.on(QueryCommand).resolves({ Items: [] });
      ddb
        .on(QueryCommand, { ExpressionAttributeValues: { ':pk': { S: pk(0) } } })
        .resolvesOnce({ Items: [itemOf(events[1]!)], LastEvaluatedKey: { pk: { S: pk(0) }, sk: { S: 'x' } } })
        .resolvesOnce({ Items: [itemOf(events[0]!)] });
      ddb
        .on(QueryCommand, { ExpressionAttributeValues: { ':pk': { S: pk(1) } } })
        .resolves({ Items: [itemOf(events[3]!), itemOf(events[2]!)] });

      // Act
      const read = [];
      for await (const e of store().readPeriod(LEDGER, PERIOD)) read.push(e);

      // Assess
      expect(read.map((e) => e.id)).toEqual(['app-2', 'app-4', 'app-3', 'app-1']);
      expect(read[0]).toEqual({ id: 'app-2', bytes: events[1]!.bytes, receivedAt: times[0] });
      const calls = ddb.commandCalls(QueryCommand);
      expect(calls).toHaveLength(DEFAULT_SHARD_COUNT + 1); // every shard once, shard 00 twice (two pages)
      expect(calls[0]!.args[0].input).toEqual({
        TableName: TABLE,
        KeyConditionExpression: '#pk = :pk',
        ProjectionExpression: '#sk, #id, #body, #receivedAt',
        ExpressionAttributeNames: {
          '#pk': 'pk',
          '#sk': 'sk',
          '#id': 'id',
          '#body': 'body',
          '#receivedAt': 'receivedAt',
        },
        ExpressionAttributeValues: { ':pk': { S: pk(0) } },
        ConsistentRead: true,
      });
      const second = calls.find((c) => c.args[0].input.ExclusiveStartKey !== undefined);
      expect(second!.args[0].input.ExclusiveStartKey).toEqual({ pk: { S: pk(0) }, sk: { S: 'x' } });
    });

    describe('when an event item does not match its sort key', () => {
      it('throws CorruptItemError', async () => {
        // Prepare
        const e = ledgerEvent(1);
        ddb.on(QueryCommand).resolves({
          Items: [
            {
              sk: { S: `${RECEIVED_AT}#app-9` },
              id: { S: e.id },
              body: { B: e.bytes },
              receivedAt: { S: RECEIVED_AT },
            },
          ],
        });

        // Act
        const error = await (async () => {
          for await (const _ of store({ shardCount: 1 }).readPeriod(LEDGER, PERIOD)) {
            // drain
          }
        })().catch((err: unknown) => err);

        // Assess
        expect(error).toBeInstanceOf(CorruptItemError);
      });
    });
  });

  describe('Method: recordSecuritySignal', () => {
    it('puts one conditional signal item per call', async () => {
      // Prepare
      ddb.on(PutItemCommand).resolves({});

      // Act
      await store().recordSecuritySignal({
        ledger: LEDGER,
        kind: 'ID_CONFLICT',
        at: RECEIVED_AT,
        principal: 'arn:aws:iam::1:user/u',
        requestId: 'r1',
        channel: 'api',
        conflicts: [{ eventId: 'app-1', storedInputSha256: 'aa', attemptedInputSha256: 'bb' }],
      });

      // Assess
      const input = ddb.commandCalls(PutItemCommand)[0]!.args[0].input;
      expect(input).toEqual({
        TableName: TABLE,
        Item: {
          pk: { S: 'SG#main#2026-11-22' },
          sk: { S: expect.stringMatching(/^2026-11-22T21:10:00\.123Z#[0-9a-f-]{36}$/) },
          kind: { S: 'ID_CONFLICT' },
          principal: { S: 'arn:aws:iam::1:user/u' },
          requestId: { S: 'r1' },
          channel: { S: 'api' },
          conflicts: {
            L: [
              {
                M: {
                  eventId: { S: 'app-1' },
                  storedInputSha256: { S: 'aa' },
                  attemptedInputSha256: { S: 'bb' },
                },
              },
            ],
          },
        },
        ConditionExpression: IF_ABSENT,
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
    });
  });

  describe('Method: getEvent', () => {
    it('follows the id item to the event item', async () => {
      // Prepare
      const e = ledgerEvent(2);
      const eventKey = {
        pk: { S: eventPartitionKey(LEDGER, PERIOD, shardOf(e.id, DEFAULT_SHARD_COUNT)) },
        sk: { S: `${RECEIVED_AT}#${e.id}` },
      };
      ddb
        .on(GetItemCommand, { Key: { pk: { S: `ID#${LEDGER}#app-2` }, sk: { S: 'ID' } } })
        .resolves({ Item: idItemOf(e) });
      ddb.on(GetItemCommand, { Key: eventKey }).resolves({
        Item: {
          ...eventKey,
          id: { S: e.id },
          body: { B: e.bytes },
          leafHash: { B: e.leafHash },
          batchId: { S: 'b1' },
          receivedAt: { S: RECEIVED_AT },
        },
      });

      // Act
      const event = await store().getEvent(LEDGER, 'app-2');

      // Assess
      expect(event).toEqual({
        id: 'app-2',
        inputSha256: e.inputSha256,
        receivedAt: RECEIVED_AT,
        receipt: e.receipt,
        bytes: e.bytes,
        leafHash: e.leafHash,
        batchId: 'b1',
      });
      for (const call of ddb.commandCalls(GetItemCommand))
        expect(call.args[0].input.ConsistentRead).toBe(true);
    });

    it('returns undefined for an unknown id', async () => {
      // Prepare
      ddb.on(GetItemCommand).resolves({});

      // Act
      const event = await store().getEvent(LEDGER, 'nope');

      // Assess
      expect(event).toBeUndefined();
    });
  });
});

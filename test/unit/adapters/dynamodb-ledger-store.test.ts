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
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_SHARD_COUNT, eventPartitionKey, shardOf } from '../../../adapters/dynamodb/ledger-items.ts';
import { DynamoDbLedgerStore, MAX_EVENTS_PER_TRANSACTION } from '../../../adapters/dynamodb/ledger-store.ts';
import { canonicalString } from '../../../shared/canonical/jcs.ts';
import {
  type BatchSeal,
  BatchSealConflictError,
  CorruptItemError,
  EventIdsTakenError,
  type LedgerEvent,
  LedgerUnavailableError,
  LedgerWriteError,
  PeriodClosedError,
  type PeriodRow,
  WriteStoppedError,
} from '../../../shared/ports/ledger-store.ts';
import { LEDGER, ledgerEvent, PERIOD, RECEIVED_AT, SEAL, STATEMENT, TABLE } from './ledger-fixtures.ts';

const ddb = mockClient(DynamoDBClient);
const IF_ABSENT = 'attribute_not_exists(pk)';
/** Label of PERIOD (2026-11-22T21:00:00Z, one hour) in keys. */
const LABEL = '20261122T210000Z';
const CLOSE_MARKER = { pk: { S: `CL#${LEDGER}` }, sk: { S: `${LABEL}-3600s` } };
const CLOSE_CHECK = {
  ConditionCheck: { TableName: TABLE, Key: CLOSE_MARKER, ConditionExpression: IF_ABSENT },
};

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

function cancelled(
  reasons: { Code: string; Item?: Record<string, unknown> }[],
): TransactionCanceledException {
  return new TransactionCanceledException({
    message: 'cancelled',
    ...meta,
    CancellationReasons: reasons as TransactionCanceledException['CancellationReasons'],
  });
}

/** Cancellation reasons of a transaction of `events` events: all `None`, the close check last. */
function noneReasons(events: number, closeCheck = 'None'): { Code: string }[] {
  return [...Array.from({ length: 2 * events }, () => ({ Code: 'None' })), { Code: closeCheck }];
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** Batch partition of `batchId` in PERIOD: `BA#<ledger>#<label>#<shard:2>`, sharded like events. */
function batchPk(batchId: string, shards = DEFAULT_SHARD_COUNT): string {
  return `BA#${LEDGER}#${LABEL}#${pad2(shardOf(batchId, shards))}`;
}

function leavesJson(seal: BatchSeal): string {
  return JSON.stringify(seal.leaves.map((l) => [l.eventId, Buffer.from(l.leafHash).toString('hex')]));
}

/** The batch row as the ledger writes it (docs/LEDGER-TABLE.md), hand-built. */
function batchRowOf(seal: BatchSeal, pk = batchPk(seal.batchId)) {
  return {
    pk: { S: pk },
    sk: { S: `${seal.receivedAt}#${seal.batchId}` },
    batchId: { S: seal.batchId },
    statement: { S: seal.statement },
    signature: { B: seal.signature },
    receivedAt: { S: seal.receivedAt },
    size: { N: String(seal.size) },
    leaves: { S: leavesJson(seal) },
  };
}

/** A seal of batch `batchId` received at `receivedAt` over events `app-<n>`. */
function sealOf(batchId: string, receivedAt: string, ns: number[]): BatchSeal {
  return {
    ledger: LEDGER,
    batchId,
    receivedAt,
    statement: canonicalString({ type: 'auditseal.batch-statement.v2', batchId }),
    signature: new Uint8Array([0x30, 0x06, 0x02, 0x01, ns.length, 0x02, 0x01, 0x01]),
    size: ns.length,
    leaves: ns.map((n) => ({
      eventId: `app-${n}`,
      receivedAt,
      leafHash: ledgerEvent(n, { receivedAt }).leafHash,
    })),
  };
}

function idItemOf(event: LedgerEvent, shards = DEFAULT_SHARD_COUNT) {
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

function eventItemOf(event: LedgerEvent, shards = DEFAULT_SHARD_COUNT) {
  return {
    pk: { S: eventPartitionKey(LEDGER, PERIOD, shardOf(event.id, shards)) },
    sk: { S: `${event.receivedAt}#${event.id}` },
    id: { S: event.id },
    body: { B: event.bytes },
    leafHash: { B: event.leafHash },
    batchId: { S: event.batchId },
    receivedAt: { S: event.receivedAt },
    actorId: { S: 'alice' },
    action: { S: 'ssh.login' },
    outcome: { S: 'success' },
    ...(event.index.resourceId ? { resourceId: { S: event.index.resourceId } } : {}),
    ...searchKeysOf(event),
  };
}

/**
 * The search index keys of docs/LEDGER-TABLE.md ("Search indexes"), computed here from the documented
 * layout: `<A|X|R>#<ledger>#<base64url SHA-256 of the value>#<shard of 16, two digits>`.
 */
function searchKeysOf(event: LedgerEvent) {
  const shard = String(shardOf(event.id, 16)).padStart(2, '0');
  const key = (prefix: string, value: string) => ({
    S: `${prefix}#${LEDGER}#${createHash('sha256').update(value, 'utf8').digest('base64url')}#${shard}`,
  });
  return {
    ixActor: key('A', event.index.actorId),
    ixAction: key('X', event.index.action),
    ...(event.index.resourceId ? { ixResource: key('R', event.index.resourceId) } : {}),
  };
}

function conditionalPut(item: Record<string, unknown>) {
  return {
    Put: {
      TableName: TABLE,
      Item: item,
      ConditionExpression: IF_ABSENT,
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

async function drain<T>(rows: AsyncIterable<T>): Promise<T[]> {
  const read: T[] = [];
  for await (const row of rows) read.push(row);
  return read;
}

function idsOf(rows: readonly PeriodRow[]): string[] {
  return rows.map((r) => ('malformed' in r ? `malformed ${r.item.sk}` : r.id));
}

function transactionCalls() {
  return ddb.commandCalls(TransactWriteItemsCommand).map((c) => c.args[0].input);
}

describe('Class: DynamoDbLedgerStore', () => {
  beforeEach(() => {
    ddb.reset();
  });

  afterEach(() => {
    vi.useRealTimers();
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
    it('puts the batch seal first, then the events with their id items and the close check in one transaction', async () => {
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
          pk: { S: batchPk('b1') },
          sk: { S: `${RECEIVED_AT}#b1` },
          batchId: { S: 'b1' },
          statement: { S: STATEMENT },
          signature: { B: SEAL.signature },
          receivedAt: { S: RECEIVED_AT },
          size: { N: '2' },
          leaves: {
            S: JSON.stringify([
              ['app-1', Buffer.from(events[0]!.leafHash).toString('hex')],
              ['app-2', Buffer.from(events[1]!.leafHash).toString('hex')],
            ]),
          },
        },
        ConditionExpression: IF_ABSENT,
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
      const [input] = transactionCalls();
      expect(input!.ClientRequestToken).toMatch(/^[0-9a-f]{36}$/);
      expect(input!.TransactItems).toEqual([
        ...events.flatMap((event) => [conditionalPut(eventItemOf(event)), conditionalPut(idItemOf(event))]),
        CLOSE_CHECK,
      ]);
      const order = ddb.calls().map((c) => c.args[0].constructor.name);
      expect(order).toEqual(['PutItemCommand', 'TransactWriteItemsCommand']);
    });

    it('writes at most 49 events (98 items) plus the close check per transaction, guarded before each', async () => {
      // Prepare
      const events = Array.from({ length: 120 }, (_, i) => ledgerEvent(i));
      ddb.on(PutItemCommand).resolves({});
      ddb.on(TransactWriteItemsCommand).resolves({});
      const sentBeforeGuard: number[] = [];

      // Act
      await store().putBatch(SEAL, events, () => {
        sentBeforeGuard.push(ddb.commandCalls(TransactWriteItemsCommand).length);
      });

      // Assess
      const calls = transactionCalls();
      expect(calls.map((c) => c.TransactItems!.length)).toEqual([99, 99, 45]);
      for (const call of calls) expect(call.TransactItems!.at(-1)).toEqual(CLOSE_CHECK);
      const written = calls.flatMap((c) => c.TransactItems!.flatMap((t) => (t.Put ? [t.Put.Item!] : [])));
      expect(written).toEqual(events.flatMap((e) => [eventItemOf(e), idItemOf(e)]));
      expect(new Set(calls.map((c) => c.ClientRequestToken)).size).toBe(3);
      expect(sentBeforeGuard).toEqual([0, 1, 2]);
    });

    it('keeps each transaction under 4 MB of items', async () => {
      // Prepare
      const events = Array.from({ length: 30 }, (_, i) => ledgerEvent(i, { bodyPadding: 200_000 }));
      ddb.on(PutItemCommand).resolves({});
      ddb.on(TransactWriteItemsCommand).resolves({});

      // Act
      await store().putBatch(SEAL, events);

      // Assess
      const calls = transactionCalls();
      expect(calls.length).toBe(2);
      for (const call of calls) {
        const bytes = call.TransactItems!.reduce((n, t) => n + (t.Put?.Item?.['body']?.B?.length ?? 0), 0);
        expect(bytes).toBeLessThan(4_000_000);
        expect(call.TransactItems!.at(-1)).toEqual(CLOSE_CHECK);
      }
    });

    it('splits any batch into transactions of at most 49 events, each ending with the close check', async () => {
      // Prepare
      const pool = Array.from({ length: 160 }, (_, i) => ledgerEvent(i));
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: pool.length }), async (count) => {
          ddb.reset();
          ddb.on(PutItemCommand).resolves({});
          ddb.on(TransactWriteItemsCommand).resolves({});
          const events = pool.slice(0, count);
          let guarded = 0;

          // Act
          await store().putBatch(SEAL, events, () => {
            guarded++;
          });

          // Assess
          const calls = transactionCalls();
          expect(calls).toHaveLength(Math.ceil(count / MAX_EVENTS_PER_TRANSACTION));
          expect(guarded).toBe(calls.length);
          for (const call of calls) {
            const items = call.TransactItems!;
            expect(items.length).toBeLessThanOrEqual(2 * MAX_EVENTS_PER_TRANSACTION + 1);
            expect(items.at(-1)).toEqual(CLOSE_CHECK);
            expect(items.slice(0, -1).every((t) => t.Put !== undefined)).toBe(true);
          }
          const ids = calls.flatMap((c) =>
            c.TransactItems!.flatMap((t) => (t.Put?.Item?.['id'] ? [t.Put.Item['id'].S] : [])),
          );
          expect(ids).toEqual(events.map((e) => e.id));
        }),
        { numRuns: 25 },
      );
    });

    describe('when an identical batch seal already exists (a retried call)', () => {
      it('goes on with the events', async () => {
        // Prepare
        ddb
          .on(PutItemCommand)
          .rejects(
            new ConditionalCheckFailedException({ message: 'exists', ...meta, Item: batchRowOf(SEAL) }),
          );
        ddb.on(TransactWriteItemsCommand).resolves({});

        // Act
        await store().putBatch(SEAL, [ledgerEvent(1)]);

        // Assess
        expect(ddb.commandCalls(GetItemCommand)).toHaveLength(0);
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
            Item: { ...batchRowOf(SEAL), statement: { S: 'other' } },
          }),
        );

        // Act
        const error = (await store()
          .putBatch(SEAL, [ledgerEvent(1)])
          .catch((e: unknown) => e)) as BatchSealConflictError;

        // Assess
        expect(error).toBeInstanceOf(BatchSealConflictError);
        expect(error.batchId).toBe('b1');
        expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(0);
      });
    });

    describe('when the condition fails without the old item', () => {
      it('reads the seal back with a consistent GetItem of its batch key to compare', async () => {
        // Prepare
        ddb.on(PutItemCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', ...meta }));
        ddb.on(GetItemCommand).resolves({ Item: batchRowOf(SEAL) });
        ddb.on(TransactWriteItemsCommand).resolves({});

        // Act
        await store().putBatch(SEAL, [ledgerEvent(1)]);

        // Assess
        expect(ddb.commandCalls(GetItemCommand)[0]!.args[0].input).toEqual({
          TableName: TABLE,
          Key: { pk: { S: batchPk('b1') }, sk: { S: `${RECEIVED_AT}#b1` } },
          ConsistentRead: true,
        });
        expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(1);
      });
    });

    describe('when there are no events', () => {
      it('throws LedgerWriteError and sends nothing', async () => {
        // Act
        const error = (await store()
          .putBatch(SEAL, [])
          .catch((e: unknown) => e)) as LedgerWriteError;

        // Assess
        expect(error).toBeInstanceOf(LedgerWriteError);
        expect(error.stored).toEqual([]);
        expect(ddb.calls()).toHaveLength(0);
      });
    });

    describe('when ids already exist', () => {
      it('maps the cancellation reasons to the taken ids and their old id items', async () => {
        // Prepare
        const events = Array.from({ length: 52 }, (_, i) => ledgerEvent(i));
        const taken = events[51]!;
        ddb.on(PutItemCommand).resolves({});
        const reasons = [
          ...noneReasons(2).slice(0, 4),
          { Code: 'ConditionalCheckFailed' },
          { Code: 'ConditionalCheckFailed', Item: idItemOf(taken) },
          { Code: 'None' },
        ];
        ddb.on(TransactWriteItemsCommand).resolvesOnce({}).rejectsOnce(cancelled(reasons));

        // Act
        const error = (await store()
          .putBatch(SEAL, events)
          .catch((e: unknown) => e)) as EventIdsTakenError;

        // Assess
        expect(error).toBeInstanceOf(EventIdsTakenError);
        expect(error.taken).toEqual(['app-51']);
        expect(error.stored).toEqual(events.slice(0, 49).map((e) => e.id));
        expect(error.existing.get('app-51')).toEqual({
          id: 'app-51',
          inputSha256: taken.inputSha256,
          receivedAt: RECEIVED_AT,
          receipt: taken.receipt,
        });
        expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(2);
      });
    });

    describe('when the period is closed (the close check is the failed condition)', () => {
      it('throws PeriodClosedError naming the period and what earlier transactions stored', async () => {
        // Prepare
        const events = Array.from({ length: 60 }, (_, i) => ledgerEvent(i));
        ddb.on(PutItemCommand).resolves({});
        ddb
          .on(TransactWriteItemsCommand)
          .resolvesOnce({})
          .rejects(cancelled(noneReasons(11, 'ConditionalCheckFailed')));

        // Act
        const error = (await store({ maxAttempts: 3 })
          .putBatch(SEAL, events)
          .catch((e: unknown) => e)) as PeriodClosedError;

        // Assess
        expect(error).toBeInstanceOf(PeriodClosedError);
        expect(error.code).toBe('PERIOD_CLOSED');
        expect(error.message).toBe('period 2026-11-22T21:00:00Z is closed for sealing');
        expect(error.stored).toEqual(events.slice(0, 49).map((e) => e.id));
        expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(2); // final: not retried
      });

      it('throws PeriodClosedError with nothing stored when the first transaction is refused', async () => {
        // Prepare
        ddb.on(PutItemCommand).resolves({});
        ddb.on(TransactWriteItemsCommand).rejects(cancelled(noneReasons(2, 'ConditionalCheckFailed')));

        // Act
        const error = (await store()
          .putBatch(SEAL, [ledgerEvent(1), ledgerEvent(2)])
          .catch((e: unknown) => e)) as PeriodClosedError;

        // Assess
        expect(error).toBeInstanceOf(PeriodClosedError);
        expect(error.stored).toEqual([]);
      });
    });

    describe('when the guard throws before a transaction', () => {
      it('throws WriteStoppedError naming what was stored, with the guard error as cause', async () => {
        // Prepare
        const events = Array.from({ length: 60 }, (_, i) => ledgerEvent(i));
        ddb.on(PutItemCommand).resolves({});
        ddb.on(TransactWriteItemsCommand).resolves({});
        const stop = new Error('period closing');
        let calls = 0;

        // Act
        const error = (await store()
          .putBatch(SEAL, events, () => {
            if (++calls === 2) throw stop;
          })
          .catch((e: unknown) => e)) as WriteStoppedError;

        // Assess
        expect(error).toBeInstanceOf(WriteStoppedError);
        expect(error.code).toBe('WRITE_STOPPED');
        expect(error.cause).toBe(stop);
        expect(error.stored).toEqual(events.slice(0, 49).map((e) => e.id));
        expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(1);
      });

      it('sends no transaction when the guard throws before the first one', async () => {
        // Prepare
        ddb.on(PutItemCommand).resolves({});
        ddb.on(TransactWriteItemsCommand).resolves({});

        // Act
        const error = (await store()
          .putBatch(SEAL, [ledgerEvent(1)], () => {
            throw new Error('deadline');
          })
          .catch((e: unknown) => e)) as WriteStoppedError;

        // Assess
        expect(error).toBeInstanceOf(WriteStoppedError);
        expect(error.stored).toEqual([]);
        expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(0);
      });
    });

    describe('when a transaction is cancelled by a conflict', () => {
      it('retries the same transaction with the same token', async () => {
        // Prepare
        ddb.on(PutItemCommand).resolves({});
        ddb
          .on(TransactWriteItemsCommand)
          .rejectsOnce(cancelled([{ Code: 'TransactionConflict' }, { Code: 'None' }, { Code: 'None' }]))
          .resolves({});

        // Act
        await store().putBatch(SEAL, [ledgerEvent(1)]);

        // Assess
        const calls = transactionCalls();
        expect(calls).toHaveLength(2);
        expect(calls[1]).toEqual(calls[0]);
      });

      it('gives up after maxAttempts with LedgerUnavailableError naming what was stored', async () => {
        // Prepare
        const events = Array.from({ length: 50 }, (_, i) => ledgerEvent(i));
        ddb.on(PutItemCommand).resolves({});
        ddb
          .on(TransactWriteItemsCommand)
          .resolvesOnce({})
          .rejects(cancelled([{ Code: 'ThrottlingError' }, { Code: 'None' }, { Code: 'None' }]));

        // Act
        const error = (await store({ maxAttempts: 3 })
          .putBatch(SEAL, events)
          .catch((e: unknown) => e)) as LedgerUnavailableError;

        // Assess
        expect(error).toBeInstanceOf(LedgerUnavailableError);
        expect(error.stored).toEqual(events.slice(0, 49).map((e) => e.id));
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
        const events = Array.from({ length: 50 }, (_, i) => ledgerEvent(i));
        ddb.on(PutItemCommand).resolves({});
        ddb.on(TransactWriteItemsCommand).resolvesOnce({}).rejects(validationError());

        // Act
        const error = (await store()
          .putBatch(SEAL, events)
          .catch((e: unknown) => e)) as LedgerWriteError;

        // Assess
        expect(error).toBeInstanceOf(LedgerWriteError);
        expect(error.stored).toEqual(events.slice(0, 49).map((e) => e.id));
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

  describe('Method: putAbandon', () => {
    const abandon = {
      statement: canonicalString({ type: 'auditseal.abandon-statement.v1', batchId: 'b1', abandoned: [1] }),
      signature: new Uint8Array([0x30, 0x06, 0x02, 0x01, 0x02, 0x02, 0x01, 0x02]),
    };

    it('puts the abandon row beside the batch row, conditionally', async () => {
      // Prepare
      ddb.on(PutItemCommand).resolves({});

      // Act
      await store().putAbandon(SEAL, PERIOD, abandon);

      // Assess
      expect(ddb.commandCalls(PutItemCommand)).toHaveLength(1);
      expect(ddb.commandCalls(PutItemCommand)[0]!.args[0].input).toEqual({
        TableName: TABLE,
        Item: {
          pk: { S: batchPk('b1') },
          sk: { S: `${RECEIVED_AT}#b1#abandon` },
          statement: { S: abandon.statement },
          signature: { B: abandon.signature },
        },
        ConditionExpression: IF_ABSENT,
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
    });

    describe('when the same abandon statement is already stored (a retry)', () => {
      it('succeeds', async () => {
        // Prepare
        ddb.on(PutItemCommand).rejects(
          new ConditionalCheckFailedException({
            message: 'exists',
            ...meta,
            Item: { statement: { S: abandon.statement }, signature: { B: abandon.signature } },
          }),
        );

        // Act
        const result = store().putAbandon(SEAL, PERIOD, abandon);

        // Assess
        await expect(result).resolves.toBeUndefined();
      });
    });

    describe('when a different abandon statement is stored', () => {
      it('throws BatchSealConflictError', async () => {
        // Prepare
        ddb.on(PutItemCommand).rejects(
          new ConditionalCheckFailedException({
            message: 'exists',
            ...meta,
            Item: { statement: { S: '{"other":true}' }, signature: { B: abandon.signature } },
          }),
        );

        // Act
        const error = (await store()
          .putAbandon(SEAL, PERIOD, abandon)
          .catch((e: unknown) => e)) as BatchSealConflictError;

        // Assess
        expect(error).toBeInstanceOf(BatchSealConflictError);
        expect(error.batchId).toBe('b1');
      });
    });

    describe('when DynamoDB stays throttled', () => {
      it('throws LedgerUnavailableError', async () => {
        // Prepare
        ddb
          .on(PutItemCommand)
          .rejects(new ProvisionedThroughputExceededException({ message: 'slow', ...meta }));

        // Act
        const error = await store()
          .putAbandon(SEAL, PERIOD, abandon)
          .catch((e: unknown) => e);

        // Assess
        expect(error).toBeInstanceOf(LedgerUnavailableError);
      });
    });
  });

  describe('Method: closePeriod', () => {
    it('puts the close marker conditionally', async () => {
      // Prepare
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2026-11-22T22:05:00.000Z'));
      ddb.on(PutItemCommand).resolves({});

      // Act
      await store().closePeriod(LEDGER, PERIOD);

      // Assess
      expect(ddb.commandCalls(PutItemCommand)).toHaveLength(1);
      expect(ddb.commandCalls(PutItemCommand)[0]!.args[0].input).toEqual({
        TableName: TABLE,
        Item: { ...CLOSE_MARKER, closedAt: { S: '2026-11-22T22:05:00.000Z' } },
        ConditionExpression: IF_ABSENT,
      });
    });

    describe('when the period is already closed', () => {
      it('succeeds without writing again', async () => {
        // Prepare
        ddb.on(PutItemCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', ...meta }));

        // Act
        const result = store().closePeriod(LEDGER, PERIOD);

        // Assess
        await expect(result).resolves.toBeUndefined();
        expect(ddb.commandCalls(PutItemCommand)).toHaveLength(1);
      });
    });

    describe('when the put fails for another reason', () => {
      it('passes the error on', async () => {
        // Prepare
        const sdkError = validationError();
        ddb.on(PutItemCommand).rejects(sdkError);

        // Act
        const error = await store()
          .closePeriod(LEDGER, PERIOD)
          .catch((e: unknown) => e);

        // Assess
        expect(error).toBe(sdkError);
      });
    });
  });

  describe('Method: getBatchItem', () => {
    it('reads the raw batch row by its period, shard and sort key, consistently', async () => {
      // Prepare
      const row = batchRowOf(SEAL);
      ddb.on(GetItemCommand).resolves({ Item: row });

      // Act
      const item = await store().getBatchItem(LEDGER, PERIOD, RECEIVED_AT, 'b1');

      // Assess
      expect(item).toEqual(row);
      expect(ddb.commandCalls(GetItemCommand)[0]!.args[0].input).toEqual({
        TableName: TABLE,
        Key: { pk: { S: batchPk('b1') }, sk: { S: `${RECEIVED_AT}#b1` } },
        ConsistentRead: true,
      });
    });

    it('uses the store shard count for the partition', async () => {
      // Prepare
      ddb.on(GetItemCommand).resolves({});

      // Act
      const item = await store({ shardCount: 3 }).getBatchItem(LEDGER, PERIOD, RECEIVED_AT, 'b1');

      // Assess
      expect(item).toBeUndefined();
      expect(ddb.commandCalls(GetItemCommand)[0]!.args[0].input.Key).toEqual({
        pk: { S: batchPk('b1', 3) },
        sk: { S: `${RECEIVED_AT}#b1` },
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
    const pk = (shard: number) => eventPartitionKey(LEDGER, PERIOD, shard);
    /** An event row as the period Query projects it (pk, sk, id, body, receivedAt, batchId). */
    const rowOf = (e: LedgerEvent, shard: number) => ({
      pk: { S: pk(shard) },
      sk: { S: `${e.receivedAt}#${e.id}` },
      id: { S: e.id },
      body: { B: e.bytes },
      receivedAt: { S: e.receivedAt },
      batchId: { S: e.batchId },
    });

    it('queries every shard with consistent reads, page by page, and merges by sort key', async () => {
      // Prepare
      const times = ['2026-11-22T21:00:00.000Z', '2026-11-22T21:00:00.001Z', '2026-11-22T21:30:00.000Z'];
      const events = [
        ledgerEvent(1, { receivedAt: times[2] }),
        ledgerEvent(2, { receivedAt: times[0] }),
        ledgerEvent(3, { receivedAt: times[1] }),
        ledgerEvent(4, { receivedAt: times[0] }),
      ];
      // Shard 00 holds two pages; shard 01 one page; the other shards are empty.
      ddb.on(QueryCommand).resolves({ Items: [] });
      ddb
        .on(QueryCommand, { ExpressionAttributeValues: { ':pk': { S: pk(0) } } })
        .resolvesOnce({
          Items: [rowOf(events[1]!, 0)],
          LastEvaluatedKey: { pk: { S: pk(0) }, sk: { S: 'x' } },
        })
        .resolvesOnce({ Items: [rowOf(events[0]!, 0)] });
      ddb
        .on(QueryCommand, { ExpressionAttributeValues: { ':pk': { S: pk(1) } } })
        .resolves({ Items: [rowOf(events[3]!, 1), rowOf(events[2]!, 1)] });

      // Act
      const read = await drain(store().readPeriod(LEDGER, PERIOD));

      // Assess
      expect(idsOf(read)).toEqual(['app-2', 'app-4', 'app-3', 'app-1']);
      expect(read[0]).toEqual({
        id: 'app-2',
        bytes: events[1]!.bytes,
        receivedAt: times[0],
        batchId: 'b1',
        item: { pk: pk(0), sk: `${times[0]}#app-2` },
      });
      expect(read[1]).toMatchObject({ item: { pk: pk(1), sk: `${times[0]}#app-4` } });
      const calls = ddb.commandCalls(QueryCommand);
      expect(calls).toHaveLength(DEFAULT_SHARD_COUNT + 1); // every shard once, shard 00 twice (two pages)
      expect(calls.map((c) => c.args[0].input.ExpressionAttributeValues![':pk']!.S).sort()).toEqual(
        [pk(0), ...Array.from({ length: DEFAULT_SHARD_COUNT }, (_, shard) => pk(shard))].sort(),
      );
      expect(calls[0]!.args[0].input).toEqual({
        TableName: TABLE,
        KeyConditionExpression: '#pk = :pk',
        ProjectionExpression: '#pk, #sk, #id, #body, #receivedAt, #batchId',
        ExpressionAttributeNames: {
          '#pk': 'pk',
          '#sk': 'sk',
          '#id': 'id',
          '#body': 'body',
          '#receivedAt': 'receivedAt',
          '#batchId': 'batchId',
        },
        ExpressionAttributeValues: { ':pk': { S: pk(0) } },
        ConsistentRead: true,
      });
      const second = calls.find((c) => c.args[0].input.ExclusiveStartKey !== undefined);
      expect(second!.args[0].input.ExclusiveStartKey).toEqual({ pk: { S: pk(0) }, sk: { S: 'x' } });
    });

    describe('when an event item does not match its sort key', () => {
      it('yields it as a malformed row and goes on', async () => {
        // Prepare
        const good = ledgerEvent(1);
        const forged = { ...rowOf(ledgerEvent(2), 0), sk: { S: `${RECEIVED_AT}#app-9` } };
        ddb.on(QueryCommand).resolves({ Items: [rowOf(good, 0), forged] });

        // Act
        const read = await drain(store({ shardCount: 1 }).readPeriod(LEDGER, PERIOD));

        // Assess
        expect(read).toEqual([
          {
            id: 'app-1',
            bytes: good.bytes,
            receivedAt: RECEIVED_AT,
            batchId: 'b1',
            item: { pk: pk(0), sk: `${RECEIVED_AT}#app-1` },
          },
          {
            malformed: true,
            item: { pk: pk(0), sk: `${RECEIVED_AT}#app-9` },
            reason: 'sort key does not match receivedAt and id',
          },
        ]);
      });
    });

    describe('when an event item lacks an attribute', () => {
      it('yields it as a malformed row naming the attribute', async () => {
        // Prepare
        const { body: _body, ...bodiless } = rowOf(ledgerEvent(1), 0);
        ddb.on(QueryCommand).resolves({ Items: [bodiless, rowOf(ledgerEvent(2), 0)] });

        // Act
        const read = await drain(store({ shardCount: 1 }).readPeriod(LEDGER, PERIOD));

        // Assess
        expect(idsOf(read)).toEqual([`malformed ${RECEIVED_AT}#app-1`, 'app-2']);
        expect(read[0]).toMatchObject({
          malformed: true,
          item: { pk: pk(0), sk: `${RECEIVED_AT}#app-1` },
          reason: expect.stringMatching(/^body /),
        });
      });
    });
  });

  describe('Method: readPeriodBatches', () => {
    const pk = (shard: number) => `BA#${LEDGER}#${LABEL}#${pad2(shard)}`;
    const T0 = '2026-11-22T21:00:00.000Z';
    const T1 = '2026-11-22T21:05:00.000Z';
    const T2 = '2026-11-22T21:40:00.000Z';
    const abandon = {
      statement: canonicalString({ type: 'auditseal.abandon-statement.v1', batchId: 'b2' }),
      signature: new Uint8Array([0x30, 0x01]),
    };
    const abandonRow = (seal: BatchSeal, shard: number) => ({
      pk: { S: pk(shard) },
      sk: { S: `${seal.receivedAt}#${seal.batchId}#abandon` },
      statement: { S: abandon.statement },
      signature: { B: abandon.signature },
    });
    /** A seal as read back: every leaf carries the batch's receivedAt. */
    const readBack = (seal: BatchSeal) => ({
      ...seal,
      leaves: seal.leaves.map((l) => ({ ...l, leafHash: Buffer.from(l.leafHash) })),
    });

    it('queries every batch shard consistently, page by page, merges by sort key and attaches abandon rows', async () => {
      // Prepare
      const b1 = sealOf('b1', T2, [1, 2]);
      const b2 = sealOf('b2', T0, [3]);
      const b3 = sealOf('b3', T1, [4, 5, 6]);
      ddb.on(QueryCommand).resolves({ Items: [] });
      // Shard 00: b2 and its abandon row split across two pages, then b1; shard 05: b3.
      ddb
        .on(QueryCommand, { ExpressionAttributeValues: { ':pk': { S: pk(0) } } })
        .resolvesOnce({
          Items: [batchRowOf(b2, pk(0))],
          LastEvaluatedKey: { pk: { S: pk(0) }, sk: { S: 'x' } },
        })
        .resolvesOnce({ Items: [abandonRow(b2, 0), batchRowOf(b1, pk(0))] });
      ddb
        .on(QueryCommand, { ExpressionAttributeValues: { ':pk': { S: pk(5) } } })
        .resolves({ Items: [batchRowOf(b3, pk(5))] });

      // Act
      const read = await drain(store().readPeriodBatches(LEDGER, PERIOD));

      // Assess
      expect(read).toEqual([{ ...readBack(b2), abandon }, readBack(b3), readBack(b1)]);
      const calls = ddb.commandCalls(QueryCommand);
      expect(calls).toHaveLength(DEFAULT_SHARD_COUNT + 1);
      expect(calls.map((c) => c.args[0].input.ExpressionAttributeValues![':pk']!.S).sort()).toEqual(
        [pk(0), ...Array.from({ length: DEFAULT_SHARD_COUNT }, (_, shard) => pk(shard))].sort(),
      );
      expect(calls[0]!.args[0].input).toEqual({
        TableName: TABLE,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': 'pk' },
        ExpressionAttributeValues: { ':pk': { S: pk(0) } },
        ConsistentRead: true,
      });
      const second = calls.find((c) => c.args[0].input.ExclusiveStartKey !== undefined);
      expect(second!.args[0].input.ExclusiveStartKey).toEqual({ pk: { S: pk(0) }, sk: { S: 'x' } });
    });

    describe('when an abandon row has no batch row', () => {
      it('yields it as a malformed row and goes on', async () => {
        // Prepare
        const b1 = sealOf('b1', T1, [1]);
        const b2 = sealOf('b2', T0, [3]);
        ddb.on(QueryCommand).resolves({ Items: [abandonRow(b2, 0), batchRowOf(b1, pk(0))] });

        // Act
        const read = await drain(store({ shardCount: 1 }).readPeriodBatches(LEDGER, PERIOD));

        // Assess
        expect(read).toEqual([
          {
            malformed: true,
            item: { pk: pk(0), sk: `${T0}#b2#abandon` },
            reason: 'an abandon row without its batch row',
          },
          readBack(b1),
        ]);
      });
    });

    describe('when a batch row is malformed', () => {
      it('yields it as a malformed row, not thrown, with its abandon row reported too', async () => {
        // Prepare
        const b1 = sealOf('b1', T1, [1]);
        const b2 = sealOf('b2', T0, [3]);
        const broken = { ...batchRowOf(b2, pk(0)), leaves: { S: 'not json' } };
        ddb.on(QueryCommand).resolves({ Items: [broken, abandonRow(b2, 0), batchRowOf(b1, pk(0))] });

        // Act
        const read = await drain(store({ shardCount: 1 }).readPeriodBatches(LEDGER, PERIOD));

        // Assess
        expect(read).toEqual([
          {
            malformed: true,
            item: { pk: pk(0), sk: `${T0}#b2` },
            reason: 'leaves are not a list of [id, leaf hash]',
          },
          {
            malformed: true,
            item: { pk: pk(0), sk: `${T0}#b2#abandon` },
            reason: 'an abandon row without its batch row',
          },
          readBack(b1),
        ]);
      });

      it('yields a row whose sort key does not match its batch id as malformed', async () => {
        // Prepare
        const b2 = sealOf('b2', T0, [3]);
        const forged = { ...batchRowOf(b2, pk(0)), batchId: { S: 'b9' } };
        ddb.on(QueryCommand).resolves({ Items: [forged] });

        // Act
        const read = await drain(store({ shardCount: 1 }).readPeriodBatches(LEDGER, PERIOD));

        // Assess
        expect(read).toEqual([
          {
            malformed: true,
            item: { pk: pk(0), sk: `${T0}#b2` },
            reason: 'sort key does not match receivedAt and batchId',
          },
        ]);
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
      ddb.on(GetItemCommand, { Key: eventKey }).resolves({ Item: eventItemOf(e) });

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
      expect(ddb.commandCalls(GetItemCommand).map((c) => c.args[0].input)).toEqual([
        { TableName: TABLE, Key: { pk: { S: `ID#${LEDGER}#app-2` }, sk: { S: 'ID' } }, ConsistentRead: true },
        { TableName: TABLE, Key: eventKey, ConsistentRead: true },
      ]);
    });

    it('returns undefined for an unknown id', async () => {
      // Prepare
      ddb.on(GetItemCommand).resolves({});

      // Act
      const event = await store().getEvent(LEDGER, 'nope');

      // Assess
      expect(event).toBeUndefined();
    });

    describe('when the id item points to a missing event', () => {
      it('throws CorruptItemError naming the event key', async () => {
        // Prepare
        const e = ledgerEvent(2);
        ddb.on(GetItemCommand).resolves({});
        ddb
          .on(GetItemCommand, { Key: { pk: { S: `ID#${LEDGER}#app-2` }, sk: { S: 'ID' } } })
          .resolves({ Item: idItemOf(e) });

        // Act
        const error = (await store()
          .getEvent(LEDGER, 'app-2')
          .catch((err: unknown) => err)) as CorruptItemError;

        // Assess
        expect(error).toBeInstanceOf(CorruptItemError);
        expect(error.key).toEqual({ pk: idItemOf(e).eventPk.S, sk: `${RECEIVED_AT}#app-2` });
      });
    });
  });
});

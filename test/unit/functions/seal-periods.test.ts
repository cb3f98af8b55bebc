import { readFileSync } from 'node:fs';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createSealPeriodsHandler, toStreamChange } from '../../../functions/seal-periods.ts';
import { InMemoryAlarmSink } from '../../../shared/storage/in-memory-alarm-sink.ts';
import { sharedDataPath } from '../../support/shared-data.ts';

const silent = { error: () => undefined, warn: () => undefined, info: () => undefined } as never;
const context = { awsRequestId: 'r' } as never;

function sample(name: string): DynamoDBStreamEvent {
  return JSON.parse(readFileSync(sharedDataPath(`lambda-events/dynamodb-streams/${name}`), 'utf8'));
}

describe('Handler: seal-periods (DynamoDB stream)', () => {
  describe('when a real sample batch (INSERT, MODIFY) arrives', () => {
    it('raises one alarm for the MODIFY, none for the INSERT, then seals', async () => {
      // Prepare
      const event = sample('powertools-ts_dynamodb_base.json');
      const alarms = new InMemoryAlarmSink();
      let sealRuns = 0;
      const handler = createSealPeriodsHandler({
        alarms,
        sealDue: async () => void sealRuns++,
        logger: silent,
      });
      const expected = event.Records.filter((r) => r.eventName !== 'INSERT').length;

      // Act
      const result = await handler(event, context);

      // Assess
      expect(expected).toBeGreaterThan(0);
      expect(alarms.alarms.size).toBe(expected);
      expect(sealRuns).toBe(1);
      expect(result).toEqual({ batchItemFailures: [] });
    });
  });

  describe('when the same batch is delivered twice', () => {
    it('stores each alarm once', async () => {
      // Prepare
      const event = sample('powertools-ts_dynamodb_base.json');
      const alarms = new InMemoryAlarmSink();
      const handler = createSealPeriodsHandler({ alarms, sealDue: async () => [], logger: silent });

      // Act
      await handler(event, context);
      const first = alarms.alarms.size;
      await handler(event, context);

      // Assess
      expect(alarms.alarms.size).toBe(first);
    });
  });

  describe('when sealing fails', () => {
    it('still stores the alarms and acknowledges the batch (the heartbeat retries sealing)', async () => {
      // Prepare
      const event = sample('powertools-ts_dynamodb_base.json');
      const alarms = new InMemoryAlarmSink();
      const logged: string[] = [];
      const logger = {
        error: (m: string) => logged.push(m),
        warn: () => undefined,
        info: () => undefined,
      } as never;
      const handler = createSealPeriodsHandler({
        alarms,
        sealDue: async () => Promise.reject(new Error('S3 down')),
        logger,
      });

      // Act
      const result = await handler(event, context);

      // Assess
      expect(result).toEqual({ batchItemFailures: [] });
      expect(alarms.alarms.size).toBeGreaterThan(0);
      expect(logged).toContain('sealing failed; the heartbeat will retry');
    });
  });

  describe('when storing an alarm fails', () => {
    it('fails the batch so the stream redelivers it', async () => {
      // Prepare
      const event = sample('powertools-ts_dynamodb_base.json');
      const handler = createSealPeriodsHandler({
        alarms: { raise: async () => Promise.reject(new Error('table throttled')) },
        sealDue: async () => [],
        logger: silent,
      });

      // Act / Assess
      await expect(handler(event, context)).rejects.toThrow('table throttled');
    });
  });
});

describe('Handler: seal-periods with inserts only', () => {
  describe('when the real sample of two INSERTs arrives', () => {
    it('raises no alarm', async () => {
      // Prepare
      const alarms = new InMemoryAlarmSink();
      const handler = createSealPeriodsHandler({ alarms, sealDue: async () => [], logger: silent });

      // Act
      await handler(sample('powertools-ts_sampleDynamoDBStreamsEvent.json'), context);

      // Assess
      expect(alarms.alarms.size).toBe(0);
    });
  });

  describe('when the row recogniser says an inserted row is not one the service wrote', () => {
    it('raises a FOREIGN_ROW alarm for that INSERT only, naming the row and the reason', async () => {
      // Prepare
      const event = sample('powertools-ts_sampleDynamoDBStreamsEvent.json');
      // The sample's two records share eventID "1"; a real stream's ids are unique (the alarm id uses it).
      event.Records.forEach((r, i) => {
        r.eventID = `insert-${i}`;
      });
      const alarms = new InMemoryAlarmSink();
      const seen: unknown[] = [];
      const handler = createSealPeriodsHandler({
        alarms,
        sealDue: async () => [],
        logger: silent,
        recognizeInsert: async (image) => {
          seen.push(image);
          return seen.length === 2 ? 'no signed batch lists this event' : undefined;
        },
      });

      // Act
      await handler(event, context);

      // Assess
      expect(seen).toHaveLength(event.Records.filter((r) => r.eventName === 'INSERT').length);
      const raised = [...alarms.alarms.values()];
      expect(raised).toEqual([
        expect.objectContaining({
          kind: 'FOREIGN_ROW',
          eventName: 'INSERT',
          streamEventId: 'insert-1',
          detail: expect.stringContaining('no signed batch lists this event'),
        }),
      ]);
    });
  });

  describe('when an INSERT carries no readable new image', () => {
    it('raises a FOREIGN_ROW alarm instead of trusting it', async () => {
      // Prepare
      const event = sample('powertools-ts_sampleDynamoDBStreamsEvent.json');
      // The sample's two records share eventID "1"; a real stream's ids are unique (the alarm id uses it).
      event.Records.forEach((r, i) => {
        r.eventID = `insert-${i}`;
        if (r.dynamodb) delete r.dynamodb.NewImage;
      });
      const alarms = new InMemoryAlarmSink();
      const handler = createSealPeriodsHandler({
        alarms,
        sealDue: async () => [],
        logger: silent,
        recognizeInsert: async () => undefined,
      });

      // Act
      await handler(event, context);

      // Assess
      const raised = [...alarms.alarms.values()];
      expect(raised.length).toBe(event.Records.filter((r) => r.eventName === 'INSERT').length);
      expect(
        raised.every((a) => a.kind === 'FOREIGN_ROW' && /no readable new image/.test(a.detail ?? '')),
      ).toBe(true);
    });
  });
});

describe('Function: toStreamChange', () => {
  describe('when a record is a TTL delete from the service', () => {
    it('keeps the service identity, which its alarm then names', () => {
      // Prepare
      const record = {
        eventID: 'ttl-1',
        eventName: 'REMOVE',
        dynamodb: { ApproximateCreationDateTime: 1_700_000_000, Keys: { pk: { S: 'X' }, sk: { S: 'Y' } } },
        userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
      };

      // Act
      const change = toStreamChange(record, 0);

      // Assess
      expect(change).toMatchObject({
        eventName: 'REMOVE',
        pk: 'X',
        sk: 'Y',
        userIdentity: { type: 'Service' },
      });
    });
  });

  describe('when a record does not parse', () => {
    it('becomes a MODIFY, so it raises an alarm instead of passing silently', () => {
      // Act
      const change = toStreamChange({ eventName: 'DROP TABLE' }, 3);

      // Assess
      expect(change.eventName).toBe('MODIFY');
    });
  });
});

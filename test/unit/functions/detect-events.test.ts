import { readFileSync } from 'node:fs';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { eventItem } from '../../../adapters/dynamodb/ledger-items.ts';
import { createDetectEventsHandler, landedEventsOf } from '../../../functions/detect-events.ts';
import { AlertPlanner } from '../../../shared/detect/alerts.ts';
import { Detector } from '../../../shared/detect/detector.ts';
import { loadDefaultRules } from '../../../shared/detect/load-rules.ts';
import { fromCloudTrailRecord } from '../../../shared/events/cloudtrail.ts';
import { ingestBatch } from '../../../shared/ingest/ingest-batch.ts';
import {
  InMemoryAlertIndex,
  RecordingAlertPublisher,
} from '../../../shared/storage/in-memory-alert-index.ts';
import { sharedDataPath } from '../../support/shared-data.ts';
import { harness, LEDGER } from '../ingest/ingest-fixtures.ts';
import { lambdaContext, recordingLogger } from './http-fixtures.ts';

const detector = new Detector(loadDefaultRules().rules);
const stopLogging = readFileSync(sharedDataPath('cloudtrail', 'records', 'stratus-red-team.jsonl'), 'utf8')
  .split('\n')
  .find((line) => line.includes('"eventName":"StopLogging"'))!;

/** A stream record as Lambda delivers it (binary attributes in base64), for an SDK-form item. */
function streamRecord(
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE',
  item: Record<string, { S?: string; B?: Uint8Array; N?: string }>,
): DynamoDBRecord {
  const image: Record<string, { S?: string; B?: string; N?: string }> = {};
  for (const [name, value] of Object.entries(item)) {
    image[name] = value.B ? { B: Buffer.from(value.B).toString('base64') } : (value as { S?: string });
  }
  return {
    eventID: `e-${Math.random()}`,
    eventName,
    eventSource: 'aws:dynamodb',
    dynamodb: { Keys: { pk: image['pk']!, sk: image['sk']! } as never, NewImage: image as never },
  };
}

async function setup() {
  const h = await harness();
  const index = new InMemoryAlertIndex();
  const publisher = new RecordingAlertPublisher();
  const { logger } = recordingLogger();
  const handler = createDetectEventsHandler({
    ledger: LEDGER,
    logger,
    detection: async () => ({
      ledger: LEDGER,
      detector,
      planner: new AlertPlanner(),
      ingest: h.deps,
      index,
      publisher,
    }),
  });
  const result = await ingestBatch(
    {
      ledger: LEDGER,
      items: [fromCloudTrailRecord(stopLogging)],
      channel: 'cloudtrail',
      principal: 'p',
      requestId: 'r',
    },
    h.deps,
  );
  const stored = (await h.store.getEvent(LEDGER, result.stored[0]!))!;
  const period = {
    startMs: Date.parse(stored.receivedAt) - (Date.parse(stored.receivedAt) % 3_600_000),
    seconds: 3600,
  };
  const item = eventItem(
    LEDGER,
    {
      ...stored,
      period,
      index: { actorId: 'a', action: 'StopLogging', outcome: 'success' },
    } as never,
    32,
  );
  return { h, index, publisher, logger, handler, item: item as never };
}

describe('Handler: detect-events (ledger stream)', () => {
  describe('when the INSERT of a StopLogging event row arrives', () => {
    it('stores, indexes and announces its alert within that batch', async () => {
      // Prepare
      const s = await setup();
      const event: DynamoDBStreamEvent = { Records: [streamRecord('INSERT', s.item)] };

      // Act
      const result = await s.handler(event, lambdaContext());

      // Assess
      expect(result).toEqual({ batchItemFailures: [] });
      expect(s.index.size).toBe(1);
      expect(s.publisher.notices[0]!.rule.title).toBe('AWS CloudTrail Important Change');
    });
  });

  describe('when the batch holds no event-row INSERT', () => {
    it.each<[string, DynamoDBRecord]>([
      ['a MODIFY (a tamper alarm, the sealer’s business)', { eventName: 'MODIFY', dynamodb: {} }],
      [
        'an INSERT of another kind of row',
        { eventName: 'INSERT', dynamodb: { Keys: { pk: { S: `ID#${LEDGER}#x` } } } },
      ],
      [
        'an INSERT of another ledger’s event',
        { eventName: 'INSERT', dynamodb: { Keys: { pk: { S: 'EV#other#x' } } } },
      ],
    ])('ignores %s', async (_, record) => {
      // Prepare
      const s = await setup();

      // Act
      await s.handler({ Records: [record] }, lambdaContext());

      // Assess
      expect(s.index.size).toBe(0);
    });
  });

  describe('when an event row has no readable body', () => {
    it('skips it with a warning and evaluates the others', async () => {
      // Prepare
      const s = await setup();
      const { body: _body, ...withoutBody } = s.item as Record<string, never>;
      const broken = streamRecord('INSERT', withoutBody);

      // Act
      await s.handler({ Records: [broken, streamRecord('INSERT', s.item)] }, lambdaContext());

      // Assess
      expect(s.logger.warn).toHaveBeenCalledTimes(1);
      expect(s.index.size).toBe(1);
    });
  });

  describe('when storing or announcing fails', () => {
    it('fails the batch (the stream retries it), logging no event content', async () => {
      // Prepare
      const s = await setup();
      s.publisher.failWith = new Error('SNS throttled');

      // Act
      const error = await s
        .handler({ Records: [streamRecord('INSERT', s.item)] }, lambdaContext())
        .catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(Error);
      expect(s.logger.error).toHaveBeenCalledTimes(1);
      expect(JSON.stringify(s.logger.error.mock.calls)).not.toContain('StopLogging');
    });
  });
});

describe('Function: landedEventsOf', () => {
  it('reads id, receivedAt and the body bytes of event-row INSERTs', async () => {
    // Prepare
    const s = await setup();

    // Act
    const [landed] = landedEventsOf([streamRecord('INSERT', s.item)], LEDGER, s.logger);

    // Assess
    expect(landed!.id).toBe(`ct:${String(JSON.parse(stopLogging).eventID)}`);
    expect(JSON.parse(Buffer.from(landed!.bytes).toString('utf8')).cloudtrail).toBe(stopLogging);
  });
});

import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHandler } from '../../../functions/forward-cloudtrail.ts';
import { wrapInEventBridgeEnvelope } from '../../../shared/events/cloudtrail.ts';
import type { EventBridgeForwardOutcome } from '../../../shared/ingest/forward-eventbridge.ts';
import { LedgerUnavailableError } from '../../../shared/ports/ledger-store.ts';
import { cloudTrailRecord, EDGE_CASES, eventIdOf, sampleRecords } from '../../support/cloudtrail-records.ts';
import { readSharedText, sharedDataPath } from '../../support/shared-data.ts';
import { type Harness, harness, LEDGER } from '../ingest/ingest-fixtures.ts';
import { configEventText, configItemFiles, notificationsOf } from '../profiles/config-fixtures.ts';
import { lambdaContext, recordingLogger } from './http-fixtures.ts';

const QUEUE_ARN = 'arn:aws:sqs:eu-west-1:123456789012:auditseal-cloudtrail';

function sqsRecord(body: string, messageId: string = randomUUID()): SQSRecord {
  return {
    messageId,
    receiptHandle: `handle-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1763845800000',
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: '1763845800001',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: QUEUE_ARN,
    awsRegion: 'eu-west-1',
  };
}

const sqsEvent = (records: SQSRecord[]): SQSEvent => ({ Records: records });

function envelopeFiles(): string[] {
  return readdirSync(sharedDataPath('cloudtrail', 'eventbridge'))
    .filter((f) => f.endsWith('.json'))
    .sort();
}

/**
 * The text of an EventBridge envelope around a record's text, even for a record that
 * `wrapInEventBridgeEnvelope` refuses (AWS would deliver it).
 */
function envelopeOf(recordText: string): string {
  try {
    return wrapInEventBridgeEnvelope(recordText);
  } catch {
    return `{"version":"0","id":"${randomUUID()}","detail-type":"AWS API Call via CloudTrail","source":"aws.unknown","account":"123456789012","time":"2026-11-22T21:00:00Z","region":"eu-west-1","resources":[],"detail":${recordText}}`;
  }
}

/**
 * An EventBridge envelope's text as AWS delivers it: the record's text as `detail`, built here rather
 * than by `wrapInEventBridgeEnvelope`, so the forwarder is tested on input it did not shape.
 */
function awsEnvelope(recordText: string): string {
  return `{"version":"0","id":"${randomUUID()}","detail-type":"AWS API Call via CloudTrail","source":"aws.ec2","account":"123456789012","time":"2026-11-22T21:00:00Z","region":"eu-west-1","resources":[],"detail":${recordText}}`;
}

/** The record text that the stored event of the `n`th generated record holds, for the first `count`. */
async function storedRecordTexts(h: Harness, count: number): Promise<unknown[]> {
  const texts: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const stored = await h.store.getEvent(LEDGER, `ct:${eventIdOf(i)}`);
    texts.push(stored ? JSON.parse(new TextDecoder().decode(stored.bytes)).cloudtrail : undefined);
  }
  return texts;
}

function setup(h: Harness) {
  const { logger, lines } = recordingLogger();
  const outcomes: EventBridgeForwardOutcome[] = [];
  const handler = createHandler({
    ledger: LEDGER,
    ingest: h.deps,
    profiles: h.profiles,
    logger,
    observe: (o) => void outcomes.push(o),
  });
  /** Profile versions the deliveries created (each one its own signed event). */
  const versionsCreated = () =>
    outcomes.flatMap((o) => o.versions).filter((v) => v.status === 'created').length;
  return { handler, logger, lines, versionsCreated };
}

/** messageId → rejection reason, from the forwarder's warn lines. */
function rejections(logger: ReturnType<typeof recordingLogger>['logger']): Map<string, string> {
  return new Map(
    logger.warn.mock.calls.map((args) => {
      const attributes = args[1] as { messageId: string; reason: string };
      return [attributes.messageId, attributes.reason];
    }),
  );
}

describe('Handler: forward-cloudtrail', () => {
  describe('with every EventBridge envelope of the shared samples in one delivery', () => {
    it('stores or rejects each one with a reason, and signs once', async () => {
      // Prepare
      const h = await harness();
      const { handler, logger } = setup(h);
      const files = envelopeFiles();
      const records = files.map((f) => sqsRecord(readSharedText(`cloudtrail/eventbridge/${f}`), f));

      // Act
      const response = await handler(sqsEvent(records), lambdaContext());

      // Assess
      expect(response.batchItemFailures).toEqual([]);
      const rejected = rejections(logger);
      for (const [, reason] of rejected) expect(reason).toMatch(/^[A-Z_]+$/);
      expect(h.store.eventCount + rejected.size).toBe(files.length);
      expect(h.store.eventCount).toBeGreaterThan(0);
      expect(h.signer.signCalls).toBe(1);
    });
  });

  describe('with every record of all_permissive.jsonl, delivered ten at a time', () => {
    it('stores or rejects every record with a reason and never asks for redelivery', async () => {
      // Prepare
      const h = await harness();
      const { handler, logger, versionsCreated } = setup(h);
      const lines = readSharedText('cloudtrail/all_permissive.jsonl')
        .split('\n')
        .filter((l) => l.trim() !== '');
      const records = lines.map((line, i) => sqsRecord(envelopeOf(line), `m-${i}`));
      const failures: string[] = [];

      // Act
      for (let i = 0; i < records.length; i += 10) {
        const response = await handler(sqsEvent(records.slice(i, i + 10)), lambdaContext());
        failures.push(...response.batchItemFailures.map((f) => f.itemIdentifier));
      }

      // Assess
      expect(failures).toEqual([]);
      const rejected = rejections(logger);
      const storedOrDuplicate = records.filter((r) => !rejected.has(r.messageId)).length;
      expect(storedOrDuplicate + rejected.size).toBe(lines.length);
      expect(h.store.eventCount).toBeGreaterThan(lines.length / 2);
      // The records that carry a resource's new state also gave profile versions, each sealed as an event.
      expect(versionsCreated()).toBeGreaterThan(0);
      expect(h.store.eventCount).toBeLessThanOrEqual(storedOrDuplicate + versionsCreated());
      expect(h.signer.signCalls).toBeLessThanOrEqual(Math.ceil(records.length / 10) + versionsCreated());
    });
  });

  describe('when 120 generated records with the edge cases are delivered (the issue: 75 of 120 were refused)', () => {
    it('stores all 120, each with its record text verbatim', async () => {
      // Prepare
      const h = await harness();
      const { handler, logger } = setup(h);
      const texts = sampleRecords(120);
      const records = texts.map((text, i) => sqsRecord(awsEnvelope(text), `g-${i}`));
      const failures: string[] = [];

      // Act
      for (let i = 0; i < records.length; i += 10) {
        const response = await handler(sqsEvent(records.slice(i, i + 10)), lambdaContext());
        failures.push(...response.batchItemFailures.map((f) => f.itemIdentifier));
      }

      // Assess
      expect(failures).toEqual([]);
      expect(rejections(logger)).toEqual(new Map());
      expect(h.store.eventCount).toBe(120);
      expect(await storedRecordTexts(h, texts.length)).toEqual(texts);
    });
  });

  describe.each(EDGE_CASES)('when a delivery holds generated records with %s', (_name, payload) => {
    it('stores every one, with its record text verbatim', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(cloudTrailRecord(payload), { minLength: 1, maxLength: 10 }),
          async (renders) => {
            // Prepare
            const h = await harness();
            const { handler, logger } = setup(h);
            const texts = renders.map((render, i) => render(eventIdOf(i)));

            // Act
            const response = await handler(
              sqsEvent(texts.map((text, i) => sqsRecord(awsEnvelope(text), `m-${i}`))),
              lambdaContext(),
            );

            // Assess
            expect(response.batchItemFailures).toEqual([]);
            expect(rejections(logger)).toEqual(new Map());
            expect(await storedRecordTexts(h, texts.length)).toEqual(texts);
          },
        ),
        { numRuns: 12 },
      );
    });
  });

  describe('when a message is delivered again', () => {
    it('answers it as a duplicate without signing again', async () => {
      // Prepare
      const h = await harness();
      const { handler } = setup(h);
      const body = readSharedText(`cloudtrail/eventbridge/${envelopeFiles()[4]}`);
      await handler(sqsEvent([sqsRecord(body, 'first')]), lambdaContext());
      const before = h.store.snapshot();

      // Act
      const response = await handler(sqsEvent([sqsRecord(body, 'again')]), lambdaContext());

      // Assess
      expect(response.batchItemFailures).toEqual([]);
      expect(h.store.snapshot()).toBe(before);
      expect(h.signer.signCalls).toBe(1);
    });
  });

  describe('when one delivery holds the same event twice', () => {
    it('stores it once and acknowledges both messages', async () => {
      // Prepare
      const h = await harness();
      const { handler } = setup(h);
      const body = readSharedText(`cloudtrail/eventbridge/${envelopeFiles()[4]}`);

      // Act
      const response = await handler(sqsEvent([sqsRecord(body, 'a'), sqsRecord(body, 'b')]), lambdaContext());

      // Assess
      expect(response.batchItemFailures).toEqual([]);
      expect(h.store.eventCount).toBe(1);
    });
  });

  describe('when one delivery holds two different records with the same eventID', () => {
    it('stores the first, rejects the second as ID_CONFLICT and records a security signal', async () => {
      // Prepare
      const h = await harness();
      const { handler, logger } = setup(h);
      const envelope = JSON.parse(readSharedText(`cloudtrail/eventbridge/${envelopeFiles()[4]}`)) as {
        detail: Record<string, unknown>;
      };
      const altered = structuredClone(envelope);
      altered.detail['eventName'] = 'DeleteBucket';

      // Act
      const response = await handler(
        sqsEvent([
          sqsRecord(JSON.stringify(envelope), 'original'),
          sqsRecord(JSON.stringify(altered), 'altered'),
        ]),
        lambdaContext(),
      );

      // Assess
      expect(response.batchItemFailures).toEqual([]);
      expect(rejections(logger)).toEqual(new Map([['altered', 'ID_CONFLICT']]));
      expect(h.store.eventCount).toBe(1);
      expect(h.store.securitySignals()).toHaveLength(1);
      expect(h.store.securitySignals()[0]).toMatchObject({ channel: 'cloudtrail', principal: QUEUE_ARN });
    });
  });

  describe('when messages cannot be mapped', () => {
    it('drops them with their reason and stores the rest', async () => {
      // Prepare
      const h = await harness();
      const { handler, logger, lines } = setup(h);
      const good = readSharedText(`cloudtrail/eventbridge/${envelopeFiles()[4]}`);
      const wrongType = JSON.stringify({
        ...JSON.parse(good),
        'detail-type': 'EC2 Instance State-change Notification',
      });

      // Act
      const response = await handler(
        sqsEvent([
          sqsRecord('{not json', 'garbage'),
          sqsRecord(wrongType, 'wrong-type'),
          sqsRecord(good, 'good'),
        ]),
        lambdaContext(),
      );

      // Assess
      expect(response.batchItemFailures).toEqual([]);
      expect(rejections(logger)).toEqual(
        new Map([
          ['garbage', 'INVALID_JSON'],
          ['wrong-type', 'UNSUPPORTED_DETAIL_TYPE'],
        ]),
      );
      expect(h.store.eventCount).toBe(1);
      expect(lines()).not.toContain('arn:aws:iam::123456789012:root');
    });
  });

  describe('when the ledger is unavailable', () => {
    it('returns exactly the unstored messages as batch item failures', async () => {
      // Prepare
      let groups = 0;
      const h = await harness({
        eventsPerGroup: 2,
        beforeGroup: () => {
          groups++;
          if (groups === 2) throw new LedgerUnavailableError('throttled', []);
        },
      });
      const { handler, logger } = setup(h);
      const bodies = envelopeFiles()
        .slice(4, 12)
        .map((f) => readSharedText(`cloudtrail/eventbridge/${f}`));
      const records = bodies.map((b, i) => sqsRecord(b, `m-${i}`));

      // Act
      const response = await handler(sqsEvent(records), lambdaContext());

      // Assess
      const failed = response.batchItemFailures.map((f) => f.itemIdentifier);
      const rejected = rejections(logger);
      expect(h.store.eventCount).toBe(2);
      expect(failed.length + rejected.size + 2).toBe(records.length);
      expect(logger.error).toHaveBeenCalledWith(
        'EventBridge envelopes not stored; returned for redelivery',
        expect.objectContaining({ messageIds: failed }),
      );
    });
  });

  describe('with AWS Config item changes (the real items, wrapped as EventBridge delivers them)', () => {
    it('records each item as a profile version, logs a rejection with its reason, and never logs the item', async () => {
      // Prepare
      const h = await harness();
      const { handler, logger, lines, versionsCreated } = setup(h);
      const bodies = configItemFiles()
        .filter((f) => f.file === 'AWS_S3_Bucket.json' || f.file === 'AWS_ACM_Certificate.json')
        .map((f) => configEventText(notificationsOf(f.value)[0]!));
      const records = bodies.map((b, i) => sqsRecord(b, `cfg-${i}`));

      // Act
      const response = await handler(sqsEvent(records), lambdaContext());

      // Assess: the certificate's capture time is a Python repr (BAD_CAPTURE_TIME), the bucket is stored.
      expect(response.batchItemFailures).toEqual([]);
      expect(versionsCreated()).toBe(1);
      expect(rejections(logger)).toEqual(new Map([['cfg-0', 'BAD_CAPTURE_TIME']]));
      expect(lines()).not.toContain('mborch-test-bucket-config-item');
      expect(logger.info).toHaveBeenCalledWith(
        'EventBridge delivery forwarded',
        expect.objectContaining({ messages: 2, stored: 1, rejected: 1, failed: 0, versionsCreated: 1 }),
      );
    });

    it('returns the items as batch item failures while the ledger is unavailable', async () => {
      // Prepare
      let down = true;
      const h = await harness({
        beforeGroup: () => {
          if (down) throw new LedgerUnavailableError('throttled', []);
        },
      });
      const { handler } = setup(h);
      const body = configEventText(
        notificationsOf(configItemFiles().find((f) => f.file === 'AWS_S3_Bucket.json')!.value)[0]!,
      );

      // Act
      const first = await handler(sqsEvent([sqsRecord(body, 'cfg-1')]), lambdaContext());
      down = false;
      const second = await handler(sqsEvent([sqsRecord(body, 'cfg-1')]), lambdaContext());

      // Assess
      expect(first.batchItemFailures).toEqual([{ itemIdentifier: 'cfg-1' }]);
      expect(second.batchItemFailures).toEqual([]);
      expect(await h.profiles.head('arn:aws:s3:::mborch-test-bucket-config-item')).toMatchObject({ n: 1 });
    });
  });
});

/**
 * Delivers EventBridge envelopes to the forwarder function the way its queue's event source mapping
 * does, for the local replay commands: SQS events of up to 10 messages, each message a body as
 * EventBridge put it on the queue, and the messages returned in `batchItemFailures` received again, up
 * to `MAX_RECEIVES` times in all.
 */
import { randomUUID } from 'node:crypto';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { ProgressBar } from './progress.ts';

export const SQS_BATCH = 10;
export const MAX_RECEIVES = 4;
const QUEUE_ARN = 'arn:aws:sqs:us-east-1:000000000000:auditseal-cloudtrail';

/** One envelope to deliver, with the line of the input file it came from. */
export interface Envelope {
  readonly line: number;
  readonly body: string;
}

export interface Delivery {
  /** Envelopes acknowledged by the forwarder (stored, already stored, or dropped by it). */
  readonly delivered: number;
  /** Envelopes still failed after `MAX_RECEIVES` receives. */
  readonly failed: number;
  readonly batches: number;
}

function sqsRecord(body: string, receiveCount: number): SQSRecord {
  const now = String(Date.now());
  return {
    messageId: randomUUID(),
    receiptHandle: randomUUID(),
    body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: now,
      SenderId: 'AIDAEVENTBRIDGE',
      ApproximateFirstReceiveTimestamp: now,
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: QUEUE_ARN,
    awsRegion: 'us-east-1',
  };
}

/**
 * Delivers `envelopes` to `handler` in SQS batches; `lineOf` learns each message id's line (the
 * forwarder's outcome names messages), and the progress bar shows how far it got.
 */
export async function deliverToForwarder(
  handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>,
  envelopes: readonly Envelope[],
  lineOf: Map<string, number>,
  options: { json: boolean; label: string },
): Promise<Delivery> {
  const bar = new ProgressBar(options.label, !options.json && Boolean(process.stderr.isTTY));
  let batches = 0;
  let failed = 0;
  let delivered = 0;
  for (let i = 0; i < envelopes.length; i += SQS_BATCH) {
    let pending = envelopes.slice(i, i + SQS_BATCH);
    for (let receive = 1; pending.length > 0 && receive <= MAX_RECEIVES; receive++) {
      const records = pending.map((envelope) => {
        const record = sqsRecord(envelope.body, receive);
        lineOf.set(record.messageId, envelope.line);
        return record;
      });
      batches++;
      const result = await handler({ Records: records }, { awsRequestId: randomUUID() } as Context);
      const failedIds = new Set((result?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      delivered += records.length - failedIds.size;
      pending = records
        .filter((r) => failedIds.has(r.messageId))
        .map((r) => ({ line: lineOf.get(r.messageId)!, body: r.body }));
    }
    failed += pending.length;
    bar.update(Math.min(i + SQS_BATCH, envelopes.length), envelopes.length);
  }
  bar.done();
  return { delivered, failed, batches };
}

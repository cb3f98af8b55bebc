/**
 * Delivers an SQS queue (moto) to a handler the way Lambda's SQS event source mapping does:
 * https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html
 *
 * - Messages are gathered into a batch of up to `batchSize` for at most `batchingWindowMs`.
 * - A handler that throws fails the whole batch; a returned `batchItemFailures` list fails those
 *   messages only (ReportBatchItemFailures). Successful messages are deleted; failed ones are left to
 *   reappear after the queue's visibility timeout, and the queue's redrive policy moves a message that
 *   keeps failing to its dead-letter queue.
 *
 * @example
 * const poller = startQueuePoller({ client, queueUrl, queueArn, handler, batchSize: 500, batchingWindowMs: 1000 });
 * await poller.stop();
 */
import { randomUUID } from 'node:crypto';
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { lambdaContext } from './lambda-context.ts';

/** An SQS-triggered function. */
export type QueueHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;

export interface QueuePollerOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly handler: QueueHandler;
  readonly batchSize: number;
  readonly batchingWindowMs: number;
  readonly region: string;
  readonly accountId: string;
  readonly functionName: string;
  /** Pause after an empty receive; default 200 ms. */
  readonly idleMs?: number;
  readonly log?: (line: string) => void;
}

export interface QueuePoller {
  /** Batches delivered so far. */
  readonly batches: () => number;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts polling; the returned poller stops after its current batch. */
export function startQueuePoller(options: QueuePollerOptions): QueuePoller {
  let stopped = false;
  let batches = 0;
  const log = options.log ?? (() => undefined);
  const loop = (async () => {
    while (!stopped) {
      try {
        const messages = await gather(options, () => stopped);
        if (messages.length === 0) {
          await sleep(options.idleMs ?? 200);
          continue;
        }
        batches++;
        await deliver(options, messages, log);
      } catch (error) {
        if (stopped) break;
        log(`queue ${options.functionName}: ${error instanceof Error ? error.message : String(error)}`);
        await sleep(1000);
      }
    }
  })();
  return {
    batches: () => batches,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

async function gather(options: QueuePollerOptions, stopped: () => boolean): Promise<Message[]> {
  const messages: Message[] = [];
  const deadline = Date.now() + options.batchingWindowMs;
  while (messages.length < options.batchSize && !stopped()) {
    const output = await options.client.send(
      new ReceiveMessageCommand({
        QueueUrl: options.queueUrl,
        MaxNumberOfMessages: Math.min(10, options.batchSize - messages.length),
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    const received = output.Messages ?? [];
    messages.push(...received);
    if (received.length === 0 || Date.now() >= deadline) break;
  }
  return messages;
}

async function deliver(
  options: QueuePollerOptions,
  messages: Message[],
  log: (line: string) => void,
): Promise<void> {
  const records = messages.map((m) => sqsRecord(options, m));
  const context = lambdaContext({
    functionName: options.functionName,
    region: options.region,
    accountId: options.accountId,
    timeoutMs: 60_000,
    awsRequestId: randomUUID(),
  });
  let failed: Set<string>;
  try {
    const response = await options.handler({ Records: records }, context);
    failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    const known = new Set(records.map((r) => r.messageId));
    // Like Lambda: an identifier that names no message of the batch fails the whole batch.
    if ([...failed].some((id) => !known.has(id))) failed = known;
  } catch (error) {
    log(
      `queue ${options.functionName}: the handler failed: ${error instanceof Error ? error.message : String(error)}`,
    );
    failed = new Set(records.map((r) => r.messageId));
  }
  const done = messages.filter((m) => !failed.has(m.MessageId!));
  for (let start = 0; start < done.length; start += 10) {
    await options.client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: options.queueUrl,
        Entries: done
          .slice(start, start + 10)
          .map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
}

function sqsRecord(options: QueuePollerOptions, m: Message): SQSRecord {
  const attributes = m.Attributes ?? {};
  const now = String(Date.now());
  return {
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes['ApproximateReceiveCount'] ?? '1',
      SentTimestamp: attributes['SentTimestamp'] ?? now,
      SenderId: attributes['SenderId'] ?? 'local',
      ApproximateFirstReceiveTimestamp: attributes['ApproximateFirstReceiveTimestamp'] ?? now,
    },
    messageAttributes: {},
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: options.queueArn,
    awsRegion: options.region,
  };
}

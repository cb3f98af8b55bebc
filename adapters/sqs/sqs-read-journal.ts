/**
 * The read journal on SQS (G7, docs/API.md "Audited reads"): each successful read sends one message
 * before the read is answered; the read recorder (functions/record-reads.ts) takes them off in batches
 * and ingests them. SQS keeps a message until the recorder acknowledges it, and moves a message that keeps
 * failing to the dead-letter queue, whose first message raises an alarm.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { ReadJournal, ReadRecord } from '../../shared/query/read-record.ts';

export interface SqsReadJournalOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
}

export class SqsReadJournal implements ReadJournal {
  readonly #client: SQSClient;
  readonly #queueUrl: string;

  constructor(options: SqsReadJournalOptions) {
    this.#client = options.client;
    this.#queueUrl = options.queueUrl;
  }

  /** Resolves once SQS has stored the message (SendMessage answered with a message id). */
  async record(read: ReadRecord): Promise<void> {
    const output = await this.#client.send(
      new SendMessageCommand({ QueueUrl: this.#queueUrl, MessageBody: JSON.stringify(read) }),
    );
    if (output.MessageId === undefined) throw new Error('SQS accepted the read record without a message id');
  }
}

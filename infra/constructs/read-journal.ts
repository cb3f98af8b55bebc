/**
 * The read journal (G7, docs/API.md "Audited reads"): an SQS queue, built from the shared definition, that
 * every read function sends one message to before it answers a read; the read recorder takes them off in
 * batches. A message that keeps failing goes to the dead-letter queue, whose first message raises an
 * alarm (infra/stack.ts): a read is never dropped silently.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ReadQueueDefinition } from '../resources/definitions.ts';

export interface ReadJournalProps {
  readonly definition: ReadQueueDefinition;
}

export class ReadJournal extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetters: sqs.Queue;
  readonly definition: ReadQueueDefinition;

  constructor(scope: Construct, id: string, props: ReadJournalProps) {
    super(scope, id);
    const def = props.definition;
    this.definition = def;
    this.deadLetters = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(def.retentionDays),
    });
    Validations.of(this.deadLetters).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter destination of the read journal; an alarm fires on its first message.',
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(def.visibilityTimeoutSeconds),
      retentionPeriod: Duration.days(def.retentionDays),
      deadLetterQueue: { queue: this.deadLetters, maxReceiveCount: def.maxReceiveCount },
    });
  }

  get queueUrl(): string {
    return this.queue.queueUrl;
  }

  /** Lets a read function send read records (and nothing else). */
  grantSend(grantee: iam.IGrantable): iam.Grant {
    return this.queue.grantSendMessages(grantee);
  }
}

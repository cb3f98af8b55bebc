/**
 * Every function and what invokes it:
 * - one function per deployed API route (the API construct adds the integrations);
 * - the forwarder: EventBridge rules on the default bus (CloudTrail events; AWS Config item changes) →
 *   one encrypted SQS queue (with a DLQ) → forwarder, reporting partial batch failures;
 * - the sealer: the ledger stream → `seal-periods` (tamper alarms, then sealing), partial batch failures,
 *   bisect on error, bounded retries, an SQS on-failure destination; reserved concurrency 1;
 * - the heartbeat: an EventBridge schedule every minute, so that an idle period is sealed too (G3);
 * - the read recorder: the read journal's queue → `record-reads` (G7), many reads per signed batch,
 *   reporting partial batch failures.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { API_INTEGRATION_TIMEOUT_SECONDS, WRITER_TIMEOUT_SECONDS } from '../../functions/config.ts';
import { CONFIG_DETAIL_TYPE } from '../../shared/profiles/aws-config.ts';
import { streamEventSourceProps } from '../resources/cdk-props.ts';
import type { StreamEventSourceDefinition } from '../resources/definitions.ts';
import { type ApiRoute, deployedRoutes } from './api-routes.ts';
import { ACCESS_CAPABILITIES, grantAccess, type LedgerResources } from './function-environment.ts';
import { handlerFunction } from './handler-function.ts';
import { WRITER_MEMORY_MIB } from './lambda-heap.ts';
import type { PrivateNetwork } from './private-network.ts';

/** The timeout of every function that writes events; the sealing grace must exceed it. */
export const WRITER_TIMEOUT = Duration.seconds(WRITER_TIMEOUT_SECONDS);
/** The longest a sealing run may take: Lambda's limit (docs/SCALE.md has the plan beyond it). */
export const SEALER_TIMEOUT = Duration.minutes(15);

/** The CloudTrail detail-types forwarded into the ledger. */
export const CLOUDTRAIL_DETAIL_TYPES = [
  'AWS API Call via CloudTrail',
  'AWS Console Sign In via CloudTrail',
  'AWS Console Action via CloudTrail',
  'AWS Service Event via CloudTrail',
] as const;

/** AWS Config's item changes (normal and oversized), forwarded as resource profile versions. */
export const CONFIG_EVENT_PATTERN = { source: ['aws.config'], detailType: [CONFIG_DETAIL_TYPE] } as const;

export interface FunctionsProps extends LedgerResources {
  readonly network: PrivateNetwork;
  readonly streamEventSource: StreamEventSourceDefinition;
  readonly routes: readonly ApiRoute[];
}

/** The functions, their triggers and their dead-letter queues. */
export class Functions extends Construct {
  /** The function of each deployed route's handler, by handler name. */
  readonly routeHandlers: ReadonlyMap<string, nodejs.NodejsFunction>;
  readonly forwarder: nodejs.NodejsFunction;
  readonly sealer: nodejs.NodejsFunction;
  readonly heartbeat: nodejs.NodejsFunction;
  /** Takes read records off the read journal and ingests them (G7). */
  readonly recorder: nodejs.NodejsFunction;
  /** Every function that writes events: each one's timeout must be shorter than the sealing grace. */
  readonly writers: nodejs.NodejsFunction[] = [];
  readonly forwarderQueue: sqs.Queue;
  readonly forwarderDeadLetters: sqs.Queue;
  /** Where the ledger stream's event source mapping reports batches it gave up on. */
  readonly streamFailures: sqs.Queue;

  constructor(scope: Construct, id: string, props: FunctionsProps) {
    super(scope, id);
    const { network } = props;

    const routeHandlers = new Map<string, nodejs.NodejsFunction>();
    for (const route of deployedRoutes(props.routes)) {
      if (routeHandlers.has(route.handler)) continue;
      // Read routes only read (their read records go through the read journal); ingest routes write.
      const writes = ACCESS_CAPABILITIES[route.access].includes('ledger-append');
      const fn = handlerFunction(this, pascal(route.handler), {
        handler: route.handler,
        description: `auditseal ${route.method} ${route.path}`,
        network,
        // 29 s is API Gateway's integration timeout.
        timeout: writes ? WRITER_TIMEOUT : Duration.seconds(API_INTEGRATION_TIMEOUT_SECONDS),
        memorySize: writes ? WRITER_MEMORY_MIB : 512,
      });
      grantAccess(fn, route.access, props);
      if (writes) this.writers.push(fn);
      routeHandlers.set(route.handler, fn);
    }
    this.routeHandlers = routeHandlers;

    // CloudTrail → EventBridge → SQS → forwarder.
    this.forwarder = handlerFunction(this, 'ForwardCloudTrail', {
      handler: 'forward-cloudtrail',
      description: 'auditseal CloudTrail forwarder (EventBridge → SQS → ledger)',
      network,
      timeout: WRITER_TIMEOUT,
      memorySize: WRITER_MEMORY_MIB,
    });
    grantAccess(this.forwarder, 'ingest', props);
    this.writers.push(this.forwarder);
    this.forwarderDeadLetters = deadLetterQueue(this, 'ForwarderDeadLetters');
    this.forwarderQueue = new sqs.Queue(this, 'ForwarderQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Six times the function timeout, as Lambda recommends for SQS event sources.
      visibilityTimeout: Duration.seconds(WRITER_TIMEOUT.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.forwarderDeadLetters, maxReceiveCount: 5 },
    });
    new events.Rule(this, 'CloudTrailRule', {
      description: 'CloudTrail events into the auditseal ledger',
      eventPattern: {
        detailType: [...CLOUDTRAIL_DETAIL_TYPES],
        detail: notTheForwardersOwnSigning(this.forwarder),
      },
      targets: [new targets.SqsQueue(this.forwarderQueue, { deadLetterQueue: this.forwarderDeadLetters })],
    });
    // AWS Config → EventBridge → the same queue: each item becomes a profile version (G8, G10). The queue
    // policy lets each rule send, and nothing else (`aws:SourceArn` of the rule).
    new events.Rule(this, 'ConfigRule', {
      description: 'AWS Config item changes into auditseal resource profiles',
      eventPattern: {
        source: [...CONFIG_EVENT_PATTERN.source],
        detailType: [...CONFIG_EVENT_PATTERN.detailType],
      },
      targets: [new targets.SqsQueue(this.forwarderQueue, { deadLetterQueue: this.forwarderDeadLetters })],
    });
    this.forwarder.addEventSource(
      new sources.SqsEventSource(this.forwarderQueue, {
        batchSize: 100,
        maxBatchingWindow: Duration.seconds(2),
        reportBatchItemFailures: true,
      }),
    );

    // The ledger stream → tamper alarms and sealing.
    this.sealer = handlerFunction(this, 'SealPeriods', {
      handler: 'seal-periods',
      description: 'auditseal sealer and tamper alarms (ledger stream)',
      network,
      timeout: SEALER_TIMEOUT,
      memorySize: 2048,
      // Sealing streams a period through a bounded working set: a small young generation keeps RSS flat.
      heap: 'streaming',
      // One sealing run at a time; sealing is idempotent, so this saves work, not correctness.
      reservedConcurrentExecutions: 1,
    });
    grantAccess(this.sealer, 'seal', props, ['alarm-publish']);
    this.streamFailures = deadLetterQueue(this, 'StreamFailures');
    this.sealer.addEventSource(
      new sources.DynamoEventSource(props.ledger.table, {
        // The same settings the local stream poller uses (infra/resources/definitions.ts).
        ...streamEventSourceProps(props.streamEventSource),
        onFailure: new sources.SqsDlq(this.streamFailures),
      }),
    );

    // Every minute: seal what is due, traffic or not.
    this.heartbeat = handlerFunction(this, 'Heartbeat', {
      handler: 'heartbeat',
      description: 'auditseal heartbeat: seals every due period, even an empty one',
      network,
      timeout: SEALER_TIMEOUT,
      memorySize: 2048,
      // Sealing streams a period through a bounded working set: a small young generation keeps RSS flat.
      heap: 'streaming',
      reservedConcurrentExecutions: 1,
    });
    grantAccess(this.heartbeat, 'seal', props);
    new events.Rule(this, 'HeartbeatSchedule', {
      description: 'auditseal heartbeat',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [
        new targets.LambdaFunction(this.heartbeat, {
          // The next minute's run retries anyway.
          retryAttempts: 0,
          maxEventAge: Duration.minutes(1),
        }),
      ],
    });

    // The read journal → the read recorder: one signed batch per delivery of up to `batchSize` reads.
    this.recorder = handlerFunction(this, 'RecordReads', {
      handler: 'record-reads',
      description: 'auditseal read recorder (read journal → ledger, channel read)',
      network,
      timeout: WRITER_TIMEOUT,
      memorySize: WRITER_MEMORY_MIB,
    });
    grantAccess(this.recorder, 'ingest', props);
    this.writers.push(this.recorder);
    const journal = props.readJournal.definition;
    if (journal.visibilityTimeoutSeconds < WRITER_TIMEOUT.toSeconds() * 6) {
      throw new Error('the read journal visibility timeout must be at least six times the recorder timeout');
    }
    this.recorder.addEventSource(
      new sources.SqsEventSource(props.readJournal.queue, {
        batchSize: journal.batchSize,
        maxBatchingWindow: Duration.seconds(journal.maximumBatchingWindowSeconds),
        reportBatchItemFailures: true,
      }),
    );

    for (const writer of this.writers) {
      if (props.settings.graceSeconds <= writer.timeout!.toSeconds()) {
        throw new Error(
          `graceSeconds (${props.settings.graceSeconds}) must exceed the timeout of ${writer.node.path} ` +
            `(${writer.timeout!.toSeconds()} s): a late write would miss its period's digest`,
        );
      }
    }
  }
}

/**
 * Everything but the forwarder's own KMS calls: each forwarded batch is signed, and forwarding that
 * `Sign` event would sign again, forever.
 */
function notTheForwardersOwnSigning(forwarder: lambda.IFunction): Record<string, unknown> {
  const issuer = (arn: unknown) => ({ userIdentity: { sessionContext: { sessionIssuer: { arn } } } });
  return {
    $or: [
      { eventSource: events.Match.anythingBut('kms.amazonaws.com') },
      { eventName: events.Match.anythingBut('Sign', 'GetPublicKey') },
      issuer(events.Match.doesNotExist()),
      issuer(events.Match.anythingBut(forwarder.role!.roleArn)),
    ],
  };
}

/** An encrypted, TLS-only queue that keeps what a trigger gave up on for 14 days. */
export function deadLetterQueue(scope: Construct, id: string): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: 'This queue is itself a dead-letter destination; an alarm fires on its first message.',
  });
  return queue;
}

function pascal(name: string): string {
  return name.replace(/(^|-)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());
}

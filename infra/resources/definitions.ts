/**
 * The stateful resources of auditseal, defined once as plain data: the ledger table, the digest bucket, the
 * signing key, and the event source mapping of the ledger stream. The CDK app (through `cdk-props.ts`) and the local stack bootstrap (through
 * `sdk-commands.ts`) both build them from these definitions, so the two cannot drift apart.
 *
 * This module imports neither the AWS SDK nor aws-cdk-lib. Design: docs/LEDGER-TABLE.md, docs/LOCAL-STACK.md.
 */

/** Where the resources live: `aws` is the CDK deployment, `local` the `npm start` stack. */
export type ResourceEnvironment = 'aws' | 'local';

/** A DynamoDB key attribute. Every ledger key is a string. */
export interface KeyAttribute {
  readonly name: string;
  readonly type: 'S';
}

/**
 * A global secondary index of the ledger table. Every search index is keyed on one overloaded string
 * attribute (`<prefix>#<ledger>#<value>#<shard>`, adapters/dynamodb/index-keys.ts) and sorted by the
 * table's own `sk` (`<receivedAt>#<id>`), so one cursor position works across all of its shards; the
 * timeline index `byResourceTime` shares `byResource`'s partitions and sorts by the event's own time
 * (`ixEventTime` = `<eventTime>#<id>`).
 * docs/LEDGER-TABLE.md ("Search indexes") names the query each one serves and what it costs.
 */
export interface IndexDefinition {
  readonly indexName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute;
  /** ALL: a search reads one index item per result and never goes back to the table. */
  readonly projection: 'ALL';
  /** The query it serves, for the docs and the tests. */
  readonly serves: string;
}

/** The ledger table: put-only items, streamed to the sealing function and the tamper alarms. */
export interface LedgerTableDefinition {
  readonly tableName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute;
  readonly billingMode: 'PAY_PER_REQUEST';
  /** Both images: the tamper alarm needs what a MODIFY or REMOVE changed. */
  readonly streamViewType: 'NEW_AND_OLD_IMAGES';
  /** Used by no ledger item: a TTL delete by the service is the one REMOVE that is not an alarm (G5). */
  readonly timeToLiveAttribute: string;
  /** Point-in-time recovery; DynamoDB Local does not implement it. */
  readonly pointInTimeRecovery: boolean;
  /** Deletion protection and a RETAIN removal policy on AWS. */
  readonly retainOnDelete: boolean;
  /** The search indexes (GET /v1/events); only event items carry their keys. */
  readonly globalSecondaryIndexes: readonly IndexDefinition[];
}

/** The WORM bucket for digests and archives. */
export interface DigestBucketDefinition {
  readonly bucketName: string | undefined;
  /** Object Lock is enabled at creation (it cannot be turned on later without support). */
  readonly objectLock: {
    readonly mode: 'COMPLIANCE';
    /** Default retention of every new object version, in days. */
    readonly retentionDays: number;
  };
  /** Object Lock requires versioning. */
  readonly versioned: true;
  readonly blockPublicAccess: true;
  /** Server-side encryption with S3-managed keys (SSE-S3, AES256), with an S3 bucket key. */
  readonly encryption: 'AES256';
  /** HTTPS only, through a bucket policy (CDK); meaningless against the local emulator. */
  readonly enforceTls: boolean;
  readonly retainOnDelete: boolean;
}

/** The asymmetric KMS key that signs batch and digest statements. */
export interface SigningKeyDefinition {
  readonly keySpec: 'ECC_NIST_P256';
  readonly keyUsage: 'SIGN_VERIFY';
  readonly signingAlgorithm: 'ECDSA_SHA_256';
  readonly description: string;
  /** Alias on AWS (`alias/…`); locally the key is addressed by id. */
  readonly alias: string | undefined;
  readonly retainOnDelete: boolean;
}

/**
 * How the ledger stream reaches the stream function: Lambda's event source mapping on AWS, the local stream
 * poller in `npm start`. Names follow the `CreateEventSourceMapping` parameters.
 */
export interface StreamEventSourceDefinition {
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
  readonly batchSize: number;
  readonly maximumBatchingWindowSeconds: number;
  readonly bisectBatchOnFunctionError: boolean;
  /** `FunctionResponseTypes: ['ReportBatchItemFailures']`. */
  readonly reportBatchItemFailures: boolean;
  /** -1 retries until the record expires from the stream (24 h). */
  readonly maximumRetryAttempts: number;
  readonly parallelizationFactor: number;
}

/**
 * The read journal (G7, docs/API.md "Audited reads"): every successful read sends one message here before
 * it is answered; the read recorder takes them off in batches and ingests them, one signature per batch.
 */
export interface ReadQueueDefinition {
  readonly queueName: string;
  readonly deadLetterQueueName: string;
  /** At least six times the recorder's timeout on AWS (Lambda's advice for SQS sources). */
  readonly visibilityTimeoutSeconds: number;
  /** Deliveries before a message moves to the dead-letter queue (which raises an alarm). */
  readonly maxReceiveCount: number;
  readonly retentionDays: number;
  /** Read records per recorder invocation: one batch statement, one signature. */
  readonly batchSize: number;
  readonly maximumBatchingWindowSeconds: number;
}

/** All of them, for one environment. */
export interface ResourceDefinitions {
  readonly environment: ResourceEnvironment;
  readonly table: LedgerTableDefinition;
  readonly bucket: DigestBucketDefinition;
  readonly signingKey: SigningKeyDefinition;
  readonly streamEventSource: StreamEventSourceDefinition;
  readonly readQueue: ReadQueueDefinition;
}

/** Seven years: the default digest retention on AWS. */
export const AWS_DEFAULT_RETENTION_DAYS = 2555;
/** One day locally: long enough to test the lock, short enough not to matter. */
export const LOCAL_RETENTION_DAYS = 1;

export const DEFAULT_TABLE_NAME = 'auditseal-ledger';
export const LOCAL_BUCKET_NAME = 'auditseal-local-digests';
export const DEFAULT_KEY_ALIAS = 'alias/auditseal-signing';

/** Overrides a deployment may set; everything else is fixed by the design. */
export interface ResourceOptions {
  readonly tableName?: string;
  /** On AWS, default: a name CloudFormation generates. */
  readonly bucketName?: string;
  readonly retentionDays?: number;
  readonly keyAlias?: string;
}

/**
 * The search indexes of GET /v1/events, and the timeline index of GET /v1/resources/{id}/timeline. Each partition key value is sharded (docs/SCALE.md) so that one
 * hot actor, resource or action never needs more than one partition's write throughput.
 */
export const SEARCH_INDEXES: readonly IndexDefinition[] = [
  {
    indexName: 'byActor',
    partitionKey: { name: 'ixActor', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    projection: 'ALL',
    serves: 'events of one actor, newest first, in a time range',
  },
  {
    indexName: 'byResource',
    partitionKey: { name: 'ixResource', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    projection: 'ALL',
    serves: 'events on one resource, newest first, in a time range',
  },
  {
    indexName: 'byAction',
    partitionKey: { name: 'ixAction', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    projection: 'ALL',
    serves: 'events of one action, newest first, in a time range',
  },
  {
    indexName: 'byKind',
    partitionKey: { name: 'ixKind', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    projection: 'ALL',
    serves: 'events of a channel and outcome (and, merged over all of them, every event), newest first',
  },
  {
    indexName: 'byResourceTime',
    partitionKey: { name: 'ixResource', type: 'S' },
    sortKey: { name: 'ixEventTime', type: 'S' },
    projection: 'ALL',
    serves: "a resource's timeline: its events in the order of their own time (eventTime, id)",
  },
];

/** The ledger table for an environment. */
export function ledgerTable(
  environment: ResourceEnvironment,
  options: ResourceOptions = {},
): LedgerTableDefinition {
  return {
    tableName: options.tableName ?? DEFAULT_TABLE_NAME,
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    billingMode: 'PAY_PER_REQUEST',
    streamViewType: 'NEW_AND_OLD_IMAGES',
    timeToLiveAttribute: 'expiresAt',
    pointInTimeRecovery: environment === 'aws',
    retainOnDelete: environment === 'aws',
    globalSecondaryIndexes: SEARCH_INDEXES,
  };
}

/** The digest bucket for an environment. Rejects a retention that is not a whole number of days ≥ 1. */
export function digestBucket(
  environment: ResourceEnvironment,
  options: ResourceOptions = {},
): DigestBucketDefinition {
  const retentionDays =
    options.retentionDays ?? (environment === 'aws' ? AWS_DEFAULT_RETENTION_DAYS : LOCAL_RETENTION_DAYS);
  if (!Number.isInteger(retentionDays) || retentionDays < 1 || retentionDays > 36_500) {
    throw new RangeError(
      `retentionDays must be a whole number of days from 1 to 36500, got ${retentionDays}`,
    );
  }
  return {
    bucketName: options.bucketName ?? (environment === 'local' ? LOCAL_BUCKET_NAME : undefined),
    objectLock: { mode: 'COMPLIANCE', retentionDays },
    versioned: true,
    blockPublicAccess: true,
    encryption: 'AES256',
    enforceTls: environment === 'aws',
    retainOnDelete: environment === 'aws',
  };
}

/** The signing key for an environment. */
export function signingKey(
  environment: ResourceEnvironment,
  options: ResourceOptions = {},
): SigningKeyDefinition {
  return {
    keySpec: 'ECC_NIST_P256',
    keyUsage: 'SIGN_VERIFY',
    signingAlgorithm: 'ECDSA_SHA_256',
    description:
      environment === 'aws' ? 'auditseal batch and digest signing key' : 'auditseal local signing key (moto)',
    alias: environment === 'aws' ? (options.keyAlias ?? DEFAULT_KEY_ALIAS) : undefined,
    retainOnDelete: environment === 'aws',
  };
}

/**
 * The ledger stream's event source mapping. Failed batches are bisected down to the failing record and
 * retried; a record that still fails goes to the on-failure destination, so one poison record cannot stall
 * sealing for 24 hours.
 */
export function streamEventSource(_environment: ResourceEnvironment): StreamEventSourceDefinition {
  return {
    startingPosition: 'TRIM_HORIZON',
    batchSize: 100,
    maximumBatchingWindowSeconds: 0,
    bisectBatchOnFunctionError: true,
    reportBatchItemFailures: true,
    maximumRetryAttempts: 10,
    parallelizationFactor: 1,
  };
}

/** The read journal's queue. Locally the visibility timeout is short, so a failed recording is retried soon. */
export function readQueue(environment: ResourceEnvironment): ReadQueueDefinition {
  return {
    queueName: 'auditseal-reads',
    deadLetterQueueName: 'auditseal-reads-dlq',
    visibilityTimeoutSeconds: environment === 'aws' ? 60 : 5,
    maxReceiveCount: 10,
    retentionDays: 14,
    batchSize: 500,
    maximumBatchingWindowSeconds: 1,
  };
}

/**
 * Every stateful resource for an environment.
 * @example const { table, bucket, signingKey } = resourceDefinitions('aws', { retentionDays: 3650 });
 */
export function resourceDefinitions(
  environment: ResourceEnvironment,
  options: ResourceOptions = {},
): ResourceDefinitions {
  return {
    environment,
    table: ledgerTable(environment, options),
    bucket: digestBucket(environment, options),
    signingKey: signingKey(environment, options),
    streamEventSource: streamEventSource(environment),
    readQueue: readQueue(environment),
  };
}

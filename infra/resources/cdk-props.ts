/**
 * CDK construct props built from `definitions.ts`: the CDK app's ledger table, digest bucket, signing key and
 * stream event source take these, so that they match what the local stack creates.
 *
 * @example
 * const defs = resourceDefinitions('aws');
 * const table = new dynamodb.TableV2(this, 'LedgerTable', ledgerTableProps(defs.table));
 */

import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as eventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type {
  DigestBucketDefinition,
  KeyAttribute,
  LedgerTableDefinition,
  SigningKeyDefinition,
  StreamEventSourceDefinition,
} from './definitions.ts';

/** `TableV2` props of the ledger table. */
export function ledgerTableProps(def: LedgerTableDefinition): dynamodb.TablePropsV2 {
  return {
    tableName: def.tableName,
    partitionKey: keyAttribute(def.partitionKey),
    sortKey: keyAttribute(def.sortKey),
    billing: dynamodb.Billing.onDemand(),
    dynamoStream: dynamodb.StreamViewType[def.streamViewType],
    timeToLiveAttribute: def.timeToLiveAttribute,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: def.pointInTimeRecovery },
    deletionProtection: def.retainOnDelete,
    removalPolicy: removalPolicy(def.retainOnDelete),
    globalSecondaryIndexes: def.globalSecondaryIndexes.map((index) => ({
      indexName: index.indexName,
      partitionKey: keyAttribute(index.partitionKey),
      sortKey: keyAttribute(index.sortKey),
      projectionType: dynamodb.ProjectionType[index.projection],
    })),
  };
}

/** `Bucket` props of the digest bucket. */
export function digestBucketProps(def: DigestBucketDefinition): s3.BucketProps {
  return {
    ...(def.bucketName === undefined ? {} : { bucketName: def.bucketName }),
    objectLockEnabled: true,
    objectLockDefaultRetention: s3.ObjectLockRetention.compliance(
      Duration.days(def.objectLock.retentionDays),
    ),
    versioned: def.versioned,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    encryption: s3.BucketEncryption.S3_MANAGED,
    bucketKeyEnabled: true,
    enforceSSL: def.enforceTls,
    removalPolicy: removalPolicy(def.retainOnDelete),
  };
}

/** `Key` props of the signing key (asymmetric keys cannot rotate automatically). */
export function signingKeyProps(def: SigningKeyDefinition): kms.KeyProps {
  return {
    keySpec: kms.KeySpec[def.keySpec],
    keyUsage: kms.KeyUsage[def.keyUsage],
    description: def.description,
    ...(def.alias === undefined ? {} : { alias: def.alias }),
    enableKeyRotation: false,
    removalPolicy: removalPolicy(def.retainOnDelete),
  };
}

/**
 * `DynamoEventSource` props of the ledger stream; the caller adds `onFailure` (the destination is a stack
 * concern). `retryAttempts` -1 means "until the record expires" and is left unset, CDK's default.
 */
export function streamEventSourceProps(
  def: StreamEventSourceDefinition,
): eventSources.DynamoEventSourceProps {
  return {
    startingPosition: lambda.StartingPosition[def.startingPosition],
    batchSize: def.batchSize,
    maxBatchingWindow: Duration.seconds(def.maximumBatchingWindowSeconds),
    bisectBatchOnError: def.bisectBatchOnFunctionError,
    reportBatchItemFailures: def.reportBatchItemFailures,
    ...(def.maximumRetryAttempts < 0 ? {} : { retryAttempts: def.maximumRetryAttempts }),
    parallelizationFactor: def.parallelizationFactor,
  };
}

function keyAttribute(attribute: KeyAttribute): dynamodb.Attribute {
  // The only ledger key type; a new one would fail to type-check here.
  const types: Record<KeyAttribute['type'], dynamodb.AttributeType> = { S: dynamodb.AttributeType.STRING };
  return { name: attribute.name, type: types[attribute.type] };
}

function removalPolicy(retain: boolean): RemovalPolicy {
  return retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
}

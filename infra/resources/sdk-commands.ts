/**
 * AWS SDK requests that create the resources of `definitions.ts` directly, without CloudFormation: used by the
 * local stack bootstrap against DynamoDB Local and moto.
 */

import type {
  CreateTableCommandInput,
  GlobalSecondaryIndex,
  UpdateContinuousBackupsCommandInput,
  UpdateTimeToLiveCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { BucketLocationConstraint } from '@aws-sdk/client-s3';
import {
  CreateBucketCommand,
  PutBucketEncryptionCommand,
  PutBucketVersioningCommand,
  PutObjectLockConfigurationCommand,
  PutPublicAccessBlockCommand,
} from '@aws-sdk/client-s3';
import type { DigestBucketDefinition, IndexDefinition, LedgerTableDefinition } from './definitions.ts';

/** The `CreateTable` request for the ledger table (TTL and PITR need separate calls, below). */
export function createTableInput(def: LedgerTableDefinition): CreateTableCommandInput {
  const attributes = new Map<string, 'S'>([
    [def.partitionKey.name, def.partitionKey.type],
    [def.sortKey.name, def.sortKey.type],
  ]);
  for (const index of def.globalSecondaryIndexes) {
    attributes.set(index.partitionKey.name, index.partitionKey.type);
    attributes.set(index.sortKey.name, index.sortKey.type);
  }
  return {
    TableName: def.tableName,
    AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({
      AttributeName,
      AttributeType,
    })),
    KeySchema: [
      { AttributeName: def.partitionKey.name, KeyType: 'HASH' },
      { AttributeName: def.sortKey.name, KeyType: 'RANGE' },
    ],
    BillingMode: def.billingMode,
    ...(def.globalSecondaryIndexes.length === 0
      ? {}
      : { GlobalSecondaryIndexes: def.globalSecondaryIndexes.map(globalSecondaryIndexInput) }),
    StreamSpecification: { StreamEnabled: true, StreamViewType: def.streamViewType },
    DeletionProtectionEnabled: def.retainOnDelete,
  };
}

/** One index of `CreateTable` (or of `UpdateTable`'s `Create`, for a table made before it existed). */
export function globalSecondaryIndexInput(index: IndexDefinition): GlobalSecondaryIndex {
  return {
    IndexName: index.indexName,
    KeySchema: [
      { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
      { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
    ],
    Projection: { ProjectionType: index.projection },
  };
}

/** The `UpdateTimeToLive` request that turns TTL on for the ledger table. */
export function timeToLiveInput(def: LedgerTableDefinition): UpdateTimeToLiveCommandInput {
  return {
    TableName: def.tableName,
    TimeToLiveSpecification: { AttributeName: def.timeToLiveAttribute, Enabled: true },
  };
}

/** The `UpdateContinuousBackups` request for point-in-time recovery, or undefined where it is off. */
export function pointInTimeRecoveryInput(
  def: LedgerTableDefinition,
): UpdateContinuousBackupsCommandInput | undefined {
  if (!def.pointInTimeRecovery) return undefined;
  return { TableName: def.tableName, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } };
}

/** One request of the bucket setup, in the order it must run. */
export type BucketSetupCommand =
  | CreateBucketCommand
  | PutBucketVersioningCommand
  | PutObjectLockConfigurationCommand
  | PutPublicAccessBlockCommand
  | PutBucketEncryptionCommand;

/**
 * The S3 requests that create the digest bucket: create it with Object Lock, then versioning, default
 * COMPLIANCE retention, public access block and default encryption. Each one is idempotent.
 * @example for (const command of bucketSetup(def, 'us-east-1')) await s3.send(command);
 */
export function bucketSetup(def: DigestBucketDefinition, region: string): BucketSetupCommand[] {
  const Bucket = def.bucketName;
  if (Bucket === undefined) throw new TypeError('bucketSetup needs a bucket name');
  return [
    new CreateBucketCommand({
      Bucket,
      ObjectLockEnabledForBucket: true,
      // us-east-1 is the one region that takes no LocationConstraint.
      ...(region === 'us-east-1'
        ? {}
        : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }),
    }),
    new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }),
    new PutObjectLockConfigurationCommand({
      Bucket,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: def.objectLock.mode, Days: def.objectLock.retentionDays } },
      },
    }),
    new PutPublicAccessBlockCommand({
      Bucket,
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        IgnorePublicAcls: true,
        BlockPublicPolicy: true,
        RestrictPublicBuckets: true,
      },
    }),
    new PutBucketEncryptionCommand({
      Bucket,
      ServerSideEncryptionConfiguration: {
        Rules: [
          { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: def.encryption }, BucketKeyEnabled: true },
        ],
      },
    }),
  ];
}

/**
 * Creates the resources of `infra/resources/definitions.ts` against DynamoDB Local and moto. Idempotent:
 * a resource that already exists is checked against its definition and reused.
 */

import type { DynamoDBClient, TableDescription } from '@aws-sdk/client-dynamodb';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ResourceNotFoundException,
  UpdateContinuousBackupsCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import type { KMSClient } from '@aws-sdk/client-kms';
import {
  CreateAliasCommand,
  DescribeKeyCommand,
  NotFoundException,
  UpdateAliasCommand,
} from '@aws-sdk/client-kms';
import type { S3Client } from '@aws-sdk/client-s3';
import { HeadBucketCommand, NotFound } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createSigningKey } from '../adapters/kms/create-signing-key.ts';
import type {
  DigestBucketDefinition,
  LedgerTableDefinition,
  ReadQueueDefinition,
  ResourceDefinitions,
  SigningKeyDefinition,
} from '../infra/resources/definitions.ts';
import {
  bucketSetup,
  createTableInput,
  globalSecondaryIndexInput,
  pointInTimeRecoveryInput,
  timeToLiveInput,
} from '../infra/resources/sdk-commands.ts';

/** SDK clients pointed at the local emulators. */
export interface BootstrapClients {
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
  readonly kms: KMSClient;
}

export interface BootstrapOptions {
  readonly definitions: ResourceDefinitions;
  readonly region: string;
  /** A signing key to reuse if it still exists; otherwise a new one is created. */
  readonly kmsKeyId?: string | undefined;
  /** Tags for a newly created key. */
  readonly keyTags?: Readonly<Record<string, string>>;
}

/** What exists after bootstrap, and what had to be created. */
export interface BootstrappedResources {
  readonly tableName: string;
  /** The stream ARN as DynamoDB Local names it (region `ddblocal`). */
  readonly streamArn: string;
  readonly bucket: string;
  readonly kmsKeyId: string;
  readonly kmsKeyArn: string;
  readonly created: { readonly table: boolean; readonly bucket: boolean; readonly signingKey: boolean };
}

/** A resource exists but does not match its definition; the message says how to recover. */
export class ResourceMismatchError extends Error {
  override readonly name = 'ResourceMismatchError';
}

/**
 * Creates (or reuses) the ledger table, the digest bucket and the signing key.
 * @example const resources = await bootstrapResources(clients, { definitions: resourceDefinitions('local'), region });
 */
export async function bootstrapResources(
  clients: BootstrapClients,
  options: BootstrapOptions,
): Promise<BootstrappedResources> {
  const { table, bucket, signingKey } = options.definitions;
  const [ledgerTable, digestBucket, key] = await Promise.all([
    ensureLedgerTable(clients.dynamodb, table),
    ensureDigestBucket(clients.s3, bucket, options.region),
    ensureSigningKey(clients.kms, signingKey, options.kmsKeyId, options.keyTags),
  ]);
  return {
    tableName: table.tableName,
    streamArn: ledgerTable.streamArn,
    bucket: digestBucket.bucket,
    kmsKeyId: key.kmsKeyId,
    kmsKeyArn: key.arn,
    created: { table: ledgerTable.created, bucket: digestBucket.created, signingKey: key.created },
  };
}

/** Creates the table if missing, checks its keys and stream, and turns TTL (and PITR where defined) on. */
export async function ensureLedgerTable(
  client: DynamoDBClient,
  def: LedgerTableDefinition,
): Promise<{ streamArn: string; created: boolean }> {
  let description = await describeTable(client, def.tableName);
  const created = description === undefined;
  if (description === undefined) {
    description = (await client.send(new CreateTableCommand(createTableInput(def)))).TableDescription;
  }
  const streamArn = checkTable(def, description);
  await ensureIndexes(client, def, description);
  const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: def.tableName }));
  const status = ttl.TimeToLiveDescription?.TimeToLiveStatus;
  if (status !== 'ENABLED' && status !== 'ENABLING') {
    await client.send(new UpdateTimeToLiveCommand(timeToLiveInput(def)));
  } else if (ttl.TimeToLiveDescription?.AttributeName !== def.timeToLiveAttribute) {
    throw new ResourceMismatchError(
      `table ${def.tableName} has TTL on ${ttl.TimeToLiveDescription?.AttributeName}, expected ${def.timeToLiveAttribute}`,
    );
  }
  const pitr = pointInTimeRecoveryInput(def);
  if (pitr !== undefined) await client.send(new UpdateContinuousBackupsCommand(pitr));
  return { streamArn, created };
}

async function describeTable(
  client: DynamoDBClient,
  tableName: string,
): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

/**
 * Adds the search indexes a table made before them lacks (a resumed local ledger), one `UpdateTable` per
 * index as DynamoDB requires, and waits until each is ACTIVE; DynamoDB backfills existing items.
 */
async function ensureIndexes(
  client: DynamoDBClient,
  def: LedgerTableDefinition,
  description: TableDescription | undefined,
): Promise<void> {
  const present = new Set((description?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  for (const index of def.globalSecondaryIndexes) {
    if (present.has(index.indexName)) continue;
    await client.send(
      new UpdateTableCommand({
        TableName: def.tableName,
        AttributeDefinitions: [
          { AttributeName: index.partitionKey.name, AttributeType: index.partitionKey.type },
          { AttributeName: index.sortKey.name, AttributeType: index.sortKey.type },
        ],
        GlobalSecondaryIndexUpdates: [{ Create: globalSecondaryIndexInput(index) }],
      }),
    );
    for (let attempt = 0; ; attempt++) {
      const table = await describeTable(client, def.tableName);
      const status = table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === index.indexName)?.IndexStatus;
      if (status === 'ACTIVE') break;
      if (attempt >= 600) throw new ResourceMismatchError(`index ${index.indexName} did not become ACTIVE`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function checkTable(def: LedgerTableDefinition, description: TableDescription | undefined): string {
  const expected = createTableInput(def);
  const keys = JSON.stringify(description?.KeySchema ?? []);
  const stream = description?.StreamSpecification;
  const fix = 'delete the local data folder (.auditseal/dynamodb) to start over';
  if (keys !== JSON.stringify(expected.KeySchema)) {
    throw new ResourceMismatchError(`table ${def.tableName} has key schema ${keys}; ${fix}`);
  }
  if (stream?.StreamEnabled !== true || stream.StreamViewType !== def.streamViewType) {
    throw new ResourceMismatchError(`table ${def.tableName} has no ${def.streamViewType} stream; ${fix}`);
  }
  if (description?.LatestStreamArn === undefined) {
    throw new ResourceMismatchError(`table ${def.tableName} reports no stream ARN; ${fix}`);
  }
  return description.LatestStreamArn;
}

/** Creates the bucket if missing and (re)applies versioning, the default retention and the rest. */
export async function ensureDigestBucket(
  client: S3Client,
  def: DigestBucketDefinition,
  region: string,
): Promise<{ bucket: string; created: boolean }> {
  const commands = bucketSetup(def, region);
  const bucket = def.bucketName!;
  let exists = true;
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (error) {
    if (!(error instanceof NotFound)) throw error;
    exists = false;
  }
  // Object Lock can only be enabled at creation: an existing bucket without it fails PutObjectLockConfiguration.
  for (const command of exists ? commands.slice(1) : commands) {
    await client.send(command as Parameters<S3Client['send']>[0]);
  }
  return { bucket, created: !exists };
}

/** Reuses `kmsKeyId` if it exists, is enabled and fits the definition; otherwise creates a key. */
export async function ensureSigningKey(
  client: KMSClient,
  def: SigningKeyDefinition,
  kmsKeyId: string | undefined,
  tags: Readonly<Record<string, string>> = {},
): Promise<{ kmsKeyId: string; arn: string; created: boolean }> {
  if (kmsKeyId !== undefined) {
    const existing = await describeSigningKey(client, kmsKeyId);
    if (existing !== undefined) return { ...existing, created: false };
  }
  const created = await createSigningKey(client, { description: def.description, tags });
  return { ...created, created: true };
}

/** The key's id and ARN if it exists, is enabled and is an `ECC_NIST_P256` `SIGN_VERIFY` key. */
export async function describeSigningKey(
  client: KMSClient,
  kmsKeyId: string,
): Promise<{ kmsKeyId: string; arn: string } | undefined> {
  try {
    const { KeyMetadata: key } = await client.send(new DescribeKeyCommand({ KeyId: kmsKeyId }));
    const spec = key?.KeySpec ?? key?.CustomerMasterKeySpec;
    if (key?.KeyId === undefined || key.Arn === undefined || key.KeyState !== 'Enabled') return undefined;
    if (spec !== 'ECC_NIST_P256' || key.KeyUsage !== 'SIGN_VERIFY') return undefined;
    return { kmsKeyId: key.KeyId, arn: key.Arn };
  } catch (error) {
    if (error instanceof NotFoundException) return undefined;
    throw error;
  }
}

/** The read journal's queue and its dead-letter queue (moto), created or reused. */
export async function ensureReadQueue(
  client: SQSClient,
  def: ReadQueueDefinition,
): Promise<{ queueUrl: string; queueArn: string; deadLetterQueueUrl: string }> {
  const retention = String(def.retentionDays * 86_400);
  const dead = await client.send(
    new CreateQueueCommand({
      QueueName: def.deadLetterQueueName,
      Attributes: { MessageRetentionPeriod: retention },
    }),
  );
  const deadArn = await queueArn(client, dead.QueueUrl!);
  const queue = await client.send(
    new CreateQueueCommand({
      QueueName: def.queueName,
      Attributes: {
        VisibilityTimeout: String(def.visibilityTimeoutSeconds),
        MessageRetentionPeriod: retention,
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadArn, maxReceiveCount: def.maxReceiveCount }),
      },
    }),
  );
  return {
    queueUrl: queue.QueueUrl!,
    queueArn: await queueArn(client, queue.QueueUrl!),
    deadLetterQueueUrl: dead.QueueUrl!,
  };
}

async function queueArn(client: SQSClient, queueUrl: string): Promise<string> {
  const output = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  const arn = output.Attributes?.['QueueArn'];
  if (arn === undefined) throw new ResourceMismatchError(`queue ${queueUrl} reports no ARN`);
  return arn;
}

/** The alias the local functions sign through, so `auditseal local rotate-key` can re-point it. */
export function localKeyAlias(ledger: string): string {
  return `alias/auditseal-${ledger}`;
}

/** Points `alias` at `kmsKeyId`, creating the alias when it does not exist yet. */
export async function ensureKeyAlias(client: KMSClient, alias: string, kmsKeyId: string): Promise<void> {
  try {
    await client.send(new UpdateAliasCommand({ AliasName: alias, TargetKeyId: kmsKeyId }));
  } catch (error) {
    if (!(error instanceof NotFoundException)) throw error;
    await client.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: kmsKeyId }));
  }
}

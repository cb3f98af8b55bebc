/**
 * The resource definitions are the single source of the ledger table, digest bucket and signing key: the CDK
 * constructs built from `cdk-props.ts` and the SDK requests of `sdk-commands.ts` must say the same thing.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import {
  digestBucketProps,
  ledgerTableProps,
  signingKeyProps,
  streamEventSourceProps,
} from '../../../infra/resources/cdk-props.ts';
import {
  AWS_DEFAULT_RETENTION_DAYS,
  digestBucket,
  LOCAL_RETENTION_DAYS,
  resourceDefinitions,
} from '../../../infra/resources/definitions.ts';
import { bucketSetup, createTableInput, timeToLiveInput } from '../../../infra/resources/sdk-commands.ts';

function synth(environment: 'aws' | 'local'): {
  template: Template;
  defs: ReturnType<typeof resourceDefinitions>;
} {
  const defs = resourceDefinitions(environment);
  const stack = new Stack(new App(), 'Resources');
  const table = new dynamodb.TableV2(stack, 'LedgerTable', ledgerTableProps(defs.table));
  const fn = new lambda.Function(stack, 'StreamFunction', {
    runtime: lambda.Runtime.NODEJS_20_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => {}'),
  });
  fn.addEventSource(new DynamoEventSource(table, streamEventSourceProps(defs.streamEventSource)));
  new s3.Bucket(stack, 'DigestBucket', digestBucketProps(defs.bucket));
  new kms.Key(stack, 'SigningKey', signingKeyProps(defs.signingKey));
  return { template: Template.fromStack(stack), defs };
}

describe('Module: infra/resources/definitions', () => {
  describe('when the CDK app consumes it', () => {
    const { template, defs } = synth('aws');
    const sdk = createTableInput(defs.table);

    it('gives the table the key schema of the local CreateTable request', () => {
      // Assess
      template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        KeySchema: sdk.KeySchema,
        AttributeDefinitions: sdk.AttributeDefinitions,
        BillingMode: 'PAY_PER_REQUEST',
      });
      expect(sdk.KeySchema).toEqual([
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ]);
    });

    it('gives the table the search indexes of the local CreateTable request, one per query pattern', () => {
      // Assess
      const indexes = sdk.GlobalSecondaryIndexes ?? [];
      expect(indexes.map((i) => i.IndexName)).toEqual([
        'byActor',
        'byResource',
        'byAction',
        'byKind',
        'byResourceTime',
      ]);
      template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        GlobalSecondaryIndexes: indexes.map((i) => ({
          IndexName: i.IndexName,
          KeySchema: i.KeySchema,
          Projection: { ProjectionType: 'ALL' },
        })),
      });
      for (const index of indexes.filter((i) => i.IndexName !== 'byResourceTime'))
        expect(index.KeySchema?.[1]).toEqual({ AttributeName: 'sk', KeyType: 'RANGE' });
      // The timeline index: byResource's partitions, sorted by the event's own time.
      expect(indexes.find((i) => i.IndexName === 'byResourceTime')?.KeySchema).toEqual([
        { AttributeName: 'ixResource', KeyType: 'HASH' },
        { AttributeName: 'ixEventTime', KeyType: 'RANGE' },
      ]);
    });

    it('gives the table the stream of the local CreateTable request', () => {
      // Assess
      template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        StreamSpecification: { StreamViewType: sdk.StreamSpecification?.StreamViewType },
      });
      expect(sdk.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    });

    it('turns on TTL on the same attribute, point-in-time recovery and deletion protection', () => {
      // Assess
      template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        TimeToLiveSpecification: {
          AttributeName: timeToLiveInput(defs.table).TimeToLiveSpecification?.AttributeName,
          Enabled: true,
        },
        Replicas: [
          {
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
            DeletionProtectionEnabled: true,
          },
        ],
      });
      template.hasResource('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Retain' });
    });

    it('locks the bucket in COMPLIANCE mode for seven years by default', () => {
      // Assess
      template.hasResourceProperties('AWS::S3::Bucket', {
        ObjectLockEnabled: true,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: AWS_DEFAULT_RETENTION_DAYS } },
        },
        VersioningConfiguration: { Status: 'Enabled' },
      });
    });

    it('blocks public access, encrypts and retains the bucket', () => {
      // Assess
      template.hasResourceProperties('AWS::S3::Bucket', {
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: true },
          ],
        },
      });
      template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    });

    it('maps the stream to the function the way the local poller delivers it', () => {
      // Assess
      const source = defs.streamEventSource;
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        StartingPosition: source.startingPosition,
        BatchSize: source.batchSize,
        BisectBatchOnFunctionError: true,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        MaximumRetryAttempts: source.maximumRetryAttempts,
      });
    });

    it('creates an ECC_NIST_P256 SIGN_VERIFY key', () => {
      // Assess
      template.hasResourceProperties('AWS::KMS::Key', { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
      template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/auditseal-signing' });
    });
  });

  describe('when the local stack consumes it', () => {
    it('asks for the same bucket lock, for one day', () => {
      // Prepare
      const defs = resourceDefinitions('local');

      // Act
      const commands = bucketSetup(defs.bucket, 'us-east-1');

      // Assess
      expect(commands.map((command) => command.constructor.name)).toEqual([
        'CreateBucketCommand',
        'PutBucketVersioningCommand',
        'PutObjectLockConfigurationCommand',
        'PutPublicAccessBlockCommand',
        'PutBucketEncryptionCommand',
      ]);
      expect(commands[0]!.input).toEqual({
        Bucket: 'auditseal-local-digests',
        ObjectLockEnabledForBucket: true,
      });
      expect(commands[2]!.input).toMatchObject({
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: LOCAL_RETENTION_DAYS } },
        },
      });
      expect(defs.table.pointInTimeRecovery).toBe(false);
    });

    it('names the region outside us-east-1', () => {
      // Act
      const [create] = bucketSetup(resourceDefinitions('local').bucket, 'eu-west-1');

      // Assess
      expect(create!.input).toMatchObject({ CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } });
    });
  });

  describe('when the retention is not a whole number of days from 1', () => {
    it.each([0, -1, 1.5, Number.NaN])('rejects %s', (retentionDays) => {
      // Act & Assess
      expect(() => digestBucket('aws', { retentionDays })).toThrow(RangeError);
    });
  });
});

/**
 * The ledger table, the digest bucket and the signing key, one security property at a time; each value is
 * checked against the shared definitions, never against a copy of it.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIGEST_DENIED_ACTIONS } from '../../infra/constructs/digest-bucket.ts';
import { LEDGER_DENIED_ACTIONS } from '../../infra/constructs/ledger-table.ts';
import { AWS_DEFAULT_RETENTION_DAYS, resourceDefinitions } from '../../infra/resources/definitions.ts';
import {
  logicalIdOf,
  onlyResource,
  resourcesOfType,
  type Statement,
  type Synthesized,
  synthesize,
} from './synthesize.ts';

const defs = resourceDefinitions('aws');

let synthesized: Synthesized;
beforeAll(() => {
  synthesized = synthesize();
});
afterAll(() => synthesized.dispose());

describe('Construct: LedgerTable', () => {
  describe('Property: streamed, recoverable, undeletable', () => {
    it('has the key schema, billing, stream and TTL of the definition', () => {
      // Assess
      synthesized.template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        TableName: defs.table.tableName,
        KeySchema: [
          { AttributeName: defs.table.partitionKey.name, KeyType: 'HASH' },
          { AttributeName: defs.table.sortKey.name, KeyType: 'RANGE' },
        ],
        BillingMode: defs.table.billingMode,
        StreamSpecification: { StreamViewType: defs.table.streamViewType },
        TimeToLiveSpecification: { AttributeName: defs.table.timeToLiveAttribute, Enabled: true },
      });
    });

    it('has point-in-time recovery and deletion protection, and is retained when the stack goes', () => {
      // Prepare
      const [, table] = onlyResource(synthesized.json, 'AWS::DynamoDB::GlobalTable');
      const [replica] = table.Properties['Replicas'] as Record<string, unknown>[];

      // Assess
      expect(replica).toMatchObject({
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
      });
      expect(table.DeletionPolicy).toBe('Retain');
      expect(table.UpdateReplacePolicy).toBe('Retain');
    });
  });

  describe('Property: G1, no principal may change or delete an item', () => {
    it('denies every item-changing action to every principal in the resource policy', () => {
      // Prepare
      const [, table] = onlyResource(synthesized.json, 'AWS::DynamoDB::GlobalTable');
      const [replica] = table.Properties['Replicas'] as {
        ResourcePolicy: { PolicyDocument: { Statement: Statement[] } };
      }[];
      const statements = replica!.ResourcePolicy.PolicyDocument.Statement;

      // Assess
      const deny = statements.find((s) => s.Effect === 'Deny');
      expect(deny).toMatchObject({ Principal: { AWS: '*' }, Resource: '*' });
      expect(deny?.Condition).toBeUndefined();
      expect([...(deny!.Action as string[])].sort()).toEqual(
        expect.arrayContaining(['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem']),
      );
      expect([...(deny!.Action as string[])].sort()).toEqual([...LEDGER_DENIED_ACTIONS].sort());
      expect(statements.filter((s) => s.Effect === 'Allow')).toEqual([]);
    });
  });
});

describe('Construct: DigestBucket', () => {
  it('is the one Object Lock bucket; the other is its access-log bucket', () => {
    // Assess
    synthesized.template.resourcePropertiesCountIs('AWS::S3::Bucket', { ObjectLockEnabled: true }, 1);
    synthesized.template.resourcePropertiesCountIs(
      'AWS::S3::Bucket',
      { ObjectLockEnabled: Match.absent() },
      1,
    );
  });

  describe('Property: Object Lock in COMPLIANCE mode with the default retention', () => {
    it('locks every new object for the definitions’ retention', () => {
      // Assess
      synthesized.template.hasResourceProperties('AWS::S3::Bucket', {
        ObjectLockEnabled: true,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: AWS_DEFAULT_RETENTION_DAYS } },
        },
        VersioningConfiguration: { Status: 'Enabled' },
      });
    });

    it('takes the retention from the auditseal:retentionDays parameter', () => {
      // Act
      const custom = synthesize({ context: { 'auditseal:retentionDays': 30 } });

      // Assess
      custom.template.hasResourceProperties('AWS::S3::Bucket', {
        ObjectLockConfiguration: { Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 30 } } },
      });
      custom.dispose();
    });

    it('is retained when the stack goes', () => {
      // Prepare
      const id = logicalIdOf(synthesized.stack.digests.bucket);

      // Assess
      expect(synthesized.json.Resources[id]?.DeletionPolicy).toBe('Retain');
    });
  });

  describe('Property: private, encrypted, TLS only, logged', () => {
    it('blocks every kind of public access and encrypts with SSE-S3', () => {
      // Assess
      synthesized.template.hasResourceProperties('AWS::S3::Bucket', {
        ObjectLockEnabled: true,
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              ServerSideEncryptionByDefault: { SSEAlgorithm: defs.bucket.encryption },
              BucketKeyEnabled: true,
            },
          ],
        },
      });
    });

    it('denies every request that does not use TLS', () => {
      // Assess
      expect(digestBucketStatements()).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 's3:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
    });

    it('writes its server access logs to a separate bucket', () => {
      // Prepare
      const logsId = logicalIdOf(synthesized.stack.digests.accessLogs);

      // Assess
      synthesized.template.hasResourceProperties('AWS::S3::Bucket', {
        ObjectLockEnabled: true,
        LoggingConfiguration: { DestinationBucketName: { Ref: logsId } },
      });
    });
  });

  describe('Property: G1, objects are written once and never deleted', () => {
    it('denies any PutObject without If-None-Match', () => {
      // Assess
      expect(digestBucketStatements()).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 's3:PutObject',
          Condition: { Null: { 's3:if-none-match': 'true' } },
        }),
      );
    });

    it('denies deleting objects and versions to every principal', () => {
      // Prepare
      const deny = digestBucketStatements().find((s) => s.Sid === 'DenyDeletesG1');

      // Assess
      expect(deny).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' } });
      expect(deny?.Condition).toBeUndefined();
      expect(deny?.Action).toEqual([...DIGEST_DENIED_ACTIONS]);
    });
  });
});

describe('Construct: SigningKey', () => {
  describe('Property: an asymmetric P-256 signing key with its alias', () => {
    it('has the key spec and usage of the definition', () => {
      // Assess
      synthesized.template.hasResourceProperties('AWS::KMS::Key', {
        KeySpec: defs.signingKey.keySpec,
        KeyUsage: defs.signingKey.keyUsage,
        Description: defs.signingKey.description,
      });
      synthesized.template.hasResourceProperties('AWS::KMS::Alias', {
        AliasName: defs.signingKey.alias,
        TargetKeyId: { 'Fn::GetAtt': [logicalIdOf(synthesized.stack.signingKey.key), 'Arn'] },
      });
    });

    it('is retained when the stack goes', () => {
      // Assess
      const id = logicalIdOf(synthesized.stack.signingKey.key);
      expect(synthesized.json.Resources[id]?.DeletionPolicy).toBe('Retain');
    });
  });

  describe('Property: only the signing functions may sign', () => {
    it('gives the account administration of the key, but neither kms:Sign, kms:CreateGrant nor kms:*', () => {
      // Prepare
      const statements = signingKeyStatements();
      const account = statements.filter((s) => JSON.stringify(s.Principal).includes(':root'));

      // Assess
      expect(account).toHaveLength(1);
      const actions = account[0]!.Action as string[];
      expect(actions).not.toContain('kms:*');
      expect(actions).not.toContain('kms:Sign');
      expect(actions.some((a) => a.startsWith('kms:Create') && a !== 'kms:CreateAlias')).toBe(false);
    });

    it('names exactly the ingest, profile write, forwarder, sealer, heartbeat, read recorder and detection roles as signers', () => {
      // Prepare
      const { functions, detections } = synthesized.stack;
      const signers = [
        functions.routeHandlers.get('ingest-events')!,
        functions.routeHandlers.get('put-profile')!,
        functions.forwarder,
        functions.sealer,
        functions.heartbeat,
        functions.recorder,
        detections.function,
      ];
      const expected = signers.map((fn) => ({ 'Fn::GetAtt': [logicalIdOf(fn.role!), 'Arn'] }));
      const signing = signingKeyStatements().filter((s) => [s.Action].flat().includes('kms:Sign'));

      // Assess
      const principals = signing.flatMap((s) => [(s.Principal as { AWS: unknown }).AWS].flat());
      expect(principals).toHaveLength(expected.length);
      expect(principals).toEqual(expect.arrayContaining(expected));
    });
  });
});

function digestBucketStatements(): Statement[] {
  const bucketId = logicalIdOf(synthesized.stack.digests.bucket);
  const [, policy] = resourcesOfType(synthesized.json, 'AWS::S3::BucketPolicy').find(
    ([, p]) => JSON.stringify(p.Properties['Bucket']) === JSON.stringify({ Ref: bucketId }),
  )!;
  return (policy.Properties['PolicyDocument'] as { Statement: Statement[] }).Statement;
}

function signingKeyStatements(): Statement[] {
  const key = synthesized.json.Resources[logicalIdOf(synthesized.stack.signingKey.key)]!;
  return (key.Properties['KeyPolicy'] as { Statement: Statement[] }).Statement;
}

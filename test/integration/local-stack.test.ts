/**
 * The local stack as `npm start` runs it: resources built from the shared definitions, local.json, the
 * bucket's write-once guarantees as moto enforces them, signed requests through the gateway, stream
 * delivery, and the "try it" command.
 */
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DescribeKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import {
  DeleteObjectCommand,
  GetBucketEncryptionCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  GetPublicAccessBlockCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectRetentionCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { APIGatewayProxyEvent, DynamoDBRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPublicKey, verifyStatement } from '../../shared/crypto/keys.ts';
import { until } from '../support/dynamodb-local.ts';
import type { TestLocalStack } from '../support/local-stack.ts';
import { startTestLocalStack } from '../support/local-stack.ts';
import { signedFetch } from '../support/signed-fetch.ts';

let stack: TestLocalStack;
let dynamodb: DynamoDBClient;
let s3: S3Client;
let kms: KMSClient;
const posted: APIGatewayProxyEvent[] = [];
const streamed: DynamoDBRecord[] = [];

beforeAll(async () => {
  stack = await startTestLocalStack({
    functions: async (context) => ({
      routes: [
        {
          method: 'GET',
          path: '/v1/ping',
          role: 'reader',
          handler: async () => ({ statusCode: 200, body: JSON.stringify({ ledger: context.ledger }) }),
        },
        {
          method: 'POST',
          path: '/v1/events',
          role: 'writer',
          handler: async (event) => {
            posted.push(event);
            return { statusCode: 201, body: '{"receipts":[]}' };
          },
        },
      ],
      streamHandler: async (event) => {
        streamed.push(...event.Records);
      },
    }),
  });
  const config = {
    region: stack.info.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  dynamodb = new DynamoDBClient({ ...config, endpoint: stack.info.dynamodbEndpoint });
  s3 = new S3Client({ ...config, endpoint: stack.info.s3Endpoint, forcePathStyle: true });
  kms = new KMSClient({ ...config, endpoint: stack.info.kmsEndpoint });
});

afterAll(async () => {
  for (const client of [dynamodb, s3, kms]) client?.destroy();
  await stack?.cleanup();
});

describe('Function: startLocalStack', () => {
  describe('local.json', () => {
    it('is written with every field, readable by its owner only', async () => {
      // Act
      const file = JSON.parse(await readFile(join(stack.dataDir, 'local.json'), 'utf8'));

      // Assess
      const credentials = {
        accessKeyId: expect.stringMatching(/^AKIA[A-Z2-7]{16}$/),
        secretAccessKey: expect.stringMatching(/^[A-Za-z0-9+/]{40}$/),
      };
      expect(file).toEqual({
        endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
        region: 'us-east-1',
        accountId: '000000000000',
        ledger: expect.stringMatching(/^local-[0-9a-f]{8}$/),
        ledgerCreatedAt: expect.any(String),
        tableName: 'auditseal-ledger',
        bucket: 'auditseal-local-digests',
        kmsKeyId: expect.any(String),
        kmsKeyArn: expect.stringContaining(':key/'),
        signingKeyId: expect.stringMatching(/^[0-9a-f]{64}$/),
        publicKeyPem: expect.stringContaining('BEGIN PUBLIC KEY'),
        periodSeconds: 60,
        roles: { writer: credentials, reader: credentials, auditor: credentials },
        dynamodbEndpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
        s3Endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
        kmsEndpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
        pid: process.pid,
        startedAt: expect.any(String),
      });
      expect(
        new Set(Object.values(file.roles).map((role) => (role as { accessKeyId: string }).accessKeyId)).size,
      ).toBe(3);
      expect(statSync(join(stack.dataDir, 'local.json')).mode & 0o777).toBe(0o600);
      expect(stack.ledgerStart).toEqual({ kind: 'first' });
    });
  });

  describe('the ledger table', () => {
    it('has the NEW_AND_OLD_IMAGES stream and TTL on expiresAt', async () => {
      // Act
      const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: stack.info.tableName }));
      const ttl = await dynamodb.send(new DescribeTimeToLiveCommand({ TableName: stack.info.tableName }));

      // Assess
      expect(Table?.KeySchema).toEqual([
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ]);
      expect(Table?.StreamSpecification).toEqual({
        StreamEnabled: true,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      });
      expect(Table?.LatestStreamArn).toBe(stack.context.streamArn);
      expect(ttl.TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAt' });
    });

    it('streams writes to the stream handler in the Lambda shape', async () => {
      // Act
      await dynamodb.send(
        new PutItemCommand({
          TableName: stack.info.tableName,
          Item: { pk: { S: 'TEST#stream' }, sk: { S: '1' } },
        }),
      );
      await until(
        () => streamed.some((record) => record.dynamodb?.Keys?.['pk']?.S === 'TEST#stream'),
        15_000,
      );

      // Assess
      const record = streamed.find((r) => r.dynamodb?.Keys?.['pk']?.S === 'TEST#stream');
      expect(record).toMatchObject({
        eventName: 'INSERT',
        eventSource: 'aws:dynamodb',
        awsRegion: 'us-east-1',
        eventSourceARN: expect.stringMatching(
          /^arn:aws:dynamodb:us-east-1:000000000000:table\/auditseal-ledger\/stream\//,
        ),
      });
    });
  });

  describe('the digest bucket', () => {
    it('has Object Lock with a COMPLIANCE default retention of one day', async () => {
      // Act
      const lock = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: stack.info.bucket }));

      // Assess
      expect(lock.ObjectLockConfiguration).toMatchObject({
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } },
      });
    });

    it('is versioned, blocks public access and encrypts by default', async () => {
      // Act
      const versioning = await s3.send(new GetBucketVersioningCommand({ Bucket: stack.info.bucket }));
      const publicAccess = await s3.send(new GetPublicAccessBlockCommand({ Bucket: stack.info.bucket }));
      const encryption = await s3.send(new GetBucketEncryptionCommand({ Bucket: stack.info.bucket }));

      // Assess
      expect(versioning.Status).toBe('Enabled');
      expect(publicAccess.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        IgnorePublicAcls: true,
        BlockPublicPolicy: true,
        RestrictPublicBuckets: true,
      });
      expect(
        encryption.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault
          ?.SSEAlgorithm,
      ).toBe('AES256');
    });

    it('refuses a second If-None-Match: * write of the same key with 412', async () => {
      // Prepare
      const put = (body: string) =>
        s3.send(
          new PutObjectCommand({
            Bucket: stack.info.bucket,
            Key: 'test/once.json',
            Body: body,
            IfNoneMatch: '*',
          }),
        );
      await put('first');

      // Act
      const second = await put('second').catch((error: unknown) => error);

      // Assess
      expect(second).toMatchObject({ name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
      const stored = await s3.send(
        new GetObjectCommand({ Bucket: stack.info.bucket, Key: 'test/once.json' }),
      );
      expect(await stored.Body?.transformToString()).toBe('first');
    });

    it('locks each new object version in COMPLIANCE mode for a day', async () => {
      // Prepare
      await s3.send(
        new PutObjectCommand({
          Bucket: stack.info.bucket,
          Key: 'test/locked.json',
          Body: '{}',
          IfNoneMatch: '*',
        }),
      );

      // Act
      const head = await s3.send(
        new HeadObjectCommand({ Bucket: stack.info.bucket, Key: 'test/locked.json' }),
      );

      // Assess
      expect(head.ObjectLockMode).toBe('COMPLIANCE');
      const days = (head.ObjectLockRetainUntilDate!.getTime() - Date.now()) / 86_400_000;
      expect(days).toBeGreaterThan(0.99);
      expect(days).toBeLessThanOrEqual(1.0001);
    });

    it('denies deleting a locked object version, even with governance bypass', async () => {
      // Prepare
      const { VersionId } = await s3.send(
        new PutObjectCommand({
          Bucket: stack.info.bucket,
          Key: 'test/undeletable.json',
          Body: 'x',
          IfNoneMatch: '*',
        }),
      );

      // Act
      const plain = await s3
        .send(new DeleteObjectCommand({ Bucket: stack.info.bucket, Key: 'test/undeletable.json', VersionId }))
        .catch((error: unknown) => error);
      const bypass = await s3
        .send(
          new DeleteObjectCommand({
            Bucket: stack.info.bucket,
            Key: 'test/undeletable.json',
            VersionId,
            BypassGovernanceRetention: true,
          }),
        )
        .catch((error: unknown) => error);

      // Assess
      expect(plain).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
      expect(bypass).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
      const stillThere = await s3.send(
        new GetObjectCommand({ Bucket: stack.info.bucket, Key: 'test/undeletable.json', VersionId }),
      );
      expect(await stillThere.Body?.transformToString()).toBe('x');
    });

    it('keeps the locked version when a delete without version id only adds a delete marker (as S3 does)', async () => {
      // Prepare
      const { VersionId } = await s3.send(
        new PutObjectCommand({
          Bucket: stack.info.bucket,
          Key: 'test/marked.json',
          Body: 'kept',
          IfNoneMatch: '*',
        }),
      );

      // Act
      const marker = await s3.send(
        new DeleteObjectCommand({ Bucket: stack.info.bucket, Key: 'test/marked.json' }),
      );

      // Assess
      expect(marker.DeleteMarker).toBe(true);
      const version = await s3.send(
        new GetObjectCommand({ Bucket: stack.info.bucket, Key: 'test/marked.json', VersionId }),
      );
      expect(await version.Body?.transformToString()).toBe('kept');
    });
  });

  describe('Quirks of moto 5.2.1 S3 Object Lock', () => {
    it('lets COMPLIANCE retention be shortened, which AWS refuses', async () => {
      // Prepare
      const { VersionId } = await s3.send(
        new PutObjectCommand({
          Bucket: stack.info.bucket,
          Key: 'test/quirk-1.json',
          Body: 'x',
          IfNoneMatch: '*',
        }),
      );

      // Act
      const shortened = await s3.send(
        new PutObjectRetentionCommand({
          Bucket: stack.info.bucket,
          Key: 'test/quirk-1.json',
          VersionId,
          Retention: { Mode: 'COMPLIANCE', RetainUntilDate: new Date(Date.now() + 60_000) },
        }),
      );

      // Assess
      expect(shortened.$metadata.httpStatusCode).toBe(200);
    });

    it('lets a COMPLIANCE version be switched to GOVERNANCE and deleted with bypass, which AWS refuses', async () => {
      // Prepare
      const Key = 'test/quirk-2.json';
      const { VersionId } = await s3.send(
        new PutObjectCommand({ Bucket: stack.info.bucket, Key, Body: 'x', IfNoneMatch: '*' }),
      );
      await s3.send(
        new PutObjectRetentionCommand({
          Bucket: stack.info.bucket,
          Key,
          VersionId,
          Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() + 86_400_000) },
        }),
      );

      // Act
      const deleted = await s3.send(
        new DeleteObjectCommand({
          Bucket: stack.info.bucket,
          Key,
          VersionId,
          BypassGovernanceRetention: true,
        }),
      );

      // Assess: so locally, G1 holds against plain deletes and overwrites only; on AWS it holds outright.
      expect(deleted.$metadata.httpStatusCode).toBe(204);
    });
  });

  describe('the signing key', () => {
    it('is an ECC_NIST_P256 key whose RAW signatures verify under the public key in local.json', async () => {
      // Prepare
      const statement = new TextEncoder().encode('{"kind":"test"}');

      // Act
      const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: stack.info.kmsKeyId }));
      const { Signature } = await kms.send(
        new SignCommand({
          KeyId: stack.info.kmsKeyId,
          Message: statement,
          MessageType: 'RAW',
          SigningAlgorithm: 'ECDSA_SHA_256',
        }),
      );

      // Assess
      expect(KeyMetadata?.KeyUsage).toBe('SIGN_VERIFY');
      expect(verifyStatement(loadPublicKey(stack.info.publicKeyPem).key, statement, Signature!)).toBe(true);
      expect(await readFile(join(stack.dataDir, 'keys', `${stack.info.signingKeyId}.pem`), 'utf8')).toBe(
        stack.info.publicKeyPem,
      );
    });
  });

  describe('the gateway', () => {
    it('serves a SigV4-signed request with the generated role credentials', async () => {
      // Act
      const response = await signedFetch(stack.info.endpoint, stack.info.roles.reader, { path: '/v1/ping' });
      const wrongRole = await signedFetch(stack.info.endpoint, stack.info.roles.writer, { path: '/v1/ping' });

      // Assess
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ ledger: stack.info.ledger });
      expect(wrongRole.status).toBe(403);
    });

    it('accepts the "try it" curl command exactly as printed', async () => {
      // Prepare
      const printed = stack.output.join('\n');
      const start = printed.indexOf('curl --aws-sigv4');
      const command = printed
        .slice(start, printed.indexOf('/v1/events', start) + '/v1/events'.length)
        .replace(/\\\n\s*/g, ' ');

      // Act
      const { stdout } = await promisify(execFile)('sh', [
        '-c',
        `${command.replace('curl ', "curl -sS --noproxy '*' -w ' %{http_code}' ")}`,
      ]);

      // Assess
      expect(stdout).toBe('{"receipts":[]} 201');
      const body = JSON.parse(posted.at(-1)!.body!);
      expect(body.events[0]).toMatchObject({ id: 'try-1', actor: { id: 'alice', type: 'user' } });
      expect(body.events[0].eventTime).toBe('2026-11-22T21:00:00Z');
    });
  });
});

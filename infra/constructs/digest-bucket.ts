/**
 * The WORM bucket for digests and archives (docs/FORMAT.md §4), built from the shared definition: Object
 * Lock in COMPLIANCE mode with a default retention, versioned, private, SSE-S3, TLS only. On top of that
 * the bucket policy makes every write conditional (`If-None-Match`, G1) and denies deletes to everyone, so
 * not even a delete marker can hide a digest. Server access logs go to a separate bucket.
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { digestBucketProps } from '../resources/cdk-props.ts';
import type { DigestBucketDefinition } from '../resources/definitions.ts';

/** The key prefixes the service writes (docs/FORMAT.md §4). */
export const OBJECT_PREFIXES = ['digests/', 'archives/'] as const;

/** Object actions denied to every principal. */
export const DIGEST_DENIED_ACTIONS = ['s3:DeleteObject', 's3:DeleteObjectVersion'] as const;

export interface DigestBucketProps {
  readonly definition: DigestBucketDefinition;
  /** How long server access logs are kept. */
  readonly accessLogRetention?: Duration;
}

/** The Object Lock bucket and its access-log bucket. */
export class DigestBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket;

  constructor(scope: Construct, id: string, props: DigestBucketProps) {
    super(scope, id);
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      versioned: true,
      lifecycleRules: [
        {
          expiration: props.accessLogRetention ?? Duration.days(365),
          noncurrentVersionExpiration: Duration.days(30),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the access-log bucket of the digest bucket; logging it into itself would loop.',
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...digestBucketProps(props.definition),
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'digest-bucket/',
    });
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyUnconditionalWritesG1',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects('*')],
        // Every write must carry If-None-Match: an existing key is never overwritten, not even by a new
        // version. This also refuses multipart uploads, which the service does not use.
        conditions: { Null: { 's3:if-none-match': 'true' } },
      }),
    );
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyDeletesG1',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: [...DIGEST_DENIED_ACTIONS],
        resources: [this.bucket.arnForObjects('*')],
      }),
    );
  }

  get bucketName(): string {
    return this.bucket.bucketName;
  }

  /** Lets the grantee read objects and list keys (so that a missing key is a 404, not a 403). */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    this.acknowledgePrefixWildcards(grantee);
    const objects = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:GetObject'],
      resourceArns: this.prefixArns(),
    });
    const list = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:ListBucket'],
      resourceArns: [this.bucket.bucketArn],
    });
    return objects.combine(list);
  }

  /** Lets the grantee create objects under the service's prefixes (conditional puts only); and read them. */
  grantWrite(grantee: iam.IGrantable): iam.Grant {
    const put = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:PutObject'],
      resourceArns: this.prefixArns(),
    });
    return put.combine(this.grantRead(grantee));
  }

  private prefixArns(): string[] {
    return OBJECT_PREFIXES.map((prefix) => this.bucket.arnForObjects(`${prefix}*`));
  }

  /** Object keys are made per period, so object grants name a key prefix, never one key. */
  private acknowledgePrefixWildcards(grantee: iam.IGrantable): void {
    const logicalId = Stack.of(this).resolve((this.bucket.node.defaultChild as s3.CfnBucket).logicalId);
    const target = grantee.grantPrincipal instanceof iam.Role ? grantee.grantPrincipal : grantee;
    if (!(target instanceof Construct)) return;
    for (const prefix of OBJECT_PREFIXES) {
      Validations.of(target).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/${prefix}*]`,
        reason: `Digest and archive keys are created per period (docs/FORMAT.md §4): the grant is on the ${prefix} prefix.`,
      });
    }
  }
}

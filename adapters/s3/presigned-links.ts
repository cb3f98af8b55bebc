import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ObjectLinks } from '../../shared/ports/digest-catalog.ts';

/** Presigned GET URLs on the digest bucket, signed by the function's own (read-only) role. */
export class PresignedObjectLinks implements ObjectLinks {
  constructor(private readonly options: { client: S3Client; bucket: string }) {}

  urlFor(key: string, expiresInSeconds: number): Promise<string> {
    return getSignedUrl(
      this.options.client,
      new GetObjectCommand({ Bucket: this.options.bucket, Key: key }),
      {
        expiresIn: expiresInSeconds,
      },
    );
  }
}

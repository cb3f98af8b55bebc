/**
 * ObjectStore over the Object Lock digest bucket. Every write is `PutObject` with `If-None-Match: *`
 * (G1); the bucket's default COMPLIANCE retention locks each object on arrival. A 412 means the key is
 * taken: identical bytes count as success (a re-run after a crash), different bytes are a conflict.
 */
import {
  GetObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { ObjectConflictError, type ObjectStore, type PutOutcome } from '../../shared/ports/object-store.ts';

export interface S3ObjectStoreOptions {
  readonly client: S3Client;
  readonly bucket: string;
}

function isPreconditionFailed(error: unknown): boolean {
  if (!(error instanceof S3ServiceException)) return false;
  return error.$metadata.httpStatusCode === 412 || error.name === 'PreconditionFailed';
}

function isMissing(error: unknown): boolean {
  return (
    error instanceof NoSuchKey ||
    (error instanceof S3ServiceException &&
      (error.$metadata.httpStatusCode === 404 || error.name === 'NoSuchKey'))
  );
}

export class S3ObjectStore implements ObjectStore {
  private readonly client: S3Client;
  private readonly bucket: string;

  constructor(options: S3ObjectStoreOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
  }

  async putIfAbsent(key: string, body: Uint8Array, contentType: string): Promise<PutOutcome> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          IfNoneMatch: '*',
          ChecksumAlgorithm: 'SHA256',
        }),
      );
      return 'created';
    } catch (error) {
      if (!isPreconditionFailed(error)) throw error;
    }
    const existing = await this.get(key);
    if (existing === undefined) {
      // The key was taken a moment ago and is gone now: only a retention-free bucket allows that.
      throw new ObjectConflictError(key, new Uint8Array(0));
    }
    if (Buffer.from(existing).equals(body)) return 'unchanged';
    throw new ObjectConflictError(key, existing);
  }

  /** Bytes [start, end) of an object (fewer at its end): one ranged GET. */
  async getRange(key: string, start: number, end: number): Promise<Uint8Array | undefined> {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end <= start) {
      throw new RangeError(`bad byte range [${start}, ${end})`);
    }
    try {
      const result = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=${start}-${end - 1}` }),
      );
      return result.Body ? await result.Body.transformToByteArray() : new Uint8Array(0);
    } catch (error) {
      if (isMissing(error)) return undefined;
      // A range that starts past the end of the object: nothing there.
      if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 416)
        return new Uint8Array(0);
      throw error;
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      const result = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return result.Body ? await result.Body.transformToByteArray() : new Uint8Array(0);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }
}

import type { KMSClient } from '@aws-sdk/client-kms';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { SigningError } from '../../shared/crypto/errors.ts';

/** What the new key is for; tags become KMS resource tags. */
export interface CreateSigningKeyOptions {
  readonly description: string;
  readonly tags?: Readonly<Record<string, string>>;
}

/** The created key, as KMS names it. */
export interface CreatedSigningKey {
  readonly kmsKeyId: string;
  readonly arn: string;
}

/**
 * Creates a KMS key fit for `KmsSigner`: `ECC_NIST_P256`, `SIGN_VERIFY`. Used by the local stack bootstrap;
 * on AWS the CDK signing-key construct owns the key.
 * @example const { arn } = await createSigningKey(kms, { description: 'auditseal local signing key' });
 */
export async function createSigningKey(
  client: KMSClient,
  options: CreateSigningKeyOptions,
): Promise<CreatedSigningKey> {
  const tags = Object.entries(options.tags ?? {}).map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
  let metadata: { KeyId?: string | undefined; Arn?: string | undefined } | undefined;
  try {
    const output = await client.send(
      new CreateKeyCommand({
        Description: options.description,
        KeySpec: 'ECC_NIST_P256',
        KeyUsage: 'SIGN_VERIFY',
        ...(tags.length > 0 ? { Tags: tags } : {}),
      }),
    );
    metadata = output.KeyMetadata;
  } catch (cause) {
    const name = cause instanceof Error ? cause.name : 'unknown error';
    throw new SigningError('KEY_CREATION_FAILED', `KMS CreateKey failed: ${name}`, { cause });
  }
  if (metadata?.KeyId === undefined || metadata.Arn === undefined) {
    throw new SigningError('KEY_CREATION_FAILED', 'KMS CreateKey returned no key id or ARN');
  }
  return { kmsKeyId: metadata.KeyId, arn: metadata.Arn };
}

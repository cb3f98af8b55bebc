/**
 * Rotates the signing key behind a KMS alias and records the rotation (docs/FORMAT.md §9.4):
 * creates a new key, points the alias at it, then writes the new key's record, signed by the new key,
 * naming the key it replaced and the time it took over. The old key's record is written first when it
 * has none (a ledger's first key). The alias moves before the time is taken, so every signature the old
 * key made through the alias precedes the recorded end of its window.
 */
import { DescribeKeyCommand, type KMSClient, UpdateAliasCommand } from '@aws-sdk/client-kms';
import { SigningError } from '../../shared/crypto/errors.ts';
import { keyRecordBytes, keyRecordObjectKey, signKeyRecord } from '../../shared/keys/key-record.ts';
import type { ObjectStore } from '../../shared/ports/object-store.ts';
import { createSigningKey } from './create-signing-key.ts';
import { KmsSigner } from './kms-signer.ts';

export interface RotateSigningKeyOptions {
  readonly kms: KMSClient;
  /** The bucket (or any write-once store) that holds `keys/<ledger>/…`. */
  readonly objects: ObjectStore;
  readonly ledger: string;
  /** The alias the service signs through, e.g. `alias/auditseal-<ledger>`. */
  readonly alias: string;
  readonly description: string;
  readonly clock?: () => Date;
}

/** What a rotation did. */
export interface RotatedSigningKey {
  readonly previousKeyId: string;
  readonly keyId: string;
  readonly kmsKeyId: string;
  readonly arn: string;
  readonly publicKeyPem: string;
  readonly notBefore: string;
}

/**
 * @example await rotateSigningKey({ kms, objects, ledger, alias: 'alias/auditseal-l1', description })
 */
export async function rotateSigningKey(options: RotateSigningKeyOptions): Promise<RotatedSigningKey> {
  const clock = options.clock ?? (() => new Date());
  const previousKmsKeyId = await aliasTarget(options.kms, options.alias);
  const previous = new KmsSigner({ client: options.kms, keyId: previousKmsKeyId });
  const previousPem = await previous.publicKeyPem();
  const previousKeyId = await previous.keyId();
  const previousRecordKey = keyRecordObjectKey(options.ledger, previousKeyId);
  if ((await options.objects.get(previousRecordKey)) === undefined) {
    const first = await signKeyRecord(previous, {
      ledger: options.ledger,
      notBefore: null,
      previousPublicKeyPem: null,
    });
    await options.objects.putIfAbsent(previousRecordKey, keyRecordBytes(first), 'application/json');
  }

  const created = await createSigningKey(options.kms, { description: options.description });
  const next = new KmsSigner({ client: options.kms, keyId: created.kmsKeyId });
  const [keyId, publicKeyPem] = await Promise.all([next.keyId(), next.publicKeyPem()]);
  try {
    await options.kms.send(
      new UpdateAliasCommand({ AliasName: options.alias, TargetKeyId: created.kmsKeyId }),
    );
  } catch (cause) {
    throw new SigningError('KEY_CREATION_FAILED', `KMS UpdateAlias ${options.alias} failed`, { cause });
  }
  const notBefore = clock();
  const record = await signKeyRecord(next, {
    ledger: options.ledger,
    notBefore,
    previousPublicKeyPem: previousPem,
  });
  await options.objects.putIfAbsent(
    keyRecordObjectKey(options.ledger, keyId),
    keyRecordBytes(record),
    'application/json',
  );
  return {
    previousKeyId,
    keyId,
    kmsKeyId: created.kmsKeyId,
    arn: created.arn,
    publicKeyPem,
    notBefore: notBefore.toISOString(),
  };
}

/** The key id an alias points at. */
export async function aliasTarget(kms: KMSClient, alias: string): Promise<string> {
  try {
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: alias }));
    if (KeyMetadata?.KeyId !== undefined) return KeyMetadata.KeyId;
  } catch (cause) {
    throw new SigningError('PUBLIC_KEY_UNAVAILABLE', `KMS DescribeKey ${alias} failed`, { cause });
  }
  throw new SigningError('PUBLIC_KEY_UNAVAILABLE', `KMS alias ${alias} names no key`);
}

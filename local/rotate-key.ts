/**
 * `auditseal local rotate-key`: rotates the running local stack's signing key. A new moto KMS key takes
 * over the alias the functions sign through (`alias/auditseal-<ledger>`), its signed key record is written
 * to the bucket (`keys/<ledger>/<keyId>.key.json`, docs/FORMAT.md §9.4), and local.json and
 * `keys/<keyId>.pem` name the new key, so a restart resumes with it.
 */
import { dirname, join } from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { type RotatedSigningKey, rotateSigningKey } from '../adapters/kms/rotate-signing-key.ts';
import { S3ObjectStore } from '../adapters/s3/s3-object-store.ts';
import { resourceDefinitions } from '../infra/resources/definitions.ts';
import { localKeyAlias } from './bootstrap.ts';
import { readLocalStackFile, writeLocalStackFile, writePrivateFile } from './local-stack-file.ts';

/** Rotates the key of the stack described by `localFile`; throws when there is no readable stack file. */
export async function rotateLocalSigningKey(
  localFile: string,
  clock: () => Date = () => new Date(),
): Promise<RotatedSigningKey> {
  const info = await readLocalStackFile(localFile);
  if (info === undefined)
    throw new Error(`${localFile} is missing or unreadable: is the local stack running?`);
  const config = { region: info.region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  const kms = new KMSClient({ ...config, endpoint: info.kmsEndpoint });
  const s3 = new S3Client({ ...config, endpoint: info.s3Endpoint, forcePathStyle: true });
  try {
    const rotated = await rotateSigningKey({
      kms,
      objects: new S3ObjectStore({ client: s3, bucket: info.bucket }),
      ledger: info.ledger,
      alias: localKeyAlias(info.ledger),
      description: resourceDefinitions('local').signingKey.description,
      clock,
    });
    await writePrivateFile(join(dirname(localFile), 'keys', `${rotated.keyId}.pem`), rotated.publicKeyPem);
    await writeLocalStackFile(localFile, {
      ...info,
      kmsKeyId: rotated.kmsKeyId,
      kmsKeyArn: rotated.arn,
      signingKeyId: rotated.keyId,
      publicKeyPem: rotated.publicKeyPem,
    });
    return rotated;
  } finally {
    kms.destroy();
    s3.destroy();
  }
}

/** Cold-start wiring of the auditor's read functions (digests, head, keys, alarms). */

import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDbAlarmStore } from '../adapters/dynamodb/alarm-store.ts';
import { DynamoDbSealRegistry } from '../adapters/dynamodb/seal-registry.ts';
import { KmsSigner } from '../adapters/kms/kms-signer.ts';
import { PresignedObjectLinks } from '../adapters/s3/presigned-links.ts';
import { S3ObjectStore } from '../adapters/s3/s3-object-store.ts';
import type { AuditorDeps } from './auditor-handlers.ts';
import { awsClientsFromConfig, sealingConfigFromEnv } from './sealing-runtime.ts';

/** Builds the auditor handlers' dependencies from the environment. */
export function auditorDepsFromEnv(env: NodeJS.ProcessEnv = process.env): AuditorDeps {
  const c = sealingConfigFromEnv(env);
  const { dynamodb, kms, s3 } = awsClientsFromConfig(c);
  return {
    ledger: c.AUDITSEAL_LEDGER,
    schedule: { periodSeconds: c.AUDITSEAL_PERIOD_SECONDS, graceSeconds: c.AUDITSEAL_GRACE_SECONDS },
    catalog: new DynamoDbSealRegistry({ client: dynamodb, tableName: c.AUDITSEAL_TABLE }),
    objects: new S3ObjectStore({ client: s3, bucket: c.AUDITSEAL_BUCKET }),
    links: new PresignedObjectLinks({ client: s3, bucket: c.AUDITSEAL_BUCKET }),
    signer: new KmsSigner({ client: kms, keyId: c.AUDITSEAL_KMS_KEY_ID }),
    alarms: new DynamoDbAlarmStore({
      client: dynamodb,
      tableName: c.AUDITSEAL_TABLE,
      ledger: c.AUDITSEAL_LEDGER,
    }),
    logger: new Logger({ serviceName: 'auditseal-auditor' }),
    now: () => new Date(),
  };
}

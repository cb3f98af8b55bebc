/**
 * Cold-start wiring shared by the sealing functions (stream trigger and heartbeat): configuration parsed
 * once with a strict schema, SDK clients created once, adapters built around them.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { z } from 'zod';
import { DynamoDbAlarmStore } from '../adapters/dynamodb/alarm-store.ts';
import { DynamoDbLedgerStore } from '../adapters/dynamodb/ledger-store.ts';
import { createRowRecognizer, type RowRecognizer } from '../adapters/dynamodb/row-recognizer.ts';
import { DynamoDbSealRegistry } from '../adapters/dynamodb/seal-registry.ts';
import { KmsSigner } from '../adapters/kms/kms-signer.ts';
import { S3ObjectStore } from '../adapters/s3/s3-object-store.ts';
import { snsAlarmPublisher } from '../adapters/sns/alarm-publisher.ts';
import { loadPublicKey, loadPublicKeys, type TrustedKey, TrustedKeySet } from '../shared/crypto/keys.ts';
import { readKeyHistory } from '../shared/keys/key-history.ts';
import type { ObjectStore } from '../shared/ports/object-store.ts';
import type { AlarmSink } from '../shared/ports/sealing.ts';
import type { TamperAlarm } from '../shared/sealing/tamper-alarms.ts';

/**
 * The log line of an alarm: `AUDITSEAL ALARM <KIND>: <detail>`. CloudWatch metric filters in `infra/`
 * (TAMPER_ALARM_LOG_PHRASE, SEALING_LAG_LOG_PHRASE) turn these lines into alarms on the SNS topic.
 */
export function alarmLogLine(alarm: TamperAlarm): string {
  return `AUDITSEAL ALARM ${alarm.kind}: ${alarm.detail ?? `${alarm.eventName} of a ledger item`}`;
}

const alarmLogger = new Logger({ serviceName: 'auditseal-alarms' });

import type { Signer } from '../shared/ports/signer.ts';
import { type SealingConfig, type SealingDeps, sealDuePeriods } from '../shared/sealing/seal-due-periods.ts';
import { DEFAULT_SHARDS } from './config.ts';

const envSchema = z.object({
  AUDITSEAL_TABLE: z.string().min(1),
  AUDITSEAL_BUCKET: z.string().min(1),
  AUDITSEAL_LEDGER: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
  AUDITSEAL_KMS_KEY_ID: z.string().min(1),
  AUDITSEAL_PERIOD_SECONDS: z.coerce.number().int().min(60).max(86_400).default(3600),
  AUDITSEAL_GRACE_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  AUDITSEAL_SHARDS: z.coerce.number().int().min(1).max(100).default(DEFAULT_SHARDS),
  AUDITSEAL_ALARM_TOPIC: z.string().min(1).optional(),
  /** PEM public keys of earlier (rotated) signing keys whose batch signatures are still trusted. */
  AUDITSEAL_TRUSTED_KEYS_PEM: z.string().min(1).max(65_536).optional(),
  AUDITSEAL_LAG_MARGIN_SECONDS: z.coerce.number().int().min(0).max(86_400).optional(),
  AUDITSEAL_CHUNK_LEAVES: z.coerce
    .number()
    .int()
    .min(1)
    .max(1 << 20)
    .optional(),
  AWS_REGION: z.string().min(1).default('us-east-1'),
  AUDITSEAL_DYNAMODB_ENDPOINT: z.url().optional(),
  AUDITSEAL_KMS_ENDPOINT: z.url().optional(),
  AUDITSEAL_S3_ENDPOINT: z.url().optional(),
});

/** Everything a sealing invocation needs, built once per container. */
export interface SealingRuntime {
  readonly config: SealingConfig;
  readonly deps: SealingDeps;
  readonly alarms: AlarmSink;
  readonly sealDue: () => ReturnType<typeof sealDuePeriods>;
  /** Recognizes inserted rows the service wrote (anything else raises FOREIGN_ROW). */
  readonly recognizeInsert: RowRecognizer;
}

/** Parses the environment (throws with the offending variable names, never their values). */
export function sealingConfigFromEnv(env: NodeJS.ProcessEnv): z.infer<typeof envSchema> {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const names = parsed.error.issues.map((i) => i.path.join('.')).join(', ');
    throw new Error(`invalid sealing configuration: ${names}`);
  }
  return parsed.data;
}

/** The SDK clients of the sealing and auditor functions, with the local stack's endpoint overrides. */
export function awsClientsFromConfig(c: z.infer<typeof envSchema>): {
  dynamodb: DynamoDBClient;
  kms: KMSClient;
  s3: S3Client;
} {
  const region = c.AWS_REGION;
  const dynamodb = new DynamoDBClient({
    region,
    ...(c.AUDITSEAL_DYNAMODB_ENDPOINT ? { endpoint: c.AUDITSEAL_DYNAMODB_ENDPOINT } : {}),
  });
  const kms = new KMSClient({
    region,
    ...(c.AUDITSEAL_KMS_ENDPOINT ? { endpoint: c.AUDITSEAL_KMS_ENDPOINT } : {}),
  });
  const s3 = new S3Client({
    region,
    ...(c.AUDITSEAL_S3_ENDPOINT ? { endpoint: c.AUDITSEAL_S3_ENDPOINT, forcePathStyle: true } : {}),
  });
  return { dynamodb, kms, s3 };
}

/** Builds the runtime from the environment. Called once at cold start. */
export function sealingRuntimeFromEnv(env: NodeJS.ProcessEnv = process.env): SealingRuntime {
  const c = sealingConfigFromEnv(env);
  const region = c.AWS_REGION;
  const { dynamodb, kms, s3 } = awsClientsFromConfig(c);
  const config: SealingConfig = {
    ledger: c.AUDITSEAL_LEDGER,
    periodSeconds: c.AUDITSEAL_PERIOD_SECONDS,
    graceSeconds: c.AUDITSEAL_GRACE_SECONDS,
    ...(c.AUDITSEAL_CHUNK_LEAVES ? { chunkLeaves: c.AUDITSEAL_CHUNK_LEAVES } : {}),
    ...(c.AUDITSEAL_LAG_MARGIN_SECONDS !== undefined
      ? { lagMarginSeconds: c.AUDITSEAL_LAG_MARGIN_SECONDS }
      : {}),
  };
  const signer = new KmsSigner({ client: kms, keyId: c.AUDITSEAL_KMS_KEY_ID });
  const alarms = new DynamoDbAlarmStore({
    client: dynamodb,
    tableName: c.AUDITSEAL_TABLE,
    ledger: c.AUDITSEAL_LEDGER,
    publish: logThen(
      c.AUDITSEAL_ALARM_TOPIC
        ? snsAlarmPublisher({
            client: new SNSClient({ region }),
            topicArn: c.AUDITSEAL_ALARM_TOPIC,
            ledger: c.AUDITSEAL_LEDGER,
          })
        : undefined,
    ),
  });
  const store = new DynamoDbLedgerStore({
    client: dynamodb,
    tableName: c.AUDITSEAL_TABLE,
    shardCount: c.AUDITSEAL_SHARDS,
  });
  const objects = new S3ObjectStore({ client: s3, bucket: c.AUDITSEAL_BUCKET });
  const trustedKeys = serviceKeys(signer, c.AUDITSEAL_TRUSTED_KEYS_PEM, {
    objects,
    ledger: c.AUDITSEAL_LEDGER,
  });
  const clock = () => new Date();
  const deps: SealingDeps = {
    objects,
    signer,
    events: store,
    registry: new DynamoDbSealRegistry({ client: dynamodb, tableName: c.AUDITSEAL_TABLE }),
    clock,
    trustedKeys,
    alarms,
  };
  const recognizeInsert = createRowRecognizer({
    ledger: c.AUDITSEAL_LEDGER,
    periodSeconds: c.AUDITSEAL_PERIOD_SECONDS,
    graceSeconds: c.AUDITSEAL_GRACE_SECONDS,
    keys: trustedKeys,
    getBatch: (period, receivedAt, batchId) =>
      store.getBatchItem(c.AUDITSEAL_LEDGER, period, receivedAt, batchId),
    getEvent: (id) => store.getEvent(c.AUDITSEAL_LEDGER, id),
    objects,
    clock,
  });
  const sealDue = () => {
    // One GetPublicKey per run: a rotation (re-pointed alias) is seen before the run decides which
    // batches it trusts, not after it has written objects under the old key's trust (FORMAT.md §9.4).
    signer.refresh();
    return sealDuePeriods(config, deps);
  };
  return { config, deps, alarms, sealDue, recognizeInsert };
}

/** Logs each newly stored alarm (never the payload), then hands it on. */
function logThen(next?: (alarm: TamperAlarm) => Promise<void>): (alarm: TamperAlarm) => Promise<void> {
  return async (alarm) => {
    alarmLogger.error(alarmLogLine(alarm), {
      alarmId: alarm.alarmId,
      kind: alarm.kind,
      pk: alarm.pk,
      sk: alarm.sk,
      ...(alarm.period ? { period: alarm.period } : {}),
      ...(alarm.eventId ? { eventId: alarm.eventId } : {}),
    });
    await next?.(alarm);
  };
}

/**
 * The keys whose ingest and digest signatures the sealer trusts: the signer's own public key, every key
 * the ledger's key history (keys/<ledger>/, docs/FORMAT.md §9.4) names behind it, every key this container
 * has signed with before (so a rotation does not orphan the batches and the chain head of the old key),
 * and the configured earlier keys. Anything else (a batch row signed by another key) is excluded.
 */
export function serviceKeys(
  signer: Signer,
  extraPem?: string,
  history?: { readonly objects: Pick<ObjectStore, 'get'>; readonly ledger: string },
): () => Promise<TrustedKeySet> {
  const seen = new Map<string, TrustedKey>();
  const extra = extraPem ? loadPublicKeys(extraPem) : [];
  return async () => {
    const pem = await signer.publicKeyPem();
    const own = loadPublicKey(pem);
    if (!seen.has(own.keyId)) {
      const earlier = history ? (await readKeyHistory(history.objects, history.ledger, pem)).entries : [];
      seen.set(own.keyId, own);
      for (const entry of earlier) {
        if (!seen.has(entry.keyId)) seen.set(entry.keyId, loadPublicKey(entry.publicKeyPem));
      }
    }
    return new TrustedKeySet([...seen.values(), ...extra]);
  };
}

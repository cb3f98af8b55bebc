/**
 * Cold-start wiring of the read functions (the event read routes, the auditor's routes and the read
 * recorder's producer side): configuration parsed once with a strict schema, SDK clients created once.
 *
 * | variable | meaning |
 * | --- | --- |
 * | `AUDITSEAL_READ_QUEUE_URL` | the read journal (SQS): every successful read is recorded through it |
 * | `AUDITSEAL_CURSOR_KEY` | search cursor HMAC key, base64, ≥ 32 bytes (the local stack keeps one in its data folder) |
 * | `AUDITSEAL_CURSOR_MAC_KEY_ID` | or: a KMS HMAC key; the cursor key is derived from it once per container |
 * | `AUDITSEAL_SQS_ENDPOINT` | endpoint override (local stack) |
 *
 * plus the ledger settings and endpoints of functions/sealing-runtime.ts.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { DynamoDbEventIndex } from '../adapters/dynamodb/event-index.ts';
import { DynamoDbLedgerStore } from '../adapters/dynamodb/ledger-store.ts';
import { DynamoDbProfileStore } from '../adapters/dynamodb/profile-store.ts';
import { DynamoDbSealRegistry } from '../adapters/dynamodb/seal-registry.ts';
import { S3ObjectStore } from '../adapters/s3/s3-object-store.ts';
import { SqsReadJournal } from '../adapters/sqs/sqs-read-journal.ts';
import { CursorCodec, MIN_CURSOR_KEY_BYTES } from '../shared/query/cursor.ts';
import { DEFAULT_SHARDS } from './config.ts';
import type { ReadDeps } from './read-handlers.ts';

const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema.optional());

const envSchema = z.object({
  AUDITSEAL_TABLE: z.string().min(1),
  /** Absent for the search function, which reads no object. */
  AUDITSEAL_BUCKET: optional(z.string().min(1)),
  AUDITSEAL_LEDGER: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
  AUDITSEAL_PERIOD_SECONDS: z.coerce.number().int().min(60).max(86_400).default(3600),
  AUDITSEAL_GRACE_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  AUDITSEAL_SHARDS: z.coerce.number().int().min(1).max(100).default(DEFAULT_SHARDS),
  AUDITSEAL_READ_QUEUE_URL: z.url(),
  AUDITSEAL_CURSOR_KEY: optional(
    z
      .string()
      .regex(/^[A-Za-z0-9+/_-]+={0,2}$/)
      .refine((v) => Buffer.from(v, 'base64').length >= MIN_CURSOR_KEY_BYTES, 'needs at least 32 bytes'),
  ),
  AUDITSEAL_CURSOR_MAC_KEY_ID: optional(z.string().min(1).max(2048)),
  AWS_REGION: z.string().min(1).default('us-east-1'),
  AUDITSEAL_DYNAMODB_ENDPOINT: optional(z.url()),
  AUDITSEAL_KMS_ENDPOINT: optional(z.url()),
  AUDITSEAL_S3_ENDPOINT: optional(z.url()),
  AUDITSEAL_SQS_ENDPOINT: optional(z.url()),
});

export type ReadConfig = z.infer<typeof envSchema>;

/** Parses the environment; the error names the offending variables, never their values. */
export function readConfigFromEnv(env: NodeJS.ProcessEnv): ReadConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(
      `invalid read configuration: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`,
    );
  }
  return parsed.data;
}

/** The message a KMS HMAC key signs to give the cursor key: the same in every container. */
export const CURSOR_KEY_MESSAGE = 'auditseal.cursor-key.v1';

/** The cursor key: the configured one, or the one derived from the KMS HMAC key (one call per container). */
export async function cursorKey(c: ReadConfig, kms: Pick<KMSClient, 'send'>): Promise<Uint8Array> {
  if (c.AUDITSEAL_CURSOR_KEY !== undefined) return Buffer.from(c.AUDITSEAL_CURSOR_KEY, 'base64');
  if (c.AUDITSEAL_CURSOR_MAC_KEY_ID === undefined) {
    throw new Error(
      'invalid read configuration: AUDITSEAL_CURSOR_KEY or AUDITSEAL_CURSOR_MAC_KEY_ID is needed',
    );
  }
  const output = await kms.send(
    new GenerateMacCommand({
      KeyId: c.AUDITSEAL_CURSOR_MAC_KEY_ID,
      MacAlgorithm: 'HMAC_SHA_256',
      Message: Buffer.from(CURSOR_KEY_MESSAGE, 'utf8'),
    }),
  );
  if (output.Mac === undefined || output.Mac.length < MIN_CURSOR_KEY_BYTES) {
    throw new Error('KMS returned no usable MAC for the cursor key');
  }
  return output.Mac;
}

/** The clients of a read function. */
export function readClients(c: ReadConfig) {
  const region = c.AWS_REGION;
  return {
    dynamodb: new DynamoDBClient({
      region,
      ...(c.AUDITSEAL_DYNAMODB_ENDPOINT ? { endpoint: c.AUDITSEAL_DYNAMODB_ENDPOINT } : {}),
    }),
    kms: new KMSClient({
      region,
      ...(c.AUDITSEAL_KMS_ENDPOINT ? { endpoint: c.AUDITSEAL_KMS_ENDPOINT } : {}),
    }),
    s3: new S3Client({
      region,
      ...(c.AUDITSEAL_S3_ENDPOINT ? { endpoint: c.AUDITSEAL_S3_ENDPOINT, forcePathStyle: true } : {}),
    }),
    sqs: new SQSClient({
      region,
      ...(c.AUDITSEAL_SQS_ENDPOINT ? { endpoint: c.AUDITSEAL_SQS_ENDPOINT } : {}),
    }),
  };
}

/** The read journal of a read function. */
export function readJournal(c: ReadConfig, sqs: SQSClient): SqsReadJournal {
  return new SqsReadJournal({ client: sqs, queueUrl: c.AUDITSEAL_READ_QUEUE_URL });
}

/** The read journal, with its own SQS client, for functions that build their other clients themselves. */
export function readJournalFromEnv(env: NodeJS.ProcessEnv): SqsReadJournal {
  const c = readConfigFromEnv(env);
  const sqs = new SQSClient({
    region: c.AWS_REGION,
    ...(c.AUDITSEAL_SQS_ENDPOINT ? { endpoint: c.AUDITSEAL_SQS_ENDPOINT } : {}),
  });
  return readJournal(c, sqs);
}

/**
 * Builds the event read routes' dependencies. `cursors` is only needed (and its key only derived) by the
 * search function.
 */
export async function readDepsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  options: { cursors: boolean } = { cursors: false },
): Promise<ReadDeps> {
  const c = readConfigFromEnv(env);
  const { dynamodb, kms, s3, sqs } = readClients(c);
  const store = new DynamoDbLedgerStore({
    client: dynamodb,
    tableName: c.AUDITSEAL_TABLE,
    shardCount: c.AUDITSEAL_SHARDS,
  });
  // A function that serves no search never pages: it gets a throwaway key, not the service's.
  const key = options.cursors ? await cursorKey(c, kms) : randomFiller();
  return {
    ledger: c.AUDITSEAL_LEDGER,
    periodSeconds: c.AUDITSEAL_PERIOD_SECONDS,
    graceSeconds: c.AUDITSEAL_GRACE_SECONDS,
    search: {
      index: new DynamoDbEventIndex({ client: dynamodb, tableName: c.AUDITSEAL_TABLE }),
      cursors: new CursorCodec(key),
      receipts: store,
    },
    events: store,
    catalog: new DynamoDbSealRegistry({ client: dynamodb, tableName: c.AUDITSEAL_TABLE }),
    objects:
      c.AUDITSEAL_BUCKET === undefined
        ? noObjects
        : new S3ObjectStore({ client: s3, bucket: c.AUDITSEAL_BUCKET }),
    journal: readJournal(c, sqs),
    logger: new Logger({ serviceName: 'auditseal-read' }),
    now: () => new Date(),
    profiles: new DynamoDbProfileStore({
      client: dynamodb,
      tableName: c.AUDITSEAL_TABLE,
      ledger: c.AUDITSEAL_LEDGER,
    }),
  };
}

/** The object reader of a function that has no bucket: any use is a wiring bug. */
const noObjects = {
  get: () => Promise.reject(new Error('this function has no digest bucket (AUDITSEAL_BUCKET)')),
  getRange: () => Promise.reject(new Error('this function has no digest bucket (AUDITSEAL_BUCKET)')),
};

function randomFiller(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(MIN_CURSOR_KEY_BYTES));
}

/**
 * Cold-start wiring shared by the ingest functions: one DynamoDB client, one KMS client, the ledger
 * store, the signer and the logger, built once from the parsed configuration.
 */
import { randomFillSync } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { DynamoDbLedgerStore } from '../adapters/dynamodb/ledger-store.ts';
import { DynamoDbProfileStore } from '../adapters/dynamodb/profile-store.ts';
import { DynamoDbSealRegistry } from '../adapters/dynamodb/seal-registry.ts';
import { KmsSigner } from '../adapters/kms/kms-signer.ts';
import { GenesisGuard } from '../shared/ingest/genesis-guard.ts';
import type { IngestDeps } from '../shared/ingest/ingest-batch.ts';
import type { IngestConfig } from './config.ts';

/** SDK attempts per call (the first try plus retries with the SDK's backoff) for throttling and 5xx. */
const SDK_MAX_ATTEMPTS = 4;

const BATCH_ID_BYTES = 16;
/** Batch ids drawn per call to the CSPRNG. */
const BATCH_IDS_PER_DRAW = 256;
const batchIdPool = Buffer.alloc(BATCH_ID_BYTES * BATCH_IDS_PER_DRAW);
let nextBatchId = BATCH_IDS_PER_DRAW;

/**
 * A batch id: 128 random bits, base64url (22 characters of `A-Z a-z 0-9 _ -`). The bits come from the
 * CSPRNG 4 KiB at a time, each byte used once, as `crypto.randomUUID` draws its own: one `randomBytes(16)`
 * call cost about 14 µs of CPU on the benchmark machine, 7 % of a single-event request
 * (docs/BENCHMARKS.md, ingest).
 */
export function randomBatchId(): string {
  if (nextBatchId === BATCH_IDS_PER_DRAW) {
    randomFillSync(batchIdPool);
    nextBatchId = 0;
  }
  const at = BATCH_ID_BYTES * nextBatchId++;
  return batchIdPool.toString('base64url', at, at + BATCH_ID_BYTES);
}

/** Everything an ingest function needs, built from configuration. */
export function createIngestRuntime(
  config: IngestConfig,
  serviceName: string,
): {
  ingest: IngestDeps;
  /** The profile chains on the same table (the ledger store writes each version with its event). */
  profiles: DynamoDbProfileStore;
  logger: Logger;
} {
  const dynamodb = new DynamoDBClient({
    maxAttempts: SDK_MAX_ATTEMPTS,
    ...(config.dynamoDbEndpoint ? { endpoint: config.dynamoDbEndpoint } : {}),
  });
  const kms = new KMSClient({
    maxAttempts: SDK_MAX_ATTEMPTS,
    ...(config.kmsEndpoint ? { endpoint: config.kmsEndpoint } : {}),
  });
  return {
    ingest: {
      store: new DynamoDbLedgerStore({
        client: dynamodb,
        tableName: config.tableName,
        shardCount: config.shardCount,
      }),
      signer: new KmsSigner({ client: kms, keyId: config.kmsKeyId }),
      clock: () => new Date(),
      periodSeconds: config.periodSeconds,
      graceSeconds: config.graceSeconds,
      batchIdFactory: randomBatchId,
      genesis: new GenesisGuard(new DynamoDbSealRegistry({ client: dynamodb, tableName: config.tableName })),
    },
    profiles: new DynamoDbProfileStore({
      client: dynamodb,
      tableName: config.tableName,
      ledger: config.ledger,
    }),
    logger: new Logger({ serviceName }),
  };
}

/**
 * Cold-start wiring of the resource profile routes: the write route is an ingest function (the ingest
 * configuration of functions/config.ts), the read routes are read functions (functions/read-runtime.ts);
 * both read the chain with the DynamoDB `ProfileStore` on the ledger table.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDbProfileStore } from '../adapters/dynamodb/profile-store.ts';
import { DynamoDbResourceEvents } from '../adapters/dynamodb/resource-events.ts';
import { CursorCodec } from '../shared/query/cursor.ts';
import { parseIngestConfig } from './config.ts';
import { createIngestRuntime } from './ingest-runtime.ts';
import type { ProfileReadDeps, ProfileWriteDeps } from './profile-handlers.ts';
import { cursorKey, readClients, readConfigFromEnv, readJournal } from './read-runtime.ts';

export function profileWriteDepsFromEnv(env: NodeJS.ProcessEnv = process.env): ProfileWriteDeps {
  const config = parseIngestConfig(env);
  const runtime = createIngestRuntime(config, 'auditseal-put-profile');
  return {
    ledger: config.ledger,
    profiles: runtime.profiles,
    ingest: runtime.ingest,
    logger: runtime.logger,
  };
}

export async function profileReadDepsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  options: { cursors: boolean },
): Promise<ProfileReadDeps> {
  const c = readConfigFromEnv(env);
  const { dynamodb, kms, sqs } = readClients(c);
  const key = options.cursors ? await cursorKey(c, kms) : crypto.getRandomValues(new Uint8Array(32));
  const events = new DynamoDbResourceEvents({
    client: dynamodb,
    tableName: c.AUDITSEAL_TABLE,
    ledger: c.AUDITSEAL_LEDGER,
  });
  return {
    ledger: c.AUDITSEAL_LEDGER,
    profiles: new DynamoDbProfileStore({
      client: dynamodb,
      tableName: c.AUDITSEAL_TABLE,
      ledger: c.AUDITSEAL_LEDGER,
    }),
    resourceEvents: (resourceId, fromKey) => events.after(resourceId, fromKey),
    cursors: new CursorCodec(key),
    journal: readJournal(c, sqs),
    logger: new Logger({ serviceName: 'auditseal-profiles' }),
    now: () => new Date(),
  };
}

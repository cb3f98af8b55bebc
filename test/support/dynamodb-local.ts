/**
 * DynamoDB Local for integration tests: in memory, on a free port. The jar comes from the shared cache
 * (`$AUDITSEAL_CACHE_DIR` or `<repo>/.auditseal/cache`), fetched once with `npm pack`.
 *
 * @example
 * let ddb: DynamoDbLocal;
 * beforeAll(async () => { ddb = await startTestDynamoDb(); });
 * afterAll(async () => { await ddb?.stop(); });
 * const client = new DynamoDBClient(ddb.clientConfig);
 */

import { fileURLToPath } from 'node:url';
import type { DynamoDbLocal } from '../../local/dynamodb-local.ts';
import { startDynamoDbLocal } from '../../local/dynamodb-local.ts';
import { ensureDynamoDbLocalJar } from '../../local/dynamodb-local-jar.ts';

export type { DynamoDbLocal } from '../../local/dynamodb-local.ts';

/** The repository root, where `.auditseal/cache` lives by default. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Starts an in-memory DynamoDB Local; stop it in `afterAll`. */
export async function startTestDynamoDb(): Promise<DynamoDbLocal> {
  const jar = await ensureDynamoDbLocalJar({ projectDir: REPO_ROOT });
  return startDynamoDbLocal({ jar, storage: { inMemory: true } });
}

/** Polls `condition` every 50 ms until it holds or `timeoutMs` passes; resolves with its last value. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}

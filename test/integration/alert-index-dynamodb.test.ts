/**
 * The alert index on DynamoDB Local: the `AlertIndex` contract shared with the in-memory fake, then the
 * row recognizer on real index rows written by a detection run (a forged or altered row is foreign).
 */

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertIndexItem, DynamoDbAlertIndex } from '../../adapters/dynamodb/alert-index.ts';
import { createRowRecognizer } from '../../adapters/dynamodb/row-recognizer.ts';
import { ledgerTable } from '../../infra/resources/definitions.ts';
import { createTableInput } from '../../infra/resources/sdk-commands.ts';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../local/dynamodb-local.ts';
import { ensureDynamoDbLocalJar } from '../../local/dynamodb-local-jar.ts';
import { AlertPlanner } from '../../shared/detect/alerts.ts';
import { detectLandedEvents } from '../../shared/detect/detect-landed-events.ts';
import { Detector } from '../../shared/detect/detector.ts';
import { loadDefaultRules } from '../../shared/detect/load-rules.ts';
import { fromCloudTrailRecord } from '../../shared/events/cloudtrail.ts';
import { ingestBatch } from '../../shared/ingest/ingest-batch.ts';
import type { IndexedAlert } from '../../shared/ports/alerts.ts';
import { InMemoryAlertIndex, RecordingAlertPublisher } from '../../shared/storage/in-memory-alert-index.ts';
import { InMemoryObjectStore } from '../../shared/storage/in-memory-object-store.ts';
import { sharedDataPath } from '../support/shared-data.ts';
import { alertIndexContract } from '../unit/detect/alert-index-contract.ts';
import { harness, LEDGER, T0 } from '../unit/ingest/ingest-fixtures.ts';

const PROJECT_DIR = fileURLToPath(new URL('../../', import.meta.url));
const TABLE = 'auditseal-alerts-it';

let ddb: DynamoDbLocal | undefined;
let client: DynamoDBClient;
let ledgers = 0;

beforeAll(async () => {
  const jar = await ensureDynamoDbLocalJar({ projectDir: PROJECT_DIR });
  ddb = await startDynamoDbLocal({ jar, storage: { inMemory: true } });
  client = new DynamoDBClient({ ...ddb.clientConfig, maxAttempts: 3 });
  await client.send(new CreateTableCommand(createTableInput(ledgerTable('local', { tableName: TABLE }))));
});

afterAll(async () => {
  client?.destroy();
  await ddb?.stop();
});

alertIndexContract(
  'DynamoDB Local',
  async () => new DynamoDbAlertIndex({ client, tableName: TABLE, ledger: `alerts-${++ledgers}` }),
);

describe('Function: createRowRecognizer, alert index rows', () => {
  /** A real alert of a StopLogging detonation, as the detection function indexes it. */
  async function realAlert(): Promise<{
    alert: IndexedAlert;
    recognize: ReturnType<typeof createRowRecognizer>;
  }> {
    const h = await harness();
    const record = readFileSync(sharedDataPath('cloudtrail', 'records', 'stratus-red-team.jsonl'), 'utf8')
      .split('\n')
      .find((line) => line.includes('"eventName":"StopLogging"'))!;
    const result = await ingestBatch(
      {
        ledger: LEDGER,
        items: [fromCloudTrailRecord(record)],
        channel: 'cloudtrail',
        principal: 'p',
        requestId: 'r',
      },
      h.deps,
    );
    const stored = (await h.store.getEvent(LEDGER, result.stored[0]!))!;
    const index = new InMemoryAlertIndex();
    await detectLandedEvents(
      [{ id: stored.id, receivedAt: stored.receivedAt, bytes: stored.bytes }],
      {
        ledger: LEDGER,
        detector: new Detector(loadDefaultRules().rules),
        planner: new AlertPlanner(),
        ingest: h.deps,
        index,
        publisher: new RecordingAlertPublisher(),
      },
      'r',
    );
    const recognize = createRowRecognizer({
      ledger: LEDGER,
      periodSeconds: 3600,
      graceSeconds: 60,
      keys: async () => h.keys,
      getBatch: async () => undefined,
      objects: new InMemoryObjectStore(),
      clock: () => new Date(T0),
    });
    return { alert: index.all()[0]!, recognize };
  }

  it('recognizes the row the detection function writes', async () => {
    // Prepare
    const { alert, recognize } = await realAlert();

    // Act and Assess
    expect(await recognize(alertIndexItem(LEDGER, alert))).toBeUndefined();
  });

  describe('when a row is forged or altered', () => {
    it.each<[string, (a: IndexedAlert) => IndexedAlert]>([
      ['a changed level', (a) => ({ ...a, level: 'low' })],
      ['another rule id', (a) => ({ ...a, ruleId: 'other-rule' })],
      [
        'an altered body',
        (a) => ({ ...a, bytes: Buffer.from(Buffer.from(a.bytes).toString().replace('medium', 'low')) }),
      ],
      ['a receipt of another alert', (a) => ({ ...a, alertId: 'det:other:0123' })],
      ['a forged signature', (a) => ({ ...a, receipt: { ...a.receipt, signature: 'AAAA' } })],
    ])('calls %s foreign', async (_, change) => {
      // Prepare
      const { alert, recognize } = await realAlert();

      // Act
      const problem = await recognize(alertIndexItem(LEDGER, change(alert)));

      // Assess
      expect(problem).toEqual(expect.any(String));
    });
  });
});

/**
 * `GET /v1/alerts` (reader and auditor): detection alerts, newest first, with filters and cursors.
 * Middy wiring around one call to `listAlerts`; the parameters and answers are in docs/API.md. Like every
 * read route, a successful answer is recorded in the ledger first (G7, functions/http/recorded-read.ts).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { z } from 'zod';
import { DynamoDbAlertIndex } from '../adapters/dynamodb/alert-index.ts';
import { AlertQueryError, alertQuerySchema, listAlerts } from '../shared/detect/alert-query.ts';
import { LEDGER_ID_PATTERN } from '../shared/ledger/object-keys.ts';
import type { AlertIndex } from '../shared/ports/alerts.ts';
import type { ReadJournal } from '../shared/query/read-record.ts';
import { type HandlerLogger, lazyErrorResponse } from './http/error-response.ts';
import { HttpError } from './http/errors.ts';
import { jsonResponse } from './http/json-response.ts';
import { parseQuery } from './http/query.ts';
import { recordedRead } from './http/recorded-read.ts';
import { readJournalFromEnv } from './read-runtime.ts';

export interface ListAlertsDeps {
  readonly index: AlertIndex;
  readonly logger: HandlerLogger;
  /** Where every successful read is recorded (G7). */
  readonly journal: ReadJournal;
  readonly now: () => Date;
}

/** Builds the handler around its dependencies (tests pass in-memory ones). */
export function createListAlertsHandler(deps: () => ListAlertsDeps) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(lazyErrorResponse(() => deps().logger))
    .handler(async (event, context: Context) => {
      const parameters = parseQuery(event, alertQuerySchema);
      const d = deps();
      try {
        return await recordedRead(
          { route: 'GET /v1/alerts', action: 'auditseal:ListAlerts' },
          event,
          context,
          d,
          async () => {
            const page = await listAlerts(parameters, d.index);
            return { response: jsonResponse(200, page), resultCount: page.alerts.length };
          },
        );
      } catch (error) {
        if (error instanceof AlertQueryError) {
          throw new HttpError(
            400,
            'INVALID_QUERY',
            `invalid query parameter ${error.parameter}: ${error.message}`,
          );
        }
        throw error;
      }
    });
}

const envSchema = z.object({
  AUDITSEAL_TABLE: z.string().regex(/^[A-Za-z0-9_.-]{3,255}$/),
  AUDITSEAL_LEDGER: z.string().regex(LEDGER_ID_PATTERN),
  AUDITSEAL_DYNAMODB_ENDPOINT: z.url().optional(),
  AWS_REGION: z.string().min(1).default('us-east-1'),
});

/** The dependencies from the environment; throws naming the variables, never their values. */
export function listAlertsDepsFromEnv(env: NodeJS.ProcessEnv = process.env): ListAlertsDeps {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid configuration: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
  }
  const c = parsed.data;
  const client = new DynamoDBClient({
    region: c.AWS_REGION,
    ...(c.AUDITSEAL_DYNAMODB_ENDPOINT ? { endpoint: c.AUDITSEAL_DYNAMODB_ENDPOINT } : {}),
  });
  return {
    index: new DynamoDbAlertIndex({ client, tableName: c.AUDITSEAL_TABLE, ledger: c.AUDITSEAL_LEDGER }),
    logger: new Logger({ serviceName: 'auditseal-list-alerts' }),
    journal: readJournalFromEnv(env),
    now: () => new Date(),
  };
}

let deps: ListAlertsDeps | undefined;

/** Lambda entry point; dependencies are built once per container. */
export const handler = createListAlertsHandler(() => {
  deps ??= listAlertsDepsFromEnv();
  return deps;
});

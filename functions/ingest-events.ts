/**
 * `POST /v1/events` (API Gateway REST proxy, private API, IAM auth). Middy wiring around one call to
 * `ingestBatch`; the request and response bodies and every error code are in docs/API.md.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { z } from 'zod';
import { appendJsonPath } from '../shared/events/json-path.ts';
import { type IngestDeps, ingestBatch } from '../shared/ingest/ingest-batch.ts';
import { parseIngestConfig } from './config.ts';
import { errorResponse, type HandlerLogger } from './http/error-response.ts';
import { HttpError } from './http/errors.ts';
import { type JsonBodyEvent, jsonBody } from './http/json-body.ts';
import { jsonResponse } from './http/json-response.ts';
import { createIngestRuntime } from './ingest-runtime.ts';

/** Largest request body: 5 MiB. */
export const MAX_BODY_BYTES = 5 * 1024 * 1024;

export interface IngestEventsDeps {
  readonly ledger: string;
  readonly ingest: IngestDeps;
  readonly logger: HandlerLogger;
  readonly maxBodyBytes?: number;
}

/** The request body; each item is then validated by the ingest core against the event schema. */
export const requestBodySchema = z.strictObject({ events: z.array(z.unknown()) });

/** Builds the handler around its dependencies (tests pass in-memory ones). */
export function createHandler(deps: IngestEventsDeps) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(errorResponse({ logger: deps.logger }))
    .use(jsonBody({ maxBytes: deps.maxBodyBytes ?? MAX_BODY_BYTES }))
    .handler(async (event: JsonBodyEvent, context: Context): Promise<APIGatewayProxyResult> => {
      const principal = principalOf(event);
      const { events } = parseRequestBody(event.body);
      const result = await ingestBatch(
        {
          ledger: deps.ledger,
          items: events,
          channel: 'api',
          principal,
          requestId: event.requestContext?.requestId || context.awsRequestId,
        },
        { ...deps.ingest, ...deadlineOf(context, deps.ingest.clock) },
      );
      return jsonResponse(result.status, {
        stored: result.stored,
        duplicates: result.duplicates,
        receipts: result.receipts,
      });
    });
}

/** Time kept back from the invocation's deadline: no write transaction starts later than this before it. */
export const DEADLINE_SAFETY_MS = 2_000;

/** The epoch ms after which the request must not start another write (it answers 503 instead). */
function deadlineOf(context: Context, clock: () => Date): { deadlineMs?: number } {
  const remaining =
    typeof context.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : NaN;
  if (!Number.isFinite(remaining)) return {};
  return { deadlineMs: clock().getTime() + remaining - DEADLINE_SAFETY_MS };
}

/** The caller's IAM identity; the API uses IAM auth, so a request without one is refused. */
function principalOf(event: JsonBodyEvent): string {
  const arn: unknown = event.requestContext?.identity?.userArn;
  if (typeof arn !== 'string' || arn === '') {
    throw new HttpError(403, 'MISSING_PRINCIPAL', 'request has no IAM principal');
  }
  return arn;
}

/** `{ "events": [ … ] }` and nothing else. Messages name paths, never values. */
function parseRequestBody(body: unknown): { events: unknown[] } {
  const result = requestBodySchema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    throw new HttpError(400, 'INVALID_BODY', `unknown field at ${appendJsonPath('$', issue.keys[0]!)}`);
  }
  if (issue.path.length === 0) {
    throw new HttpError(400, 'INVALID_BODY', 'body must be a JSON object {"events": [...]}');
  }
  throw new HttpError(400, 'INVALID_BODY', '$.events must be an array of events');
}

let coldStartHandler: ReturnType<typeof createHandler> | undefined;

/** The Lambda entry point: configuration and clients are built on the first invocation only. */
export const handler = async (
  event: APIGatewayProxyEvent,
  context: Context,
): Promise<APIGatewayProxyResult> => {
  if (coldStartHandler === undefined) {
    const config = parseIngestConfig(process.env);
    const runtime = createIngestRuntime(config, 'auditseal-ingest-events');
    coldStartHandler = createHandler({
      ledger: config.ledger,
      ingest: runtime.ingest,
      logger: runtime.logger,
    });
  }
  return coldStartHandler(event, context);
};

/**
 * API Gateway REST (v1) events for handler tests, built on the real samples in
 * `../shared/data/lambda-events/apigw-rest-v1/`, and a logger double that records what it was given.
 */
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { vi } from 'vitest';
import { z } from 'zod';
import { readSharedJson } from '../../support/shared-data.ts';

const sampleSchema = z.looseObject({
  httpMethod: z.string(),
  headers: z.record(z.string(), z.string()).nullable(),
  requestContext: z.looseObject({ requestId: z.string(), identity: z.looseObject({}) }),
});

export const APIGW_SAMPLES = [
  'powertools-ts_iam-auth.json',
  'powertools-ts_console-test-ui.json',
  'powertools-ts_no-auth.json',
  'powertools-ts_lambda-authorizer-auth.json',
  'powertools-py_apiGatewayProxyEvent.json',
] as const;

/** A sample event turned into `POST /v1/events` with a JSON body (the sample's identity is kept). */
export function postEvents(
  body: string | null,
  options: {
    sample?: (typeof APIGW_SAMPLES)[number];
    contentType?: string | null;
    isBase64Encoded?: boolean;
  } = {},
): APIGatewayProxyEvent {
  const sample = readSharedJson(
    `lambda-events/apigw-rest-v1/${options.sample ?? 'powertools-ts_iam-auth.json'}`,
    sampleSchema,
  );
  const headers: Record<string, string> = { ...(sample.headers ?? {}) };
  for (const key of Object.keys(headers)) if (key.toLowerCase() === 'content-type') delete headers[key];
  const contentType = options.contentType === undefined ? 'application/json' : options.contentType;
  if (contentType !== null) headers['Content-Type'] = contentType;
  return {
    ...(sample as unknown as APIGatewayProxyEvent),
    resource: '/v1/events',
    path: '/v1/events',
    httpMethod: 'POST',
    headers,
    multiValueHeaders: {},
    body,
    isBase64Encoded: options.isBase64Encoded ?? false,
  };
}

/** A Lambda context without a deadline (middy's early-timeout stays off). */
export function lambdaContext(): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'ingest-events',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:ingest-events',
    memoryLimitInMB: '1024',
    awsRequestId: 'ctx-request-id',
    logGroupName: '/aws/lambda/ingest-events',
    logStreamName: 'stream',
    getRemainingTimeInMillis: undefined as unknown as () => number,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** A logger double; `lines()` renders every call as text for "never logs the payload" checks. */
export function recordingLogger() {
  const logger = { error: vi.fn(), warn: vi.fn(), info: vi.fn() };
  const lines = () =>
    [...logger.error.mock.calls, ...logger.warn.mock.calls, ...logger.info.mock.calls]
      .map((args) =>
        JSON.stringify(args, (_k, v: unknown) =>
          v instanceof Error ? { name: v.name, message: v.message } : v,
        ),
      )
      .join('\n');
  return { logger, lines };
}

/**
 * When a handler's dependencies cannot be built (a missing variable, a client that cannot be made), every
 * request fails with a bare 500, and the reason must still reach the function's log: the error middleware
 * cannot use the handler's own logger, which comes with those dependencies, so it writes one JSON line to
 * stderr (`FALLBACK_LOGGER`), never the request.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createGetDigestHandler,
  createGetHeadHandler,
  createGetKeysHandler,
  createListAlarmsHandler,
  createListDigestsHandler,
} from '../../../functions/auditor-handlers.ts';
import { FALLBACK_LOGGER, lazyErrorResponse } from '../../../functions/http/error-response.ts';
import { createListAlertsHandler } from '../../../functions/list-alerts.ts';
import {
  createGetProfileHandler,
  createGetTimelineHandler,
  createPutProfileHandler,
} from '../../../functions/profile-handlers.ts';
import {
  createGetEventHandler,
  createGetEventProofHandler,
  createSearchEventsHandler,
} from '../../../functions/read-handlers.ts';
import { lambdaContext, postEvents } from './http-fixtures.ts';

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

const WIRING = 'AUDITSEAL_TABLE is missing';
const broken = (): never => {
  throw new Error(WIRING);
};
const brokenAsync = (): Promise<never> => Promise.reject(new Error(WIRING));

/** A request the handler would answer if it had its dependencies: the real sample, as a GET with an id. */
function request(method: 'GET' | 'PUT'): APIGatewayProxyEvent {
  return {
    ...postEvents(method === 'PUT' ? '{}' : null),
    httpMethod: method,
    path: '/v1/anything/x',
    pathParameters: { id: 'x' },
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
  };
}

/** Every stderr line written while `run` runs, parsed. */
async function stderrLines(run: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await run();
    return spy.mock.calls.map((call) => JSON.parse(String(call[0])) as Record<string, unknown>);
  } finally {
    spy.mockRestore();
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('lazyErrorResponse', () => {
  const handlers: readonly [string, Handler, 'GET' | 'PUT'][] = [
    ['PUT profile', createPutProfileHandler(brokenAsync) as Handler, 'PUT'],
    ['GET profile', createGetProfileHandler(brokenAsync) as Handler, 'GET'],
    ['GET timeline', createGetTimelineHandler(brokenAsync) as Handler, 'GET'],
    ['search', createSearchEventsHandler(brokenAsync) as Handler, 'GET'],
    ['get event', createGetEventHandler(brokenAsync) as Handler, 'GET'],
    ['get proof', createGetEventProofHandler(brokenAsync) as Handler, 'GET'],
    ['list digests', createListDigestsHandler(broken) as Handler, 'GET'],
    ['get digest', createGetDigestHandler(broken) as Handler, 'GET'],
    ['get head', createGetHeadHandler(broken) as Handler, 'GET'],
    ['get keys', createGetKeysHandler(broken) as Handler, 'GET'],
    ['list alarms', createListAlarmsHandler(broken) as Handler, 'GET'],
    ['list alerts', createListAlertsHandler(broken) as Handler, 'GET'],
  ];

  it.each(handlers)(
    '%s: a wiring failure is a bare 500, and its reason is logged',
    async (_, handler, method) => {
      // Prepare
      let response: APIGatewayProxyResult | undefined;

      // Act
      const lines = await stderrLines(async () => {
        response = await handler(request(method), lambdaContext());
      });

      // Assess: the caller learns nothing; the log says what broke, and nothing of the request
      expect(response?.statusCode).toBe(500);
      expect(JSON.parse(response?.body ?? '')).toEqual({ code: 'INTERNAL', message: 'internal error' });
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ level: 'ERROR', message: 'unhandled error', logger: 'fallback' });
      expect(JSON.stringify(lines[0])).toContain(WIRING);
      expect(JSON.stringify(lines[0])).not.toContain('requestContext');
      expect(JSON.stringify(lines[0])).not.toContain('/v1/anything/x');
    },
  );

  it("uses the handler's own logger when its dependencies are there", async () => {
    // Prepare
    const logged: unknown[] = [];
    const logger = { ...FALLBACK_LOGGER, error: (...args: unknown[]) => void logged.push(args) };
    const request = { error: new Error('boom'), response: undefined } as { error: Error; response?: unknown };

    // Act
    const lines = await stderrLines(() =>
      Promise.resolve(lazyErrorResponse(() => logger).onError?.(request as never)),
    );

    // Assess
    expect(lines).toHaveLength(0);
    expect(logged).toHaveLength(1);
    expect(request.response).toMatchObject({ statusCode: 500 });
  });
});

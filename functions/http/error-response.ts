/**
 * Middy middleware: turns errors into API responses. Only deliberate errors (`HttpError`, `IngestError`,
 * `QueryError`) reach the caller, as `{ code, message, … }` with their status; anything else becomes a bare 500
 * `{ code: 'INTERNAL', message: 'internal error' }`. Server-side failures are logged with the error's
 * name, message and cause chain but never with the request payload: for an audit log, logs would be
 * a second, unsigned, mutable copy of the data.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { IngestError } from '../../shared/ingest/errors.ts';
import { QueryError } from '../../shared/query/errors.ts';
import { HttpError } from './errors.ts';
import { jsonResponse } from './json-response.ts';

/** What the HTTP layer logs with: a Powertools `Logger` or a test double. */
export type HandlerLogger = Pick<Logger, 'error' | 'warn' | 'info'>;

export interface ErrorResponseOptions {
  readonly logger: HandlerLogger;
  /** Seconds to suggest in `Retry-After` for 503 answers. Default 1. */
  readonly retryAfterSeconds?: number;
}

export const INTERNAL_ERROR_BODY = Object.freeze({ code: 'INTERNAL', message: 'internal error' });

/** Factory; register it first so that it sees errors from every later middleware and the handler. */
export function errorResponse(options: ErrorResponseOptions): MiddlewareObj<unknown, APIGatewayProxyResult> {
  const { logger } = options;
  const retryAfter = String(options.retryAfterSeconds ?? 1);
  if (!/^\d{1,5}$/.test(retryAfter))
    throw new RangeError('errorResponse: retryAfterSeconds must be 0..99999');
  return {
    name: 'errorResponse',
    onError: (request) => {
      const error = request.error;
      if (error instanceof HttpError || error instanceof IngestError || error instanceof QueryError) {
        if (error.status >= 500) logger.error('request failed', describeError(error));
        const headers: Record<string, string> = error.status === 503 ? { 'retry-after': retryAfter } : {};
        const later = error instanceof QueryError ? error.extra['retryAfter'] : undefined;
        if (typeof later === 'number') headers['retry-after'] = String(later);
        request.response = jsonResponse(error.status, error.toBody(), headers);
        return;
      }
      logger.error('unhandled error', describeError(error));
      request.response = jsonResponse(500, INTERNAL_ERROR_BODY);
    },
  };
}

/**
 * Where errors go when a handler's own logger cannot be had (its dependencies failed to build, so the
 * request fails with a 500): one JSON line on stderr, which Lambda sends to the function's log group like
 * Powertools' own lines. Never silent: a function whose wiring is broken says why on every request.
 */
export const FALLBACK_LOGGER: HandlerLogger = {
  error: (message: unknown, ...extra: unknown[]) => writeFallback('ERROR', message, extra),
  warn: (message: unknown, ...extra: unknown[]) => writeFallback('WARN', message, extra),
  info: (message: unknown, ...extra: unknown[]) => writeFallback('INFO', message, extra),
};

// Written to stderr directly, not through `console.error`: the Lambda runtime rewrites console output
// (a timestamp, request id and level in front, or a wrapper in its JSON log format), and the line must stay
// one JSON object whose `logger` field a log filter can match, as Powertools' own lines are.
function writeFallback(level: string, message: unknown, extra: readonly unknown[]): void {
  const fields = Object.assign({}, ...extra.filter((e) => typeof e === 'object' && e !== null)) as object;
  process.stderr.write(`${JSON.stringify({ ...fields, level, message, logger: 'fallback' })}\n`);
}

/**
 * `errorResponse` for handlers whose logger comes with dependencies built on first use: the logger is
 * looked up when an error is handled, and if the dependencies themselves fail (the usual cause of such an
 * error), `FALLBACK_LOGGER` reports it. Register it first, like `errorResponse`.
 */
export function lazyErrorResponse(
  logger: () => HandlerLogger | Promise<HandlerLogger>,
): MiddlewareObj<unknown, APIGatewayProxyResult> {
  return {
    name: 'errorResponse',
    onError: async (request) => {
      let resolved: HandlerLogger;
      try {
        resolved = await logger();
      } catch {
        resolved = FALLBACK_LOGGER;
      }
      await errorResponse({ logger: resolved }).onError?.(request);
    },
  };
}

/**
 * Loggable facts about an error: names, codes and messages along the cause chain, and the stack.
 * Our own messages never contain input values; SDK messages describe the failure, not the payload.
 */
export function describeError(error: unknown): Record<string, unknown> {
  const chain: Record<string, unknown>[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    if (current instanceof Error) {
      const code = (current as { code?: unknown }).code;
      chain.push({
        name: current.name,
        message: current.message,
        ...(typeof code === 'string' ? { code } : {}),
      });
      current = current.cause;
    } else {
      chain.push({ name: typeof current });
      break;
    }
  }
  return { error: chain, stack: error instanceof Error ? error.stack : undefined };
}

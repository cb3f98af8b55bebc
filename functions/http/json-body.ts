/**
 * Middy middleware: strict JSON request bodies for API Gateway REST (v1 payload) events.
 *
 * - `Content-Type` must be `application/json` (a `charset` parameter, if any, must be UTF-8) → else 415.
 * - The body, after base64 decoding when `isBase64Encoded`, must be at most `maxBytes` → else 413.
 * - It must be valid UTF-8 without a byte order mark, and valid JSON → else 400 `INVALID_JSON`.
 *
 * The parsed value replaces `event.body` (typed `unknown`: validate it with a schema next). Duplicate
 * member names are not detected here (`JSON.parse` keeps the last); prototype-polluting names are
 * rejected by the event guard, and what was stored is exactly what the receipt's leaf hash commits to.
 *
 * Numbers are read as `JSON.parse` reads them: each becomes the nearest double. That is the app-event
 * choice (docs/EVENTS.md §3.3): a number no double can hold as sent (an integer beyond ±(2^53−1),
 * `1e400`) is refused by the event guard with a 400 naming the field, and the rest are stored as the
 * double RFC 8785 writes (`-0` as `0`). CloudTrail records never come through here: the forwarder and
 * `seal --in` read them as text, without loss.
 */
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { HttpError } from './errors.ts';

/** An API Gateway event whose body has been parsed by `jsonBody`. */
export type JsonBodyEvent<T extends APIGatewayProxyEvent = APIGatewayProxyEvent> = Omit<T, 'body'> & {
  body: unknown;
};

export interface JsonBodyOptions {
  /** Largest accepted body in bytes, after base64 decoding. */
  readonly maxBytes: number;
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Factory; options are validated once, when the handler is built. */
export function jsonBody(options: JsonBodyOptions): MiddlewareObj<APIGatewayProxyEvent> {
  const { maxBytes } = options;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 2) {
    throw new RangeError(`jsonBody: maxBytes must be a whole number ≥ 2, got ${maxBytes}`);
  }
  return {
    name: 'jsonBody',
    before: (request) => {
      const event = request.event;
      assertJsonContentType(event.headers);
      const text = bodyText(event, maxBytes);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (cause) {
        // V8's messages quote the input, so they are never passed on.
        throw new HttpError(400, 'INVALID_JSON', 'body is not valid JSON', { cause });
      }
      (event as unknown as JsonBodyEvent).body = parsed;
    },
  };
}

function headerValue(headers: APIGatewayProxyEvent['headers'] | null, name: string): string | undefined {
  if (!headers) return undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name && value !== undefined) return value;
  }
  return undefined;
}

function assertJsonContentType(headers: APIGatewayProxyEvent['headers'] | null): void {
  const value = headerValue(headers, 'content-type');
  const [mediaType, ...params] = (value ?? '').split(';').map((part) => part.trim().toLowerCase());
  const charset = params.find((p) => p.startsWith('charset='))?.slice('charset='.length);
  const utf8 = charset === undefined || charset === 'utf-8' || charset === '"utf-8"' || charset === 'utf8';
  if (mediaType !== 'application/json' || !utf8) {
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json (UTF-8)');
  }
}

function bodyText(event: APIGatewayProxyEvent, maxBytes: number): string {
  const body = event.body;
  if (body === null || body === undefined || body === '') {
    throw new HttpError(400, 'INVALID_JSON', 'body is empty');
  }
  if (typeof body !== 'string') throw new HttpError(400, 'INVALID_JSON', 'body is not text');
  const tooLarge = () => new HttpError(413, 'PAYLOAD_TOO_LARGE', `body is larger than ${maxBytes} bytes`);
  if (event.isBase64Encoded) {
    // Four base64 characters carry three bytes; check the bound before decoding anything.
    if (Math.floor((body.length * 3) / 4) - 2 > maxBytes) throw tooLarge();
    const bytes = Buffer.from(body, 'base64');
    if (bytes.length > maxBytes) throw tooLarge();
    try {
      return decoder.decode(bytes);
    } catch (cause) {
      throw new HttpError(400, 'INVALID_JSON', 'body is not valid UTF-8', { cause });
    }
  }
  // A UTF-16 code unit is at least one UTF-8 byte, so a long string is rejected before measuring it.
  if (body.length > maxBytes || Buffer.byteLength(body, 'utf8') > maxBytes) throw tooLarge();
  return body;
}

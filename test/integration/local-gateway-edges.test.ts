/**
 * The local gateway on the edges where it must behave like API Gateway: how queries and paths are decoded
 * and canonicalized for SigV4 (signed with @smithy/signature-v4, the AWS SDK's signer, the way the SDK
 * signs: the path as sent, the query values as meant), URL and header limits, slow and idle clients, and a
 * handler that outlives its function timeout.
 */
import type { IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LocalGateway } from '../../local/gateway.ts';
import {
  MAX_HEADER_COUNT,
  MAX_HEADER_VALUES_BYTES,
  MAX_URL_CHARS,
  startGateway,
} from '../../local/gateway.ts';

const reader = {
  accessKeyId: 'AKIALOCALREADER00001',
  secretAccessKey: 'reader-secret-0000000000000000000000000',
};
const credentials = {
  writer: { accessKeyId: 'AKIALOCALWRITER00001', secretAccessKey: 'writer-secret-0000000000000000000000000' },
  reader,
  auditor: {
    accessKeyId: 'AKIALOCALAUDITOR0001',
    secretAccessKey: 'auditor-secret-000000000000000000000000',
  },
};
const HEADERS_TIMEOUT_MS = 1000;
const REQUEST_TIMEOUT_MS = 2000;
const KEEP_ALIVE_TIMEOUT_MS = 500;
const WRITER_TIMEOUT_MS = 300;

let gateway: LocalGateway;
let seen: { event: APIGatewayProxyEvent; context: Context }[] = [];
let lateHandlerFinished = false;

beforeAll(async () => {
  gateway = await startGateway({
    port: 0,
    region: 'us-east-1',
    credentials,
    headersTimeoutMs: HEADERS_TIMEOUT_MS,
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS,
    routes: [
      {
        method: 'GET',
        path: '/v1/things',
        role: 'reader',
        handler: async (event, context) => {
          seen.push({ event, context });
          return { statusCode: 200, body: JSON.stringify(event.multiValueQueryStringParameters) };
        },
      },
      {
        method: 'GET',
        path: '/v1/things/{id}',
        role: 'reader',
        handler: async (event, context) => {
          seen.push({ event, context });
          return { statusCode: 200, body: JSON.stringify(event.pathParameters) };
        },
      },
      {
        method: 'POST',
        path: '/v1/late',
        role: 'reader',
        timeoutMs: WRITER_TIMEOUT_MS,
        handler: async (event, context) => {
          seen.push({ event, context });
          await new Promise((resolve) => setTimeout(resolve, WRITER_TIMEOUT_MS + 500));
          lateHandlerFinished = true;
          return { statusCode: 201, body: JSON.stringify({ stored: ['late-1'] }) };
        },
      },
    ],
  });
});

afterAll(async () => {
  await gateway?.close();
});

beforeEach(() => {
  seen = [];
});

interface Answer {
  readonly status: number;
  readonly body: string;
}

/**
 * Signs as the AWS SDK does (the path as it goes on the wire, the query values as the client means them)
 * and sends the request target exactly as given, with no URL normalization in between.
 */
async function sdkSigned(
  target: { readonly path: string; readonly query?: string },
  meant: Record<string, string | string[]> = {},
): Promise<Answer> {
  const signer = new SignatureV4({
    credentials: reader,
    region: 'us-east-1',
    service: 'execute-api',
    sha256: Sha256,
  });
  const host = `127.0.0.1:${gateway.port}`;
  const signed = await signer.sign({
    method: 'GET',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: gateway.port,
    path: target.path,
    query: meant,
    headers: { host },
  });
  const path = target.query === undefined ? target.path : `${target.path}?${target.query}`;
  return send(path, Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k, String(v)])));
}

function send(path: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: gateway.port, method: 'GET', path, headers },
      (res) => {
        collect(res).then((body) => resolve({ status: res.statusCode ?? 0, body }), reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function collect(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

/** Opens a raw connection; `closed` resolves with everything received once the server closes it. */
function rawConnection(): { socket: Socket; closed: Promise<{ received: string; afterMs: number }> } {
  const socket = connect(gateway.port, '127.0.0.1');
  const opened = Date.now();
  let received = '';
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1');
  });
  const closed = new Promise<{ received: string; afterMs: number }>((resolve) => {
    socket.on('close', () => resolve({ received, afterMs: Date.now() - opened }));
    socket.on('error', () => {});
  });
  return { socket, closed };
}

/** The header lines of a request signed by the reader, for raw-socket tests. */
async function signedHead(method: string, path: string, body?: string): Promise<string> {
  const signer = new SignatureV4({
    credentials: reader,
    region: 'us-east-1',
    service: 'execute-api',
    sha256: Sha256,
  });
  const signed = await signer.sign({
    method,
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: gateway.port,
    path,
    headers: {
      host: `127.0.0.1:${gateway.port}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body }),
  });
  return Object.entries(signed.headers)
    .map(([name, value]) => `${name}: ${String(value)}`)
    .join('\r\n');
}

/** Resolves with `fallback` if `promise` has not settled within `ms`. */
function within<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  return Promise.race([promise, new Promise<T>((resolve) => setTimeout(() => resolve(fallback), ms))]);
}

describe('Function: startGateway, on the edges', () => {
  describe('when a query carries reserved characters, repeated keys, empty values or UTF-8', () => {
    // wire: the query as the client sends it; meant: the values it signs (and the handler must see).
    const cases: [string, string, Record<string, string | string[]>][] = [
      ['a raw `:` in a value (a timestamp)', 'from=2026-01-01T00:00:00Z', { from: '2026-01-01T00:00:00Z' }],
      ['a percent-encoded `:`', 'from=2026-01-01T00%3A00%3A00Z', { from: '2026-01-01T00:00:00Z' }],
      ['lower-case percent-escapes', 'from=2026-01-01T00%3a00%3a00Z', { from: '2026-01-01T00:00:00Z' }],
      [
        'an offset with an encoded plus sign',
        'from=2026-01-01T01%3A00%3A00%2B01%3A00',
        { from: '2026-01-01T01:00:00+01:00' },
      ],
      [
        'form encoding from URLSearchParams: `+` is a space',
        new URLSearchParams({ actor: 'alice smith', from: '2026-01-01T00:00:00Z' }).toString(),
        { actor: 'alice smith', from: '2026-01-01T00:00:00Z' },
      ],
      ['a space written %20', 'actor=alice%20smith', { actor: 'alice smith' }],
      [
        'every reserved character, percent-encoded',
        `q=${encodeURIComponent(":/?#[]@!$&'()*+,;=")}`,
        { q: ":/?#[]@!$&'()*+,;=" },
      ],
      [
        "the characters a query may hold raw: `:@/?!$'()*,;`",
        "q=a:b@c/d?e!$'()*,;",
        { q: "a:b@c/d?e!$'()*,;" },
      ],
      ['unreserved characters', '-._~=-._~', { '-._~': '-._~' }],
      ['a repeated key', 'a=2&a=1&a=10', { a: ['2', '1', '10'] }],
      ['an empty value', 'a=&b=1', { a: '', b: '1' }],
      ['a key without `=`', 'flag', { flag: '' }],
      ['a UTF-8 key and value', '%E1%88%B4=%C3%A9t%C3%A9', { ሴ: 'été' }],
    ];

    it.each(cases)('accepts %s and hands the handler the signed values', async (_name, wire, meant) => {
      // Act
      const answer = await sdkSigned({ path: '/v1/things', query: wire }, meant);

      // Assess
      expect(answer).toMatchObject({ status: 200 });
      const expected = Object.fromEntries(
        Object.entries(meant).map(([key, value]) => [key, Array.isArray(value) ? value : [value]]),
      );
      expect(JSON.parse(answer.body)).toEqual(expected);
    });

    it('refuses a `+` signed as a plus sign: on the wire it means a space, as on API Gateway', async () => {
      // Act
      const answer = await sdkSigned({ path: '/v1/things', query: 'q=a+b' }, { q: 'a+b' });

      // Assess
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'INVALID_SIGNATURE' });
    });
  });

  describe('when a path carries UTF-8 or an ARN', () => {
    it.each([
      ['a UTF-8 segment', '/v1/things/%C3%A9t%C3%A9', 'été'],
      ['a 4-byte UTF-8 character', '/v1/things/%F0%9F%98%80', '😀'],
      [
        'an ARN with raw `:`',
        '/v1/things/arn:aws:ec2:us-east-1:123456789012:instance',
        'arn:aws:ec2:us-east-1:123456789012:instance',
      ],
      ['an ARN with encoded `:`', '/v1/things/arn%3Aaws%3As3%3A%3A%3Abucket', 'arn:aws:s3:::bucket'],
    ])('accepts %s, signed as sent', async (_name, path, id) => {
      // Act
      const answer = await sdkSigned({ path });

      // Assess
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toEqual({ id });
    });

    it('answers raw non-ASCII bytes in the request line with 400, as HTTP/1.1 requires', async () => {
      // Prepare
      const { socket, closed } = rawConnection();

      // Act
      socket.end(
        Buffer.concat([
          Buffer.from('GET /v1/things/'),
          Buffer.from('été', 'utf8'),
          Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n'),
        ]),
      );

      // Assess
      expect((await closed).received).toMatch(/^HTTP\/1\.1 400 /);
    });
  });

  describe('when the URL is too long', () => {
    it.each([
      ['one character over the limit', MAX_URL_CHARS + 1],
      ['20 KB', 20 * 1024],
      ['60 KB', 60 * 1024],
    ])('answers %s with 414 URI_TOO_LONG', async (_name, length) => {
      // Prepare
      const prefix = '/v1/things?q=';
      const path = `${prefix}${'a'.repeat(length - prefix.length)}`;

      // Act
      const answer = await send(path, {});

      // Assess
      expect(answer.status).toBe(414);
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'URI_TOO_LONG' });
    });

    it('lets a URL of exactly the limit through to authentication', async () => {
      // Prepare
      const prefix = '/v1/things?q=';
      const path = `${prefix}${'a'.repeat(MAX_URL_CHARS - prefix.length)}`;

      // Act
      const answer = await send(path, {});

      // Assess: refused for the missing signature, not for its length
      expect(answer.status).toBe(403);
    });
  });

  describe('when the headers are too many or too large', () => {
    it(`answers more than ${MAX_HEADER_COUNT} header lines with 431`, async () => {
      // Prepare
      const headers = Object.fromEntries(
        Array.from({ length: MAX_HEADER_COUNT }, (_, i) => [`x-h${i}`, '1']),
      );

      // Act
      const answer = await send('/v1/things', headers);

      // Assess
      expect(answer.status).toBe(431);
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'HEADERS_TOO_LARGE' });
    });

    it(`answers header values of more than ${MAX_HEADER_VALUES_BYTES} bytes in total with 431`, async () => {
      // Act
      const answer = await send('/v1/things', { 'x-big': 'v'.repeat(MAX_HEADER_VALUES_BYTES) });

      // Assess
      expect(answer.status).toBe(431);
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'HEADERS_TOO_LARGE' });
    });

    it('answers a head larger than the HTTP parser takes (70 KB) with 431', async () => {
      // Act
      const answer = await send('/v1/things', { 'x-huge': 'v'.repeat(70 * 1024) });

      // Assess
      expect(answer.status).toBe(431);
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'HEADERS_TOO_LARGE' });
    });

    it('lets headers within the limits through', async () => {
      // Act
      const answer = await sdkSigned({ path: '/v1/things', query: 'a=1' }, { a: '1' });

      // Assess
      expect(answer.status).toBe(200);
    });
  });

  describe('when a client is slow or idle', () => {
    it('drops a client that never finishes its headers (slowloris), however often it sends a byte', async () => {
      // Prepare
      const { socket, closed } = rawConnection();
      socket.write('GET /v1/things HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      const drip = setInterval(() => socket.write('X-Slow: 1\r\n'), 200);

      // Act
      const result = await within(closed, 5000, undefined);
      clearInterval(drip);
      socket.destroy();

      // Assess
      expect(result).toBeDefined();
      expect(result!.afterMs).toBeLessThan(HEADERS_TIMEOUT_MS + 2500);
      expect(result!.received === '' || /^HTTP\/1\.1 408 /.test(result!.received)).toBe(true);
    });

    it('drops a client that connects and sends nothing', async () => {
      // Prepare
      const { socket, closed } = rawConnection();

      // Act
      const result = await within(closed, 5000, undefined);
      socket.destroy();

      // Assess
      expect(result).toBeDefined();
      expect(result!.afterMs).toBeLessThan(HEADERS_TIMEOUT_MS + 2500);
    });

    it('drops a client that stops in the middle of its body', async () => {
      // Prepare: a signed request, so that the gateway reads its body
      const head = await signedHead('POST', '/v1/late', '0123456789'.repeat(10));
      const { socket, closed } = rawConnection();
      socket.write(`POST /v1/late HTTP/1.1\r\n${head}\r\nContent-Length: 100\r\n\r\n0123456789`);

      // Act
      const result = await within(closed, 6000, undefined);
      socket.destroy();

      // Assess
      expect(result).toBeDefined();
      expect(result!.afterMs).toBeLessThan(REQUEST_TIMEOUT_MS + 2500);
    });

    it('closes a kept-alive connection that stays idle after its answer', async () => {
      // Prepare
      const head = await signedHead('GET', '/v1/things');
      const { socket, closed } = rawConnection();
      socket.write(`GET /v1/things HTTP/1.1\r\n${head}\r\nConnection: keep-alive\r\n\r\n`);

      // Act
      const result = await within(closed, 5000, undefined);
      socket.destroy();

      // Assess: one answer (200, kept alive), then the server closed the idle connection
      expect(result).toBeDefined();
      expect(result!.received).toMatch(/^HTTP\/1\.1 200 /);
      expect(result!.received).not.toMatch(/connection: close/i);
      expect(result!.afterMs).toBeLessThan(KEEP_ALIVE_TIMEOUT_MS + 2500);
    });
  });

  describe('when a handler outlives its function timeout', () => {
    it('answers 504 at the timeout and never sends the late answer', async () => {
      // Prepare
      lateHandlerFinished = false;
      const head = await signedHead('POST', '/v1/late', '{}');
      const { socket, closed } = rawConnection();
      const started = Date.now();

      // Act: keep the connection open past the moment the handler answers 201
      socket.write(`POST /v1/late HTTP/1.1\r\n${head}\r\nContent-Length: 2\r\n\r\n{}`);
      await new Promise((resolve) => setTimeout(resolve, WRITER_TIMEOUT_MS + 1000));
      socket.end();
      const { received } = await closed;

      // Assess
      expect(lateHandlerFinished).toBe(true);
      expect(received).toMatch(/^HTTP\/1\.1 504 /);
      expect(received.match(/HTTP\/1\.1 /g)).toHaveLength(1);
      expect(received).toContain('"code":"INTEGRATION_TIMEOUT"');
      expect(received).not.toContain('late-1');
      expect(seen).toHaveLength(1);
      expect(seen[0]!.context.getRemainingTimeInMillis()).toBe(0);
      expect(Date.now() - started).toBeGreaterThanOrEqual(WRITER_TIMEOUT_MS);
    });

    it('tells the handler its own timeout, not the integration timeout', async () => {
      // Prepare
      const signer = new SignatureV4({
        credentials: reader,
        region: 'us-east-1',
        service: 'execute-api',
        sha256: Sha256,
      });
      const signed = await signer.sign({
        method: 'POST',
        protocol: 'http:',
        hostname: '127.0.0.1',
        port: gateway.port,
        path: '/v1/late',
        headers: { host: `127.0.0.1:${gateway.port}`, 'content-type': 'application/json' },
        body: '{}',
      });

      // Act
      const answer = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port: gateway.port,
            method: 'POST',
            path: '/v1/late',
            headers: Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k, String(v)])),
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end('{}');
      });
      const remaining = seen[0]!.context.getRemainingTimeInMillis();

      // Assess
      expect(answer).toBe(504);
      expect(remaining).toBeLessThanOrEqual(WRITER_TIMEOUT_MS);
    });
  });
});

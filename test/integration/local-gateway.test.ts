/**
 * The local API gateway over real HTTP: SigV4 verification (against @smithy/signature-v4 and curl's own
 * signer), roles, the REST v1 proxy event, limits and error shapes, and fuzzed garbage.
 */
import { execFile } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LocalGateway } from '../../local/gateway.ts';
import { MAX_BODY_BYTES, startGateway } from '../../local/gateway.ts';
import { signedFetch, signRequest } from '../support/signed-fetch.ts';

const credentials = {
  writer: { accessKeyId: 'AKIALOCALWRITER00001', secretAccessKey: 'writer-secret-0000000000000000000000000' },
  reader: { accessKeyId: 'AKIALOCALREADER00001', secretAccessKey: 'reader-secret-0000000000000000000000000' },
  auditor: {
    accessKeyId: 'AKIALOCALAUDITOR0001',
    secretAccessKey: 'auditor-secret-000000000000000000000000',
  },
};

let gateway: LocalGateway;
let seen: { event: APIGatewayProxyEvent; context: Context }[] = [];

beforeAll(async () => {
  gateway = await startGateway({
    port: 0,
    region: 'us-east-1',
    credentials,
    timeoutMs: 1000,
    routes: [
      {
        method: 'POST',
        path: '/v1/events',
        role: 'writer',
        handler: async (event, context) => {
          seen.push({ event, context });
          return { statusCode: 201, body: JSON.stringify({ ok: true }) };
        },
      },
      {
        method: 'GET',
        path: '/v1/events/{id}',
        role: ['reader', 'auditor'],
        handler: async (event, context) => {
          seen.push({ event, context });
          return {
            statusCode: 200,
            headers: { 'x-test': 1 },
            body: JSON.stringify({ id: event.pathParameters?.['id'] }),
          };
        },
      },
      {
        method: 'GET',
        path: '/v1/boom',
        role: ['writer', 'reader', 'auditor'],
        handler: async () => {
          throw new Error('secret detail: table auditseal-ledger');
        },
      },
      {
        method: 'GET',
        path: '/v1/malformed',
        role: 'reader',
        handler: async () => ({ statusCode: 'ok' }) as never,
      },
      {
        method: 'GET',
        path: '/v1/bad-header',
        role: 'reader',
        handler: async () => ({ statusCode: 200, headers: { 'x-name': 'Zoë 中' }, body: '{}' }),
      },
      {
        method: 'GET',
        path: '/v1/slow',
        role: 'reader',
        handler: () => new Promise(() => {}),
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

async function json(response: Response): Promise<unknown> {
  return JSON.parse(await response.text());
}

describe('Function: startGateway', () => {
  describe('when a request is signed with @smithy/signature-v4, as the AWS SDK signs', () => {
    it('calls the handler with a REST v1 proxy event carrying the caller identity', async () => {
      // Prepare
      const body = JSON.stringify({ events: [{ id: 'e1' }] });

      // Act
      const response = await signedFetch(gateway.endpoint, credentials.writer, {
        method: 'POST',
        path: '/v1/events?source=app&tag=a&tag=b',
        body,
      });

      // Assess
      expect(response.status).toBe(201);
      expect(await json(response)).toEqual({ ok: true });
      expect(response.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
      expect(seen).toHaveLength(1);
      const { event, context } = seen[0]!;
      expect(event).toMatchObject({
        resource: '/v1/events',
        path: '/v1/events',
        httpMethod: 'POST',
        body,
        isBase64Encoded: false,
        pathParameters: null,
        stageVariables: null,
        queryStringParameters: { source: 'app', tag: 'b' },
        multiValueQueryStringParameters: { source: ['app'], tag: ['a', 'b'] },
        requestContext: {
          resourcePath: '/v1/events',
          httpMethod: 'POST',
          path: '/local/v1/events',
          stage: 'local',
          accountId: '000000000000',
          protocol: 'HTTP/1.1',
          identity: {
            accessKey: credentials.writer.accessKeyId,
            userArn: 'arn:aws:iam::000000000000:user/auditseal-writer',
            accountId: '000000000000',
            sourceIp: '127.0.0.1',
          },
        },
      });
      expect(event.requestContext.requestId).toBe(response.headers.get('x-amzn-requestid'));
      expect(event.requestContext.identity.caller).toMatch(/^AIDA[0-9A-F]{17}$/);
      expect(event.requestContext.requestTime).toMatch(
        /^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/,
      );
      expect(event.headers['content-type']).toBe('application/json');
      expect(event.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
      expect(event.headers['authorization']).toBeUndefined();
      expect(event.multiValueHeaders['X-Forwarded-Proto']).toEqual(['http']);
      expect(context.functionName).toBe('auditseal-post-v1-events');
      expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
    });

    it('decodes path parameters and lets every listed role in', async () => {
      // Act
      const asReader = await signedFetch(gateway.endpoint, credentials.reader, {
        path: '/v1/events/ev%201%2Fx',
      });
      const asAuditor = await signedFetch(gateway.endpoint, credentials.auditor, { path: '/v1/events/e2' });

      // Assess
      expect(asReader.status).toBe(404); // an encoded slash matches no route
      expect(asAuditor.status).toBe(200);
      expect(asAuditor.headers.get('x-test')).toBe('1');
      expect(await json(asAuditor)).toEqual({ id: 'e2' });
      const ok = await signedFetch(gateway.endpoint, credentials.reader, { path: '/v1/events/ev%201' });
      expect(await json(ok)).toEqual({ id: 'ev 1' });
      expect(seen.at(-1)!.event.pathParameters).toEqual({ id: 'ev 1' });
    });

    it('accepts a signed x-amz-content-sha256 header', async () => {
      // Act
      const response = await signedFetch(gateway.endpoint, credentials.writer, {
        method: 'POST',
        path: '/v1/events',
        body: '{"a":1}',
        signPayloadHeader: true,
      });

      // Assess
      expect(response.status).toBe(201);
    });

    it('passes a body that is not UTF-8 as base64', async () => {
      // Prepare
      const body = new Uint8Array([0xff, 0xfe, 0x00, 0x80]);

      // Act
      const response = await signedFetch(gateway.endpoint, credentials.writer, {
        method: 'POST',
        path: '/v1/events',
        body,
      });

      // Assess
      expect(response.status).toBe(201);
      expect(seen[0]!.event).toMatchObject({ body: '//4AgA==', isBase64Encoded: true });
    });
  });

  describe('when a request is signed by curl --aws-sigv4, an independent implementation', () => {
    it('accepts it', async () => {
      // Act
      const { stdout } = await promisify(execFile)('curl', [
        '-sS',
        '--noproxy',
        '*',
        '--aws-sigv4',
        'aws:amz:us-east-1:execute-api',
        '--user',
        `${credentials.reader.accessKeyId}:${credentials.reader.secretAccessKey}`,
        '-w',
        '\n%{http_code}',
        `${gateway.endpoint}/v1/events/from-curl?q=a%20b&z=1`,
      ]);

      // Assess
      expect(stdout.split('\n')).toEqual(['{"id":"from-curl"}', '200']);
      expect(seen[0]!.event.queryStringParameters).toEqual({ q: 'a b', z: '1' });
    });
  });

  describe('when the query string holds prototype keys', () => {
    it('keeps them as plain own properties and does not crash', async () => {
      // Act
      const response = await signedFetch(gateway.endpoint, credentials.reader, {
        path: '/v1/events/p?__proto__=x&constructor=y&toString=z&__proto__=w&hasOwnProperty=1',
      });

      // Assess
      expect(response.status).toBe(200);
      const { queryStringParameters, multiValueQueryStringParameters } = seen[0]!.event;
      expect(Object.getPrototypeOf(queryStringParameters)).toBe(Object.prototype);
      expect(Object.getOwnPropertyDescriptor(queryStringParameters, '__proto__')?.value).toBe('w');
      expect(Object.getOwnPropertyDescriptor(multiValueQueryStringParameters, '__proto__')?.value).toEqual([
        'x',
        'w',
      ]);
      expect(queryStringParameters?.['constructor']).toBe('y');
      expect(({} as Record<string, unknown>)['x']).toBeUndefined();
    });
  });

  describe('when the signed request is tampered with', () => {
    type Parts = { path: string; headers: Record<string, string>; body: unknown };
    const tampers: [string, (parts: Parts) => void][] = [
      [
        'the body',
        (parts) => {
          parts.body = '{"events":[{"id":"e2"}]}';
        },
      ],
      [
        'the query',
        (parts) => {
          parts.path = `${parts.path}&extra=1`;
        },
      ],
      [
        'a signed header',
        (parts) => {
          parts.headers['content-type'] = 'text/plain';
        },
      ],
      [
        'the date',
        (parts) => {
          parts.headers['x-amz-date'] = new Date(Date.now() - 1000)
            .toISOString()
            .replace(/[-:]|\.\d{3}/g, '');
        },
      ],
      [
        'the signature',
        (parts) => {
          const last = parts.headers['authorization']!.at(-1) === '0' ? '1' : '0';
          parts.headers['authorization'] = parts.headers['authorization']!.slice(0, -1) + last;
        },
      ],
      [
        'the access key',
        (parts) => {
          parts.headers['authorization'] = parts.headers['authorization']!.replace(
            credentials.writer.accessKeyId,
            credentials.reader.accessKeyId,
          );
        },
      ],
    ];

    it.each(tampers)('rejects a changed %s with 403 and does not call the handler', async (_, tamper) => {
      // Act
      const response = await signedFetch(gateway.endpoint, credentials.writer, {
        method: 'POST',
        path: '/v1/events?source=app',
        body: '{"events":[{"id":"e1"}]}',
        tamper,
      });

      // Assess
      expect(response.status).toBe(403);
      expect(await json(response)).toEqual({ code: 'INVALID_SIGNATURE', message: expect.any(String) });
      expect(seen).toEqual([]);
    });

    it('rejects a changed path parameter', async () => {
      // Act
      const response = await signedFetch(gateway.endpoint, credentials.reader, {
        path: '/v1/events/e1',
        tamper: (parts) => {
          parts.path = '/v1/events/e2';
        },
      });

      // Assess
      expect(response.status).toBe(403);
      expect(await json(response)).toMatchObject({ code: 'INVALID_SIGNATURE' });
      expect(seen).toEqual([]);
    });

    it('rejects an unsigned x-amz-content-sha256 that does not match the body', async () => {
      // Act
      const response = await signedFetch(gateway.endpoint, credentials.writer, {
        method: 'POST',
        path: '/v1/events',
        body: '{"a":1}',
        tamper: (parts) => {
          parts.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
        },
      });

      // Assess
      expect(response.status).toBe(403);
      expect(await json(response)).toMatchObject({
        code: 'INVALID_SIGNATURE',
        message: /x-amz-content-sha256/,
      });
    });
  });

  describe('when authentication is missing, garbled or refused', () => {
    it.each([
      ['no Authorization header', {}, 'MISSING_AUTHENTICATION'],
      [
        'another algorithm',
        { authorization: 'AWS4-HMAC-SHA512 Credential=x', 'x-amz-date': '20240101T000000Z' },
        'INCOMPLETE_SIGNATURE',
      ],
      [
        'a garbled header',
        { authorization: 'AWS4-HMAC-SHA256 garbage', 'x-amz-date': '20240101T000000Z' },
        'INCOMPLETE_SIGNATURE',
      ],
    ] as const)('answers %s with 403 %s', async (_, headers, code) => {
      // Act
      const response = await fetch(`${gateway.endpoint}/v1/events`, { method: 'POST', headers, body: '{}' });

      // Assess
      expect(response.status).toBe(403);
      expect(await json(response)).toEqual({ code, message: expect.any(String) });
    });

    it('answers an unknown access key with 403 UNRECOGNIZED_CLIENT', async () => {
      // Act
      const response = await signedFetch(
        gateway.endpoint,
        { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' },
        { path: '/v1/events/e1' },
      );

      // Assess
      expect(response.status).toBe(403);
      expect(await json(response)).toMatchObject({ code: 'UNRECOGNIZED_CLIENT' });
    });

    it.each([6, -6])(
      'answers a signature made %i minutes away from now with 403 SIGNATURE_EXPIRED',
      async (minutes) => {
        // Act
        const response = await signedFetch(gateway.endpoint, credentials.reader, {
          path: '/v1/events/e1',
          signingDate: new Date(Date.now() + minutes * 60_000),
        });

        // Assess
        expect(response.status).toBe(403);
        expect(await json(response)).toMatchObject({ code: 'SIGNATURE_EXPIRED' });
      },
    );

    it('accepts a signature made 4 minutes ago', async () => {
      // Act
      const response = await signedFetch(gateway.endpoint, credentials.reader, {
        path: '/v1/events/e1',
        signingDate: new Date(Date.now() - 4 * 60_000),
      });

      // Assess
      expect(response.status).toBe(200);
    });

    it('answers a credential scoped to another region or service with 403 INVALID_SIGNATURE', async () => {
      // Act
      const response = await signedFetch(gateway.endpoint, credentials.reader, {
        path: '/v1/events/e1',
        region: 'eu-west-1',
      });

      // Assess
      expect(response.status).toBe(403);
      expect(await json(response)).toMatchObject({ code: 'INVALID_SIGNATURE', message: /region us-east-1/ });
    });

    it('answers a valid signature by a role the route does not allow with 403 ACCESS_DENIED', async () => {
      // Act
      const writerReads = await signedFetch(gateway.endpoint, credentials.writer, { path: '/v1/events/e1' });
      const readerWrites = await signedFetch(gateway.endpoint, credentials.reader, {
        method: 'POST',
        path: '/v1/events',
        body: '{}',
      });

      // Assess
      expect(writerReads.status).toBe(403);
      expect(await json(writerReads)).toEqual({
        code: 'ACCESS_DENIED',
        message: 'the writer role is not allowed to call GET /v1/events/{id}',
      });
      expect(readerWrites.status).toBe(403);
      expect(seen).toEqual([]);
    });
  });

  describe('when the route does not exist or the method is wrong', () => {
    it('answers 404 NOT_FOUND for an unknown path, even unsigned', async () => {
      // Act
      const response = await fetch(`${gateway.endpoint}/v2/nothing`);

      // Assess
      expect(response.status).toBe(404);
      expect(await json(response)).toMatchObject({ code: 'NOT_FOUND' });
    });

    it.each(['/v1/events/../keys', '/v1//events', '/v1/events/%2e%2e', '/v1/events/%zz'])(
      'answers 404 for %s',
      async (path) => {
        // Act
        const response = await signedFetch(gateway.endpoint, credentials.reader, { path });

        // Assess
        expect(response.status).toBe(404);
      },
    );

    it('answers 405 METHOD_NOT_ALLOWED with an Allow header', async () => {
      // Act
      const response = await signedFetch(gateway.endpoint, credentials.writer, {
        method: 'DELETE',
        path: '/v1/events',
      });

      // Assess
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('POST');
      expect(await json(response)).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
    });
  });

  describe('when the handler fails', () => {
    it('answers a throw with a bare 500 INTERNAL that reveals nothing', async () => {
      // Act
      const response = await signedFetch(gateway.endpoint, credentials.reader, { path: '/v1/boom' });

      // Assess
      expect(response.status).toBe(500);
      expect(await response.text()).toBe('{"code":"INTERNAL","message":"internal error"}');
    });

    it('answers a malformed proxy result with 500 INTERNAL', async () => {
      // Act
      const response = await signedFetch(gateway.endpoint, credentials.reader, { path: '/v1/malformed' });

      // Assess
      expect(response.status).toBe(500);
      expect(await json(response)).toEqual({ code: 'INTERNAL', message: 'internal error' });
    });

    it('answers a header value HTTP cannot carry with 500 INTERNAL', async () => {
      // Act
      const response = await signedFetch(gateway.endpoint, credentials.reader, { path: '/v1/bad-header' });

      // Assess
      expect(response.status).toBe(500);
      expect(response.headers.get('x-name')).toBeNull();
    });

    it('answers a handler that outlives the timeout with 504 INTEGRATION_TIMEOUT', async () => {
      // Act
      const response = await signedFetch(gateway.endpoint, credentials.reader, { path: '/v1/slow' });

      // Assess
      expect(response.status).toBe(504);
      expect(await json(response)).toMatchObject({ code: 'INTEGRATION_TIMEOUT' });
    });
  });

  describe('when the body is larger than 6 MB', () => {
    it('answers a declared Content-Length over the limit with 413 at once', async () => {
      // Prepare
      const body = 'x'.repeat(MAX_BODY_BYTES + 1);

      // Act
      const response = await signedFetch(gateway.endpoint, credentials.writer, {
        method: 'POST',
        path: '/v1/events',
        body,
      });

      // Assess
      expect(response.status).toBe(413);
      expect(await json(response)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    });

    it('answers a chunked body with 413 once it passes the limit, before the client has sent it all', async () => {
      // Prepare
      const signed = await signRequest(gateway.endpoint, credentials.writer, {
        method: 'POST',
        path: '/v1/events',
        body: '{}',
      });
      const chunk = Buffer.alloc(256 * 1024, 0x61);
      const totalChunks = 200; // 50 MB offered
      let sentChunks = 0;

      // Act
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(`${gateway.endpoint}/v1/events`, {
          method: 'POST',
          headers: { ...signed.headers, 'transfer-encoding': 'chunked' },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', (error: NodeJS.ErrnoException) => {
          // The gateway answers 413 and closes the socket; under load the client can see its own write
          // fail (EPIPE / ECONNRESET) before it reads that answer. A cut connection is still a refusal.
          if (error.code === 'EPIPE' || error.code === 'ECONNRESET') setTimeout(() => resolve(-1), 500);
          else reject(error);
        });
        const pump = () => {
          while (sentChunks < totalChunks) {
            sentChunks++;
            if (!req.write(chunk)) {
              req.once('drain', pump);
              return;
            }
          }
          req.end();
        };
        pump();
      });

      // Assess: a 413, or (when the write error wins the race) a connection cut before the body ended
      expect([413, -1]).toContain(status);
      expect(sentChunks).toBeLessThan(totalChunks);
    });
  });

  describe('when it receives garbage', () => {
    it('never answers 5xx to random raw requests and keeps serving', async () => {
      // Prepare
      const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/);
      const rawRequest = fc.record({
        method: fc.oneof(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'), token),
        path: fc.oneof(
          fc.constantFrom('/v1/events', '/v1/events/x', '/v1/boom', '/', '*', '/v1/events?__proto__=1'),
          fc.string({ maxLength: 60 }).map((s) => `/${s}`),
          fc.string({ maxLength: 30 }),
        ),
        headers: fc.array(
          fc.tuple(
            fc.oneof(
              token,
              fc.constantFrom(
                'Authorization',
                'X-Amz-Date',
                'Content-Length',
                'Transfer-Encoding',
                'x-amz-content-sha256',
              ),
            ),
            fc.oneof(
              fc.string({ maxLength: 80 }),
              fc.constant(
                'AWS4-HMAC-SHA256 Credential=AKIALOCALWRITER00001/20240101/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=00',
              ),
            ),
          ),
          { maxLength: 6 },
        ),
        body: fc.uint8Array({ maxLength: 200 }),
      });

      let answered = 0;

      // Act & Assess
      await fc.assert(
        fc.asyncProperty(rawRequest, async ({ method, path, headers, body }) => {
          const head = [
            `${method} ${path} HTTP/1.1`,
            'Host: 127.0.0.1',
            ...headers.map(([n, v]) => `${n}: ${v}`),
            'Connection: close',
          ];
          const answer = await rawExchange(
            gateway.port,
            Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`), body]),
          );
          const status = /^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1];
          if (status === undefined) return;
          answered++;
          expect(Number(status)).toBeLessThan(500);
        }),
        { numRuns: 300 },
      );
      expect(answered).toBeGreaterThan(250);
      const alive = await signedFetch(gateway.endpoint, credentials.reader, { path: '/v1/events/alive' });
      expect(alive.status).toBe(200);
    });
  });
});

/** Writes raw bytes, resolves with whatever came back before the server closed (or 2 s passed). */
function rawExchange(port: number, bytes: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const done = () => {
      socket.destroy();
      resolve(received);
    };
    const timer = setTimeout(done, 2000);
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
    socket.on('error', () => {});
    socket.end(bytes);
  });
}

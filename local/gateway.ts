/**
 * The local API gateway: serves the API's Lambda proxy handlers over HTTP on 127.0.0.1, with IAM (SigV4)
 * authorization against the local per-role credentials, like the private REST API on AWS.
 *
 * Order of checks: URL length (414) → header count and size (431) → route (404/405) → declared body size
 * (413) → signature headers and date (403) → body, read up to the limit (413) → signature (403) → role (403)
 * → handler, within its timeout (504). Every answer the gateway gives itself is JSON `{ code, message }`;
 * a handler that throws or returns a malformed result gets a bare 500 `{ code: 'INTERNAL', message:
 * 'internal error' }`. Connections that are slow to send their headers or their request, or that sit
 * idle, are closed (408 when the socket still takes an answer).
 *
 * @example
 * const gateway = await startGateway({ routes, credentials, region: 'us-east-1', port: 4010 });
 * await gateway.close();
 */

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer, STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GatewayError } from './gateway-errors.ts';
import { lambdaContext } from './lambda-context.ts';
import type { ProxyApi } from './proxy-event.ts';
import { parseQuery, proxyEvent, proxyResponse, signingQuery } from './proxy-event.ts';
import type { Role, Route } from './route-table.ts';
import { RouteTable } from './route-table.ts';
import { SigV4Verifier } from './sigv4-verifier.ts';

/** An access key pair. */
export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface GatewayOptions {
  readonly routes: readonly Route[];
  /** One access key per role. */
  readonly credentials: Readonly<Record<Role, Credentials>>;
  readonly region: string;
  /** Default 4010; 0 picks a free port. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default `000000000000`, like moto and DynamoDB Local. */
  readonly accountId?: string;
  /** Default `local`. */
  readonly stage?: string;
  /** Default 6 MB, the Lambda synchronous payload limit. */
  readonly maxBodyBytes?: number;
  /** Default 5 minutes. */
  readonly maxClockSkewMs?: number;
  /** Default 29 s, API Gateway's integration timeout; a route's own `timeoutMs` can only shorten it. */
  readonly timeoutMs?: number;
  /** How long a client may take to send the request line and headers; default 10 s. */
  readonly headersTimeoutMs?: number;
  /** How long a client may take to send the whole request, body included; default 30 s. */
  readonly requestTimeoutMs?: number;
  /** How long a kept-alive connection may sit idle between requests; default 5 s. */
  readonly keepAliveTimeoutMs?: number;
  readonly now?: () => number;
  /** One line per request (method, path, status, role, duration, request id: never a body). */
  readonly log?: (line: string) => void;
}

/** A listening gateway. */
export interface LocalGateway {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly port: number;
  close(): Promise<void>;
}

export const DEFAULT_GATEWAY_PORT = 4010;
export const MAX_BODY_BYTES = 6 * 1024 * 1024;
/** API Gateway's integration timeout. */
export const INTEGRATION_TIMEOUT_MS = 29_000;
/** API Gateway's limit on the URL of a private (or edge-optimized) REST API, in characters: 414 beyond it. */
export const MAX_URL_CHARS = 8192;
/** API Gateway's limit on the total size of all header values of a REST API request: 431 beyond it. */
export const MAX_HEADER_VALUES_BYTES = 10_240;
/** At most this many header lines (API Gateway publishes no count; ours bounds the work per request). */
export const MAX_HEADER_COUNT = 100;
/** Node's parser refuses a request line plus headers larger than this outright (431). */
const MAX_HEAD_BYTES = 64 * 1024;
const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 5_000;
const API_ID = 'auditlocal';

/** Starts the gateway and resolves once it listens. */
export async function startGateway(options: GatewayOptions): Promise<LocalGateway> {
  const table = new RouteTable(options.routes);
  const byAccessKey = new Map<string, { role: Role; secret: string }>();
  for (const [role, credentials] of Object.entries(options.credentials) as [Role, Credentials][]) {
    byAccessKey.set(credentials.accessKeyId, { role, secret: credentials.secretAccessKey });
  }
  const verifier = new SigV4Verifier({
    region: options.region,
    secretFor: (accessKeyId) => byAccessKey.get(accessKeyId)?.secret,
    ...(options.maxClockSkewMs === undefined ? {} : { maxClockSkewMs: options.maxClockSkewMs }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  const settings = {
    table,
    verifier,
    roleOf: (accessKeyId: string) => byAccessKey.get(accessKeyId)!.role,
    region: options.region,
    maxBodyBytes: options.maxBodyBytes ?? MAX_BODY_BYTES,
    timeoutMs: options.timeoutMs ?? INTEGRATION_TIMEOUT_MS,
    now: options.now ?? Date.now,
    log: options.log ?? (() => {}),
    api: {
      accountId: options.accountId ?? '000000000000',
      apiId: API_ID,
      stage: options.stage ?? 'local',
      get port() {
        return (server.address() as AddressInfo | null)?.port ?? 0;
      },
    },
  };

  const headersTimeout = options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
  const requestTimeout = Math.max(options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, headersTimeout);
  const server = createServer(
    {
      headersTimeout,
      requestTimeout,
      // Node checks the two timeouts above on this interval (30 s by default, which would let a slow
      // client hold its connection for that long).
      connectionsCheckingInterval: Math.min(1000, Math.ceil(headersTimeout / 2)),
      keepAliveTimeout: options.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
      maxHeaderSize: MAX_HEAD_BYTES,
    },
    (req, res) => {
      serve(settings, req, res).catch(() => res.destroy());
    },
  );
  // One more than the limit, so that a request over it is seen (Node drops the extra lines silently).
  server.maxHeadersCount = MAX_HEADER_COUNT + 1;
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    // Unparseable or too slow: answer in the same JSON shape if the socket still takes it.
    if (!socket.writable || error.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const answer = clientErrorAnswer(error);
    const body = JSON.stringify({ code: answer.code, message: answer.message });
    socket.end(
      `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
    // A slow client that does not read its answer is not waited for either.
    setTimeout(() => socket.destroy(), 1000).unref();
  });
  await listen(server, options.port ?? DEFAULT_GATEWAY_PORT, options.host ?? '127.0.0.1');
  const port = settings.api.port;
  return {
    endpoint: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      }),
  };
}

interface Settings {
  readonly table: RouteTable;
  readonly verifier: SigV4Verifier;
  readonly roleOf: (accessKeyId: string) => Role;
  readonly region: string;
  readonly maxBodyBytes: number;
  readonly timeoutMs: number;
  readonly now: () => number;
  readonly log: (line: string) => void;
  readonly api: ProxyApi;
}

async function serve(settings: Settings, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = settings.now();
  const requestId = randomUUID();
  const method = req.method ?? 'GET';
  const url = req.url ?? '/';
  const question = url.indexOf('?');
  const rawPath = question < 0 ? url : url.slice(0, question);
  let role: Role | undefined;
  let status: number;
  try {
    if (url.length > MAX_URL_CHARS)
      throw new GatewayError('URI_TOO_LONG', `the URL exceeds ${MAX_URL_CHARS} characters`);
    checkHeaderLimits(req.rawHeaders);
    if (!rawPath.startsWith('/')) throw new GatewayError('BAD_REQUEST', 'the request target must be a path');
    const match = settings.table.match(method, rawPath);
    const query = parseQuery(question < 0 ? '' : url.slice(question + 1));
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > settings.maxBodyBytes) throw tooLarge(settings.maxBodyBytes);
    const headers = signingHeaders(req);
    // Refuse before reading a body that could never be accepted.
    settings.verifier.preflight(headers, signingQuery(query));
    const body = await readBody(req, settings.maxBodyBytes);
    const caller = await settings.verifier.verify({
      method,
      rawPath,
      query: signingQuery(query),
      headers,
      body,
    });
    role = settings.roleOf(caller.accessKeyId);
    if (!match.roles.has(role)) {
      throw new GatewayError(
        'ACCESS_DENIED',
        `the ${role} role is not allowed to call ${method} ${match.route.path}`,
      );
    }
    const receivedAt = new Date(started);
    const event = proxyEvent(
      {
        method,
        rawPath,
        query,
        rawHeaders: req.rawHeaders,
        body,
        sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
        requestId,
        receivedAt,
        match,
        caller: { role, accessKeyId: caller.accessKeyId },
      },
      settings.api,
    );
    // The function's own timeout, within the integration timeout: past it the caller gets 504, whatever
    // the handler answers later.
    const timeoutMs = Math.min(match.route.timeoutMs ?? settings.timeoutMs, settings.timeoutMs);
    const context = lambdaContext({
      functionName: match.functionName,
      region: settings.region,
      accountId: settings.api.accountId,
      timeoutMs,
      awsRequestId: randomUUID(),
    });
    const result = await withTimeout(match.route.handler(event, context), timeoutMs);
    const response = proxyResponse(result);
    status = response.statusCode;
    writeResponse(res, response.statusCode, response.headers, response.body, requestId);
  } catch (error) {
    if (res.destroyed || req.socket.destroyed) return; // the client went away: nobody to answer
    const answer =
      error instanceof GatewayError
        ? error
        : new GatewayError('INTERNAL', 'internal error', { cause: error });
    status = answer.status;
    if (answer.code === 'INTERNAL' || answer.code === 'INTEGRATION_TIMEOUT') {
      // Logged without the payload: only the error's name and stack.
      const cause = answer.cause ?? answer;
      settings.log(
        `${requestId} handler error: ${cause instanceof Error ? (cause.stack ?? cause.name) : 'non-Error thrown'}`,
      );
    }
    const headers: [string, string][] = [
      ['content-type', 'application/json'],
      ...Object.entries(answer.headers),
    ];
    // A body we stopped reading cannot be drained: close the connection after the answer.
    const unread = !req.complete;
    if (unread) headers.push(['connection', 'close']);
    writeResponse(
      res,
      answer.status,
      headers,
      Buffer.from(JSON.stringify({ code: answer.code, message: answer.message })),
      requestId,
    );
    if (unread) res.once('finish', () => setTimeout(() => req.socket.destroy(), 1000).unref());
  }
  settings.log(
    `${method} ${rawPath.slice(0, 200)} ${status} ${role ?? '-'} ${settings.now() - started}ms ${requestId}`,
  );
}

/** 431 for more than `MAX_HEADER_COUNT` header lines or more than `MAX_HEADER_VALUES_BYTES` of values. */
function checkHeaderLimits(rawHeaders: readonly string[]): void {
  if (rawHeaders.length / 2 > MAX_HEADER_COUNT) {
    throw new GatewayError('HEADERS_TOO_LARGE', `at most ${MAX_HEADER_COUNT} header lines are accepted`);
  }
  let bytes = 0;
  // Node decodes header bytes as Latin-1: one character per byte on the wire.
  for (let i = 1; i < rawHeaders.length; i += 2) bytes += rawHeaders[i]!.length;
  if (bytes > MAX_HEADER_VALUES_BYTES) {
    throw new GatewayError(
      'HEADERS_TOO_LARGE',
      `the header values total ${bytes} bytes; the limit is ${MAX_HEADER_VALUES_BYTES}`,
    );
  }
}

/** What to answer a request Node's parser refused or timed out. */
function clientErrorAnswer(error: NodeJS.ErrnoException): GatewayError {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new GatewayError(
        'HEADERS_TOO_LARGE',
        `the request line and headers exceed ${MAX_HEAD_BYTES} bytes`,
      );
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new GatewayError('REQUEST_TIMEOUT', 'the request was not received in time');
    default:
      return new GatewayError('BAD_REQUEST', 'malformed HTTP request');
  }
}

function tooLarge(limit: number): GatewayError {
  return new GatewayError('PAYLOAD_TOO_LARGE', `the request body exceeds ${limit} bytes`);
}

/** Lower-case header names; repeated headers joined with a comma, as SigV4 canonicalization wants them. */
function signingHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = Object.create(null);
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (values !== undefined) headers[name] = values.join(',');
  }
  return headers;
}

/** Reads the body, rejecting with 413 as soon as it passes `limit` without reading further. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
  });
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new GatewayError('INTEGRATION_TIMEOUT', 'endpoint request timed out')),
      timeoutMs,
    );
  });
  return Promise.race([Promise.resolve().then(() => promise), timeout]).finally(() => clearTimeout(timer));
}

function writeResponse(
  res: ServerResponse,
  statusCode: number,
  headers: readonly (readonly [string, string])[],
  body: Buffer,
  requestId: string,
): void {
  if (res.headersSent || res.destroyed) return;
  res.statusCode = statusCode;
  const grouped = new Map<string, string[]>();
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (lower === 'content-length' || lower === 'transfer-encoding') continue;
    grouped.set(lower, [...(grouped.get(lower) ?? []), value]);
  }
  if (!grouped.has('content-type')) grouped.set('content-type', ['application/json']);
  for (const [name, values] of grouped) res.setHeader(name, values.length === 1 ? values[0]! : values);
  res.setHeader('x-amzn-requestid', requestId);
  res.setHeader('content-length', body.length);
  res.end(body);
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * A small HTTP API for client tests: the real `POST /v1/events` handler (functions/ingest-events.ts)
 * over the in-memory ledger store, behind an independent SigV4 check, with faults that a test queues in
 * front of it (an error status, a reset connection, no answer). It records every request as received.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createHandler } from '../../functions/ingest-events.ts';
import { lambdaContext, postEvents, recordingLogger } from '../unit/functions/http-fixtures.ts';
import { type Harness, harness } from '../unit/ingest/ingest-fixtures.ts';
import { type ReceivedRequest, sigv4Problem } from './sigv4-verify.ts';

export const TEST_CREDENTIALS = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};

export type Fault =
  | { readonly status: number; readonly body?: unknown; readonly headers?: Record<string, string> }
  | 'reset'
  | 'hang';

export interface FakeApi {
  /** Base URL, with `basePath` if one was given. */
  readonly endpoint: string;
  readonly harness: Harness;
  /** Every request, in arrival order. */
  readonly requests: ReceivedRequest[];
  /** Faults answered instead of the next requests, in order. */
  readonly faults: Fault[];
  /** Answer for routes other than POST /v1/events: `(request) => [status, body]`. */
  route?: (request: ReceivedRequest) => [number, unknown] | undefined;
  close(): Promise<void>;
}

/** Starts the API on a free port of 127.0.0.1. */
export async function startFakeApi(options: { basePath?: string } = {}): Promise<FakeApi> {
  const basePath = options.basePath ?? '';
  const h = await harness();
  const handler = createHandler({ ledger: 'test-ledger', ingest: h.deps, logger: recordingLogger().logger });
  const sockets = new Set<Socket>();
  const api: FakeApi = {
    endpoint: '',
    harness: h,
    requests: [],
    faults: [],
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const answer = (
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
  const server: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string') headers[name] = value;
    }
    const request: ReceivedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers,
      body: Buffer.concat(chunks),
    };
    api.requests.push(request);
    const fault = api.faults.shift();
    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault === 'hang') return;
    if (fault) {
      answer(res, fault.status, fault.body ?? {}, fault.headers);
      return;
    }
    const problem = sigv4Problem(request, TEST_CREDENTIALS);
    if (problem) {
      answer(res, 403, { message: problem }, { 'x-amzn-errortype': 'InvalidSignatureException' });
      return;
    }
    const path = request.url.split('?')[0]!;
    if (request.method === 'POST' && path === `${basePath}/v1/events`) {
      const event = postEvents(request.body.toString('utf8'), {
        contentType: headers['content-type'] ?? null,
      });
      const response = await handler(event, lambdaContext());
      answer(res, response.statusCode, response.body, (response.headers ?? {}) as Record<string, string>);
      return;
    }
    const routed = api.route?.(request);
    if (routed) {
      answer(res, routed[0], routed[1]);
      return;
    }
    answer(res, 404, { code: 'NOT_FOUND', message: 'no such route' });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  (api as { endpoint: string }).endpoint = `http://127.0.0.1:${port}${basePath}`;
  return api;
}

/** A valid app event; `n` makes the id unique. Ids look like real ones: they contain `:` and `/`. */
export function appEvent(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: `bastion-7:ssh/login=${n}`,
    eventTime: '2026-11-22T21:00:00Z',
    actor: { id: 'alice@example.com', type: 'user' },
    action: 'ssh.login',
    outcome: { result: 'success' },
    ...extra,
  };
}

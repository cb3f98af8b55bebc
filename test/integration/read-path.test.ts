/**
 * The read path end to end on the real local stack (`local/routes.ts`: the handlers `npm start` serves,
 * routes and roles from the one route table), with a 60 s period:
 * search (filters, pages, cursors, receipts that verify, every bad parameter), one event by an ARN id
 * with `/` and `:`, its proof (409 before sealing, then a proof that verifies offline), audited reads
 * (every read becomes a signed `read` event; a journal that refuses fails the read; a recorder that
 * fails is retried until the read is recorded), and the whole role matrix.
 *
 * Steps run in order and build on each other; the file waits for one period to be sealed (about 80 s).
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderSearch, runSearch } from '../../cli/commands/read-events.ts';
import { main } from '../../cli/main.ts';
import { API_ROUTES, deployedRoutes, routeName } from '../../infra/constructs/api-routes.ts';
import { readQueue } from '../../infra/resources/definitions.ts';
import { ensureReadQueue } from '../../local/bootstrap.ts';
import { loadLocalFunctions } from '../../local/routes.ts';
import { loadPublicKey, TrustedKeySet } from '../../shared/crypto/keys.ts';
import { checkReceipt, checkReceiptAgainstEvent } from '../../shared/ledger/batch-receipts.ts';
import type { Receipt } from '../../shared/ledger/formats.ts';
import { isoSeconds } from '../../shared/ledger/period.ts';
import { resourcePath } from '../../shared/profiles/api.ts';
import { eventPath } from '../../shared/query/event-path.ts';
import { verifyEventProof } from '../../shared/query/event-proof.ts';
import { until } from '../support/dynamodb-local.ts';
import type { TestLocalStack } from '../support/local-stack.ts';
import { startTestLocalStack } from '../support/local-stack.ts';
import { signedFetch } from '../support/signed-fetch.ts';

const PERIOD_MS = 60_000;
const ACCOUNT = '123456789012';
/** Real ARN shapes: ids and resources with `/` and `:`. */
const INSTANCE = `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-0abc1234def567890`;
const BUCKET_OBJECT = `arn:aws:s3:::audit-bucket/logs/2026/11/22/app.log`;
const ROLE_SESSION = `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/alice@example.com`;

let stack: TestLocalStack;
let keys: TrustedKeySet;
const posted: { id: string; actor: string; resource: string; outcome: string }[] = [];
let eventPeriodStart = 0;
/** While true, the read recorder function fails every delivery (as a crashing Lambda would). */
let recorderDown = false;

type Role = 'writer' | 'reader' | 'auditor';

async function get(
  role: Role,
  path: string,
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await signedFetch(stack.info.endpoint, stack.info.roles[role], { path });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
    headers: response.headers,
  };
}

function search(parameters: Record<string, string>): string {
  return `/v1/events?${new URLSearchParams(parameters).toString()}`;
}

interface Hit {
  id: string;
  receivedAt: string;
  eventJson: string;
  receipt?: Receipt;
}

async function searchAll(
  parameters: Record<string, string>,
): Promise<{ ids: string[]; pages: number; hits: Hit[] }> {
  const hits: Hit[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const { status, body } = await get('reader', search({ ...parameters, ...(cursor ? { cursor } : {}) }));
    expect(status, JSON.stringify(body)).toBe(200);
    hits.push(...(body['events'] as Hit[]));
    cursor = body['nextCursor'] as string | undefined;
    pages++;
  } while (cursor !== undefined && pages < 100);
  return { ids: hits.map((h) => h.id), pages, hits };
}

beforeAll(async () => {
  process.env['POWERTOOLS_LOG_LEVEL'] ??= 'ERROR';
  stack = await startTestLocalStack({
    periodSeconds: 60,
    heartbeatOffsetSeconds: 16,
    functions: async (context) => {
      const functions = await loadLocalFunctions(context);
      const recorder = functions.readRecorder!;
      return {
        ...functions,
        readRecorder: async (event, lambdaContext) => {
          if (recorderDown) throw new Error('the read recorder is down');
          return recorder(event, lambdaContext);
        },
      };
    },
  });
  keys = new TrustedKeySet([loadPublicKey(stack.info.publicKeyPem)]);
  // Stay clear of a period boundary, so that every event lands in one period.
  const intoPeriod = Date.now() % PERIOD_MS;
  if (intoPeriod > 45_000) await new Promise((r) => setTimeout(r, PERIOD_MS - intoPeriod + 500));
  const events = Array.from({ length: 24 }, (_, n) => {
    const id = n % 2 === 0 ? `${INSTANCE}/login:${n}` : `ct-like/${BUCKET_OBJECT}:${n}`;
    const actor = n % 3 === 0 ? ROLE_SESSION : 'bob@example.com';
    const resource = n % 2 === 0 ? INSTANCE : BUCKET_OBJECT;
    const outcome = n % 4 === 0 ? 'failure' : 'success';
    posted.push({ id, actor, resource, outcome });
    return {
      id,
      eventTime: new Date().toISOString(),
      actor: { id: actor, type: actor === ROLE_SESSION ? 'role' : 'user' },
      action: n % 2 === 0 ? 'ec2:StartInstances' : 's3:GetObject',
      resource: { id: resource, type: n % 2 === 0 ? 'AWS::EC2::Instance' : 'AWS::S3::Object' },
      outcome: { result: outcome },
    };
  });
  for (const batch of [events.slice(0, 10), events.slice(10)]) {
    const response = await signedFetch(stack.info.endpoint, stack.info.roles.writer, {
      method: 'POST',
      path: '/v1/events',
      body: JSON.stringify({ events: batch }),
    });
    expect(response.status).toBe(201);
  }
  eventPeriodStart = Math.floor(Date.now() / PERIOD_MS) * PERIOD_MS;
}, 180_000);

afterAll(async () => {
  await stack?.cleanup();
});

describe('GET /v1/events (reader)', () => {
  it('finds the events of an actor, newest first, across pages, with the stored canonical JSON', async () => {
    const { ids, pages, hits } = await searchAll({ actor: ROLE_SESSION, limit: '3' });
    const want = posted.filter((p) => p.actor === ROLE_SESSION).map((p) => p.id);
    expect([...ids].sort()).toEqual([...want].sort());
    expect(pages).toBeGreaterThan(1);
    const keysInOrder = hits.map((h) => `${h.receivedAt}#${h.id}`);
    expect(keysInOrder).toEqual([...keysInOrder].sort().reverse());
    for (const hit of hits) expect(JSON.parse(hit.eventJson).id).toBe(hit.id);
  });

  it('finds the events on a resource ARN with "/", combined with an outcome', async () => {
    const { ids } = await searchAll({ resource: BUCKET_OBJECT, outcome: 'success', limit: '4' });
    const want = posted
      .filter((p) => p.resource === BUCKET_OBJECT && p.outcome === 'success')
      .map((p) => p.id);
    expect([...ids].sort()).toEqual([...want].sort());
  });

  it('returns receipts that verify offline and commit to the returned bytes', async () => {
    const { hits } = await searchAll({ channel: 'api', receipts: 'true', limit: '50' });
    expect(hits.length).toBeGreaterThanOrEqual(posted.length);
    for (const hit of hits.filter((h) => posted.some((p) => p.id === h.id))) {
      expect(checkReceipt(hit.receipt, keys)).toMatchObject({ ok: true });
      expect(checkReceiptAgainstEvent(hit.receipt!, Buffer.from(hit.eventJson, 'utf8'))).toEqual({
        ok: true,
      });
    }
  });

  describe('when a cursor is altered or belongs to another query', () => {
    it('answers 400 INVALID_CURSOR or CURSOR_MISMATCH', async () => {
      const first = await get('reader', search({ actor: ROLE_SESSION, limit: '2' }));
      const cursor = first.body['nextCursor'] as string;
      const altered = `${cursor.slice(0, 5)}${cursor[5] === 'A' ? 'B' : 'A'}${cursor.slice(6)}`;
      expect((await get('reader', search({ actor: ROLE_SESSION, cursor: altered }))).body).toMatchObject({
        code: 'INVALID_CURSOR',
      });
      const other = await get('reader', search({ actor: 'bob@example.com', cursor }));
      expect(other.status).toBe(400);
      expect(other.body).toMatchObject({ code: 'CURSOR_MISMATCH' });
    });
  });

  const bad: [string, string][] = [
    ['an unknown filter', 'user=alice'],
    ['a repeated filter', 'actor=a&actor=b'],
    ['a bad time', 'from=yesterday'],
    ['a time without a zone', 'from=2026-11-22T21:00:00'],
    ['a reversed range', 'from=2026-11-22T21:00:00Z&to=2026-11-22T20:00:00Z'],
    ['a limit of 0', 'limit=0'],
    ['a limit over 500', 'limit=501'],
    ['an oversized actor', `actor=${'a'.repeat(513)}`],
    ['an oversized resource', `resource=${'r'.repeat(2049)}`],
    ['an unknown outcome', 'outcome=maybe'],
    ['an unknown channel', 'channel=email'],
    ['a cursor that is not one', 'cursor=hello'],
  ];
  describe.each(bad)('when the query has %s', (_name, query) => {
    it('answers 400 with a code and a message', async () => {
      const { status, body } = await get('reader', `/v1/events?${query}`);
      expect(status).toBe(400);
      expect(body).toEqual({
        code: expect.stringMatching(/^INVALID_(QUERY|CURSOR)$/),
        message: expect.any(String),
      });
    });
  });
});

/** The resource the role matrix writes and reads a profile of. */
const MATRIX_RESOURCE = 'arn:aws:s3:::auditseal-matrix-bucket';

describe('GET /v1/events/{id} (reader) and its proof (auditor) before sealing', () => {
  it('returns an event whose id is an ARN with "/" and ":", with its receipt and period', async () => {
    const id = posted[0]!.id;
    const { status, body } = await get('reader', eventPath(id));
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ id, sealed: false, digest: null });
    expect(checkReceipt(body['receipt'], keys)).toMatchObject({ ok: true });
    expect(
      checkReceiptAgainstEvent(body['receipt'] as Receipt, Buffer.from(body['eventJson'] as string)),
    ).toEqual({
      ok: true,
    });
  });

  it('answers 404 for an unknown id and 400 for one that is not an id', async () => {
    expect((await get('reader', eventPath('no-such-event'))).status).toBe(404);
    expect((await get('reader', '/v1/events/%2525zz')).body).toMatchObject({ code: 'INVALID_PATH' });
  });

  it('answers 409 NOT_SEALED with retryAfter while the period is open', async () => {
    const { status, body, headers } = await get('auditor', eventPath(posted[1]!.id, '/proof'));
    expect(status).toBe(409);
    expect(body).toMatchObject({ code: 'NOT_SEALED', retryAfter: expect.any(Number) });
    expect(headers.get('retry-after')).toBe(String(body['retryAfter']));
  });
});

describe('after the period is sealed', () => {
  beforeAll(async () => {
    const sealed = await until(async () => {
      const { body } = await get('reader', eventPath(posted[0]!.id));
      return body['sealed'] === true;
    }, 150_000);
    expect(sealed, `period ${isoSeconds(eventPeriodStart)} sealed`).toBe(true);
  }, 160_000);

  it('GET /v1/events/{id} names the digest', async () => {
    const { body } = await get('reader', eventPath(posted[0]!.id));
    expect(body['digest']).toMatchObject({
      id: expect.stringMatching(/^\d{8}T\d{6}Z-60s$/),
      sequence: expect.any(Number),
    });
  });

  it('GET /v1/events/{id}/proof returns a proof that verifies offline, for every posted event', async () => {
    for (const { id } of posted) {
      const { status, body } = await get('auditor', eventPath(id, '/proof'));
      expect(status, id).toBe(200);
      expect(verifyEventProof(body, keys)).toMatchObject({ ok: true });
      expect(JSON.parse(body['eventJson'] as string).id).toBe(id);
    }
  });
});

describe('The CLI on the local stack: search, event, proof, verify-proof', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'auditseal-read-cli-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const local = () => ['--local-file', stack.localFile];

  it('auditseal search --all --verify checks every result against the trusted key (exit 0)', async () => {
    const pem = join(scratch, 'key.pem');
    writeFileSync(pem, stack.info.publicKeyPem);
    const outcome = await runSearch({
      filters: { resource: INSTANCE, limit: '5' },
      all: true,
      verifyKeys: [pem],
      localFile: stack.localFile,
    });
    expect(outcome.events.map((e) => e.id).sort()).toEqual(
      posted
        .filter((p) => p.resource === INSTANCE)
        .map((p) => p.id)
        .sort(),
    );
    expect(outcome.checks?.every((c) => c.ok)).toBe(true);
    expect(
      await main([
        'node',
        'auditseal',
        'search',
        '--resource',
        INSTANCE,
        '--all',
        '--verify',
        '--key',
        pem,
        ...local(),
      ]),
    ).toBe(0);
  });

  it('auditseal search --verify catches a read path that alters a result', async () => {
    // Prepare: a compromised read path between the CLI and the API changes one returned event.
    const pem = join(scratch, 'key.pem');
    writeFileSync(pem, stack.info.publicKeyPem);
    const api = new URL(stack.info.endpoint);
    const proxy = createServer((req, res) => {
      const upstream = request(
        { host: api.hostname, port: api.port, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (c: Buffer) => chunks.push(c));
          answer.on('end', () => {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            if (Array.isArray(body.events) && body.events[0]) {
              body.events[0].eventJson = body.events[0].eventJson.replace(
                'ec2:StartInstances',
                'ec2:StopInstances',
              );
            }
            res.writeHead(answer.statusCode ?? 500, { 'content-type': 'application/json' });
            res.end(JSON.stringify(body));
          });
        },
      );
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      // Act
      const outcome = await runSearch(
        { filters: { resource: INSTANCE }, all: false, verifyKeys: [pem] },
        { endpoint, region: stack.info.region, credentials: stack.info.roles.reader },
      );
      // Assess: the altered result is named, the others verify.
      expect(outcome.checks?.[0]).toMatchObject({ ok: false, code: 'RECEIPT_EVENT_MISMATCH' });
      expect(outcome.checks?.slice(1).every((c) => c.ok)).toBe(true);
      expect(renderSearch(outcome)).toContain('INVALID');
    } finally {
      proxy.close();
    }
  });

  it('auditseal event ID prints the event of an ARN id', async () => {
    expect(await main(['node', 'auditseal', 'event', posted[0]!.id, '--json', ...local()])).toBe(0);
    expect(await main(['node', 'auditseal', 'event', 'no-such-event', ...local()])).toBe(2);
  });

  it('auditseal proof ID --out FILE, then verify-proof FILE --key PEM: 0 valid, 1 tampered, 2 usage', async () => {
    const file = join(scratch, 'proof.json');
    const pem = join(scratch, 'key.pem');
    writeFileSync(pem, stack.info.publicKeyPem);
    expect(await main(['node', 'auditseal', 'proof', posted[3]!.id, '--out', file, ...local()])).toBe(0);
    expect(await main(['node', 'auditseal', 'verify-proof', file, '--key', pem])).toBe(0);
    const proof = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...proof, eventJson: proof.eventJson.replace('"v":1', '"v":2') }));
    expect(await main(['node', 'auditseal', 'verify-proof', file, '--key', pem])).toBe(1);
    expect(await main(['node', 'auditseal', 'verify-proof', file])).toBe(2);
    expect(
      await main(['node', 'auditseal', 'verify-proof', join(scratch, 'missing.json'), '--key', pem]),
    ).toBe(2);
  });
});

describe('Audited reads (G7)', () => {
  it('records every successful read as a signed read event: who, which route, which filters or id, how many', async () => {
    // Prepare: one read of each kind, with known request ids (the gateway's x-amzn-requestid).
    const searchRead = await signedFetch(stack.info.endpoint, stack.info.roles.reader, {
      path: search({ actor: ROLE_SESSION, limit: '5' }),
    });
    const eventRead = await signedFetch(stack.info.endpoint, stack.info.roles.reader, {
      path: eventPath(posted[2]!.id),
    });
    const keysRead = await signedFetch(stack.info.endpoint, stack.info.roles.auditor, { path: '/v1/keys' });
    const requestIds = [searchRead, eventRead, keysRead].map((r) => r.headers.get('x-amzn-requestid')!);
    // Act: the recorder takes them off the queue and ingests them.
    let hits: Hit[] = [];
    const recorded = await until(async () => {
      ({ hits } = await searchAll({ channel: 'read', receipts: 'true', limit: '200' }));
      return requestIds.every((rid) => hits.some((h) => h.id === `read:${rid}`));
    }, 30_000);
    // Assess
    expect(recorded).toBe(true);
    const byId = new Map(hits.map((h) => [h.id, JSON.parse(h.eventJson)]));
    expect(byId.get(`read:${requestIds[0]}`)).toMatchObject({
      channel: 'read',
      action: 'auditseal:SearchEvents',
      actor: { id: expect.stringContaining('auditseal-reader') },
      details: { route: 'GET /v1/events', parameters: { actor: ROLE_SESSION, limit: '5' }, resultCount: 5 },
    });
    expect(byId.get(`read:${requestIds[1]}`)).toMatchObject({
      action: 'auditseal:GetEvent',
      resource: { id: posted[2]!.id, type: 'auditseal::Event' },
      details: { route: 'GET /v1/events/{id}', resultCount: 1 },
    });
    expect(byId.get(`read:${requestIds[2]}`)).toMatchObject({
      action: 'auditseal:GetKeys',
      actor: { id: expect.stringContaining('auditseal-auditor') },
    });
    for (const hit of hits) expect(checkReceipt(hit.receipt, keys)).toMatchObject({ ok: true });
  });

  it('records a read whose recording failed at first: the queue redelivers it until it is recorded', async () => {
    // Prepare: the recorder fails every delivery for a while.
    recorderDown = true;
    let requestId: string;
    try {
      const read = await signedFetch(stack.info.endpoint, stack.info.roles.auditor, { path: '/v1/alarms' });
      expect(read.status).toBe(200);
      requestId = read.headers.get('x-amzn-requestid')!;
      await new Promise((r) => setTimeout(r, 6_000));
      expect((await get('reader', eventPath(`read:${requestId}`))).status).toBe(404);
    } finally {
      // Act
      recorderDown = false;
    }
    // Assess: the message came back after the visibility timeout and was recorded.
    const recorded = await until(
      async () => (await get('reader', eventPath(`read:${requestId}`))).status === 200,
      30_000,
    );
    expect(recorded).toBe(true);
  }, 60_000);

  it('fails the read, with no data, when the journal cannot take the record', async () => {
    const sqs = new SQSClient({
      region: stack.info.region,
      endpoint: stack.info.s3Endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      await sqs.send(new DeleteQueueCommand({ QueueUrl: stack.context.readQueueUrl }));
      const { status, body } = await get('reader', search({ actor: ROLE_SESSION }));
      expect(status).toBe(503);
      expect(body).toEqual({ code: 'READ_NOT_RECORDED', message: expect.any(String) });
    } finally {
      await ensureReadQueue(sqs, readQueue('local'));
      await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: stack.context.readQueueUrl, AttributeNames: ['QueueArn'] }),
      );
      sqs.destroy();
    }
  });
});

describe('The role matrix: every route × writer, reader, auditor, anonymous, forged', () => {
  /** A request that succeeds for an allowed caller, per route. */
  function sample(route: string): { method: string; path: string; body?: string } {
    const requests: Record<string, () => { method: string; path: string; body?: string }> = {
      'POST /v1/events': () => ({
        method: 'POST',
        path: '/v1/events',
        body: JSON.stringify({
          events: [
            {
              id: `matrix-${Math.random().toString(36).slice(2)}`,
              eventTime: new Date().toISOString(),
              actor: { id: 'matrix', type: 'service' },
              action: 'matrix.check',
              outcome: { result: 'success' },
            },
          ],
        }),
      }),
      'GET /v1/events': () => ({ method: 'GET', path: search({ actor: ROLE_SESSION, limit: '1' }) }),
      'GET /v1/events/{id}': () => ({ method: 'GET', path: eventPath(posted[0]!.id) }),
      'GET /v1/events/{id}/proof': () => ({ method: 'GET', path: eventPath(posted[0]!.id, '/proof') }),
      'GET /v1/digests': () => ({
        method: 'GET',
        path: `/v1/digests?from=${new Date(eventPeriodStart).toISOString()}`,
      }),
      'GET /v1/digests/{id}': () => ({
        method: 'GET',
        path: `/v1/digests/${new Date(eventPeriodStart).toISOString().replace(/[-:]|\.\d{3}/g, '')}-60s`,
      }),
      'GET /v1/head': () => ({ method: 'GET', path: '/v1/head' }),
      'GET /v1/keys': () => ({ method: 'GET', path: '/v1/keys' }),
      'GET /v1/alarms': () => ({ method: 'GET', path: '/v1/alarms' }),
      'GET /v1/alerts': () => ({ method: 'GET', path: '/v1/alerts?limit=5' }),
      // The writer's PUT runs first (route table order), so the reader finds a version.
      'PUT /v1/resources/{id}/profile': () => ({
        method: 'PUT',
        path: resourcePath(MATRIX_RESOURCE, '/profile'),
        body: JSON.stringify({
          resourceId: MATRIX_RESOURCE,
          resourceType: 'AWS::S3::Bucket',
          configuration: { versioning: 'Enabled' },
          lastModified: '2026-11-22T21:00:00Z',
          source: 'api',
        }),
      }),
      'GET /v1/resources/{id}/profile': () => ({
        method: 'GET',
        path: resourcePath(MATRIX_RESOURCE, '/profile'),
      }),
      'GET /v1/resources/{id}/timeline': () => ({
        method: 'GET',
        path: resourcePath(MATRIX_RESOURCE, '/timeline'),
      }),
    };
    const build = requests[route];
    if (build === undefined) throw new Error(`the matrix has no sample request for ${route}: add one`);
    return build();
  }

  const routes = deployedRoutes(API_ROUTES);
  const callers = ['writer', 'reader', 'auditor', 'anonymous', 'forged'] as const;
  const cells = routes.flatMap((route) =>
    callers.map((caller) => [routeName(route), caller, route.roles] as const),
  );

  it.each(cells)('%s as %s', async (name, caller, allowed) => {
    const request = sample(name);
    let response: Response;
    if (caller === 'anonymous') {
      response = await fetch(new URL(request.path, stack.info.endpoint), {
        method: request.method,
        ...(request.body ? { body: request.body, headers: { 'content-type': 'application/json' } } : {}),
      });
    } else if (caller === 'forged') {
      const stolenId = stack.info.roles.auditor.accessKeyId;
      response = await signedFetch(
        stack.info.endpoint,
        { accessKeyId: stolenId, secretAccessKey: 'x'.repeat(40) },
        { method: request.method, path: request.path, ...(request.body ? { body: request.body } : {}) },
      );
    } else {
      response = await signedFetch(stack.info.endpoint, stack.info.roles[caller], {
        method: request.method,
        path: request.path,
        ...(request.body ? { body: request.body } : {}),
      });
    }
    const body = (await response.json()) as { code?: string };
    if (caller !== 'anonymous' && caller !== 'forged' && (allowed as readonly string[]).includes(caller)) {
      expect(response.status, JSON.stringify(body)).toBeGreaterThanOrEqual(200);
      expect(response.status, JSON.stringify(body)).toBeLessThan(300);
    } else {
      expect(response.status).toBe(403);
      const expected =
        caller === 'anonymous'
          ? 'MISSING_AUTHENTICATION'
          : caller === 'forged'
            ? 'INVALID_SIGNATURE'
            : 'ACCESS_DENIED';
      expect(body.code).toBe(expected);
    }
  });
});

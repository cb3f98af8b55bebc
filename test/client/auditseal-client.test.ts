/**
 * `AuditsealClient` against a real HTTP server that runs the real `POST /v1/events` handler over the
 * in-memory ledger, behind an independent SigV4 check (fake-api.ts). Faults are queued in front of the
 * handler to exercise retries; waits are recorded instead of slept.
 */
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AuditsealApiError,
  AuditsealClient,
  type AuditsealClientOptions,
  AuditsealConfigError,
  AuditsealInputError,
  AuditsealNetworkError,
  AuditsealPostError,
  AuditsealReceiptError,
  AuditsealResponseError,
  pathOf,
} from '../../client/index.ts';
import { generateKeyPairPem } from '../../shared/crypto/keys.ts';
import { appEvent, type FakeApi, startFakeApi, TEST_CREDENTIALS } from './fake-api.ts';

let api: FakeApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

/** A client of `api` that records its waits instead of sleeping. */
function clientOf(target: FakeApi, options: Partial<AuditsealClientOptions> = {}) {
  const waits: number[] = [];
  const client = new AuditsealClient({
    endpoint: target.endpoint,
    region: 'eu-west-1',
    credentials: TEST_CREDENTIALS,
    sleep: async (ms) => void waits.push(ms),
    random: () => 0.5,
    ...options,
  });
  return { client, waits };
}

function sentEvents(target: FakeApi): unknown[][] {
  return target.requests.map((r) => (JSON.parse(r.body.toString('utf8')) as { events: unknown[] }).events);
}

async function publicKeyPem(target: FakeApi): Promise<string> {
  return target.harness.signer.publicKeyPem();
}

describe('Class: AuditsealClient', () => {
  describe('Method: postEvents', () => {
    it('posts a batch and returns one receipt per event, verifiable against the pinned key', async () => {
      // Prepare
      api = await startFakeApi();
      const { client } = clientOf(api, { trustedKeys: await publicKeyPem(api) });
      const events = [appEvent(1), appEvent(2), appEvent(3)];

      // Act
      const result = await client.postEvents(events);

      // Assess
      expect(result.batches).toBe(1);
      expect(result.stored).toEqual(events.map((e) => e['id']));
      expect(result.duplicates).toEqual([]);
      expect(result.receipts.map((r) => r.eventId)).toEqual(events.map((e) => e['id']));
      expect(client.verifyReceipts(result.receipts).every((c) => c.ok)).toBe(true);
      expect(api.requests[0]!.headers['content-type']).toBe('application/json');
    });

    it('splits at 500 events per request and keeps the input order', async () => {
      // Prepare
      api = await startFakeApi();
      const { client } = clientOf(api);
      const events = Array.from({ length: 1201 }, (_, i) => appEvent(i));
      const progress: number[] = [];

      // Act
      const result = await client.postEvents(events, { onBatch: (p) => void progress.push(p.done) });

      // Assess
      expect(sentEvents(api).map((batch) => batch.length)).toEqual([500, 500, 201]);
      expect(sentEvents(api).flat()).toEqual(events);
      expect(result.batches).toBe(3);
      expect(progress).toEqual([500, 1000, 1201]);
      expect(result.receipts.map((r) => r.eventId)).toEqual(events.map((e) => e['id']));
    });

    it('splits by body size and never sends a body over the limit', async () => {
      // Prepare
      api = await startFakeApi();
      const { client } = clientOf(api);
      const events = Array.from({ length: 12 }, (_, i) =>
        appEvent(i, { details: { note: 'x'.repeat(3000) } }),
      );

      // Act
      await client.postEvents(events, { limits: { maxBytes: 10_000 } });

      // Assess
      expect(api.requests.length).toBeGreaterThan(3);
      for (const r of api.requests) expect(r.body.length).toBeLessThanOrEqual(10_000);
      expect(sentEvents(api).flat()).toEqual(events);
    });

    it('signs with the stage of the endpoint in the path', async () => {
      // Prepare
      api = await startFakeApi({ basePath: '/prod' });
      const { client } = clientOf(api);

      // Act
      const result = await client.postEvents([appEvent(1)]);

      // Assess
      expect(api.requests[0]!.url).toBe('/prod/v1/events');
      expect(result.stored).toHaveLength(1);
    });

    it('returns the original receipts when the same events are posted again', async () => {
      // Prepare
      api = await startFakeApi();
      const { client } = clientOf(api);
      const events = [appEvent(1), appEvent(2)];
      const first = await client.postEvents(events);

      // Act
      const again = await client.postEvents(events);

      // Assess
      expect(again.stored).toEqual([]);
      expect(again.duplicates).toEqual(events.map((e) => e['id']));
      expect(again.receipts).toEqual(first.receipts);
    });

    describe('when the API throttles, fails or drops the connection', () => {
      it('retries with the same body (same event ids) and returns the receipts', async () => {
        // Prepare
        api = await startFakeApi();
        const { client, waits } = clientOf(api);
        api.faults.push(
          { status: 429, body: { message: 'Too Many Requests' } },
          {
            status: 503,
            body: { code: 'PERIOD_CLOSING', message: 'retry' },
            headers: { 'retry-after': '1' },
          },
          'reset',
          { status: 500, body: { code: 'INTERNAL', message: 'internal error' } },
        );
        const events = [appEvent(1), appEvent(2)];

        // Act
        const result = await client.postEvents(events);

        // Assess
        expect(api.requests).toHaveLength(5);
        const bodies = new Set(api.requests.map((r) => r.body.toString('utf8')));
        expect(bodies.size).toBe(1);
        expect(new Set(api.requests.map((r) => r.headers['authorization'])).size).toBeGreaterThanOrEqual(1);
        expect(result.stored).toEqual(events.map((e) => e['id']));
        expect(waits).toHaveLength(4);
        // Full jitter at random 0.5: half of 200 · 2^(n-1); the 503's Retry-After: 1 raises the second.
        expect(waits).toEqual([100, 1000, 400, 800]);
      });

      it('gives up after maxAttempts with the last error, naming the stored receipts', async () => {
        // Prepare
        api = await startFakeApi();
        const { client, waits } = clientOf(api, { retry: { maxAttempts: 3 } });
        await client.postEvents([appEvent(0)]);
        api.faults.push(
          ...Array.from({ length: 3 }, () => ({
            status: 503,
            body: { code: 'STORE_UNAVAILABLE', message: 'busy' },
          })),
        );

        // Act
        const error = await client.postEvents([appEvent(1)]).catch((e: unknown) => e);

        // Assess
        expect(error).toBeInstanceOf(AuditsealPostError);
        const post = error as AuditsealPostError;
        expect(post.cause).toBeInstanceOf(AuditsealApiError);
        expect(post.cause).toMatchObject({ status: 503, code: 'STORE_UNAVAILABLE', apiMessage: 'busy' });
        expect(post.receipts).toEqual([]);
        expect(post.pending).toBe(1);
        expect(waits).toHaveLength(2);
      });
    });

    describe('when a later batch is refused', () => {
      it('throws AuditsealPostError with the receipts of the batches stored before it', async () => {
        // Prepare
        api = await startFakeApi();
        const { client } = clientOf(api);
        const events = Array.from({ length: 3 }, (_, i) => appEvent(i));
        let calls = 0;
        const faults = api.faults;

        // Act
        const error = await client
          .postEvents(events, {
            limits: { maxEvents: 2 },
            onBatch: () => {
              calls++;
              faults.push({
                status: 409,
                body: { code: 'ID_CONFLICT', message: 'id reused', conflicts: [] },
              });
            },
          })
          .catch((e: unknown) => e);

        // Assess
        expect(calls).toBe(1);
        expect(error).toBeInstanceOf(AuditsealPostError);
        const post = error as AuditsealPostError;
        expect(post.receipts.map((r) => r.eventId)).toEqual([events[0]!['id'], events[1]!['id']]);
        expect(post.pending).toBe(1);
        expect(post.cause).toMatchObject({ status: 409, code: 'ID_CONFLICT', body: { conflicts: [] } });
        expect(api.requests).toHaveLength(2);
      });
    });

    describe('when the API refuses the request for good', () => {
      it('does not retry a 4xx, and keeps the API’s code, message and extra members', async () => {
        // Prepare
        api = await startFakeApi();
        const { client, waits } = clientOf(api);
        api.faults.push({
          status: 400,
          body: { code: 'INVALID_EVENTS', message: '1 event is invalid', errors: [{ index: 0 }] },
        });

        // Act
        const error = (await client.postEvents([appEvent(1)]).catch((e: unknown) => e)) as AuditsealPostError;

        // Assess
        expect(api.requests).toHaveLength(1);
        expect(waits).toEqual([]);
        expect(error.cause).toBeInstanceOf(AuditsealApiError);
        const cause = error.cause as AuditsealApiError;
        expect(cause.code).toBe('INVALID_EVENTS');
        expect(cause.apiMessage).toBe('1 event is invalid');
        expect(cause.body['errors']).toEqual([{ index: 0 }]);
        expect(cause.retryable).toBe(false);
        expect(cause.request).toBe(`POST ${api.endpoint}/v1/events`);
      });

      it('names API Gateway’s own errors by their x-amzn-ErrorType', async () => {
        // Prepare
        api = await startFakeApi();
        const { client } = clientOf(api, {
          credentials: { ...TEST_CREDENTIALS, secretAccessKey: 'not-the-secret' },
        });

        // Act
        const error = (await client.postEvents([appEvent(1)]).catch((e: unknown) => e)) as AuditsealPostError;

        // Assess
        expect(error.cause).toMatchObject({
          status: 403,
          code: 'InvalidSignatureException',
          apiMessage: 'signature does not match',
        });
      });
    });

    describe('when the answer does not match the request', () => {
      it('throws AuditsealResponseError for receipts of other events', async () => {
        // Prepare
        api = await startFakeApi();
        const { client } = clientOf(api);
        api.faults.push({
          status: 201,
          body: { stored: ['x'], duplicates: [], receipts: [{ eventId: 'someone-else' }] },
        });

        // Act
        const error = (await client.postEvents([appEvent(1)]).catch((e: unknown) => e)) as AuditsealPostError;

        // Assess
        expect(error.cause).toBeInstanceOf(AuditsealResponseError);
        expect(error.cause.message).toContain('another event');
      });

      it('throws AuditsealResponseError for a missing receipt', async () => {
        // Prepare
        api = await startFakeApi();
        const { client } = clientOf(api);
        api.faults.push({ status: 201, body: { stored: [], duplicates: [], receipts: [] } });

        // Act
        const error = (await client.postEvents([appEvent(1)]).catch((e: unknown) => e)) as AuditsealPostError;

        // Assess
        expect(error.cause).toBeInstanceOf(AuditsealResponseError);
        expect(error.cause.message).toContain('0 receipts for 1 events');
      });

      it('refuses an answer larger than maxResponseBytes', async () => {
        // Prepare
        api = await startFakeApi();
        const { client } = clientOf(api, { maxResponseBytes: 100 });

        // Act
        const error = (await client.postEvents([appEvent(1)]).catch((e: unknown) => e)) as AuditsealPostError;

        // Assess
        expect(error.cause).toBeInstanceOf(AuditsealResponseError);
        expect(error.cause.message).toContain('over the limit');
      });
    });

    describe('when the input is not sendable', () => {
      it('lists every bad item and sends nothing', async () => {
        // Prepare
        api = await startFakeApi();
        const { client } = clientOf(api);
        const events = [
          appEvent(0),
          { ...appEvent(1), actor: { id: 'bob', type: 'robot' } },
          appEvent(0),
          { ...appEvent(3), id: 'ct:0f1e2d3c' },
          JSON.parse('{"id":"x-4","__proto__":{"polluted":true}}'),
          appEvent(5, { details: Array.from({ length: 14 }, () => 'x'.repeat(30_000)) }),
        ];

        // Act
        const error = (await client.postEvents(events).catch((e: unknown) => e)) as AuditsealInputError;

        // Assess
        expect(error).toBeInstanceOf(AuditsealInputError);
        expect(error.problems.map((p) => [p.index, p.code])).toEqual([
          [1, 'SCHEMA_VIOLATION'],
          [2, 'DUPLICATE_ID'],
          [3, 'RESERVED_ID'],
          [4, 'FORBIDDEN_KEY'],
          [5, 'TOO_LARGE'],
        ]);
        expect(error.message).toContain('nothing was sent');
        expect(api.requests).toHaveLength(0);
      });

      it('refuses an empty list', async () => {
        // Prepare
        api = await startFakeApi();
        const { client } = clientOf(api);

        // Act
        const error = await client.postEvents([]).catch((e: unknown) => e);

        // Assess
        expect(error).toMatchObject({ kind: 'input', code: 'EMPTY_INPUT' });
        expect(api.requests).toHaveLength(0);
      });
    });

    describe('when receipts must verify against pinned keys', () => {
      it('throws AuditsealReceiptError for receipts signed by a key that is not pinned', async () => {
        // Prepare
        api = await startFakeApi();
        const { client } = clientOf(api, { trustedKeys: generateKeyPairPem().publicKeyPem });

        // Act
        const error = (await client
          .postEvents([appEvent(1)])
          .catch((e: unknown) => e)) as AuditsealReceiptError;

        // Assess
        expect(error).toBeInstanceOf(AuditsealReceiptError);
        expect(error.receipts).toHaveLength(1);
        expect(error.checks[0]).toMatchObject({ ok: false, code: 'RECEIPT_KEY_UNKNOWN' });
      });

      it('needs trusted keys to verify', async () => {
        // Prepare
        api = await startFakeApi();
        const { client } = clientOf(api);

        // Act
        const error = await client
          .postEvents([appEvent(1)], { verifyReceipts: true })
          .catch((e: unknown) => e);

        // Assess
        expect(error).toBeInstanceOf(AuditsealConfigError);
        expect(api.requests).toHaveLength(0);
      });
    });
  });

  describe('Method: verifyReceipts', () => {
    it('finds a receipt whose leaf was changed', async () => {
      // Prepare
      api = await startFakeApi();
      const { client } = clientOf(api, { trustedKeys: [await publicKeyPem(api)] });
      const { receipts } = await client.postEvents([appEvent(1), appEvent(2)]);
      const changed = { ...receipts[1]!, leafHash: receipts[0]!.leafHash };

      // Act
      const checks = client.verifyReceipts([receipts[0]!, changed]);

      // Assess
      expect(checks[0]!.ok).toBe(true);
      expect(checks[1]).toMatchObject({ ok: false, code: 'RECEIPT_PROOF_INVALID' });
    });
  });

  describe('Method: request', () => {
    it('sends a query encoded exactly as it is signed, and parses the answer', async () => {
      // Prepare
      api = await startFakeApi();
      api.route = (r) => (r.url.startsWith('/v1/things/') ? [200, { ok: true }] : undefined);
      const { client } = clientOf(api);
      const id = 'arn:aws:ec2:us-east-1:123456789012:instance/i-0abc';

      // Act
      const answer = await client.request({
        path: pathOf('v1', 'things', id),
        query: { at: '2026-11-22T21:00:00+01:00', tag: ["it's (a) *test*", 'b c'], empty: '' },
      });

      // Assess
      expect(answer).toEqual({ ok: true });
      expect(api.requests[0]!.url).toBe(
        '/v1/things/arn%3Aaws%3Aec2%3Aus-east-1%3A123456789012%3Ainstance%2Fi-0abc' +
          '?at=2026-11-22T21%3A00%3A00%2B01%3A00&tag=it%27s%20%28a%29%20%2Atest%2A&tag=b%20c&empty=',
      );
    });
  });

  describe('Method: listDigests', () => {
    it('sends the range and checks the answer’s shape', async () => {
      // Prepare
      api = await startFakeApi();
      api.route = (r) => (r.url.startsWith('/v1/digests?') ? [200, { digests: [{ id: 42 }] }] : undefined);
      const { client } = clientOf(api);

      // Act
      const error = await client
        .listDigests({ from: new Date(Date.UTC(2026, 0, 1)), to: '2026-01-02T00:00:00Z', limit: 5 })
        .catch((e: unknown) => e);

      // Assess
      expect(api.requests[0]!.url).toBe(
        '/v1/digests?from=2026-01-01T00%3A00%3A00.000Z&to=2026-01-02T00%3A00%3A00Z&limit=5',
      );
      expect(error).toBeInstanceOf(Error);
    });
  });

  describe('when the endpoint cannot be reached', () => {
    it('retries, then names the endpoint and suggests npm start', async () => {
      // Prepare: a port that was free a moment ago
      const probe = createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
      const port = (probe.address() as { port: number }).port;
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      const waits: number[] = [];
      const client = new AuditsealClient({
        endpoint: `http://127.0.0.1:${port}`,
        region: 'us-east-1',
        credentials: TEST_CREDENTIALS,
        sleep: async (ms) => void waits.push(ms),
      });

      // Act
      const error = await client.listKeys().catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(AuditsealNetworkError);
      const network = error as AuditsealNetworkError;
      expect(network.code).toBe('ECONNREFUSED');
      expect(network.message).toContain(`http://127.0.0.1:${port}`);
      expect(network.message).toContain('npm start');
      expect(waits).toHaveLength(4);
    });

    it('times out an attempt that gets no answer', async () => {
      // Prepare
      api = await startFakeApi();
      api.faults.push('hang', 'hang');
      const { client } = clientOf(api, { timeoutMs: 200, retry: { maxAttempts: 2 } });

      // Act
      const error = await client.listKeys().catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(AuditsealNetworkError);
      expect((error as AuditsealNetworkError).code).toBe('TIMEOUT');
      expect(api.requests).toHaveLength(2);
    });
  });

  describe('when it is built with a bad configuration', () => {
    it.each([
      [{ endpoint: 'not a url' }, 'not a URL'],
      [{ endpoint: 'ftp://example.com' }, 'http(s)'],
      [{ endpoint: 'https://example.com/?a=1' }, 'query'],
      [{ endpoint: 'https://example.com' }, 'no region'],
      [{ endpoint: 'https://example.com', region: 'eu-west-1', timeoutMs: 0 }, 'timeoutMs'],
    ])('throws AuditsealConfigError for %j', (options, message) => {
      // Act
      const build = () => new AuditsealClient({ credentials: TEST_CREDENTIALS, ...options });

      // Assess
      expect(build).toThrow(AuditsealConfigError);
      expect(build).toThrow(message);
    });

    it('reads the region from an execute-api host name', () => {
      // Act
      const client = new AuditsealClient({
        endpoint: 'https://a1b2c3d4e5-vpce-0123456789abcdef0.execute-api.eu-central-1.amazonaws.com/prod',
        credentials: TEST_CREDENTIALS,
      });

      // Assess
      expect(client.region).toBe('eu-central-1');
    });
  });
});

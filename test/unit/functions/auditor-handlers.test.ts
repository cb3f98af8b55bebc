import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  type AuditorDeps,
  createGetDigestHandler,
  createGetHeadHandler,
  createGetKeysHandler,
  createListAlarmsHandler,
  createListDigestsHandler,
} from '../../../functions/auditor-handlers.ts';
import { KeyFileSigner } from '../../../shared/crypto/key-file-signer.ts';
import { loadPublicKey, TrustedKeySet } from '../../../shared/crypto/keys.ts';
import { verifySignedHead } from '../../../shared/head/signed-head.ts';
import { digestObjectKey } from '../../../shared/ledger/object-keys.ts';
import { periodOf } from '../../../shared/ledger/period.ts';
import { sealDuePeriods } from '../../../shared/sealing/seal-due-periods.ts';
import { InMemoryAlarmSink } from '../../../shared/storage/in-memory-alarm-sink.ts';
import { InMemoryLedgerStore } from '../../../shared/storage/in-memory-ledger-store.ts';
import { InMemoryObjectStore } from '../../../shared/storage/in-memory-object-store.ts';
import { InMemorySealRegistry } from '../../../shared/storage/in-memory-seal-registry.ts';
import { appItem, ingestInto } from '../../support/ledger-table.ts';
import { trustedKeysOf } from '../../support/sealed-folder.ts';

const T0 = Date.parse('2026-11-22T10:00:00Z');
const context = { awsRequestId: 'req-1' } as Context;

function request(overrides: Partial<APIGatewayProxyEvent> = {}): APIGatewayProxyEvent {
  return {
    httpMethod: 'GET',
    path: '/v1/digests',
    headers: {},
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    resource: '/v1/digests',
    requestContext: {
      requestId: 'r',
      identity: { userArn: 'arn:aws:iam::000000000000:user/auditor' },
    } as never,
    ...overrides,
  };
}

/**
 * `periods` sealed one-minute periods of ledger `test`, one ingested event in each; `tamper` runs on the
 * ledger table before sealing.
 */
async function sealedDeps(
  periods: number,
  tamper: (store: InMemoryLedgerStore) => void = () => undefined,
): Promise<AuditorDeps> {
  const signer = KeyFileSigner.generate();
  const objects = new InMemoryObjectStore();
  const registry = new InMemorySealRegistry();
  await registry.ensureGenesis('test', periodOf(T0, 60));
  const store = new InMemoryLedgerStore();
  for (let i = 0; i < periods; i++) {
    await ingestInto(store, signer, 'test', T0 + i * 60_000 + 500, [appItem(`e-${i}`)], {
      periodSeconds: 60,
      graceSeconds: 10,
    });
  }
  tamper(store);
  const alarms = new InMemoryAlarmSink();
  const keys = await trustedKeysOf(signer);
  await sealDuePeriods(
    { ledger: 'test', periodSeconds: 60, graceSeconds: 10, chunkLeaves: 2 },
    {
      objects,
      signer,
      events: store,
      registry,
      clock: () => new Date(T0 + periods * 60_000 + 10_000),
      trustedKeys: async () => keys,
      alarms,
    },
  );
  return {
    ledger: 'test',
    schedule: { periodSeconds: 60, graceSeconds: 1 },
    catalog: registry,
    objects,
    links: { urlFor: async (key) => `memory://${key}` },
    signer,
    alarms: { list: async () => [...alarms.alarms.values()] },
    logger: { error: () => undefined, warn: () => undefined, info: () => undefined },
    now: () => new Date(T0),
  };
}

describe('Handler: GET /v1/digests', () => {
  describe('when more digests exist than the page limit', () => {
    it('pages through all of them in period order', async () => {
      // Prepare
      const deps = await sealedDeps(5);
      const handler = createListDigestsHandler(() => deps);
      const ids: string[] = [];
      let token: string | undefined;

      // Act
      do {
        const res = await handler(
          request({ queryStringParameters: { limit: '2', ...(token ? { nextToken: token } : {}) } }),
          context,
        );
        const body = JSON.parse(res.body);
        expect(res.statusCode).toBe(200);
        ids.push(...body.digests.map((d: { id: string }) => d.id));
        token = body.nextToken;
      } while (token);

      // Assess
      expect(ids).toEqual([
        '20261122T100000Z-60s',
        '20261122T100100Z-60s',
        '20261122T100200Z-60s',
        '20261122T100300Z-60s',
        '20261122T100400Z-60s',
      ]);
    });
  });

  describe('when the query has an unknown parameter', () => {
    it('answers 400 INVALID_QUERY', async () => {
      // Prepare
      const deps = await sealedDeps(1);

      // Act
      const res = await createListDigestsHandler(() => deps)(
        request({ queryStringParameters: JSON.parse('{"__proto__":"1","limit":"2"}') }),
        context,
      );

      // Assess
      expect(res.statusCode).toBe(400);
      expect(JSON.parse(res.body).code).toBe('INVALID_QUERY');
    });
  });

  describe('when from is not a time', () => {
    it('answers 400 INVALID_QUERY', async () => {
      // Prepare
      const deps = await sealedDeps(1);

      // Act
      const res = await createListDigestsHandler(() => deps)(
        request({ queryStringParameters: { from: 'yesterday' } }),
        context,
      );

      // Assess
      expect(res.statusCode).toBe(400);
    });
  });
});

describe('Handler: GET /v1/digests (ranges)', () => {
  describe('when from falls inside a sealed period', () => {
    it('includes that period, and says how periods are sealed', async () => {
      // Prepare
      const deps = await sealedDeps(5);

      // Act
      const res = await createListDigestsHandler(() => deps)(
        request({
          queryStringParameters: { from: '2026-11-22T10:02:30.500Z', to: '2026-11-22T10:03:00.500Z' },
        }),
        context,
      );

      // Assess
      expect(res.statusCode).toBe(200);
      const body = JSON.parse(res.body);
      expect(body.digests.map((d: { id: string }) => d.id)).toEqual([
        '20261122T100200Z-60s',
        '20261122T100300Z-60s',
      ]);
      expect(body).toMatchObject({ periodSeconds: 60, graceSeconds: 1 });
    });
  });
});

describe('Handler: GET /v1/head', () => {
  const later = (deps: AuditorDeps): AuditorDeps => ({ ...deps, now: () => new Date(T0 + 3_600_000) });

  describe('when periods are sealed', () => {
    it('returns the newest signed statement, which verifies with the signing key alone', async () => {
      // Prepare
      const deps = later(await sealedDeps(5));
      const keys = new TrustedKeySet([loadPublicKey(await deps.signer.publicKeyPem())]);

      // Act
      const res = await createGetHeadHandler(() => deps)(
        request({ path: '/v1/head', resource: '/v1/head' }),
        context,
      );

      // Assess
      expect(res.statusCode).toBe(200);
      const head = verifySignedHead(Buffer.from(res.body), keys);
      expect(head).toMatchObject({
        ledger: 'test',
        period: { startMs: T0 + 4 * 60_000, seconds: 60 },
        sequence: 4,
        digestKey: 'digests/test/2026/11/22/20261122T100400Z-60s.digest.json',
      });
      expect(JSON.parse(res.body).signature).toMatch(/^[A-Za-z0-9+/]+=*$/);
    });
  });

  describe('when nothing is sealed yet', () => {
    it('answers 404 NOT_FOUND', async () => {
      // Prepare
      const deps = later(await sealedDeps(0));

      // Act
      const res = await createGetHeadHandler(() => deps)(request({ path: '/v1/head' }), context);

      // Assess
      expect(res.statusCode).toBe(404);
      expect(JSON.parse(res.body)).toEqual({ code: 'NOT_FOUND', message: 'nothing has been sealed yet' });
    });
  });

  describe('when the newest statement in the bucket was changed', () => {
    it('refuses to serve it: a bare 500, logged', async () => {
      // Prepare
      const deps = later(await sealedDeps(3));
      const errors: unknown[] = [];
      const key = digestObjectKey('test', { startMs: T0 + 2 * 60_000, seconds: 60 }, 'statement');
      const store = deps.objects as InMemoryObjectStore;
      store.objects.set(
        key,
        Buffer.from(Buffer.from(store.objects.get(key)!).toString().replace('"treeSize":1', '"treeSize":2')),
      );

      // Act
      const res = await createGetHeadHandler(() => ({
        ...deps,
        logger: { ...deps.logger, error: (...args: unknown[]) => errors.push(args) },
      }))(request({ path: '/v1/head' }), context);

      // Assess
      expect(res.statusCode).toBe(500);
      expect(JSON.parse(res.body)).toEqual({ code: 'INTERNAL', message: 'internal error' });
      expect(errors).toHaveLength(1);
      expect(JSON.stringify(errors)).toContain('does not verify');
    });
  });

  describe('when the seal registry names a period in the year 9999 that no sealed object backs', () => {
    it('refuses to serve it: a bare 500', async () => {
      // Prepare
      const deps = later(await sealedDeps(2));
      await (deps.catalog as InMemorySealRegistry).recordSeal({
        ledger: 'test',
        period: { startMs: Date.parse('9999-12-31T23:59:00Z'), seconds: 60 },
        sequence: 99,
        digestKey: 'digests/test/9999/12/31/99991231T235900Z-60s.digest.json',
        statementSha256: '0'.repeat(64),
      });

      // Act
      const res = await createGetHeadHandler(() => deps)(request({ path: '/v1/head' }), context);

      // Assess
      expect(res.statusCode).toBe(500);
    });
  });

  describe('when the newest sealed period has not ended by the service clock', () => {
    it('refuses to serve it: a bare 500', async () => {
      // Prepare: the clock says the newest sealed period is still running.
      const deps = await sealedDeps(2);

      // Act
      const res = await createGetHeadHandler(() => deps)(request({ path: '/v1/head' }), context);

      // Assess
      expect(res.statusCode).toBe(500);
    });
  });

  describe('when a query parameter is given', () => {
    it('answers 400 INVALID_QUERY', async () => {
      // Prepare
      const deps = later(await sealedDeps(1));

      // Act
      const res = await createGetHeadHandler(() => deps)(
        request({ path: '/v1/head', queryStringParameters: { at: 'now' } }),
        context,
      );

      // Assess
      expect(res.statusCode).toBe(400);
      expect(JSON.parse(res.body).code).toBe('INVALID_QUERY');
    });
  });
});

describe('Handler: GET /v1/digests/{id}', () => {
  describe('when the period is sealed', () => {
    it('lists its digest, statement, signature, archive, index and batch-record objects with links', async () => {
      // Prepare
      const deps = await sealedDeps(1);

      // Act
      const res = await createGetDigestHandler(() => deps)(
        request({ pathParameters: { id: '20261122T100000Z-60s' } }),
        context,
      );

      // Assess
      expect(res.statusCode).toBe(200);
      const keys = JSON.parse(res.body).objects.map((o: { key: string }) => o.key);
      expect(keys).toEqual([
        'digests/test/2026/11/22/20261122T100000Z-60s.digest.json',
        'digests/test/2026/11/22/20261122T100000Z-60s.statement.json',
        'digests/test/2026/11/22/20261122T100000Z-60s.sig',
        'archives/test/2026/11/22/20261122T100000Z-60s/000000.jsonl',
        'archives/test/2026/11/22/20261122T100000Z-60s/000000.idx',
        // Format v2: without its batch records a downloaded period cannot be verified (BATCH_FILE_MISSING).
        'archives/test/2026/11/22/20261122T100000Z-60s/batches-000000.jsonl',
      ]);
    });
  });

  describe('when rows of the period were excluded at sealing', () => {
    it('lists its exclusions file too', async () => {
      // Prepare
      const deps = await sealedDeps(1, (store) =>
        store.tamper.insertMalformed(
          'test',
          periodOf(T0, 60),
          '2026-11-22T10:00:00.600Z#poison',
          'not an event',
        ),
      );

      // Act
      const res = await createGetDigestHandler(() => deps)(
        request({ pathParameters: { id: '20261122T100000Z-60s' } }),
        context,
      );

      // Assess
      expect(res.statusCode).toBe(200);
      const keys = JSON.parse(res.body).objects.map((o: { key: string }) => o.key);
      expect(keys).toContain('archives/test/2026/11/22/20261122T100000Z-60s/exclusions.jsonl');
    });
  });

  describe('when the period is not sealed', () => {
    it('answers 404 NOT_FOUND', async () => {
      // Prepare
      const deps = await sealedDeps(1);

      // Act
      const res = await createGetDigestHandler(() => deps)(
        request({ pathParameters: { id: '20261122T110000Z-60s' } }),
        context,
      );

      // Assess
      expect(res.statusCode).toBe(404);
      expect(JSON.parse(res.body).code).toBe('NOT_FOUND');
    });
  });

  describe.each(['../../etc', '20261122T100030Z-60s', '20261122T100000Z-7s', '20261399T100000Z-60s', ''])(
    'when the id is %j',
    (id) => {
      it('answers 400 INVALID_PATH', async () => {
        // Prepare
        const deps = await sealedDeps(1);

        // Act
        const res = await createGetDigestHandler(() => deps)(request({ pathParameters: { id } }), context);

        // Assess
        expect(res.statusCode).toBe(400);
        expect(JSON.parse(res.body).code).toBe('INVALID_PATH');
      });
    },
  );
});

describe('Handler: GET /v1/keys and GET /v1/alarms', () => {
  describe('when called', () => {
    it('returns the signing key and the alarm list', async () => {
      // Prepare
      const deps = await sealedDeps(0);

      // Act
      const keys = JSON.parse((await createGetKeysHandler(() => deps)(request(), context)).body);
      const alarms = await createListAlarmsHandler(() => deps)(
        request({ queryStringParameters: { limit: '5' } }),
        context,
      );

      // Assess
      expect(keys.keys[0].keyId).toBe(await deps.signer.keyId());
      expect(keys.keys[0].publicKeyPem).toContain('BEGIN PUBLIC KEY');
      expect(alarms.statusCode).toBe(200);
      expect(JSON.parse(alarms.body)).toEqual({ alarms: [] });
    });
  });

  describe('when the dependencies fail to build', () => {
    it('answers a bare 500 without details', async () => {
      // Act
      const res = await createGetKeysHandler(() => {
        throw new Error('secret detail');
      })(request(), context);

      // Assess
      expect(res.statusCode).toBe(500);
      expect(res.body).not.toContain('secret');
    });
  });
});

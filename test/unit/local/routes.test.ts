/**
 * The local routes get the function timeouts of the deployed stack, and the stack refuses a sealing grace
 * that a writer could outlive (issue 7: "the local gateway's handler timeout is below the grace").
 */
import { describe, expect, it } from 'vitest';
import {
  API_INTEGRATION_TIMEOUT_SECONDS,
  DEFAULT_GRACE_SECONDS,
  WRITER_TIMEOUT_SECONDS,
} from '../../../functions/config.ts';
import { API_ROUTES, deployedRoutes, routeName } from '../../../infra/constructs/api-routes.ts';
import type { Route } from '../../../local/route-table.ts';
import {
  assertGraceExceedsWriterTimeouts,
  LOCAL_GRACE_SECONDS,
  loadLocalFunctions,
  localRoutes,
} from '../../../local/routes.ts';
import type { LocalStackContext } from '../../../local/stack.ts';

const handler: Route['handler'] = async () => ({ statusCode: 200, body: '{}' });

describe('Function: localRoutes', () => {
  describe('when given the route table', () => {
    it('serves every deployed route with its roles, a route that writes with the writer timeout, a read with the integration timeout', async () => {
      // Act
      const routes = await localRoutes();

      // Assess
      const byName = new Map(routes.map((r) => [`${r.method} ${r.path}`, r]));
      expect([...byName.keys()].sort()).toEqual(deployedRoutes(API_ROUTES).map(routeName).sort());
      expect(byName.get('POST /v1/events')?.timeoutMs).toBe(WRITER_TIMEOUT_SECONDS * 1000);
      expect(byName.get('GET /v1/events')?.timeoutMs).toBe(API_INTEGRATION_TIMEOUT_SECONDS * 1000);
      expect(byName.get('GET /v1/digests')?.timeoutMs).toBe(API_INTEGRATION_TIMEOUT_SECONDS * 1000);
      for (const route of deployedRoutes(API_ROUTES)) {
        expect(byName.get(routeName(route))?.role).toEqual(route.roles);
      }
    });
  });

  describe('when a route names a handler file that does not exist', () => {
    it('throws', async () => {
      // Act & Assess
      await expect(
        localRoutes([
          {
            method: 'GET',
            path: '/v1/unknown',
            roles: ['reader'],
            handler: 'no-such-handler',
            access: 'query',
          },
        ]),
      ).rejects.toThrow();
    });
  });
});

describe('Function: assertGraceExceedsWriterTimeouts', () => {
  const routes: Route[] = [
    { method: 'POST', path: '/v1/events', role: 'writer', handler, timeoutMs: WRITER_TIMEOUT_SECONDS * 1000 },
    {
      method: 'GET',
      path: '/v1/digests',
      role: 'auditor',
      handler,
      timeoutMs: API_INTEGRATION_TIMEOUT_SECONDS * 1000,
    },
  ];

  describe('when the grace is longer than every writer timeout', () => {
    it.each([String(LOCAL_GRACE_SECONDS), String(DEFAULT_GRACE_SECONDS), String(WRITER_TIMEOUT_SECONDS + 1)])(
      'accepts %s s',
      (grace) => {
        // Act & Assess
        expect(() => assertGraceExceedsWriterTimeouts(routes, grace)).not.toThrow();
      },
    );
  });

  describe.each([String(WRITER_TIMEOUT_SECONDS), '5', 'abc', undefined])('when the grace is %s', (grace) => {
    it('refuses to start, naming the route that writes', () => {
      // Act & Assess
      expect(() => assertGraceExceedsWriterTimeouts(routes, grace)).toThrow(
        /AUDITSEAL_GRACE_SECONDS .* must exceed the 10 s timeout of POST \/v1\/events/,
      );
    });
  });
});

describe('Function: loadLocalFunctions', () => {
  describe('when the stack loads its handlers', () => {
    it('serves every route that writes with a timeout below the local grace', async () => {
      // Prepare
      const context: LocalStackContext = {
        ledger: 'local-test',
        region: 'us-east-1',
        accountId: '000000000000',
        periodSeconds: 60,
        tableName: 'auditseal-ledger',
        streamArn: 'arn:aws:dynamodb:ddblocal:000000000000:table/auditseal-ledger/stream/x',
        bucket: 'auditseal-local-digests',
        kmsKeyId: '00000000-0000-0000-0000-000000000000',
        kmsKeyAlias: 'alias/auditseal-local-test',
        alertTopicArn: 'arn:aws:sns:us-east-1:000000000000:auditseal-local-alerts',
        dataDir: '/nonexistent',
        endpoint: 'http://127.0.0.1:1',
        dynamodbEndpoint: 'http://127.0.0.1:1',
        s3Endpoint: 'http://127.0.0.1:1',
        kmsEndpoint: 'http://127.0.0.1:1',
        readQueueUrl: 'http://127.0.0.1:1/000000000000/auditseal-reads',
        readDeadLetterQueueUrl: 'http://127.0.0.1:1/000000000000/auditseal-reads-dlq',
        lambdaEnvironment: {},
      };
      delete process.env['AUDITSEAL_GRACE_SECONDS'];

      // Act
      const { routes } = await loadLocalFunctions(context);

      // Assess
      const ingest = routes!.find((r) => r.method === 'POST' && r.path === '/v1/events')!;
      expect(ingest.timeoutMs).toBe(WRITER_TIMEOUT_SECONDS * 1000);
      expect(ingest.timeoutMs!).toBeLessThan(LOCAL_GRACE_SECONDS * 1000);
      for (const route of routes!) expect(route.timeoutMs).toBeDefined();
    });
  });
});

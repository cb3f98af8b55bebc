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
import type { Route } from '../../../local/route-table.ts';
import {
  assertGraceExceedsWriterTimeouts,
  LOCAL_GRACE_SECONDS,
  loadLocalFunctions,
  withDeployedTimeouts,
} from '../../../local/routes.ts';
import type { LocalStackContext } from '../../../local/stack.ts';

const handler: Route['handler'] = async () => ({ statusCode: 200, body: '{}' });

describe('Function: withDeployedTimeouts', () => {
  describe('when given the routes the local stack serves', () => {
    it('gives a route that writes the writer timeout, and an audit route the integration timeout', () => {
      // Act
      const routes = withDeployedTimeouts([
        { method: 'POST', path: '/v1/events', role: 'writer', handler },
        { method: 'GET', path: '/v1/events', role: 'reader', handler },
        { method: 'GET', path: '/v1/digests', role: 'auditor', handler },
      ]);

      // Assess
      expect(routes.map((r) => r.timeoutMs)).toEqual([
        WRITER_TIMEOUT_SECONDS * 1000,
        WRITER_TIMEOUT_SECONDS * 1000,
        API_INTEGRATION_TIMEOUT_SECONDS * 1000,
      ]);
    });
  });

  describe('when a route is not one of the API', () => {
    it('throws, naming it', () => {
      // Act & Assess
      expect(() =>
        withDeployedTimeouts([{ method: 'GET', path: '/v1/unknown', role: 'reader', handler }]),
      ).toThrow('GET /v1/unknown is not a route of infra/constructs/api-routes.ts');
    });
  });
});

describe('Function: assertGraceExceedsWriterTimeouts', () => {
  const routes = withDeployedTimeouts([
    { method: 'POST', path: '/v1/events', role: 'writer', handler },
    { method: 'GET', path: '/v1/digests', role: 'auditor', handler },
  ]);

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
        alertTopicArn: 'arn:aws:sns:us-east-1:000000000000:auditseal-local-alerts',
        dataDir: '/nonexistent',
        endpoint: 'http://127.0.0.1:1',
        dynamodbEndpoint: 'http://127.0.0.1:1',
        s3Endpoint: 'http://127.0.0.1:1',
        kmsEndpoint: 'http://127.0.0.1:1',
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

import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createListAlertsHandler } from '../../../functions/list-alerts.ts';
import { alertId } from '../../../shared/detect/alert-ids.ts';
import { InMemoryAlertIndex } from '../../../shared/storage/in-memory-alert-index.ts';
import { InMemoryReadJournal } from '../../../shared/storage/in-memory-read-journal.ts';
import { indexedAlert } from '../detect/alert-index-contract.ts';
import { recordingLogger } from './http-fixtures.ts';

const context = { awsRequestId: 'req-1' } as Context;

function request(
  query: Record<string, string> | null,
  multi: Record<string, string[]> | null = null,
): APIGatewayProxyEvent {
  return {
    httpMethod: 'GET',
    path: '/v1/alerts',
    headers: {},
    multiValueHeaders: {},
    queryStringParameters: query,
    multiValueQueryStringParameters: multi,
    pathParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    resource: '/v1/alerts',
    requestContext: {
      requestId: 'r',
      identity: { userArn: 'arn:aws:iam::000000000000:user/reader' },
    } as never,
  };
}

async function setup() {
  const index = new InMemoryAlertIndex();
  await index.record([
    indexedAlert(1, 'rule-a', 'high'),
    indexedAlert(2, 'rule-b', 'low'),
    indexedAlert(3, 'rule-a', 'critical'),
    indexedAlert(4, 'rule-a', 'high'),
  ]);
  const { logger } = recordingLogger();
  const journal = new InMemoryReadJournal();
  const now = () => new Date('2026-12-01T00:00:00.000Z');
  return { handler: createListAlertsHandler(() => ({ index, logger, journal, now })), index, journal };
}

const body = (response: { body: string }) => JSON.parse(response.body) as Record<string, unknown>;

describe('Handler: list-alerts (GET /v1/alerts)', () => {
  it('lists alerts newest first with their rule, matched events, stored event and receipt', async () => {
    // Prepare
    const { handler } = await setup();

    // Act
    const response = await handler(request(null), context);

    // Assess
    expect(response.statusCode).toBe(200);
    const alerts = body(response)['alerts'] as Record<string, unknown>[];
    expect(alerts.map((a) => a['alertId'])).toEqual([
      alertId('rule-a', 'ct:4'),
      alertId('rule-a', 'ct:3'),
      alertId('rule-b', 'ct:2'),
      alertId('rule-a', 'ct:1'),
    ]);
    expect(alerts[0]).toMatchObject({
      kind: 'alert',
      level: 'high',
      rule: { id: 'rule-a' },
      receipt: { eventId: alerts[0]!['alertId'] },
    });
    expect(body(response)['cursor']).toBeUndefined();
  });

  it('filters by rule and level, and pages with cursors until the last page', async () => {
    // Prepare
    const { handler } = await setup();

    // Act
    const first = body(await handler(request({ rule: 'rule-a', limit: '2' }), context));
    const second = body(
      await handler(request({ rule: 'rule-a', limit: '2', cursor: String(first['cursor']) }), context),
    );
    const critical = body(await handler(request({ level: 'critical' }), context));

    // Assess
    const ids = (page: Record<string, unknown>) =>
      (page['alerts'] as { alertId: string }[]).map((a) => a.alertId);
    expect(ids(first)).toEqual([alertId('rule-a', 'ct:4'), alertId('rule-a', 'ct:3')]);
    expect(ids(second)).toEqual([alertId('rule-a', 'ct:1')]);
    expect(second['cursor']).toBeUndefined();
    expect(ids(critical)).toEqual([alertId('rule-a', 'ct:3')]);
  });

  describe('when a parameter is bad', () => {
    it.each<[string, Record<string, string>, string]>([
      ['an unknown parameter', { severity: 'high' }, 'severity'],
      ['an unknown level', { level: 'urgent' }, 'level'],
      ['a limit of 0', { limit: '0' }, 'limit'],
      ['a limit over 1000', { limit: '1001' }, 'limit'],
      ['a limit that is not a number', { limit: 'ten' }, 'limit'],
      ['a time that is not RFC 3339', { from: 'yesterday' }, 'from'],
      ['to not after from', { from: '2026-11-22T21:00:00Z', to: '2026-11-22T21:00:00Z' }, 'to'],
      ['a rule id with a space', { rule: 'rule a' }, 'rule'],
      ['a cursor that is not one', { cursor: 'bm90IGEgY3Vyc29y' }, 'cursor'],
      ['a cursor with characters outside base64url', { cursor: 'a+b/c=' }, 'cursor'],
    ])('answers 400 INVALID_QUERY for %s, naming it', async (_, query, name) => {
      // Prepare
      const { handler } = await setup();

      // Act
      const response = await handler(request(query), context);

      // Assess
      expect(response.statusCode).toBe(400);
      expect(body(response)['code']).toBe('INVALID_QUERY');
      expect(String(body(response)['message'])).toContain(name);
    });

    it('answers 400 for a cursor of another query (other filters)', async () => {
      // Prepare
      const { handler } = await setup();
      const first = body(await handler(request({ rule: 'rule-a', limit: '1' }), context));

      // Act
      const response = await handler(
        request({ rule: 'rule-b', limit: '1', cursor: String(first['cursor']) }),
        context,
      );

      // Assess
      expect(response.statusCode).toBe(400);
      expect(String(body(response)['message'])).toContain('another range');
    });

    it('answers 400 for a repeated parameter', async () => {
      // Prepare
      const { handler } = await setup();

      // Act
      const response = await handler(request({ level: 'low' }, { level: ['low', 'high'] }), context);

      // Assess
      expect(response.statusCode).toBe(400);
    });

    it('answers 400 for a __proto__ parameter, and lists nothing', async () => {
      // Prepare
      const { handler } = await setup();

      // Act
      const response = await handler(request(JSON.parse('{"__proto__":"x"}')), context);

      // Assess
      expect(response.statusCode).toBe(400);
    });
  });

  describe('when the index fails', () => {
    it('answers a bare 500', async () => {
      // Prepare
      const { logger } = recordingLogger();
      const handler = createListAlertsHandler(() => ({
        index: { record: async () => undefined, list: async () => Promise.reject(new Error('throttled')) },
        logger,
        journal: new InMemoryReadJournal(),
        now: () => new Date(),
      }));

      // Act
      const response = await handler(request(null), context);

      // Assess
      expect(response.statusCode).toBe(500);
      expect(body(response)).toEqual({ code: 'INTERNAL', message: 'internal error' });
    });
  });

  describe('Property: every successful read is recorded (G7)', () => {
    it('records who listed alerts, with which filters and how many came back', async () => {
      // Prepare
      const { handler, journal } = await setup();

      // Act
      const response = await handler(request({ rule: 'rule-a', limit: '2' }), context);

      // Assess
      expect(response.statusCode).toBe(200);
      expect(journal.records).toEqual([
        expect.objectContaining({
          principal: 'arn:aws:iam::000000000000:user/reader',
          route: 'GET /v1/alerts',
          action: 'auditseal:ListAlerts',
          parameters: { rule: 'rule-a', limit: '2' },
          resultCount: 2,
        }),
      ]);
    });

    describe('when the read journal refuses the record', () => {
      it('answers 503 READ_NOT_RECORDED and no alert', async () => {
        // Prepare
        const { handler, journal } = await setup();
        journal.failWith = new Error('queue unavailable');

        // Act
        const response = await handler(request(null), context);

        // Assess
        expect(response.statusCode).toBe(503);
        expect(body(response)['code']).toBe('READ_NOT_RECORDED');
        expect(response.body).not.toContain('det:');
      });
    });

    describe('when the query is refused', () => {
      it('records nothing', async () => {
        // Prepare
        const { handler, journal } = await setup();

        // Act
        const response = await handler(request({ level: 'severe' }), context);

        // Assess
        expect(response.statusCode).toBe(400);
        expect(journal.records).toEqual([]);
      });
    });
  });
});

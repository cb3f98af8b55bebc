import type { APIGatewayProxyResult } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createHandler, MAX_BODY_BYTES } from '../../../functions/ingest-events.ts';
import { checkReceipt } from '../../../shared/ledger/batch-receipts.ts';
import { appEvent, type Harness, harness, LEDGER } from '../ingest/ingest-fixtures.ts';
import { APIGW_SAMPLES, lambdaContext, postEvents, recordingLogger } from './http-fixtures.ts';

function setup(h: Harness) {
  const { logger, lines } = recordingLogger();
  const handler = createHandler({ ledger: LEDGER, ingest: h.deps, logger });
  return { handler, logger, lines };
}

function bodyOf(response: APIGatewayProxyResult): Record<string, unknown> {
  return JSON.parse(response.body) as Record<string, unknown>;
}

const json = (value: unknown) => JSON.stringify(value);

describe('Handler: POST /v1/events', () => {
  describe('when every event is valid', () => {
    it('answers 201 with one verifiable receipt per event, in request order', async () => {
      // Prepare
      const h = await harness();
      const { handler } = setup(h);

      // Act
      const response = await handler(
        postEvents(json({ events: [appEvent(2), appEvent(1)] })),
        lambdaContext(),
      );

      // Assess
      expect(response.statusCode).toBe(201);
      expect(response.headers).toEqual({ 'content-type': 'application/json' });
      const body = bodyOf(response) as { stored: string[]; duplicates: string[]; receipts: unknown[] };
      expect(body.stored).toEqual(['app-2', 'app-1']);
      expect(body.duplicates).toEqual([]);
      expect(body.receipts).toHaveLength(2);
      for (const receipt of body.receipts) expect(checkReceipt(receipt, h.keys).ok).toBe(true);
      expect(h.signer.signCalls).toBe(1);
    });

    it('answers 200 with the original receipts when the request is retried', async () => {
      // Prepare
      const h = await harness();
      const { handler } = setup(h);
      const request = json({ events: [appEvent(1)] });
      const first = bodyOf(await handler(postEvents(request), lambdaContext()));

      // Act
      const response = await handler(postEvents(request), lambdaContext());

      // Assess
      expect(response.statusCode).toBe(200);
      expect(bodyOf(response)).toEqual({ stored: [], duplicates: ['app-1'], receipts: first['receipts'] });
    });

    it('accepts a base64-encoded body and a charset parameter', async () => {
      // Prepare
      const h = await harness();
      const { handler } = setup(h);
      const encoded = Buffer.from(json({ events: [appEvent(1)] })).toString('base64');

      // Act
      const response = await handler(
        postEvents(encoded, { isBase64Encoded: true, contentType: 'Application/JSON; charset=UTF-8' }),
        lambdaContext(),
      );

      // Assess
      expect(response.statusCode).toBe(201);
    });

    it('records the caller’s IAM principal and request id in a security signal', async () => {
      // Prepare
      const h = await harness();
      const { handler } = setup(h);
      await handler(postEvents(json({ events: [appEvent(1)] })), lambdaContext());

      // Act
      const response = await handler(
        postEvents(json({ events: [appEvent(1, { action: 'other' })] })),
        lambdaContext(),
      );

      // Assess
      expect(response.statusCode).toBe(409);
      expect(bodyOf(response)).toEqual({
        code: 'ID_CONFLICT',
        message: expect.any(String),
        conflicts: ['app-1'],
        stored: [],
        receipts: [],
      });
      expect(h.store.securitySignals()[0]).toMatchObject({
        principal: 'arn:aws:sts::123456789012:assumed-role/Admin/aamorosi',
        requestId: '89f9261a-2765-4d49-b72e-f76726991e44',
        channel: 'api',
      });
    });
  });

  describe.each(APIGW_SAMPLES)('with the sample %s as the event base', (sample) => {
    it('answers 201 when the sample carries an IAM principal and 403 MISSING_PRINCIPAL otherwise', async () => {
      // Prepare
      const h = await harness();
      const { handler } = setup(h);
      const event = postEvents(json({ events: [appEvent(1)] }), { sample });
      const hasPrincipal = typeof event.requestContext.identity.userArn === 'string';

      // Act
      const response = await handler(event, lambdaContext());

      // Assess
      if (hasPrincipal) {
        expect(response.statusCode).toBe(201);
      } else {
        expect(response.statusCode).toBe(403);
        expect(bodyOf(response)).toEqual({
          code: 'MISSING_PRINCIPAL',
          message: 'request has no IAM principal',
        });
        expect(h.store.eventCount).toBe(0);
      }
    });
  });

  describe.each([
    ['no Content-Type', { contentType: null }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['a text/plain Content-Type', { contentType: 'text/plain' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    [
      'a latin-1 charset',
      { contentType: 'application/json; charset=iso-8859-1' },
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
  ] as const)('when the request has %s', (_name, options, status, code) => {
    it(`answers ${status} ${code}`, async () => {
      // Prepare
      const h = await harness();
      const { handler } = setup(h);

      // Act
      const response = await handler(postEvents(json({ events: [appEvent(1)] }), options), lambdaContext());

      // Assess
      expect(response.statusCode).toBe(status);
      expect(bodyOf(response)).toMatchObject({ code });
      expect(h.store.eventCount).toBe(0);
    });
  });

  describe.each([
    ['an empty body', '', 400, 'INVALID_JSON'],
    ['a null body', null, 400, 'INVALID_JSON'],
    ['truncated JSON', '{"events":[', 400, 'INVALID_JSON'],
    ['a byte order mark', `\uFEFF${json({ events: [] })}`, 400, 'INVALID_JSON'],
    ['a JSON array', '[]', 400, 'INVALID_BODY'],
    ['events that is not an array', json({ events: {} }), 400, 'INVALID_BODY'],
    ['an unknown top-level field', json({ events: [appEvent(1)], dryRun: true }), 400, 'INVALID_BODY'],
    ['a top-level __proto__ member', '{"events":[],"__proto__":{"x":1}}', 400, 'INVALID_BODY'],
    ['no events', json({ events: [] }), 400, 'EMPTY_BATCH'],
    [
      '501 events',
      json({ events: Array.from({ length: 501 }, (_, i) => appEvent(i)) }),
      400,
      'TOO_MANY_EVENTS',
    ],
    [
      'an invalid event',
      json({ events: [appEvent(1), { ...appEvent(2), actor: 'bob' }] }),
      400,
      'INVALID_EVENTS',
    ],
  ] as const)('when the request has %s', (_name, body, status, code) => {
    it(`answers ${status} ${code} and writes nothing`, async () => {
      // Prepare
      const h = await harness();
      const { handler } = setup(h);
      const before = h.store.snapshot();

      // Act
      const response = await handler(postEvents(body), lambdaContext());

      // Assess
      expect(response.statusCode).toBe(status);
      expect(bodyOf(response)).toMatchObject({ code, message: expect.any(String) });
      expect(h.store.snapshot()).toBe(before);
      expect(h.signer.signCalls).toBe(0);
    });
  });

  describe('when an event is invalid', () => {
    it('lists every invalid item with index, code and path', async () => {
      // Prepare
      const h = await harness();
      const { handler } = setup(h);

      // Act
      const response = await handler(
        postEvents(json({ events: [appEvent(1), { ...appEvent(2), eventTime: '2026-13-01T00:00:00Z' }] })),
        lambdaContext(),
      );

      // Assess
      expect(bodyOf(response)).toEqual({
        code: 'INVALID_EVENTS',
        message: '1 of 2 events are invalid; nothing was stored',
        errors: [{ index: 1, code: 'SCHEMA_VIOLATION', path: '$.eventTime', message: expect.any(String) }],
      });
    });
  });

  describe('when an event holds a number that no double can hold (the app-event choice, docs/EVENTS.md §3)', () => {
    /** Four events; `events[3].details.count` is written as `numberText`, exactly. */
    const bodyWith = (numberText: string) =>
      json({
        events: [appEvent(0), appEvent(1), appEvent(2), appEvent(3, { details: { count: '#' } })],
      }).replace('"#"', numberText);

    it.each([
      ['an integer beyond 2^53', '12345678901234567890', 'UNSAFE_INTEGER'],
      ['2^53 + 1', '9007199254740993', 'UNSAFE_INTEGER'],
      ['-(2^53 + 1)', '-9007199254740993', 'UNSAFE_INTEGER'],
      ['a float beyond 2^53, where doubles are all integers', '1.5e300', 'UNSAFE_INTEGER'],
      ['1e400', '1e400', 'NON_FINITE_NUMBER'],
      ['-1E+400', '-1E+400', 'NON_FINITE_NUMBER'],
    ])(
      'answers 400 naming $.events[3].details.count for %s, and stores nothing',
      async (_name, text, code) => {
        // Prepare
        const h = await harness();
        const { handler } = setup(h);

        // Act
        const response = await handler(postEvents(bodyWith(text)), lambdaContext());

        // Assess
        expect(response.statusCode).toBe(400);
        expect(bodyOf(response)).toEqual({
          code: 'INVALID_EVENTS',
          message: '1 of 4 events are invalid; nothing was stored',
          errors: [
            { index: 3, code, path: '$.details.count', message: expect.stringContaining('$.details.count') },
          ],
        });
        expect(h.store.eventCount).toBe(0);
      },
    );

    it.each([
      ['-0', '-0', 0],
      ['-0.0', '-0.0', 0],
      ['1e-400 (below the smallest double)', '1e-400', 0],
      ['0.30000000000000001 (more digits than a double keeps)', '0.30000000000000001', 0.3],
      ['2^53 - 1', '9007199254740991', 9007199254740991],
    ])('stores %s as the nearest double, written by RFC 8785', async (_name, text, stored) => {
      // Prepare
      const h = await harness();
      const { handler } = setup(h);

      // Act
      const response = await handler(postEvents(bodyWith(text)), lambdaContext());

      // Assess
      expect(response.statusCode).toBe(201);
      const event = await h.store.getEvent(LEDGER, 'app-3');
      const bytes = Buffer.from(event!.bytes).toString('utf8');
      expect(bytes).toContain(`"details":{"count":${JSON.stringify(stored)}}`);
    });
  });

  describe('when the body is larger than 5 MiB', () => {
    it('answers 413 PAYLOAD_TOO_LARGE, also when base64-encoded', async () => {
      // Prepare
      const h = await harness();
      const { handler } = setup(h);
      const big = json({ events: [appEvent(1, { details: { pad: 'x'.repeat(MAX_BODY_BYTES) } })] });

      // Act
      const plain = await handler(postEvents(big), lambdaContext());
      const encoded = await handler(
        postEvents(Buffer.from(big).toString('base64'), { isBase64Encoded: true }),
        lambdaContext(),
      );

      // Assess
      expect(plain.statusCode).toBe(413);
      expect(encoded.statusCode).toBe(413);
      expect(bodyOf(plain)).toEqual({
        code: 'PAYLOAD_TOO_LARGE',
        message: `body is larger than ${MAX_BODY_BYTES} bytes`,
      });
    });

    it('counts UTF-8 bytes, not characters', async () => {
      // Prepare
      const h = await harness();
      const { logger } = recordingLogger();
      const handler = createHandler({ ledger: LEDGER, ingest: h.deps, logger, maxBodyBytes: 100 });
      const body = json({ events: [] }).replace('[]', `[${'"é",'.repeat(20)}1]`);

      // Act
      const response = await handler(postEvents(body), lambdaContext());

      // Assess
      expect(body.length).toBeLessThanOrEqual(100);
      expect(response.statusCode).toBe(413);
    });
  });

  describe('when the period is closing', () => {
    it('answers 503 PERIOD_CLOSING with Retry-After', async () => {
      // Prepare: received in the 21:00 hour, then the clock is past 22:00 + grace 60 s - margin 5 s.
      const h = await harness();
      const { logger } = recordingLogger();
      let reads = 0;
      const jumpy = () =>
        new Date(reads++ === 0 ? Date.UTC(2026, 10, 22, 21, 59, 59, 999) : Date.UTC(2026, 10, 22, 22, 0, 55));
      const jumpyHandler = createHandler({ ledger: LEDGER, ingest: { ...h.deps, clock: jumpy }, logger });

      // Act
      const response = await jumpyHandler(postEvents(json({ events: [appEvent(1)] })), lambdaContext());

      // Assess
      expect(response.statusCode).toBe(503);
      expect(response.headers).toMatchObject({ 'retry-after': '1' });
      expect(bodyOf(response)).toMatchObject({ code: 'PERIOD_CLOSING', stored: [] });
      expect(h.store.eventCount).toBe(0);
    });
  });

  describe('when something unexpected fails', () => {
    it('answers a bare 500 and logs the error without the payload', async () => {
      // Prepare
      const h = await harness({
        beforeGroup: () => {
          throw new TypeError('store exploded');
        },
      });
      const { handler, lines } = setup(h);
      const secret = 'very-secret-actor@example.com';

      // Act
      const response = await handler(
        postEvents(json({ events: [appEvent(1, { actor: { id: secret, type: 'user' } })] })),
        lambdaContext(),
      );

      // Assess
      expect(response.statusCode).toBe(500);
      expect(bodyOf(response)).toEqual({ code: 'INTERNAL', message: 'internal error' });
      expect(lines()).toContain('store exploded');
      expect(lines()).not.toContain(secret);
    });
  });
});

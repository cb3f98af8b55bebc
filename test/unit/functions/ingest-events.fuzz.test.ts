/**
 * Bad input (brief, "Quality bars"): generated malformed requests to `POST /v1/events` — malformed JSON,
 * wrong types, oversize bodies and fields, unknown fields, prototype keys, bad dates, too many events,
 * wrong media types — each get a 4xx `{ code, message }`, never a 5xx, and the ledger stays unchanged.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createHandler, MAX_BODY_BYTES } from '../../../functions/ingest-events.ts';
import { MAX_EVENT_BYTES } from '../../../shared/events/limits.ts';
import { ingestBatch } from '../../../shared/ingest/ingest-batch.ts';
import { APP_EVENT_MEMBERS } from '../../support/app-event-members.ts';
import { apiRequest, appEvent, type Harness, harness, LEDGER } from '../ingest/ingest-fixtures.ts';
import { lambdaContext, postEvents, recordingLogger } from './http-fixtures.ts';

interface BadRequest {
  readonly kind: string;
  readonly body: string | null;
  readonly contentType?: string | null;
  readonly isBase64Encoded?: boolean;
}

const json = (value: unknown) => JSON.stringify(value);
const valid = (n: number) => appEvent(n);

/** A body with one valid event next to `bad`, so that a single bad item must reject the whole batch. */
const withBadEvent = (kind: string, bad: fc.Arbitrary<unknown>): fc.Arbitrary<BadRequest> =>
  fc.tuple(bad, fc.nat({ max: 3 })).map(([event, position]) => {
    const events: unknown[] = [valid(1000), valid(1001), valid(1002)];
    events.splice(position, 0, event);
    return { kind, body: json({ events }) };
  });

/** Mutates one member of a valid event; `path` is a member or `outer.inner`. */
const mutated = (path: string, value: fc.Arbitrary<unknown>) =>
  fc.tuple(fc.nat({ max: 999 }), value).map(([n, v]) => {
    const event = structuredClone(valid(n)) as Record<string, Record<string, unknown>>;
    const [outer, inner] = path.split('.') as [string, string | undefined];
    if (inner === undefined) (event as Record<string, unknown>)[outer] = v;
    else event[outer] = { ...(event[outer] ?? {}), [inner]: v };
    return event;
  });

const notJson = fc
  .string({ maxLength: 200 })
  .filter((text) => {
    try {
      JSON.parse(text);
      return false;
    } catch {
      return true;
    }
  })
  .map((body): BadRequest => ({ kind: 'malformed JSON', body: body === '' ? '{' : body }));

const truncated = fc
  .tuple(fc.nat({ max: 5 }), fc.integer({ min: 1, max: 40 }))
  .map(([n, cut]): BadRequest => {
    const body = json({ events: [valid(n)] });
    return { kind: 'truncated JSON', body: body.slice(0, body.length - cut) };
  });

const wrongTopLevel = fc
  .oneof(
    fc.jsonValue().filter((v) => typeof v !== 'object' || v === null || Array.isArray(v)),
    fc.record({
      events: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.dictionary(fc.string(), fc.string())),
    }),
    fc.record({ event: fc.array(fc.constant(valid(1))) }),
    fc
      .dictionary(
        fc.string({ minLength: 1 }).filter((k) => k !== 'events'),
        fc.jsonValue(),
        { minKeys: 1 },
      )
      .map((extra) => ({
        events: [valid(1)],
        ...extra,
      })),
  )
  .map((value): BadRequest => ({ kind: 'wrong top-level shape', body: json(value) }));

const protoKeys = fc
  .tuple(
    fc.constantFrom('__proto__', 'constructor', 'prototype'),
    fc.constantFrom('top', 'event', 'actor', 'details'),
  )
  .map(([key, where]): BadRequest => {
    const injected = `"${key}":{"polluted":true}`;
    const event = json(valid(7));
    const inEvent =
      where === 'event'
        ? `{${injected},${event.slice(1)}`
        : where === 'actor'
          ? event.replace('"actor":{', `"actor":{${injected},`)
          : event.replace('"outcome":', `"details":{"x":{${injected}}},"outcome":`);
    const body = where === 'top' ? `{${injected},"events":[${event}]}` : `{"events":[${inEvent}]}`;
    return { kind: `proto key in ${where}`, body };
  });

const badDates = withBadEvent(
  'bad date',
  mutated(
    'eventTime',
    fc.oneof(
      fc.constantFrom(
        '2026-13-01T00:00:00Z',
        '2026-02-30T00:00:00Z',
        '2026-11-22 21:00:00Z',
        '2026-11-22T21:00:00',
        '1969-12-31T23:59:59Z',
        '10000-01-01T00:00:00Z',
        '2026-11-22T24:00:01Z',
        'yesterday',
        '',
      ),
      fc.date({ noInvalidDate: true }).map((d) => String(d.getTime())),
      fc.integer(),
    ),
  ),
);

const wrongTypes = withBadEvent(
  'wrong type',
  fc.oneof(
    mutated(
      'id',
      fc.oneof(
        fc.integer(),
        fc.constant(null),
        fc.constant(''),
        fc.constant('-starts-with-dash'),
        fc.constant('has space'),
      ),
    ),
    mutated('actor', fc.oneof(fc.string(), fc.integer(), fc.constant([]))),
    mutated(
      'actor.type',
      fc
        .string()
        .filter(
          (s) =>
            !['user', 'role', 'service', 'root', 'federated', 'account', 'anonymous', 'unknown'].includes(s),
        ),
    ),
    mutated('actor.mfa', fc.oneof(fc.string(), fc.integer())),
    mutated('outcome.result', fc.oneof(fc.constant('ok'), fc.boolean())),
    mutated('labels', fc.oneof(fc.string(), fc.array(fc.integer(), { minLength: 1 }))),
    mutated(
      'tags',
      fc.oneof(
        fc.array(fc.string()),
        fc.dictionary(fc.string({ minLength: 1 }), fc.integer(), { minKeys: 1 }),
      ),
    ),
    mutated('sourceIp', fc.constantFrom('999.1.1.1', 'not an ip!', '::::', 'a'.repeat(300))),
    fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.array(fc.jsonValue())),
  ),
);

const oversizeFields = withBadEvent(
  'oversize field',
  fc.oneof(
    mutated(
      'id',
      fc.integer({ min: 129, max: 400 }).map((n) => 'a'.repeat(n)),
    ),
    mutated(
      'action',
      fc.integer({ min: 257, max: 2000 }).map((n) => 'x'.repeat(n)),
    ),
    mutated(
      'actor.id',
      fc.integer({ min: 513, max: 4000 }).map((n) => 'x'.repeat(n)),
    ),
    mutated(
      'details',
      fc.integer({ min: 32_769, max: 40_000 }).map((n) => ({ s: 'x'.repeat(n) })),
    ),
    mutated(
      'details',
      fc.integer({ min: 33, max: 40 }).map((depth) => {
        let v: unknown = 1;
        for (let i = 0; i < depth; i++) v = [v];
        return v;
      }),
    ),
    mutated(
      'labels',
      fc.integer({ min: 51, max: 60 }).map((n) => Array.from({ length: n }, (_, i) => `l${i}`)),
    ),
    mutated(
      'details',
      fc.constant(
        Object.fromEntries(
          Array.from({ length: Math.ceil(MAX_EVENT_BYTES / 30_000) + 1 }, (_, i) => [
            `k${i}`,
            'x'.repeat(30_000),
          ]),
        ),
      ),
    ),
  ),
);

/** The members each object allows: an "unknown" field must be none of them where it is put. */
const KNOWN_MEMBERS = APP_EVENT_MEMBERS;

// fast-check draws names such as `__proto__`, `name` and `constructor` on purpose. The unknown member is
// added as an own property (a computed key: `obj[key] = v` with `__proto__` would set the prototype and
// leave a valid event), and never with a name the object allows (`resource.name` is a real member).
type Where = keyof typeof KNOWN_MEMBERS;

function withUnknownMember(n: number, key: string, value: unknown, where: Where): Record<string, unknown> {
  const event = structuredClone(valid(n)) as Record<string, Record<string, unknown>>;
  return where === 'event'
    ? { ...event, [key]: value }
    : { ...event, [where]: { ...event[where], [key]: value } };
}

/** The names of `event`'s members that its object (or the event itself) does not allow, as sent. */
function unknownMembersSent(event: Record<string, unknown>, where: Where): string[] {
  const sent = JSON.parse(JSON.stringify(event)) as Record<string, Record<string, unknown>>;
  const object = where === 'event' ? sent : (sent[where] ?? {});
  return Object.keys(object).filter((key) => !KNOWN_MEMBERS[where].has(key));
}

const unknownFields = withBadEvent(
  'unknown field',
  fc
    .tuple(
      fc.nat({ max: 999 }),
      fc.string({ minLength: 1, maxLength: 20 }),
      fc.jsonValue(),
      fc.constantFrom('event', 'actor', 'resource', 'outcome' as const),
    )
    .filter(([, key, , where]) => !KNOWN_MEMBERS[where].has(key))
    .map(([n, key, value, where]) => withUnknownMember(n, key, value, where)),
);

const serverFields = withBadEvent(
  'server-assigned field',
  fc.tuple(fc.nat({ max: 999 }), fc.constantFrom('v', 'receivedAt', 'channel')).map(([n, key]) => ({
    ...valid(n),
    [key]: key === 'v' ? 1 : key === 'channel' ? 'import' : '2026-11-22T21:00:00.000Z',
  })),
);

const reservedAndDuplicateIds = fc.oneof(
  fc.nat({ max: 999 }).map(
    (n): BadRequest => ({
      kind: 'reserved id',
      body: json({ events: [valid(n), { ...valid(n + 1000), id: `ct:${n}` }] }),
    }),
  ),
  fc
    .nat({ max: 999 })
    .map((n): BadRequest => ({ kind: 'duplicate id', body: json({ events: [valid(n), valid(n)] }) })),
);

const batchSize = fc.oneof(
  fc.constant<BadRequest>({ kind: 'empty batch', body: json({ events: [] }) }),
  fc.integer({ min: 501, max: 520 }).map(
    (n): BadRequest => ({
      kind: 'too many events',
      body: json({ events: Array.from({ length: n }, (_, i) => valid(i)) }),
    }),
  ),
);

const transport = fc.oneof(
  fc.constant<BadRequest>({
    kind: 'oversize body',
    body: json({ events: [{ pad: 'x'.repeat(MAX_BODY_BYTES) }] }),
  }),
  fc.constant<BadRequest>({
    kind: 'oversize base64 body',
    body: Buffer.from(json({ events: [{ pad: 'x'.repeat(MAX_BODY_BYTES) }] })).toString('base64'),
    isBase64Encoded: true,
  }),
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map(
    (bytes): BadRequest => ({
      kind: 'binary base64 body',
      body: Buffer.concat([Buffer.from([0xff]), Buffer.from(bytes)]).toString('base64'),
      isBase64Encoded: true,
    }),
  ),
  fc
    .constantFrom(
      null,
      '',
      'text/plain',
      'application/xml',
      'application/json; charset=utf-16',
      'multipart/form-data',
    )
    .map(
      (contentType): BadRequest => ({
        kind: 'wrong media type',
        body: json({ events: [valid(1)] }),
        contentType,
      }),
    ),
  fc.constant<BadRequest>({ kind: 'no body', body: null }),
);

const badRequests = fc.oneof(
  { arbitrary: notJson, weight: 3 },
  { arbitrary: truncated, weight: 2 },
  { arbitrary: wrongTopLevel, weight: 3 },
  { arbitrary: protoKeys, weight: 2 },
  { arbitrary: badDates, weight: 3 },
  { arbitrary: wrongTypes, weight: 4 },
  { arbitrary: oversizeFields, weight: 2 },
  { arbitrary: unknownFields, weight: 3 },
  { arbitrary: serverFields, weight: 1 },
  { arbitrary: reservedAndDuplicateIds, weight: 1 },
  { arbitrary: batchSize, weight: 1 },
  { arbitrary: transport, weight: 2 },
);

describe('Generator: unknown members', () => {
  // A run in CI once failed when fast-check drew `__proto__` for an event member: `event[key] = v` set the
  // prototype, the JSON sent was a valid event, and it was (rightly) stored. The same for `resource.name`.
  describe('when the name drawn is __proto__, constructor or a member another object allows', () => {
    it.each([
      ['__proto__', 'event'],
      ['constructor', 'event'],
      ['__proto__', 'actor'],
      ['type', 'outcome'],
      ['__proto__', 'resource'],
    ] as const)('sends %s in %s as an own member that is unknown there', (key, where) => {
      // Act
      const event = withUnknownMember(7, key, { polluted: true }, where);

      // Assess
      expect(unknownMembersSent(event, where)).toEqual([key]);
    });
  });

  it('never draws a member its object allows', () => {
    // Assess
    fc.assert(
      fc.property(unknownFields, (request) => {
        const { events } = JSON.parse(request.body ?? '') as { events: Record<string, unknown>[] };
        const unknown = events.flatMap((event) =>
          (['event', 'actor', 'resource', 'outcome'] as const).flatMap((where) =>
            unknownMembersSent(event, where),
          ),
        );
        expect(unknown.length).toBeGreaterThan(0);
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('Handler: POST /v1/events, generated bad input', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await harness();
    // A ledger that already holds events, so "unchanged" is a real comparison.
    await ingestBatch(apiRequest([valid(1), valid(2)]), h.deps);
  });

  it('answers every malformed request with a 4xx { code, message }, never a 5xx, and writes nothing', async () => {
    // Prepare
    const { logger } = recordingLogger();
    const handler = createHandler({ ledger: LEDGER, ingest: h.deps, logger });
    const before = h.store.snapshot();
    const signsBefore = h.signer.signCalls;
    const seenKinds = new Set<string>();

    // Act + Assess
    await fc.assert(
      fc.asyncProperty(badRequests, async (request) => {
        seenKinds.add(request.kind);
        const response = await handler(
          postEvents(request.body, {
            ...(request.contentType !== undefined ? { contentType: request.contentType } : {}),
            isBase64Encoded: request.isBase64Encoded ?? false,
          }),
          lambdaContext(),
        );
        expect(response.statusCode, request.kind).toBeGreaterThanOrEqual(400);
        expect(response.statusCode, request.kind).toBeLessThan(500);
        const body = JSON.parse(response.body) as Record<string, unknown>;
        expect(typeof body['code'], request.kind).toBe('string');
        expect(typeof body['message'], request.kind).toBe('string');
        expect(h.store.snapshot(), request.kind).toBe(before);
      }),
      { numRuns: 1_200 },
    );
    expect(h.signer.signCalls).toBe(signsBefore);
    expect(logger.error).not.toHaveBeenCalled();
    expect(seenKinds.size).toBeGreaterThanOrEqual(20);
  }, 120_000);
});

/**
 * Bad input against the real local stack: more than a thousand generated malformed requests go through the
 * SigV4 gateway to the real `POST /v1/events` handler (DynamoDB Local, moto KMS). Each one must get a 4xx
 * JSON `{code, message}` with the code docs/API.md and docs/LOCAL-STACK.md name for it, never a 5xx, and
 * the ledger table must be exactly as it was: no event, no batch seal, no genesis, no security signal.
 *
 * Requests are signed with the writer key unless the case is about authentication. Only the API routes are
 * served (no stream function, no heartbeat), so the only thing that may write to the table is ingest.
 */
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLocalFunctions } from '../../local/routes.ts';
import { ACTOR_TYPES } from '../../shared/events/audit-event.ts';
import { MAX_EVENT_BYTES } from '../../shared/events/limits.ts';
import { APP_EVENT_MEMBERS } from '../support/app-event-members.ts';
import type { TestLocalStack } from '../support/local-stack.ts';
import { startTestLocalStack } from '../support/local-stack.ts';
import { type SignedRequestParts, signedFetch, signRequest } from '../support/signed-fetch.ts';

/** docs/API.md: the largest body the ingest handler accepts. */
const MAX_BODY_BYTES = 5 * 1024 * 1024;
/** docs/LOCAL-STACK.md: the gateway reads at most this much (Lambda's payload limit). */
const GATEWAY_MAX_BODY_BYTES = 6 * 1024 * 1024;
/** Requests sent at once; runs × this ≥ 1,000. */
const CONCURRENCY = 4;
const RUNS = 260;

let stack: TestLocalStack;
let dynamodb: DynamoDBClient;
let tableBefore: string[];
let requestsSent = 0;
const kindsSent = new Map<string, number>();

type JsonObject = Record<string, unknown>;
type Role = 'writer' | 'reader' | 'auditor';

/** How a request is (mis)authenticated. */
type Auth =
  | { readonly kind: 'signed'; readonly role: Role }
  | { readonly kind: 'unsigned' }
  | { readonly kind: 'wrong-secret' }
  | { readonly kind: 'unknown-key'; readonly accessKeyId: string }
  | { readonly kind: 'wrong-region'; readonly region: string }
  | { readonly kind: 'skewed'; readonly offsetMs: number }
  | { readonly kind: 'session-token' }
  | { readonly kind: 'tamper'; readonly tamper: (parts: SignedRequestParts) => void };

/** One generated request and the answer the docs promise for it. */
interface BadRequest {
  readonly kind: string;
  readonly body: string | Buffer;
  readonly contentType: string;
  readonly auth: Auth;
  readonly expected: { readonly status: number; readonly code: string; readonly errorIndexes?: number[] };
}

const WRITER: Auth = { kind: 'signed', role: 'writer' };
const JSON_TYPE = 'application/json';

beforeAll(async () => {
  stack = await startTestLocalStack({
    // The API only: a stream function or heartbeat would write seals and alarms into the table.
    functions: async (context) => ({ routes: (await loadLocalFunctions(context)).routes ?? [] }),
  });
  dynamodb = new DynamoDBClient({
    region: stack.info.region,
    endpoint: stack.info.dynamodbEndpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  // One stored event, so that "unchanged" compares a ledger with a genesis, a batch seal, an event and
  // its id item rather than an empty table.
  const seeded = await signedFetch(stack.info.endpoint, stack.info.roles.writer, {
    method: 'POST',
    path: '/v1/events',
    body: JSON.stringify({ events: [validEvent('seed-1', 0)] }),
  });
  expect(seeded.status).toBe(201);
  tableBefore = await scanTable();
  expect(tableBefore.length).toBeGreaterThanOrEqual(4);
});

afterAll(async () => {
  dynamodb?.destroy();
  await stack?.cleanup();
});

/** Every item of the ledger table, as sorted canonical JSON lines. */
async function scanTable(): Promise<string[]> {
  const items: string[] = [];
  let start: Record<string, never> | undefined;
  do {
    const page = await dynamodb.send(
      new ScanCommand({
        TableName: stack.info.tableName,
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of page.Items ?? []) {
      items.push(
        JSON.stringify(item, (_key, value: unknown) =>
          value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value,
        ),
      );
    }
    start = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start);
  return items.sort();
}

function validEvent(id: string, n: number): JsonObject {
  return {
    id,
    eventTime: new Date(Date.UTC(2026, 10, 22, 21, 0, n % 60)).toISOString(),
    actor: { id: `user-${n}@example.com`, type: 'user' },
    action: 'ssh.login',
    resource: { id: `i-${n}`, type: 'AWS::EC2::Instance' },
    outcome: { result: 'success' },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Generators: valid events, and mutations that make one event invalid for sure.

const validEventArb = (id: string): fc.Arbitrary<JsonObject> =>
  fc
    .record(
      {
        eventTime: fc
          .date({
            min: new Date('1970-01-01T00:00:00Z'),
            max: new Date('9999-12-31T23:59:59Z'),
            noInvalidDate: true,
          })
          .map((date) => date.toISOString()),
        actor: fc.record({
          id: fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }),
          type: fc.constantFrom(...ACTOR_TYPES),
        }),
        action: fc.string({ minLength: 1, maxLength: 40 }),
        outcome: fc.record({ result: fc.constantFrom('success', 'failure') }),
        resource: fc.record({ id: fc.string({ minLength: 1, maxLength: 60 }), type: fc.constant('host') }),
        labels: fc.array(fc.string({ minLength: 1, maxLength: 20 }), { maxLength: 3 }),
      },
      { requiredKeys: ['eventTime', 'actor', 'action', 'outcome'] },
    )
    .map((event) => ({ id, ...event }));

/** A member set as an own property, even `__proto__` (which a literal or assignment would not create). */
function withMember(target: JsonObject, key: string, value: unknown): JsonObject {
  const copy: JsonObject = { ...target };
  Object.defineProperty(copy, key, { value, enumerable: true, configurable: true, writable: true });
  return copy;
}

/** Sets (or deletes, with `undefined`) a member at a dotted path such as `actor.type`. */
function setPath(event: JsonObject, path: string, value: unknown): JsonObject {
  const [head, ...rest] = path.split('.');
  if (rest.length === 0) {
    const copy = { ...event };
    if (value === undefined) delete copy[head!];
    else copy[head!] = value;
    return copy;
  }
  const inner = (event[head!] ?? { id: 'x', type: 'host' }) as JsonObject;
  return { ...event, [head!]: setPath(inner, rest.join('.'), value) };
}

/** Inserts raw JSON text as a last member: for values `JSON.stringify` cannot write (1e400, lone surrogates). */
function withRawMember(event: JsonObject, key: string, raw: string): string {
  const text = JSON.stringify(event);
  return `${text.slice(0, -1)},${JSON.stringify(key)}:${raw}}`;
}

function nested(depth: number, leaf: JsonObject): JsonObject {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = { [`level${i}`]: value };
  return value;
}

/** A way to break one event: the JSON text of the broken event, given the valid one. */
type Mutation = { readonly name: string; readonly apply: (event: JsonObject, firstId: string) => string };

const mutation = (name: string, apply: Mutation['apply']): Mutation => ({ name, apply });
const json = (event: JsonObject) => JSON.stringify(event);

const STRING_FIELDS = ['id', 'eventTime', 'action', 'actor.id', 'actor.type', 'outcome.result', 'userAgent'];
const OBJECT_FIELDS = ['actor', 'outcome', 'resource', 'tags'];
const KNOWN_MEMBERS: Record<string, ReadonlySet<string>> = {
  '': APP_EVENT_MEMBERS.event,
  actor: APP_EVENT_MEMBERS.actor,
  outcome: APP_EVENT_MEMBERS.outcome,
  resource: APP_EVENT_MEMBERS.resource,
};
const BAD_DATES = [
  '2026-02-30T00:00:00Z',
  '2025-02-29T00:00:00Z',
  '2026-11-22T21:00:00',
  '2026-11-22 21:00:00Z',
  '2026-11-22t21:00:00z',
  '2016-12-31T23:59:60Z',
  '1969-12-31T23:59:59Z',
  '1970-01-01T00:00:00+00:01',
  '10000-01-01T00:00:00Z',
  '+002026-11-22T21:00:00Z',
  '2026-13-01T00:00:00Z',
  '2026-00-10T00:00:00Z',
  '2026-11-22T24:00:00Z',
  '2026-11-22T21:60:00Z',
  '2026-11-22T21:00:00.1234567890Z',
  '2026-11-22T21:00:00.Z',
  '2026-11-22T21:00:00+2:00',
  '2026-11-22T21:00Z',
  '2026-11-22',
  '1700000000',
  'now',
  '',
];
const BAD_IDS = ['', ' a', '-a', '.a', '_a', 'a b', 'a\tb', 'é', 'a#b', 'a?b', 'a\\b', 'a"b', 'a,b', 'a~b'];
const BAD_SOURCE_IPS = [
  '10.01.0.1',
  '999.1.1.1',
  'not an ip',
  '1.2.3',
  '::g',
  'host_name.example.com',
  '-a.com',
];

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  // Wrong types.
  fc
    .tuple(
      fc.constantFrom(...STRING_FIELDS),
      fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.constant([1]), fc.constant({ a: 1 })),
    )
    .map(([field, value]) => mutation(`${field} is not a string`, (e) => json(setPath(e, field, value)))),
  fc
    .tuple(
      fc.constantFrom(...OBJECT_FIELDS),
      fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.string(), fc.constant([1])),
    )
    .map(([field, value]) => mutation(`${field} is not an object`, (e) => json({ ...e, [field]: value }))),
  fc
    .constantFrom('', 1, null, {})
    .map((value) => mutation('labels is not an array of strings', (e) => json({ ...e, labels: [value] }))),
  fc
    .constantFrom('yes', 1, null)
    .map((value) => mutation('actor.mfa is not a boolean', (e) => json(setPath(e, 'actor.mfa', value)))),
  // Missing required members.
  fc
    .constantFrom('id', 'eventTime', 'actor', 'action', 'outcome', 'actor.id', 'actor.type', 'outcome.result')
    .map((field) => mutation(`${field} is missing`, (e) => json(setPath(e, field, undefined)))),
  fc
    .constantFrom('resource.id', 'resource.type')
    .map((field) =>
      mutation(`${field} is missing`, (e) =>
        json(setPath({ ...e, resource: { id: 'i-1', type: 'host' } }, field, undefined)),
      ),
    ),
  // Unknown members, at the top and nested.
  fc
    .tuple(fc.constantFrom('', 'actor', 'outcome', 'resource'), fc.string({ minLength: 1, maxLength: 24 }))
    .filter(([where, key]) => !KNOWN_MEMBERS[where]!.has(key))
    .chain(([where, key]) =>
      fc.jsonValue({ maxDepth: 2 }).map((value) =>
        mutation(`unknown member ${where || '$'}.${key}`, (e) => {
          if (where === '') return json(withMember(e, key, value));
          const inner = (e[where] ?? { id: 'i-1', type: 'host' }) as JsonObject;
          return json({ ...e, [where]: withMember(inner, key, value) });
        }),
      ),
    ),
  // Members only the server sets.
  fc
    .constantFrom<[string, unknown]>(['v', 1], ['receivedAt', '2026-11-22T21:00:00.000Z'], ['channel', 'api'])
    .map(([key, value]) => mutation(`server member ${key}`, (e) => json({ ...e, [key]: value }))),
  // Prototype keys, anywhere.
  fc
    .tuple(
      fc.constantFrom('__proto__', 'constructor', 'prototype'),
      fc.constantFrom('top', 'actor', 'tags', 'details', 'cloudtrail'),
      fc.integer({ min: 0, max: 6 }),
    )
    .map(([key, where, depth]) =>
      mutation(`${key} in ${where} at depth ${depth}`, (e) => {
        const leaf = withMember({}, key, { polluted: true });
        if (where === 'top') return json(withMember(e, key, { polluted: true }));
        if (where === 'actor') return json({ ...e, actor: withMember(e['actor'] as JsonObject, key, 'x') });
        if (where === 'tags') return json({ ...e, tags: withMember({ team: 'a' }, key, 'x') });
        if (where === 'details') return json({ ...e, details: nested(depth, leaf) });
        return json({ ...e, cloudtrail: { eventID: 'x', ...nested(depth, leaf) } });
      }),
    ),
  // Bad dates.
  fc
    .constantFrom(...BAD_DATES)
    .map((date) => mutation(`eventTime ${JSON.stringify(date)}`, (e) => json({ ...e, eventTime: date }))),
  fc
    .tuple(
      fc.integer({ min: 1970, max: 9999 }),
      fc.integer({ min: 13, max: 99 }),
      fc.integer({ min: 32, max: 99 }),
    )
    .map(([year, month, day]) =>
      mutation('eventTime out of range', (e) =>
        json({ ...e, eventTime: `${year}-${month}-${day}T00:00:00Z` }),
      ),
    ),
  // Oversize members and JSON beyond the hostile-input limits.
  fc.integer({ min: 1, max: 64 }).chain((over) =>
    fc.constantFrom(
      mutation('action too long', (e) => json({ ...e, action: 'a'.repeat(256 + over) })),
      mutation('actor.id too long', (e) => json(setPath(e, 'actor.id', 'x'.repeat(512 + over)))),
      mutation('id too long', (e) => json({ ...e, id: 'a'.repeat(128 + over) })),
      mutation('userAgent too long', (e) => json({ ...e, userAgent: 'u'.repeat(1024 + over) })),
      mutation('errorMessage too long', (e) =>
        json(setPath(e, 'outcome.errorMessage', 'm'.repeat(4096 + over))),
      ),
      mutation('resource.id too long', (e) => json(setPath(e, 'resource.id', 'r'.repeat(2048 + over)))),
      mutation('too many tags', (e) =>
        json({ ...e, tags: Object.fromEntries(Array.from({ length: 50 + over }, (_, i) => [`k${i}`, 'v'])) }),
      ),
      mutation('too many labels', (e) =>
        json({ ...e, labels: Array.from({ length: 50 + over }, () => 'l') }),
      ),
      mutation('tag value too long', (e) => json({ ...e, tags: { team: 'v'.repeat(256 + over) } })),
      mutation('string too long', (e) => json({ ...e, details: { note: 's'.repeat(32_768 + over) } })),
      mutation('key too long', (e) => json({ ...e, details: { ['k'.repeat(256 + over)]: 1 } })),
      mutation('array too long', (e) =>
        json({ ...e, details: Array.from({ length: 1000 + over }, () => 0) }),
      ),
      mutation('too many keys', (e) =>
        json({
          ...e,
          details: Object.fromEntries(Array.from({ length: 256 + over }, (_, i) => [`k${i}`, 0])),
        }),
      ),
      mutation('too deep', (e) => json({ ...e, details: nested(31 + over, { deep: true }) })),
      mutation('event too large', (e) =>
        json({
          ...e,
          details: Array.from({ length: Math.ceil(MAX_EVENT_BYTES / 30_000) }, () =>
            'z'.repeat(30_000 + over),
          ),
        }),
      ),
    ),
  ),
  // Values outside I-JSON, written as raw text.
  fc
    .constantFrom(
      '1e400',
      '-1e400',
      '9007199254740993',
      '1e16',
      '"\\ud800"',
      '["a\\udfffb"]',
      '{"\\ud83d":1}',
    )
    .map((raw) => mutation(`details ${raw}`, (e) => withRawMember(e, 'details', raw))),
  // Ids: bad patterns, reserved for the CloudTrail forwarder, or already used in the batch.
  fc.constantFrom(...BAD_IDS).map((id) => mutation(`id ${JSON.stringify(id)}`, (e) => json({ ...e, id }))),
  fc.constant(mutation('ct: id', (e) => json({ ...e, id: `ct:${String(e['id'])}` }))),
  fc.constant(mutation('duplicate id', (e, firstId) => json({ ...e, id: firstId }))),
  // Enums, empty optional strings, bad source addresses.
  fc
    .string({ maxLength: 12 })
    .filter((type) => !(ACTOR_TYPES as readonly string[]).includes(type))
    .map((type) => mutation('unknown actor.type', (e) => json(setPath(e, 'actor.type', type)))),
  fc
    .string({ maxLength: 12 })
    .filter((result) => result !== 'success' && result !== 'failure')
    .map((result) => mutation('unknown outcome.result', (e) => json(setPath(e, 'outcome.result', result)))),
  fc
    .constantFrom(
      'action',
      'actor.id',
      'userAgent',
      'requestId',
      'endpoint',
      'actor.sessionId',
      'outcome.errorCode',
    )
    .map((field) => mutation(`${field} is empty`, (e) => json(setPath(e, field, '')))),
  fc
    .constantFrom(...BAD_SOURCE_IPS)
    .map((ip) => mutation(`sourceIp ${ip}`, (e) => json({ ...e, sourceIp: ip }))),
);

/** 1 to 8 events: the first always valid, then a mix of valid and broken ones (at least one broken). */
const invalidEventsArb: fc.Arbitrary<{ text: string; errorIndexes: number[]; names: string[] }> = fc
  .tuple(
    fc.array(fc.option(mutationArb, { freq: 2, nil: undefined }), { minLength: 1, maxLength: 7 }),
    mutationArb,
    fc.nat({ max: 7 }),
  )
  .chain(([rest, forced, at]) => {
    const plan: (Mutation | undefined)[] = [undefined, ...rest];
    plan[1 + (at % rest.length)] ??= forced;
    const prefix = `bad-${randomBytes(6).toString('hex')}`;
    return fc.tuple(...plan.map((_, i) => validEventArb(`${prefix}-${i}`))).map((events) => {
      const firstId = events[0]!['id'] as string;
      const parts = events.map((event, i) => plan[i]?.apply(event, firstId) ?? json(event));
      const errorIndexes = plan.flatMap((m, i) => (m === undefined ? [] : [i]));
      return {
        text: `{"events":[${parts.join(',')}]}`,
        errorIndexes,
        names: plan.flatMap((m) => (m === undefined ? [] : [m.name])),
      };
    });
  });

/** A valid request body of 1 to 5 events: only authentication or framing can make it fail. */
const validBodyArb: fc.Arbitrary<string> = fc
  .integer({ min: 1, max: 5 })
  .chain((n) => {
    const prefix = `auth-${randomBytes(6).toString('hex')}`;
    return fc.tuple(...Array.from({ length: n }, (_, i) => validEventArb(`${prefix}-${i}`)));
  })
  .map((events) => JSON.stringify({ events }));

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

const malformedJsonArb: fc.Arbitrary<string | Buffer> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 120 }).filter((text) => !parsesAsJson(text)),
  validBodyArb.chain((text) =>
    fc
      .integer({ min: 0, max: text.length - 1 })
      .map((cut) => text.slice(0, cut))
      .filter((text) => !parsesAsJson(text)),
  ),
  fc.constantFrom(
    '',
    ' ',
    '{',
    '{"events":[}',
    "{'events':[]}",
    '{"events":[],}',
    '{"events":[01]}',
    '{"events":[NaN]}',
    '{"events":[undefined]}',
    '{"events" [1]}',
    '\u0000',
  ),
  // A byte order mark, and bytes that are not UTF-8.
  validBodyArb.map((text) => `\uFEFF${text}`),
  fc
    .tuple(
      validBodyArb,
      fc.constantFrom([0xff], [0xc3, 0x28], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf8, 0x88]),
    )
    .map(([text, bytes]) => {
      const at = text.indexOf('"action":"') + 10;
      return Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from(bytes), Buffer.from(text.slice(at))]);
    }),
);

const request = (
  kind: string,
  body: string | Buffer,
  status: number,
  code: string,
  extra: Partial<BadRequest> = {},
) =>
  ({
    kind,
    body,
    contentType: JSON_TYPE,
    auth: WRITER,
    expected: { status, code },
    ...extra,
  }) satisfies BadRequest;

const swapSignature = (parts: SignedRequestParts, change: (authorization: string) => string) => {
  parts.headers['authorization'] = change(parts.headers['authorization']!);
};

const badRequestArb: fc.Arbitrary<BadRequest> = fc.oneof(
  // Framing and body shape.
  {
    weight: 6,
    arbitrary: malformedJsonArb.map((body) => request('malformed JSON', body, 400, 'INVALID_JSON')),
  },
  {
    weight: 4,
    arbitrary: fc
      .jsonValue({ maxDepth: 3 })
      .filter((value) => {
        if (value === null || typeof value !== 'object' || Array.isArray(value)) return true;
        const keys = Object.keys(value);
        return !(keys.length === 1 && keys[0] === 'events' && Array.isArray((value as JsonObject)['events']));
      })
      .map((value) => request('not {"events": [...]}', JSON.stringify(value), 400, 'INVALID_BODY')),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        validBodyArb,
        fc.oneof(
          fc.string({ minLength: 1, maxLength: 16 }).filter((key) => key !== 'events'),
          fc.constantFrom('__proto__', 'constructor', 'prototype'),
        ),
        fc.jsonValue({ maxDepth: 2 }),
      )
      .map(([text, key, value]) =>
        request(
          'unknown member next to events',
          `${text.slice(0, -1)},${JSON.stringify(key)}:${JSON.stringify(value)}}`,
          400,
          'INVALID_BODY',
        ),
      ),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('{"events":[]}', ' { "events" : [ ] } ', '{"events":[]}\n')
      .map((body) => request('empty batch', body, 400, 'EMPTY_BATCH')),
  },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 501, max: 540 })
      .map((n) =>
        request(
          'batch of more than 500',
          JSON.stringify({ events: Array.from({ length: n }, (_, i) => validEvent(`many-${i}`, i)) }),
          400,
          'TOO_MANY_EVENTS',
        ),
      ),
  },
  {
    weight: 12,
    arbitrary: invalidEventsArb.map(({ text, errorIndexes, names }) => ({
      ...request(`invalid events (${names.join('; ')})`, text, 400, 'INVALID_EVENTS'),
      kind: 'invalid events',
      expected: { status: 400, code: 'INVALID_EVENTS', errorIndexes },
    })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(validBodyArb, fc.integer({ min: 1, max: 512 * 1024 }))
      .map(([text, over]) =>
        request(
          'body over 5 MiB',
          text + ' '.repeat(MAX_BODY_BYTES - text.length + over),
          413,
          'PAYLOAD_TOO_LARGE',
        ),
      ),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        validBodyArb,
        fc.constantFrom(
          'text/plain',
          'application/xml',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          'application/json; charset=latin1',
          'application/json; charset=utf-16',
          'application/jsonp',
          'application/*',
          'json',
        ),
      )
      .map(([body, contentType]) =>
        request('wrong content type', body, 415, 'UNSUPPORTED_MEDIA_TYPE', { contentType }),
      ),
  },
  // Authentication and authorization: a valid body (it would be stored if these checks let it through),
  // or a malformed one (the gateway must answer before the handler sees it).
  ...[
    { kind: 'unsigned', code: 'MISSING_AUTHENTICATION', auth: fc.constant<Auth>({ kind: 'unsigned' }) },
    {
      kind: 'wrong role',
      code: 'ACCESS_DENIED',
      auth: fc.constantFrom<Role>('reader', 'auditor').map((role): Auth => ({ kind: 'signed', role })),
    },
    { kind: 'wrong secret', code: 'INVALID_SIGNATURE', auth: fc.constant<Auth>({ kind: 'wrong-secret' }) },
    {
      kind: 'unknown access key',
      code: 'UNRECOGNIZED_CLIENT',
      auth: fc
        .string({
          unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'),
          minLength: 16,
          maxLength: 16,
        })
        .map((suffix): Auth => ({ kind: 'unknown-key', accessKeyId: `AKIA${suffix}` })),
    },
    {
      kind: 'other region in the scope',
      code: 'INVALID_SIGNATURE',
      auth: fc
        .constantFrom('eu-west-1', 'us-west-2', 'ddblocal')
        .map((region): Auth => ({ kind: 'wrong-region', region })),
    },
    {
      kind: 'expired or future signature',
      code: 'SIGNATURE_EXPIRED',
      auth: fc
        .tuple(fc.integer({ min: 6 * 60_000, max: 7 * 86_400_000 }), fc.boolean())
        .map(([offset, past]): Auth => ({ kind: 'skewed', offsetMs: past ? -offset : offset })),
    },
    {
      kind: 'session token',
      code: 'UNRECOGNIZED_CLIENT',
      auth: fc.constant<Auth>({ kind: 'session-token' }),
    },
    {
      kind: 'body changed after signing',
      code: 'INVALID_SIGNATURE',
      auth: fc.constant<Auth>({
        kind: 'tamper',
        tamper: (parts) => {
          parts.body = `${String(parts.body)} `;
        },
      }),
    },
    {
      kind: 'signature changed',
      code: 'INVALID_SIGNATURE',
      auth: fc.nat({ max: 63 }).map(
        (at): Auth => ({
          kind: 'tamper',
          tamper: (parts) =>
            swapSignature(parts, (a) => {
              const start = a.indexOf('Signature=') + 10 + at;
              const flipped = a[start] === '0' ? '1' : '0';
              return a.slice(0, start) + flipped + a.slice(start + 1);
            }),
        }),
      ),
    },
    {
      kind: 'garbled Authorization or X-Amz-Date',
      code: 'INCOMPLETE_SIGNATURE',
      auth: fc
        .constantFrom<(parts: SignedRequestParts) => void>(
          (p) => swapSignature(p, (a) => a.replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA1')),
          (p) => swapSignature(p, (a) => a.replace(/, ?Signature=[0-9a-f]+/, '')),
          (p) =>
            swapSignature(p, (a) =>
              a.replace(/Signature=([0-9a-f]+)/, (_m, s: string) => `Signature=${s.toUpperCase()}`),
            ),
          (p) => swapSignature(p, (a) => a.replace('/aws4_request', '')),
          (p) => swapSignature(p, (a) => a.replace(/SignedHeaders=[^,]+/, 'SignedHeaders=content-type')),
          (p) => swapSignature(p, (a) => `${a}, Extra=1`),
          (p) => swapSignature(p, () => 'Bearer abc.def.ghi'),
          (p) => {
            p.headers['x-amz-date'] = '2026-11-22T21:00:00Z';
          },
        )
        .map((tamper): Auth => ({ kind: 'tamper', tamper })),
    },
  ].map(({ kind, code, auth }) => ({
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.oneof({ weight: 3, arbitrary: validBodyArb }, { weight: 1, arbitrary: malformedJsonArb }),
        auth,
      )
      .map(([body, a]) => request(kind, body, 403, code, { auth: a })),
  })),
);

/** Sends one generated request the way its `auth` says. */
async function send(bad: BadRequest): Promise<Response> {
  const { endpoint, roles } = stack.info;
  const headers: Record<string, string> = { 'content-type': bad.contentType };
  if (bad.body.length > 1024 * 1024) {
    // Large bodies: hash them with node:crypto and sign the header, as S3-style clients do.
    headers['x-amz-content-sha256'] = createHash('sha256').update(bad.body).digest('hex');
  }
  const init = { method: 'POST', path: '/v1/events', body: bad.body, headers };
  const auth = bad.auth;
  switch (auth.kind) {
    case 'unsigned':
      return fetch(new URL('/v1/events', endpoint), { method: 'POST', headers, body: bad.body });
    case 'signed':
      return signedFetch(endpoint, roles[auth.role], init);
    case 'wrong-secret':
      return signedFetch(
        endpoint,
        { ...roles.writer, secretAccessKey: randomBytes(30).toString('base64') },
        init,
      );
    case 'unknown-key':
      return signedFetch(endpoint, { accessKeyId: auth.accessKeyId, secretAccessKey: 'x'.repeat(40) }, init);
    case 'wrong-region':
      return signedFetch(endpoint, roles.writer, { ...init, region: auth.region });
    case 'skewed':
      return signedFetch(endpoint, roles.writer, {
        ...init,
        signingDate: new Date(Date.now() + auth.offsetMs),
      });
    case 'session-token':
      return signedFetch(endpoint, roles.writer, {
        ...init,
        headers: { ...headers, 'x-amz-security-token': 'FwoGZXIvYXdzEXAMPLE' },
      });
    case 'tamper':
      return signedFetch(endpoint, roles.writer, { ...init, tamper: auth.tamper });
  }
}

/** Sends one request and checks its answer against what the docs promise. */
async function sendAndAssess(bad: BadRequest): Promise<void> {
  requestsSent++;
  kindsSent.set(bad.kind, (kindsSent.get(bad.kind) ?? 0) + 1);
  const response = await send(bad);
  const text = await response.text();
  const what = `${bad.kind}: answered ${response.status} ${text.slice(0, 300)}`;
  expect(response.status, what).toBeGreaterThanOrEqual(400);
  expect(response.status, what).toBeLessThan(500);
  expect(response.headers.get('content-type'), what).toMatch(/^application\/json\b/);
  const answer = JSON.parse(text) as { code?: unknown; message?: unknown; errors?: { index: number }[] };
  expect(answer, what).toMatchObject({ code: expect.any(String), message: expect.any(String) });
  expect(answer.message, what).not.toBe('');
  expect({ status: response.status, code: answer.code }, what).toEqual({
    status: bad.expected.status,
    code: bad.expected.code,
  });
  if (bad.expected.errorIndexes !== undefined) {
    const indexes = [...new Set((answer.errors ?? []).map((error) => error.index))].sort((a, b) => a - b);
    expect(indexes, what).toEqual(bad.expected.errorIndexes);
  }
}

describe('Route: POST /v1/events through the local gateway and the real handler', () => {
  describe('when more than 1,000 generated malformed requests are sent', () => {
    it('answers each with the documented 4xx {code, message}, never a 5xx', async () => {
      // Prepare
      const batches = fc.array(badRequestArb, { minLength: CONCURRENCY, maxLength: CONCURRENCY });

      // Act
      await fc.assert(
        fc.asyncProperty(batches, async (requests) => {
          await Promise.all(requests.map(sendAndAssess));
        }),
        { numRuns: RUNS, endOnFailure: true },
      );

      // Assess
      expect(requestsSent).toBeGreaterThanOrEqual(1_000);
      expect([...kindsSent.keys()].sort()).toEqual([
        'batch of more than 500',
        'body changed after signing',
        'body over 5 MiB',
        'empty batch',
        'expired or future signature',
        'garbled Authorization or X-Amz-Date',
        'invalid events',
        'malformed JSON',
        'not {"events": [...]}',
        'other region in the scope',
        'session token',
        'signature changed',
        'unknown access key',
        'unknown member next to events',
        'unsigned',
        'wrong content type',
        'wrong role',
        'wrong secret',
      ]);
    }, 180_000);
  });

  describe('when the declared body is larger than the gateway reads', () => {
    it('answers 413 before the body is sent', async () => {
      // Prepare
      const declared = GATEWAY_MAX_BODY_BYTES + 1024 * 1024;
      const parts = await signRequest(stack.info.endpoint, stack.info.roles.writer, {
        method: 'POST',
        path: '/v1/events',
        body: 'unused',
        headers: {
          'x-amz-content-sha256': createHash('sha256').update(Buffer.alloc(declared, 0x20)).digest('hex'),
        },
      });
      const first = Buffer.alloc(64 * 1024, 0x20);

      // Act
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const url = new URL('/v1/events', stack.info.endpoint);
        const req = httpRequest(url, {
          method: 'POST',
          headers: { ...parts.headers, 'content-length': String(declared) },
        });
        req.on('error', reject);
        req.on('response', (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            body += chunk;
          });
          res.on('end', () => {
            req.destroy();
            resolve({ status: res.statusCode ?? 0, body });
          });
        });
        // Only the first 64 KiB of the declared body are ever sent.
        req.write(first);
      });

      // Assess
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.body)).toEqual({ code: 'PAYLOAD_TOO_LARGE', message: expect.any(String) });
    });
  });

  describe('when a body of undeclared length runs past what the gateway reads', () => {
    it('stops reading and answers 413', async () => {
      // Prepare
      const parts = await signRequest(stack.info.endpoint, stack.info.roles.writer, {
        method: 'POST',
        path: '/v1/events',
        body: 'unused',
        headers: { 'x-amz-content-sha256': 'a'.repeat(64) },
      });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const limit = 4 * GATEWAY_MAX_BODY_BYTES;
      let sent = 0;

      // Act
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const url = new URL('/v1/events', stack.info.endpoint);
        const req = httpRequest(url, {
          method: 'POST',
          headers: { ...parts.headers, 'transfer-encoding': 'chunked' },
        });
        let answered = false;
        req.on('error', (error) => {
          // Once the answer is in, the server closing the connection on the rest of the body is expected.
          if (!answered) reject(error);
        });
        req.on('response', (res) => {
          answered = true;
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (text: string) => {
            body += text;
          });
          res.on('end', () => {
            req.destroy();
            resolve({ status: res.statusCode ?? 0, body });
          });
        });
        // One chunk at a time, yielding in between, so that the answer is seen as soon as it arrives.
        const pump = async () => {
          while (!answered && sent < limit) {
            await new Promise<void>((done, fail) =>
              req.write(chunk, (error) => (error ? fail(error) : done())),
            );
            sent += chunk.length;
            await new Promise((done) => setImmediate(done));
          }
          if (!answered) req.end();
        };
        pump().catch((error: unknown) => {
          if (!answered) reject(error);
        });
      });

      // Assess
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.body)).toEqual({ code: 'PAYLOAD_TOO_LARGE', message: expect.any(String) });
      expect(sent).toBeLessThan(limit);
    });
  });

  describe('when every bad request has been answered', () => {
    it('leaves the ledger table exactly as it was', async () => {
      // Act
      const tableAfter = await scanTable();

      // Assess
      expect(requestsSent).toBeGreaterThanOrEqual(1_000);
      expect(tableAfter).toHaveLength(tableBefore.length);
      expect(tableAfter).toEqual(tableBefore);
    });
  });
});

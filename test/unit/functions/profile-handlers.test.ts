/**
 * The resource profile routes at handler level, over in-memory adapters: the ledger store writes each
 * version with its event into the in-memory profile store, as DynamoDB does in one transaction; reads are
 * recorded in an in-memory read journal. (The same routes run on the local stack in
 * test/integration/profiles-local-stack.test.ts.)
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  createGetProfileHandler,
  createGetTimelineHandler,
  createPutProfileHandler,
  type ProfileReadDeps,
  type ProfileWriteDeps,
} from '../../../functions/profile-handlers.ts';
import { parseProfile } from '../../../shared/profiles/profile.ts';
import { buildNextVersion } from '../../../shared/profiles/version.ts';
import { CursorCodec } from '../../../shared/query/cursor.ts';
import { InMemoryReadJournal } from '../../../shared/storage/in-memory-read-journal.ts';
import { type Harness, harness, LEDGER } from '../ingest/ingest-fixtures.ts';
import { recordingLogger } from './http-fixtures.ts';

/** A real ARN with `/` and `:` (the route must take it). */
const ROLE = 'arn:aws:iam::609418236337:role/service-role/stratus-red-team-malicious-iam-role';
const WRITER = 'arn:aws:sts::123456789012:assumed-role/auditseal-writer/app';
const context = { awsRequestId: 'req-1' } as Context;

function request(
  method: 'GET' | 'PUT',
  id: string | null,
  options: { body?: string; query?: Record<string, string> } = {},
): APIGatewayProxyEvent {
  return {
    httpMethod: method,
    path: '/v1/resources/{id}/profile',
    headers: options.body === undefined ? {} : { 'Content-Type': 'application/json' },
    multiValueHeaders: {},
    queryStringParameters: options.query ?? null,
    multiValueQueryStringParameters: null,
    pathParameters: id === null ? null : { id },
    stageVariables: null,
    body: options.body ?? null,
    isBase64Encoded: false,
    resource: '/v1/resources/{id}/profile',
    requestContext: { requestId: 'r-1', identity: { userArn: WRITER } } as never,
  };
}

function profile(minute: number, configuration: unknown, extra: object = {}) {
  return {
    resourceId: ROLE,
    resourceType: 'AWS::IAM::Role',
    configuration,
    tags: { team: 'audit' },
    lastModified: new Date(Date.UTC(2026, 10, 22, 21, minute)).toISOString(),
    source: 'api',
    ...extra,
  };
}

async function setup(storeOptions: Parameters<typeof harness>[0] = {}) {
  const h = await harness(storeOptions);
  const { logger } = recordingLogger();
  const write: ProfileWriteDeps = { ledger: LEDGER, profiles: h.profiles, ingest: h.deps, logger };
  const journal = new InMemoryReadJournal();
  const read: ProfileReadDeps = {
    ledger: LEDGER,
    profiles: h.profiles,
    resourceEvents: async function* () {},
    cursors: new CursorCodec(new Uint8Array(32).fill(7)),
    journal,
    logger,
    now: h.clock.now,
  };
  const put = createPutProfileHandler(() => Promise.resolve(write));
  const get = createGetProfileHandler(() => Promise.resolve(read));
  const timeline = createGetTimelineHandler(() => Promise.resolve(read));
  const call = async (
    handler: (e: APIGatewayProxyEvent, c: Context) => Promise<APIGatewayProxyResult>,
    event: APIGatewayProxyEvent,
  ) => {
    const response = await handler(event, context);
    return { status: response.statusCode, body: JSON.parse(response.body) as Record<string, unknown> };
  };
  return {
    h,
    journal,
    put: (body: unknown, id = encodeURIComponent(ROLE)) =>
      call(put, request('PUT', id, { body: typeof body === 'string' ? body : JSON.stringify(body) })),
    get: (query: Record<string, string> = {}, id = encodeURIComponent(ROLE)) =>
      call(get, request('GET', id, { query })),
    timeline: (query: Record<string, string> = {}) =>
      call(timeline, request('GET', encodeURIComponent(ROLE), { query })),
  };
}

describe('Handler: PUT /v1/resources/{id}/profile', () => {
  it('answers 201 with version 1, then 201 with version 2 and its diff, then 200 for the same content', async () => {
    // Prepare
    const { put, h } = await setup();

    // Act
    const first = await put(profile(0, { maxSessionDuration: 3600 }));
    h.clock.nowMs += 1000;
    const second = await put(profile(5, { maxSessionDuration: 7200 }));
    const again = await put(profile(9, { maxSessionDuration: 7200 }));

    // Assess
    expect([first.status, second.status, again.status]).toEqual([201, 201, 200]);
    expect(second.body).toMatchObject({
      status: 'created',
      version: { n: 2 },
      diff: { from: 1, patch: [{ op: 'replace', path: '/configuration/maxSessionDuration', value: 7200 }] },
      receipt: expect.any(Object),
    });
    expect(again.body).toMatchObject({ status: 'unchanged', version: { n: 2 } });
    expect(h.store.eventCount).toBe(2);
  });

  describe.each<[string, unknown, string | undefined, number, string]>([
    ['the body is not JSON', '{"resourceId":', undefined, 400, 'INVALID_JSON'],
    ['the body is an array', [profile(0, null)], undefined, 400, 'INVALID_BODY'],
    [
      'the profile breaks the schema',
      { ...profile(0, null), source: 'mainframe' },
      undefined,
      400,
      'INVALID_PROFILE',
    ],
    [
      'the profile has an unknown member',
      { ...profile(0, null), colour: 'red' },
      undefined,
      400,
      'INVALID_PROFILE',
    ],
    [
      'the profile names another resource',
      { ...profile(0, null), resourceId: 'arn:aws:s3:::other' },
      undefined,
      400,
      'INVALID_BODY',
    ],
    ['the path id has a control character', profile(0, null), '%00bad', 400, 'INVALID_PATH'],
    ['the path id is missing', profile(0, null), '', 400, 'INVALID_PATH'],
  ])('when %s', (_name, body, id, status, code) => {
    it(`answers ${status} ${code} and writes nothing`, async () => {
      // Prepare
      const { put, h } = await setup();

      // Act
      const response = await put(body, id);

      // Assess
      expect(response.status).toBe(status);
      expect(response.body).toMatchObject({ code, message: expect.any(String) });
      expect(h.store.eventCount).toBe(0);
      expect(await h.profiles.head(ROLE)).toBeUndefined();
    });
  });

  describe('when another writer takes the next position first', () => {
    it('answers 409 VERSION_CONFLICT with the current version, and stores only the winner', async () => {
      // Prepare: just before this write commits, another writer's version 1 lands.
      let raced = false;
      const h0: { h?: Harness } = {};
      const { put, h } = await setup({
        beforeGroup: async () => {
          if (raced) return;
          raced = true;
          const winner = parseProfile(profile(1, { maxSessionDuration: 43200 }));
          const built = buildNextVersion(
            winner,
            { head: undefined, sameContent: undefined, inForce: undefined },
            h0.h!.clock.now(),
          );
          if (built.status === 'new') await h0.h!.profiles.putVersion(built.version);
        },
      });
      h0.h = h;

      // Act
      const response = await put(profile(0, { maxSessionDuration: 3600 }));

      // Assess
      expect(response.status).toBe(409);
      expect(response.body).toMatchObject({
        code: 'VERSION_CONFLICT',
        reason: 'VERSION_TAKEN',
        current: { n: 1, profile: { configuration: { maxSessionDuration: 43200 } } },
      });
      expect(h.store.eventCount).toBe(0);
      expect((await h.profiles.head(ROLE))?.profile.configuration).toEqual({ maxSessionDuration: 43200 });
    });
  });
});

describe('Handler: GET /v1/resources/{id}/profile', () => {
  it('answers the version in force exactly at a boundary and the latest without at, and records the read', async () => {
    // Prepare
    const { put, get, h, journal } = await setup();
    await put(profile(0, { maxSessionDuration: 3600 }));
    h.clock.nowMs += 1000;
    await put(profile(5, { maxSessionDuration: 7200 }));

    // Act
    const atBoundary = await get({ at: '2026-11-22T21:05:00Z' });
    const before = await get({ at: '2026-11-22T21:04:59.999Z' });
    const latest = await get();

    // Assess
    expect(atBoundary).toMatchObject({ status: 200, body: { version: { n: 2 } } });
    expect(before).toMatchObject({ status: 200, body: { version: { n: 1 } } });
    expect(latest).toMatchObject({ status: 200, body: { version: { n: 2 } } });
    expect(journal.records).toHaveLength(3);
  });

  describe('when the resource has no version yet', () => {
    it('answers 404 NO_PROFILE', async () => {
      // Act
      const { get } = await setup();
      const response = await get();

      // Assess
      expect(response).toMatchObject({
        status: 404,
        body: { code: 'NO_PROFILE', message: expect.any(String) },
      });
    });
  });

  describe('when the time is before the first version', () => {
    it('answers 404 BEFORE_FIRST_VERSION', async () => {
      // Prepare
      const { put, get } = await setup();
      await put(profile(10, null));

      // Act
      const response = await get({ at: '2026-11-22T21:09:59Z' });

      // Assess
      expect(response).toMatchObject({ status: 404, body: { code: 'BEFORE_FIRST_VERSION' } });
    });
  });

  describe.each([
    ['at is not a time', { at: 'yesterday' }, encodeURIComponent(ROLE), 'INVALID_QUERY'],
    [
      'an unknown parameter is given',
      { when: '2026-11-22T21:00:00Z' },
      encodeURIComponent(ROLE),
      'INVALID_QUERY',
    ],
    ['the id is not a resource id', {}, encodeURIComponent(' padded '), 'INVALID_PATH'],
  ])('when %s', (_name, query, id, code) => {
    it(`answers 400 ${code} and records no read`, async () => {
      // Act
      const { get, journal } = await setup();
      const response = await get(query, id);

      // Assess
      expect(response).toMatchObject({ status: 400, body: { code } });
      expect(journal.records).toEqual([]);
    });
  });
});

describe('Handler: GET /v1/resources/{id}/timeline', () => {
  it('pages the versions in time order with their diffs and an authenticated cursor', async () => {
    // Prepare
    const { put, timeline, h } = await setup();
    await put(profile(5, { maxSessionDuration: 7200 }));
    h.clock.nowMs += 1000;
    await put(profile(0, { maxSessionDuration: 3600 }));

    // Act
    const first = await timeline({ limit: '1' });
    const second = await timeline({ limit: '1', cursor: String(first.body['nextCursor']) });

    // Assess
    expect(first).toMatchObject({ status: 200, body: { items: [{ kind: 'version', version: { n: 2 } }] } });
    expect(second).toMatchObject({
      status: 200,
      body: {
        items: [
          {
            kind: 'version',
            version: { n: 1 },
            diff: { from: 2, patch: [{ path: '/configuration/maxSessionDuration', value: 7200 }] },
          },
        ],
      },
    });
  });

  describe.each([
    ['the cursor is forged', { cursor: 'eyJ0IjoiMjAyNiJ9' }, 'INVALID_CURSOR'],
    ['the limit is 0', { limit: '0' }, 'INVALID_QUERY'],
    ['from is not a time', { from: 'noon' }, 'INVALID_QUERY'],
  ])('when %s', (_name, query, code) => {
    it(`answers 400 ${code}`, async () => {
      // Act
      const { timeline } = await setup();
      const response = await timeline(query);

      // Assess
      expect(response).toMatchObject({ status: 400, body: { code, message: expect.any(String) } });
    });
  });

  describe('when the cursor was issued for another time range', () => {
    it('answers 400 CURSOR_MISMATCH', async () => {
      // Prepare
      const { put, timeline, h } = await setup();
      await put(profile(0, null));
      h.clock.nowMs += 1000;
      await put(profile(5, { a: 1 }));
      const page = await timeline({ limit: '1' });

      // Act
      const response = await timeline({
        limit: '1',
        from: '2026-11-22T21:00:00Z',
        cursor: String(page.body['nextCursor']),
      });

      // Assess
      expect(response).toMatchObject({ status: 400, body: { code: 'CURSOR_MISMATCH' } });
    });
  });
});

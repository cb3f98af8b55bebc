/**
 * Resource profiles end to end on the real local stack (`npm start`'s handlers, routes and roles from the
 * route table), with a 60 s period: versions written through `PUT …/profile` (each sealed with its ledger
 * event), a race for one position, idempotent rewrites, every bad input a 400, reads at a time, the
 * timeline with diffs and the events on the resource, paged with authenticated cursors; then the period
 * is sealed, downloaded, and the folder verifies VALID with the version events in it.
 *
 * Steps run in order and build on each other; the file waits for one period to be sealed (about 80 s).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDownload } from '../../cli/commands/download.ts';
import { renderTimeline, runTimeline } from '../../cli/commands/profiles.ts';
import { loadLocalFunctions } from '../../local/routes.ts';
import { canonicalBytes } from '../../shared/canonical/jcs.ts';
import { loadPublicKey, TrustedKeySet } from '../../shared/crypto/keys.ts';
import { parseAuditEvent } from '../../shared/events/audit-event.ts';
import { resourcePath } from '../../shared/profiles/api.ts';
import { hashVersionBytes } from '../../shared/profiles/version.ts';
import { eventPath } from '../../shared/query/event-path.ts';
import { FolderReader } from '../../shared/verify/object-reader.ts';
import { verifyFolder } from '../../shared/verify/verify-folder.ts';
import { until } from '../support/dynamodb-local.ts';
import { startTestLocalStack, type TestLocalStack } from '../support/local-stack.ts';
import { signedFetch } from '../support/signed-fetch.ts';

const PERIOD_MS = 60_000;
const BUCKET = 'arn:aws:s3:::auditseal-profiles-demo';

let stack: TestLocalStack;
let keys: TrustedKeySet;
let scratch: string;
let startMs = 0;

type Role = 'writer' | 'reader' | 'auditor';
type Body = Record<string, unknown>;

async function call(role: Role, method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown) {
  const response = await signedFetch(stack.info.endpoint, stack.info.roles[role], {
    method,
    path,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Body };
}

function bucketProfile(minute: number, configuration: unknown, extra: object = {}) {
  return {
    resourceId: BUCKET,
    resourceType: 'AWS::S3::Bucket',
    configuration,
    tags: { team: 'audit' },
    lastModified: new Date(Date.UTC(2026, 10, 22, 21, minute)).toISOString(),
    source: 'api',
    ...extra,
  };
}

const put = (profile: unknown, id = BUCKET) => call('writer', 'PUT', resourcePath(id, '/profile'), profile);
const version = (body: Body) => body['version'] as Body;

beforeAll(async () => {
  process.env['POWERTOOLS_LOG_LEVEL'] ??= 'ERROR';
  stack = await startTestLocalStack({
    periodSeconds: 60,
    heartbeatOffsetSeconds: 16,
    functions: loadLocalFunctions,
  });
  keys = new TrustedKeySet([loadPublicKey(stack.info.publicKeyPem)]);
  scratch = mkdtempSync(join(tmpdir(), 'auditseal-profiles-'));
  const intoPeriod = Date.now() % PERIOD_MS;
  if (intoPeriod > 40_000) await new Promise((r) => setTimeout(r, PERIOD_MS - intoPeriod + 500));
  startMs = Math.floor(Date.now() / PERIOD_MS) * PERIOD_MS;
}, 180_000);

afterAll(async () => {
  await stack?.cleanup();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('PUT /v1/resources/{id}/profile (writer)', () => {
  it('records versions 1 and 2, chained, each with its diff and a receipt', async () => {
    const first = await put(bucketProfile(0, { versioning: 'Suspended', encryption: 'AES256' }));
    const second = await put(bucketProfile(10, { versioning: 'Enabled', encryption: 'AES256' }));
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(second.status, JSON.stringify(second.body)).toBe(201);
    expect(version(first.body)).toMatchObject({ n: 1, previousHash: null });
    expect(version(second.body)).toMatchObject({ n: 2, previousHash: version(first.body)['hash'] });
    expect(second.body['diff']).toMatchObject({
      from: 1,
      patch: [{ op: 'replace', path: '/configuration/versioning', value: 'Enabled' }],
    });
    expect(second.body['receipt']).toMatchObject({ eventId: version(second.body)['eventId'] });
  });

  it('answers the same content again with 200 and the stored version (also with a later time)', async () => {
    const again = await put(bucketProfile(10, { versioning: 'Enabled', encryption: 'AES256' }));
    const later = await put(bucketProfile(12, { versioning: 'Enabled', encryption: 'AES256' }));
    expect(again).toMatchObject({ status: 200, body: { status: 'unchanged', version: { n: 2 } } });
    expect(later).toMatchObject({ status: 200, body: { status: 'unchanged', version: { n: 2 } } });
  });

  it('lets exactly one of three racing writers take position 3; the others get 409 with it', async () => {
    const answers = await Promise.all(
      ['a', 'b', 'c'].map((owner) =>
        put(bucketProfile(20, { versioning: 'Enabled', encryption: 'AES256', owner })),
      ),
    );
    const created = answers.filter((a) => a.status === 201);
    const refused = answers.filter((a) => a.status === 409);
    expect(created).toHaveLength(1);
    expect(refused).toHaveLength(2);
    for (const r of refused) {
      expect(r.body).toMatchObject({
        code: 'VERSION_CONFLICT',
        current: { n: 3, hash: version(created[0]!.body)['hash'] },
      });
    }
  });

  it('puts a late item (older effective time) at the next position, and in its place in time', async () => {
    const late = await put(bucketProfile(5, { versioning: 'Suspended', encryption: 'aws:kms' }));
    expect(late.status, JSON.stringify(late.body)).toBe(201);
    expect(version(late.body)).toMatchObject({ n: 4 });
  });

  describe.each<[string, () => Promise<{ status: number; body: Body }>]>([
    ['a body that is not JSON', () => put('{"resourceId":')],
    ['a body that is an array', () => put([])],
    ['an unknown member', () => put({ ...bucketProfile(30, {}), colour: 'red' })],
    ['a bad time', () => put(bucketProfile(30, {}, { lastModified: 'yesterday' }))],
    ['a bad source', () => put(bucketProfile(30, {}, { source: 'email' }))],
    ['a forbidden member name', () => put(JSON.parse(`{"resourceId":"${BUCKET}","__proto__":{}}`))],
    ['a resource id other than the path', () => put(bucketProfile(30, {}), 'arn:aws:s3:::other')],
    [
      'a configuration too deep',
      () => put(bucketProfile(30, JSON.parse(`${'['.repeat(40)}${']'.repeat(40)}`))),
    ],
  ])('when the request has %s', (_name, send) => {
    it('answers 400 with a code and a message, and writes nothing', async () => {
      const { status, body } = await send();
      expect(status, JSON.stringify(body)).toBe(400);
      expect(body).toMatchObject({ code: expect.any(String), message: expect.any(String) });
      const head = await call('reader', 'GET', resourcePath(BUCKET, '/profile'));
      expect(version(head.body)['n']).not.toBeGreaterThan(4);
    });
  });
});

describe('GET /v1/resources/{id}/profile (reader)', () => {
  it('answers the version in force at a time, exactly at a boundary, and the latest without one', async () => {
    const at = (t: string) =>
      call('reader', 'GET', `${resourcePath(BUCKET, '/profile')}?at=${encodeURIComponent(t)}`);
    expect(version((await at('2026-11-22T21:07:00Z')).body)).toMatchObject({ n: 4 });
    expect(version((await at('2026-11-22T21:10:00.000Z')).body)).toMatchObject({ n: 2 });
    expect(version((await at('2026-11-22T22:00:00+01:00')).body)).toMatchObject({ n: 1 });
    const latest = await call('reader', 'GET', resourcePath(BUCKET, '/profile'));
    expect(latest.body).toMatchObject({ state: 'present', version: { n: 3 } });
  });

  it('answers 404 BEFORE_FIRST_VERSION before the first version, and NO_PROFILE for an unknown resource', async () => {
    const before = await call('reader', 'GET', `${resourcePath(BUCKET, '/profile')}?at=2026-11-22T20:59:59Z`);
    expect(before).toMatchObject({ status: 404, body: { code: 'BEFORE_FIRST_VERSION', first: { n: 1 } } });
    const none = await call('reader', 'GET', resourcePath('arn:aws:s3:::nobody', '/profile'));
    expect(none).toMatchObject({ status: 404, body: { code: 'NO_PROFILE' } });
  });

  describe.each([
    ['a bad time', '?at=noon'],
    ['an unknown parameter', '?when=now'],
    ['a repeated parameter', '?at=2026-11-22T21:00:00Z&at=2026-11-22T21:01:00Z'],
  ])('when the query has %s', (_name, query) => {
    it('answers 400 INVALID_QUERY', async () => {
      const { status, body } = await call('reader', 'GET', `${resourcePath(BUCKET, '/profile')}${query}`);
      expect(status).toBe(400);
      expect(body).toMatchObject({ code: 'INVALID_QUERY' });
    });
  });
});

describe('GET /v1/resources/{id}/timeline (reader)', () => {
  it('merges versions in time order, each with its diff, with the events on the resource', async () => {
    const posted = await call('writer', 'POST', '/v1/events', {
      events: [
        {
          id: 'profiles-it-put-bucket-versioning',
          eventTime: new Date().toISOString(),
          actor: { id: 'arn:aws:sts::123456789012:assumed-role/Admin/alice', type: 'role' },
          action: 's3:PutBucketVersioning',
          resource: { id: BUCKET, type: 'AWS::S3::Bucket' },
          outcome: { result: 'success' },
        },
      ],
    });
    expect(posted.status).toBe(201);
    const page = await runTimeline(
      BUCKET,
      { all: true },
      {
        endpoint: stack.info.endpoint,
        region: stack.info.region,
        credentials: stack.info.roles.reader,
      },
    );
    const versions = page.items.filter((i) => i['kind'] === 'version').map((i) => version(i));
    expect(versions.map((v) => v['n'])).toEqual([1, 4, 2, 3]);
    const diffs = page.items.filter((i) => i['kind'] === 'version').map((i) => i['diff'] as Body);
    expect(diffs[1]).toMatchObject({
      from: 1,
      patch: [{ path: '/configuration/encryption', value: 'aws:kms' }],
    });
    const events = page.items.filter((i) => i['kind'] === 'event').map((i) => i['event'] as Body);
    expect(events.map((e) => e['id'])).toEqual(['profiles-it-put-bucket-versioning']);
    expect(renderTimeline(page)).toContain('replace /configuration/versioning = "Enabled"');
  });

  it('pages one item at a time with authenticated cursors, in the same order', async () => {
    const path = resourcePath(BUCKET, '/timeline');
    const seen: string[] = [];
    let cursor: string | undefined;
    let first: string | undefined;
    do {
      const query = `?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const { status, body } = await call('reader', 'GET', `${path}${query}`);
      expect(status, JSON.stringify(body)).toBe(200);
      const [item] = body['items'] as Body[];
      if (item) seen.push(item['kind'] === 'version' ? `v${version(item)['n']}` : 'event');
      cursor = body['nextCursor'] as string | undefined;
      first ??= cursor;
    } while (cursor !== undefined && seen.length < 20);
    expect(seen).toEqual(['v1', 'v4', 'v2', 'v3', 'event']);
    const other = await call(
      'reader',
      'GET',
      `${path}?from=2026-01-01T00:00:00Z&cursor=${encodeURIComponent(first!)}`,
    );
    expect(other).toMatchObject({ status: 400, body: { code: 'CURSOR_MISMATCH' } });
    const altered = `${first!.slice(0, 4)}${first![4] === 'A' ? 'B' : 'A'}${first!.slice(5)}`;
    const forged = await call('reader', 'GET', `${path}?cursor=${encodeURIComponent(altered)}`);
    expect(forged).toMatchObject({ status: 400, body: { code: 'INVALID_CURSOR' } });
  });

  describe.each([
    ['a reversed range', '?from=2026-11-22T22:00:00Z&to=2026-11-22T21:00:00Z'],
    ['a limit of 0', '?limit=0'],
    ['a limit over 1000', '?limit=1001'],
    ['a cursor that is not one', '?cursor=hello'],
  ])('when the query has %s', (_name, query) => {
    it('answers 400', async () => {
      const { status, body } = await call('reader', 'GET', `${resourcePath(BUCKET, '/timeline')}${query}`);
      expect(status, JSON.stringify(body)).toBe(400);
      expect(body).toMatchObject({ code: expect.stringMatching(/^INVALID_(QUERY|CURSOR)$/) });
    });
  });
});

describe('GET /v1/events/{id}?include=profile (reader)', () => {
  const ROLE = 'arn:aws:iam::123456789012:role/app-db';
  const event = (id: string, eventTime: string) => ({
    id,
    eventTime,
    actor: { id: 'alice', type: 'user' },
    action: 'iam:UpdateAssumeRolePolicy',
    resource: { id: ROLE, type: 'AWS::IAM::Role' },
    outcome: { result: 'success' },
  });
  const profile = (minute: number, configuration: unknown, extra: object = {}) => ({
    resourceId: ROLE,
    resourceType: 'AWS::IAM::Role',
    configuration,
    lastModified: new Date(Date.UTC(2026, 10, 22, 21, minute)).toISOString(),
    source: 'api',
    ...extra,
  });

  it('names the version in force at the event time, and the version after it that the event caused', async () => {
    await put(profile(0, { trust: 'ec2' }), ROLE);
    await put(profile(30, { trust: 'ec2+lambda' }, { relatedEventIds: ['profiles-it-trust-change'] }), ROLE);
    const posted = await call('writer', 'POST', '/v1/events', {
      events: [
        event('profiles-it-trust-change', '2026-11-22T21:25:00Z'),
        event('profiles-it-early', '2026-11-22T20:00:00Z'),
      ],
    });
    expect(posted.status).toBe(201);

    const changed = await call('reader', 'GET', `${eventPath('profiles-it-trust-change')}?include=profile`);
    const early = await call('reader', 'GET', `${eventPath('profiles-it-early')}?include=profile`);
    const plain = await call('reader', 'GET', eventPath('profiles-it-trust-change'));

    expect(changed.body['profile']).toMatchObject({ resourceId: ROLE, atEvent: { n: 1 }, after: { n: 2 } });
    expect(early.body['profile']).toEqual({ resourceId: ROLE, atEvent: null });
    expect(plain.body['profile']).toBeUndefined();
    const bad = await call('reader', 'GET', `${eventPath('profiles-it-early')}?include=everything`);
    expect(bad).toMatchObject({ status: 400, body: { code: 'INVALID_QUERY' } });
  });

  it('gives each search result the same versions with include=profile on GET /v1/events', async () => {
    const query = `resource=${encodeURIComponent(ROLE)}&action=iam%3AUpdateAssumeRolePolicy`;
    const found = await until(async () => {
      const { body } = await call('reader', 'GET', `/v1/events?${query}`);
      return (body['events'] as unknown[]).length >= 2;
    }, 30_000);
    expect(found).toBe(true);

    const withProfile = await call('reader', 'GET', `/v1/events?${query}&include=profile`);
    const plain = await call('reader', 'GET', `/v1/events?${query}`);

    expect(withProfile.status).toBe(200);
    const byId = new Map(
      (withProfile.body['events'] as { id: string; profile: unknown }[]).map((e) => [e.id, e.profile]),
    );
    expect(byId.get('profiles-it-trust-change')).toMatchObject({
      resourceId: ROLE,
      atEvent: { n: 1 },
      after: { n: 2 },
    });
    expect(byId.get('profiles-it-early')).toEqual({ resourceId: ROLE, atEvent: null });
    for (const e of plain.body['events'] as Record<string, unknown>[]) expect(e['profile']).toBeUndefined();
    const bad = await call('reader', 'GET', `/v1/events?${query}&include=everything`);
    expect(bad).toMatchObject({ status: 400, body: { code: 'INVALID_QUERY' } });
  });
});

describe('after the period is sealed', () => {
  it('the version events are sealed, carry the version bytes, and the downloaded folder verifies VALID', async () => {
    const latest = await call('reader', 'GET', resourcePath(BUCKET, '/profile'));
    const eventId = version(latest.body)['eventId'] as string;
    const sealed = await until(async () => {
      const { body } = await call('reader', 'GET', eventPath(eventId));
      return body['sealed'] === true;
    }, 150_000);
    expect(sealed).toBe(true);
    const { body } = await call('reader', 'GET', eventPath(eventId));
    const event = parseAuditEvent(JSON.parse(body['eventJson'] as string));
    expect(event.channel).toBe('profile');
    expect(hashVersionBytes(canonicalBytes(event.profileVersion))).toBe(version(latest.body)['hash']);

    const out = join(scratch, 'sealed');
    const endMs = Math.floor(Date.now() / PERIOD_MS) * PERIOD_MS;
    await runDownload(
      { fromMs: startMs, toMs: endMs, out, json: true },
      {
        endpoint: stack.info.endpoint,
        region: stack.info.region,
        credentials: stack.info.roles.auditor,
      },
    );
    const report = await verifyFolder(new FolderReader(out), { keys });
    expect(report.findings).toEqual([]);
    expect(report.valid).toBe(true);
    expect(report.stats.events).toBeGreaterThanOrEqual(5);
  }, 200_000);
});

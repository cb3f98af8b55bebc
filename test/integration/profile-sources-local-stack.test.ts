/**
 * AWS Config and CloudTrail as profile sources, end to end on the real local stack: `auditseal local
 * replay-eventbridge` delivers EventBridge events through the real forwarder into DynamoDB Local (signed
 * with moto's KMS), then the API answers the timeline, the profile at a time and `include=profile`, the
 * period is sealed and downloaded, and the folder verifies VALID with the versions in their chains.
 *
 * Input: `examples/profiles/eventbridge-sample.jsonl` (the README's sample, built from ../shared/data by
 * scripts/profile-sample.ts, provenance per line beside it), and every real configuration item of
 * `../shared/data/config/configuration-items/` wrapped as EventBridge delivers it (ours: `detail` is the
 * notification, test/unit/profiles/config-fixtures.ts).
 *
 * Steps run in order and build on each other; the file waits for one period to be sealed (about 80 s).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDownload } from '../../cli/commands/download.ts';
import { runEventBridgeReplay } from '../../cli/commands/replay-eventbridge.ts';
import { loadLocalFunctions } from '../../local/routes.ts';
import { loadPublicKey, TrustedKeySet } from '../../shared/crypto/keys.ts';
import { resourcePath } from '../../shared/profiles/api.ts';
import { eventPath } from '../../shared/query/event-path.ts';
import { FolderReader } from '../../shared/verify/object-reader.ts';
import { verifyFolder } from '../../shared/verify/verify-folder.ts';
import { REPO_ROOT, until } from '../support/dynamodb-local.ts';
import { startTestLocalStack, type TestLocalStack } from '../support/local-stack.ts';
import { signedFetch } from '../support/signed-fetch.ts';
import { configEventText, configItemFiles, notificationsOf } from '../unit/profiles/config-fixtures.ts';

const PERIOD_MS = 60_000;
const SAMPLE = join(REPO_ROOT, 'examples', 'profiles', 'eventbridge-sample.jsonl');
const CONFIG_BUCKET = 'arn:aws:s3:::mborch-test-bucket-config-item';
const TRAIL_BUCKET = 'arn:aws:s3:::example-bucket';
const POLICY_EVENT = 'ct:7f3c2a9e-5b1d-4c8e-9a2f-000000000001';
/** The real PutBucketPolicy (all_permissive.jsonl line 701) and DeleteBucket (line 723) on the trail's bucket. */
const TRAIL_POLICY_EVENT = 'ct:7f3c2a9e-5b1d-4c8e-9a2f-000000000002';
const TRAIL_DELETE_EVENT = 'ct:7f3c2a9e-5b1d-4c8e-9a2f-000000000003';

let stack: TestLocalStack;
let keys: TrustedKeySet;
let scratch: string;
let startMs = 0;
/** Every resource the replays gave a version. */
const resources = new Set<string>();

type Body = Record<string, unknown>;

async function read(path: string) {
  const response = await signedFetch(stack.info.endpoint, stack.info.roles.reader, { method: 'GET', path });
  return { status: response.status, body: (await response.json()) as Body };
}

beforeAll(async () => {
  process.env['POWERTOOLS_LOG_LEVEL'] ??= 'ERROR';
  stack = await startTestLocalStack({
    periodSeconds: 60,
    heartbeatOffsetSeconds: 16,
    functions: loadLocalFunctions,
  });
  keys = new TrustedKeySet([loadPublicKey(stack.info.publicKeyPem)]);
  scratch = mkdtempSync(join(tmpdir(), 'auditseal-profile-sources-'));
  const intoPeriod = Date.now() % PERIOD_MS;
  if (intoPeriod > 30_000) await new Promise((r) => setTimeout(r, PERIOD_MS - intoPeriod + 500));
  startMs = Math.floor(Date.now() / PERIOD_MS) * PERIOD_MS;
}, 180_000);

afterAll(async () => {
  await stack?.cleanup();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('auditseal local replay-eventbridge', () => {
  it('delivers the sample: Config items and CloudTrail-derived versions recorded, the duplicate found', async () => {
    const summary = await runEventBridgeReplay(SAMPLE, { localFile: stack.localFile, json: true });

    expect(summary).toMatchObject({
      envelopes: 10,
      delivered: 10,
      failed: 0,
      rejected: [],
      versions: { 'aws-config': { created: 6, unchanged: 1 }, cloudtrail: { created: 2, unchanged: 0 } },
    });
    // 6 Config versions and the 3 CloudTrail events stored; line 4 is line 1 again.
    expect(summary.stored).toBe(9);
    expect(summary.duplicates).toBe(1);
    expect(summary.resources).toContain(CONFIG_BUCKET);
    for (const id of summary.resources) resources.add(id);
    expect(summary.resources).toContain(TRAIL_BUCKET);
  }, 120_000);

  it('delivers every real configuration item, and a second replay stores nothing new', async () => {
    const file = join(scratch, 'config-items.jsonl');
    const bodies = configItemFiles()
      .filter((f) => f.value !== undefined)
      .flatMap((f) => notificationsOf(f.value).map((n, i) => configEventText(n, i)));
    writeFileSync(file, `${bodies.join('\n')}\n`);

    const first = await runEventBridgeReplay(file, { localFile: stack.localFile, json: true });
    const again = await runEventBridgeReplay(file, { localFile: stack.localFile, json: true });

    // The bucket's item is already stored from the sample; the certificate's capture time is a Python repr.
    expect(first.rejected).toEqual([{ line: 1, reason: 'BAD_CAPTURE_TIME', path: expect.any(String) }]);
    expect(first.versions['aws-config']).toEqual({ created: 66, unchanged: 1 });
    expect(again.versions['aws-config']).toEqual({ created: 0, unchanged: 67 });
    expect(again.failed).toBe(0);
    for (const id of first.resources) resources.add(id);
  }, 240_000);
});

describe('reading what the sources recorded (reader role)', () => {
  it('shows the Config bucket’s versions with their diff, and the CloudTrail call on it', async () => {
    const path = `${resourcePath(CONFIG_BUCKET, '/timeline')}?limit=50`;
    const linked = await until(async () => {
      const { body } = await read(path);
      return (body['items'] as Body[]).some((i) => i['kind'] === 'event');
    }, 30_000);
    expect(linked).toBe(true);
    const items = (await read(path)).body['items'] as Body[];
    const versions = items.filter((i) => i['kind'] === 'version');
    expect(versions.map((v) => (v['version'] as Body)['n'])).toEqual([1, 2]);
    expect((versions[1]!['version'] as Body)['profile']).toMatchObject({
      source: 'aws-config',
      relatedEventIds: [POLICY_EVENT],
    });
    expect(versions[1]!['diff']).toMatchObject({
      from: 1,
      patch: [{ op: 'replace', path: '/supplementaryConfiguration/BucketPolicy/policyText' }],
    });
    const events = items
      .filter((i) => i['kind'] === 'event')
      .map((i) => (i['event'] as Body)['id'] as string);
    // The CloudTrail call, and the detection alert a Sigma rule raised on it (an alert names the resource too).
    expect(events.filter((id) => !id.startsWith('det:'))).toEqual([POLICY_EVENT]);
    // Placed at its own time (2019-02-12T08:00:00Z), between the item before it and the item it caused,
    // though it was stored years later, after both.
    const order = items
      .map((i) => (i['kind'] === 'version' ? `v${(i['version'] as Body)['n']}` : (i['event'] as Body)['id']))
      .filter((label) => !String(label).startsWith('det:'));
    expect(order).toEqual(['v1', POLICY_EVENT, 'v2']);
    const call = items.find((i) => i['kind'] === 'event' && (i['event'] as Body)['id'] === POLICY_EVENT)!;
    expect(call['time']).toBe('2019-02-12T08:00:00.000Z');
    expect((call['event'] as Body)['receivedAt']).toMatch(new RegExp(`^${new Date().getUTCFullYear()}-`));
  }, 60_000);

  it('lists each replayed CloudTrail record before the version it derived, one page at a time', async () => {
    const path = resourcePath(TRAIL_BUCKET, '/timeline');
    const label = (i: Body) =>
      i['kind'] === 'version' ? `v${(i['version'] as Body)['n']}` : ((i['event'] as Body)['id'] as string);
    const expected = [TRAIL_POLICY_EVENT, 'v1', TRAIL_DELETE_EVENT, 'v2'];
    const indexed = await until(async () => {
      const { body } = await read(`${path}?limit=50`);
      return (body['items'] as Body[]).filter((i) => i['kind'] === 'event').length >= 2;
    }, 30_000);
    expect(indexed).toBe(true);

    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const { status, body } = await read(
        `${path}?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(status, JSON.stringify(body)).toBe(200);
      seen.push(...(body['items'] as Body[]).map(label));
      cursor = body['nextCursor'] as string | undefined;
    } while (cursor !== undefined && seen.length < 20);
    const window = await read(`${path}?from=2019-06-01T00:00:00Z&to=2020-06-01T00:00:00Z`);

    // Each record and the version it derived share the record's eventTime: the call comes first.
    expect(seen.filter((l) => !l.startsWith('det:'))).toEqual(expected);
    // from and to apply to the events' own time, as to the versions' effective time.
    expect(((window.body['items'] as Body[]) ?? []).map(label).filter((l) => !l.startsWith('det:'))).toEqual([
      TRAIL_DELETE_EVENT,
      'v2',
    ]);
  }, 60_000);

  it('gives the CloudTrail call the version in force at its time and the version it caused', async () => {
    const { status, body } = await read(`${eventPath(POLICY_EVENT)}?include=profile`);

    expect(status).toBe(200);
    expect(body['profile']).toMatchObject({ resourceId: CONFIG_BUCKET, atEvent: { n: 1 }, after: { n: 2 } });
  });

  it('answers the profile CloudTrail derived at a time, and the deletion after it', async () => {
    const during = await read(`${resourcePath(TRAIL_BUCKET, '/profile')}?at=2019-06-01T00:00:00Z`);
    const latest = await read(resourcePath(TRAIL_BUCKET, '/profile'));
    const before = await read(`${resourcePath(TRAIL_BUCKET, '/profile')}?at=2018-12-31T23:59:59Z`);

    expect(during).toMatchObject({
      status: 200,
      body: {
        version: {
          n: 1,
          profile: {
            source: 'cloudtrail',
            relatedEventIds: ['ct:7f3c2a9e-5b1d-4c8e-9a2f-000000000002'],
            policies: { bucketPolicy: { Version: '2012-10-17' } },
          },
        },
      },
    });
    expect(latest).toMatchObject({ status: 200, body: { version: { n: 2, tombstone: true } } });
    expect(before).toMatchObject({ status: 404, body: { code: 'BEFORE_FIRST_VERSION' } });
  });

  it('keeps the oversized item as a version whose configuration was not delivered', async () => {
    const id = 'arn:aws:ssm:us-east-1:123456789012:managed-instance-inventory/mi-1234567890123456';
    const { status, body } = await read(resourcePath(id, '/profile'));

    expect(status).toBe(200);
    expect(body['version']).toMatchObject({
      configurationDelivered: false,
      profile: { configuration: null, configurationNotDelivered: { reason: 'SOURCE_OVERSIZED' } },
    });
  });
});

describe('after the period is sealed', () => {
  it('the downloaded folder verifies VALID, with every version in its chain', async () => {
    const latest = await read(resourcePath(CONFIG_BUCKET, '/profile'));
    const eventId = (latest.body['version'] as Body)['eventId'] as string;
    const sealed = await until(async () => {
      const { body } = await read(eventPath(eventId));
      return body['sealed'] === true;
    }, 150_000);
    expect(sealed).toBe(true);

    const out = join(scratch, 'sealed');
    const endMs = Math.ceil((Date.now() - 30_000) / PERIOD_MS) * PERIOD_MS;
    await runDownload(
      { fromMs: startMs, toMs: endMs, out, json: true },
      { endpoint: stack.info.endpoint, region: stack.info.region, credentials: stack.info.roles.auditor },
    );
    const report = await verifyFolder(new FolderReader(out), { keys });
    const bucket = await verifyFolder(new FolderReader(out), { keys, resource: CONFIG_BUCKET });

    expect(report.findings).toEqual([]);
    expect(report.valid).toBe(true);
    // 6 + 66 Config versions and 2 CloudTrail-derived ones, over every resource the replays named.
    expect(report.profiles).toMatchObject({ versions: 74, resources: resources.size });
    expect(bucket.resource).toMatchObject({ resourceId: CONFIG_BUCKET, versions: 2, verified: true });
  }, 240_000);
});

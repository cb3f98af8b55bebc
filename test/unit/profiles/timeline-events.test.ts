/**
 * Events on a resource's timeline are placed at their own time (`eventTime`), not at their ledger time
 * (`receivedAt`): a CloudTrail record delivered late or replayed lists before the version it caused.
 * Over the in-memory fake of the timeline index (`InMemoryResourceEvents`), which has the DynamoDB
 * adapter's semantics (test/integration/profile-sources-local-stack.test.ts runs the adapter).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AuditEventInput } from '../../../shared/events/audit-event.ts';
import { fromCloudTrailRecord } from '../../../shared/events/cloudtrail.ts';
import { canonicalizeEvent } from '../../../shared/ingest/canonical-event.ts';
import { hashLeaf } from '../../../shared/merkle/rfc6962.ts';
import { profileFromCloudTrail, resourceLinkOf } from '../../../shared/profiles/cloudtrail-profile.ts';
import { parseProfile } from '../../../shared/profiles/profile.ts';
import { readTimeline, type TimelineItem } from '../../../shared/profiles/timeline.ts';
import {
  type TimelineEventView,
  timelineEventFromStored,
  timelineEventKey,
} from '../../../shared/profiles/timeline-events.ts';
import { writeProfile } from '../../../shared/profiles/write-profile.ts';
import { InMemoryProfileStore } from '../../../shared/storage/in-memory-profile-store.ts';
import { InMemoryResourceEvents } from '../../../shared/storage/in-memory-resource-events.ts';
import { readSharedText } from '../../support/shared-data.ts';

const BUCKET = 'arn:aws:s3:::example-bucket';
const LATE = '2026-12-04T15:00:00.000Z';
const clock = () => new Date('2026-12-04T15:00:01.000Z');

const lines = readSharedText('cloudtrail/all_permissive.jsonl')
  .split('\n')
  .filter((line) => line.length > 0);

/** The real PutBucketPolicy on example-bucket (all_permissive.jsonl line 701, eventID 1111). */
function putBucketPolicy(): AuditEventInput {
  expect((JSON.parse(lines[700]!) as Record<string, unknown>)['eventID']).toBe('1111');
  return fromCloudTrailRecord(lines[700]!);
}

/** An app event on the bucket at `eventTime`. */
function appEvent(id: string, eventTime: string, resourceId = BUCKET): AuditEventInput {
  return {
    id,
    eventTime,
    actor: { id: 'alice', type: 'user' },
    action: 's3:GetBucketPolicy',
    resource: { id: resourceId, type: 'AWS::S3::Bucket' },
    outcome: { result: 'success' },
  };
}

function stored(input: AuditEventInput, receivedAt: string, channel = 'api') {
  return canonicalizeEvent(input, receivedAt, channel as never).bytes;
}

/** The bucket with version 1 derived from the real PutBucketPolicy, version 2 written by an app later. */
async function bucketStore() {
  const store = new InMemoryProfileStore();
  const event = putBucketPolicy();
  const link = resourceLinkOf(event)!;
  const derivation = profileFromCloudTrail(event, await store.versionAt(link.resourceId, link.time));
  if (!derivation.derived) throw new Error('the record derives a version');
  await writeProfile(store, derivation.parsed, { clock });
  const { relatedEventIds: _, ...v1 } = (await store.head(BUCKET))!.profile;
  await writeProfile(
    store,
    parseProfile({ ...v1, tags: { team: 'audit' }, lastModified: '2020-06-01T00:00:00Z', source: 'api' }),
    { clock },
  );
  return { store, event };
}

const label = (item: TimelineItem<TimelineEventView>) =>
  item.kind === 'event' ? item.event.id : `v${item.version.n}`;

describe('Function: readTimeline', () => {
  describe('with events from the timeline index (InMemoryResourceEvents)', () => {
    it('lists a CloudTrail record replayed late before the version it caused, and before later versions', async () => {
      // Prepare: the record is stored years after its eventTime, after both versions' effective times.
      const { store, event } = await bucketStore();
      const index = new InMemoryResourceEvents();
      index.addEvent(stored(event, LATE, 'cloudtrail'), LATE);

      // Act
      const page = await readTimeline(store, BUCKET, (p) => index.after(BUCKET, p ? `${p.time}#` : ''), {
        limit: 10,
      });

      // Assess
      expect(page.items.map(label)).toEqual([event.id, 'v1', 'v2']);
      const placed = page.items[0] as { kind: 'event'; time: string; event: TimelineEventView };
      expect(placed.time).toBe('2019-01-01T00:00:00.000Z');
      expect(placed.event).toMatchObject({ eventTime: event.eventTime, receivedAt: LATE });
      const v1 = page.items[1] as { kind: 'version'; version: { profile: { relatedEventIds?: string[] } } };
      expect(v1.version.profile.relatedEventIds).toEqual([event.id]);
    });

    it('pages one item at a time across the event and version boundary with cursors', async () => {
      // Prepare
      const { store, event } = await bucketStore();
      const index = new InMemoryResourceEvents();
      index.addEvent(stored(event, LATE, 'cloudtrail'), LATE);
      index.addEvent(stored(appEvent('app-between', '2019-06-01T00:00:00Z'), LATE), LATE);
      index.addEvent(stored(appEvent('app-after', '2021-01-01T00:00:00+01:00'), LATE), LATE);
      const events = (p: { time: string } | undefined) => index.after(BUCKET, p ? `${p.time}#` : '');

      // Act
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await readTimeline(store, BUCKET, events, { limit: 1, ...(cursor ? { cursor } : {}) });
        seen.push(...page.items.map(label));
        cursor = page.cursor;
      } while (cursor !== undefined && seen.length < 10);

      // Assess: 2021-01-01T00:00+01:00 is 2020-12-31T23:00Z, after version 2 (2020-06-01).
      expect(seen).toEqual([event.id, 'v1', 'app-between', 'v2', 'app-after']);
    });

    it('applies from and to to the events’ own time', async () => {
      // Prepare
      const { store, event } = await bucketStore();
      const index = new InMemoryResourceEvents();
      index.addEvent(stored(event, LATE, 'cloudtrail'), LATE);
      index.addEvent(stored(appEvent('app-between', '2019-06-01T00:00:00Z'), LATE), LATE);
      const events = (p: { time: string } | undefined) => index.after(BUCKET, p ? `${p.time}#` : '');

      // Act
      const from = await readTimeline(store, BUCKET, events, { from: '2019-06-01T00:00:00.000Z', limit: 10 });
      const to = await readTimeline(store, BUCKET, events, { to: '2019-06-01T00:00:00.000Z', limit: 10 });
      const received = await readTimeline(store, BUCKET, events, { from: LATE, limit: 10 });

      // Assess
      expect(from.items.map(label)).toEqual(['app-between', 'v2']);
      expect(to.items.map(label)).toEqual([event.id, 'v1']);
      expect(received.items).toEqual([]);
    });

    it('orders events by their UTC instant, whatever their offset and fraction digits (property)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.record({
              ms: fc.integer({ min: Date.UTC(2019, 0, 1), max: Date.UTC(2019, 0, 2) }),
              offsetMinutes: fc.integer({ min: -12 * 60, max: 14 * 60 }),
              extraDigits: fc.integer({ min: 0, max: 6 }),
              receivedMs: fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2026, 0, 2) }),
            }),
            { maxLength: 15 },
          ),
          fc.integer({ min: 1, max: 4 }),
          async (specs, limit) => {
            const store = new InMemoryProfileStore();
            const index = new InMemoryResourceEvents();
            const expected = specs.map((s, i) => ({
              id: `app-${i}`,
              key: timelineEventKey(new Date(s.ms).toISOString(), `app-${i}`),
            }));
            specs.forEach((s, i) => {
              const receivedAt = new Date(s.receivedMs).toISOString();
              index.addEvent(
                stored(appEvent(`app-${i}`, withOffset(s.ms, s.offsetMinutes, s.extraDigits)), receivedAt),
                receivedAt,
              );
            });
            const events = (p: { time: string } | undefined) => index.after(BUCKET, p ? `${p.time}#` : '');
            const seen: string[] = [];
            let cursor: string | undefined;
            do {
              const page = await readTimeline(store, BUCKET, events, {
                limit,
                ...(cursor ? { cursor } : {}),
              });
              seen.push(...page.items.map(label));
              cursor = page.cursor;
            } while (cursor !== undefined && seen.length <= specs.length);
            expect(seen).toEqual(expected.sort((a, b) => (a.key < b.key ? -1 : 1)).map((e) => e.id));
          },
        ),
        { numRuns: 60 },
      );
    });
  });
});

/** `ms` written in another zone, with `extraDigits` sub-millisecond digits (truncated by normalization). */
function withOffset(ms: number, offsetMinutes: number, extraDigits: number): string {
  const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 23);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const zone =
    offsetMinutes === 0
      ? 'Z'
      : `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${local}${'7'.repeat(extraDigits)}${zone}`;
}

describe('Class: InMemoryResourceEvents', () => {
  describe('Method: addEvent', () => {
    describe('when the event has no resource', () => {
      it('puts it on no timeline', async () => {
        // Prepare
        const index = new InMemoryResourceEvents();
        const { resource: _, ...input } = appEvent('no-resource', '2019-01-01T00:00:00Z');

        // Act
        index.addEvent(stored(input as AuditEventInput, LATE), LATE);

        // Assess
        expect(await collect(index.after(BUCKET, ''))).toEqual([]);
      });
    });

    describe('when the event is a read record', () => {
      it('keeps it out of the timeline index', async () => {
        // Prepare
        const index = new InMemoryResourceEvents();

        // Act
        index.addEvent(stored(appEvent('read:r-1', '2019-01-01T00:00:00Z'), LATE, 'read'), LATE);

        // Assess
        expect(await collect(index.after(BUCKET, ''))).toEqual([]);
      });
    });
  });
});

describe('Function: timelineEventFromStored', () => {
  const bytes = stored(appEvent('app-1', '2019-01-01T02:00:00.123456+02:00'), LATE);
  const item = {
    id: 'app-1',
    receivedAt: LATE,
    bytes,
    leafHash: hashLeaf(bytes),
    key: '2019-01-01T00:00:00.123Z#app-1',
  };

  it('places a stored event at its eventTime in UTC milliseconds', () => {
    // Act
    const view = timelineEventFromStored(item, BUCKET);

    // Assess
    expect(view).toMatchObject({
      id: 'app-1',
      time: '2019-01-01T00:00:00.123Z',
      eventTime: '2019-01-01T02:00:00.123456+02:00',
      receivedAt: LATE,
      channel: 'api',
      eventJson: Buffer.from(bytes).toString('utf8'),
    });
  });

  // An attacker who can write the table can write index attributes; none of these may show.
  describe.each<[string, Partial<typeof item>, string?]>([
    ['the key moves the event to another time', { key: '2018-01-01T00:00:00.000Z#app-1' }],
    ['the key names another id', { key: '2019-01-01T00:00:00.123Z#app-2' }],
    ['the item names another id than its bytes', { id: 'app-2', key: '2019-01-01T00:00:00.123Z#app-2' }],
    ['the bytes do not hash to the leaf hash', { leafHash: hashLeaf(Buffer.from('{}')) }],
    [
      'the bytes were changed',
      { bytes: Buffer.from(Buffer.from(bytes).toString('utf8').replace('alice', 'mallo')) },
    ],
    [
      'the bytes are not JSON',
      { bytes: Buffer.from('not json'), leafHash: hashLeaf(Buffer.from('not json')) },
    ],
    ['the item sits in another resource’s partition', {}, 'arn:aws:s3:::other-bucket'],
  ])('when %s', (_name, change, resourceId = BUCKET) => {
    it('does not show it', () => {
      // Act
      const view = timelineEventFromStored({ ...item, ...change }, resourceId);

      // Assess
      expect(view).toBeUndefined();
    });
  });
});

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProfileCursorError } from '../../../shared/profiles/errors.ts';
import {
  comparePositions,
  decodeTimelineCursor,
  encodeTimelineCursor,
  readTimeline,
  type TimelineEvent,
  type TimelineItem,
  type TimelinePosition,
} from '../../../shared/profiles/timeline.ts';
import { InMemoryProfileStore } from '../../../shared/storage/in-memory-profile-store.ts';
import { chainOf, INSTANCE_ARN, minute } from './profile-fixtures.ts';

interface Ev extends TimelineEvent {
  readonly action: string;
}

const event = (id: string, m: number): Ev => ({ id, time: minute(m), action: 'ec2:StopInstances' });

/** An event source over a sorted array, positioned like an index query would be. */
function eventsOf(events: readonly Ev[]) {
  const sorted = [...events].sort((a, b) =>
    comparePositions({ ...a, kind: 'event' }, { ...b, kind: 'event' }),
  );
  return (start: TimelinePosition | undefined) =>
    start === undefined ? sorted : sorted.filter((e) => comparePositions({ ...e, kind: 'event' }, start) > 0);
}

async function storeWith(effective: readonly number[]) {
  const store = new InMemoryProfileStore();
  for (const v of chainOf(effective)) await store.putVersion(v);
  return store;
}

const label = (item: TimelineItem<Ev>) => (item.kind === 'event' ? item.event.id : `v${item.version.n}`);

describe('Function: readTimeline', () => {
  it('merges versions and events in time order, the event first at the same millisecond', async () => {
    // Prepare
    const store = await storeWith([10, 20]);
    const events = eventsOf([event('ct:b', 20), event('ct:a', 5), event('ct:c', 15)]);

    // Act
    const page = await readTimeline(store, INSTANCE_ARN, events, { limit: 10 });

    // Assess
    expect(page.items.map(label)).toEqual(['ct:a', 'v1', 'ct:c', 'ct:b', 'v2']);
    expect(page.cursor).toBeUndefined();
  });

  it('gives each version its diff from the version before it in time, a late item included', async () => {
    // Prepare: version 3 arrived last but is effective between versions 1 and 2.
    const store = await storeWith([10, 30, 20]);

    // Act
    const page = await readTimeline(store, INSTANCE_ARN, eventsOf([]), { limit: 10 });

    // Assess
    const versions = page.items.flatMap((i) => (i.kind === 'version' ? [i] : []));
    expect(versions.map((v) => [v.version.n, v.diff.from])).toEqual([
      [1, null],
      [3, 1],
      [2, 3],
    ]);
    expect(versions[1]!.diff.patch).toEqual([{ op: 'replace', path: '/configuration/step', value: 3 }]);
  });

  it('diffs the first version of a later page against the version before it', async () => {
    // Prepare
    const store = await storeWith([10, 20, 30]);

    // Act
    const first = await readTimeline(store, INSTANCE_ARN, eventsOf([]), { limit: 1 });
    const second = await readTimeline(store, INSTANCE_ARN, eventsOf([]), { limit: 1, cursor: first.cursor });

    // Assess
    expect(second.items).toHaveLength(1);
    expect(second.items[0]).toMatchObject({ kind: 'version', version: { n: 2 }, diff: { from: 1 } });
  });

  it('keeps only items in [from, to)', async () => {
    // Prepare
    const store = await storeWith([10, 20, 30]);
    const events = eventsOf([event('ct:x', 20), event('ct:y', 30)]);

    // Act
    const page = await readTimeline(store, INSTANCE_ARN, events, {
      from: minute(20),
      to: minute(30),
      limit: 10,
    });

    // Assess
    expect(page.items.map(label)).toEqual(['ct:x', 'v2']);
  });

  it('pages through everything exactly once, whatever the page size (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 12 }),
        fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 12 }),
        fc.integer({ min: 1, max: 5 }),
        async (versionMinutes, eventMinutes, limit) => {
          const store = await storeWith(versionMinutes);
          const events = eventsOf(eventMinutes.map((m, i) => event(`ct:${i}`, m)));
          const all = (await readTimeline(store, INSTANCE_ARN, events, { limit: 1000 })).items.map(label);
          const paged: string[] = [];
          let cursor: string | undefined;
          let pages = 0;
          do {
            const page = await readTimeline(store, INSTANCE_ARN, events, { limit, cursor });
            expect(page.items.length).toBeLessThanOrEqual(limit);
            paged.push(...page.items.map(label));
            cursor = page.cursor;
            pages++;
          } while (cursor !== undefined && pages < 100);
          expect(paged).toEqual(all);
          expect(all).toHaveLength(versionMinutes.length + eventMinutes.length);
        },
      ),
      { numRuns: 60 },
    );
  });

  describe('when the cursor is not one this module made', () => {
    it.each(['', '!!!', Buffer.from('{"t":"x","k":"v","n":1}').toString('base64url'), 'a'.repeat(600)])(
      'throws ProfileCursorError for %j',
      async (cursor) => {
        // Prepare
        const store = await storeWith([10]);

        // Act
        const act = readTimeline(store, INSTANCE_ARN, eventsOf([]), { limit: 10, cursor });

        // Assess
        await expect(act).rejects.toThrow(ProfileCursorError);
      },
    );
  });

  describe('when the limit is out of range', () => {
    it('throws RangeError', async () => {
      // Prepare
      const store = await storeWith([10]);

      // Assess
      await expect(readTimeline(store, INSTANCE_ARN, eventsOf([]), { limit: 0 })).rejects.toThrow(RangeError);
    });
  });
});

describe('Function: encodeTimelineCursor', () => {
  it('round-trips event and version positions', () => {
    // Prepare
    const positions: TimelinePosition[] = [
      { time: minute(1), kind: 'event', id: 'ct:0a/b=c' },
      { time: minute(2), kind: 'version', n: 42 },
    ];

    // Assess
    for (const p of positions) expect(decodeTimelineCursor(encodeTimelineCursor(p))).toEqual(p);
  });
});

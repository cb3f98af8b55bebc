/**
 * The search core on the in-memory index (same semantics as the DynamoDB adapter), over events made from
 * real CloudTrail records: results match a brute-force filter, newest first; following cursors returns
 * every match exactly once; a read budget ends pages early without skipping anything.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { CursorCodec } from '../../../shared/query/cursor.ts';
import { QueryError } from '../../../shared/query/errors.ts';
import { type SearchDeps, searchEvents } from '../../../shared/query/search-events.ts';
import {
  type SearchQuery,
  searchParametersSchema,
  toSearchQuery,
} from '../../../shared/query/search-query.ts';
import { type IndexableEvent, InMemoryEventIndex } from '../../../shared/storage/in-memory-event-index.ts';
import { indexableEvents } from '../../support/search-fixtures.ts';

const LEDGER = 'main';
let events: IndexableEvent[];
let index: InMemoryEventIndex;

function deps(overrides: Partial<SearchDeps> = {}): SearchDeps {
  return {
    ledger: LEDGER,
    index,
    cursors: new CursorCodec(Buffer.alloc(32, 1)),
    receipts: { findEventIds: async () => new Map() },
    ...overrides,
  };
}

function query(parameters: Record<string, string>): SearchQuery {
  return toSearchQuery(searchParametersSchema.parse(parameters));
}

function expected(q: SearchQuery): string[] {
  return events
    .filter(
      (e) =>
        (q.actor === undefined || e.actorId === q.actor) &&
        (q.resource === undefined || e.resourceId === q.resource) &&
        (q.action === undefined || e.action === q.action) &&
        (q.outcome === undefined || e.outcome === q.outcome) &&
        (q.channel === undefined || e.channel === q.channel) &&
        (q.from === undefined || e.receivedAt >= q.from) &&
        (q.to === undefined || e.receivedAt < q.to),
    )
    .sort((a, b) => (a.sk < b.sk ? 1 : -1))
    .map((e) => e.id);
}

async function all(q: SearchQuery, d = deps()): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await searchEvents({ ...q, ...(cursor === undefined ? {} : { cursor }) }, d);
    ids.push(...page.events.map((e) => e.id));
    cursor = page.nextCursor;
    pages++;
    if (pages > 10_000) throw new Error('no progress');
  } while (cursor !== undefined);
  return { ids, pages };
}

beforeAll(() => {
  events = indexableEvents(LEDGER, 600);
  index = new InMemoryEventIndex(4);
  for (const event of events) index.add(event);
  // Another ledger's events never show up.
  for (const event of indexableEvents('other', 50)) index.add(event);
});

describe('Function: searchEvents', () => {
  it('returns the events of an actor, newest first, with their stored canonical JSON', async () => {
    // Prepare
    const actor = events[10]!.actorId;
    // Act
    const page = await searchEvents(query({ actor, limit: '500' }), deps());
    // Assess
    expect(page.index).toBe('actor');
    expect(page.events.map((e) => e.id)).toEqual(expected(query({ actor })).slice(0, 500));
    const first = events.find((e) => e.id === page.events[0]!.id)!;
    expect(page.events[0]!.eventJson).toBe(Buffer.from(first.bytes).toString('utf8'));
  });

  it('picks the resource index first, then actor, then action, then channel and outcome', async () => {
    const e = events.find((x) => x.resourceId !== undefined)!;
    expect((await searchEvents(query({ actor: e.actorId, resource: e.resourceId! }), deps())).index).toBe(
      'resource',
    );
    expect((await searchEvents(query({ actor: e.actorId, action: e.action }), deps())).index).toBe('actor');
    expect((await searchEvents(query({ action: e.action, outcome: 'failure' }), deps())).index).toBe(
      'action',
    );
    expect((await searchEvents(query({ outcome: 'failure' }), deps())).index).toBe('kind');
    expect((await searchEvents(query({}), deps())).index).toBe('kind');
  });

  it('returns every match exactly once across pages, for any filters and page size (property)', async () => {
    const actors = [...new Set(events.map((e) => e.actorId))].slice(0, 6);
    const actions = [...new Set(events.map((e) => e.action))].slice(0, 6);
    const resources = [...new Set(events.flatMap((e) => (e.resourceId ? [e.resourceId] : [])))].slice(0, 6);
    const times = events.filter((_, i) => i % 97 === 0).map((e) => e.receivedAt);
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            actor: fc.constantFrom(...actors),
            action: fc.constantFrom(...actions),
            resource: fc.constantFrom(...resources),
            outcome: fc.constantFrom('success', 'failure'),
            channel: fc.constantFrom('api', 'cloudtrail', 'read'),
            from: fc.constantFrom(...times),
            to: fc.constantFrom(...times),
          },
          { requiredKeys: [] },
        ),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 200 }),
        async (filters, limit, budget) => {
          fc.pre(filters.from === undefined || filters.to === undefined || filters.from < filters.to);
          const q = query({ ...filters, limit: String(limit) });
          const { ids } = await all(q, deps({ readBudget: budget }));
          expect(ids).toEqual(expected(q));
        },
      ),
      { numRuns: 150 },
    );
  });

  describe('when each page may read only one item and return one', () => {
    it('still moves past the previous page’s last item, to the end', async () => {
      // Prepare: the cursor's position is read again by the index (an inclusive bound there).
      const q = query({ limit: '1' });

      // Act
      const { ids } = await all(q, deps({ readBudget: 1 }));

      // Assess
      expect(ids).toEqual(expected(q));
    });
  });

  it('reads at most about twice what it returns for an actor with many events', async () => {
    // Prepare: the busiest actor.
    const counts = new Map<string, number>();
    for (const e of events) counts.set(e.actorId, (counts.get(e.actorId) ?? 0) + 1);
    const [actor, count] = [...counts].sort((a, b) => b[1] - a[1])[0]!;
    expect(count).toBeGreaterThan(100);
    // Act
    const page = await searchEvents(query({ actor, limit: '50' }), deps());
    // Assess
    expect(page.events).toHaveLength(50);
    expect(page.itemsRead / page.events.length).toBeLessThanOrEqual(2);
  });

  it('attaches receipts when asked', async () => {
    const seen: string[][] = [];
    const receipts = {
      findEventIds: async (_ledger: string, ids: readonly string[]) => {
        seen.push([...ids]);
        return new Map(
          ids.map((id) => [
            id,
            { id, inputSha256: '0'.repeat(64), receivedAt: '', receipt: { eventId: id } as never },
          ]),
        );
      },
    };
    const page = await searchEvents(query({ limit: '3', receipts: 'true' }), deps({ receipts }));
    expect(seen).toEqual([page.events.map((e) => e.id)]);
    expect(page.events.map((e) => e.receipt)).toEqual(page.events.map((e) => ({ eventId: e.id })));
  });

  it('moves results past the response size to the next page', async () => {
    const q = query({ channel: 'api', outcome: 'success', limit: '20' });
    const small = await searchEvents(q, deps({ maxResponseBytes: 6_000 }));
    expect(small.events.length).toBeGreaterThan(0);
    expect(small.events.length).toBeLessThan(20);
    const { ids } = await all(q, deps({ maxResponseBytes: 6_000 }));
    expect(ids).toEqual(expected(q));
  });

  describe('when the cursor belongs to another query', () => {
    it('answers CURSOR_MISMATCH', async () => {
      const first = await searchEvents(query({ outcome: 'success', limit: '2' }), deps());
      await expect(
        searchEvents(query({ outcome: 'failure', cursor: first.nextCursor! }), deps()),
      ).rejects.toMatchObject({ code: 'CURSOR_MISMATCH', status: 400 });
    });
  });

  describe('when the cursor was issued by another service key', () => {
    it('answers INVALID_CURSOR', async () => {
      const first = await searchEvents(query({ limit: '2' }), deps());
      const other = deps({ cursors: new CursorCodec(Buffer.alloc(32, 2)) });
      const error = await searchEvents(query({ cursor: first.nextCursor! }), other).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(QueryError);
      expect(error).toMatchObject({ code: 'INVALID_CURSOR' });
    });
  });
});

describe('Schema: searchParametersSchema', () => {
  const bad: [string, Record<string, string>][] = [
    ['an unknown filter', { user: 'alice' }],
    ['a prototype key', { __proto__x: 'a' }],
    ['an empty actor', { actor: '' }],
    ['an actor over 512 characters', { actor: 'a'.repeat(513) }],
    ['a resource over 2048 characters', { resource: 'r'.repeat(2049) }],
    ['an action over 256 characters', { action: 'x'.repeat(257) }],
    ['an unknown outcome', { outcome: 'maybe' }],
    ['an unknown channel', { channel: 'email' }],
    ['a source that contradicts the channel', { channel: 'api', source: 'cloudtrail' }],
    ['a time without a zone', { from: '2026-11-22T21:00:00' }],
    ['an impossible date', { from: '2026-02-30T00:00:00Z' }],
    ['a time range that ends before it starts', { from: '2026-11-22T21:00:00Z', to: '2026-11-22T20:00:00Z' }],
    ['an empty time range', { from: '2026-11-22T21:00:00Z', to: '2026-11-22T21:00:00Z' }],
    ['a limit of 0', { limit: '0' }],
    ['a limit over the maximum', { limit: '501' }],
    ['a limit that is not a number', { limit: '10abc' }],
    ['a negative limit', { limit: '-1' }],
    ['a cursor over 1024 characters', { cursor: `${'a'.repeat(1020)}.${'b'.repeat(10)}` }],
    ['receipts that are not true or false', { receipts: 'yes' }],
  ];
  describe.each(bad)('when the query has %s', (_name, parameters) => {
    it('is refused', () => {
      expect(searchParametersSchema.safeParse(parameters).success).toBe(false);
    });
  });

  it('accepts source as the channel and normalizes times to UTC milliseconds', () => {
    expect(query({ source: 'cloudtrail', from: '2026-11-22T23:00:00.1234+02:00' })).toEqual({
      channel: 'cloudtrail',
      from: '2026-11-22T21:00:00.123Z',
      limit: 50,
      receipts: false,
    });
  });
});

/**
 * A resource's timeline (G8): its profile versions, each with its diff from the version before it in
 * time, merged with the events that touched the resource, in time order, one page at a time.
 *
 * Order: time first (a version's effective time, an event's time), then events before versions at the
 * same millisecond (the call that caused a change comes before the state it produced), then event id or
 * chain position. A page stops after `limit` items; its cursor is the position of its last item, so the
 * next page starts right after it whatever was written in between. The cost of a page depends on its
 * size, not on how many versions the resource has: both sources are read from the cursor on.
 */
import { z } from 'zod';
import { canonicalString } from '../canonical/jcs.ts';
import { isCanonicalTimestamp } from '../events/rfc3339.ts';
import { MAX_PROFILE_PAGE, type ProfileStore } from '../ports/profile-store.ts';
import { diffProfiles, type ProfileDiff } from './diff.ts';
import { ProfileCursorError } from './errors.ts';
import { MAX_VERSION_NUMBER } from './limits.ts';
import type { ProfileVersion, VersionTimeKey } from './version.ts';

/** The least an event needs to be placed on a timeline. */
export interface TimelineEvent {
  readonly id: string;
  /** Canonical millisecond time (`YYYY-MM-DDTHH:MM:SS.sssZ`). */
  readonly time: string;
}

export type TimelineItem<E extends TimelineEvent> =
  | { readonly kind: 'event'; readonly time: string; readonly event: E }
  | {
      readonly kind: 'version';
      readonly time: string;
      readonly version: ProfileVersion;
      readonly diff: ProfileDiff;
    };

/** A point between two timeline items; a page starts strictly after it. */
export type TimelinePosition =
  | { readonly time: string; readonly kind: 'event'; readonly id: string }
  | { readonly time: string; readonly kind: 'version'; readonly n: number };

export interface TimelinePage<E extends TimelineEvent> {
  readonly items: TimelineItem<E>[];
  /** Opaque cursor of the next page; absent on the last page. */
  readonly cursor?: string;
}

export interface TimelineQuery {
  /** Items at or after this canonical millisecond time. */
  readonly from?: string;
  /** Items strictly before this canonical millisecond time. */
  readonly to?: string;
  /** 1 to `MAX_PROFILE_PAGE`. */
  readonly limit: number;
  /** The `cursor` of the previous page. */
  readonly cursor?: string;
}

type Source<T> = Iterable<T> | AsyncIterable<T>;

/** What `mergeTimeline` reads. */
export interface TimelineSources<E extends TimelineEvent> {
  /** Versions in time order (effectiveAt, n), from anywhere at or before the start position. */
  readonly versions: Source<ProfileVersion>;
  /** The version before `version` in time order, for the diff of the first version of the page. */
  readonly versionBefore: (version: ProfileVersion) => Promise<ProfileVersion | undefined>;
  /** Events in (time, id) order, from anywhere at or before the start position. */
  readonly events: Source<E>;
}

/**
 * Merges versions and events into one page of items strictly after `after` and before `to`.
 * Items at or before `after` are skipped, so sources may start a little early.
 */
export async function mergeTimeline<E extends TimelineEvent>(
  sources: TimelineSources<E>,
  window: { readonly after?: TimelinePosition; readonly to?: string; readonly limit: number },
): Promise<{ items: TimelineItem<E>[]; next?: TimelinePosition }> {
  assertLimit(window.limit);
  const versions = new Lookahead(sources.versions, (v: ProfileVersion) => versionPosition(v), window);
  const events = new Lookahead(sources.events, (e: E) => eventPosition(e), window);
  const items: TimelineItem<E>[] = [];
  let previous: ProfileVersion | undefined;
  let last: TimelinePosition | undefined;
  while (items.length < window.limit) {
    const [v, e] = await Promise.all([versions.peek(), events.peek()]);
    if (v === undefined && e === undefined) return { items };
    if (v !== undefined && (e === undefined || comparePositions(v.position, e.position) < 0)) {
      await versions.take();
      const before = previous ?? (await sources.versionBefore(v.item));
      items.push({
        kind: 'version',
        time: v.item.effectiveAt,
        version: v.item,
        diff: diffProfiles(before, v.item),
      });
      previous = v.item;
      last = v.position;
    } else {
      await events.take();
      items.push({ kind: 'event', time: e!.item.time, event: e!.item });
      last = e!.position;
    }
  }
  const [v, e] = await Promise.all([versions.peek(), events.peek()]);
  return v === undefined && e === undefined ? { items } : { items, next: last };
}

/**
 * One timeline page of `resourceId` from a `ProfileStore` and an event source. `eventsAfter` must
 * yield the resource's events in (time, id) order starting at or before the position it is given.
 * Example: `readTimeline(store, arn, (p) => eventIndex.after(arn, p), { from, limit: 100 })`.
 */
export async function readTimeline<E extends TimelineEvent>(
  store: ProfileStore,
  resourceId: string,
  eventsAfter: (start: TimelinePosition | undefined) => Source<E>,
  query: TimelineQuery,
): Promise<TimelinePage<E>> {
  assertLimit(query.limit);
  for (const [name, time] of [
    ['from', query.from],
    ['to', query.to],
  ] as const) {
    if (time !== undefined && !isCanonicalTimestamp(time))
      throw new RangeError(`${name} must be a canonical time`);
  }
  const fromCursor = query.cursor === undefined ? undefined : decodeTimelineCursor(query.cursor);
  // Just before the first item at `from`: event ids are never empty, chain positions start at 1.
  const fromStart: TimelinePosition | undefined =
    query.from === undefined ? undefined : { time: query.from, kind: 'event', id: '' };
  const after = later(fromCursor, fromStart);
  const page = await mergeTimeline(
    {
      versions: pagedVersions(store, resourceId, versionKeyAfter(after), query.limit + 1),
      versionBefore: (v) => store.versionBefore(resourceId, v),
      events: eventsAfter(after),
    },
    { after, to: query.to, limit: query.limit },
  );
  return page.next === undefined
    ? { items: page.items }
    : { items: page.items, cursor: encodeTimelineCursor(page.next) };
}

/** Versions in time order after `after`, fetched from the store a page at a time, only as needed. */
async function* pagedVersions(
  store: ProfileStore,
  resourceId: string,
  after: VersionTimeKey | undefined,
  pageSize: number,
): AsyncGenerator<ProfileVersion> {
  let key = after;
  const size = Math.min(pageSize, MAX_PROFILE_PAGE);
  for (;;) {
    const page = await store.listByTime(
      resourceId,
      key === undefined ? { limit: size } : { after: key, limit: size },
    );
    yield* page;
    if (page.length < size) return;
    key = page.at(-1)!;
  }
}

/** The version key whose successors are the versions after `position`. */
function versionKeyAfter(position: TimelinePosition | undefined): VersionTimeKey | undefined {
  if (position === undefined) return undefined;
  // After an event at time t come the versions at t and later: every key (t, n ≥ 1) > (t, 0).
  return position.kind === 'version'
    ? { effectiveAt: position.time, n: position.n }
    : { effectiveAt: position.time, n: 0 };
}

function versionPosition(v: ProfileVersion): TimelinePosition {
  return { time: v.effectiveAt, kind: 'version', n: v.n };
}

function eventPosition(e: TimelineEvent): TimelinePosition {
  if (!isCanonicalTimestamp(e.time))
    throw new RangeError('timeline events need a canonical millisecond time');
  return { time: e.time, kind: 'event', id: e.id };
}

/** Total order of positions: time, then events before versions, then id or chain position. */
export function comparePositions(a: TimelinePosition, b: TimelinePosition): number {
  if (a.time !== b.time) return a.time < b.time ? -1 : 1;
  if (a.kind !== b.kind) return a.kind === 'event' ? -1 : 1;
  if (a.kind === 'event' && b.kind === 'event') return a.id === b.id ? 0 : a.id < b.id ? -1 : 1;
  return (a as { n: number }).n - (b as { n: number }).n;
}

function later(
  a: TimelinePosition | undefined,
  b: TimelinePosition | undefined,
): TimelinePosition | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return comparePositions(a, b) >= 0 ? a : b;
}

function assertLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PROFILE_PAGE) {
    throw new RangeError(`limit must be an integer in 1..${MAX_PROFILE_PAGE}`);
  }
}

/** One source read with one item of lookahead, skipping items outside (after, to). */
class Lookahead<T> {
  readonly #iterator: Iterator<T> | AsyncIterator<T>;
  readonly #position: (item: T) => TimelinePosition;
  readonly #after: TimelinePosition | undefined;
  readonly #to: string | undefined;
  #head: { item: T; position: TimelinePosition } | undefined;
  #done = false;

  constructor(
    source: Source<T>,
    position: (item: T) => TimelinePosition,
    window: { readonly after?: TimelinePosition; readonly to?: string },
  ) {
    this.#iterator =
      Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
    this.#position = position;
    this.#after = window.after;
    this.#to = window.to;
  }

  async peek(): Promise<{ item: T; position: TimelinePosition } | undefined> {
    while (this.#head === undefined && !this.#done) {
      const next = await this.#iterator.next();
      if (next.done === true) {
        this.#done = true;
        break;
      }
      const position = this.#position(next.value);
      if (this.#after !== undefined && comparePositions(position, this.#after) <= 0) continue;
      if (this.#to !== undefined && position.time >= this.#to) {
        this.#done = true;
        await this.#iterator.return?.();
        break;
      }
      this.#head = { item: next.value, position };
    }
    return this.#head;
  }

  async take(): Promise<void> {
    this.#head = undefined;
  }
}

const cursorSchema = z.union([
  z.strictObject({
    t: z.string().refine(isCanonicalTimestamp),
    k: z.literal('e'),
    id: z.string().min(1).max(128),
  }),
  z.strictObject({
    t: z.string().refine(isCanonicalTimestamp),
    k: z.literal('v'),
    n: z.number().int().min(1).max(MAX_VERSION_NUMBER),
  }),
]);

/** The cursor of a position: base64url of the JCS of `{t, k, id | n}` (the API wraps it in its HMAC). */
export function encodeTimelineCursor(position: TimelinePosition): string {
  const body =
    position.kind === 'event'
      ? { t: position.time, k: 'e', id: position.id }
      : { t: position.time, k: 'v', n: position.n };
  return Buffer.from(canonicalString(body), 'utf8').toString('base64url');
}

/** The position a cursor names; throws `ProfileCursorError` for anything else. */
export function decodeTimelineCursor(cursor: string): TimelinePosition {
  if (cursor.length > 512 || !/^[A-Za-z0-9_-]+$/.test(cursor))
    throw new ProfileCursorError('cursor is not valid');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new ProfileCursorError('cursor is not valid');
  }
  const parsed = cursorSchema.safeParse(value);
  if (!parsed.success) throw new ProfileCursorError('cursor is not valid');
  const c = parsed.data;
  return c.k === 'e' ? { time: c.t, kind: 'event', id: c.id } : { time: c.t, kind: 'version', n: c.n };
}

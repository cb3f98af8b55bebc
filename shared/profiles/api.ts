/**
 * What the profile routes say (docs/API.md, "Resource profiles"): resource ids in paths, the query
 * parameters of `GET …/profile` and `GET …/timeline`, the JSON view of a version, the timeline's
 * authenticated cursor binding, and the correlation of an event with the profile versions around it
 * (`include=profile`). Pure: the handlers in functions/profile-handlers.ts call it over the ports.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalString } from '../canonical/jcs.ts';
import { isRfc3339, normalizeTimestamp } from '../events/rfc3339.ts';
import type { ProfileStore } from '../ports/profile-store.ts';
import type { ProfileAt } from './at-time.ts';
import { resourceLinkOf } from './cloudtrail-profile.ts';
import type { ProfileDiff } from './diff.ts';
import { profileVersionEventId } from './ledger-event.ts';
import { MAX_RESOURCE_ID_LENGTH, MAX_VERSION_NUMBER } from './limits.ts';
import type { ProfileVersion } from './version.ts';

/**
 * The path of a resource route. The id is encoded twice, as event ids are (docs/API.md "Event ids in
 * paths"): a REST API does not route an encoded `/` inside one segment, so the gateway decodes one layer
 * and the handler the other.
 * @example resourcePath('arn:aws:s3:::b', '/profile') // '/v1/resources/arn%253Aaws%253As3%253A%253A%253Ab/profile'
 */
export function resourcePath(resourceId: string, suffix: '/profile' | '/timeline'): string {
  return `/v1/resources/${encodeURIComponent(encodeURIComponent(resourceId))}${suffix}`;
}

/**
 * The resource id of an `{id}` path parameter as the gateway passes it (one encoding layer left when the
 * client encoded twice), or undefined when it is not a resource id: empty, too long, not decodable, or with
 * control characters or surrounding white space (the profile schema's rules).
 */
export function resourceIdFromParameter(raw: string): string | undefined {
  if (raw === '' || raw.length > 3 * 3 * MAX_RESOURCE_ID_LENGTH) return undefined;
  let id = raw;
  if (id.includes('%')) {
    try {
      id = decodeURIComponent(id);
    } catch {
      return undefined;
    }
  }
  if (id.length === 0 || id.length > MAX_RESOURCE_ID_LENGTH) return undefined;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses.
  if (/[\u0000-\u001f\u007f-\u009f]/.test(id) || id.trim() !== id) return undefined;
  if (/[\uD800-\uDFFF]/.test(id.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ''))) return undefined;
  return id;
}

const time = z
  .string()
  .max(40)
  .refine(isRfc3339, 'must be an RFC 3339 date-time with a zone')
  .transform((value) => normalizeTimestamp(value));

/** `GET /v1/resources/{id}/profile`: `at`, optional. */
export const profileQuerySchema = z.strictObject({
  at: time.optional().meta({ description: 'RFC 3339 time; the version in force then. Default: the latest' }),
});

/** Items per timeline page when `limit` is not given; the most a page may ask for. */
export const DEFAULT_TIMELINE_LIMIT = 100;
export const MAX_TIMELINE_LIMIT = 1000;

/** `GET /v1/resources/{id}/timeline`: `from`, `to`, `limit`, `cursor`. */
export const timelineQuerySchema = z
  .strictObject({
    from: time.optional().meta({ description: 'RFC 3339; items at or after it' }),
    to: time.optional().meta({ description: 'RFC 3339; items strictly before it' }),
    limit: z
      .string()
      .regex(/^[1-9]\d{0,3}$/)
      .refine((v) => Number(v) <= MAX_TIMELINE_LIMIT, `at most ${MAX_TIMELINE_LIMIT}`)
      .optional()
      .meta({ description: `items per page, 1–${MAX_TIMELINE_LIMIT} (default ${DEFAULT_TIMELINE_LIMIT})` }),
    cursor: z.string().min(1).max(4096).optional().meta({ description: 'nextCursor of the previous page' }),
  })
  .refine((q) => q.from === undefined || q.to === undefined || q.from < q.to, {
    message: 'from must be before to',
    path: ['from'],
  });

/** What a timeline cursor is bound to: the ledger, the resource and the time window. */
export function timelineQueryHash(
  ledger: string,
  resourceId: string,
  window: { readonly from?: string; readonly to?: string },
): string {
  const bound = {
    // v2: events are placed at their eventTime; a v1 cursor (ledger time) would resume at the wrong place.
    v: 'auditseal.timeline.v2',
    ledger,
    resourceId,
    ...(window.from === undefined ? {} : { from: window.from }),
    ...(window.to === undefined ? {} : { to: window.to }),
  };
  return createHash('sha256').update(canonicalString(bound), 'utf8').digest('hex');
}

/** A version as the API shows it: its chain position and hash, its event, and the profile. */
export function versionView(version: ProfileVersion) {
  return {
    resourceId: version.resourceId,
    n: version.n,
    hash: version.hash,
    previousHash: version.previousHash,
    recordedAt: version.recordedAt,
    effectiveAt: version.effectiveAt,
    contentHash: version.contentHash,
    tombstone: version.tombstone,
    configurationDelivered: version.configurationDelivered,
    eventId: profileVersionEventId(version.resourceId, version.n),
    profile: version.profile,
  };
}

/** A version named by position and hash (what `include=profile` gives). */
export function versionRef(version: ProfileVersion) {
  return {
    n: version.n,
    hash: version.hash,
    effectiveAt: version.effectiveAt,
    eventId: profileVersionEventId(version.resourceId, version.n),
  };
}

/** The body of a `GET …/profile` answer, or the 404 it is. */
export function profileAnswer(
  resourceId: string,
  at: string | undefined,
  answer: ProfileAt,
):
  | { readonly status: 200; readonly body: Record<string, unknown> }
  | { readonly status: 404; readonly code: 'NO_PROFILE' | 'BEFORE_FIRST_VERSION'; readonly extra: object } {
  if (answer.status === 'none') {
    if (answer.reason === 'NO_VERSIONS' || answer.first === undefined) {
      return { status: 404, code: 'NO_PROFILE', extra: {} };
    }
    return { status: 404, code: 'BEFORE_FIRST_VERSION', extra: { first: versionRef(answer.first) } };
  }
  return {
    status: 200,
    body: {
      resourceId,
      ...(at === undefined ? {} : { at }),
      state: answer.status === 'deleted' ? 'deleted' : 'present',
      version: versionView(answer.version),
    },
  };
}

export type { TimelineEventView } from './timeline-events.ts';

/** A timeline version item as the API shows it. */
export function timelineVersionView(version: ProfileVersion, diff: ProfileDiff) {
  return { kind: 'version' as const, time: version.effectiveAt, version: versionView(version), diff };
}

/** What `include=profile` adds to an event: the versions of its resource around its time. */
export interface EventProfile {
  readonly resourceId: string;
  /** The version in force at the event's time, or null when the resource had none then. */
  readonly atEvent: ReturnType<typeof versionRef> | null;
  /** The version right after, when the event changed the resource (or that version names the event). */
  readonly after?: ReturnType<typeof versionRef>;
}

/** The fields of a stored event that the correlation reads. */
interface EventLike {
  readonly id: string;
  readonly eventTime: string;
  readonly channel?: string;
  readonly resource?: { readonly id: string; readonly type: string };
  readonly outcome: { readonly result: string };
  readonly cloudtrail?: string;
  readonly [member: string]: unknown;
}

/**
 * The profile versions of an event's resource around the event (`include=profile`): the one in force at
 * its time (by number and hash), and the first one after it in time when the event changed the resource.
 * A CloudTrail event changed it when `resourceLinkOf` says so (docs/PROFILES.md "CloudTrail"); any event
 * did when that next version lists it in `relatedEventIds`. Undefined when the event names no resource or
 * is itself a profile version or a read record.
 */
export async function eventProfile(store: ProfileStore, event: EventLike): Promise<EventProfile | undefined> {
  if (event.resource === undefined || event.channel === 'profile' || event.channel === 'read')
    return undefined;
  const resourceId = event.resource.id;
  const at = normalizeTimestamp(event.eventTime);
  const [inForce, [next]] = await Promise.all([
    store.versionAt(resourceId, at),
    store.listByTime(resourceId, { after: { effectiveAt: at, n: MAX_VERSION_NUMBER }, limit: 1 }),
  ]);
  const changed =
    next !== undefined &&
    ((event.cloudtrail !== undefined && resourceLinkOf(event as never)?.changes === true) ||
      next.profile.relatedEventIds?.includes(event.id) === true);
  return {
    resourceId,
    atEvent: inForce === undefined ? null : versionRef(inForce),
    ...(changed ? { after: versionRef(next) } : {}),
  };
}

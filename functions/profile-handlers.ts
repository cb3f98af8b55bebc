/**
 * The resource profile routes (docs/API.md, "Resource profiles"):
 * - `PUT /v1/resources/{id}/profile` (writer): the body is a profile; it becomes the resource's next
 *   version, sealed in the ledger with its event (`writeSealedProfile`). 201 with the version and its diff,
 *   200 with the stored version when nothing changed, 409 `VERSION_CONFLICT` with the current version when
 *   another writer took the position first.
 * - `GET /v1/resources/{id}/profile?at=` (reader): the version in force at `at`, or the latest; 404
 *   `NO_PROFILE` or `BEFORE_FIRST_VERSION`.
 * - `GET /v1/resources/{id}/timeline?from&to&limit&cursor` (reader): versions with diffs and the events
 *   that touched the resource, in time order, with the search's authenticated cursors.
 * The reads are audited like every read route (functions/http/recorded-read.ts). Middy wiring plus calls
 * into shared/profiles.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { appendJsonPath } from '../shared/events/json-path.ts';
import type { IngestDeps } from '../shared/ingest/ingest-batch.ts';
import { type ProfileStore, ProfileVersionConflictError } from '../shared/ports/profile-store.ts';
import {
  DEFAULT_TIMELINE_LIMIT,
  profileAnswer,
  profileQuerySchema,
  resourceIdFromParameter,
  type TimelineEventView,
  timelineQueryHash,
  timelineQuerySchema,
  timelineVersionView,
  versionView,
} from '../shared/profiles/api.ts';
import { ProfileError, ProfileValidationError } from '../shared/profiles/errors.ts';
import { parseProfile } from '../shared/profiles/profile.ts';
import { readProfileAt } from '../shared/profiles/read-profile.ts';
import { ingestAtVersionTime, writeSealedProfile } from '../shared/profiles/sealed-write.ts';
import { readTimeline } from '../shared/profiles/timeline.ts';
import type { CursorCodec } from '../shared/query/cursor.ts';
import type { ReadJournal } from '../shared/query/read-record.ts';
import { type HandlerLogger, lazyErrorResponse } from './http/error-response.ts';
import { HttpError } from './http/errors.ts';
import { type JsonBodyEvent, jsonBody } from './http/json-body.ts';
import { jsonResponse } from './http/json-response.ts';
import { parseQuery } from './http/query.ts';
import { principalOf, recordedRead } from './http/recorded-read.ts';

/** Largest `PUT` body: a profile's canonical text is at most 376,320 bytes; white space may add some. */
export const MAX_PROFILE_BODY_BYTES = 1024 * 1024;

/** What the write route needs. */
export interface ProfileWriteDeps {
  readonly ledger: string;
  readonly profiles: ProfileStore;
  readonly ingest: IngestDeps;
  readonly logger: HandlerLogger;
}

/** What the read routes need. */
export interface ProfileReadDeps {
  readonly ledger: string;
  readonly profiles: ProfileStore;
  /**
   * The resource's events with a timeline key (`<eventTime>#<id>`, `timelineEventKey`) at or after
   * `fromKey`, in that order (timeline).
   */
  readonly resourceEvents: (resourceId: string, fromKey: string) => AsyncIterable<TimelineEventView>;
  readonly cursors: CursorCodec;
  readonly journal: ReadJournal;
  readonly logger: HandlerLogger;
  readonly now: () => Date;
}

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** The decoded resource id of `{id}`; 400 INVALID_PATH otherwise. */
export function resourceIdParameter(event: APIGatewayProxyEvent): string {
  const raw = event.pathParameters?.['id'];
  const id = typeof raw === 'string' ? resourceIdFromParameter(raw) : undefined;
  if (id === undefined) throw new HttpError(400, 'INVALID_PATH', 'path parameter id is not a resource id');
  return id;
}

/** Profile errors as API answers; anything else passes on to `errorResponse`. */
function profileErrors(): middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    onError: async (request) => {
      const error = request.error;
      if (error instanceof ProfileVersionConflictError) {
        request.response = jsonResponse(409, {
          code: 'VERSION_CONFLICT',
          message: `another version took position ${error.attempted} first; read the current version and retry`,
          reason: error.reason,
          current: error.current === undefined ? null : versionView(error.current),
        });
        return request.response;
      }
      if (error instanceof ProfileValidationError) {
        request.response = jsonResponse(400, {
          code: 'INVALID_PROFILE',
          message: error.message,
          reason: error.reason,
          path: error.path,
        });
        return request.response;
      }
      if (error instanceof ProfileError && error.code === 'CURSOR_INVALID') {
        request.response = jsonResponse(400, { code: 'INVALID_CURSOR', message: 'cursor is not valid' });
        return request.response;
      }
      return undefined;
    },
  };
}

/** `PUT /v1/resources/{id}/profile`. */
export function createPutProfileHandler(deps: () => Promise<ProfileWriteDeps>): Handler {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(lazyErrorResponse(async () => (await deps()).logger))
    .use(profileErrors())
    .use(jsonBody({ maxBytes: MAX_PROFILE_BODY_BYTES }))
    .handler(async (event, context) => {
      const d = await deps();
      const principal = principalOf(event);
      const resourceId = resourceIdParameter(event);
      const body = (event as JsonBodyEvent).body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new HttpError(400, 'INVALID_BODY', 'body must be a JSON object: the profile');
      }
      const parsed = parseProfile(body);
      if (parsed.profile.resourceId !== resourceId) {
        throw new HttpError(
          400,
          'INVALID_BODY',
          `${appendJsonPath('$', 'resourceId')} must be the resource id of the path`,
        );
      }
      const requestId = event.requestContext?.requestId || context.awsRequestId;
      const result = await writeSealedProfile(parsed, {
        store: d.profiles,
        ingest: ingestAtVersionTime({ ledger: d.ledger, principal, requestId }, d.ingest),
        actor: { id: principal, type: /:assumed-role\/|:role\//.test(principal) ? 'role' : 'user' },
        clock: d.ingest.clock,
      });
      return jsonResponse(result.status === 'created' ? 201 : 200, {
        status: result.status,
        version: versionView(result.version),
        ...(result.diff === undefined ? {} : { diff: result.diff }),
        ...(result.receipt === undefined ? {} : { receipt: result.receipt }),
      });
    });
}

function wrapRead(
  route: { route: string; action: string },
  run: (event: APIGatewayProxyEvent, deps: ProfileReadDeps) => ReturnType<Parameters<typeof recordedRead>[4]>,
  deps: () => Promise<ProfileReadDeps>,
): Handler {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(lazyErrorResponse(async () => (await deps()).logger))
    .use(profileErrors())
    .handler(async (event, context) => {
      const d = await deps();
      return recordedRead(route, event, context, d, () => run(event, d));
    });
}

/** `GET /v1/resources/{id}/profile?at=`. */
export function createGetProfileHandler(deps: () => Promise<ProfileReadDeps>): Handler {
  return wrapRead(
    { route: 'GET /v1/resources/{id}/profile', action: 'auditseal:GetProfile' },
    async (event, d) => {
      const { at } = parseQuery(event, profileQuerySchema);
      const resourceId = resourceIdParameter(event);
      const answer = profileAnswer(resourceId, at, await readProfileAt(d.profiles, resourceId, at));
      if (answer.status === 404) {
        const message =
          answer.code === 'NO_PROFILE'
            ? 'the resource has no profile version'
            : 'the resource has no version at that time: the time is before its first version';
        return {
          response: jsonResponse(404, { code: answer.code, message, ...answer.extra }),
          resultCount: 0,
        };
      }
      return {
        response: jsonResponse(200, answer.body),
        resultCount: 1,
        target: { id: resourceId.slice(0, 2048), type: 'auditseal::ResourceProfile' },
      };
    },
    deps,
  );
}

/** `GET /v1/resources/{id}/timeline?from&to&limit&cursor`. */
export function createGetTimelineHandler(deps: () => Promise<ProfileReadDeps>): Handler {
  return wrapRead(
    { route: 'GET /v1/resources/{id}/timeline', action: 'auditseal:GetTimeline' },
    async (event, d) => {
      const query = parseQuery(event, timelineQuerySchema);
      const resourceId = resourceIdParameter(event);
      const hash = timelineQueryHash(d.ledger, resourceId, query);
      const inner = query.cursor === undefined ? undefined : d.cursors.decodeToken(query.cursor, hash);
      const limit = query.limit === undefined ? DEFAULT_TIMELINE_LIMIT : Number(query.limit);
      const page = await readTimeline(
        d.profiles,
        resourceId,
        (start) => d.resourceEvents(resourceId, start === undefined ? '' : `${start.time}#`),
        {
          limit,
          ...(query.from === undefined ? {} : { from: query.from }),
          ...(query.to === undefined ? {} : { to: query.to }),
          ...(inner === undefined ? {} : { cursor: inner }),
        },
      );
      const items = page.items.map((item) =>
        item.kind === 'version'
          ? timelineVersionView(item.version, item.diff)
          : { kind: 'event' as const, time: item.time, event: eventItem(item.event) },
      );
      const body = {
        resourceId,
        items,
        ...(page.cursor === undefined ? {} : { nextCursor: d.cursors.encodeToken(hash, page.cursor) }),
      };
      return {
        response: jsonResponse(200, body),
        resultCount: items.length,
        target: { id: resourceId.slice(0, 2048), type: 'auditseal::ResourceProfile' },
      };
    },
    deps,
  );
}

function eventItem(event: TimelineEventView): Omit<TimelineEventView, never> {
  const { id, time, eventTime, receivedAt, channel, action, actor, outcome, eventJson } = event;
  return { id, time, eventTime, receivedAt, channel, action, actor, outcome, eventJson };
}

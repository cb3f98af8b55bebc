/**
 * The event read routes: `GET /v1/events` (reader), `GET /v1/events/{id}` (reader) and
 * `GET /v1/events/{id}/proof` (auditor). Each is middy wiring plus one call into shared/query, and each
 * successful read is recorded in the ledger before it is answered (functions/http/recorded-read.ts).
 */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { z } from 'zod';
import { isoSeconds, type Period, periodEndMs, periodOf } from '../shared/ledger/period.ts';
import type { DigestCatalog } from '../shared/ports/digest-catalog.ts';
import type { LedgerStore } from '../shared/ports/ledger-store.ts';
import type { ProfileStore } from '../shared/ports/profile-store.ts';
import { type EventProfile, eventProfile } from '../shared/profiles/api.ts';
import { QueryError } from '../shared/query/errors.ts';
import { buildEventProof, type ObjectRangeReader } from '../shared/query/event-proof.ts';
import type { ReadJournal } from '../shared/query/read-record.ts';
import { type SearchDeps, type SearchHit, searchEvents } from '../shared/query/search-events.ts';
import { searchParametersSchema, toSearchQuery } from '../shared/query/search-query.ts';
import { digestId } from '../shared/sealing/digest-catalog.ts';
import { type HandlerLogger, lazyErrorResponse } from './http/error-response.ts';
import { eventIdParameter } from './http/event-id.ts';
import { jsonResponse } from './http/json-response.ts';
import { parseQuery } from './http/query.ts';
import { type ReadAnswer, type ReadRoute, recordedRead } from './http/recorded-read.ts';

/** What the event read routes need; built once per container (functions/read-runtime.ts). */
export interface ReadDeps {
  readonly ledger: string;
  readonly periodSeconds: number;
  /** The sealer seals a period this long after it ends. */
  readonly graceSeconds: number;
  readonly search: Omit<SearchDeps, 'ledger'>;
  readonly events: Pick<LedgerStore, 'getEvent'>;
  readonly catalog: Pick<DigestCatalog, 'getSeal'>;
  readonly objects: ObjectRangeReader;
  readonly journal: ReadJournal;
  readonly logger: HandlerLogger;
  readonly now: () => Date;
  /** Profile versions, for `include=profile`. */
  readonly profiles?: ProfileStore;
}

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
type Route = (event: APIGatewayProxyEvent, deps: ReadDeps) => Promise<ReadAnswer>;

/** No query parameter is accepted. */
export const noParameters = z.strictObject({});

/** `GET /v1/events/{id}`: `include=profile` adds the profile versions of the event's resource around it. */
export const eventQuerySchema = z.strictObject({
  include: z.enum(['profile']).optional().meta({
    description: 'profile: the version of the resource in force at the event time, and the one after it',
  }),
});

function wrap(route: ReadRoute, run: Route, deps: () => Promise<ReadDeps>): Handler {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(lazyErrorResponse(async () => (await deps()).logger))
    .handler(async (event, context) => {
      const d = await deps();
      return recordedRead(route, event, context, d, () => run(event, d));
    });
}

/** Profile lookups of one search page run this many at a time (two reads each). */
const PROFILE_LOOKUPS_AT_ONCE = 16;

/** `include=profile`: each hit with the versions of its resource around the event (see getEvent). */
async function withProfiles(hits: readonly SearchHit[], profiles: ProfileStore) {
  const out: (SearchHit & { profile: EventProfile | null })[] = [];
  for (let start = 0; start < hits.length; start += PROFILE_LOOKUPS_AT_ONCE) {
    const slice = hits.slice(start, start + PROFILE_LOOKUPS_AT_ONCE);
    const found = await Promise.all(
      slice.map(async (hit) => {
        const parsed = JSON.parse(hit.eventJson) as Parameters<typeof eventProfile>[1];
        return { ...hit, profile: (await eventProfile(profiles, parsed)) ?? null };
      }),
    );
    out.push(...found);
  }
  return out;
}

const search: Route = async (event, deps) => {
  const parameters = parseQuery(event, searchParametersSchema);
  const query = toSearchQuery(parameters);
  const page = await searchEvents(query, { ...deps.search, ledger: deps.ledger });
  const events =
    parameters.include === 'profile' && deps.profiles !== undefined
      ? await withProfiles(page.events, deps.profiles)
      : page.events;
  const body = {
    events,
    ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }),
  };
  return {
    response: jsonResponse(200, body, { 'x-auditseal-items-read': String(page.itemsRead) }),
    resultCount: page.events.length,
  };
};

/** The period of an event, and its digest reference once sealed. */
async function periodOfEvent(deps: ReadDeps, receivedAt: string) {
  const period = periodOf(Date.parse(receivedAt), deps.periodSeconds);
  const seal = await deps.catalog.getSeal(deps.ledger, period);
  return { period, seal };
}

function periodBody(period: Period) {
  return {
    id: digestId(period),
    start: isoSeconds(period.startMs),
    end: isoSeconds(periodEndMs(period)),
    seconds: period.seconds,
  };
}

const getEvent: Route = async (event, deps) => {
  const { include } = parseQuery(event, eventQuerySchema);
  const id = eventIdParameter(event);
  const stored = await deps.events.getEvent(deps.ledger, id);
  if (!stored) throw new QueryError('NOT_FOUND', 'no event with this id');
  const { period, seal } = await periodOfEvent(deps, stored.receivedAt);
  let profile: Awaited<ReturnType<typeof eventProfile>> | null | undefined;
  if (include === 'profile' && deps.profiles !== undefined) {
    const parsed = JSON.parse(Buffer.from(stored.bytes).toString('utf8')) as Parameters<
      typeof eventProfile
    >[1];
    profile = (await eventProfile(deps.profiles, parsed)) ?? null;
  }
  const body = {
    id: stored.id,
    receivedAt: stored.receivedAt,
    eventJson: Buffer.from(stored.bytes).toString('utf8'),
    receipt: stored.receipt,
    period: periodBody(period),
    sealed: seal !== undefined,
    digest:
      seal === undefined
        ? null
        : {
            id: digestId(period),
            digestKey: seal.digestKey,
            statementSha256: seal.statementSha256,
            sequence: seal.sequence,
          },
    ...(profile === undefined ? {} : { profile }),
  };
  return { response: jsonResponse(200, body), resultCount: 1, target: { id, type: 'auditseal::Event' } };
};

/** Extra seconds after `periodEnd + grace` before a retry is worth it: the next sealing run. */
const SEALING_SLACK_SECONDS = 15;

const getEventProof: Route = async (event, deps) => {
  parseQuery(event, noParameters);
  const id = eventIdParameter(event);
  const stored = await deps.events.getEvent(deps.ledger, id);
  if (!stored) throw new QueryError('NOT_FOUND', 'no event with this id');
  const { period, seal } = await periodOfEvent(deps, stored.receivedAt);
  if (!seal) {
    const due = periodEndMs(period) + deps.graceSeconds * 1000;
    const retryAfter = Math.max(1, Math.ceil((due - deps.now().getTime()) / 1000)) + SEALING_SLACK_SECONDS;
    throw new QueryError('NOT_SEALED', "the event's period is not sealed yet; retry later", {
      retryAfter,
      period: periodBody(period),
    });
  }
  const proof = await buildEventProof(deps.ledger, stored, seal, deps.objects);
  return { response: jsonResponse(200, proof), resultCount: 1, target: { id, type: 'auditseal::Event' } };
};

/** Handler factories, for tests and the Lambda entry points. */
export const createSearchEventsHandler = (deps: () => Promise<ReadDeps>) =>
  wrap({ route: 'GET /v1/events', action: 'auditseal:SearchEvents' }, search, deps);
export const createGetEventHandler = (deps: () => Promise<ReadDeps>) =>
  wrap({ route: 'GET /v1/events/{id}', action: 'auditseal:GetEvent' }, getEvent, deps);
export const createGetEventProofHandler = (deps: () => Promise<ReadDeps>) =>
  wrap({ route: 'GET /v1/events/{id}/proof', action: 'auditseal:GetEventProof' }, getEventProof, deps);

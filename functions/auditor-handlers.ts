/**
 * The auditor's read routes (auditor role): `GET /v1/digests`, `GET /v1/digests/{id}`, `GET /v1/head`,
 * `GET /v1/keys`, `GET /v1/alarms`. Each is middy wiring plus one call into shared/, and each successful
 * read is recorded in the ledger before it is answered (G7, functions/http/recorded-read.ts).
 */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { z } from 'zod';
import { loadPublicKey, TrustedKeySet } from '../shared/crypto/keys.ts';
import { latestSignedHead } from '../shared/head/signed-head.ts';
import { readKeyHistory } from '../shared/keys/key-history.ts';
import type { DigestCatalog, ObjectLinks } from '../shared/ports/digest-catalog.ts';
import type { ObjectStore } from '../shared/ports/object-store.ts';
import type { Signer } from '../shared/ports/signer.ts';
import type { ReadJournal } from '../shared/query/read-record.ts';
import {
  describeDigest,
  listDigests,
  listQuerySchema,
  parseDigestId,
  type SealingSchedule,
} from '../shared/sealing/digest-catalog.ts';
import type { TamperAlarm } from '../shared/sealing/tamper-alarms.ts';
import { type HandlerLogger, lazyErrorResponse } from './http/error-response.ts';
import { HttpError } from './http/errors.ts';
import { jsonResponse } from './http/json-response.ts';
import { parseQuery, pathParameter } from './http/query.ts';
import { type ReadRoute, recordedRead } from './http/recorded-read.ts';

export interface AuditorDeps {
  readonly ledger: string;
  /** The ledger's period and grace, so clients can say when a period will be sealed. */
  readonly schedule: SealingSchedule;
  readonly catalog: DigestCatalog;
  readonly objects: ObjectStore;
  readonly links: ObjectLinks;
  readonly signer: Pick<Signer, 'keyId' | 'publicKeyPem'>;
  readonly alarms: { list(limit?: number): Promise<TamperAlarm[]> };
  readonly logger: HandlerLogger;
  readonly now: () => Date;
  /** Where every successful read is recorded (G7). */
  readonly journal: ReadJournal;
}

type Route = (event: APIGatewayProxyEvent, deps: AuditorDeps) => Promise<APIGatewayProxyResult>;

/** The query of a route that takes no parameter (any parameter is a 400). */
export const noQuerySchema = z.object({}).strict();
/** `GET /v1/alarms` query. */
export const alarmsQuerySchema = z
  .object({
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(100)
      .meta({ description: 'most alarms, newest first' }),
  })
  .strict();

function wrap(route: Route, deps: () => AuditorDeps, read: ReadRoute) {
  return (
    middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
      // Deps are resolved when an error is handled, so a wiring failure is logged too (FALLBACK_LOGGER).
      .use(lazyErrorResponse(() => deps().logger))
      .handler((event, context: Context) => {
        const d = deps();
        return recordedRead(read, event, context, d, async () => {
          const response = await route(event, d);
          const id = event.pathParameters?.['id'];
          return {
            response,
            resultCount: resultCountOf(response),
            ...(id === undefined ? {} : { target: { id, type: 'auditseal::Digest' } }),
          };
        });
      })
  );
}

/** How many items an answer lists (its one array member's length), or 1 for a single item. */
function resultCountOf(response: APIGatewayProxyResult): number {
  const body = JSON.parse(response.body) as Record<string, unknown>;
  const list = Object.values(body).find(Array.isArray);
  return list === undefined ? 1 : list.length;
}

const listDigestsRoute: Route = async (event, deps) => {
  const query = parseQuery(event, listQuerySchema);
  try {
    return jsonResponse(200, await listDigests(deps.ledger, query, deps.catalog, deps.schedule));
  } catch (error) {
    if (error instanceof RangeError) throw new HttpError(400, 'INVALID_QUERY', 'invalid nextToken');
    throw error;
  }
};

const getDigestRoute: Route = async (event, deps) => {
  parseQuery(event, noQuerySchema);
  const id = pathParameter(event, 'id', /^\d{8}T\d{6}Z-\d{2,5}s$/);
  const period = parseDigestId(id);
  if (!period) throw new HttpError(400, 'INVALID_PATH', 'digest id must look like 20261122T210000Z-3600s');
  const described = await describeDigest(deps.ledger, period, deps);
  if (!described) throw new HttpError(404, 'NOT_FOUND', `no sealed digest ${id}`);
  return jsonResponse(200, described);
};

const getHeadRoute: Route = async (event, deps) => {
  parseQuery(event, noQuerySchema);
  // Only the service's own key signs heads it serves: a statement under any other key is not served.
  const keys = new TrustedKeySet([loadPublicKey(await deps.signer.publicKeyPem())]);
  const head = await latestSignedHead(deps.ledger, { ...deps, keys });
  if (!head) throw new HttpError(404, 'NOT_FOUND', 'nothing has been sealed yet');
  return jsonResponse(200, head);
};

const getKeysRoute: Route = async (event, deps) => {
  parseQuery(event, noQuerySchema);
  const history = await readKeyHistory(deps.objects, deps.ledger, await deps.signer.publicKeyPem());
  // A record that does not check out is a tamper signal: logged, and the walk stops before it.
  for (const problem of history.problems) deps.logger.warn('key history', { problem });
  return jsonResponse(200, { keys: history.entries });
};

const listAlarmsRoute: Route = async (event, deps) => {
  const query = parseQuery(event, alarmsQuerySchema);
  return jsonResponse(200, { alarms: await deps.alarms.list(query.limit) });
};

/** Handler factories, for tests and the local gateway. */
export const createListDigestsHandler = (deps: () => AuditorDeps) =>
  wrap(listDigestsRoute, deps, { route: 'GET /v1/digests', action: 'auditseal:ListDigests' });
export const createGetDigestHandler = (deps: () => AuditorDeps) =>
  wrap(getDigestRoute, deps, { route: 'GET /v1/digests/{id}', action: 'auditseal:GetDigest' });
export const createGetHeadHandler = (deps: () => AuditorDeps) =>
  wrap(getHeadRoute, deps, { route: 'GET /v1/head', action: 'auditseal:GetHead' });
export const createGetKeysHandler = (deps: () => AuditorDeps) =>
  wrap(getKeysRoute, deps, { route: 'GET /v1/keys', action: 'auditseal:GetKeys' });
export const createListAlarmsHandler = (deps: () => AuditorDeps) =>
  wrap(listAlarmsRoute, deps, { route: 'GET /v1/alarms', action: 'auditseal:ListAlarms' });

/**
 * The HTTP API of the brief, as one table: method and path, the roles that may call it (G7), the handler
 * file that serves it, and what that handler may touch. It is the single source of who may call what:
 * the private API, the three roles' managed policies, the API's resource policy and the functions are all
 * built from it, and so is the local gateway (`local/routes.ts` serves exactly these routes with these
 * roles; this module imports nothing, so both sides can read it).
 *
 * Deploying a new handler is one line: set `handler` to the name of `functions/<handler>.ts` (which must
 * export `handler`). A route whose handler is `null` is not deployed (docs/DEPLOY.md lists them).
 */

/** The three API roles (G7): writer ingests and writes profiles, reader queries, auditor audits. */
export type ApiRole = 'writer' | 'reader' | 'auditor';

export const API_ROLES: readonly ApiRole[] = ['writer', 'reader', 'auditor'];

/**
 * What a route's function may touch (infra/constructs/function-environment.ts turns each into environment
 * variables and the matching grants):
 * - `ingest`: append to the ledger, read it, sign with the signing key;
 * - `query`: read the ledger (and its search indexes) and the digest bucket, send read records to the
 *   read journal ("every read is recorded", G7);
 * - `search`: `query`, plus deriving the cursor key;
 * - `audit`: read the ledger and the digest bucket, read the signing key's public key, send read records.
 */
export type RouteAccess = 'ingest' | 'query' | 'search' | 'audit';

export type HttpMethod = 'GET' | 'POST' | 'PUT';

export interface ApiRoute {
  readonly method: HttpMethod;
  /** API path; `{name}` is a path parameter. */
  readonly path: string;
  readonly roles: readonly ApiRole[];
  /** `functions/<handler>.ts`, exporting `handler`; `null` while no handler is written (not deployed). */
  readonly handler: string | null;
  readonly access: RouteAccess;
}

/** Every route of the brief's HTTP API table. */
export const API_ROUTES: readonly ApiRoute[] = [
  { method: 'POST', path: '/v1/events', roles: ['writer'], handler: 'ingest-events', access: 'ingest' },
  {
    method: 'PUT',
    path: '/v1/resources/{id}/profile',
    roles: ['writer'],
    handler: 'put-profile',
    access: 'ingest',
  },
  { method: 'GET', path: '/v1/events', roles: ['reader'], handler: 'search-events', access: 'search' },
  { method: 'GET', path: '/v1/events/{id}', roles: ['reader'], handler: 'get-event', access: 'query' },
  // G7: proofs are the auditor's, like digests.
  {
    method: 'GET',
    path: '/v1/events/{id}/proof',
    roles: ['auditor'],
    handler: 'get-event-proof',
    access: 'query',
  },
  {
    method: 'GET',
    path: '/v1/resources/{id}/profile',
    roles: ['reader'],
    handler: 'get-profile',
    access: 'query',
  },
  // The timeline pages with the search's authenticated cursors, so it gets the cursor key like search.
  {
    method: 'GET',
    path: '/v1/resources/{id}/timeline',
    roles: ['reader'],
    handler: 'get-timeline',
    access: 'search',
  },
  { method: 'GET', path: '/v1/digests', roles: ['auditor'], handler: 'list-digests', access: 'audit' },
  { method: 'GET', path: '/v1/digests/{id}', roles: ['auditor'], handler: 'get-digest', access: 'audit' },
  { method: 'GET', path: '/v1/head', roles: ['auditor'], handler: 'get-head', access: 'audit' },
  { method: 'GET', path: '/v1/keys', roles: ['auditor'], handler: 'get-keys', access: 'audit' },
  { method: 'GET', path: '/v1/alarms', roles: ['auditor'], handler: 'list-alarms', access: 'audit' },
  {
    method: 'GET',
    path: '/v1/alerts',
    roles: ['reader', 'auditor'],
    handler: 'list-alerts',
    access: 'audit',
  },
];

/** A route that has a handler, and so is deployed. */
export type DeployedRoute = ApiRoute & { readonly handler: string };

/** The routes that are deployed: those with a handler. */
export function deployedRoutes(routes: readonly ApiRoute[] = API_ROUTES): DeployedRoute[] {
  return routes.filter((route): route is DeployedRoute => route.handler !== null);
}

/** The routes that are not deployed yet: no handler. */
export function pendingRoutes(routes: readonly ApiRoute[] = API_ROUTES): ApiRoute[] {
  return routes.filter((route) => route.handler === null);
}

/** `GET /v1/events/{id}`, the way the brief and the docs name a route. */
export function routeName(route: Pick<ApiRoute, 'method' | 'path'>): string {
  return `${route.method} ${route.path}`;
}

/**
 * The route's path in `execute-api` ARNs, where each path parameter is `*`.
 * @example executeApiPath('/v1/events/{id}/proof') // '/v1/events/*\/proof'
 */
export function executeApiPath(path: string): string {
  return path.replace(/\{[^}/]+\}/g, '*');
}

/** The path parameters of a route: `['id']` for `/v1/events/{id}`. */
export function pathParameters(path: string): string[] {
  return [...path.matchAll(/\{([^}/]+)\}/g)].map((match) => match[1]!);
}

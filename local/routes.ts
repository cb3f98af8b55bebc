/**
 * The registry of what `npm start` serves: the API routes, the stream functions (the sealer, and the
 * detection function as a second consumer of the ledger stream), the heartbeat and the read recorder. The routes and their roles are not written here: they are the deployed routes of the one
 * route table (`infra/constructs/api-routes.ts`), each served by the very `functions/<handler>.ts` the CDK
 * app deploys, with the same function timeout, so the local gateway and the IAM policies cannot disagree
 * on who may call what.
 *
 * Handlers read their configuration from `process.env` at cold start, so the environment is set before
 * they are imported. Locally the grace time is short (15 s) so a 60 s period is sealed about 16 s after
 * it ends (local/sealing-schedule.ts). It stays above the timeout of every function that writes (10 s, `WRITER_TIMEOUT_SECONDS`):
 * the gateway answers 504 once a writer's timeout has passed, so no acknowledged write can land after its
 * period's grace.
 */
import { API_INTEGRATION_TIMEOUT_SECONDS, WRITER_TIMEOUT_SECONDS } from '../functions/config.ts';
import { API_ROUTES, type ApiRoute, deployedRoutes } from '../infra/constructs/api-routes.ts';
import type { ProxyHandler, Route } from './route-table.ts';
import { LOCAL_GRACE_SECONDS } from './sealing-schedule.ts';
import type { LocalFunctions, LocalStackContext } from './stack.ts';

export { LOCAL_GRACE_SECONDS } from './sealing-schedule.ts';

/**
 * The local gateway's routes for a route table: one per deployed route, with its handler module, its
 * roles and the timeout its function has when deployed (infra/constructs/functions.ts): the writer
 * timeout for routes that append to the ledger (`ingest` access), API Gateway's integration timeout for
 * the others (reads record themselves through the read journal, not by writing).
 */
export async function localRoutes(routes: readonly ApiRoute[] = API_ROUTES): Promise<Route[]> {
  return Promise.all(
    deployedRoutes(routes).map(async (route): Promise<Route> => {
      const module = (await import(`../functions/${route.handler}.ts`)) as { handler?: ProxyHandler };
      if (typeof module.handler !== 'function') {
        throw new TypeError(`functions/${route.handler}.ts does not export a handler`);
      }
      const seconds = writes(route) ? WRITER_TIMEOUT_SECONDS : API_INTEGRATION_TIMEOUT_SECONDS;
      return {
        method: route.method,
        path: route.path,
        role: route.roles,
        handler: module.handler,
        functionName: `auditseal-${route.handler}`,
        timeoutMs: seconds * 1000,
      };
    }),
  );
}

function writes(route: Pick<ApiRoute, 'access'>): boolean {
  return route.access === 'ingest';
}

/** The handlers for this run; called once the resources exist. */
export async function loadLocalFunctions(context: LocalStackContext): Promise<LocalFunctions> {
  Object.assign(process.env, context.lambdaEnvironment);
  process.env['AUDITSEAL_GRACE_SECONDS'] ??= String(LOCAL_GRACE_SECONDS);
  const { handler: sealPeriods } = await import('../functions/seal-periods.ts');
  const { handler: detectEvents } = await import('../functions/detect-events.ts');
  const { handler: heartbeat } = await import('../functions/heartbeat.ts');
  const { handler: recordReads } = await import('../functions/record-reads.ts');
  const routes = await localRoutes();
  assertGraceExceedsWriterTimeouts(routes, process.env['AUDITSEAL_GRACE_SECONDS']);
  return {
    routes,
    readRecorder: recordReads,
    streamHandler: (event, lambdaContext) => sealPeriods(event, lambdaContext),
    streamConsumers: [
      {
        functionName: 'auditseal-detect-events',
        handler: (event, lambdaContext) => detectEvents(event, lambdaContext),
      },
    ],
    heartbeat: (_event, lambdaContext) => heartbeat(undefined as never, lambdaContext),
  };
}

/** Refuses to start when a route that writes could still be running once its period's grace is over. */
export function assertGraceExceedsWriterTimeouts(
  routes: readonly Route[],
  graceSeconds: string | undefined,
): void {
  const grace = Number(graceSeconds);
  for (const route of routes) {
    const deployed = API_ROUTES.find((api) => api.method === route.method && api.path === route.path);
    if (deployed === undefined || !writes(deployed)) continue;
    const timeoutMs = route.timeoutMs ?? API_INTEGRATION_TIMEOUT_SECONDS * 1000;
    if (!Number.isFinite(grace) || grace * 1000 <= timeoutMs) {
      throw new Error(
        `AUDITSEAL_GRACE_SECONDS (${graceSeconds}) must exceed the ${timeoutMs / 1000} s timeout of ` +
          `${route.method} ${route.path}: a write still running after the grace would miss its period's digest`,
      );
    }
  }
}

/**
 * The registry of what `npm start` serves: the API routes, the stream handler and the heartbeat. The
 * routes and their roles are not written here: they are the deployed routes of the one route table
 * (`infra/constructs/api-routes.ts`), each served by the very `functions/<handler>.ts` the CDK app deploys,
 * so the local gateway and the IAM policies cannot disagree on who may call what.
 *
 * Handlers read their configuration from `process.env` at cold start, so the environment is set before
 * they are imported. Locally the grace time is short (15 s) so a 60 s period is sealed about 15 s after
 * it ends; it stays above the in-process ingest time by a wide margin.
 */
import { API_ROUTES, type ApiRoute, deployedRoutes } from '../infra/constructs/api-routes.ts';
import type { ProxyHandler, Route } from './route-table.ts';
import type { LocalFunctions, LocalStackContext } from './stack.ts';

/** Grace after a period's end before it is sealed, locally. */
export const LOCAL_GRACE_SECONDS = 15;

/** The local gateway's routes for a route table: one per deployed route, with its handler module. */
export async function localRoutes(routes: readonly ApiRoute[] = API_ROUTES): Promise<Route[]> {
  return Promise.all(
    deployedRoutes(routes).map(async (route): Promise<Route> => {
      const module = (await import(`../functions/${route.handler}.ts`)) as { handler?: ProxyHandler };
      if (typeof module.handler !== 'function') {
        throw new TypeError(`functions/${route.handler}.ts does not export a handler`);
      }
      return {
        method: route.method,
        path: route.path,
        role: route.roles,
        handler: module.handler,
        functionName: `auditseal-${route.handler}`,
      };
    }),
  );
}

/** The handlers for this run; called once the resources exist. */
export async function loadLocalFunctions(context: LocalStackContext): Promise<LocalFunctions> {
  Object.assign(process.env, context.lambdaEnvironment);
  process.env['AUDITSEAL_GRACE_SECONDS'] ??= String(LOCAL_GRACE_SECONDS);
  const { handler: sealPeriods } = await import('../functions/seal-periods.ts');
  const { handler: heartbeat } = await import('../functions/heartbeat.ts');
  const { handler: recordReads } = await import('../functions/record-reads.ts');
  return {
    routes: await localRoutes(),
    readRecorder: recordReads,
    streamHandler: (event, lambdaContext) => sealPeriods(event, lambdaContext),
    heartbeat: (_event, lambdaContext) => heartbeat(undefined as never, lambdaContext),
  };
}

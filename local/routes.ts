/**
 * The registry of what `npm start` serves: the API routes (with the role allowed on each), the stream
 * functions (the sealer, and the detection function as a second consumer of the ledger stream) and the
 * heartbeat. It is the local counterpart of the CDK app's wiring, and it serves the very same `functions/`
 * handlers the CDK app deploys, with the same function timeouts.
 *
 * Handlers read their configuration from `process.env` at cold start, so the environment is set before
 * they are imported. Locally the grace time is short (15 s) so a 60 s period is sealed about 15 s after
 * it ends. It stays above the timeout of every function that writes (10 s, `WRITER_TIMEOUT_SECONDS`):
 * the gateway answers 504 once a writer's timeout has passed, so no acknowledged write can land after its
 * period's grace.
 */
import { API_INTEGRATION_TIMEOUT_SECONDS, WRITER_TIMEOUT_SECONDS } from '../functions/config.ts';
import { API_ROUTES } from '../infra/constructs/api-routes.ts';
import type { Route } from './route-table.ts';
import type { LocalFunctions, LocalStackContext } from './stack.ts';

/** Grace after a period's end before it is sealed, locally. */
export const LOCAL_GRACE_SECONDS = 15;

/** The handlers for this run; called once the resources exist. */
export async function loadLocalFunctions(context: LocalStackContext): Promise<LocalFunctions> {
  Object.assign(process.env, context.lambdaEnvironment);
  process.env['AUDITSEAL_GRACE_SECONDS'] ??= String(LOCAL_GRACE_SECONDS);
  const { handler: ingestEvents } = await import('../functions/ingest-events.ts');
  const { handler: listDigests } = await import('../functions/list-digests.ts');
  const { handler: getDigest } = await import('../functions/get-digest.ts');
  const { handler: getHead } = await import('../functions/get-head.ts');
  const { handler: getKeys } = await import('../functions/get-keys.ts');
  const { handler: listAlarms } = await import('../functions/list-alarms.ts');
  const { handler: listAlerts } = await import('../functions/list-alerts.ts');
  const { handler: sealPeriods } = await import('../functions/seal-periods.ts');
  const { handler: detectEvents } = await import('../functions/detect-events.ts');
  const { handler: heartbeat } = await import('../functions/heartbeat.ts');
  const routes = withDeployedTimeouts([
    { method: 'POST', path: '/v1/events', role: 'writer', handler: ingestEvents },
    { method: 'GET', path: '/v1/digests', role: 'auditor', handler: listDigests },
    { method: 'GET', path: '/v1/digests/{id}', role: 'auditor', handler: getDigest },
    { method: 'GET', path: '/v1/head', role: 'auditor', handler: getHead },
    { method: 'GET', path: '/v1/keys', role: 'auditor', handler: getKeys },
    { method: 'GET', path: '/v1/alarms', role: 'auditor', handler: listAlarms },
    { method: 'GET', path: '/v1/alerts', role: ['reader', 'auditor'], handler: listAlerts },
  ]);
  assertGraceExceedsWriterTimeouts(routes, process.env['AUDITSEAL_GRACE_SECONDS']);
  return {
    routes,
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

/**
 * Gives each route the timeout its function has when deployed (infra/constructs/functions.ts): the
 * writer timeout for routes that append to the ledger (`ingest` and `query` access in
 * infra/constructs/api-routes.ts), API Gateway's integration timeout for the others.
 */
export function withDeployedTimeouts(routes: readonly Route[]): Route[] {
  return routes.map((route) => {
    const deployed = API_ROUTES.find((api) => api.method === route.method && api.path === route.path);
    if (deployed === undefined) {
      throw new Error(`${route.method} ${route.path} is not a route of infra/constructs/api-routes.ts`);
    }
    const seconds = deployed.access === 'audit' ? API_INTEGRATION_TIMEOUT_SECONDS : WRITER_TIMEOUT_SECONDS;
    return { ...route, timeoutMs: seconds * 1000 };
  });
}

/** Refuses to start when a route that writes could still be running once its period's grace is over. */
export function assertGraceExceedsWriterTimeouts(
  routes: readonly Route[],
  graceSeconds: string | undefined,
): void {
  const grace = Number(graceSeconds);
  for (const route of routes) {
    const deployed = API_ROUTES.find((api) => api.method === route.method && api.path === route.path);
    if (deployed?.access === 'audit') continue;
    const timeoutMs = route.timeoutMs ?? API_INTEGRATION_TIMEOUT_SECONDS * 1000;
    if (!Number.isFinite(grace) || grace * 1000 <= timeoutMs) {
      throw new Error(
        `AUDITSEAL_GRACE_SECONDS (${graceSeconds}) must exceed the ${timeoutMs / 1000} s timeout of ` +
          `${route.method} ${route.path}: a write still running after the grace would miss its period's digest`,
      );
    }
  }
}

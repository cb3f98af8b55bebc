/**
 * The registry of what `npm start` serves: the API routes (with the role allowed on each), the stream
 * functions (the sealer, and the detection function as a second consumer of the ledger stream) and the
 * heartbeat. It is the local counterpart of the CDK app's wiring, and it serves the very
 * same `functions/` handlers the CDK app deploys.
 *
 * Handlers read their configuration from `process.env` at cold start, so the environment is set before
 * they are imported. Locally the grace time is short (15 s) so a 60 s period is sealed about 15 s after
 * it ends; it stays above the in-process ingest time by a wide margin.
 */
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
  const { handler: getKeys } = await import('../functions/get-keys.ts');
  const { handler: listAlarms } = await import('../functions/list-alarms.ts');
  const { handler: listAlerts } = await import('../functions/list-alerts.ts');
  const { handler: sealPeriods } = await import('../functions/seal-periods.ts');
  const { handler: detectEvents } = await import('../functions/detect-events.ts');
  const { handler: heartbeat } = await import('../functions/heartbeat.ts');
  return {
    routes: [
      { method: 'POST', path: '/v1/events', role: 'writer', handler: ingestEvents },
      { method: 'GET', path: '/v1/digests', role: 'auditor', handler: listDigests },
      { method: 'GET', path: '/v1/digests/{id}', role: 'auditor', handler: getDigest },
      { method: 'GET', path: '/v1/keys', role: 'auditor', handler: getKeys },
      { method: 'GET', path: '/v1/alarms', role: 'auditor', handler: listAlarms },
      { method: 'GET', path: '/v1/alerts', role: ['reader', 'auditor'], handler: listAlerts },
    ],
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

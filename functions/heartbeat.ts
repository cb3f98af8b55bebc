/**
 * The scheduled heartbeat (every minute): seals every due period, so a period with no traffic still
 * gets its digest (G3). A failure is thrown so that it shows in the function's error metrics.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import middy from '@middy/core';
import type { SealedPeriod } from '../shared/ledger/seal-period.ts';
import { sealingRuntimeFromEnv } from './sealing-runtime.ts';

export interface HeartbeatDeps {
  readonly sealDue: () => Promise<SealedPeriod[]>;
  readonly logger: Logger;
}

export function createHeartbeatHandler(deps: HeartbeatDeps) {
  return middy(async (): Promise<{ sealed: number }> => {
    const sealed = await deps.sealDue();
    for (const s of sealed) {
      deps.logger.info('period sealed', {
        digestKey: s.digestKey,
        sequence: s.sequence,
        treeSize: s.treeSize,
        outcome: s.outcome,
      });
    }
    return { sealed: sealed.length };
  });
}

let runtime: ReturnType<typeof sealingRuntimeFromEnv> | undefined;

export const handler = createHeartbeatHandler({
  logger: new Logger({ serviceName: 'auditseal-heartbeat' }),
  sealDue: () => {
    runtime ??= sealingRuntimeFromEnv();
    return runtime.sealDue();
  },
});

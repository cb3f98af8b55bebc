/**
 * `npm start`: `node --import tsx local/main.ts`. Starts the local stack and stops everything it started
 * on Ctrl-C (SIGINT) or SIGTERM; a second signal exits at once.
 *
 * Environment: PORT (default 4010), AUDITSEAL_PERIOD_SECONDS (default 60), AUDITSEAL_DATA_DIR (default
 * .auditseal), AUDITSEAL_MOTO_ENDPOINT (use a moto server that is already running), AUDITSEAL_CACHE_DIR.
 */

import { z } from 'zod';
import { loadLocalFunctions } from './routes.ts';
import { DEFAULT_PERIOD_SECONDS, startLocalStack } from './stack.ts';

const envSchema = z.object({
  PORT: z
    .string()
    .regex(/^\d{1,5}$/, 'must be a port number')
    .transform(Number)
    .pipe(z.number().int().min(1).max(65_535))
    .optional(),
  AUDITSEAL_PERIOD_SECONDS: z
    .string()
    .regex(/^\d{1,6}$/, 'must be a whole number of seconds')
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(60)
        .max(86_400)
        .refine((seconds) => 86_400 % seconds === 0, 'must divide a day (86400)'),
    )
    .optional(),
  AUDITSEAL_DATA_DIR: z.string().min(1).optional(),
  AUDITSEAL_MOTO_ENDPOINT: z.url().optional(),
});

async function main(): Promise<number> {
  const parsed = envSchema.safeParse(
    Object.fromEntries(
      Object.entries(process.env).filter(([, value]) => value !== undefined && value !== ''),
    ),
  );
  if (!parsed.success) {
    for (const issue of parsed.error.issues) console.error(`${issue.path.join('.')}: ${issue.message}`);
    return 2;
  }
  const env = parsed.data;
  // This is a local tool: the SDK's notice about future Node.js versions (read when a client is created)
  // would only push the summary off the screen.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

  // Signals are handled from the start: a Ctrl-C while the servers come up stops them once they are up.
  let signals = 0;
  let stopRequested: (signal: NodeJS.Signals) => void = () => {};
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    stopRequested = resolve;
  });
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      // process.exit still runs the exit hook that kills the servers' process groups.
      console.error(`${signal} again: exiting without waiting`);
      process.exit(130);
    }
    console.log(`\n${signal}: stopping the local stack…`);
    stopRequested(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const stack = await startLocalStack({
    port: env.PORT ?? 4010,
    periodSeconds: env.AUDITSEAL_PERIOD_SECONDS ?? DEFAULT_PERIOD_SECONDS,
    ...(env.AUDITSEAL_DATA_DIR === undefined ? {} : { dataDir: env.AUDITSEAL_DATA_DIR }),
    ...(env.AUDITSEAL_MOTO_ENDPOINT === undefined ? {} : { motoEndpoint: env.AUDITSEAL_MOTO_ENDPOINT }),
    functions: loadLocalFunctions,
  });
  await stopSignal;
  try {
    await stack.stop();
    console.log('stopped.');
    return 0;
  } catch (error) {
    console.error(`stop failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`npm start failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);

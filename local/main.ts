/**
 * `npm start`: `node --import tsx local/main.ts`. Starts the local stack and stops everything it started
 * on Ctrl-C (SIGINT), SIGTERM or SIGHUP, and when the process that started it (`npm`) goes away; a second
 * signal exits at once. The servers it starts also stop by themselves if this process is killed outright
 * (see `spawnGroup` in process-group.ts).
 *
 * Environment: PORT (default 4010), AUDITSEAL_PERIOD_SECONDS (default 60), AUDITSEAL_DATA_DIR (default
 * .auditseal), AUDITSEAL_MOTO_ENDPOINT (use a moto server that is already running), AUDITSEAL_CACHE_DIR,
 * AUDITSEAL_GRACE_SECONDS (default 15; the heartbeat runs 1 s after each period's grace).
 */

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { loadLocalFunctions } from './routes.ts';
import { silenceSdkNodeVersionWarning } from './sdk-warnings.ts';
import { LOCAL_GRACE_SECONDS } from './sealing-schedule.ts';
import { DEFAULT_PERIOD_SECONDS, startLocalStack } from './stack.ts';

/** How often the parent process is checked. */
const PARENT_CHECK_MS = 1000;

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
  // The handlers check it against the writers' timeout (local/routes.ts); here it sets the heartbeat.
  AUDITSEAL_GRACE_SECONDS: z
    .string()
    .regex(/^\d{1,5}$/, 'must be a whole number of seconds')
    .transform(Number)
    .optional(),
});

async function main(): Promise<number> {
  silenceSdkNodeVersionWarning();
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
  // A closed terminal (SIGHUP) or a reader that went away must not turn the stop into a crash.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});

  // Signals are handled from the start: a Ctrl-C while the servers come up stops them once they are up.
  let signals = 0;
  let stopRequested: (reason: string) => void = () => {};
  const stopSignal = new Promise<string>((resolve) => {
    stopRequested = resolve;
  });
  const onStop = (reason: string) => {
    signals++;
    if (signals > 1) {
      // process.exit still runs the exit hook that kills the servers' process groups.
      console.error(`${reason} again: exiting without waiting`);
      process.exit(130);
    }
    console.log(`\n${reason}: stopping the local stack…`);
    stopRequested(reason);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onStop);
  // `npm start` runs this under npm (through `sh -c`), and npm does not pass SIGHUP on and cannot pass
  // SIGKILL on: when the process that started the stack goes away, stop as if it had sent SIGTERM.
  const started = ancestry();
  if (started.length > 0) {
    const watch = setInterval(() => {
      const now = ancestry();
      const gone = started.find((pid, i) => now[i] !== pid);
      if (gone === undefined) return;
      clearInterval(watch);
      onStop(`parent process ${gone} exited`);
    }, PARENT_CHECK_MS);
    watch.unref();
  }

  const graceSeconds = env.AUDITSEAL_GRACE_SECONDS ?? LOCAL_GRACE_SECONDS;
  process.env['AUDITSEAL_GRACE_SECONDS'] = String(graceSeconds);
  const stack = await startLocalStack({
    port: env.PORT ?? 4010,
    periodSeconds: env.AUDITSEAL_PERIOD_SECONDS ?? DEFAULT_PERIOD_SECONDS,
    graceSeconds,
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

/**
 * The processes whose end stops the stack: the parent, and under npm (`npm_lifecycle_event` is set) the
 * parent's parent too, since npm runs scripts through a shell that outlives npm. Where /proc is missing,
 * only the parent.
 */
function ancestry(): number[] {
  const parent = process.ppid;
  if (parent <= 1) return [];
  if (process.env['npm_lifecycle_event'] === undefined) return [parent];
  try {
    const stat = readFileSync(`/proc/${parent}/stat`, 'utf8');
    const grandparent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return grandparent > 1 ? [parent, grandparent] : [parent];
  } catch {
    return [parent];
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`npm start failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);

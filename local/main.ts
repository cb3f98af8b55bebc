/**
 * `npm start`: `exec node --import tsx local/main.ts`. Starts the local stack and stops everything it
 * started on Ctrl-C (SIGINT), SIGTERM or SIGHUP, and when the process that started it (`npm`) goes away; a
 * second signal exits at once. The servers it starts also stop by themselves if this process is killed
 * outright (see `spawnGroup` in process-group.ts).
 *
 * Why `exec`: npm runs a script through `sh -c` and passes SIGINT and SIGTERM on to that shell only. A
 * shell that waits for a command (dash, Debian's `sh`) catches SIGINT and acts on it only once the command
 * has ended, so a SIGINT to npm alone never reached this process (a SIGTERM killed the shell and reached it
 * only through the parent check below). With `exec` the shell becomes this process, and npm's SIGINT and
 * SIGTERM arrive here.
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

/**
 * A repeat of the first signal within this time is the same request, not a second one: npm passes SIGINT
 * and SIGTERM on to this process, so a signal to npm's whole process group (Ctrl-C in a terminal) arrives
 * twice, once from the terminal and once from npm, a few milliseconds apart.
 */
const SAME_SIGNAL_MS = 1000;

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
  let first: { readonly reason: string; readonly at: number } | undefined;
  let stopRequested: (reason: string) => void = () => {};
  const stopSignal = new Promise<string>((resolve) => {
    stopRequested = resolve;
  });
  let watch: NodeJS.Timeout | undefined;
  const onStop = (reason: string) => {
    if (first !== undefined) {
      if (reason === first.reason && performance.now() - first.at < SAME_SIGNAL_MS) return;
      // process.exit still runs the exit hook that kills the servers' process groups.
      console.error(`${reason} again: exiting without waiting`);
      process.exit(130);
    }
    first = { reason, at: performance.now() };
    // Stopping already: the parent going away now (npm dies of the same SIGHUP) is no second request.
    clearInterval(watch);
    console.log(`\n${reason}: stopping the local stack…`);
    stopRequested(reason);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onStop);
  // npm does not pass SIGHUP on and cannot pass SIGKILL on: when the process that started the stack goes
  // away, stop as if it had sent SIGTERM.
  const started = ancestry();
  if (started.length > 0) {
    watch = setInterval(() => {
      const now = ancestry();
      const gone = started.find((pid, i) => now[i] !== pid);
      if (gone === undefined) return;
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
 * The processes whose end stops the stack: the parent, and when the parent is the shell npm ran the script
 * with (a start script without `exec`, as `npm start` was before) the shell's parent too, since that shell
 * outlives npm. Where /proc is missing, only the parent.
 */
function ancestry(): number[] {
  const parent = process.ppid;
  if (parent <= 1) return [];
  const script = process.env['npm_lifecycle_script'];
  if (script === undefined) return [parent];
  try {
    // npm runs `sh -c '<script> <args>'`: the parent is that shell when its command starts with the script.
    const argv = readFileSync(`/proc/${parent}/cmdline`, 'utf8').split('\0');
    const option = argv.indexOf('-c');
    if (option < 0 || !argv[option + 1]?.startsWith(script)) return [parent];
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

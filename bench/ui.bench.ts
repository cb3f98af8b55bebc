/**
 * `npm run bench:ui`: the auditor's page against the CLI's verifier on the folder of `bench:verify`.
 *
 *   npm run bench:ui [-- --events N] [--reps R]      (default N = 100,000; the goal is stated at 1M)
 *   npm run bench:ui -- --folder DIR --key PUBLIC.pem  (a folder sealed earlier by bench/seal-child.ts)
 *   … [--jobs N]   the second configuration runs N chunk workers instead of the page's default
 *
 * 1. Seals N synthetic ~1 KiB events as one period (bench/seal-child.ts, as bench:verify does).
 * 2. CLI: the real verifyFolder in a child process, single thread, best of R (bench/verify-child.ts).
 * 3. Page: dist/ui/auditseal.html in Debian's Chromium (playwright-core), the folder picked through the
 *    folder input, Verify clicked; the page's own timer from the click to the verdict, best of R. Twice
 *    per repetition: with the page's defaults (as the auditor gets it: page_verify_s, which the goal
 *    compares with the CLI's single thread) and with --jobs 1 (the verifier alone: page_one_worker_s).
 * Both sides also report CPU time (user + system), which a machine shared with other work disturbs far
 * less than wall time: the CLI child's own process CPU, and the CPU of every Chromium process (all
 * descendants of this process, read from /proc) from the click to the verdict.
 * The last stdout line is one JSON object; docs/BENCHMARKS.md quotes it.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../test/support/chromium.ts';
import { verifyInPage } from '../test/ui/page-driver.ts';
import { argValue, positiveInt, round, runChild } from './bench-args.ts';

const GOAL_RATIO = 2;
const argv = process.argv.slice(2);
const keptFolder = argValue(argv, 'folder');
const keptKey = argValue(argv, 'key');
if ((keptFolder === undefined) !== (keptKey === undefined)) throw new Error('--folder and --key go together');
const events = keptFolder
  ? 0
  : positiveInt(argValue(argv, 'events') ?? process.env['BENCH_EVENTS'] ?? '100000', '--events');
const reps = positiveInt(argValue(argv, 'reps') ?? '3', '--reps');
/** `--jobs N`: the second configuration runs N chunk workers instead of the page's default. */
const jobsArg = argValue(argv, 'jobs');
const poolJobs = jobsArg === undefined ? undefined : positiveInt(jobsArg, '--jobs');
const poolName = poolJobs === undefined ? 'default jobs' : `--jobs ${poolJobs}`;
const log = (line: string) => process.stderr.write(`${line}\n`);
const page = fileURLToPath(new URL('../dist/ui/auditseal.html', import.meta.url));

/** Every descendant of this process, with its CPU ticks (Linux /proc; none elsewhere). */
function descendantTicks(): Map<number, number> {
  const parents = new Map<number, number>();
  const ticks = new Map<number, number>();
  const mine = new Map<number, number>();
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return mine;
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command name, which is in parentheses and may hold spaces: state is field 3.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(pid), Number(fields[1]));
      ticks.set(Number(pid), Number(fields[11]) + Number(fields[12]));
    } catch {
      // The process ended while listing.
    }
  }
  for (const [pid, t] of ticks) {
    let p = parents.get(pid);
    while (p !== undefined && p !== process.pid && p > 1) p = parents.get(p);
    if (p === process.pid) mine.set(pid, t);
  }
  return mine;
}

function descendants(): number[] {
  return [...descendantTicks().keys()];
}

/** User + system CPU seconds of every descendant of this process. */
function descendantsCpuSeconds(): number {
  let total = 0;
  for (const t of descendantTicks().values()) total += t;
  return total / 100; // USER_HZ is 100 on Linux.
}

/** Chromium's kind of process (`--type=renderer`, `gpu-process`, …; none: the browser process). */
function processKind(pid: number): string {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes('chrom')) return 'other';
    return /--type=([a-z-]+)/.exec(cmdline)?.[1] ?? 'browser';
  } catch {
    return 'ended';
  }
}

/** CPU seconds per kind of Chromium process between two descendantTicks() snapshots. */
function cpuByKind(before: Map<number, number>, after: Map<number, number>): Record<string, number> {
  const kinds: Record<string, number> = {};
  for (const [pid, t] of after) {
    const kind = processKind(pid);
    kinds[kind] = round((kinds[kind] ?? 0) + (t - (before.get(pid) ?? 0)) / 100, 2);
  }
  return kinds;
}

interface PageRunFigures {
  readonly seconds: number;
  /** How the page read the files (`worker`: its read worker; `thread`: the verifier's own thread). */
  readonly reads: string;
  readonly cpu: number;
  readonly rendererStartMb: number;
  readonly rendererPeakMb: number;
  /** CPU seconds per kind of Chromium process (renderer: the page and its workers; browser: file reads). */
  readonly cpuByKind: Record<string, number>;
}

/** Resident memory (MiB) of every Chromium renderer process below this one (workers run in them). */
function renderersRssMb(): number {
  let kb = 0;
  for (const pid of descendants()) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer')) continue;
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) kb += Number(m[1]);
    } catch {
      // The process ended while reading.
    }
  }
  return kb / 1024;
}

/** One page verification in a new tab, with `--jobs jobs` (undefined: the page's default): time, CPU, memory. */
async function pageRun(
  browser: Browser,
  folder: string,
  keyFile: string,
  jobs: number | undefined,
): Promise<PageRunFigures> {
  const tab = await browser.newPage({ acceptDownloads: true });
  await tab.goto(`file://${page}`);
  let cpu0 = 0;
  let cpu = 0;
  let ticks0 = new Map<number, number>();
  let kinds: Record<string, number> = {};
  let rendererStartMb = 0;
  let rendererPeakMb = 0;
  let sampler: NodeJS.Timeout | undefined;
  try {
    const run = await verifyInPage(tab, {
      keyFiles: [keyFile],
      folder,
      args: jobs === undefined ? [] : ['--jobs', String(jobs)],
      onVerifyClick: () => {
        ticks0 = descendantTicks();
        cpu0 = descendantsCpuSeconds();
        rendererStartMb = renderersRssMb();
        rendererPeakMb = rendererStartMb;
        sampler = setInterval(() => {
          rendererPeakMb = Math.max(rendererPeakMb, renderersRssMb());
        }, 100);
      },
      onVerdict: () => {
        cpu = descendantsCpuSeconds() - cpu0;
        kinds = cpuByKind(ticks0, descendantTicks());
        clearInterval(sampler);
      },
    });
    if (run.verdict !== 'VALID') throw new Error(`the page says ${run.verdict}`);
    return { seconds: run.seconds, reads: run.reads, cpu, rendererStartMb, rendererPeakMb, cpuByKind: kinds };
  } finally {
    clearInterval(sampler);
    await tab.close();
  }
}

const dir = await mkdtemp(join(tmpdir(), 'auditseal-bench-ui-'));
const loadStart = loadavg().map((l) => round(l, 2));
try {
  log(
    `auditseal page benchmark: ${cpus().length} CPUs (${cpus()[0]?.model}), load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const folder = keptFolder ?? join(dir, 'f');
  const keyFile = keptKey ?? join(dir, 'k.pem');
  if (!keptFolder) {
    log(`sealing ${events.toLocaleString('en-US')} events …`);
    await runChild('bench/seal-child.ts', [
      '--events',
      String(events),
      '--out',
      folder,
      '--key-out',
      keyFile,
    ]);
  }
  log(`CLI verifier, best of ${reps} …`);
  const cli = (await runChild('bench/verify-child.ts', [
    '--dir',
    folder,
    '--key',
    keyFile,
    '--reps',
    String(reps),
  ])) as {
    valid: boolean;
    stats: { events: number };
    verify_s: number[];
    verify_cpu_s: number[];
  };
  if (!cli.valid) throw new Error('the CLI verifier did not find the folder valid');
  log(
    `page in Chromium, best of ${reps}, with --jobs 1 (the verifier alone) and with ${poolJobs === undefined ? "the page's default jobs" : `--jobs ${poolJobs}`} …`,
  );
  const browser = await launchChromium();
  const runs: Record<'one' | 'pool', PageRunFigures[]> = { one: [], pool: [] };
  try {
    for (let i = 0; i < reps; i++) {
      for (const [name, jobs] of [
        ['one', 1],
        // The page's default (ui/jobs.ts), or --jobs N.
        ['pool', poolJobs],
      ] as const) {
        const figures = await pageRun(browser, folder, keyFile, jobs);
        log(
          `  rep ${i + 1}/${reps}, jobs ${jobs ?? 'default'}: page ${figures.seconds.toFixed(2)} s, Chromium CPU ${figures.cpu.toFixed(2)} s, renderer peak RSS ${figures.rendererPeakMb.toFixed(0)} MiB (before Verify ${figures.rendererStartMb.toFixed(0)} MiB), CPU by process ${JSON.stringify(figures.cpuByKind)}`,
        );
        runs[name].push(figures);
      }
    }
  } finally {
    await browser.close();
  }
  const cliBest = Math.min(...cli.verify_s);
  const cliCpu = Math.min(...cli.verify_cpu_s);
  const best = (list: PageRunFigures[], f: (r: PageRunFigures) => number) => Math.min(...list.map(f));
  const one = best(runs.one, (r) => r.seconds);
  const pool = best(runs.pool, (r) => r.seconds);
  const oneCpu = best(runs.one, (r) => r.cpu);
  const poolCpu = best(runs.pool, (r) => r.cpu);
  log(`  CLI (one thread) ${cliBest.toFixed(2)} s wall, ${cliCpu.toFixed(2)} s CPU`);
  log(
    `  page, 1 worker: ${one.toFixed(2)} s = ${(one / cliBest).toFixed(2)}× wall; CPU ${oneCpu.toFixed(2)} s = ${(oneCpu / cliCpu).toFixed(2)}×`,
  );
  log(
    `  page, ${poolName}: ${pool.toFixed(2)} s = ${(pool / cliBest).toFixed(2)}× wall (goal ≤ ${GOAL_RATIO}×); CPU ${poolCpu.toFixed(2)} s = ${(poolCpu / cliCpu).toFixed(2)}×`,
  );
  console.log(
    JSON.stringify({
      events: cli.stats.events,
      cli_verify_s: round(cliBest, 3),
      cli_verify_cpu_s: round(cliCpu, 3),
      page_jobs: poolJobs ?? 'default',
      page_reads: [...new Set([...runs.pool, ...runs.one].map((r) => r.reads))].join(','),
      page_verify_s: round(pool, 3),
      page_vs_cli: round(pool / cliBest, 2),
      page_verify_cpu_s: round(poolCpu, 3),
      page_vs_cli_cpu: round(poolCpu / cliCpu, 2),
      page_one_worker_s: round(one, 3),
      page_one_worker_vs_cli: round(one / cliBest, 2),
      page_one_worker_cpu_s: round(oneCpu, 3),
      page_one_worker_vs_cli_cpu: round(oneCpu / cliCpu, 2),
      renderer_peak_rss_mb: round(
        best(runs.pool, (r) => r.rendererPeakMb),
        1,
      ),
      renderer_peak_rss_mb_one_worker: round(
        best(runs.one, (r) => r.rendererPeakMb),
        1,
      ),
      renderer_start_rss_mb: round(
        best(runs.one, (r) => r.rendererStartMb),
        1,
      ),
      cli_verify_s_all: cli.verify_s.map((s) => round(s, 3)),
      page_verify_s_all: runs.pool.map((r) => round(r.seconds, 3)),
      page_one_worker_s_all: runs.one.map((r) => round(r.seconds, 3)),
      goal_page_vs_cli: GOAL_RATIO,
      goal_met: pool / cliBest <= GOAL_RATIO,
      reps,
      load_start: loadStart,
      load: loadavg().map((l) => round(l, 2)),
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}

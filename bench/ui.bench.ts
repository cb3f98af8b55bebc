/**
 * `npm run bench:ui`: the auditor's page against the CLI's verifier on the folder of `bench:verify`.
 *
 *   npm run bench:ui [-- --events N] [--reps R]      (default N = 100,000; the goal is stated at 1M)
 *
 * 1. Seals N synthetic ~1 KiB events as one period (bench/seal-child.ts, as bench:verify does).
 * 2. CLI: the real verifyFolder in a child process, single thread, best of R (bench/verify-child.ts).
 * 3. Page: dist/ui/auditseal.html in Debian's Chromium (playwright-core), the folder picked through the
 *    folder input, Verify clicked; the page's own timer from the click to the verdict, best of R.
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
import { launchChromium } from '../test/support/chromium.ts';
import { verifyInPage } from '../test/ui/page-driver.ts';
import { argValue, positiveInt, round, runChild } from './bench-args.ts';

const GOAL_RATIO = 2;
const argv = process.argv.slice(2);
const events = positiveInt(argValue(argv, 'events') ?? process.env['BENCH_EVENTS'] ?? '100000', '--events');
const reps = positiveInt(argValue(argv, 'reps') ?? '3', '--reps');
const log = (line: string) => process.stderr.write(`${line}\n`);
const page = fileURLToPath(new URL('../dist/ui/auditseal.html', import.meta.url));

/** User + system CPU seconds of every descendant of this process (Linux /proc; 0 elsewhere). */
function descendantsCpuSeconds(): number {
  const parents = new Map<number, number>();
  const ticks = new Map<number, number>();
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return 0;
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
  let total = 0;
  for (const [pid, t] of ticks) {
    let p = parents.get(pid);
    while (p !== undefined && p !== process.pid && p > 1) p = parents.get(p);
    if (p === process.pid) total += t;
  }
  return total / 100; // USER_HZ is 100 on Linux.
}

const dir = await mkdtemp(join(tmpdir(), 'auditseal-bench-ui-'));
const loadStart = loadavg().map((l) => round(l, 2));
try {
  log(
    `auditseal page benchmark: ${cpus().length} CPUs (${cpus()[0]?.model}), load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  log(`sealing ${events.toLocaleString('en-US')} events …`);
  await runChild('bench/seal-child.ts', [
    '--events',
    String(events),
    '--out',
    join(dir, 'f'),
    '--key-out',
    join(dir, 'k.pem'),
  ]);
  log(`CLI verifier, best of ${reps} …`);
  const cli = (await runChild('bench/verify-child.ts', [
    '--dir',
    join(dir, 'f'),
    '--key',
    join(dir, 'k.pem'),
    '--reps',
    String(reps),
  ])) as {
    valid: boolean;
    verify_s: number[];
    verify_cpu_s: number[];
  };
  if (!cli.valid) throw new Error('the CLI verifier did not find the folder valid');
  log(`page in Chromium, best of ${reps} …`);
  const browser = await launchChromium();
  const pageSeconds: number[] = [];
  const pageCpuSeconds: number[] = [];
  try {
    for (let i = 0; i < reps; i++) {
      const tab = await browser.newPage({ acceptDownloads: true });
      await tab.goto(`file://${page}`);
      let cpu0 = 0;
      let cpu = 0;
      const run = await verifyInPage(tab, {
        keyFiles: [join(dir, 'k.pem')],
        folder: join(dir, 'f'),
        onVerifyClick: () => {
          cpu0 = descendantsCpuSeconds();
        },
        onVerdict: () => {
          cpu = descendantsCpuSeconds() - cpu0;
        },
      });
      if (run.verdict !== 'VALID') throw new Error(`the page says ${run.verdict}`);
      log(`  rep ${i + 1}/${reps}: page ${run.seconds.toFixed(2)} s, Chromium CPU ${cpu.toFixed(2)} s`);
      pageSeconds.push(run.seconds);
      pageCpuSeconds.push(cpu);
      await tab.close();
    }
  } finally {
    await browser.close();
  }
  const cliBest = Math.min(...cli.verify_s);
  const pageBest = Math.min(...pageSeconds);
  const ratio = pageBest / cliBest;
  const cliCpu = Math.min(...cli.verify_cpu_s);
  const pageCpu = Math.min(...pageCpuSeconds);
  log(
    `  CLI ${cliBest.toFixed(2)} s, page ${pageBest.toFixed(2)} s: ${ratio.toFixed(2)}× (goal ≤ ${GOAL_RATIO}× at 1M events)`,
  );
  log(`  CPU: CLI ${cliCpu.toFixed(2)} s, page ${pageCpu.toFixed(2)} s: ${(pageCpu / cliCpu).toFixed(2)}×`);
  console.log(
    JSON.stringify({
      events,
      cli_verify_s: round(cliBest, 3),
      page_verify_s: round(pageBest, 3),
      page_vs_cli: round(ratio, 2),
      cli_verify_cpu_s: round(cliCpu, 3),
      page_verify_cpu_s: round(pageCpu, 3),
      page_vs_cli_cpu: round(pageCpu / cliCpu, 2),
      cli_verify_s_all: cli.verify_s.map((s) => round(s, 3)),
      page_verify_s_all: pageSeconds.map((s) => round(s, 3)),
      goal_page_vs_cli: GOAL_RATIO,
      reps,
      load_start: loadStart,
      load: loadavg().map((l) => round(l, 2)),
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}

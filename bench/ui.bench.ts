/**
 * `npm run bench:ui`: the auditor's page against the CLI's verifier on the folder of `bench:verify`.
 *
 *   npm run bench:ui [-- --events N] [--reps R]      (default N = 100,000; the goal is stated at 1M)
 *
 * 1. Seals N synthetic ~1 KiB events as one period (bench/seal-child.ts, as bench:verify does).
 * 2. CLI: the real verifyFolder in a child process, single thread, best of R (bench/verify-child.ts).
 * 3. Page: dist/ui/auditseal.html in Debian's Chromium (playwright-core), the folder picked through the
 *    folder input, Verify clicked; the page's own timer from the click to the verdict, best of R.
 * The last stdout line is one JSON object; docs/BENCHMARKS.md quotes it.
 */
import { rmSync } from 'node:fs';
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

const dir = await mkdtemp(join(tmpdir(), 'auditseal-bench-ui-'));
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
  };
  if (!cli.valid) throw new Error('the CLI verifier did not find the folder valid');
  log(`page in Chromium, best of ${reps} …`);
  const browser = await launchChromium();
  const pageSeconds: number[] = [];
  try {
    for (let i = 0; i < reps; i++) {
      const tab = await browser.newPage({ acceptDownloads: true });
      await tab.goto(`file://${page}`);
      const run = await verifyInPage(tab, { keyFiles: [join(dir, 'k.pem')], folder: join(dir, 'f') });
      if (run.verdict !== 'VALID') throw new Error(`the page says ${run.verdict}`);
      pageSeconds.push(run.seconds);
      await tab.close();
    }
  } finally {
    await browser.close();
  }
  const cliBest = Math.min(...cli.verify_s);
  const pageBest = Math.min(...pageSeconds);
  const ratio = pageBest / cliBest;
  log(
    `  CLI ${cliBest.toFixed(2)} s, page ${pageBest.toFixed(2)} s: ${ratio.toFixed(2)}× (goal ≤ ${GOAL_RATIO}× at 1M events)`,
  );
  console.log(
    JSON.stringify({
      events,
      cli_verify_s: round(cliBest, 3),
      page_verify_s: round(pageBest, 3),
      page_vs_cli: round(ratio, 2),
      goal_page_vs_cli: GOAL_RATIO,
      reps,
      load: loadavg().map((l) => round(l, 2)),
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Same-browser A/B of builds of the auditor's page: verifies one folder with each given page in turn,
 * alternating, in one Chromium, so that both builds see the same machine conditions. For comparing a
 * change to the page on a machine shared with other work.
 *
 *   node --import tsx bench/ui-ab.ts --folder DIR --key PUBLIC.pem --rounds 3 [--jobs N] A.html B.html […]
 *
 * Per page: the page's own timer (click to verdict) and the CPU time of every Chromium process over the
 * same span, per round. The last stdout line is one JSON object.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { launchChromium } from '../test/support/chromium.ts';
import { verifyInPage } from '../test/ui/page-driver.ts';
import { argValue, positiveInt, round } from './bench-args.ts';

const argv = process.argv.slice(2);
const folder = argValue(argv, 'folder');
const key = argValue(argv, 'key');
const rounds = positiveInt(argValue(argv, 'rounds') ?? '3', '--rounds');
/** The page's jobs option (default: the page's own default). */
const jobs = argValue(argv, 'jobs');
const pages = argv.filter((a) => a.endsWith('.html')).map((p) => resolve(p));
if (!folder || !key || pages.length === 0) {
  throw new Error('usage: --folder DIR --key PUBLIC.pem [--rounds R] PAGE.html [PAGE.html …]');
}

/** User + system CPU seconds of every Chromium process (Linux /proc). */
function chromiumCpuSeconds(): number {
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('chrom')) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // The process ended while reading.
    }
  }
  return ticks / 100;
}

const loadStart = loadavg().map((l) => round(l, 2));
const results = new Map<string, { seconds: number; cpu: number }[]>(pages.map((p) => [p, []]));
const browser = await launchChromium();
try {
  for (let r = 0; r < rounds; r++) {
    for (const page of pages) {
      const tab = await browser.newPage({ acceptDownloads: true });
      await tab.goto(`file://${page}`);
      let cpu0 = 0;
      let cpu = 0;
      const run = await verifyInPage(tab, {
        keyFiles: [key],
        folder,
        args: jobs === undefined ? [] : ['--jobs', String(positiveInt(jobs, '--jobs'))],
        onVerifyClick: () => {
          cpu0 = chromiumCpuSeconds();
        },
        onVerdict: () => {
          cpu = chromiumCpuSeconds() - cpu0;
        },
      });
      await tab.close();
      if (run.verdict !== 'VALID') throw new Error(`${page} says ${run.verdict}`);
      results.get(page)!.push({ seconds: run.seconds, cpu });
      process.stderr.write(`round ${r + 1}: ${page}: ${run.seconds.toFixed(2)} s, CPU ${cpu.toFixed(2)} s\n`);
    }
  }
} finally {
  await browser.close();
}
console.log(
  JSON.stringify({
    rounds,
    jobs: jobs ?? 'default',
    pages: Object.fromEntries(
      [...results].map(([page, runs]) => [
        page,
        { seconds: runs.map((x) => round(x.seconds, 2)), cpu_s: runs.map((x) => round(x.cpu, 2)) },
      ]),
    ),
    load_start: loadStart,
    load: loadavg().map((l) => round(l, 2)),
  }),
);

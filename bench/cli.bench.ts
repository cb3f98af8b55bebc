/**
 * `npm run bench:cli`: start-up cost of the `auditseal` command against a bare `node -e 0`, in one run.
 *
 *   npm run bench:cli [-- --runs N] [--npx-runs M] [--no-build]
 *
 * 1. Builds dist/ (`node scripts/build.mjs --no-types`) unless --no-build, so the figure is that of the
 *    current sources.
 * 2. N rounds; each round runs, in an order that rotates from round to round:
 *    - `node -e 0` (the floor);
 *    - `node bin/auditseal.mjs --help`: what the installed `auditseal` command (node_modules/.bin) runs;
 *    - `node --import tsx` of cli/main.ts with `--help`: the CLI before it was compiled, for reference.
 *    Wall time of each process, from spawn to exit. Figures are medians; the ratio is
 *    median(auditseal --help) / median(node -e 0), goal ≤ 4.
 * 3. M rounds of `npx auditseal --help` and of `npx node -e 0` (npm exec's own cost around the
 *    same floor), side by side: npx adds npm's start-up, which the CLI cannot change.
 *
 * The last stdout line is one JSON object with every figure. Exit 1 if a command fails.
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { argValue, positiveInt, round } from './bench-args.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const argv = process.argv.slice(2);
const runs = positiveInt(argValue(argv, 'runs') ?? '21', '--runs');
const npxRuns = positiveInt(argValue(argv, 'npx-runs') ?? '5', '--npx-runs');

interface Case {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
}

const TSX_MAIN =
  "const { main } = await import('./cli/main.ts'); process.exitCode = await main(['node', 'auditseal', '--help']);";

const local: Case[] = [
  { name: 'node_e0', command: process.execPath, args: ['-e', '0'] },
  { name: 'auditseal_help', command: process.execPath, args: ['bin/auditseal.mjs', '--help'] },
  {
    name: 'tsx_help',
    command: process.execPath,
    args: ['--import', 'tsx', '--input-type=module', '-e', TSX_MAIN],
  },
];
const viaNpx: Case[] = [
  { name: 'npx_node_e0', command: 'npx', args: ['node', '-e', '0'] },
  { name: 'npx_auditseal_help', command: 'npx', args: ['auditseal', '--help'] },
];

/** Wall milliseconds of one run; throws if the command fails or `--help` printed no usage. */
function timeOnce(c: Case): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(c.command, c.args, {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`${c.name} exited with ${result.status}: ${result.stderr}`);
  if (c.name.endsWith('_help') && !result.stdout.includes('Usage: auditseal')) {
    throw new Error(`${c.name} did not print the usage:\n${result.stdout}`);
  }
  return ms;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Runs every case `rounds` times, rotating the order each round; one warm-up run each first. */
function measure(cases: readonly Case[], rounds: number): Record<string, number[]> {
  for (const c of cases) timeOnce(c);
  const samples: Record<string, number[]> = Object.fromEntries(cases.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < cases.length; i++) {
      const c = cases[(r + i) % cases.length]!;
      samples[c.name]!.push(timeOnce(c));
    }
  }
  return samples;
}

if (!argv.includes('--no-build')) {
  const build = spawnSync(process.execPath, ['scripts/build.mjs', '--no-types'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (build.status !== 0) process.exit(1);
}

process.stderr.write(`bench:cli: ${runs} rounds of ${local.map((c) => c.name).join(', ')}\n`);
const localSamples = measure(local, runs);
process.stderr.write(`bench:cli: ${npxRuns} rounds of ${viaNpx.map((c) => c.name).join(', ')}\n`);
const npxSamples = measure(viaNpx, npxRuns);

const m = (samples: Record<string, number[]>, name: string) => median(samples[name]!);
const nodeMs = m(localSamples, 'node_e0');
const helpMs = m(localSamples, 'auditseal_help');
const tsxMs = m(localSamples, 'tsx_help');
const npxNodeMs = m(npxSamples, 'npx_node_e0');
const npxHelpMs = m(npxSamples, 'npx_auditseal_help');

const lines = [
  `node -e 0                       ${round(nodeMs, 1)} ms (median of ${runs})`,
  `auditseal --help (bin, bundle)  ${round(helpMs, 1)} ms  = ${round(helpMs / nodeMs)}× node -e 0 (goal ≤ 4)`,
  `cli/main.ts --help under tsx    ${round(tsxMs, 1)} ms  = ${round(tsxMs / nodeMs)}× node -e 0 (before the bundle)`,
  `npx node -e 0                   ${round(npxNodeMs, 1)} ms (median of ${npxRuns}: npm exec's own start-up)`,
  `npx auditseal --help            ${round(npxHelpMs, 1)} ms  = ${round(npxHelpMs / npxNodeMs)}× npx node -e 0`,
];
process.stdout.write(`${lines.join('\n')}\n`);
process.stdout.write(
  `${JSON.stringify({
    bench: 'cli',
    runs,
    npx_runs: npxRuns,
    node_e0_ms: round(nodeMs, 1),
    auditseal_help_ms: round(helpMs, 1),
    auditseal_help_ratio: round(helpMs / nodeMs),
    goal_ratio: 4,
    tsx_help_ms: round(tsxMs, 1),
    tsx_help_ratio: round(tsxMs / nodeMs),
    npx_node_e0_ms: round(npxNodeMs, 1),
    npx_auditseal_help_ms: round(npxHelpMs, 1),
    npx_auditseal_help_ratio_to_node_e0: round(npxHelpMs / nodeMs),
    npx_auditseal_help_ratio_to_npx_node_e0: round(npxHelpMs / npxNodeMs),
    node: process.version,
    cpus: cpus().length,
    loadavg_1m: round(loadavg()[0] ?? 0),
  })}\n`,
);

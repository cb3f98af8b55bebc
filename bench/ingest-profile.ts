/**
 * A quick, focused run of the ingest benchmark's comparison at one batch size (`--batch`, default 500), for profiling and A/B checks:
 * the same handler (functions/ingest-events.ts over in-memory adapters) and the same floor as
 * `npm run bench:ingest`, alternated in one process, printing every repetition's CPU per event and ratio.
 *
 *   node --expose-gc --import tsx bench/ingest-profile.ts [--reps R] [--events E] [--batch B] [--handler-only]
 *   node --expose-gc --cpu-prof --cpu-prof-dir=prof --import tsx bench/ingest-profile.ts --handler-only --reps 12
 *
 * `--handler-only` leaves the floor out, so that a CPU profile shows the handler alone. The last line is
 * one JSON object (best and median of each side, and the ratio); docs/BENCHMARKS.md quotes
 * `npm run bench:ingest`, not this script.
 */
import { loadavg } from 'node:os';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { KeyFileSigner } from '../shared/crypto/key-file-signer.ts';
import { ApiGatewayEvents, AppEvents } from './app-events.ts';
import { argValue, positiveInt, round } from './bench-args.ts';
import {
  assertAllStored,
  checkHandlerAndFloor,
  floor,
  inMemoryHandler,
  invokeAll,
  RecordingLogger,
  type Sample,
  timed,
  workload,
} from './ingest-handler.ts';
import { heapFigures, reRunWithLambdaHeap } from './lambda-heap-exec.ts';

async function main(): Promise<void> {
  if (await reRunWithLambdaHeap(import.meta.url)) return;
  const argv = process.argv.slice(2);
  const reps = positiveInt(argValue(argv, 'reps') ?? '9', '--reps');
  const events = positiveInt(argValue(argv, 'events') ?? '10000', '--events');
  const handlerOnly = argv.includes('--handler-only');
  const BATCH = positiveInt(argValue(argv, 'batch') ?? '500', '--batch');
  const loadStart = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  const signer = KeyFileSigner.generate();
  const gateway = new ApiGatewayEvents();
  await checkHandlerAndFloor(signer, gateway, BATCH);
  const app = new AppEvents();
  const requests = Math.max(1, Math.round(events / BATCH));
  const n = requests * BATCH;
  const handlerSamples: Sample[] = [];
  const floorSamples: Sample[] = [];
  const now = () => new Date().toISOString();
  // Garbage-collection pauses on the main thread, by start time, to split each section's time.
  const pauses: { start: number; duration: number }[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      // Leave out the full collections that `timed` forces before each section (flag 4: forced).
      const detail = (e as { detail?: { flags?: number; kind?: number } }).detail;
      if (((detail?.flags ?? 0) & 4) === 0) {
        pauses.push({ start: e.startTime, duration: e.duration });
      }
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const gcMs = async (from: number, to: number) => {
    await new Promise((resolve) => setTimeout(resolve, 100));
    return pauses.filter((p) => p.start >= from && p.start < to).reduce((sum, p) => sum + p.duration, 0);
  };
  // One handler for every repetition, as in bench/ingest.bench.ts (one warm Lambda instance).
  const logger = new RecordingLogger();
  const { handler, store } = inMemoryHandler(signer, logger);
  for (let rep = -2; rep < reps; rep++) {
    const work = workload(app, gateway, requests, BATCH);
    store.startRepetition();
    let handlerGcMs = 0;
    const runHandler = async () => {
      const t0 = performance.now();
      const { result, sample } = await timed(() => invokeAll(handler, store, work));
      const t1 = performance.now();
      handlerGcMs = await gcMs(t0, t1);
      assertAllStored(result, work, store, logger);
      return sample;
    };
    let floorGcMs = 0;
    const runFloor = async () => {
      const t0 = performance.now();
      const { sample } = await timed(() => floor(work.bodies, now));
      floorGcMs = await gcMs(t0, performance.now());
      return sample;
    };
    let h: Sample;
    let f: Sample | undefined;
    if (handlerOnly) h = await runHandler();
    else if (rep % 2 === 0) {
      h = await runHandler();
      f = await runFloor();
    } else {
      f = await runFloor();
      h = await runHandler();
    }
    if (rep < 0) continue;
    handlerSamples.push(h);
    if (f) floorSamples.push(f);
    const us = (s: Sample) => ((s.cpu / n) * 1e6).toFixed(1);
    process.stdout.write(
      `rep ${rep}: handler ${us(h)} us CPU/event (GC pauses ${((handlerGcMs * 1e3) / n).toFixed(1)} us/event, wall ${((h.wall / n) * 1e6).toFixed(1)})${f ? `, floor ${us(f)} (GC pauses ${((floorGcMs * 1e3) / n).toFixed(1)}), ratio ${(h.cpu / f.cpu).toFixed(2)}` : ''}\n`,
    );
  }
  const cpu = (samples: Sample[]) => samples.map((s) => (s.cpu / n) * 1e6).sort((a, b) => a - b);
  const h = cpu(handlerSamples);
  const f = cpu(floorSamples);
  const med = (v: number[]) => v[v.length >> 1] ?? Number.NaN;
  process.stdout.write(
    `${JSON.stringify({
      ...heapFigures(),
      batch: BATCH,
      events_per_rep: n,
      reps,
      handler_cpu_us_best: round(h[0]!, 2),
      handler_cpu_us_median: round(med(h), 2),
      ...(f.length > 0
        ? {
            floor_cpu_us_best: round(f[0]!, 2),
            floor_cpu_us_median: round(med(f), 2),
            ratio_best: round(h[0]! / f[0]!, 3),
            ratio_median: round(med(h) / med(f), 3),
          }
        : {}),
      load_start: loadStart,
      load_end: loadavg()
        .map((l) => l.toFixed(2))
        .join(' '),
    })}\n`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});

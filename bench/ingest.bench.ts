/**
 * `npm run bench:ingest`: ingest handler CPU per event against the canonicalize+hash floor, and
 * end-to-end events/s through the local stack, in one run.
 *
 *   npm run bench:ingest [-- --reps R] [--node-heap-defaults] [--events E] [--single-requests S] [--no-breakdown] [--no-e2e]
 *                        [--e2e-seconds S] [--e2e-warmup S] [--clients C]
 *
 * 1. Checks first: one request of 500 events and one of 1 through the handler; every receipt verifies
 *    offline, and the floor reproduces the stored canonical bytes and the receipts' leaf hashes exactly.
 * 2. For batches of 1, 100 and 500 events (~1 KiB app events, unique ids): the real middy handler of
 *    `POST /v1/events` with in-memory adapters, invoked with API Gateway REST events, against the floor
 *    (parse the body, canonicalize each event's stored form, leaf-hash it) over the same bodies. Each
 *    repetition runs E events (S single-event requests for batch 1) through both, alternating which goes
 *    first; figures are the best of R repetitions by process CPU time, with wall time beside it.
 *    At batch 500, the floor with the `canonicalize` npm package and (unless --no-breakdown) the stage
 *    split of bench/ingest-breakdown.ts run in the same repetitions.
 * 3. Unless --no-e2e: the real local stack (DynamoDB Local, moto, gateway, poller, heartbeat) on a free
 *    port in a temporary folder; C concurrent clients send SigV4-signed batches of 500 for a warm-up and
 *    then S seconds; stored events/s and request latency over the measured window.
 *
 * The handler and the floor run with the V8 heap of the deployed 1024 MiB ingest function (the flags of
 * infra/constructs/lambda-heap.ts; the script re-runs itself with them), or with Node's defaults under
 * `--node-heap-defaults`.
 *
 * The last stdout line is one JSON object with every figure. docs/BENCHMARKS.md explains each one.
 * Exit status 1 when a check fails or an end-to-end request is not a 201 that stored every event.
 */
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { WRITER_MEMORY_MIB } from '../infra/constructs/lambda-heap.ts';
import { KeyFileSigner } from '../shared/crypto/key-file-signer.ts';
import { ApiGatewayEvents, AppEvents } from './app-events.ts';
import { argValue, positiveInt, round } from './bench-args.ts';
import { runEndToEnd } from './ingest-e2e.ts';
import {
  assertAllStored,
  CANONICALIZERS,
  checkHandlerAndFloor,
  eventSizes,
  floor,
  HAS_GC,
  inMemoryHandler,
  invokeAll,
  RecordingLogger,
  type Sample,
  signCost,
  timed,
  workload,
} from './ingest-handler.ts';
import { heapFigures, heapFlagsInUse, reRunWithLambdaHeap } from './lambda-heap-exec.ts';

const GOAL_RATIO_MAX = 2;
const BATCHES = [1, 100, 500] as const;
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

function loads(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

function best(samples: readonly Sample[], key: keyof Sample): number {
  return Math.min(...samples.map((s) => s[key]));
}

function median(samples: readonly Sample[], key: keyof Sample): number {
  const values = samples.map((s) => s[key]).sort((a, b) => a - b);
  const mid = values.length >> 1;
  return values.length % 2 === 1 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
}

const us = (seconds: number, events: number) => (seconds / events) * 1e6;

interface BatchResult {
  readonly batch: number;
  readonly requests: number;
  readonly events: number;
  readonly handler: Sample[];
  readonly floor: Sample[];
  readonly floorPackage: Sample[];
  /** Per repetition, when measured: the stage split of the same bodies (bench/ingest-breakdown.ts). */
  readonly stages: Record<string, Sample>[];
}

type StageRunner = (bodies: readonly string[]) => Promise<Record<string, Sample>>;

/** Warm-up, then `reps` repetitions of handler and floor over the same fresh bodies. */
async function measureBatch(
  signer: KeyFileSigner,
  gateway: ApiGatewayEvents,
  batch: number,
  requests: number,
  reps: number,
  extras: { packageFloor: boolean; stages?: StageRunner },
): Promise<BatchResult> {
  const app = new AppEvents();
  const result: BatchResult = {
    batch,
    requests,
    events: requests * batch,
    handler: [],
    floor: [],
    floorPackage: [],
    stages: [],
  };
  const now = () => new Date().toISOString();
  // One handler for every repetition, as one warm Lambda instance serves request after request. A handler
  // made anew for each repetition had its optimized code discarded once the previous one was collected
  // (V8 deoptimizes code that embeds objects a collection freed: "weak objects" in --trace-deopt), so every
  // repetition paid for compiling it again.
  const logger = new RecordingLogger();
  const { handler, store } = inMemoryHandler(signer, logger);
  for (let rep = -2; rep < reps; rep++) {
    const work = workload(app, gateway, requests, batch);
    // First, so that nothing the handler stores is still alive while the stages run.
    const stages = extras.stages ? await extras.stages(work.bodies) : undefined;
    store.startRepetition();
    const runHandler = async () => {
      const { result: responses, sample } = await timed(() => invokeAll(handler, store, work));
      assertAllStored(responses, work, store, logger);
      return sample;
    };
    const runFloor = async () => (await timed(() => floor(work.bodies, now))).sample;
    // Alternate the order so that neither side always runs right after the other's garbage.
    const handlerFirst = rep % 2 === 0;
    const first = handlerFirst ? await runHandler() : await runFloor();
    const second = handlerFirst ? await runFloor() : await runHandler();
    const floorPkg = extras.packageFloor
      ? (await timed(() => floor(work.bodies, now, CANONICALIZERS.package))).sample
      : undefined;
    if (rep < 0) continue; // warm-up
    result.handler.push(handlerFirst ? first : second);
    result.floor.push(handlerFirst ? second : first);
    if (floorPkg) result.floorPackage.push(floorPkg);
    if (stages) result.stages.push(stages);
  }
  return result;
}

function describeBatch(r: BatchResult): void {
  const h = best(r.handler, 'cpu');
  const f = best(r.floor, 'cpu');
  const list = (samples: readonly Sample[]) => samples.map((s) => us(s.cpu, r.events).toFixed(1)).join(', ');
  log(
    `  batch ${r.batch}: ${r.requests.toLocaleString('en-US')} requests, ${r.events.toLocaleString('en-US')} events per repetition`,
  );
  log(
    `    handler: ${us(h, r.events).toFixed(1)} us CPU/event (best of [${list(r.handler)}]), ` +
      `${us(best(r.handler, 'wall'), r.events).toFixed(1)} us wall/event, ` +
      `${((h / r.requests) * 1e3).toFixed(2)} ms CPU/request, ${Math.round(r.events / h).toLocaleString('en-US')} events/s per core`,
  );
  log(
    `    floor:   ${us(f, r.events).toFixed(1)} us CPU/event (best of [${list(r.floor)}]), ` +
      `${us(best(r.floor, 'wall'), r.events).toFixed(1)} us wall/event`,
  );
  if (r.floorPackage.length > 0) {
    log(
      `    floor with the canonicalize npm package instead of ours: ${us(best(r.floorPackage, 'cpu'), r.events).toFixed(1)} us CPU/event`,
    );
  }
  const ratio = h / f;
  log(
    `    handler / floor = ${ratio.toFixed(2)} by CPU time (goal <= ${GOAL_RATIO_MAX}: ${ratio <= GOAL_RATIO_MAX ? 'met' : 'MISSED'}), ` +
      `${(best(r.handler, 'wall') / best(r.floor, 'wall')).toFixed(2)} by wall time, ` +
      `${(median(r.handler, 'cpu') / median(r.floor, 'cpu')).toFixed(2)} by median CPU time`,
  );
}

function batchFigures(r: BatchResult): Record<string, number | boolean> {
  const p = `b${r.batch}_`;
  const h = best(r.handler, 'cpu');
  const f = best(r.floor, 'cpu');
  return {
    [`${p}requests_per_rep`]: r.requests,
    [`${p}events_per_rep`]: r.events,
    [`${p}handler_cpu_us_per_event`]: round(us(h, r.events), 2),
    [`${p}handler_cpu_us_per_event_median`]: round(us(median(r.handler, 'cpu'), r.events), 2),
    [`${p}handler_wall_us_per_event`]: round(us(best(r.handler, 'wall'), r.events), 2),
    [`${p}handler_cpu_ms_per_request`]: round((h / r.requests) * 1e3, 3),
    [`${p}handler_events_per_s_per_core`]: Math.round(r.events / h),
    [`${p}floor_cpu_us_per_event`]: round(us(f, r.events), 2),
    [`${p}floor_cpu_us_per_event_median`]: round(us(median(r.floor, 'cpu'), r.events), 2),
    [`${p}floor_wall_us_per_event`]: round(us(best(r.floor, 'wall'), r.events), 2),
    ...(r.floorPackage.length > 0
      ? { [`${p}floor_package_cpu_us_per_event`]: round(us(best(r.floorPackage, 'cpu'), r.events), 2) }
      : {}),
    [`${p}ratio_cpu`]: round(h / f, 3),
    [`${p}ratio_cpu_median`]: round(median(r.handler, 'cpu') / median(r.floor, 'cpu'), 3),
    [`${p}ratio_wall`]: round(best(r.handler, 'wall') / best(r.floor, 'wall'), 3),
    [`${p}goal_met`]: h / f <= GOAL_RATIO_MAX,
  };
}

/**
 * The stage split measured in the same repetitions as the handler (bench/ingest-breakdown.ts): the
 * repetition with the least stage total, split into its stages (best-of per stage would add up to less
 * than any real repetition), and, per repetition, how much more the re-assembled stages cost than the
 * handler on the same bodies. That difference is not small or stable enough to stand for middy and the
 * bookkeeping outside the stages, so the split is reported as shares as well as microseconds.
 */
function describeStages(r: BatchResult, stageNames: readonly string[]): Record<string, number> {
  const total = (stages: Record<string, Sample>) =>
    stageNames.reduce((sum, stage) => sum + stages[stage]!.cpu, 0);
  const bestRep = r.stages.reduce((a, b) => (total(b) < total(a) ? b : a));
  const perEvent = (stage: string) => us(bestRep[stage]!.cpu, r.events);
  const sum = us(total(bestRep), r.events);
  const excess = r.stages
    .map((stages, i) => us(total(stages) - r.handler[i]!.cpu, r.events))
    .sort((a, b) => a - b);
  const excessMedian = excess[excess.length >> 1]!;
  const handler = us(best(r.handler, 'cpu'), r.events);
  log(
    `  stage split at batch ${r.batch}: the handler's steps re-assembled from the same product functions, ` +
      `request by request and item by item (us CPU per event, share):`,
  );
  log(
    `    ${stageNames.map((stage) => `${stage} ${perEvent(stage).toFixed(1)} (${((100 * perEvent(stage)) / sum).toFixed(0)} %)`).join(', ')}`,
  );
  log(
    `    total ${sum.toFixed(1)} against ${handler.toFixed(1)} for the handler's best repetition; per repetition the ` +
      `re-assembly cost ${excessMedian.toFixed(1)} more (median of [${excess.map((v) => v.toFixed(1)).join(', ')}]), ` +
      'so read the split as shares',
  );
  const p = `b${r.batch}_stage_`;
  return {
    ...Object.fromEntries(stageNames.map((stage) => [`${p}${stage}_cpu_us`, round(perEvent(stage), 2)])),
    [`${p}sum_cpu_us`]: round(sum, 2),
    [`${p}excess_over_handler_cpu_us_median`]: round(excessMedian, 2),
  };
}

async function main(): Promise<void> {
  if (await reRunWithLambdaHeap(import.meta.url)) return;
  // As local/main.ts does: the AWS SDK warns on Node 20, which this project supports.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  const argv = process.argv.slice(2);
  const reps = positiveInt(argValue(argv, 'reps') ?? '7', '--reps');
  const eventsPerRep = positiveInt(argValue(argv, 'events') ?? '10000', '--events');
  const singleRequests = positiveInt(argValue(argv, 'single-requests') ?? '2000', '--single-requests');
  const e2e = !argv.includes('--no-e2e');
  const breakdown = !argv.includes('--no-breakdown');
  const e2eSeconds = positiveInt(argValue(argv, 'e2e-seconds') ?? '25', '--e2e-seconds');
  const e2eWarmup = positiveInt(argValue(argv, 'e2e-warmup') ?? '5', '--e2e-warmup');
  const clients = positiveInt(argValue(argv, 'clients') ?? '4', '--clients');
  const cpu = cpus()[0]?.model ?? 'unknown';
  const loadStart = loads();

  log(
    `auditseal ingest benchmark: node ${process.version}, ${cpus().length} CPUs (${cpu}), load ${loadStart}`,
  );
  const heap = heapFlagsInUse();
  log(
    heap.length === 0
      ? "V8 heap: Node defaults (--node-heap-defaults), not the deployed function's"
      : `V8 heap: ${heap.join(' ')}, as Lambda runs the ${WRITER_MEMORY_MIB} MiB ingest function (infra/constructs/lambda-heap.ts)`,
  );
  if (!HAS_GC) log('warning: run with node --expose-gc so that every timed section starts after a full GC');
  const sizes = eventSizes();
  log(
    `events: ~1 KiB app events, median ${sizes.input} bytes of request JSON and ${sizes.stored} canonical bytes stored`,
  );

  const signer = KeyFileSigner.generate();
  const gateway = new ApiGatewayEvents();
  await checkHandlerAndFloor(signer, gateway, 500);
  await checkHandlerAndFloor(signer, gateway, 1);
  log(
    'checked: 201 with every event stored, every receipt verifies, floor bytes and leaf hashes equal the stored ones',
  );

  const sign = await signCost(signer, 500, reps);
  log(`one ECDSA P-256 Sign of a batch statement (KeyFileSigner): ${(sign.cpu * 1e6).toFixed(1)} us CPU`);

  // The stage split needs the product's stage functions; it is loaded only when asked for.
  const breakdownModule = breakdown ? await import('./ingest-breakdown.ts') : undefined;
  log(`handler against floor, best of ${reps} repetitions after 2 warm-ups …`);
  const results: BatchResult[] = [];
  let breakdownFigures: Record<string, number> = {};
  for (const batch of BATCHES) {
    const requests = batch === 1 ? singleRequests : Math.max(1, Math.round(eventsPerRep / batch));
    const stages: StageRunner | undefined =
      breakdownModule && batch === 500 ? (bodies) => breakdownModule.stageSamples(bodies, signer) : undefined;
    const r = await measureBatch(signer, gateway, batch, requests, reps, {
      packageFloor: batch === 500,
      ...(stages ? { stages } : {}),
    });
    results.push(r);
    describeBatch(r);
    if (breakdownModule && r.stages.length > 0) breakdownFigures = describeStages(r, breakdownModule.STAGES);
  }
  const b1 = results[0]!;
  const b1Gap = us(best(b1.handler, 'cpu') - best(b1.floor, 'cpu'), b1.events);
  log(
    `  batch 1 pays one Sign per event: ${(sign.cpu * 1e6).toFixed(1)} us of its ` +
      `${b1Gap.toFixed(1)} us CPU/event above the floor; the ≤ ${GOAL_RATIO_MAX}× goal is meant for batches`,
  );

  let e2eFigures: Record<string, unknown> = { e2e: false };
  let exitCode = 0;
  if (e2e) {
    log(`end to end through the local stack (${clients} clients, batches of 500, ${e2eSeconds} s) …`);
    const figures = await runEndToEnd({
      projectDir: REPO_ROOT,
      seconds: e2eSeconds,
      warmupSeconds: e2eWarmup,
      clients,
      batch: 500,
      log,
    });
    log(
      `  ${Math.round(figures.events_per_s).toLocaleString('en-US')} events/s stored ` +
        `(each client's events over its request cycles; ${figures.stored_events.toLocaleString('en-US')} events in ` +
        `${figures.requests} requests completed in ${figures.seconds.toFixed(1)} s: ${Math.round(figures.events_per_s_window_count)} events/s by plain count); ` +
        `latency p50 ${figures.latency_ms_p50.toFixed(0)} ms, p95 ${figures.latency_ms_p95.toFixed(0)} ms, max ${figures.latency_ms_max.toFixed(0)} ms`,
    );
    const coreText = (v: number | null) => (v === null ? 'n/a' : v.toFixed(2));
    log(
      `  CPU cores busy during the window: this process (gateway, handlers, poller, clients) ` +
        `${figures.cpu_cores_bench_process.toFixed(2)}, DynamoDB Local ${coreText(figures.cpu_cores_dynamodb_local)}, ` +
        `moto ${coreText(figures.cpu_cores_moto)}; ${figures.receipts_checked} sampled receipts verified and found in the table`,
    );
    if (figures.failed_requests_total > 0) {
      log(`  FAILED requests: ${figures.failed_requests_total} (${figures.failures.join(' | ')})`);
      exitCode = 1;
    }
    e2eFigures = {
      e2e: true,
      e2e_seconds: round(figures.seconds, 2),
      e2e_clients: figures.clients,
      e2e_batch: figures.batch,
      e2e_requests: figures.requests,
      e2e_failed_requests: figures.failed_requests_total,
      e2e_stored_events: figures.stored_events,
      e2e_events_per_s: Math.round(figures.events_per_s),
      e2e_events_per_s_window_count: Math.round(figures.events_per_s_window_count),
      e2e_latency_ms_p50: round(figures.latency_ms_p50, 1),
      e2e_latency_ms_p95: round(figures.latency_ms_p95, 1),
      e2e_latency_ms_max: round(figures.latency_ms_max, 1),
      e2e_cpu_cores_bench_process: round(figures.cpu_cores_bench_process, 2),
      e2e_cpu_cores_dynamodb_local:
        figures.cpu_cores_dynamodb_local === null ? null : round(figures.cpu_cores_dynamodb_local, 2),
      e2e_cpu_cores_moto: figures.cpu_cores_moto === null ? null : round(figures.cpu_cores_moto, 2),
      e2e_receipts_checked: figures.receipts_checked,
      e2e_stack_start_s: round(figures.stack_start_s, 1),
    };
  }

  const loadEnd = loads();
  log(`load average at the end: ${loadEnd}`);
  log(
    JSON.stringify({
      node: process.version,
      cpus: cpus().length,
      cpu_model: cpu,
      ...heapFigures(),
      load_start: loadStart,
      load_end: loadEnd,
      reps,
      event_input_bytes_median: sizes.input,
      event_stored_bytes_median: sizes.stored,
      sign_cpu_us: round(sign.cpu * 1e6, 1),
      goal_ratio_max: GOAL_RATIO_MAX,
      ...Object.assign({}, ...results.map(batchFigures)),
      ...breakdownFigures,
      ...e2eFigures,
    }),
  );
  process.exitCode = exitCode;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});

/**
 * `npm run bench:detect`: Sigma evaluation cost per event, with the shipped rule set and with 500 rules,
 * against the ingest path's own CPU per event, measured side by side in one process.
 *
 *   npm run bench:detect [-- --reps R] [--rules N] [--loops L] [--requests Q]
 *
 * 1. Events: the real CloudTrail records of ../shared/data/cloudtrail/all_permissive.jsonl that map to
 *    events (883), in their stored form (`v`, `receivedAt`, `channel` added), and the 76 Kubernetes audit
 *    Events of the Falco traces and audit2rbac through the Kubernetes mapping.
 * 2. Detectors: the shipped rules (67) and N rules (default 500) varied from them (bench/detect-rules.ts),
 *    each loaded, validated, compiled and indexed once, before timing. Before timing, the indexed
 *    detector must find exactly what trying every rule finds, on every event.
 * 3. Ingest references, the same way bench:ingest measures them (bench/ingest-handler.ts): the real
 *    `POST /v1/events` middy handler over in-memory adapters with batches of 500 ~1 KiB app events; and the
 *    CloudTrail forwarder core (`forwardCloudTrail`, in-memory adapters, deliveries of 100 EventBridge
 *    envelopes, as the SQS event source is configured) over the same CloudTrail records with fresh ids;
 *    and the Kubernetes forwarder core (`forwardCloudWatchLogs`, in-memory adapters) over the same
 *    Kubernetes Events with fresh auditIDs, in one EKS subscription payload.
 * 4. Each repetition times every part once (detection: L passes over the events); figures are the best
 *    of R repetitions by process CPU time.
 *
 * The goal (docs/BENCHMARKS.md): N rules add at most 50% to ingest CPU, i.e. detection CPU per
 * CloudTrail event ≤ 0.5 × the ingest handler's CPU per event. Exit status 1 when a check fails.
 * The last stdout line is one JSON object with every figure.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { randomBatchId } from '../functions/ingest-runtime.ts';
import { KeyFileSigner } from '../shared/crypto/key-file-signer.ts';
import { Detector } from '../shared/detect/detector.ts';
import { subjectOf } from '../shared/detect/event-records.ts';
import { loadDefaultRules, loadRuleFiles } from '../shared/detect/load-rules.ts';
import { fromCloudTrailRecord, wrapInEventBridgeEnvelope } from '../shared/events/cloudtrail.ts';
import { CloudTrailMappingError } from '../shared/events/errors.ts';
import { fromKubernetesAuditEvent } from '../shared/events/kubernetes.ts';
import { eksAuditMessage, encodeSubscriptionEvent } from '../shared/ingest/cloudwatch-logs.ts';
import { forwardCloudTrail, type QueuedEnvelope } from '../shared/ingest/forward-cloudtrail.ts';
import { forwardCloudWatchLogs } from '../shared/ingest/forward-cloudwatch-logs.ts';
import { GenesisGuard } from '../shared/ingest/genesis-guard.ts';
import { InMemorySealRegistry } from '../shared/storage/in-memory-seal-registry.ts';
import { sharedDataPath } from '../test/support/shared-data.ts';
import { ApiGatewayEvents, AppEvents } from './app-events.ts';
import { argValue, positiveInt, round } from './bench-args.ts';
import { generateRules } from './detect-rules.ts';
import {
  assertAllStored,
  HAS_GC,
  inMemoryHandler,
  invokeAll,
  PerRequestStore,
  RecordingLogger,
  type Sample,
  timed,
  workload,
} from './ingest-handler.ts';

const GOAL_RATIO_MAX = 0.5;
const INGEST_BATCH = 500;
const FORWARDER_BATCH = 100;

const argv = process.argv.slice(2);
const reps = positiveInt(argValue(argv, 'reps') ?? '5', '--reps');
const ruleCount = positiveInt(argValue(argv, 'rules') ?? '500', '--rules');
const loops = positiveInt(argValue(argv, 'loops') ?? '20', '--loops');
const requests = positiveInt(argValue(argv, 'requests') ?? '20', '--requests');

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

const us = (seconds: number, events: number) => (seconds / events) * 1e6;
const bestCpu = (samples: readonly Sample[]) => Math.min(...samples.map((s) => s.cpu));

type Stored = Record<string, unknown>;

function cloudTrailRecords(): Record<string, unknown>[] {
  const records: Record<string, unknown>[] = [];
  for (const line of readFileSync(sharedDataPath('cloudtrail', 'all_permissive.jsonl'), 'utf8').split('\n')) {
    if (line.length === 0) continue;
    const record = JSON.parse(line) as Record<string, unknown>;
    try {
      fromCloudTrailRecord(line);
      records.push(record);
    } catch (error) {
      if (!(error instanceof CloudTrailMappingError)) throw error;
    }
  }
  return records;
}

function storedForm(input: object): Stored {
  return { ...input, v: 1, receivedAt: '2026-11-22T21:00:00.000Z', channel: 'cloudtrail' };
}

function kubernetesEvents(): Stored[] {
  return kubernetesTexts().map((t) => storedForm(fromKubernetesAuditEvent(t, KUBERNETES_CONTEXT)));
}

const KUBERNETES_CONTEXT = { clusterArn: 'arn:aws:eks:eu-west-1:123456789012:cluster/prod' };

/** The texts of the Falco traces' and audit2rbac's Events. */
function kubernetesTexts(): string[] {
  const dir = sharedDataPath('kubernetes', 'falco-trace-files');
  const texts = [
    ...readdirSync(dir)
      .filter((f) => f.endsWith('.json') && f !== 'fal_01_003.json')
      .map((f) => readFileSync(`${dir}/${f}`, 'utf8')),
    ...readFileSync(sharedDataPath('kubernetes', 'audit2rbac.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.length > 0),
  ];
  return texts;
}

/** Throws unless the index changes nothing: same rules, same order, on every event. */
function checkIndex(detector: Detector, events: readonly Stored[]): number {
  let matches = 0;
  for (const event of events) {
    const subject = subjectOf(event);
    const indexed = detector.detectSubject(subject).map((r) => r.id);
    const all = detector.detectWithoutIndex(subject).map((r) => r.id);
    if (indexed.join() !== all.join())
      throw new Error(`index and brute force differ on ${String(event['id'])}`);
    matches += indexed.length;
  }
  return matches;
}

async function detectCost(detector: Detector, events: readonly Stored[]): Promise<Sample> {
  const { result, sample } = await timed(() => {
    let sink = 0;
    for (let l = 0; l < loops; l++) for (const event of events) sink += detector.detect(event).length;
    return sink;
  });
  if (result < 0) throw new Error('unreachable');
  return sample;
}

/** Deliveries of EventBridge envelopes as SQS bodies, each record with a fresh eventID. */
function forwarderDeliveries(records: readonly Record<string, unknown>[]): QueuedEnvelope[][] {
  const deliveries: QueuedEnvelope[][] = [];
  for (let i = 0; i < records.length; i += FORWARDER_BATCH) {
    deliveries.push(
      records.slice(i, i + FORWARDER_BATCH).map((record) => ({
        messageId: randomUUID(),
        body: wrapInEventBridgeEnvelope(JSON.stringify({ ...record, eventID: randomUUID() })),
      })),
    );
  }
  return deliveries;
}

async function forwarderCost(
  signer: KeyFileSigner,
  records: readonly Record<string, unknown>[],
): Promise<Sample> {
  const deliveries = forwarderDeliveries(records);
  const store = new PerRequestStore();
  const deps = {
    store,
    signer,
    clock: () => new Date(),
    periodSeconds: 3600,
    graceSeconds: 60,
    batchIdFactory: randomBatchId,
    genesis: new GenesisGuard(new InMemorySealRegistry()),
  };
  const observer = {
    rejected: (r: { reason: string }) => {
      throw new Error(`forwarder rejected a record: ${r.reason}`);
    },
    failed: (error: unknown) => {
      throw error;
    },
  };
  const { sample } = await timed(async () => {
    for (const messages of deliveries) {
      store.nextRequest();
      const outcome = await forwardCloudTrail(
        { ledger: 'bench-detect', principal: 'bench', requestId: randomUUID(), messages },
        deps,
        observer,
      );
      if (outcome.stored.length !== messages.length)
        throw new Error('the forwarder did not store every record');
    }
  });
  return sample;
}

/** The Kubernetes forwarder over one EKS payload of the Events, each with a fresh auditID. */
async function kubernetesForwarderCost(signer: KeyFileSigner, texts: readonly string[]): Promise<Sample> {
  const fresh = texts.map((t) => JSON.stringify({ ...(JSON.parse(t) as object), auditID: randomUUID() }));
  const event = encodeSubscriptionEvent(
    eksAuditMessage(fresh, { cluster: 'prod', owner: '123456789012', timestampMs: Date.now() }),
  );
  const store = new PerRequestStore();
  const deps = {
    store,
    signer,
    clock: () => new Date(),
    periodSeconds: 3600,
    graceSeconds: 60,
    batchIdFactory: randomBatchId,
    genesis: new GenesisGuard(new InMemorySealRegistry()),
  };
  const { sample } = await timed(async () => {
    store.nextRequest();
    const outcome = await forwardCloudWatchLogs(
      { ledger: 'bench-detect', principal: 'bench', requestId: randomUUID(), event },
      { region: 'eu-west-1' },
      deps,
    );
    if (outcome.stored.length !== texts.length)
      throw new Error('the Kubernetes forwarder did not store every Event');
  });
  return sample;
}

async function handlerCost(
  signer: KeyFileSigner,
  app: AppEvents,
  gateway: ApiGatewayEvents,
): Promise<Sample> {
  const work = workload(app, gateway, requests, INGEST_BATCH);
  const logger = new RecordingLogger();
  const { handler, store } = inMemoryHandler(signer, logger);
  const { result: responses, sample } = await timed(() => invokeAll(handler, store, work));
  assertAllStored(responses, work, store, logger);
  return sample;
}

async function main(): Promise<void> {
  log(
    `bench:detect: node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  if (!HAS_GC) log('  (run with --expose-gc for a full GC before each timed section)');

  const records = cloudTrailRecords();
  const cloudtrail = records.map((r) => storedForm(fromCloudTrailRecord(JSON.stringify(r))));
  const kubernetes = kubernetesEvents();
  const kubernetesSource = kubernetesTexts();
  const shipped = loadDefaultRules();
  const generatedFiles = generateRules(ruleCount);
  const loadStart = process.cpuUsage();
  const generated = loadRuleFiles(generatedFiles);
  const detectors = { shipped: new Detector(shipped.rules), generated: new Detector(generated.rules) };
  const loadCpu = process.cpuUsage(loadStart);
  const loadMs = (loadCpu.user + loadCpu.system) / 1000;

  const checks = {
    shipped_cloudtrail_matches: checkIndex(detectors.shipped, cloudtrail),
    shipped_kubernetes_matches: checkIndex(detectors.shipped, kubernetes),
    generated_cloudtrail_matches: checkIndex(detectors.generated, cloudtrail),
    generated_kubernetes_matches: checkIndex(detectors.generated, kubernetes),
  };
  const stats = { shipped: detectors.shipped.stats(), generated: detectors.generated.stats() };
  log(
    `  events: ${cloudtrail.length} CloudTrail, ${kubernetes.length} Kubernetes; rules: ${shipped.rules.length} shipped, ${generated.rules.length} generated (loaded, compiled and indexed in ${loadMs.toFixed(0)} ms CPU)`,
  );
  log(
    `  index: shipped ${JSON.stringify(stats.shipped.sources)}; generated ${JSON.stringify(stats.generated.sources)}`,
  );
  log(
    `  checks: indexed detection equals every-rule detection on every event; matches ${JSON.stringify(checks)}`,
  );

  const signer = KeyFileSigner.generate();
  const app = new AppEvents();
  const gateway = new ApiGatewayEvents();
  const samples: Record<string, Sample[]> = {
    handler: [],
    forwarder: [],
    kubernetesForwarder: [],
    shippedCloudTrail: [],
    generatedCloudTrail: [],
    shippedKubernetes: [],
    generatedKubernetes: [],
  };
  for (let rep = -1; rep < reps; rep++) {
    const round_ = {
      handler: await handlerCost(signer, app, gateway),
      forwarder: await forwarderCost(signer, records),
      kubernetesForwarder: await kubernetesForwarderCost(signer, kubernetesSource),
      shippedCloudTrail: await detectCost(detectors.shipped, cloudtrail),
      generatedCloudTrail: await detectCost(detectors.generated, cloudtrail),
      shippedKubernetes: await detectCost(detectors.shipped, kubernetes),
      generatedKubernetes: await detectCost(detectors.generated, kubernetes),
    };
    if (rep < 0) continue; // warm-up
    for (const [key, sample] of Object.entries(round_)) samples[key]!.push(sample);
  }

  const perEvent = {
    handler: us(bestCpu(samples['handler']!), requests * INGEST_BATCH),
    forwarder: us(bestCpu(samples['forwarder']!), records.length),
    kubernetesForwarder: us(bestCpu(samples['kubernetesForwarder']!), kubernetesSource.length),
    shippedCloudTrail: us(bestCpu(samples['shippedCloudTrail']!), loops * cloudtrail.length),
    generatedCloudTrail: us(bestCpu(samples['generatedCloudTrail']!), loops * cloudtrail.length),
    shippedKubernetes: us(bestCpu(samples['shippedKubernetes']!), loops * kubernetes.length),
    generatedKubernetes: us(bestCpu(samples['generatedKubernetes']!), loops * kubernetes.length),
  };
  const ratio = perEvent.generatedCloudTrail / perEvent.handler;
  log(
    `  ingest handler (POST /v1/events, batches of ${INGEST_BATCH}): ${perEvent.handler.toFixed(2)} us CPU/event`,
  );
  log(
    `  CloudTrail forwarder core (deliveries of ${FORWARDER_BATCH}): ${perEvent.forwarder.toFixed(2)} us CPU/event`,
  );
  log(
    `  Kubernetes forwarder core (one EKS payload of ${kubernetesSource.length}): ${perEvent.kubernetesForwarder.toFixed(2)} us CPU/event`,
  );
  log(
    `  detection, CloudTrail events: ${perEvent.shippedCloudTrail.toFixed(2)} us/event with ${shipped.rules.length} rules, ${perEvent.generatedCloudTrail.toFixed(2)} us/event with ${generated.rules.length}`,
  );
  log(
    `  detection, Kubernetes events: ${perEvent.shippedKubernetes.toFixed(2)} us/event with ${shipped.rules.length} rules, ${perEvent.generatedKubernetes.toFixed(2)} us/event with ${generated.rules.length}`,
  );
  log(
    `  ${generated.rules.length} rules add ${(ratio * 100).toFixed(1)}% to the ingest handler's CPU per event (goal <= ${GOAL_RATIO_MAX * 100}%), ${((perEvent.generatedCloudTrail / perEvent.forwarder) * 100).toFixed(1)}% to the forwarder's`,
  );

  const figures = {
    bench: 'detect',
    node: process.version,
    reps,
    loops,
    cloudtrail_events: cloudtrail.length,
    kubernetes_events: kubernetes.length,
    shipped_rules: shipped.rules.length,
    generated_rules: generated.rules.length,
    shipped_fallback_cloudtrail: stats.shipped.sources['cloudtrail']?.fallback ?? 0,
    generated_fallback_cloudtrail: stats.generated.sources['cloudtrail']?.fallback ?? 0,
    rules_load_ms_cpu: round(loadMs, 1),
    ingest_handler_cpu_us_per_event: round(perEvent.handler, 2),
    forwarder_cpu_us_per_event: round(perEvent.forwarder, 2),
    kubernetes_forwarder_cpu_us_per_event: round(perEvent.kubernetesForwarder, 2),
    detect_shipped_cloudtrail_cpu_us_per_event: round(perEvent.shippedCloudTrail, 3),
    detect_generated_cloudtrail_cpu_us_per_event: round(perEvent.generatedCloudTrail, 3),
    detect_shipped_kubernetes_cpu_us_per_event: round(perEvent.shippedKubernetes, 3),
    detect_generated_kubernetes_cpu_us_per_event: round(perEvent.generatedKubernetes, 3),
    ratio_generated_to_ingest_handler: round(ratio, 4),
    ratio_shipped_to_ingest_handler: round(perEvent.shippedCloudTrail / perEvent.handler, 4),
    ratio_generated_to_forwarder: round(perEvent.generatedCloudTrail / perEvent.forwarder, 4),
    ratio_generated_kubernetes_to_kubernetes_forwarder: round(
      perEvent.generatedKubernetes / perEvent.kubernetesForwarder,
      4,
    ),
    goal_ratio_max: GOAL_RATIO_MAX,
    goal_met: ratio <= GOAL_RATIO_MAX,
    ...checks,
  };
  log(JSON.stringify(figures));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

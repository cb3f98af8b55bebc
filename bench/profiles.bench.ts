/**
 * `npm run bench:profiles`: the cost of `GET /v1/resources/{id}/profile?at=T` and of one timeline page,
 * for one resource with 10 and with 10,000 versions, on the in-memory ProfileStore. The goal is flat:
 * the ratio of the 10,000-version figure to the 10-version one stays near 1.
 *
 *   npm run bench:profiles [-- --ops N] [--page P] [--reps R] [--sizes 10,10000] [--single]
 *   npm run bench:profiles -- --store dynamodb [--ops N] …   # the DynamoDB ProfileStore on DynamoDB Local
 *
 * 1. For each size S, the store holds the same total number of versions (the largest size): 1,000
 *    resources of 10 versions, or 1 resource of 10,000. So both runs touch as much memory, and the
 *    comparison isolates what the question is about, the number of versions of the resource read (with
 *    one resource of 10 versions, its few kilobytes would sit in the CPU cache and flatter the small
 *    case). Versions go through the real write path (`parseProfile` + `writeProfile`), one per two
 *    minutes, each an EC2-instance-like configuration of about 3 KiB with a few fields changed, and as
 *    many events between them. Every 7th version is a late item: written after the next one, older in
 *    time, so the time order is not the chain order. Each operation picks a random resource.
 *    `--single` keeps one resource per size instead, to show what the CPU cache does to the small case.
 * 2. Checks first: the chain of the biggest size verifies with no finding; every timeline page item is in
 *    time order; every version's patch applied to its predecessor's state gives its own state.
 * 3. At-time: N lookups `readProfileAt(store, id, T)` at random T spread over the whole history (and
 *    before it). Timeline: N pages of P items from random `from` times (`readTimeline`, with diffs).
 *    Each is timed op by op; figures are the best of R repetitions of the median (p50) and the p99.
 * 4. `--store dynamodb`: the same versions, built by the same write path in memory, are copied item by item
 *    into a ledger table on DynamoDB Local (the items `DynamoDbProfileStore.putVersion` writes, through
 *    `BatchWriteItem`, since 20,000 sequential transactions would take minutes), read back and checked with
 *    the DynamoDB `ProfileStore`, and every read goes to DynamoDB Local over HTTP. Figures are
 *    wall-clock times of the client, DynamoDB Local's time included, best of R repetitions after one
 *    untimed warm-up pass per size (defaults: 500 operations, 3 repetitions).
 * 5. Events are stored events (canonical bytes of an event on the resource, `receivedAt` a year after their
 *    `eventTime`, as a replay would), read through the timeline index: in memory its fake
 *    (`InMemoryResourceEvents`), with `--store dynamodb` the real `byResourceTime` index on DynamoDB Local
 *    (`DynamoDbResourceEvents`, its 16 shards merged), the items written as the ledger store writes them.
 *
 * The last stdout line is one JSON object with every figure. docs/BENCHMARKS.md explains them.
 */
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { BatchWriteItemCommand, CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { indexAttributes } from '../adapters/dynamodb/index-keys.ts';
import { DynamoDbProfileStore, profileVersionWrite } from '../adapters/dynamodb/profile-store.ts';
import { DynamoDbResourceEvents } from '../adapters/dynamodb/resource-events.ts';
import { ledgerTable } from '../infra/resources/definitions.ts';
import { createTableInput } from '../infra/resources/sdk-commands.ts';
import { type DynamoDbLocal, startDynamoDbLocal } from '../local/dynamodb-local.ts';
import { ensureDynamoDbLocalJar } from '../local/dynamodb-local-jar.ts';
import type { AuditEventInput } from '../shared/events/audit-event.ts';
import { canonicalizeEvent } from '../shared/ingest/canonical-event.ts';
import { hashLeaf } from '../shared/merkle/rfc6962.ts';
import type { ProfileStore } from '../shared/ports/profile-store.ts';
import { verifyProfileChains } from '../shared/profiles/chain.ts';
import { applyStatePatch, comparableStates } from '../shared/profiles/diff.ts';
import { parseProfile } from '../shared/profiles/profile.ts';
import { readProfileAt } from '../shared/profiles/read-profile.ts';
import {
  comparePositions,
  readTimeline,
  type TimelineEvent,
  type TimelinePosition,
} from '../shared/profiles/timeline.ts';
import type { ProfileVersion } from '../shared/profiles/version.ts';
import { writeProfile } from '../shared/profiles/write-profile.ts';
import { InMemoryProfileStore } from '../shared/storage/in-memory-profile-store.ts';
import { InMemoryResourceEvents } from '../shared/storage/in-memory-resource-events.ts';
import { argValue, positiveInt, round } from './bench-args.ts';

const resourceArn = (index: number) =>
  `arn:aws:ec2:us-east-1:123456789012:instance/i-${index.toString(16).padStart(17, '0')}`;
const START_MS = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;
const GOAL_RATIO_MAX = 1.5;

const argv = process.argv.slice(2);
const STORE = argValue(argv, 'store') ?? 'memory';
if (STORE !== 'memory' && STORE !== 'dynamodb') throw new Error('--store must be memory or dynamodb');
// A DynamoDB Local call takes milliseconds, not microseconds: fewer operations give as stable a median.
const OPS = positiveInt(argValue(argv, 'ops') ?? (STORE === 'dynamodb' ? '500' : '2000'), '--ops');
const PAGE = positiveInt(argValue(argv, 'page') ?? '10', '--page');
const REPS = positiveInt(argValue(argv, 'reps') ?? (STORE === 'dynamodb' ? '3' : '5'), '--reps');
const SIZES = (argValue(argv, 'sizes') ?? '10,10000').split(',').map((s) => positiveInt(s, '--sizes'));
const SINGLE = argv.includes('--single');
const LEDGER = 'bench';
const TABLE = 'auditseal-bench-profiles';

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Deterministic pseudo-random numbers (mulberry32), so runs are comparable. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An EC2-instance-like configuration of about 3 KiB; `step` changes one field and one tag. */
function configuration(step: number) {
  return {
    instanceId: 'i-0abc1234def567890',
    instanceType: ['t3.micro', 't3.small', 'm5.large'][step % 3],
    state: { code: 16, name: step % 5 === 0 ? 'stopped' : 'running' },
    launchTime: '2026-01-01T00:00:00.000Z',
    securityGroups: Array.from({ length: 4 }, (_, i) => ({
      groupId: `sg-0${i}${step % 7}abc`,
      groupName: `group-${i}`,
    })),
    blockDeviceMappings: Array.from({ length: 4 }, (_, i) => ({
      deviceName: `/dev/sd${'abcd'[i]}`,
      ebs: { volumeId: `vol-0${i}1234567890abcdef`, status: 'attached', deleteOnTermination: true },
    })),
    networkInterfaces: Array.from({ length: 3 }, (_, i) => ({
      networkInterfaceId: `eni-0${i}234567890abcdef`,
      privateIpAddress: `10.0.${i}.${(step % 250) + 1}`,
      subnetId: 'subnet-0123456789abcdef0',
      vpcId: 'vpc-0123456789abcdef0',
      description: 'Primary network interface of the benchmark instance, as AWS Config records it.',
    })),
    tags: [{ key: 'revision', value: String(step) }],
    monitoring: { state: 'disabled' },
    placement: { availabilityZone: 'us-east-1a', tenancy: 'default' },
  };
}

function timeOf(minute: number): string {
  return new Date(START_MS + minute * MINUTE).toISOString();
}

/** `resources` resources with `size` versions (every 7th written late) and `size` events each. */
async function build(size: number, resources: number) {
  const store = new InMemoryProfileStore();
  const order = Array.from({ length: size }, (_, i) => i);
  // Swap each 7th version with the next one: it arrives late, after a newer version.
  for (let i = 6; i + 1 < size; i += 7) [order[i], order[i + 1]] = [order[i + 1]!, order[i]!];
  let clockMs = Date.UTC(2026, 6, 1);
  const clock = () => {
    clockMs += 5;
    return new Date(clockMs);
  };
  for (let r = 0; r < resources; r++) {
    for (const step of order) {
      const parsed = parseProfile({
        resourceId: resourceArn(r),
        resourceType: 'AWS::EC2::Instance',
        configuration: configuration(step),
        tags: { env: 'prod', revision: String(step) },
        lastModified: timeOf(step * 2),
        source: 'aws-config',
      });
      const written = await writeProfile(store, parsed, { clock });
      if (written.status !== 'created') throw new Error(`version ${step} was not created`);
    }
  }
  // Every resource has its events at the same times; ids differ per resource as in a real index. Each is
  // stored a year after its eventTime, as a replay would be: the timeline places it at its eventTime.
  const events: StoredBenchEvent[] = [];
  const index = new InMemoryResourceEvents();
  for (let r = 0; r < resources; r++) {
    for (let i = 0; i < size; i++) {
      const input: AuditEventInput = {
        id: `ct:${r}-${String(i).padStart(8, '0')}`,
        eventTime: timeOf(i * 2 + 1),
        actor: { id: 'arn:aws:iam::123456789012:role/ops', type: 'role' },
        action: 'ec2:ModifyInstanceAttribute',
        resource: { id: resourceArn(r), type: 'AWS::EC2::Instance' },
        outcome: { result: 'success' },
      };
      const receivedAt = new Date(Date.parse(input.eventTime) + 365 * 24 * 60 * MINUTE).toISOString();
      const { bytes } = canonicalizeEvent(input, receivedAt, 'cloudtrail');
      index.addEvent(bytes, receivedAt);
      events.push({ input, receivedAt, bytes });
    }
  }
  return { store, events, index };
}

interface StoredBenchEvent {
  readonly input: AuditEventInput;
  readonly receivedAt: string;
  readonly bytes: Uint8Array;
}

/** Copies the events into the table as event items with their index attributes, 25 per BatchWriteItem. */
async function copyEventsToDynamoDb(
  events: readonly StoredBenchEvent[],
  client: DynamoDBClient,
  ledger: string,
): Promise<void> {
  const items = events.map(({ input, receivedAt, bytes }, i) => {
    const attributes = indexAttributes(ledger, input.id, {
      actorId: input.actor.id,
      action: input.action,
      outcome: input.outcome.result,
      resourceId: input.resource!.id,
      channel: 'cloudtrail',
      eventTime: input.eventTime,
    });
    return {
      pk: { S: `EV#${ledger}#bench#${String(i % 32).padStart(2, '0')}` },
      sk: { S: `${receivedAt}#${input.id}` },
      id: { S: input.id },
      body: { B: bytes },
      leafHash: { B: hashLeaf(bytes) },
      receivedAt: { S: receivedAt },
      ...Object.fromEntries(Object.entries(attributes).map(([name, value]) => [name, { S: value }])),
    };
  });
  await batchWrite(items, client);
}

async function batchWrite(items: readonly Record<string, unknown>[], client: DynamoDBClient): Promise<void> {
  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      let pending = batches[next++]!.map((Item) => ({ PutRequest: { Item } }));
      while (pending.length > 0) {
        const out = await client.send(
          new BatchWriteItemCommand({ RequestItems: { [TABLE]: pending } } as never),
        );
        pending = (out.UnprocessedItems?.[TABLE] ?? []) as typeof pending;
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

/** Copies every version of `memory` into the table, as the adapter's items, 25 per BatchWriteItem. */
async function copyToDynamoDb(
  memory: InMemoryProfileStore,
  resources: number,
  size: number,
  client: DynamoDBClient,
  ledger: string,
): Promise<void> {
  const items: Record<string, unknown>[] = [];
  for (let r = 0; r < resources; r++) {
    for (let afterN = 0; afterN < size; afterN += 1000) {
      for (const version of await memory.listByChain(resourceArn(r), { afterN, limit: 1000 })) {
        items.push(...profileVersionWrite(ledger, version).puts);
      }
    }
  }
  await batchWrite(items, client);
}

/** The timeline's event source: the resource's events from the position's time on, as the handler asks. */
function eventsAfter(source: { after(resourceId: string, fromKey: string): AsyncIterable<TimelineEvent> }) {
  return (resource: string) => (start: TimelinePosition | undefined) =>
    source.after(resource, start === undefined ? '' : `${start.time}#`);
}

async function check(
  store: ProfileStore,
  events: (resource: string) => (start: TimelinePosition | undefined) => AsyncIterable<TimelineEvent>,
  size: number,
): Promise<void> {
  const RESOURCE = resourceArn(0);
  const chain: ProfileVersion[] = [];
  for (let afterN = 0; afterN < size; afterN += 1000) {
    chain.push(...(await store.listByChain(RESOURCE, { afterN, limit: 1000 })));
  }
  const report = verifyProfileChains(chain.map((v) => ({ bytes: v.bytes, claimedHash: v.hash })));
  if (report.findings.length > 0) throw new Error(`chain check failed: ${report.findings[0]!.code}`);
  const page = await readTimeline(store, RESOURCE, events(RESOURCE), { limit: Math.min(size * 2, 1000) });
  // Every event of a short history is on its page, at its eventTime (a year before its receivedAt).
  const eventsListed = page.items.filter((i) => i.kind === 'event').length;
  if (size * 2 <= 1000 && eventsListed !== size) throw new Error(`${eventsListed} of ${size} events listed`);
  let previous: TimelinePosition | undefined;
  for (const item of page.items) {
    const position: TimelinePosition =
      item.kind === 'event'
        ? { time: item.time, kind: 'event', id: item.event.id }
        : { time: item.time, kind: 'version', n: item.version.n };
    if (previous !== undefined && comparePositions(previous, position) >= 0)
      throw new Error('timeline out of order');
    previous = position;
    if (item.kind === 'version' && item.diff.from !== null) {
      const before = await store.getVersion(RESOURCE, item.diff.from);
      const states = comparableStates(before!.profile, item.version.profile);
      const applied = applyStatePatch(states.before, item.diff.patch);
      if (JSON.stringify(applied) !== JSON.stringify(states.after))
        throw new Error(`patch of version ${item.version.n} does not apply`);
    }
  }
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

async function timeOps(
  ops: number,
  seed: number,
  op: (r: number) => Promise<unknown>,
): Promise<{ p50: number; p99: number }> {
  const rand = random(seed);
  const samples: number[] = [];
  for (let i = 0; i < ops; i++) {
    const r = rand();
    const t0 = performance.now();
    await op(r);
    samples.push((performance.now() - t0) * 1000);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 0.5), p99: percentile(samples, 0.99) };
}

async function main(): Promise<void> {
  log(
    `profiles benchmark (${STORE === 'dynamodb' ? 'DynamoDB ProfileStore on DynamoDB Local' : 'in-memory ProfileStore'}): ` +
      `sizes ${SIZES.join(', ')}; ${OPS} ops per figure, page ${PAGE}, best of ${REPS}`,
  );
  let ddb: DynamoDbLocal | undefined;
  let client: DynamoDBClient | undefined;
  if (STORE === 'dynamodb') {
    const projectDir = fileURLToPath(new URL('../', import.meta.url));
    ddb = await startDynamoDbLocal({
      jar: await ensureDynamoDbLocalJar({ projectDir }),
      storage: { inMemory: true },
    });
    client = new DynamoDBClient(ddb.clientConfig);
    await client.send(new CreateTableCommand(createTableInput(ledgerTable('local', { tableName: TABLE }))));
  }
  try {
    await run(client);
  } finally {
    client?.destroy();
    await ddb?.stop();
  }
}

async function run(client: DynamoDBClient | undefined): Promise<void> {
  const figures: Record<string, Record<string, number>> = {};
  const total = Math.max(...SIZES);
  for (const size of SIZES) {
    const resources = SINGLE ? 1 : Math.max(1, Math.round(total / size));
    const t0 = performance.now();
    let built: Awaited<ReturnType<typeof build>> | undefined = await build(size, resources);
    let events = eventsAfter(built.index);
    let store: ProfileStore = built.store;
    log(
      `  ${resources} resource(s) × ${size} versions written in ${round((performance.now() - t0) / 1000, 1)} s`,
    );
    if (client !== undefined) {
      const t1 = performance.now();
      // A ledger per size: the 10-version resources and the 10,000-version one never share a partition.
      const ledger = `${LEDGER}-${size}`;
      await copyToDynamoDb(built.store, resources, size, client, ledger);
      await copyEventsToDynamoDb(built.events, client, ledger);
      events = eventsAfter(new DynamoDbResourceEvents({ client, tableName: TABLE, ledger }));
      store = new DynamoDbProfileStore({ client, tableName: TABLE, ledger });
      log(`  copied to DynamoDB Local in ${round((performance.now() - t1) / 1000, 1)} s`);
    }
    await check(store, events, size);
    const spanMs = size * 2 * MINUTE;
    // One uniform r picks the resource (its integer part after scaling) and the time (its fraction).
    const pick = (r: number) => {
      const scaled = r * resources;
      const index = Math.min(resources - 1, Math.floor(scaled));
      return { index, resource: resourceArn(index), fraction: scaled - index };
    };
    // At-time: T from 1% before the first version to the end of the history.
    const atTime = (f: number) => new Date(START_MS - spanMs * 0.01 + f * spanMs * 1.01).toISOString();
    // Pages: a start that leaves a full page after it (two items per two minutes).
    const pageStart = (f: number) =>
      new Date(START_MS + Math.floor(f * (size * 2 - PAGE)) * MINUTE).toISOString();
    const best = { atP50: Infinity, atP99: Infinity, pageP50: Infinity, pageP99: Infinity, pageItems: 0 };
    // DynamoDB Local (a JVM) and the SDK warm up on first use: one untimed pass, so that the first size
    // measured is not the slower one for that reason alone.
    for (let rep = STORE === 'dynamodb' ? -1 : 0; rep < REPS; rep++) {
      const at = await timeOps(OPS, 1 + rep, (r) => {
        const { resource, fraction } = pick(r);
        return readProfileAt(store, resource, atTime(fraction));
      });
      let items = 0;
      const page = await timeOps(OPS, 101 + rep, async (r) => {
        const { resource, fraction } = pick(r);
        const result = await readTimeline(store, resource, events(resource), {
          from: pageStart(fraction),
          limit: PAGE,
        });
        items += result.items.length;
      });
      if (rep < 0) continue;
      best.atP50 = Math.min(best.atP50, at.p50);
      best.atP99 = Math.min(best.atP99, at.p99);
      best.pageP50 = Math.min(best.pageP50, page.p50);
      best.pageP99 = Math.min(best.pageP99, page.p99);
      best.pageItems = items / OPS;
    }
    built = undefined;
    store = undefined as never;
    (globalThis as { gc?: () => void }).gc?.();
    figures[size] = {
      resources,
      at_p50_us: round(best.atP50),
      at_p99_us: round(best.atP99),
      page_p50_us: round(best.pageP50),
      page_p99_us: round(best.pageP99),
      page_items_mean: round(best.pageItems, 1),
    };
    log(
      `  ${String(size).padStart(6)} versions per resource: profile?at= p50 ${round(best.atP50)} µs, p99 ${round(best.atP99)} µs; ` +
        `timeline page (${round(best.pageItems, 1)} items) p50 ${round(best.pageP50)} µs, p99 ${round(best.pageP99)} µs`,
    );
  }
  const [small, large] = [figures[SIZES[0]!]!, figures[SIZES.at(-1)!]!];
  const ratios = {
    at_p50_ratio: round(large['at_p50_us']! / small['at_p50_us']!),
    page_p50_ratio: round(large['page_p50_us']! / small['page_p50_us']!),
  };
  const flat = ratios.at_p50_ratio <= GOAL_RATIO_MAX && ratios.page_p50_ratio <= GOAL_RATIO_MAX;
  log(
    `  ratio ${SIZES.at(-1)}/${SIZES[0]}: profile?at= ${ratios.at_p50_ratio}×, timeline page ${ratios.page_p50_ratio}× ` +
      `(goal ≤ ${GOAL_RATIO_MAX}×: ${flat ? 'met' : 'NOT met'})`,
  );
  log(
    JSON.stringify({
      bench: 'profiles',
      store: STORE,
      node: process.version,
      ops: OPS,
      page: PAGE,
      reps: REPS,
      single: SINGLE,
      sizes: figures,
      ...ratios,
      goal_ratio_max: GOAL_RATIO_MAX,
      goal_met: flat,
    }),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

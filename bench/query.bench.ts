/**
 * `npm run bench:query`: search latency through the real local stack (`startLocalStack` with the routes of
 * the route table, served by the real handlers, SigV4 over HTTP, DynamoDB Local with the table's search
 * indexes, the read journal and recorder running), by actor and by resource, at 10k and at 100k events.
 *
 * - Events: canonical app events (~0.8 KiB) over 300 actors and 3,000 resources; one "hot" actor and one
 *   "hot" resource take 4 % of the events each, so each query has thousands of matches at 100k and a page
 *   (limit 50) is always full. They are written with the ledger's own item builder (`eventItem`: the same
 *   index attributes ingest writes) by BatchWriteItem, because signed ingest through the local API runs
 *   at about 300 events/s (docs/BENCHMARKS.md) and the search path reads no signature. No stream
 *   function or heartbeat runs, so these unsigned rows raise no alarm and nothing is sealed.
 * - At each size: warm-up, then `--queries` searches of each kind, one at a time, timing the HTTP round
 *   trip; p50 and p99. Items read per item returned comes from the handler's `x-auditseal-items-read`.
 * - Growth ratio: p50 at 100k ÷ p50 at 10k (goal ≤ 1.5). Last line: one JSON object.
 * - DynamoDB Local keeps its data in memory here (as the integration tests run it); `npm start` keeps it
 *   on disk. Both are the same engine and the same indexes.
 *
 * Options: `--small N` (default 10000), `--large N` (default 100000), `--queries Q` (default 200),
 * `--limit L` (default 50).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { eventItem } from '../adapters/dynamodb/ledger-items.ts';
import { DEFAULT_SHARDS } from '../functions/config.ts';
import { localRoutes } from '../local/routes.ts';
import { type LocalStack, startLocalStack } from '../local/stack.ts';
import { canonicalizeEvent } from '../shared/ingest/canonical-event.ts';
import { type Period, periodOf } from '../shared/ledger/period.ts';
import type { LedgerEvent } from '../shared/ports/ledger-store.ts';
import { signedFetch } from '../test/support/signed-fetch.ts';
import { argValue, positiveInt, round } from './bench-args.ts';
import { prng } from './synthetic-events.ts';

const argv = process.argv.slice(2);
const SMALL = positiveInt(argValue(argv, 'small') ?? '10000', '--small');
const LARGE = positiveInt(argValue(argv, 'large') ?? '100000', '--large');
const QUERIES = positiveInt(argValue(argv, 'queries') ?? '200', '--queries');
const LIMIT = positiveInt(argValue(argv, 'limit') ?? '50', '--limit');
const ACCOUNT = '123456789012';
const HOT_ACTOR = `arn:aws:sts::${ACCOUNT}:assumed-role/OnCallEngineer/alice@example.com`;
const HOT_RESOURCE = `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/i-0hot0000000000001`;
const START_MS = Date.UTC(2026, 2, 2, 10, 0, 0);

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** The n-th synthetic event, with its index fields. */
function makeEvent(n: number, rand: () => number): LedgerEvent {
  const hotActor = rand() < 0.04;
  const hotResource = rand() < 0.04;
  const actor = hotActor
    ? HOT_ACTOR
    : `arn:aws:sts::${ACCOUNT}:assumed-role/Role${n % 30}/user${Math.floor(rand() * 300)}`;
  const resource = hotResource
    ? HOT_RESOURCE
    : `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/i-${String(Math.floor(rand() * 3000)).padStart(17, '0')}`;
  const id = `bench-${String(n).padStart(7, '0')}`;
  // One event per 5 ms: 100k events span about 8 minutes of one day.
  const receivedAt = new Date(START_MS + n * 5).toISOString();
  const input = {
    id,
    eventTime: receivedAt,
    actor: { id: actor, type: 'role' as const, sessionId: `s-${n % 977}` },
    action: ['ssm:StartSession', 'ssh.login', 'db.connect', 'k8s.exec'][n % 4]!,
    resource: { id: resource, type: 'AWS::EC2::Instance' },
    outcome: { result: n % 14 === 0 ? ('failure' as const) : ('success' as const) },
    sourceIp: `10.0.${n % 256}.${(n >> 8) % 256}`,
    userAgent: 'aws-cli/2.17.12 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.11.8',
    details: { command: 'sudo systemctl restart nginx && journalctl -u nginx --no-pager | tail -n 200', n },
  };
  const { bytes, leafHash } = canonicalizeEvent(input, receivedAt, 'api');
  const period: Period = periodOf(Date.parse(receivedAt), 3600);
  return {
    id,
    receivedAt,
    period,
    bytes,
    leafHash,
    batchId: 'bench',
    inputSha256: createHash('sha256').update(bytes).digest('hex'),
    receipt: {} as LedgerEvent['receipt'],
    index: {
      actorId: actor,
      action: input.action,
      outcome: input.outcome.result,
      resourceId: resource,
      channel: 'api',
    },
  };
}

async function load(
  client: DynamoDBClient,
  table: string,
  ledger: string,
  from: number,
  to: number,
): Promise<number> {
  const started = Date.now();
  const rand = prng(from + 1);
  const writers = 4;
  let next = from;
  const worker = async () => {
    while (next < to) {
      const batch: LedgerEvent[] = [];
      while (batch.length < 25 && next < to) batch.push(makeEvent(next++, rand));
      let requests = batch.map((e) => ({ PutRequest: { Item: eventItem(ledger, e, DEFAULT_SHARDS) } }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: requests } }));
        requests = (out.UnprocessedItems?.[table] ?? []) as typeof requests;
        if (requests.length > 0) await new Promise((r) => setTimeout(r, 20 * 2 ** Math.min(attempt, 6)));
      }
    }
  };
  await Promise.all(Array.from({ length: writers }, worker));
  return (Date.now() - started) / 1000;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Measured {
  readonly p50: number;
  readonly p99: number;
  readonly itemsReadPerReturned: number;
  readonly returned: number;
}

async function measure(stack: LocalStack, parameters: Record<string, string>): Promise<Measured> {
  const path = `/v1/events?${new URLSearchParams({ ...parameters, limit: String(LIMIT) }).toString()}`;
  const run = async () => {
    const started = performance.now();
    const response = await signedFetch(stack.info.endpoint, stack.info.roles.reader, { path });
    const body = (await response.json()) as { events?: unknown[] };
    const ms = performance.now() - started;
    if (response.status !== 200)
      throw new Error(`search answered ${response.status}: ${JSON.stringify(body)}`);
    return {
      ms,
      returned: body.events!.length,
      read: Number(response.headers.get('x-auditseal-items-read')),
    };
  };
  for (let i = 0; i < 20; i++) await run();
  const times: number[] = [];
  let returned = 0;
  let read = 0;
  for (let i = 0; i < QUERIES; i++) {
    const r = await run();
    times.push(r.ms);
    returned += r.returned;
    read += r.read;
  }
  times.sort((a, b) => a - b);
  if (returned !== QUERIES * LIMIT) throw new Error(`pages were not full: ${returned} results`);
  return {
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    itemsReadPerReturned: read / returned,
    returned,
  };
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'auditseal-bench-query-'));
  const loadStart = loadavg()
    .map((v) => v.toFixed(2))
    .join(' ');
  let stack: LocalStack | undefined;
  try {
    stack = await startLocalStack({
      port: 0,
      dataDir,
      projectDir: process.cwd(),
      log: () => undefined,
      // Loading 100k events into DynamoDB Local's on-disk store takes several minutes on a small machine.
      dynamodbInMemory: true,
      functions: async (context) => {
        Object.assign(process.env, context.lambdaEnvironment);
        process.env['POWERTOOLS_LOG_LEVEL'] = 'ERROR';
        const { handler: readRecorder } = await import('../functions/record-reads.ts');
        return { routes: await localRoutes(), readRecorder };
      },
    });
    const client = new DynamoDBClient({
      region: stack.info.region,
      endpoint: stack.info.dynamodbEndpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const results: Record<string, Measured & { loadSeconds: number }> = {};
    let loaded = 0;
    for (const size of [SMALL, LARGE]) {
      log(`loading events ${loaded} to ${size}…`);
      const loadSeconds = await load(client, stack.info.tableName, stack.info.ledger, loaded, size);
      loaded = size;
      log(`  ${size} events in the table (${round(loadSeconds, 1)} s); searching…`);
      for (const [kind, parameters] of [
        ['actor', { actor: HOT_ACTOR }],
        ['resource', { resource: HOT_RESOURCE }],
      ] as const) {
        const m = await measure(stack, parameters);
        results[`${kind}_${size}`] = { ...m, loadSeconds };
        log(
          `  by ${kind}: p50 ${round(m.p50, 1)} ms, p99 ${round(m.p99, 1)} ms, ${round(m.itemsReadPerReturned, 3)} items read per item returned`,
        );
      }
    }
    client.destroy();
    const figure = (kind: string, size: number) => results[`${kind}_${size}`]!;
    const json: Record<string, unknown> = {
      node: process.version,
      cpus: cpus().length,
      load_start: loadStart,
      load_end: loadavg()
        .map((v) => v.toFixed(2))
        .join(' '),
      small: SMALL,
      large: LARGE,
      queries: QUERIES,
      limit: LIMIT,
      hot_share: 0.04,
      goal_growth_max: 1.5,
      goal_items_read_per_returned_max: 2,
    };
    for (const kind of ['actor', 'resource']) {
      for (const size of [SMALL, LARGE]) {
        const m = figure(kind, size);
        const tag = size === SMALL ? 'small' : 'large';
        json[`${kind}_${tag}_p50_ms`] = round(m.p50, 2);
        json[`${kind}_${tag}_p99_ms`] = round(m.p99, 2);
        json[`${kind}_${tag}_items_read_per_returned`] = round(m.itemsReadPerReturned, 3);
      }
      const growth = figure(kind, LARGE).p50 / figure(kind, SMALL).p50;
      json[`${kind}_growth_p50`] = round(growth, 3);
      json[`${kind}_growth_p99`] = round(figure(kind, LARGE).p99 / figure(kind, SMALL).p99, 3);
      json[`${kind}_goal_met`] =
        growth <= 1.5 &&
        figure(kind, SMALL).itemsReadPerReturned <= 2 &&
        figure(kind, LARGE).itemsReadPerReturned <= 2;
    }
    json['load_seconds_small'] = round(figure('actor', SMALL).loadSeconds, 1);
    json['load_seconds_large'] = round(figure('actor', LARGE).loadSeconds, 1);
    process.stdout.write(`${JSON.stringify(json)}\n`);
  } finally {
    await stack?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:query failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});

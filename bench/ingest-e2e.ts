/**
 * End-to-end half of the ingest benchmark: events/s through the real local stack (`startLocalStack` with
 * `loadLocalFunctions`, as `npm start` runs it): SigV4-signed `POST /v1/events` requests over HTTP to the
 * local gateway, the real handler with the DynamoDB ledger store (DynamoDB Local) and the KMS signer
 * (moto), the stream poller and the heartbeat running as usual.
 *
 * Clients run in this process. They sign with `@smithy/signature-v4` (as AWS SDKs do) but hash with
 * node:crypto, so that the clients take as little CPU as possible from the stack on a small machine.
 */

import { execFileSync } from 'node:child_process';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SignatureV4 } from '@smithy/signature-v4';
import { DynamoDbLedgerStore } from '../adapters/dynamodb/ledger-store.ts';
import { DEFAULT_SHARDS } from '../functions/config.ts';
import type { RoleCredentials } from '../local/local-stack-file.ts';
import { loadLocalFunctions } from '../local/routes.ts';
import { type LocalStack, startLocalStack } from '../local/stack.ts';
import { loadPublicKey, TrustedKeySet } from '../shared/crypto/keys.ts';
import { checkReceipt } from '../shared/ledger/batch-receipts.ts';
import type { Receipt } from '../shared/ledger/formats.ts';
import { AppEvents } from './app-events.ts';

type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytesOf(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** SHA-256 and HMAC-SHA-256 for SignatureV4 over node:crypto (the SDK's `Hash` contract). */
class NodeSha256 {
  readonly #secret: Buffer | undefined;
  #hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.#secret = secret === undefined ? undefined : bytesOf(secret);
    this.#hash = this.#fresh();
  }
  #fresh(): Hash | Hmac {
    return this.#secret === undefined ? createHash('sha256') : createHmac('sha256', this.#secret);
  }
  update(data: SourceData): void {
    this.#hash.update(bytesOf(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
  reset(): void {
    this.#hash = this.#fresh();
  }
}

export interface EndToEndOptions {
  readonly projectDir: string;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly clients: number;
  readonly batch: number;
  readonly log: (line: string) => void;
}

export interface EndToEndFigures {
  readonly seconds: number;
  readonly clients: number;
  readonly batch: number;
  readonly requests: number;
  /** Requests that did not answer 201 with every event stored: in the window, and in the whole run. */
  readonly failed_requests: number;
  readonly failed_requests_total: number;
  readonly failures: readonly string[];
  readonly stored_events: number;
  /** Sum of the clients' closed-loop rates (see below), and the plain count over the window. */
  readonly events_per_s: number;
  readonly events_per_s_window_count: number;
  readonly latency_ms_p50: number;
  readonly latency_ms_p95: number;
  readonly latency_ms_max: number;
  /** CPU seconds per second of the window: this process (gateway, handlers, poller, clients), DynamoDB Local, moto. */
  readonly cpu_cores_bench_process: number;
  readonly cpu_cores_dynamodb_local: number | null;
  readonly cpu_cores_moto: number | null;
  readonly receipts_checked: number;
  readonly stack_start_s: number;
}

interface Completed {
  readonly client: number;
  readonly at: number;
  readonly latencyMs: number;
  readonly status: number;
  readonly stored: number;
  readonly receipts: Receipt[];
  readonly text: string;
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system) a process has used so far, from /proc; undefined if unreadable. */
function processCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Signs and sends one batch; resolves when the whole response body has arrived. */
async function post(
  endpoint: URL,
  signer: SignatureV4,
  body: string,
): Promise<Omit<Completed, 'client' | 'receipts' | 'stored'> & { json: unknown }> {
  const signed = await signer.sign({
    method: 'POST',
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    port: Number(endpoint.port),
    path: '/v1/events',
    query: {},
    headers: { host: endpoint.host, 'content-type': 'application/json' },
    body,
  });
  const { host: _host, ...headers } = signed.headers;
  const t0 = performance.now();
  const response = await fetch(new URL('/v1/events', endpoint), {
    method: 'POST',
    headers: headers as Record<string, string>,
    body,
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  const at = performance.now();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { at, latencyMs: at - t0, status: response.status, text, json };
}

/**
 * Starts the stack in a temporary folder, runs `clients` concurrent client loops for a warm-up and then
 * for `seconds`, and counts events stored by requests that completed inside the measured window. The
 * stack is stopped and its folder removed at the end, also on error or Ctrl-C.
 */
export async function runEndToEnd(options: EndToEndOptions): Promise<EndToEndFigures> {
  const { log } = options;
  const dataDir = await mkdtemp(join(tmpdir(), 'auditseal-bench-ingest-'));
  const stackLines: string[] = [];
  let stack: LocalStack | undefined;
  let cleaned: Promise<void> | undefined;
  const cleanup = () => {
    cleaned ??= (async () => {
      await stack?.stop();
      await rm(dataDir, { recursive: true, force: true, maxRetries: 3 });
    })();
    return cleaned;
  };
  // Ctrl-C (or a kill) stops the stack and removes its folder before exiting.
  const onSignal = (signal: NodeJS.Signals) => {
    void cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const t0 = performance.now();
    stack = await startLocalStack({
      port: 0,
      dataDir,
      projectDir: options.projectDir,
      functions: loadLocalFunctions,
      log: (line) => {
        stackLines.push(line);
        if (stackLines.length > 200) stackLines.splice(0, 100);
      },
    });
    const stackStartS = (performance.now() - t0) / 1000;
    const info = stack.info;
    log(
      `  local stack up in ${stackStartS.toFixed(1)} s: ${info.endpoint}, DynamoDB Local ${info.dynamodbEndpoint}, ` +
        `moto ${info.kmsEndpoint}, period ${info.periodSeconds} s`,
    );

    const endpoint = new URL(info.endpoint);
    const writer: RoleCredentials = info.roles.writer;
    const signer = new SignatureV4({
      credentials: writer,
      region: info.region,
      service: 'execute-api',
      sha256: NodeSha256,
    });
    const app = new AppEvents(17);
    const completed: Completed[] = [];
    let phase: 'warmup' | 'measure' | 'stop' = 'warmup';

    const client = async (index: number) => {
      while (phase !== 'stop') {
        const body = app.body(options.batch);
        const result = await post(endpoint, signer, body);
        const json = result.json as { stored?: unknown[]; receipts?: Receipt[] } | undefined;
        completed.push({
          client: index,
          at: result.at,
          latencyMs: result.latencyMs,
          status: result.status,
          stored: json?.stored?.length ?? 0,
          receipts: result.status === 201 ? (json?.receipts ?? []) : [],
          text: result.status === 201 ? '' : result.text.slice(0, 300),
        });
      }
    };

    log(`  ${options.clients} clients, batches of ${options.batch}: ${options.warmupSeconds} s warm-up …`);
    const clients = Array.from({ length: options.clients }, (_, index) => client(index));
    const running = Promise.all(clients);
    await Promise.race([new Promise((r) => setTimeout(r, options.warmupSeconds * 1000)), running]);

    const windowStart = performance.now();
    const cpu0 = process.cpuUsage();
    const java0 = processCpuSeconds(stack.pids.dynamodb);
    const moto0 = processCpuSeconds(stack.pids.moto);
    phase = 'measure';
    log(`  measuring for ${options.seconds} s …`);
    await Promise.race([new Promise((r) => setTimeout(r, options.seconds * 1000)), running]);
    const windowEnd = performance.now();
    const cpu = process.cpuUsage(cpu0);
    const java1 = processCpuSeconds(stack.pids.dynamodb);
    const moto1 = processCpuSeconds(stack.pids.moto);
    phase = 'stop';
    await running;

    const windowS = (windowEnd - windowStart) / 1000;
    const inWindow = completed.filter((c) => c.at >= windowStart && c.at <= windowEnd);
    const failed = inWindow.filter((c) => c.status !== 201 || c.stored !== options.batch);
    const allFailed = completed.filter((c) => c.status !== 201 || c.stored !== options.batch);
    const storedEvents = inWindow.reduce((sum, c) => sum + (c.status === 201 ? c.stored : 0), 0);
    // Requests finish 500 events at a time, and DynamoDB Local finishes concurrent requests in bursts, so a
    // count of whole requests in a fixed window is coarse. Each client is a closed loop, so its rate is the
    // events of its completions in the window over the time since each one's previous completion (which
    // may lie in the warm-up); the stack's rate is the sum over clients.
    let eventsPerS = 0;
    for (let index = 0; index < options.clients; index++) {
      const own = completed.filter((c) => c.client === index).sort((a, b) => a.at - b.at);
      let events = 0;
      let ms = 0;
      for (let i = 1; i < own.length; i++) {
        if (own[i]!.at < windowStart || own[i]!.at > windowEnd) continue;
        events += own[i]!.status === 201 ? own[i]!.stored : 0;
        ms += own[i]!.at - own[i - 1]!.at;
      }
      if (ms > 0) eventsPerS += events / (ms / 1000);
    }
    const latencies = inWindow.map((c) => c.latencyMs).sort((a, b) => a - b);

    // A sample of receipts must verify offline against the stack's key and name events that are in the table.
    const keys = new TrustedKeySet([loadPublicKey(info.publicKeyPem)]);
    const receipts = completed.flatMap((c) => c.receipts);
    const sample = Array.from(
      { length: Math.min(25, receipts.length) },
      (_, i) => receipts[Math.floor((i * receipts.length) / Math.min(25, receipts.length))]!,
    );
    const dynamodb = new DynamoDBClient({
      region: info.region,
      endpoint: info.dynamodbEndpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      const table = new DynamoDbLedgerStore({
        client: dynamodb,
        tableName: info.tableName,
        shardCount: DEFAULT_SHARDS,
      });
      for (const receipt of sample) {
        const check = checkReceipt(receipt, keys);
        if (!check.ok) throw new Error(`receipt of ${receipt.eventId} does not verify: ${check.code}`);
        const stored = await table.getEvent(info.ledger, receipt.eventId);
        if (stored === undefined || Buffer.from(stored.leafHash).toString('hex') !== receipt.leafHash) {
          throw new Error(`event ${receipt.eventId} is not in the table as its receipt says`);
        }
      }
    } finally {
      dynamodb.destroy();
    }

    const cores = (a: number | undefined, b: number | undefined) =>
      a === undefined || b === undefined ? null : (b - a) / windowS;
    return {
      seconds: windowS,
      clients: options.clients,
      batch: options.batch,
      requests: inWindow.length,
      failed_requests: failed.length,
      failed_requests_total: allFailed.length,
      failures: [...new Set(allFailed.map((c) => `${c.status} ${c.text}`))].slice(0, 5),
      stored_events: storedEvents,
      events_per_s: eventsPerS,
      events_per_s_window_count: storedEvents / windowS,
      latency_ms_p50: percentile(latencies, 50),
      latency_ms_p95: percentile(latencies, 95),
      latency_ms_max: latencies[latencies.length - 1] ?? Number.NaN,
      cpu_cores_bench_process: (cpu.user + cpu.system) / 1e6 / windowS,
      cpu_cores_dynamodb_local: cores(java0, java1),
      cpu_cores_moto: cores(moto0, moto1),
      receipts_checked: sample.length,
      stack_start_s: stackStartS,
    };
  } catch (error) {
    if (stackLines.length > 0)
      log(`  local stack output (last lines):\n    ${stackLines.slice(-20).join('\n    ')}`);
    throw error;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await cleanup();
  }
}

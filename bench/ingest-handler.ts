/**
 * In-process half of the ingest benchmark: the real `POST /v1/events` middy handler over in-memory
 * adapters, and the canonicalize+hash floor over the same request bodies, timed side by side.
 *
 * Handler: `createHandler` from functions/ingest-events.ts with an `InMemoryLedgerStore`, a
 * `KeyFileSigner` (ECDSA P-256, in memory), a `GenesisGuard` over an `InMemorySealRegistry`, the real
 * clock and `randomBatchId`, invoked with API Gateway REST proxy events (JSON body string) and a fresh
 * Lambda context per invocation, one invocation at a time, as one Lambda instance runs them.
 *
 * Floor: for each body, `JSON.parse`, then for each event its stored form (`v`, `receivedAt` and `channel`
 * added in place, with the values the handler gives them) through the product's `canonicalBytes`, then
 * `hashLeaf`. Nothing else.
 */
import { hash } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import canonicalizePackage from 'canonicalize';
import { createHandler } from '../functions/ingest-events.ts';
import { randomBatchId } from '../functions/ingest-runtime.ts';
import { lambdaContext } from '../local/lambda-context.ts';
import { canonicalBytes } from '../shared/canonical/jcs.ts';
import type { KeyFileSigner } from '../shared/crypto/key-file-signer.ts';
import { loadPublicKey, TrustedKeySet } from '../shared/crypto/keys.ts';
import { GenesisGuard } from '../shared/ingest/genesis-guard.ts';
import { checkReceipt } from '../shared/ledger/batch-receipts.ts';
import type { Receipt } from '../shared/ledger/formats.ts';
import type { Period } from '../shared/ledger/period.ts';
import { hashLeaf } from '../shared/merkle/rfc6962.ts';
import type {
  BatchSeal,
  LedgerEvent,
  LedgerStore,
  PeriodBatchRow,
  PeriodRow,
  SecuritySignal,
  StoredEvent,
  StoredEventId,
} from '../shared/ports/ledger-store.ts';
import { InMemoryLedgerStore } from '../shared/storage/in-memory-ledger-store.ts';
import { InMemorySealRegistry } from '../shared/storage/in-memory-seal-registry.ts';
import { type ApiGatewayEvents, AppEvents } from './app-events.ts';

export const BENCH_INGEST_LEDGER = 'bench-ingest';

/** CPU (user + system, all threads of the process) and wall seconds of one timed section. */
export interface Sample {
  readonly cpu: number;
  readonly wall: number;
}

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
type Canonicalize = (value: unknown) => Uint8Array;

const gc = (globalThis as { gc?: () => void }).gc;

/** True when the process runs with --expose-gc, so that each timed section starts after a full GC. */
export const HAS_GC = gc !== undefined;

/** Times `fn` by process CPU time and wall time. */
export async function timed<T>(fn: () => T | Promise<T>): Promise<{ result: T; sample: Sample }> {
  gc?.();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const result = await fn();
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return { result, sample: { cpu: (cpu.user + cpu.system) / 1e6, wall } };
}

/** The product's canonicalizer, and the `canonicalize` npm package (RFC 8785) as a cross-check. */
export const CANONICALIZERS: Readonly<Record<'ours' | 'package', Canonicalize>> = {
  ours: canonicalBytes,
  package: (value) => Buffer.from(canonicalizePackage(value) ?? ''),
};

/**
 * The floor's work for one parsed event: add the server members (in place, the cheapest way; the parsed
 * object is not used again) and canonicalize. RFC 8785 sorts members, so where they are added is moot.
 */
export function storedForm(
  event: Record<string, unknown>,
  receivedAt: string,
  canonicalize: Canonicalize,
): Uint8Array {
  event['v'] = 1;
  event['receivedAt'] = receivedAt;
  event['channel'] = 'api';
  return canonicalize(event);
}

/**
 * The floor over request bodies: parse, add the server members, canonicalize, leaf-hash. Returns the
 * leaf hashes' first bytes folded together so that no work can be optimized away.
 */
export function floor(
  bodies: readonly string[],
  receivedAt: () => string,
  canonicalize: Canonicalize = canonicalBytes,
): number {
  let sink = 0;
  for (const body of bodies) {
    const at = receivedAt();
    const { events } = JSON.parse(body) as { events: Record<string, unknown>[] };
    for (const event of events) sink ^= hashLeaf(storedForm(event, at, canonicalize))[0]!;
  }
  return sink;
}

/** What the handler logged: it must log nothing on the success path. */
export class RecordingLogger {
  readonly lines: string[] = [];
  readonly error = (...args: unknown[]): void => void this.lines.push(`error ${String(args[0])}`);
  readonly warn = (...args: unknown[]): void => void this.lines.push(`warn ${String(args[0])}`);
  readonly info = (...args: unknown[]): void => void this.lines.push(`info ${String(args[0])}`);
}

/**
 * The ledger store the handler is given: a fresh `InMemoryLedgerStore` for each request. A deployed
 * function keeps nothing of what it wrote to DynamoDB; one in-memory store for a whole repetition would
 * keep every stored event's copies alive and bill the garbage collector's work on them to the handler.
 * `nextRequest()`, called between invocations, keeps the count and starts a new store.
 */
export class PerRequestStore implements LedgerStore {
  #current = new InMemoryLedgerStore();
  #earlier = 0;

  /** The store of the current (or last) request. */
  get current(): InMemoryLedgerStore {
    return this.#current;
  }

  /** Events stored over all requests since the repetition started (`startRepetition`). */
  get eventCount(): number {
    return this.#earlier + this.#current.eventCount;
  }

  /** Starts counting again from zero, with a fresh store: one handler serves every repetition. */
  startRepetition(): void {
    this.#earlier = 0;
    this.#current = new InMemoryLedgerStore();
  }

  nextRequest(): void {
    this.#earlier += this.#current.eventCount;
    this.#current = new InMemoryLedgerStore();
  }

  findEventIds(ledger: string, ids: readonly string[]): Promise<Map<string, StoredEventId>> {
    return this.#current.findEventIds(ledger, ids);
  }

  putBatch(batch: BatchSeal, events: readonly LedgerEvent[], guard?: () => void): Promise<void> {
    return this.#current.putBatch(batch, events, guard);
  }

  putAbandon(
    batch: BatchSeal,
    period: Period,
    abandon: { statement: string; signature: Uint8Array },
  ): Promise<void> {
    return this.#current.putAbandon(batch, period, abandon);
  }

  recordSecuritySignal(signal: SecuritySignal): Promise<void> {
    return this.#current.recordSecuritySignal(signal);
  }

  getEvent(ledger: string, id: string): Promise<StoredEvent | undefined> {
    return this.#current.getEvent(ledger, id);
  }

  readPeriod(ledger: string, period: Period): AsyncIterable<PeriodRow> {
    return this.#current.readPeriod(ledger, period);
  }

  readPeriodBatches(ledger: string, period: Period): AsyncIterable<PeriodBatchRow> {
    return this.#current.readPeriodBatches(ledger, period);
  }

  closePeriod(ledger: string, period: Period): Promise<void> {
    return this.#current.closePeriod(ledger, period);
  }
}

/** A handler over fresh in-memory adapters (a store per request, a new genesis registry), sharing one signer. */
export function inMemoryHandler(
  signer: KeyFileSigner,
  logger: RecordingLogger,
): { handler: Handler; store: PerRequestStore } {
  const store = new PerRequestStore();
  const handler = createHandler({
    ledger: BENCH_INGEST_LEDGER,
    logger,
    ingest: {
      store,
      signer,
      clock: () => new Date(),
      periodSeconds: 3600,
      graceSeconds: 60,
      batchIdFactory: randomBatchId,
      genesis: new GenesisGuard(new InMemorySealRegistry()),
    },
  });
  return { handler, store };
}

/** One repetition's input: request bodies and the invocations that carry them. */
export interface Workload {
  readonly bodies: string[];
  readonly events: APIGatewayProxyEvent[];
  readonly contexts: Context[];
}

export function workload(
  app: AppEvents,
  gateway: ApiGatewayEvents,
  requests: number,
  batch: number,
): Workload {
  const bodies = Array.from({ length: requests }, () => app.body(batch));
  return {
    bodies,
    events: bodies.map((body) => gateway.post(body)),
    contexts: bodies.map(() =>
      lambdaContext({
        functionName: 'auditseal-ingest-events',
        region: 'eu-west-1',
        accountId: '123456789012',
        timeoutMs: 29_000,
      }),
    ),
  };
}

/** Invokes the handler once per request, one at a time, each with a fresh store. */
export async function invokeAll(
  handler: Handler,
  store: PerRequestStore,
  work: Workload,
): Promise<APIGatewayProxyResult[]> {
  const responses: APIGatewayProxyResult[] = [];
  for (let i = 0; i < work.events.length; i++) {
    store.nextRequest();
    responses.push(await handler(work.events[i]!, work.contexts[i]!));
  }
  return responses;
}

/** Throws unless every response is a 201 that stored every event of its request, and nothing was logged. */
export function assertAllStored(
  responses: readonly APIGatewayProxyResult[],
  work: Workload,
  store: PerRequestStore,
  logger: RecordingLogger,
): void {
  let expected = 0;
  responses.forEach((response, i) => {
    const sent = (JSON.parse(work.bodies[i]!) as { events: unknown[] }).events.length;
    const body = JSON.parse(response.body) as { stored?: unknown[]; receipts?: unknown[] };
    if (response.statusCode !== 201 || body.stored?.length !== sent || body.receipts?.length !== sent) {
      throw new Error(
        `request ${i}: expected 201 with ${sent} stored, got ${response.statusCode} ${response.body.slice(0, 300)}`,
      );
    }
    expected += sent;
  });
  if (store.eventCount !== expected)
    throw new Error(`store holds ${store.eventCount} events, expected ${expected}`);
  if (logger.lines.length > 0) throw new Error(`the handler logged: ${logger.lines.slice(0, 3).join('; ')}`);
}

/**
 * Before anything is timed: one request of `batch` events through the handler. Every receipt must verify
 * offline, and the floor, given the receivedAt the handler assigned, must produce exactly the stored
 * canonical bytes and the receipts' leaf hashes (with our canonicalizer and with the npm package).
 */
export async function checkHandlerAndFloor(
  signer: KeyFileSigner,
  gateway: ApiGatewayEvents,
  batch: number,
): Promise<void> {
  const app = new AppEvents(11);
  const logger = new RecordingLogger();
  const { handler, store } = inMemoryHandler(signer, logger);
  const work = workload(app, gateway, 1, batch);
  const responses = await invokeAll(handler, store, work);
  assertAllStored(responses, work, store, logger);
  const keys = new TrustedKeySet([loadPublicKey(await signer.publicKeyPem())]);
  const receipts = (JSON.parse(responses[0]!.body) as { receipts: Receipt[] }).receipts;
  const parsed = Object.entries(CANONICALIZERS).map(([name, canonicalize]) => ({
    name,
    canonicalize,
    events: (JSON.parse(work.bodies[0]!) as { events: Record<string, unknown>[] }).events,
  }));
  for (const [i, receipt] of receipts.entries()) {
    const check = checkReceipt(receipt, keys);
    if (!check.ok) throw new Error(`receipt ${i} does not verify: ${check.code} ${check.message}`);
    const stored = await store.getEvent(BENCH_INGEST_LEDGER, receipt.eventId);
    if (stored === undefined) throw new Error(`event ${receipt.eventId} is not stored`);
    for (const { name, canonicalize, events } of parsed) {
      const bytes = storedForm(events[i]!, stored.receivedAt, canonicalize);
      if (!Buffer.from(bytes).equals(stored.bytes)) {
        throw new Error(`floor (${name}) bytes differ from the stored bytes of ${receipt.eventId}`);
      }
      if (hashLeaf(bytes).toString('hex') !== receipt.leafHash) {
        throw new Error(`floor (${name}) leaf hash differs from the receipt of ${receipt.eventId}`);
      }
    }
  }
}

/** Median canonical size, in bytes, of the stored form of a sample of benchmark events, and of their input JSON. */
export function eventSizes(): { stored: number; input: number } {
  const sample = new AppEvents(13).events(1000);
  const at = new Date().toISOString();
  const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1]!;
  return {
    stored: median(sample.map((e) => canonicalBytes({ ...e, v: 1, receivedAt: at, channel: 'api' }).length)),
    input: median(sample.map((e) => Buffer.byteLength(JSON.stringify(e)))),
  };
}

/** CPU seconds of one ECDSA P-256 Sign of a batch statement-sized message (best of `reps` rounds). */
export async function signCost(signer: KeyFileSigner, rounds: number, reps: number): Promise<Sample> {
  const statement = Buffer.from(hash('sha256', 'statement', 'hex').repeat(6));
  let best: Sample | undefined;
  for (let r = 0; r < reps; r++) {
    const { sample } = await timed(async () => {
      for (let i = 0; i < rounds; i++) await signer.sign(statement);
    });
    const per = { cpu: sample.cpu / rounds, wall: sample.wall / rounds };
    if (best === undefined || per.cpu < best.cpu) best = per;
  }
  return best!;
}

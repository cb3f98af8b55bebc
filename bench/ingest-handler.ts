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

/** How long a timed section waits after the full collection before it starts (see `timed`). */
const SETTLE_MS = 100;

/** True when the process runs with --expose-gc, so that each timed section starts after a full GC. */
export const HAS_GC = gc !== undefined;

/**
 * Times `fn` by process CPU time and wall time. With --expose-gc, a full collection comes first, then a
 * pause of `SETTLE_MS`: V8 finishes such a collection's sweeping on background threads, and process CPU time
 * counts every thread, so without the pause the section timed next paid for the garbage of the one before.
 */
export async function timed<T>(fn: () => T | Promise<T>): Promise<{ result: T; sample: Sample }> {
  if (gc !== undefined) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  }
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

/**
 * What a repetition's invocations answered: every status, and the whole response of the first and the last
 * request (`kept`), which `assertAllStored` checks in full after the timed section.
 *
 * Only those two are kept. A Lambda instance drops each response once the runtime has sent it; keeping all
 * of a repetition's responses (1.2 MB each at batch 500) grew the old generation by 24 MB per repetition,
 * which started V8's incremental marking inside the timed section: slower young-generation collections and
 * marking threads, billed to the handler (GC pauses 2.3–2.5 µs per event against 0.6–0.9 without).
 */
export interface Invocations {
  readonly statuses: number[];
  readonly kept: ReadonlyMap<number, APIGatewayProxyResult>;
}

/**
 * Invokes the handler once per request, one at a time, each with a fresh store and an event object of its
 * own: the JSON body middleware replaces the event's `body` with the parsed request, so an event object the
 * benchmark keeps would keep every parsed request of the repetition alive, which Lambda, handing each
 * invocation a new event, does not. The shallow copy takes about a microsecond per request.
 */
export async function invokeAll(
  handler: Handler,
  store: PerRequestStore,
  work: Workload,
): Promise<Invocations> {
  const statuses: number[] = [];
  const kept = new Map<number, APIGatewayProxyResult>();
  const last = work.events.length - 1;
  for (let i = 0; i <= last; i++) {
    store.nextRequest();
    const response = await handler({ ...work.events[i]! }, work.contexts[i]!);
    statuses.push(response.statusCode);
    if (i === 0 || i === last) kept.set(i, response);
  }
  return { statuses, kept };
}

/**
 * Throws unless every request was answered 201, the kept responses list every event of their request as
 * stored with a receipt each, the stores hold exactly the events sent (so every event of every request was
 * stored), and nothing was logged.
 */
export function assertAllStored(
  invocations: Invocations,
  work: Workload,
  store: PerRequestStore,
  logger: RecordingLogger,
): void {
  let expected = 0;
  invocations.statuses.forEach((status, i) => {
    const sent = (JSON.parse(work.bodies[i]!) as { events: unknown[] }).events.length;
    const response = invocations.kept.get(i);
    if (status !== 201) {
      throw new Error(`request ${i}: expected 201, got ${status} ${response?.body.slice(0, 300) ?? ''}`);
    }
    if (response !== undefined) {
      const body = JSON.parse(response.body) as { stored?: unknown[]; receipts?: unknown[] };
      if (body.stored?.length !== sent || body.receipts?.length !== sent) {
        throw new Error(`request ${i}: expected ${sent} stored, got ${response.body.slice(0, 300)}`);
      }
    }
    expected += sent;
  });
  if (invocations.statuses.length !== work.events.length) {
    throw new Error(`${invocations.statuses.length} answers for ${work.events.length} requests`);
  }
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
  const invocations = await invokeAll(handler, store, work);
  assertAllStored(invocations, work, store, logger);
  const keys = new TrustedKeySet([loadPublicKey(await signer.publicKeyPem())]);
  const receipts = (JSON.parse(invocations.kept.get(0)!.body) as { receipts: Receipt[] }).receipts;
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

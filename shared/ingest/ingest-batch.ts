/**
 * The ingest core behind `POST /v1/events` and the CloudTrail forwarder (G1, G2, G6). Rules and the
 * reasons for them are in docs/API.md ("Idempotency, conflicts and partial writes").
 *
 * 1. Validate every item before anything else; one invalid item rejects the request (400), nothing written.
 * 2. One `receivedAt` for the batch; canonicalize and hash every event.
 * 3. Look the ids up. Same id + same input → the stored receipt ("duplicate"). Same id + different
 *    input → 409, a security signal, and nothing from the request is written.
 * 4. Sign the new events once (one batch tree), check that their period is still open, write them.
 *    A conditional failure at write time (a concurrent writer) is re-checked id by id, so the answer
 *    always says exactly which events this request stored.
 */
import { hash } from 'node:crypto';
import { canonicalBytes } from '../canonical/jcs.ts';
import { SigningError } from '../crypto/errors.ts';
import { DETECTION_ID_PREFIX } from '../detect/alert-ids.ts';
import { type AuditEventInput, parseAuditEventInput } from '../events/audit-event.ts';
import { CLOUDTRAIL_ID_PREFIX } from '../events/cloudtrail.ts';
import { EventValidationError } from '../events/errors.ts';
import { KUBERNETES_ID_PREFIX } from '../events/kubernetes.ts';
import { batchSealOf, signBatch } from '../ledger/batch-receipts.ts';
import { ABANDON_STATEMENT_TYPE, type Receipt } from '../ledger/formats.ts';
import { assertLedgerId } from '../ledger/object-keys.ts';
import { assertPeriodSeconds, type Period, periodEndMs, periodOf } from '../ledger/period.ts';
import {
  type BatchSeal,
  EventIdsTakenError,
  type IdConflictEvidence,
  type LedgerEvent,
  type LedgerStore,
  LedgerStoreError,
  LedgerUnavailableError,
  LedgerWriteError,
  PeriodClosedError,
  type StoredEventId,
  WriteStoppedError,
} from '../ports/ledger-store.ts';
import type { Signer } from '../ports/signer.ts';
import { PROFILE_VERSION_ID_PREFIX, profileEventProblem } from '../profiles/ledger-event.ts';
import { type ProfileVersion, parseVersionDocument } from '../profiles/version.ts';
import {
  type CanonicalEvent,
  canonicalizeCheckedAppEvent,
  canonicalizeForIngest,
} from './canonical-event.ts';
import {
  BeforeGenesisError,
  EmptyBatchError,
  IdConflictError,
  IngestError,
  IngestWriteError,
  InvalidEventsError,
  type ItemError,
  PeriodClosingError,
  TooManyEventsError,
} from './errors.ts';

/** Most events in one request (and in one signed batch). */
export const MAX_BATCH_EVENTS = 500;
/** Default time before `periodEnd + grace` after which no write is started (see `IngestDeps`). */
export const DEFAULT_WRITE_MARGIN_MS = 5_000;

/**
 * How a batch arrived. `import` events never go through this path; `read` records reads of the ledger (G7);
 * `detection` carries the detection function's alerts; `profile` carries profile versions (G8), with a
 * clock that reads the versions' `recordedAt`.
 */
export type IngestChannel = 'api' | 'cloudtrail' | 'kubernetes' | 'detection' | 'read' | 'profile';

/** Ids of read records (G7): only the read recorder may use them, so no writer can forge or pre-empt one. */
export const READ_ID_PREFIX = 'read:';

export interface IngestRequest {
  readonly ledger: string;
  /** The raw items: each is validated here, whatever the caller did before. */
  readonly items: readonly unknown[];
  readonly channel: IngestChannel;
  /** Who sent the request (IAM principal ARN or the forwarder's identity), for security signals. */
  readonly principal: string;
  readonly requestId: string;
}

export interface IngestDeps {
  readonly store: LedgerStore;
  readonly signer: Signer;
  readonly clock: () => Date;
  readonly periodSeconds: number;
  /**
   * The sealer seals a period once `periodEnd + graceSeconds` has passed. Invariant (docs/API.md):
   * the ingest function's timeout is shorter than the grace, and no write is started later than
   * `periodEnd + graceSeconds - writeMarginMs`.
   */
  readonly graceSeconds: number;
  readonly writeMarginMs?: number;
  /** A fresh batch id, 1–64 chars of `A-Z a-z 0-9 _ -`. */
  readonly batchIdFactory: () => string;
  /**
   * Makes sure the ledger's first period (its genesis) is recorded before any event is written, so the
   * sealer can never start the chain after an event's period. Usually a `GenesisGuard`.
   */
  readonly genesis: { ensure(ledger: string, candidate: Period): Promise<Period> };
  /**
   * Epoch ms after which no write may start (the invocation's own deadline minus a safety margin), so a
   * request that ran out of time answers 503 instead of acknowledging late. Optional.
   */
  readonly deadlineMs?: number;
}

/** A successful answer: 201 if this request stored at least one event, 200 if all were duplicates. */
export interface IngestResult {
  readonly status: 200 | 201;
  /** One receipt per item, in request order (a duplicate gets its original receipt). */
  readonly receipts: readonly Receipt[];
  /** Ids this request stored, in request order. */
  readonly stored: readonly string[];
  /** Ids that were already stored with the same content, in request order. */
  readonly duplicates: readonly string[];
}

interface PreparedEvent {
  readonly input: AuditEventInput;
  readonly canonical: Pick<CanonicalEvent, 'bytes' | 'leafHash'>;
  readonly inputSha256: string;
  /** The event's time, normalized (`normalizeTimestamp`): what the ledger indexes it by. */
  readonly eventTime: string;
  /** The version a `profile` event carries: the store writes its items with the event. */
  readonly profileVersion?: ProfileVersion;
}

/** Validates, signs and stores one batch. Throws `IngestError` subclasses for every answer but 2xx. */
export async function ingestBatch(request: IngestRequest, deps: IngestDeps): Promise<IngestResult> {
  assertDeps(request, deps);
  const count = request.items.length;
  if (count === 0) throw new EmptyBatchError();
  if (count > MAX_BATCH_EVENTS) throw new TooManyEventsError(count, MAX_BATCH_EVENTS);

  const now = deps.clock();
  const receivedAt = millisecondTime(now);
  const period = periodOf(now.getTime(), deps.periodSeconds);
  const events = prepareEvents(request.items, request.channel, receivedAt);
  const ids = events.map((e) => e.input.id);

  const genesis = await deps.genesis.ensure(request.ledger, period);
  if (period.startMs < genesis.startMs) throw new BeforeGenesisError();

  const known = await deps.store.findEventIds(request.ledger, ids);
  const conflicts: IdConflictEvidence[] = [];
  const fresh: PreparedEvent[] = [];
  for (const event of events) {
    const existing = known.get(event.input.id);
    if (existing === undefined) fresh.push(event);
    else if (existing.inputSha256 !== event.inputSha256)
      conflicts.push(evidence(existing, event.inputSha256));
  }
  if (conflicts.length > 0) {
    await recordConflicts(request, deps, conflicts);
    throw new IdConflictError(
      conflicts.map((c) => c.eventId),
      [],
      [],
    );
  }
  if (fresh.length === 0) {
    return { status: 200, receipts: ids.map((id) => known.get(id)!.receipt), stored: [], duplicates: ids };
  }

  const writer = new BatchWriter(request, deps, period, ids);
  writer.assertPeriodOpen();
  const records = await signFresh(request.ledger, receivedAt, period, fresh, deps, request.channel);
  let outcome: WriteOutcome;
  try {
    outcome = await writer.write(records);
  } finally {
    await abandonUnstored(request.ledger, period, records, writer, deps);
  }
  if (outcome.conflicts.length > 0) {
    await recordConflicts(request, deps, outcome.conflicts);
    throw new IdConflictError(
      outcome.conflicts.map((c) => c.eventId),
      writer.storedIds(),
      writer.storedReceipts(),
    );
  }

  const stored: string[] = [];
  const duplicates: string[] = [];
  const receipts = ids.map((id) => {
    const own = writer.receiptIfStored(id);
    if (own) {
      stored.push(id);
      return own;
    }
    duplicates.push(id);
    return (known.get(id) ?? outcome.raced.get(id)!).receipt;
  });
  return { status: stored.length > 0 ? 201 : 200, receipts, stored, duplicates };
}

const YEAR_10000_MS = Date.UTC(10_000, 0, 1);

/** `YYYY-MM-DDTHH:MM:SS.sssZ` of a clock reading. */
function millisecondTime(now: Date): string {
  const ms = now.getTime();
  if (!Number.isFinite(ms) || ms < 0 || ms >= YEAR_10000_MS)
    throw new RangeError('clock returned an invalid time');
  return now.toISOString();
}

function assertDeps(request: IngestRequest, deps: IngestDeps): void {
  assertLedgerId(request.ledger);
  assertPeriodSeconds(deps.periodSeconds);
  const margin = deps.writeMarginMs ?? DEFAULT_WRITE_MARGIN_MS;
  if (!Number.isInteger(deps.graceSeconds) || deps.graceSeconds * 1000 <= margin || margin < 0) {
    throw new RangeError(`graceSeconds (${deps.graceSeconds}) must exceed the write margin (${margin} ms)`);
  }
}

/** Validates every item (nothing is written unless all pass) and canonicalizes it. */
function prepareEvents(
  items: readonly unknown[],
  channel: IngestChannel,
  receivedAt: string,
): PreparedEvent[] {
  const errors: ItemError[] = [];
  const prepared: PreparedEvent[] = [];
  const firstIndexById = new Map<string, number>();
  items.forEach((item, index) => {
    try {
      // The common app event is checked and canonicalized in one walk; anything else, and any doubt, takes
      // the general path below, which reports exactly what it always reported (canonicalizeCheckedAppEvent).
      const checked = canonicalizeCheckedAppEvent(item, receivedAt, channel);
      const input = checked?.input ?? parseAuditEventInput(item);
      const reserved = reservedIdMessage(input.id, channel);
      if (reserved !== undefined) {
        errors.push({ index, code: 'RESERVED_ID', path: '$.id', message: reserved });
        return;
      }
      const mismatch = profileMemberProblem(input, channel, receivedAt);
      if (mismatch !== undefined) {
        errors.push({ index, code: 'SCHEMA_VIOLATION', ...mismatch });
        return;
      }
      const earlier = firstIndexById.get(input.id);
      if (earlier !== undefined) {
        errors.push({
          index,
          code: 'DUPLICATE_ID',
          path: '$.id',
          message: `id is also used by item ${earlier}`,
        });
        return;
      }
      firstIndexById.set(input.id, index);
      // The stored form and the input's idempotency hash from one canonicalization.
      const canonical = checked?.canonical ?? canonicalizeForIngest(input, receivedAt, channel);
      const { inputSha256, eventTime } = canonical;
      prepared.push(
        channel === 'profile'
          ? {
              input,
              canonical,
              inputSha256,
              eventTime,
              profileVersion: parseVersionDocument(input.profileVersion),
            }
          : { input, canonical, inputSha256, eventTime },
      );
    } catch (error) {
      if (!(error instanceof EventValidationError)) throw error;
      errors.push({ index, code: error.code, path: error.path, message: error.message });
    }
  });
  if (errors.length > 0) throw new InvalidEventsError(errors, items.length);
  return prepared;
}

/** Id prefixes that belong to one channel, and what that channel is called in messages. */
const RESERVED_ID_PREFIXES: readonly {
  readonly prefix: string;
  readonly channel: IngestChannel;
  readonly what: string;
}[] = [
  { prefix: CLOUDTRAIL_ID_PREFIX, channel: 'cloudtrail', what: 'CloudTrail events' },
  { prefix: KUBERNETES_ID_PREFIX, channel: 'kubernetes', what: 'Kubernetes audit events' },
  { prefix: DETECTION_ID_PREFIX, channel: 'detection', what: 'detection alerts' },
  { prefix: READ_ID_PREFIX, channel: 'read', what: 'read records' },
  { prefix: PROFILE_VERSION_ID_PREFIX, channel: 'profile', what: 'profile versions' },
];

/**
 * `ct:`, `k8s:`, `det:`, `read:` and `pv:` ids belong to the CloudTrail forwarder, the Kubernetes forwarder,
 * the detection function, the read recorder and the profile write path, so that an API writer cannot
 * pre-empt (or collide with) a source record's id, forge an alert, a read record or a profile version;
 * each of those channels only ever produces its own prefix.
 */
function reservedIdMessage(id: string, channel: IngestChannel): string | undefined {
  for (const reserved of RESERVED_ID_PREFIXES) {
    const owned = id.startsWith(reserved.prefix);
    if (owned && channel !== reserved.channel) {
      return `ids starting with "${reserved.prefix}" are reserved for ${reserved.what}`;
    }
    if (!owned && channel === reserved.channel) {
      return `${reserved.what} must have ids starting with "${reserved.prefix}"`;
    }
  }
  return undefined;
}

/**
 * Only channel `profile` carries a `profileVersion`, and each of its events must be the event of the version
 * it carries, stored at the version's `recordedAt` (docs/PROFILES.md, "Versions in the ledger").
 */
function profileMemberProblem(
  input: AuditEventInput,
  channel: IngestChannel,
  receivedAt: string,
): { path: string; message: string } | undefined {
  if (channel !== 'profile') {
    return input.profileVersion === undefined
      ? undefined
      : { path: '$.profileVersion', message: 'only profile versions may carry a profileVersion' };
  }
  return profileEventProblem({ ...input, receivedAt });
}

function evidence(existing: StoredEventId, attemptedInputSha256: string): IdConflictEvidence {
  return { eventId: existing.id, storedInputSha256: existing.inputSha256, attemptedInputSha256 };
}

async function recordConflicts(
  request: IngestRequest,
  deps: IngestDeps,
  conflicts: readonly IdConflictEvidence[],
): Promise<void> {
  await deps.store.recordSecuritySignal({
    ledger: request.ledger,
    kind: 'ID_CONFLICT',
    at: millisecondTime(deps.clock()),
    principal: request.principal,
    requestId: request.requestId,
    channel: request.channel,
    conflicts,
  });
}

/** One Sign for all new events: their batch tree, in request order. */
async function signFresh(
  ledger: string,
  receivedAt: string,
  period: Period,
  fresh: readonly PreparedEvent[],
  deps: IngestDeps,
  channel: IngestChannel,
): Promise<{ seal: BatchSeal; events: LedgerEvent[] }> {
  const batchId = deps.batchIdFactory();
  const leaves = fresh.map((e) => ({ eventId: e.input.id, receivedAt, leafHash: e.canonical.leafHash }));
  let signed: Awaited<ReturnType<typeof signBatch>>;
  try {
    signed = await signBatch({ ledger, batchId, leaves }, deps.signer);
  } catch (error) {
    if (
      error instanceof SigningError &&
      (error.code === 'SIGNING_FAILED' || error.code === 'PUBLIC_KEY_UNAVAILABLE')
    ) {
      throw new IngestError(
        503,
        'SIGNER_UNAVAILABLE',
        'the signing service is unavailable; retry the request',
        {
          cause: error,
        },
      );
    }
    throw error;
  }
  // Every leaf has the request's receivedAt, so the statement's receivedFrom is it.
  const seal = batchSealOf({ ledger, batchId, leaves }, signed);
  const events = fresh.map(
    (e, i): LedgerEvent => ({
      id: e.input.id,
      receivedAt,
      period,
      bytes: e.canonical.bytes,
      leafHash: e.canonical.leafHash,
      batchId,
      inputSha256: e.inputSha256,
      receipt: signed.receipts[i]!,
      index: {
        actorId: e.input.actor.id,
        action: e.input.action,
        outcome: e.input.outcome.result,
        ...(e.input.resource ? { resourceId: e.input.resource.id } : {}),
        channel,
        eventTime: e.eventTime,
      },
      ...(e.profileVersion ? { profileVersion: e.profileVersion } : {}),
    }),
  );
  return { seal, events };
}

/**
 * When a request ends without storing some leaves of its signed batch (an id conflict or race, the period
 * closing, a failed write), signs an abandon statement for them and stores it beside the batch, so the
 * sealer and the verifier know their absence is explained (FORMAT.md §8). Best effort, and fail-safe: if
 * this cannot be done (the signer or the table is down, or the process dies), the missing leaves are
 * reported by the verifier as BATCH_LEAF_MISSING, never hidden.
 */
async function abandonUnstored(
  ledger: string,
  period: Period,
  records: { seal: BatchSeal; events: LedgerEvent[] },
  writer: BatchWriter,
  deps: IngestDeps,
): Promise<void> {
  // Nothing to explain when the batch row was never written (the request stopped before its first write).
  if (!writer.writeAttempted) return;
  const abandoned = records.events.flatMap((e, i) => (writer.receiptIfStored(e.id) ? [] : [i]));
  if (abandoned.length === 0) return;
  try {
    const statement = canonicalBytes({
      type: ABANDON_STATEMENT_TYPE,
      ledger,
      batchId: records.seal.batchId,
      batchStatementSha256: hash('sha256', records.seal.statement, 'hex'),
      abandoned,
      keyId: await deps.signer.keyId(),
    });
    const signature = await deps.signer.sign(statement);
    await deps.store.putAbandon(records.seal, period, {
      statement: Buffer.from(statement).toString('utf8'),
      signature,
    });
  } catch {
    // Fail-safe by design: see the doc comment. The request's own answer is unaffected.
  }
}

interface WriteOutcome {
  /** Ids a concurrent request stored with the same content while this one was writing. */
  readonly raced: ReadonlyMap<string, StoredEventId>;
  /** Ids a concurrent request stored with different content; writing stopped when they were found. */
  readonly conflicts: readonly IdConflictEvidence[];
}

/** Writes one signed batch and keeps the exact set of ids it stored. */
class BatchWriter {
  #writeAttempted = false;
  readonly #stored = new Map<string, Receipt>();
  readonly #request: IngestRequest;
  readonly #deps: IngestDeps;
  readonly #closesAtMs: number;
  /** Request order of all ids, for answers. */
  readonly #order: readonly string[];

  constructor(request: IngestRequest, deps: IngestDeps, period: Period, order: readonly string[]) {
    this.#request = request;
    this.#deps = deps;
    this.#order = order;
    const margin = deps.writeMarginMs ?? DEFAULT_WRITE_MARGIN_MS;
    this.#closesAtMs = periodEndMs(period) + deps.graceSeconds * 1000 - margin;
  }

  /** True once a write (and so possibly the batch row) was sent to the store. */
  get writeAttempted(): boolean {
    return this.#writeAttempted;
  }

  receiptIfStored(id: string): Receipt | undefined {
    return this.#stored.get(id);
  }

  storedIds(): string[] {
    return this.#order.filter((id) => this.#stored.has(id));
  }

  storedReceipts(): Receipt[] {
    return this.storedIds().map((id) => this.#stored.get(id)!);
  }

  /** Throws `PeriodClosingError` once no write may start in this batch's period or before the deadline. */
  assertPeriodOpen(): void {
    const now = this.#deps.clock().getTime();
    if (now >= this.#closesAtMs || (this.#deps.deadlineMs !== undefined && now >= this.#deps.deadlineMs)) {
      throw new PeriodClosingError(this.storedIds(), this.storedReceipts());
    }
  }

  async write(batch: { seal: BatchSeal; events: LedgerEvent[] }): Promise<WriteOutcome> {
    const byId = new Map(batch.events.map((e) => [e.id, e]));
    const raced = new Map<string, StoredEventId>();
    const conflicts: IdConflictEvidence[] = [];
    let pending = batch.events;
    while (pending.length > 0) {
      this.assertPeriodOpen();
      this.#writeAttempted = true;
      try {
        // The store checks the period's close marker inside every transaction, and calls the guard
        // before each one: no transaction starts once the period is closing or the deadline is near.
        await this.#deps.store.putBatch(batch.seal, pending, () => this.assertPeriodOpen());
        for (const event of pending) this.#markStored(event);
        pending = [];
      } catch (error) {
        if (error instanceof LedgerStoreError) {
          for (const id of error.stored) this.#markStored(byId.get(id));
        }
        if (error instanceof PeriodClosedError || error instanceof WriteStoppedError) {
          throw new PeriodClosingError(this.storedIds(), this.storedReceipts());
        }
        if (!(error instanceof EventIdsTakenError)) throw this.#failure(error);
        const existing = await this.#resolveTaken(error);
        for (const id of error.taken) {
          const own = byId.get(id);
          if (own === undefined || this.#stored.has(id)) continue;
          const found = existing.get(id);
          if (found === undefined) {
            throw this.#failure(new LedgerWriteError(`id ${id} was reported taken but has no record`, []));
          }
          if (
            found.receipt.statement === own.receipt.statement &&
            found.receipt.leafIndex === own.receipt.leafIndex
          ) {
            // An earlier attempt of this very write committed (e.g. a retried transaction).
            this.#markStored(own);
          } else if (found.inputSha256 === own.inputSha256) {
            raced.set(id, found);
          } else {
            conflicts.push(evidence(found, own.inputSha256));
          }
        }
        const remaining = pending.filter((e) => !this.#stored.has(e.id) && !raced.has(e.id));
        if (conflicts.length > 0) break;
        if (remaining.length === pending.length) {
          throw this.#failure(new LedgerWriteError('a put-only write made no progress', []));
        }
        pending = remaining;
      }
    }
    return { raced, conflicts };
  }

  #markStored(event: LedgerEvent | undefined): void {
    if (event) this.#stored.set(event.id, event.receipt);
  }

  async #resolveTaken(error: EventIdsTakenError): Promise<ReadonlyMap<string, StoredEventId>> {
    const missing = error.taken.filter((id) => !error.existing.has(id));
    if (missing.length === 0) return error.existing;
    const reread = await this.#deps.store.findEventIds(this.#request.ledger, missing);
    return new Map([...error.existing, ...reread]);
  }

  /** The answer for a failed write: exact about what was stored; the raw error if nothing was. */
  #failure(error: unknown): unknown {
    const stored = this.storedIds();
    const receipts = this.storedReceipts();
    if (stored.length > 0) {
      return new IngestWriteError(
        503,
        'WRITE_INCOMPLETE',
        `the write was interrupted; only the ${stored.length} event(s) listed in "stored" were stored. ` +
          'Retrying the same request is safe',
        stored,
        receipts,
        { cause: error },
      );
    }
    if (error instanceof LedgerUnavailableError) {
      return new IngestWriteError(
        503,
        'STORE_UNAVAILABLE',
        'the ledger is busy; nothing was stored, retry the request',
        [],
        [],
        { cause: error },
      );
    }
    return error;
  }
}

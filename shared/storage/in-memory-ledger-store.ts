/**
 * In-memory `LedgerStore` with the DynamoDB adapter's semantics: put-only keys, a batch seal written
 * before its events (an identical seal counts as success), events committed in atomic groups of at most
 * `eventsPerGroup` with their id records, conditional failures that name every taken id with its record,
 * and period reads in (receivedAt, id) order.
 *
 * `beforeGroup` lets tests play a concurrent writer or a failing backend between groups. `tamper` plays
 * an attacker with write access to the table (rows edited, deleted, inserted or malformed).
 */
import type { Receipt } from '../ledger/formats.ts';
import { compactLabel, isoSeconds, type Period } from '../ledger/period.ts';
import {
  type BatchSeal,
  BatchSealConflictError,
  EventIdsTakenError,
  type LedgerEvent,
  type LedgerStore,
  LedgerUnavailableError,
  LedgerWriteError,
  type PeriodBatchRow,
  PeriodClosedError,
  type PeriodRow,
  type SecuritySignal,
  type StoredEvent,
  type StoredEventId,
  WriteStoppedError,
} from '../ports/ledger-store.ts';
import type { InMemoryProfileStore } from './in-memory-profile-store.ts';

/** Events per atomic group, as on DynamoDB (100 items per transaction, two items per event). */
export const DEFAULT_EVENTS_PER_GROUP = 50;

export interface InMemoryLedgerStoreOptions {
  readonly eventsPerGroup?: number;
  /**
   * Called before each group commits, with the group's events and the store. It may write into the
   * store (a concurrent writer, or an earlier attempt whose answer was lost) or throw (a failing
   * backend); a thrown error fails that group and the rest.
   */
  readonly beforeGroup?: (events: readonly LedgerEvent[], store: InMemoryLedgerStore) => void | Promise<void>;
  /**
   * Where the versions that `profile` events carry go, as on DynamoDB where they share the event's
   * transaction: a version refused by `putVersion` stores nothing of its group. (Atomic for a group with
   * one version, which is what the profile write path sends.)
   */
  readonly profiles?: InMemoryProfileStore;
}

interface EventRow extends StoredEvent {
  readonly ledger: string;
  readonly periodStartMs: number;
  readonly sortKey: string;
}

/** A row an attacker wrote that is not an event at all (a poison item). */
interface MalformedEventRow {
  readonly ledger: string;
  readonly periodStartMs: number;
  readonly sortKey: string;
  readonly reason: string;
}

/** Keeps everything in maps; every read returns copies, so callers cannot mutate stored bytes. */
export class InMemoryLedgerStore implements LedgerStore {
  readonly #events = new Map<string, EventRow>();
  readonly #seals = new Map<string, BatchSeal>();
  readonly #signals: SecuritySignal[] = [];
  readonly #closed = new Set<string>();
  readonly #malformed: MalformedEventRow[] = [];
  readonly #eventsPerGroup: number;
  readonly #beforeGroup: InMemoryLedgerStoreOptions['beforeGroup'];
  readonly #profiles: InMemoryProfileStore | undefined;
  /** Number of write calls that changed something; tests compare it to prove "nothing written". */
  writes = 0;

  constructor(options: InMemoryLedgerStoreOptions = {}) {
    this.#eventsPerGroup = options.eventsPerGroup ?? DEFAULT_EVENTS_PER_GROUP;
    this.#beforeGroup = options.beforeGroup;
    this.#profiles = options.profiles;
  }

  async findEventIds(ledger: string, ids: readonly string[]): Promise<Map<string, StoredEventId>> {
    const found = new Map<string, StoredEventId>();
    for (const id of ids) {
      const row = this.#events.get(eventKey(ledger, id));
      if (row) found.set(id, idRecordOf(row));
    }
    return found;
  }

  async putBatch(
    batch: BatchSeal,
    events: readonly LedgerEvent[],
    beforeEachTransaction?: () => void,
  ): Promise<void> {
    this.#putSeal(batch);
    const stored: string[] = [];
    for (let start = 0; start < events.length; start += this.#eventsPerGroup) {
      const group = events.slice(start, start + this.#eventsPerGroup);
      try {
        beforeEachTransaction?.();
      } catch (cause) {
        throw new WriteStoppedError(stored, { cause });
      }
      try {
        await this.#beforeGroup?.(group, this);
      } catch (cause) {
        if (stored.length === 0) throw cause;
        if (cause instanceof LedgerUnavailableError) {
          throw new LedgerUnavailableError(cause.message, stored, { cause });
        }
        throw new LedgerWriteError('write failed after a partial commit', stored, { cause });
      }
      // One pass over the group: the first event of a closed period, and the ids already taken. A batch's
      // events share one period, so its closed-period key is built once, not per event.
      let closed: LedgerEvent | undefined;
      let checkedPeriod: Period | undefined;
      const taken: string[] = [];
      for (const e of group) {
        if (e.period !== checkedPeriod) {
          if (this.#closed.has(closedKey(batch.ledger, e.period))) {
            closed = e;
            break;
          }
          checkedPeriod = e.period;
        }
        if (this.#events.has(eventKey(batch.ledger, e.id))) taken.push(e.id);
      }
      if (closed) throw new PeriodClosedError(isoSeconds(closed.period.startMs), stored);
      if (taken.length > 0) {
        throw new EventIdsTakenError(taken, await this.findEventIds(batch.ledger, taken), stored);
      }
      for (const event of group) {
        if (event.profileVersion !== undefined) await this.#profiles?.putVersion(event.profileVersion);
      }
      for (const event of group) {
        this.#insert(batch.ledger, event);
        stored.push(event.id);
      }
      this.writes++;
    }
  }

  /** Inserts events as a concurrent writer would, bypassing the seal (for race tests). */
  insertForTest(ledger: string, events: readonly LedgerEvent[]): void {
    for (const event of events) this.#insert(ledger, event);
  }

  async putAbandon(
    batch: BatchSeal,
    _period: Period,
    abandon: { statement: string; signature: Uint8Array },
  ): Promise<void> {
    const key = `${batch.ledger}#${batch.batchId}`;
    const existing = this.#seals.get(key);
    if (!existing) throw new LedgerWriteError(`no batch ${batch.batchId} to abandon leaves of`, []);
    if (existing.abandon) {
      if (existing.abandon.statement === abandon.statement) return;
      throw new BatchSealConflictError(batch.batchId);
    }
    this.#seals.set(key, {
      ...existing,
      abandon: { statement: abandon.statement, signature: Uint8Array.from(abandon.signature) },
    });
    this.writes++;
  }

  async recordSecuritySignal(signal: SecuritySignal): Promise<void> {
    this.#signals.push(structuredClone(signal));
    this.writes++;
  }

  async getEvent(ledger: string, id: string): Promise<StoredEvent | undefined> {
    const row = this.#events.get(eventKey(ledger, id));
    return row ? storedEventOf(row) : undefined;
  }

  async *readPeriod(ledger: string, period: Period): AsyncIterable<PeriodRow> {
    const pk = `EV#${ledger}#${compactLabel(period.startMs)}`;
    const rows: { sortKey: string; row: PeriodRow }[] = [];
    for (const r of this.#events.values()) {
      if (r.ledger !== ledger || r.periodStartMs !== period.startMs) continue;
      rows.push({
        sortKey: r.sortKey,
        row: {
          id: r.id,
          bytes: Uint8Array.from(r.bytes),
          receivedAt: r.receivedAt,
          batchId: r.batchId,
          item: { pk, sk: r.sortKey },
        },
      });
    }
    for (const m of this.#malformed) {
      if (m.ledger !== ledger || m.periodStartMs !== period.startMs) continue;
      rows.push({
        sortKey: m.sortKey,
        row: { malformed: true, item: { pk, sk: m.sortKey }, reason: m.reason },
      });
    }
    rows.sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
    for (const { row } of rows) yield row;
  }

  async *readPeriodBatches(ledger: string, period: Period): AsyncIterable<PeriodBatchRow> {
    const end = period.startMs + period.seconds * 1000;
    const seals = [...this.#seals.values()]
      .filter((b) => {
        const ms = Date.parse(b.receivedAt);
        return b.ledger === ledger && ms >= period.startMs && ms < end;
      })
      .sort((a, b) =>
        a.receivedAt !== b.receivedAt
          ? a.receivedAt < b.receivedAt
            ? -1
            : 1
          : a.batchId < b.batchId
            ? -1
            : 1,
      );
    for (const seal of seals) yield copySeal(seal);
  }

  async closePeriod(ledger: string, period: Period): Promise<void> {
    const key = closedKey(ledger, period);
    if (this.#closed.has(key)) return;
    this.#closed.add(key);
    this.writes++;
  }

  /** True once `closePeriod` ran for the period. */
  isClosed(ledger: string, period: Period): boolean {
    return this.#closed.has(closedKey(ledger, period));
  }

  /**
   * An attacker with write access to the table: edits an event's stored bytes, deletes an event row,
   * inserts an event row under a batch id of its choice, or inserts a row that is not an event at all.
   */
  readonly tamper = {
    editBytes: (ledger: string, id: string, bytes: Uint8Array): void => {
      const key = eventKey(ledger, id);
      const row = this.#events.get(key);
      if (!row) throw new Error(`no event ${id}`);
      this.#events.set(key, { ...row, bytes: Uint8Array.from(bytes) });
    },
    deleteEvent: (ledger: string, id: string): void => {
      if (!this.#events.delete(eventKey(ledger, id))) throw new Error(`no event ${id}`);
    },
    insertEvent: (
      ledger: string,
      row: { id: string; receivedAt: string; bytes: Uint8Array; batchId: string; period: Period },
    ): void => {
      this.#events.set(eventKey(ledger, row.id), {
        ledger,
        id: row.id,
        inputSha256: '0'.repeat(64),
        receivedAt: row.receivedAt,
        receipt: undefined as unknown as Receipt,
        bytes: Uint8Array.from(row.bytes),
        leafHash: new Uint8Array(32),
        batchId: row.batchId,
        periodStartMs: row.period.startMs,
        sortKey: `${row.receivedAt}#${row.id}`,
      });
    },
    insertMalformed: (ledger: string, period: Period, sortKey: string, reason: string): void => {
      this.#malformed.push({ ledger, periodStartMs: period.startMs, sortKey, reason });
    },
    insertBatch: (batch: BatchSeal): void => {
      this.#seals.set(`${batch.ledger}#${batch.batchId}`, copySeal(batch));
    },
  };

  /** Security signals recorded so far, oldest first. */
  securitySignals(): SecuritySignal[] {
    return structuredClone(this.#signals);
  }

  /** The stored batch seal, if any. */
  batchSeal(ledger: string, batchId: string): BatchSeal | undefined {
    const seal = this.#seals.get(`${ledger}#${batchId}`);
    return seal ? copySeal(seal) : undefined;
  }

  /** Number of stored events across ledgers. */
  get eventCount(): number {
    return this.#events.size;
  }

  /** A stable text image of everything stored, to assert that a request changed nothing. */
  snapshot(): string {
    const events = [...this.#events.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([key, row]) => `${key}:${row.sortKey}:${Buffer.from(row.bytes).toString('base64')}`);
    const seals = [...this.#seals.keys()].sort();
    return JSON.stringify({ events, seals, signals: this.#signals.length });
  }

  #putSeal(batch: BatchSeal): void {
    const key = `${batch.ledger}#${batch.batchId}`;
    const existing = this.#seals.get(key);
    if (existing === undefined) {
      this.#seals.set(key, copySeal(batch));
      this.writes++;
      return;
    }
    const identical =
      existing.statement === batch.statement &&
      Buffer.from(existing.signature).equals(batch.signature) &&
      existing.receivedAt === batch.receivedAt &&
      existing.size === batch.size;
    if (!identical) throw new BatchSealConflictError(batch.batchId);
  }

  #insert(ledger: string, event: LedgerEvent): void {
    const key = eventKey(ledger, event.id);
    if (this.#events.has(key)) throw new Error(`put-only: ${key} exists`);
    this.#events.set(key, {
      ledger,
      id: event.id,
      inputSha256: event.inputSha256,
      receivedAt: event.receivedAt,
      receipt: copyReceipt(event.receipt),
      // A copy from Node's Buffer pool (one slab for several events), as the DynamoDB client's own
      // marshalling would copy it into its request; `Uint8Array.from` would go element by element.
      bytes: Buffer.from(event.bytes),
      leafHash: new Uint8Array(event.leafHash),
      batchId: event.batchId,
      periodStartMs: event.period.startMs,
      sortKey: `${event.receivedAt}#${event.id}`,
    });
  }
}

/**
 * A deep copy of a receipt: its members are strings and numbers plus `auditPath`, an array of strings.
 * Same result as `structuredClone`, at a small fraction of its cost per event.
 */
function copyReceipt(receipt: Receipt): Receipt {
  return { ...receipt, auditPath: [...receipt.auditPath] };
}

function copySeal(seal: BatchSeal): BatchSeal {
  return {
    ...seal,
    ...(seal.abandon
      ? { abandon: { statement: seal.abandon.statement, signature: Uint8Array.from(seal.abandon.signature) } }
      : {}),
    signature: new Uint8Array(seal.signature),
    // `new Uint8Array(typedArray)` copies in one move; `Uint8Array.from` goes element by element.
    leaves: seal.leaves.map((l) => ({ ...l, leafHash: new Uint8Array(l.leafHash) })),
  };
}

function closedKey(ledger: string, period: Period): string {
  return `${ledger}\u0000${period.startMs}\u0000${period.seconds}`;
}

function eventKey(ledger: string, id: string): string {
  return `${ledger}\u0000${id}`;
}

function idRecordOf(row: EventRow): StoredEventId {
  return {
    id: row.id,
    inputSha256: row.inputSha256,
    receivedAt: row.receivedAt,
    receipt: copyReceipt(row.receipt),
  };
}

function storedEventOf(row: EventRow): StoredEvent {
  return {
    ...idRecordOf(row),
    bytes: Uint8Array.from(row.bytes),
    leafHash: Uint8Array.from(row.leafHash),
    batchId: row.batchId,
  };
}

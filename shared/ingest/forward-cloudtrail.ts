/**
 * The CloudTrail forwarder's core: EventBridge envelopes (delivered through SQS) to the ingest core.
 *
 * - Each message body is mapped from its text with `fromEventBridgeEnvelope`, which parses it without
 *   loss and keeps the record's own text verbatim. A message that cannot be mapped is rejected with its
 *   reason and dropped: redelivering it would fail the same way.
 * - EventBridge delivers at least once, so one invocation can hold the same event twice. Identical
 *   copies share one ingest; a copy with the same id but different content is ingested in a later
 *   round, where the core answers it as a conflict (409, security signal) and it is dropped.
 * - All mapped events go through `ingestBatch` together (one Sign per 500 events); messages whose write
 *   failed in a way a retry can fix are returned as failures, for SQS to redeliver.
 */
import { createHash } from 'node:crypto';
import { canonicalBytes } from '../canonical/jcs.ts';
import type { AuditEventInput } from '../events/audit-event.ts';
import { fromEventBridgeEnvelope } from '../events/cloudtrail.ts';
import { CloudTrailMappingError, EventValidationError } from '../events/errors.ts';
import { IdConflictError, IngestWriteError, InvalidEventsError } from './errors.ts';
import { type IngestDeps, ingestBatch, MAX_BATCH_EVENTS } from './ingest-batch.ts';

/** One queued message: its id (for partial batch failures) and its body, an EventBridge envelope. */
export interface QueuedEnvelope {
  readonly messageId: string;
  readonly body: string;
}

/** Why a message was dropped. `reason` is a `CloudTrailRejectReason`, an event error code or `ID_CONFLICT`. */
export interface Rejection {
  readonly messageId: string;
  readonly reason: string;
  readonly path: string;
  readonly message: string;
}

export interface ForwardOutcome {
  /** Messages whose event this invocation stored. */
  readonly stored: readonly string[];
  /** Messages whose event was already stored with the same content. */
  readonly duplicates: readonly string[];
  /** Messages dropped for good, with the reason. */
  readonly rejected: readonly Rejection[];
  /** Messages to redeliver: their write failed and a retry can succeed. */
  readonly failed: readonly string[];
  /** The events stored or already stored, with their messages, in delivery order (profile derivation). */
  readonly accepted: readonly AcceptedEvent[];
}

/** An event in the ledger after this delivery (stored now or before), and the messages that carried it. */
export interface AcceptedEvent {
  readonly input: AuditEventInput;
  readonly messageIds: readonly string[];
}

/** Told about every drop and every failed write, for logging; never given message bodies. */
export interface ForwardObserver {
  rejected(rejection: Rejection): void;
  failed(error: unknown, messageIds: readonly string[]): void;
}

export interface ForwardRequest {
  readonly ledger: string;
  readonly principal: string;
  readonly requestId: string;
  readonly messages: readonly QueuedEnvelope[];
}

interface Entry {
  readonly id: string;
  readonly input: AuditEventInput;
  readonly inputSha256: string;
  readonly messageIds: string[];
}

/** Maps, dedupes and ingests one delivery of envelopes. */
export async function forwardCloudTrail(
  request: ForwardRequest,
  deps: IngestDeps,
  observer: ForwardObserver,
): Promise<ForwardOutcome> {
  const outcome = {
    stored: [] as string[],
    duplicates: [] as string[],
    rejected: [] as Rejection[],
    failed: [] as string[],
    accepted: [] as AcceptedEvent[],
  };
  const reject = (rejection: Rejection): void => {
    outcome.rejected.push(rejection);
    observer.rejected(rejection);
  };
  const rounds = mapAndGroup(request.messages, reject);
  const failedIds = new Set<string>();
  for (const round of rounds) {
    // A later copy of an id whose earlier copy failed waits for the redelivery, to keep their order.
    const blocked = round.filter((e) => failedIds.has(e.id));
    if (blocked.length > 0) outcome.failed.push(...blocked.flatMap((e) => e.messageIds));
    let pending = round.filter((e) => !failedIds.has(e.id));
    while (pending.length > 0) {
      const chunk = pending.slice(0, MAX_BATCH_EVENTS);
      const retry = await ingestChunk(request, chunk, deps, outcome, reject, observer, failedIds);
      pending = [...retry, ...pending.slice(MAX_BATCH_EVENTS)];
    }
  }
  return outcome;
}

/** Parses and maps every message, then splits them into rounds in which every id occurs once. */
function mapAndGroup(messages: readonly QueuedEnvelope[], reject: (r: Rejection) => void): Entry[][] {
  const rounds: Entry[][] = [];
  const copies = new Map<string, Entry[]>();
  for (const { messageId, body } of messages) {
    let input: AuditEventInput;
    try {
      input = fromEventBridgeEnvelope(body);
    } catch (error) {
      if (error instanceof CloudTrailMappingError) {
        reject({ messageId, reason: error.reason, path: error.path, message: error.message });
      } else if (error instanceof EventValidationError) {
        reject({ messageId, reason: error.code, path: error.path, message: error.message });
      } else {
        throw error;
      }
      continue;
    }
    const inputSha256 = createHash('sha256').update(canonicalBytes(input)).digest('hex');
    const seen = copies.get(input.id) ?? [];
    const same = seen.find((e) => e.inputSha256 === inputSha256);
    if (same) {
      same.messageIds.push(messageId);
      continue;
    }
    const entry: Entry = { id: input.id, input, inputSha256, messageIds: [messageId] };
    seen.push(entry);
    copies.set(input.id, seen);
    const round = rounds[seen.length - 1];
    if (round) round.push(entry);
    else rounds.push([entry]);
  }
  return rounds;
}

/** Ingests one chunk; returns the entries to try again in the same round (after drops). */
async function ingestChunk(
  request: ForwardRequest,
  chunk: readonly Entry[],
  deps: IngestDeps,
  outcome: { stored: string[]; duplicates: string[]; failed: string[]; accepted: AcceptedEvent[] },
  reject: (r: Rejection) => void,
  observer: ForwardObserver,
  failedIds: Set<string>,
): Promise<Entry[]> {
  const messagesOf = (entries: readonly Entry[]) => entries.flatMap((e) => e.messageIds);
  try {
    const result = await ingestBatch(
      {
        ledger: request.ledger,
        items: chunk.map((e) => e.input),
        channel: 'cloudtrail',
        principal: request.principal,
        requestId: request.requestId,
      },
      deps,
    );
    const stored = new Set(result.stored);
    outcome.stored.push(...messagesOf(chunk.filter((e) => stored.has(e.id))));
    outcome.duplicates.push(...messagesOf(chunk.filter((e) => !stored.has(e.id))));
    outcome.accepted.push(...chunk.map((e) => ({ input: e.input, messageIds: e.messageIds })));
    return [];
  } catch (error) {
    if (error instanceof InvalidEventsError) {
      const bad = new Map(error.errors.map((e) => [e.index, e]));
      chunk.forEach((entry, index) => {
        const itemError = bad.get(index);
        if (!itemError) return;
        for (const messageId of entry.messageIds) {
          reject({ messageId, reason: itemError.code, path: itemError.path, message: itemError.message });
        }
      });
      return chunk.filter((_, index) => !bad.has(index));
    }
    const stored = new Set(error instanceof IngestWriteError ? error.stored : []);
    outcome.stored.push(...messagesOf(chunk.filter((e) => stored.has(e.id))));
    for (const e of chunk.filter((e) => stored.has(e.id)))
      outcome.accepted.push({ input: e.input, messageIds: e.messageIds });
    if (error instanceof IdConflictError) {
      const conflicts = new Set(error.conflicts);
      for (const entry of chunk.filter((e) => conflicts.has(e.id))) {
        for (const messageId of entry.messageIds) {
          reject({
            messageId,
            reason: 'ID_CONFLICT',
            path: '$.detail.eventID',
            message: 'event id already stored with different content',
          });
        }
      }
      return chunk.filter((e) => !stored.has(e.id) && !conflicts.has(e.id));
    }
    const failed = chunk.filter((e) => !stored.has(e.id));
    for (const entry of failed) failedIds.add(entry.id);
    outcome.failed.push(...messagesOf(failed));
    observer.failed(error, messagesOf(failed));
    return [];
  }
}

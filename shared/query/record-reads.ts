/**
 * The read recorder's core (G7): read records taken off the journal become `read` events of the ledger,
 * through the ingest core, many per batch (one signature per batch of up to 500 reads), so recording a
 * read costs a fraction of the read. A redelivered record has the same id and content: a duplicate.
 *
 * - A message that is not a read record is dropped (it would fail the same way every time) and reported.
 * - Records whose write failed in a way a retry can fix are returned as failed, for the queue to
 *   redeliver: the queue keeps them until they are recorded, or moves them to its dead-letter queue,
 *   which raises an alarm.
 */
import { IdConflictError, InvalidEventsError } from '../ingest/errors.ts';
import { type IngestDeps, ingestBatch, MAX_BATCH_EVENTS } from '../ingest/ingest-batch.ts';
import { readEventInput, readRecordSchema } from './read-record.ts';

export interface QueuedRead {
  readonly messageId: string;
  readonly body: string;
}

export interface RecordOutcome {
  /** Messages whose read this call stored. */
  readonly stored: string[];
  /** Messages whose read was already stored (a redelivery). */
  readonly duplicates: string[];
  /** Messages dropped for good, with the reason. */
  readonly rejected: { messageId: string; reason: string }[];
  /** Messages to redeliver. */
  readonly failed: string[];
}

/** Records one delivery of read records. */
export async function recordReads(
  request: { ledger: string; requestId: string; messages: readonly QueuedRead[] },
  deps: IngestDeps,
  onFailure: (error: unknown, messageIds: readonly string[]) => void = () => undefined,
): Promise<RecordOutcome> {
  const outcome: RecordOutcome = { stored: [], duplicates: [], rejected: [], failed: [] };
  const byId = new Map<string, { input: ReturnType<typeof readEventInput>; messageIds: string[] }>();
  for (const message of request.messages) {
    let value: unknown;
    try {
      value = JSON.parse(message.body);
    } catch {
      outcome.rejected.push({ messageId: message.messageId, reason: 'INVALID_JSON' });
      continue;
    }
    const parsed = readRecordSchema.safeParse(value);
    if (!parsed.success) {
      outcome.rejected.push({ messageId: message.messageId, reason: 'NOT_A_READ_RECORD' });
      continue;
    }
    const input = readEventInput(parsed.data);
    const entry = byId.get(input.id);
    if (entry) entry.messageIds.push(message.messageId);
    else byId.set(input.id, { input, messageIds: [message.messageId] });
  }
  const entries = [...byId.values()];
  for (let start = 0; start < entries.length; start += MAX_BATCH_EVENTS) {
    let batch = entries.slice(start, start + MAX_BATCH_EVENTS);
    // At most two rounds: the second without the items the first refused for good.
    for (let round = 0; round < 2 && batch.length > 0; round++) {
      try {
        const result = await ingestBatch(
          {
            ledger: request.ledger,
            items: batch.map((e) => e.input),
            channel: 'read',
            principal: 'auditseal-read-recorder',
            requestId: request.requestId,
          },
          deps,
        );
        const stored = new Set(result.stored);
        for (const e of batch)
          (stored.has(e.input.id) ? outcome.stored : outcome.duplicates).push(...e.messageIds);
        batch = [];
      } catch (error) {
        const refused = refusedIds(error, batch);
        if (refused === undefined || round === 1) {
          const ids = batch.flatMap((e) => e.messageIds);
          outcome.failed.push(...ids);
          onFailure(error, ids);
          batch = [];
          break;
        }
        for (const e of batch) {
          if (refused.has(e.input.id)) {
            for (const messageId of e.messageIds)
              outcome.rejected.push({ messageId, reason: refused.get(e.input.id)! });
          }
        }
        batch = batch.filter((e) => !refused.has(e.input.id));
      }
    }
  }
  return outcome;
}

/** Ids a retry cannot fix (invalid items, conflicting ids), with the reason; undefined for other errors. */
function refusedIds(
  error: unknown,
  batch: readonly { input: { id: string } }[],
): Map<string, string> | undefined {
  if (error instanceof IdConflictError) return new Map(error.conflicts.map((id) => [id, 'ID_CONFLICT']));
  if (error instanceof InvalidEventsError) {
    return new Map(error.errors.map((e) => [batch[e.index]!.input.id, e.code]));
  }
  return undefined;
}

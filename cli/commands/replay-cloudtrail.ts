/**
 * `auditseal local replay-cloudtrail FILE.jsonl`: replays CloudTrail records into the running local stack
 * the way AWS delivers them. Each record is wrapped in a real EventBridge envelope (as the CloudTrail →
 * EventBridge integration emits it), envelopes are batched into SQS events of up to 10 messages (the
 * queue between the EventBridge rule and the forwarder), and the forwarder function is invoked with
 * each batch. Messages it returns in `batchItemFailures` are redelivered, up to 3 times.
 */
import { createHandler } from '../../functions/forward-cloudtrail.ts';
import { fromEventBridgeEnvelope, wrapInEventBridgeEnvelope } from '../../shared/events/cloudtrail.ts';
import { CloudTrailMappingError, EventValidationError } from '../../shared/events/errors.ts';
import { SOURCE_TEXT_LIMITS } from '../../shared/events/limits.ts';
import { UsageError } from '../errors.ts';
import { localIngestRuntime, readLocalIngestFile } from '../local-ingest-runtime.ts';
import { readLines } from '../read-lines.ts';
import { deliverToForwarder, MAX_RECEIVES } from '../sqs-delivery.ts';

/** Longer lines are refused unread: their text could not be a record within `RECORD_TEXT_LIMITS`. */
const MAX_LINE_BYTES = 4 * SOURCE_TEXT_LIMITS.maxLength;

export interface ReplaySummary {
  readonly records: number;
  /** Envelopes handed to the forwarder and acknowledged (stored, already stored, or dropped by it). */
  readonly delivered: number;
  /** Envelopes whose event the forwarder stored. */
  readonly stored: number;
  /** Envelopes whose event was already stored with the same content. */
  readonly duplicates: number;
  /** Records not stored, with the reason: by the mapping here, or by the forwarder (e.g. `ID_CONFLICT`). */
  readonly rejected: { line: number; reason: string }[];
  readonly failed: number;
  readonly batches: number;
}

export async function runReplay(
  file: string,
  options: { localFile?: string; json: boolean },
): Promise<ReplaySummary> {
  const local = await readLocalIngestFile(options.localFile);
  process.env['POWERTOOLS_LOG_LEVEL'] ??= 'WARN';
  const runtime = localIngestRuntime(local, 'auditseal-replay');
  const { config } = runtime;
  const rejected: { line: number; reason: string }[] = [];
  const lineOf = new Map<string, number>();
  let stored = 0;
  let duplicates = 0;
  const handler = createHandler({
    ledger: config.ledger,
    ingest: runtime.ingest,
    profiles: runtime.profiles,
    logger: runtime.logger,
    observe: (outcome) => {
      stored += outcome.stored.length;
      duplicates += outcome.duplicates.length;
      for (const r of outcome.rejected)
        rejected.push({ line: lineOf.get(r.messageId) ?? 0, reason: r.reason });
    },
  });

  const envelopes: { line: number; body: string }[] = [];
  let n = 0;
  try {
    for await (const line of readLines(file, MAX_LINE_BYTES)) {
      n = line.n;
      if (!('text' in line)) {
        rejected.push({ line: n, reason: line.problem });
        continue;
      }
      if (!line.text.trim()) continue;
      try {
        // The record's text goes into the envelope byte for byte, as CloudTrail's own does.
        const body = wrapInEventBridgeEnvelope(line.text);
        fromEventBridgeEnvelope(body); // the forwarder drops invalid ones; report why here
        envelopes.push({ line: n, body });
      } catch (error) {
        if (!(error instanceof EventValidationError)) throw error;
        rejected.push({
          line: n,
          reason: error instanceof CloudTrailMappingError ? error.reason : error.code,
        });
      }
    }
  } catch (error) {
    // Only a file system error (ENOENT, EISDIR, …) is the user's to fix; anything else is a bug.
    if (typeof (error as NodeJS.ErrnoException).code !== 'string') throw error;
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }

  const { delivered, failed, batches } = await deliverToForwarder(handler, envelopes, lineOf, {
    json: options.json,
    label: 'replaying',
  });
  rejected.sort((a, b) => a.line - b.line);
  return { records: n, delivered, stored, duplicates, rejected, failed, batches };
}

export function renderReplay(file: string, s: ReplaySummary): string {
  const reasons = new Map<string, number>();
  for (const r of s.rejected) reasons.set(r.reason, (reasons.get(r.reason) ?? 0) + 1);
  return [
    `Replayed ${file}: ${s.delivered} envelopes delivered in ${s.batches} SQS batches: ${s.stored} stored, ${s.duplicates} already stored; ${s.rejected.length} records rejected, ${s.failed} failed after ${MAX_RECEIVES} receives`,
    ...[...reasons].map(([reason, count]) => `  rejected ${reason}: ${count}`),
    '  (an event id already stored with the same content is a duplicate; with other content it is rejected as ID_CONFLICT and recorded as a security signal)',
  ].join('\n');
}

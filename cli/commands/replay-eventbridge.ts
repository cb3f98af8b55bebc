/**
 * `auditseal local replay-eventbridge FILE.jsonl`: delivers EventBridge events, one JSON object per line,
 * into the running local stack through the real forwarder (functions/forward-cloudtrail.ts), as the
 * forwarder's queue delivers them: "AWS API Call via CloudTrail" and the other CloudTrail detail-types
 * become ledger events (and, where the record carries a resource's new state, profile versions), AWS
 * Config's "Config Configuration Item Change" events become profile versions. Each line goes on the queue
 * byte for byte, as EventBridge put it there.
 *
 * FILE is checked first: every non-empty line must be a JSON object with a string `detail-type` and an
 * object `detail`, or nothing is delivered and the command exits 2 naming the line. What the forwarder
 * refuses is reported per line with its reason (and acknowledged, as on AWS).
 */
import { createHandler } from '../../functions/forward-cloudtrail.ts';
import { isPlainObject } from '../../shared/events/json-guard.ts';
import { SOURCE_TEXT_LIMITS } from '../../shared/events/limits.ts';
import type { ForwardedVersion } from '../../shared/ingest/forward-eventbridge.ts';
import { UsageError } from '../errors.ts';
import { localIngestRuntime, readLocalIngestFile } from '../local-ingest-runtime.ts';
import { readLines } from '../read-lines.ts';
import { deliverToForwarder, type Envelope, MAX_RECEIVES } from '../sqs-delivery.ts';

/** Longer lines are refused unread: EventBridge events are at most 256 KiB. */
const MAX_LINE_BYTES = 4 * SOURCE_TEXT_LIMITS.maxLength;

export interface EventBridgeReplaySummary {
  /** EventBridge events read from FILE. */
  readonly envelopes: number;
  /** Envelopes acknowledged by the forwarder (stored, already stored, or rejected by it). */
  readonly delivered: number;
  /** Envelopes whose CloudTrail event or Config version the forwarder stored. */
  readonly stored: number;
  /** Envelopes whose event or version was already stored with the same content. */
  readonly duplicates: number;
  /** Envelopes the forwarder refused for good, with the line and the reason. */
  readonly rejected: readonly { line: number; reason: string; path: string }[];
  /** Envelopes still failing after the redeliveries. */
  readonly failed: number;
  readonly batches: number;
  /** Profile versions by source: created now, or found already stored. */
  readonly versions: Readonly<Record<ForwardedVersion['source'], { created: number; unchanged: number }>>;
  /** The resources that got a version, in the order first written. */
  readonly resources: readonly string[];
}

/** The envelopes of FILE, checked; `UsageError` (exit 2) for a file that cannot be read or a bad line. */
async function readEnvelopes(file: string): Promise<Envelope[]> {
  const envelopes: Envelope[] = [];
  try {
    for await (const line of readLines(file, MAX_LINE_BYTES)) {
      if (!('text' in line)) throw new UsageError(`${file}:${line.n}: ${line.message}`);
      if (line.text.trim() === '') continue;
      let value: unknown;
      try {
        // Only to check the shape: the line itself is what is delivered.
        value = JSON.parse(line.text);
      } catch {
        throw new UsageError(`${file}:${line.n}: not JSON`);
      }
      if (
        !isPlainObject(value) ||
        typeof value['detail-type'] !== 'string' ||
        !isPlainObject(value['detail'])
      ) {
        throw new UsageError(
          `${file}:${line.n}: not an EventBridge event (a JSON object with a string "detail-type" and an object "detail")`,
        );
      }
      envelopes.push({ line: line.n, body: line.text });
    }
  } catch (error) {
    if (error instanceof UsageError) throw error;
    // Only a file system error (ENOENT, EISDIR, …) is the user's to fix; anything else is a bug.
    if (typeof (error as NodeJS.ErrnoException).code !== 'string') throw error;
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  return envelopes;
}

export async function runEventBridgeReplay(
  file: string,
  options: { localFile?: string; json: boolean },
): Promise<EventBridgeReplaySummary> {
  const envelopes = await readEnvelopes(file);
  const local = await readLocalIngestFile(options.localFile);
  process.env['POWERTOOLS_LOG_LEVEL'] ??= 'ERROR';
  const runtime = localIngestRuntime(local, 'auditseal-replay-eventbridge');
  const lineOf = new Map<string, number>();
  const rejected: { line: number; reason: string; path: string }[] = [];
  const versions = {
    'aws-config': { created: 0, unchanged: 0 },
    cloudtrail: { created: 0, unchanged: 0 },
  };
  const resources = new Set<string>();
  let stored = 0;
  let duplicates = 0;
  const handler = createHandler({
    ledger: runtime.config.ledger,
    ingest: runtime.ingest,
    profiles: runtime.profiles,
    logger: runtime.logger,
    observe: (outcome) => {
      stored += outcome.stored.length;
      duplicates += outcome.duplicates.length;
      for (const r of outcome.rejected)
        rejected.push({ line: lineOf.get(r.messageId) ?? 0, reason: r.reason, path: r.path });
      for (const v of outcome.versions) {
        versions[v.source][v.status]++;
        resources.add(v.resourceId);
      }
    },
  });
  const delivery = await deliverToForwarder(handler, envelopes, lineOf, {
    json: options.json,
    label: 'replaying',
  });
  rejected.sort((a, b) => a.line - b.line);
  return {
    envelopes: envelopes.length,
    ...delivery,
    stored,
    duplicates,
    rejected,
    versions,
    resources: [...resources],
  };
}

export function renderEventBridgeReplay(file: string, s: EventBridgeReplaySummary): string {
  const config = s.versions['aws-config'];
  const trail = s.versions.cloudtrail;
  return [
    `Replayed ${file}: ${s.envelopes} EventBridge events, ${s.delivered} delivered in ${s.batches} SQS batches: ` +
      `${s.stored} stored, ${s.duplicates} already stored, ${s.rejected.length} rejected, ${s.failed} failed after ${MAX_RECEIVES} receives`,
    `  profile versions: ${config.created} from AWS Config and ${trail.created} from CloudTrail recorded, ` +
      `${config.unchanged + trail.unchanged} already stored; resources: ${s.resources.length}`,
    ...s.resources.map((id) => `    ${id}`),
    ...s.rejected.map((r) => `  line ${r.line} rejected: ${r.reason} at ${r.path}`),
  ].join('\n');
}

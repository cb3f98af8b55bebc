/**
 * Stored events for search tests, made from real CloudTrail records (`../shared/data/cloudtrail/records`)
 * through the real mapping and canonicalization, each given its own id and `receivedAt`.
 */
import { readFileSync } from 'node:fs';
import { fromCloudTrailRecord } from '../../shared/events/cloudtrail.ts';
import { canonicalizeEvent } from '../../shared/ingest/canonical-event.ts';
import type { IndexableEvent } from '../../shared/storage/in-memory-event-index.ts';
import { sharedDataPath } from './shared-data.ts';

/** The mappable records of one shared CloudTrail file. */
export function cloudTrailInputs(file = 'stratus-red-team.jsonl'): ReturnType<typeof fromCloudTrailRecord>[] {
  const lines = readFileSync(sharedDataPath('cloudtrail', 'records', file), 'utf8').split('\n');
  const inputs: ReturnType<typeof fromCloudTrailRecord>[] = [];
  for (const line of lines) {
    if (line.trim() === '') continue;
    try {
      inputs.push(fromCloudTrailRecord(line));
    } catch {
      // Records the mapping refuses are not events; tests only need events.
    }
  }
  return inputs;
}

/**
 * `count` stored events cycling through the records, one millisecond apart from `startMs` (some share a
 * millisecond, as events of one batch do), with ids `ev-<n>` unless the record's own id is kept.
 */
export function indexableEvents(
  ledger: string,
  count: number,
  options: { startMs?: number; sameMillisecondEvery?: number; file?: string } = {},
): IndexableEvent[] {
  const inputs = cloudTrailInputs(options.file);
  const start = options.startMs ?? Date.UTC(2026, 10, 22, 21, 0, 0);
  const every = options.sameMillisecondEvery ?? 3;
  const events: IndexableEvent[] = [];
  for (let n = 0; n < count; n++) {
    const input = { ...inputs[n % inputs.length]!, id: `ev-${n}/${n % 7}:x` };
    const receivedAt = new Date(start + Math.floor(n / every)).toISOString();
    const channel = n % 5 === 0 ? 'api' : 'cloudtrail';
    const { bytes } = canonicalizeEvent(input, receivedAt, channel);
    events.push({
      ledger,
      sk: `${receivedAt}#${input.id}`,
      id: input.id,
      receivedAt,
      bytes,
      actorId: input.actor.id,
      action: input.action,
      outcome: input.outcome.result,
      channel,
      ...(input.resource ? { resourceId: input.resource.id } : {}),
    });
  }
  return events;
}

/**
 * The Kubernetes forwarder's core: a CloudWatch Logs subscription delivery (EKS control-plane audit logs)
 * to the ingest core, channel `kubernetes`.
 *
 * - The payload is decoded and every audit log event mapped before anything is written: a bad payload is
 *   refused whole (`SubscriptionPayloadError`) and nothing of it is stored.
 * - The mapped events go through `ingestBatch` in batches of up to 500 (one Sign each). A retried
 *   delivery is idempotent: its events come back as duplicates with their original receipts.
 * - An event id already stored with other content is a conflict: the ingest core records a security
 *   signal, the event is left out and reported, and the others are stored. Two Events of one payload
 *   with the same id and different content (real Falco traces have such pairs) go in successive rounds,
 *   so the second is answered as such a conflict.
 * - Any other failure propagates, so that the invocation is retried (and, on AWS, ends in the function's
 *   on-failure destination with its payload).
 */

import { decodeSubscriptionEvent, type KubernetesLogSources, kubernetesEventsOf } from './cloudwatch-logs.ts';
import { IdConflictError } from './errors.ts';
import { type IngestDeps, ingestBatch, MAX_BATCH_EVENTS } from './ingest-batch.ts';

export interface CloudWatchLogsDelivery {
  readonly ledger: string;
  /** Who delivered it (the subscription's log group ARN, or the local replay tool), for security signals. */
  readonly principal: string;
  readonly requestId: string;
  /** The Lambda event, `{ awslogs: { data } }`, still unchecked. */
  readonly event: unknown;
}

export interface KubernetesForwardOutcome {
  /** `control`: CloudWatch Logs checking the destination; nothing to store. */
  readonly type: 'control' | 'data';
  readonly clusterArn?: string;
  /** Audit events in the payload, after leaving out earlier stages of finished requests. */
  readonly events: number;
  readonly stored: readonly string[];
  readonly duplicates: readonly string[];
  /** Ids already stored with other content (security signals recorded), left out. */
  readonly conflicts: readonly string[];
  /** Events stored as their projection, without the verbatim Event (beyond the stored-event limits). */
  readonly omitted: readonly string[];
  /** Log events of non-audit streams of an EKS log group. */
  readonly skipped: number;
}

/** Decodes, maps and stores one delivery. Throws `SubscriptionPayloadError` for a bad payload. */
export async function forwardCloudWatchLogs(
  delivery: CloudWatchLogsDelivery,
  sources: KubernetesLogSources,
  deps: IngestDeps,
): Promise<KubernetesForwardOutcome> {
  const message = decodeSubscriptionEvent(delivery.event);
  if (message.type === 'control') {
    return { type: 'control', events: 0, stored: [], duplicates: [], conflicts: [], omitted: [], skipped: 0 };
  }
  const { clusterArn, events, skipped } = kubernetesEventsOf(message, sources);
  const stored: string[] = [];
  const duplicates: string[] = [];
  const conflicts: string[] = [];
  for (const round of rounds(events)) {
    for (let i = 0; i < round.length; i += MAX_BATCH_EVENTS) {
      let pending = round.slice(i, i + MAX_BATCH_EVENTS);
      while (pending.length > 0) {
        try {
          const result = await ingestBatch(
            {
              ledger: delivery.ledger,
              items: pending,
              channel: 'kubernetes',
              principal: delivery.principal,
              requestId: delivery.requestId,
            },
            deps,
          );
          stored.push(...result.stored);
          duplicates.push(...result.duplicates);
          pending = [];
        } catch (error) {
          if (!(error instanceof IdConflictError)) throw error;
          const conflicting = new Set(error.conflicts);
          conflicts.push(...error.conflicts);
          stored.push(...error.stored);
          const done = new Set(error.stored);
          pending = pending.filter((e) => !conflicting.has(e.id) && !done.has(e.id));
        }
      }
    }
  }
  return {
    type: 'data',
    clusterArn,
    events: events.length,
    stored,
    duplicates,
    conflicts,
    omitted: events.filter((e) => e.kubernetes === undefined).map((e) => e.id),
    skipped,
  };
}

/** Splits events into rounds in which every id occurs once, in delivery order. */
function rounds<T extends { readonly id: string }>(events: readonly T[]): T[][] {
  const out: T[][] = [];
  const seen = new Map<string, number>();
  for (const event of events) {
    const n = seen.get(event.id) ?? 0;
    seen.set(event.id, n + 1);
    const round = out[n];
    if (round === undefined) out.push([event]);
    else round.push(event);
  }
  return out;
}

/**
 * The detection path (G9): every event that lands in the ledger is run through the rules; each match
 * becomes an alert that is itself a ledger event (channel `detection`), signed and stored through the
 * ingest core, then indexed for `GET /v1/alerts` and announced (SNS, EventBridge). Design and the reasons
 * for reading the ledger stream rather than the ingest path: docs/DETECTIONS.md §9.
 *
 * Every step is idempotent (deterministic alert ids and contents, put-only index, at-least-once
 * announcements), so a failure anywhere throws and the caller retries the whole batch.
 */

import { createHash } from 'node:crypto';
import { parseAuditEventInput } from '../events/audit-event.ts';
import { isPlainObject } from '../events/json-guard.ts';
import { kubernetesRequestEventId } from '../events/kubernetes.ts';
import { canonicalizeParsedInput } from '../ingest/canonical-event.ts';
import { IdConflictError, InvalidEventsError, PeriodClosingError } from '../ingest/errors.ts';
import { type IngestDeps, ingestBatch, MAX_BATCH_EVENTS } from '../ingest/ingest-batch.ts';
import type { Receipt } from '../ledger/formats.ts';
import { hashLeaf } from '../merkle/rfc6962.ts';
import type { AlertIndex, AlertLevel, AlertNotice, AlertPublisher, IndexedAlert } from '../ports/alerts.ts';
import {
  type AlertPlanner,
  alertNotice,
  type MatchedEvent,
  type PlannedAlert,
  type RuleMatch,
} from './alerts.ts';
import type { Detector } from './detector.ts';
import { subjectOf } from './event-records.ts';

/** The identity alerts are written under (the `principal` of their ingest requests). */
export const DETECTION_PRINCIPAL = 'auditseal-detections';

/** An event row as it landed in the ledger: its id, time and stored canonical bytes. */
export interface LandedEvent {
  readonly id: string;
  readonly receivedAt: string;
  readonly bytes: Uint8Array;
}

export interface DetectionDeps {
  readonly ledger: string;
  readonly detector: Detector;
  readonly planner: AlertPlanner;
  readonly ingest: IngestDeps;
  readonly index: AlertIndex;
  readonly publisher: AlertPublisher;
  /** Told why an event was not evaluated or an alert not stored; never given event content. */
  readonly observer?: DetectionObserver;
}

export interface DetectionObserver {
  /** A landed row that is not a readable event (the sealer raises FOREIGN_ROW for such rows). */
  unreadable(eventId: string, reason: string): void;
  /** An alert id already stored with other content (the rule changed): a security signal is recorded. */
  conflict(alertId: string): void;
}

export interface DetectionOutcome {
  /** Events evaluated (alerts themselves are not). */
  readonly evaluated: number;
  readonly matches: number;
  /** Alert ids stored by this call, and ids that were already stored with the same content. */
  readonly stored: readonly string[];
  readonly duplicates: readonly string[];
  /**
   * Alerts left out because the same rule already alerted on another stage of the same Kubernetes
   * request (`k8s:<auditID>:ResponseStarted` first, `k8s:<auditID>` later): one alert per rule and request.
   */
  readonly alreadyAlerted: readonly string[];
  readonly summaries: number;
  readonly notices: readonly AlertNotice[];
}

/** Runs the rules on landed events and stores, indexes and announces their alerts. */
export async function detectLandedEvents(
  events: readonly LandedEvent[],
  deps: DetectionDeps,
  requestId: string,
): Promise<DetectionOutcome> {
  const matches: RuleMatch[] = [];
  let evaluated = 0;
  for (const landed of events) {
    const event = readEvent(landed, deps.observer);
    if (event === undefined || event['channel'] === 'detection') continue;
    evaluated++;
    const rules = deps.detector.detect(event);
    if (rules.length === 0) continue;
    const matched = matchedEvent(landed, event);
    for (const rule of rules) matches.push({ rule, event: matched });
  }
  const plan = deps.planner.plan(matches);
  if (plan.alerts.length === 0) {
    plan.commit();
    return {
      evaluated,
      matches: 0,
      stored: [],
      duplicates: [],
      alreadyAlerted: [],
      summaries: 0,
      notices: [],
    };
  }

  const { alerts, alreadyAlerted } = await withoutAlertedRequests(plan.alerts, deps);
  const stored: string[] = [];
  const duplicates: string[] = [];
  const kept: { alert: PlannedAlert; receipt: Receipt }[] = [];
  for (let i = 0; i < alerts.length; i += MAX_BATCH_EVENTS) {
    const chunk = alerts.slice(i, i + MAX_BATCH_EVENTS);
    const receipts = await storeAlerts(chunk, deps, requestId);
    for (const alert of chunk) {
      const result = receipts.get(alert.input.id);
      if (result === undefined) continue;
      (result.stored ? stored : duplicates).push(alert.input.id);
      kept.push({ alert, receipt: result.receipt });
    }
  }

  await deps.index.record(kept.map(({ alert, receipt }) => indexEntry(alert, receipt)));
  const notices = kept.map(({ alert, receipt }) =>
    alertNotice(deps.ledger, alert, { receivedAt: receipt.receivedAt, leafHash: receipt.leafHash }),
  );
  await deps.publisher.publish(notices);
  plan.commit();
  return {
    evaluated,
    matches: matches.length,
    stored,
    duplicates,
    alreadyAlerted,
    summaries: kept.filter((k) => k.alert.kind === 'summary').length,
    notices,
  };
}

/**
 * Leaves out the single alerts on Kubernetes requests that the same rule already alerted on through
 * another stage: same alert id (rule and `k8s:<auditID>`), other content (the other stage's event). Without
 * this, the later stage would be answered as an id conflict and recorded as a security signal.
 */
async function withoutAlertedRequests(
  planned: readonly PlannedAlert[],
  deps: DetectionDeps,
): Promise<{ alerts: PlannedAlert[]; alreadyAlerted: string[] }> {
  const requestAlerts = planned.filter((a) => a.kind === 'alert' && a.matches[0]!.source === 'kubernetes');
  if (requestAlerts.length === 0) return { alerts: [...planned], alreadyAlerted: [] };
  const existing = await deps.ingest.store.findEventIds(
    deps.ledger,
    requestAlerts.map((a) => a.input.id),
  );
  const alreadyAlerted = new Set<string>();
  for (const alert of requestAlerts) {
    const found = existing.get(alert.input.id);
    if (found === undefined) continue;
    const { inputCanonical } = canonicalizeParsedInput(
      parseAuditEventInput(alert.input),
      found.receivedAt,
      'detection',
    );
    if (createHash('sha256').update(inputCanonical, 'utf8').digest('hex') !== found.inputSha256) {
      alreadyAlerted.add(alert.input.id);
    }
  }
  return {
    alerts: planned.filter((a) => !alreadyAlerted.has(a.input.id)),
    alreadyAlerted: [...alreadyAlerted],
  };
}

/** The stored event of a landed row, or undefined (reported) when its bytes are not a JSON object. */
function readEvent(landed: LandedEvent, observer?: DetectionObserver): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(landed.bytes).toString('utf8'));
  } catch {
    observer?.unreadable(landed.id, 'its body is not JSON');
    return undefined;
  }
  if (!isPlainObject(value)) {
    observer?.unreadable(landed.id, 'its body is not a JSON object');
    return undefined;
  }
  return value;
}

function matchedEvent(landed: LandedEvent, event: Record<string, unknown>): MatchedEvent {
  const { source } = subjectOf(event);
  const resource = event['resource'];
  const eventTime = event['eventTime'];
  return {
    id: landed.id,
    alertKey: source.kind === 'kubernetes' ? kubernetesRequestEventId(landed.id) : landed.id,
    receivedAt: landed.receivedAt,
    eventTime: typeof eventTime === 'string' ? eventTime : landed.receivedAt,
    // Computed from the bytes, never taken from the row's own attribute.
    leafHash: hashLeaf(landed.bytes).toString('hex'),
    source: source.kind === 'app' ? `app:${source.product}/${source.service}` : source.kind,
    ...(isResource(resource) ? { resource: resourceOf(resource) } : {}),
  };
}

function isResource(value: unknown): value is { id: string; type: string; name?: unknown } {
  return isPlainObject(value) && typeof value['id'] === 'string' && typeof value['type'] === 'string';
}

function resourceOf(value: { id: string; type: string; name?: unknown }): MatchedEvent['resource'] {
  return {
    id: value.id,
    type: value.type,
    ...(typeof value.name === 'string' ? { name: value.name } : {}),
  };
}

/**
 * Stores one chunk of alerts: their receipts by id, with whether this call stored them. An alert id that
 * is already stored with other content (a rule whose title or level changed under the same id) is left
 * out, and the ingest core records the conflict as a security signal; the others are stored.
 */
async function storeAlerts(
  chunk: readonly PlannedAlert[],
  deps: DetectionDeps,
  requestId: string,
): Promise<Map<string, { receipt: Receipt; stored: boolean }>> {
  const out = new Map<string, { receipt: Receipt; stored: boolean }>();
  let pending = [...chunk];
  for (let attempt = 0; pending.length > 0; attempt++) {
    try {
      const result = await ingestBatch(
        {
          ledger: deps.ledger,
          items: pending.map((a) => a.input),
          channel: 'detection',
          principal: DETECTION_PRINCIPAL,
          requestId,
        },
        deps.ingest,
      );
      const stored = new Set(result.stored);
      pending.forEach((a, i) => {
        out.set(a.input.id, { receipt: result.receipts[i]!, stored: stored.has(a.input.id) });
      });
      return out;
    } catch (error) {
      if (error instanceof InvalidEventsError) {
        // Alerts are built by this module: an invalid one is a bug, not input to skip.
        throw new Error(`an alert failed validation: ${error.errors[0]?.message ?? 'unknown'}`, {
          cause: error,
        });
      }
      if (error instanceof IdConflictError && attempt < 2) {
        const conflicts = new Set(error.conflicts);
        for (const id of conflicts) deps.observer?.conflict(id);
        pending = pending.filter((a) => !conflicts.has(a.input.id));
        continue;
      }
      if (error instanceof PeriodClosingError && attempt < 2) continue;
      throw error;
    }
  }
  return out;
}

/** The index entry of a stored alert: its stored bytes, rebuilt and checked against its receipt. */
function indexEntry(alert: PlannedAlert, receipt: Receipt): IndexedAlert {
  const input = parseAuditEventInput(alert.input);
  const { bytes, leafHash } = canonicalizeParsedInput(input, receipt.receivedAt, 'detection');
  if (leafHash.toString('hex') !== receipt.leafHash) {
    throw new Error(`the stored alert ${alert.input.id} is not the one this detection built`);
  }
  return {
    alertId: alert.input.id,
    receivedAt: receipt.receivedAt,
    ruleId: alert.rule.id,
    level: alert.rule.level as AlertLevel,
    kind: alert.kind,
    bytes,
    receipt,
  };
}

/**
 * Detection alerts as ledger events (channel `detection`), and the per-rule rate limit that folds a storm
 * of matches into summary alerts. Format and reasons: docs/DETECTIONS.md §9.
 *
 * An alert's content is a function of the rule and the matched event only (its time is the matched event's
 * `receivedAt`), so the same match always gives the same input, and the ingest core's idempotency makes a
 * redelivered match one alert.
 */
import type { AuditEventInput } from '../events/audit-event.ts';
import type { AlertKind, AlertLevel, AlertNotice } from '../ports/alerts.ts';
import { alertId, summaryAlertId } from './alert-ids.ts';
import type { SigmaRule } from './sigma-rule.ts';

/** Who raises alerts. */
export const ALERT_ACTOR = Object.freeze({ id: 'auditseal-detections', type: 'service' as const });
export const ALERT_ACTION = 'detection.alert';
export const SUMMARY_ACTION = 'detection.summary';
export const ALERT_DETAILS_TYPE = 'auditseal.alert.v1';
export const SUMMARY_DETAILS_TYPE = 'auditseal.alert-summary.v1';
/** Most matches one summary alert lists; a larger storm gives several summaries. */
export const MAX_SUMMARY_MATCHES = 200;
/** Matched event ids a notice names. */
export const MAX_NOTICE_EVENT_IDS = 20;

/** The event a rule matched, as an alert names it. */
export interface MatchedEvent {
  readonly id: string;
  /**
   * What an alert is about, for its id and deduplication: the event id, except for a Kubernetes request,
   * whose stages (`k8s:<auditID>:ResponseStarted`, then `k8s:<auditID>`) are one request: `k8s:<auditID>`.
   */
  readonly alertKey: string;
  readonly receivedAt: string;
  readonly eventTime: string;
  /** Hex leaf hash of the matched event's stored bytes (its receipt's `leafHash`). */
  readonly leafHash: string;
  /** `cloudtrail`, `kubernetes` or `app:<product>/<service>`. */
  readonly source: string;
  readonly resource?: { readonly id: string; readonly type: string; readonly name?: string };
}

/** One rule on one event. */
export interface RuleMatch {
  readonly rule: SigmaRule;
  readonly event: MatchedEvent;
}

/** An alert to store, with what it covers. */
export interface PlannedAlert {
  readonly kind: AlertKind;
  readonly input: AuditEventInput;
  readonly rule: SigmaRule;
  readonly matches: readonly MatchedEvent[];
}

const bounded = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** What an alert says about its rule (kept for the Detection Rule License's attribution). */
function ruleDetails(rule: SigmaRule): Record<string, unknown> {
  return {
    id: rule.id,
    title: bounded(rule.title, 1_024),
    level: rule.level,
    ...(rule.author === undefined ? {} : { author: bounded(rule.author, 1_024) }),
    ...(rule.status === undefined ? {} : { status: bounded(rule.status, 64) }),
    source: bounded(rule.source, 1_024),
    references: rule.references.slice(0, 20).map((r) => bounded(r, 1_024)),
  };
}

function labels(rule: SigmaRule): string[] {
  return ['detection', `level:${rule.level}`];
}

/** The alert event of one match. */
export function alertInput(rule: SigmaRule, event: MatchedEvent): AuditEventInput {
  return {
    id: alertId(rule.id, event.alertKey),
    eventTime: event.receivedAt,
    actor: { ...ALERT_ACTOR },
    action: ALERT_ACTION,
    ...(event.resource === undefined ? {} : { resource: { ...event.resource } }),
    outcome: { result: 'success' },
    labels: labels(rule),
    details: {
      type: ALERT_DETAILS_TYPE,
      rule: ruleDetails(rule),
      match: {
        eventId: event.id,
        leafHash: event.leafHash,
        receivedAt: event.receivedAt,
        eventTime: event.eventTime,
        source: event.source,
      },
    },
  } as AuditEventInput;
}

/** The summary alert of matches over the rate limit (at most `MAX_SUMMARY_MATCHES`). */
export function summaryInput(
  rule: SigmaRule,
  events: readonly MatchedEvent[],
  limit: { readonly alerts: number; readonly windowSeconds: number },
): AuditEventInput {
  if (events.length === 0 || events.length > MAX_SUMMARY_MATCHES) {
    throw new RangeError(`a summary covers 1 to ${MAX_SUMMARY_MATCHES} matches, not ${events.length}`);
  }
  const times = events.map((e) => e.receivedAt).sort();
  return {
    id: summaryAlertId(
      rule.id,
      events.map((e) => e.id),
    ),
    eventTime: times.at(-1)!,
    actor: { ...ALERT_ACTOR },
    action: SUMMARY_ACTION,
    outcome: { result: 'success' },
    labels: [...labels(rule), 'summary'],
    details: {
      type: SUMMARY_DETAILS_TYPE,
      rule: ruleDetails(rule),
      count: events.length,
      from: times[0]!,
      to: times.at(-1)!,
      limit: { alerts: limit.alerts, windowSeconds: limit.windowSeconds },
      matches: events.map((e) => ({ eventId: e.id, leafHash: e.leafHash, receivedAt: e.receivedAt })),
    },
  } as AuditEventInput;
}

/** The notice announced for a stored alert. */
export function alertNotice(
  ledger: string,
  alert: PlannedAlert,
  stored: { readonly receivedAt: string; readonly leafHash: string },
): AlertNotice {
  const { rule } = alert;
  return {
    type: 'auditseal.detection.v1',
    ledger,
    alertId: alert.input.id,
    kind: alert.kind,
    receivedAt: stored.receivedAt,
    leafHash: stored.leafHash,
    rule: {
      id: rule.id,
      title: bounded(rule.title, 1_024),
      level: rule.level as AlertLevel,
      ...(rule.author === undefined ? {} : { author: bounded(rule.author, 1_024) }),
    },
    count: alert.matches.length,
    eventIds: alert.matches.slice(0, MAX_NOTICE_EVENT_IDS).map((m) => m.id),
  };
}

/** The rate limit: at most `alerts` single alerts per rule per `windowSeconds` of matched events' time. */
export interface AlertRateLimit {
  readonly alerts: number;
  readonly windowSeconds: number;
}

export const DEFAULT_ALERT_RATE_LIMIT: AlertRateLimit = Object.freeze({ alerts: 10, windowSeconds: 60 });

/** A plan for one batch of matches; `commit` records what it used once its alerts are stored. */
export interface AlertPlan {
  readonly alerts: readonly PlannedAlert[];
  commit(): void;
}

/**
 * Turns matches into alerts under the per-rule rate limit. Windows are counted on the matched events'
 * `receivedAt` (not the wall clock), and a plan changes the counts only when committed, so a batch that
 * is retried after a failure gets the same plan again. Counts live in this object (one per function
 * instance); a fresh instance starts from zero, so the limit can let more alerts through, never fewer.
 * Matches over the limit are never dropped: each rule's are listed in summary alerts.
 */
export class AlertPlanner {
  readonly #limit: AlertRateLimit;
  /** Per rule: the newest window seen and the single alerts already committed in it. */
  readonly #used = new Map<string, { window: number; count: number }>();

  constructor(limit: AlertRateLimit = DEFAULT_ALERT_RATE_LIMIT) {
    if (!Number.isInteger(limit.alerts) || limit.alerts < 0 || limit.alerts > 10_000) {
      throw new RangeError('alerts per window must be a whole number from 0 to 10000');
    }
    if (!Number.isInteger(limit.windowSeconds) || limit.windowSeconds < 1 || limit.windowSeconds > 86_400) {
      throw new RangeError('the window must be a whole number of seconds from 1 to 86400');
    }
    this.#limit = limit;
  }

  /** The alerts for `matches` (in their order), one per rule and event; summaries after the single alerts. */
  plan(matches: readonly RuleMatch[]): AlertPlan {
    const windowMs = this.#limit.windowSeconds * 1000;
    const pending = new Map<string, { window: number; count: number }>();
    const singles: PlannedAlert[] = [];
    const over = new Map<string, { rule: SigmaRule; events: MatchedEvent[] }>();
    const seen = new Set<string>();
    for (const { rule, event } of matches) {
      const key = `${rule.id}\n${event.alertKey}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const window = Math.floor(Date.parse(event.receivedAt) / windowMs);
      const state = pending.get(rule.id) ?? this.#current(rule.id, window);
      const used = state.window === window ? state.count : window > state.window ? 0 : this.#limit.alerts;
      // A match from a window older than the rule's newest one is over the limit: counts are not kept
      // for past windows, and counting it as new would let a replay of old matches through uncapped.
      if (used < this.#limit.alerts) {
        pending.set(rule.id, { window, count: used + 1 });
        singles.push({ kind: 'alert', input: alertInput(rule, event), rule, matches: [event] });
      } else {
        if (window > state.window) pending.set(rule.id, { window, count: used });
        const group = over.get(rule.id) ?? { rule, events: [] };
        group.events.push(event);
        over.set(rule.id, group);
      }
    }
    const summaries: PlannedAlert[] = [];
    for (const { rule, events } of over.values()) {
      for (let i = 0; i < events.length; i += MAX_SUMMARY_MATCHES) {
        const chunk = events.slice(i, i + MAX_SUMMARY_MATCHES);
        summaries.push({
          kind: 'summary',
          input: summaryInput(rule, chunk, this.#limit),
          rule,
          matches: chunk,
        });
      }
    }
    return {
      alerts: [...singles, ...summaries],
      commit: () => {
        for (const [ruleId, state] of pending) {
          const current = this.#used.get(ruleId);
          if (current === undefined || state.window >= current.window) this.#used.set(ruleId, state);
        }
      },
    };
  }

  #current(ruleId: string, window: number): { window: number; count: number } {
    return this.#used.get(ruleId) ?? { window, count: 0 };
  }
}

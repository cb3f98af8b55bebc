/**
 * Ports of the detection path: where alerts are indexed for `GET /v1/alerts`, and where they are
 * announced (SNS, EventBridge). An alert itself is a ledger event (channel `detection`), written through
 * the ingest core like any other; these ports only index and announce it.
 */
import type { Receipt } from '../ledger/formats.ts';

/** Sigma rule levels, lowest first. */
export const ALERT_LEVELS = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export type AlertLevel = (typeof ALERT_LEVELS)[number];

/** `alert`: one rule matched one event; `summary`: matches of one rule beyond its rate limit. */
export type AlertKind = 'alert' | 'summary';

/** One stored alert, as the index keeps it: the alert event's stored bytes and its ingest receipt. */
export interface IndexedAlert {
  readonly alertId: string;
  /** The alert event's `receivedAt` (its receipt's). */
  readonly receivedAt: string;
  readonly ruleId: string;
  readonly level: AlertLevel;
  readonly kind: AlertKind;
  /** The alert event's stored canonical bytes; `hashLeaf(bytes)` is the receipt's `leafHash`. */
  readonly bytes: Uint8Array;
  readonly receipt: Receipt;
}

/** A page request: newest first, inside `[fromMs, toMs)` of `receivedAt`. */
export interface AlertListQuery {
  readonly ruleId?: string;
  readonly level?: AlertLevel;
  readonly fromMs: number;
  readonly toMs: number;
  readonly limit: number;
  /** Continue after this alert (its `<receivedAt>#<alertId>` position), exclusive. */
  readonly after?: string;
}

export interface AlertPage {
  readonly alerts: readonly IndexedAlert[];
  /** The position of the last alert returned (or read), when more may follow. */
  readonly next?: string;
}

/** The alert index. Put-only: an alert recorded twice is one entry. */
export interface AlertIndex {
  /** Records alerts; an entry that already exists is left as it is. */
  record(alerts: readonly IndexedAlert[]): Promise<void>;
  list(query: AlertListQuery): Promise<AlertPage>;
}

/** What is announced for an alert: small, with no content of the matched event beyond its id. */
export interface AlertNotice {
  readonly type: 'auditseal.detection.v1';
  readonly ledger: string;
  readonly alertId: string;
  readonly kind: AlertKind;
  readonly receivedAt: string;
  /** The alert event's leaf hash (hex), as its receipt has it. */
  readonly leafHash: string;
  readonly rule: {
    readonly id: string;
    readonly title: string;
    readonly level: AlertLevel;
    /** The Detection Rule License asks that messages based on a rule name its authors. */
    readonly author?: string;
  };
  /** How many matched events the alert covers (1 for an alert). */
  readonly count: number;
  /** The matched events' ids (at most the first 20 of a summary). */
  readonly eventIds: readonly string[];
}

/** Announces alerts; at least once (a retried stream batch announces again: dedupe on `alertId`). */
export interface AlertPublisher {
  publish(notices: readonly AlertNotice[]): Promise<void>;
}

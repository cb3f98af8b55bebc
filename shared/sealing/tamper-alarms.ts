/**
 * Tamper alarms (G5). Ledger items are put-only, so any MODIFY or REMOVE seen on the table's stream is
 * tampering — by a person with table access, since no service role can do it. No ledger row carries a
 * TTL (docs/LEDGER-TABLE.md), so there is no exemption: a REMOVE made by the DynamoDB service itself is an
 * alarm too (someone set a TTL attribute on a ledger row). INSERTs of rows the service did not write are
 * recognized separately (adapters/dynamodb/row-recognizer.ts) and raise FOREIGN_ROW alarms.
 */

/** The part of a stream record the alarm logic needs. */
export interface StreamChange {
  readonly streamEventId: string;
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  /** Approximate creation time of the change, in ms. */
  readonly changedAtMs: number;
  readonly pk?: string;
  readonly sk?: string;
  readonly userIdentity?: { readonly type?: string; readonly principalId?: string };
}

/**
 * What an alarm is about (G5, G6; docs/ALARMS.md):
 * - `TAMPER`: a MODIFY or REMOVE of a ledger item on the stream;
 * - `FOREIGN_ROW`: an INSERT of a row the service did not write (no signature backs it);
 * - `SEALING_EXCLUSION`: the sealer left a stored row out of a period, or found a signed leaf missing;
 * - `HEAD_REFUSED`: a seal-registry row that no signed statement backs, or one in the future;
 * - `SEALING_LAG`: a period was not sealed within its grace plus a margin.
 */
export type AlarmKind = 'TAMPER' | 'FOREIGN_ROW' | 'SEALING_EXCLUSION' | 'HEAD_REFUSED' | 'SEALING_LAG';

/**
 * A raised alarm; stored put-only under a deterministic id (the stream event id, or what it is about),
 * so redelivery or a re-run never doubles it.
 */
export interface TamperAlarm {
  readonly alarmId: string;
  readonly kind: AlarmKind;
  /** The stream change behind the alarm, or NONE for alarms raised by sealing. */
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE' | 'NONE';
  readonly pk: string;
  readonly sk: string;
  readonly changedAt: string;
  readonly streamEventId: string;
  readonly principal: string;
  /** The event the alarm is about, when there is one. */
  readonly eventId?: string;
  /** The period the alarm is about (its start, `YYYY-MM-DDTHH:MM:SSZ`), when there is one. */
  readonly period?: string;
  /** What was found, in one line (never the payload). */
  readonly detail?: string;
}

/** True for REMOVE records written by DynamoDB's own TTL process (reported, never exempted). */
export function isTtlExpiry(change: StreamChange): boolean {
  return (
    change.eventName === 'REMOVE' &&
    change.userIdentity?.type === 'Service' &&
    change.userIdentity.principalId === 'dynamodb.amazonaws.com'
  );
}

/** Alarms for every MODIFY and every REMOVE (TTL expiries included: no ledger row has a TTL), in stream order. */
export function tamperAlarmsOf(changes: readonly StreamChange[]): TamperAlarm[] {
  return changes
    .filter((c) => c.eventName !== 'INSERT')
    .map((c) => {
      const changedAt = new Date(c.changedAtMs).toISOString();
      return {
        alarmId: `${changedAt}#${c.streamEventId}`,
        kind: 'TAMPER' as const,
        eventName: c.eventName,
        pk: c.pk ?? '(unknown)',
        sk: c.sk ?? '(unknown)',
        changedAt,
        streamEventId: c.streamEventId,
        principal: c.userIdentity?.principalId ?? 'unknown',
        ...(isTtlExpiry(c)
          ? { detail: 'a TTL expiry removed a ledger row; no ledger row may carry a TTL' }
          : {}),
      };
    });
}

/** A FOREIGN_ROW alarm for an inserted row that no signature backs. */
export function foreignRowAlarm(change: StreamChange, problem: string): TamperAlarm {
  const changedAt = new Date(change.changedAtMs).toISOString();
  return {
    alarmId: `${changedAt}#${change.streamEventId}`,
    kind: 'FOREIGN_ROW',
    eventName: 'INSERT',
    pk: change.pk ?? '(unknown)',
    sk: change.sk ?? '(unknown)',
    changedAt,
    streamEventId: change.streamEventId,
    principal: change.userIdentity?.principalId ?? 'unknown',
    detail: `a row the service did not write: ${problem}`.slice(0, 1024),
  };
}

/**
 * Tamper alarms (G5). Ledger items are put-only, so any MODIFY or REMOVE seen on the table's stream is
 * tampering — by a person with table access, since no service role can do it. The one exception is a
 * TTL expiry, which DynamoDB itself performs and marks with the service principal on the stream record.
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

/** A raised alarm; stored put-only and keyed by the stream event id, so redelivery never doubles it. */
export interface TamperAlarm {
  readonly alarmId: string;
  readonly eventName: 'MODIFY' | 'REMOVE';
  readonly pk: string;
  readonly sk: string;
  readonly changedAt: string;
  readonly streamEventId: string;
  readonly principal: string;
}

/** True for REMOVE records written by DynamoDB's own TTL process. */
export function isTtlExpiry(change: StreamChange): boolean {
  return (
    change.eventName === 'REMOVE' &&
    change.userIdentity?.type === 'Service' &&
    change.userIdentity.principalId === 'dynamodb.amazonaws.com'
  );
}

/** Alarms for every MODIFY and every non-TTL REMOVE, in stream order. */
export function tamperAlarmsOf(changes: readonly StreamChange[]): TamperAlarm[] {
  return changes
    .filter((c) => c.eventName !== 'INSERT' && !isTtlExpiry(c))
    .map((c) => {
      const changedAt = new Date(c.changedAtMs).toISOString();
      return {
        alarmId: `${changedAt}#${c.streamEventId}`,
        eventName: c.eventName as 'MODIFY' | 'REMOVE',
        pk: c.pk ?? '(unknown)',
        sk: c.sk ?? '(unknown)',
        changedAt,
        streamEventId: c.streamEventId,
        principal: c.userIdentity?.principalId ?? 'unknown',
      };
    });
}

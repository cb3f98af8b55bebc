/**
 * `GET /v1/alerts`: its query parameters, its cursors and the alert it returns. docs/API.md ("Detection
 * alerts") is the contract.
 *
 * A cursor is the position of the last alert returned (`<receivedAt>#<alertId>`) plus a hash of the
 * query it belongs to, base64url-encoded. It is checked, not signed: it can only name a position inside
 * the caller's own query (same ledger partition, same filters, inside `[from, to)`), which that caller
 * may read from anyway, so a forged cursor gains nothing; a cursor of another query is refused.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { isPlainObject } from '../events/json-guard.ts';
import type { Receipt } from '../ledger/formats.ts';
import {
  ALERT_LEVELS,
  type AlertIndex,
  type AlertKind,
  type AlertLevel,
  type AlertListQuery,
  type IndexedAlert,
} from '../ports/alerts.ts';

export const DEFAULT_ALERT_LIMIT = 100;
export const MAX_ALERT_LIMIT = 1_000;
const MAX_TIME_MS = Date.UTC(10_000, 0, 1);
const POSITION = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z#det:[A-Za-z0-9._:@/+=-]{1,124}$/;

/** The index position of an alert: `<receivedAt>#<alertId>` (sorts by time, then id). */
export function alertPosition(receivedAt: string, alertId: string): string {
  return `${receivedAt}#${alertId}`;
}

/** The query string of `GET /v1/alerts`; unknown parameters are refused. */
export const alertQuerySchema = z
  .object({
    rule: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/)
      .optional(),
    level: z.enum(ALERT_LEVELS).optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    limit: z.coerce.number().int().min(1).max(MAX_ALERT_LIMIT).default(DEFAULT_ALERT_LIMIT),
    cursor: z
      .string()
      .max(512)
      .regex(/^[A-Za-z0-9_-]+$/)
      .optional(),
  })
  .strict();

export type AlertQueryParameters = z.output<typeof alertQuerySchema>;

/** A query that parsed but cannot be answered: `parameter` names the culprit. */
export class AlertQueryError extends Error {
  override readonly name = 'AlertQueryError';
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(message);
  }
}

/** The index query of parsed parameters; throws `AlertQueryError` for a bad range or cursor. */
export function toListQuery(parameters: AlertQueryParameters): AlertListQuery {
  const fromMs = parameters.from === undefined ? 0 : Date.parse(parameters.from);
  const toMs = parameters.to === undefined ? MAX_TIME_MS : Date.parse(parameters.to);
  if (!(fromMs >= 0) || !(toMs <= MAX_TIME_MS)) {
    throw new AlertQueryError('from', 'from and to must lie between 1970 and 9999');
  }
  if (fromMs >= toMs) throw new AlertQueryError('to', 'to must be later than from');
  const query: AlertListQuery = {
    fromMs,
    toMs,
    limit: parameters.limit,
    ...(parameters.rule === undefined ? {} : { ruleId: parameters.rule }),
    ...(parameters.level === undefined ? {} : { level: parameters.level }),
  };
  if (parameters.cursor === undefined) return query;
  return { ...query, after: decodeCursor(parameters.cursor, query) };
}

/** The cursor that continues `query` after `position`. */
export function encodeCursor(position: string, query: AlertListQuery): string {
  return Buffer.from(JSON.stringify({ p: position, q: queryHash(query) }), 'utf8').toString('base64url');
}

const cursorSchema = z.strictObject({ p: z.string().regex(POSITION), q: z.string().regex(/^[0-9a-f]{16}$/) });

function decodeCursor(cursor: string, query: AlertListQuery): string {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new AlertQueryError('cursor', 'cursor is not one this API returned');
  }
  const parsed = cursorSchema.safeParse(value);
  if (!parsed.success) throw new AlertQueryError('cursor', 'cursor is not one this API returned');
  if (parsed.data.q !== queryHash(query)) {
    throw new AlertQueryError('cursor', 'cursor belongs to a query with other filters or another range');
  }
  const ms = Date.parse(parsed.data.p.slice(0, 24));
  if (!(ms >= query.fromMs && ms < query.toMs)) {
    throw new AlertQueryError('cursor', 'cursor lies outside the query range');
  }
  return parsed.data.p;
}

/** What a cursor is bound to: the filters and the range, not the page size. */
function queryHash(query: AlertListQuery): string {
  const bound = [query.ruleId ?? '', query.level ?? '', query.fromMs, query.toMs];
  return createHash('sha256').update(JSON.stringify(bound)).digest('hex').slice(0, 16);
}

/** One alert as `GET /v1/alerts` returns it. */
export interface AlertView {
  readonly alertId: string;
  readonly kind: AlertKind;
  readonly receivedAt: string;
  readonly level: AlertLevel;
  readonly rule: { readonly id: string; readonly title: string; readonly author?: string };
  /** How many matched events the alert covers, and their ids. */
  readonly count: number;
  readonly eventIds: readonly string[];
  /** The stored alert event itself (its canonical JSON, parsed). */
  readonly event: Record<string, unknown>;
  /** Its ingest receipt: `auditseal verify-receipt` checks it offline. */
  readonly receipt: Receipt;
}

/** The view of an indexed alert. */
export function alertView(alert: IndexedAlert): AlertView {
  const event = JSON.parse(Buffer.from(alert.bytes).toString('utf8')) as Record<string, unknown>;
  const details = isPlainObject(event['details']) ? event['details'] : {};
  const rule = isPlainObject(details['rule']) ? details['rule'] : {};
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const eventIds =
    alert.kind === 'summary'
      ? (Array.isArray(details['matches']) ? details['matches'] : []).flatMap((m) =>
          isPlainObject(m) && typeof m['eventId'] === 'string' ? [m['eventId']] : [],
        )
      : isPlainObject(details['match']) && typeof details['match']['eventId'] === 'string'
        ? [details['match']['eventId']]
        : [];
  const author = text(rule['author']);
  return {
    alertId: alert.alertId,
    kind: alert.kind,
    receivedAt: alert.receivedAt,
    level: alert.level,
    rule: { id: alert.ruleId, title: text(rule['title']) ?? '', ...(author === undefined ? {} : { author }) },
    count: eventIds.length,
    eventIds,
    event,
    receipt: alert.receipt,
  };
}

/** One page of alerts, newest first, with the cursor of the next page when there may be one. */
export async function listAlerts(
  parameters: AlertQueryParameters,
  index: AlertIndex,
): Promise<{ alerts: AlertView[]; cursor?: string }> {
  const query = toListQuery(parameters);
  const page = await index.list(query);
  return {
    alerts: page.alerts.map(alertView),
    ...(page.next === undefined ? {} : { cursor: encodeCursor(page.next, query) }),
  };
}

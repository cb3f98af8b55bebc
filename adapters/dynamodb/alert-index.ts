/**
 * The alert index in the ledger table (docs/LEDGER-TABLE.md): one put-only item per alert,
 * `DA#<ledger>` / `<receivedAt>#<alertId>`, holding the alert event's stored bytes and its ingest receipt,
 * so every index item is backed by a signature (the row recognizer checks it) and every alert the API
 * returns can be verified offline. The rule id and level are copied out for the query filters.
 */
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { canonicalString } from '../../shared/canonical/jcs.ts';
import { alertPosition } from '../../shared/detect/alert-query.ts';
import { receiptSchema } from '../../shared/ledger/formats.ts';
import {
  ALERT_LEVELS,
  type AlertIndex,
  type AlertListQuery,
  type AlertPage,
  type IndexedAlert,
} from '../../shared/ports/alerts.ts';
import type { Item } from './ledger-items.ts';

/** Most items one `list` reads before it answers with what it has (and a cursor), whatever the filters. */
export const MAX_ITEMS_READ_PER_LIST = 5_000;

/** The partition of a ledger's alert index. */
export function alertIndexPartition(ledger: string): string {
  return `DA#${ledger}`;
}

/** The item of one indexed alert. */
export function alertIndexItem(ledger: string, alert: IndexedAlert): Item {
  return {
    pk: { S: alertIndexPartition(ledger) },
    sk: { S: alertPosition(alert.receivedAt, alert.alertId) },
    alertId: { S: alert.alertId },
    receivedAt: { S: alert.receivedAt },
    ruleId: { S: alert.ruleId },
    level: { S: alert.level },
    kind: { S: alert.kind },
    body: { B: alert.bytes },
    receipt: { S: canonicalString(alert.receipt) },
  };
}

const str = z.object({ S: z.string() }).transform((v) => v.S);
const itemSchema = z.looseObject({
  sk: str,
  alertId: str,
  receivedAt: str,
  ruleId: str,
  level: z.object({ S: z.enum(ALERT_LEVELS) }).transform((v) => v.S),
  kind: z.object({ S: z.enum(['alert', 'summary']) }).transform((v) => v.S),
  body: z.object({ B: z.instanceof(Uint8Array) }).transform((v) => v.B),
  receipt: str,
});

/** An index item read back, or a reason it is not one (the row recognizer uses the same check). */
export function parseAlertIndexItem(item: Item): IndexedAlert | string {
  const parsed = itemSchema.safeParse(item);
  if (!parsed.success) return `not an alert index item: ${parsed.error.issues[0]?.path.join('.') ?? ''}`;
  const p = parsed.data;
  if (p.sk !== alertPosition(p.receivedAt, p.alertId)) return 'its sort key does not match its time and id';
  let receiptValue: unknown;
  try {
    receiptValue = JSON.parse(p.receipt);
  } catch {
    return 'its receipt is not JSON';
  }
  const receipt = receiptSchema.safeParse(receiptValue);
  if (!receipt.success) return 'its receipt is malformed';
  return {
    alertId: p.alertId,
    receivedAt: p.receivedAt,
    ruleId: p.ruleId,
    level: p.level,
    kind: p.kind,
    bytes: p.body,
    receipt: receipt.data,
  };
}

export interface DynamoDbAlertIndexOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly ledger: string;
}

export class DynamoDbAlertIndex implements AlertIndex {
  constructor(private readonly options: DynamoDbAlertIndexOptions) {}

  async record(alerts: readonly IndexedAlert[]): Promise<void> {
    for (const alert of alerts) {
      try {
        await this.options.client.send(
          new PutItemCommand({
            TableName: this.options.tableName,
            Item: alertIndexItem(this.options.ledger, alert),
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      } catch (error) {
        // Already indexed (a retried batch): the alert event behind it is the same, by its id.
        if (error instanceof ConditionalCheckFailedException) continue;
        throw error;
      }
    }
  }

  /**
   * Newest first. Filters run on the server (FilterExpression), so a page can read more items than it
   * returns; it stops after `MAX_ITEMS_READ_PER_LIST` items read and continues from there next time.
   */
  async list(query: AlertListQuery): Promise<AlertPage> {
    const names: Record<string, string> = { '#pk': 'pk', '#sk': 'sk' };
    const values: Item = {
      ':pk': { S: alertIndexPartition(this.options.ledger) },
      ':from': { S: timeKey(query.fromMs) },
      ':to': { S: timeKey(query.toMs) },
    };
    const filters: string[] = [];
    if (query.ruleId !== undefined) {
      names['#rule'] = 'ruleId';
      values[':rule'] = { S: query.ruleId };
      filters.push('#rule = :rule');
    }
    if (query.level !== undefined) {
      names['#level'] = 'level';
      values[':level'] = { S: query.level };
      filters.push('#level = :level');
    }
    const alerts: IndexedAlert[] = [];
    let start: Item | undefined =
      query.after === undefined ? undefined : { pk: values[':pk']!, sk: { S: query.after } };
    let read = 0;
    for (;;) {
      const input: QueryCommandInput = {
        TableName: this.options.tableName,
        KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ScanIndexForward: false,
        ConsistentRead: true,
        Limit: Math.min(1_000, MAX_ITEMS_READ_PER_LIST - read),
        ...(filters.length > 0 ? { FilterExpression: filters.join(' AND ') } : {}),
        ...(start === undefined ? {} : { ExclusiveStartKey: start }),
      };
      const page = await this.options.client.send(new QueryCommand(input));
      read += page.ScannedCount ?? 0;
      for (const item of page.Items ?? []) {
        const alert = parseAlertIndexItem(item);
        if (typeof alert === 'string') continue; // the recognizer raised FOREIGN_ROW for it
        // `:to` is exclusive: an alert at exactly `to` sorts after the bare time and is skipped here.
        if (Date.parse(alert.receivedAt) >= query.toMs) continue;
        alerts.push(alert);
        if (alerts.length === query.limit) {
          const more = page.LastEvaluatedKey !== undefined || item !== page.Items!.at(-1);
          return more ? { alerts, next: item['sk']!.S! } : { alerts };
        }
      }
      if (page.LastEvaluatedKey === undefined) return { alerts };
      start = page.LastEvaluatedKey;
      if (read >= MAX_ITEMS_READ_PER_LIST) return { alerts, next: start['sk']!.S! };
    }
  }
}

/** A sort-key bound for a time: its ISO form, or past every 4-digit year for the open end. */
function timeKey(ms: number): string {
  return ms >= Date.UTC(10_000, 0, 1) ? '9999-12-31T23:59:59.999Z~' : new Date(ms).toISOString();
}

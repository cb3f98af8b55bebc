/**
 * AlarmSink in the ledger table: one put-only item per alarm, `AL#<ledger>`/`<changedAt>#<stream event id>`,
 * so a redelivered stream batch stores each alarm once. Each alarm is also logged; on AWS the same
 * alarm is published to the SNS topic named by AUDITSEAL_ALARM_TOPIC (see docs/ALARMS.md).
 */
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import type { AlarmSink } from '../../shared/ports/sealing.ts';
import type { TamperAlarm } from '../../shared/sealing/tamper-alarms.ts';

export interface DynamoDbAlarmStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly ledger: string;
  /** Called once per newly stored alarm (logging, SNS). */
  readonly publish?: (alarm: TamperAlarm) => Promise<void>;
}

export class DynamoDbAlarmStore implements AlarmSink {
  constructor(private readonly options: DynamoDbAlarmStoreOptions) {}

  async raise(alarms: readonly TamperAlarm[]): Promise<void> {
    for (const alarm of alarms) {
      try {
        await this.options.client.send(
          new PutItemCommand({
            TableName: this.options.tableName,
            Item: {
              pk: { S: `AL#${this.options.ledger}` },
              sk: { S: alarm.alarmId },
              kind: { S: alarm.kind },
              eventName: { S: alarm.eventName },
              ...(alarm.eventId !== undefined ? { eventId: { S: alarm.eventId } } : {}),
              ...(alarm.period !== undefined ? { period: { S: alarm.period } } : {}),
              ...(alarm.detail !== undefined ? { detail: { S: alarm.detail.slice(0, 1024) } } : {}),
              itemPk: { S: alarm.pk },
              itemSk: { S: alarm.sk },
              changedAt: { S: alarm.changedAt },
              streamEventId: { S: alarm.streamEventId },
              principal: { S: alarm.principal },
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) continue;
        throw error;
      }
      await this.options.publish?.(alarm);
    }
  }

  /** Alarms, newest first. */
  async list(limit = 100): Promise<TamperAlarm[]> {
    const result = await this.options.client.send(
      new QueryCommand({
        TableName: this.options.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: `AL#${this.options.ledger}` } },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (result.Items ?? []).map((item) => ({
      alarmId: item['sk']?.S ?? '',
      kind: (item['kind']?.S ?? 'TAMPER') as TamperAlarm['kind'],
      eventName: (item['eventName']?.S ?? 'MODIFY') as TamperAlarm['eventName'],
      ...(item['eventId']?.S !== undefined ? { eventId: item['eventId'].S } : {}),
      ...(item['period']?.S !== undefined ? { period: item['period'].S } : {}),
      ...(item['detail']?.S !== undefined ? { detail: item['detail'].S } : {}),
      pk: item['itemPk']?.S ?? '',
      sk: item['itemSk']?.S ?? '',
      changedAt: item['changedAt']?.S ?? '',
      streamEventId: item['streamEventId']?.S ?? '',
      principal: item['principal']?.S ?? '',
    }));
  }
}

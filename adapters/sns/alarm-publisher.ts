/**
 * Publishes each newly stored tamper alarm to the SNS topic the stack creates for them
 * (`auditseal-<ledger>-alarms`), so on-call people are paged with the item and principal involved.
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { TamperAlarm } from '../../shared/sealing/tamper-alarms.ts';

export function snsAlarmPublisher(options: { client: SNSClient; topicArn: string; ledger: string }) {
  return async (alarm: TamperAlarm): Promise<void> => {
    await options.client.send(
      new PublishCommand({
        TopicArn: options.topicArn,
        Subject:
          `auditseal ${alarm.kind} ALARM (${options.ledger}): ${alarm.detail ?? `${alarm.eventName} on a ledger item`}`.slice(
            0,
            99,
          ),
        Message: JSON.stringify({ ledger: options.ledger, ...alarm }),
        MessageAttributes: {
          kind: { DataType: 'String', StringValue: alarm.kind },
          eventName: { DataType: 'String', StringValue: alarm.eventName },
        },
      }),
    );
  };
}

/**
 * Announces detection alerts on an SNS topic: one message per alert (the notice as JSON), with the level,
 * rule id and kind as message attributes so subscriptions can filter (for example, page only on `high`
 * and `critical`). Subscribers deduplicate on `alertId`: a retried stream batch announces again.
 */
import { PublishBatchCommand, type PublishBatchRequestEntry, type SNSClient } from '@aws-sdk/client-sns';
import type { AlertNotice, AlertPublisher } from '../../shared/ports/alerts.ts';

/** SNS takes at most 10 messages per PublishBatch. */
const SNS_BATCH = 10;

/** The subject of an alert's message (SNS subjects are at most 100 characters). */
export function alertSubject(notice: AlertNotice): string {
  const what = notice.kind === 'summary' ? `${notice.count} more matches of` : 'detection:';
  return `auditseal ${notice.rule.level.toUpperCase()} ${what} ${notice.rule.title}`
    .replace(/[\r\n]+/g, ' ')
    .slice(0, 100);
}

export class SnsAlertPublisher implements AlertPublisher {
  constructor(private readonly options: { client: SNSClient; topicArn: string }) {}

  async publish(notices: readonly AlertNotice[]): Promise<void> {
    for (let i = 0; i < notices.length; i += SNS_BATCH) {
      const entries: PublishBatchRequestEntry[] = notices.slice(i, i + SNS_BATCH).map((notice, n) => ({
        Id: String(n),
        Subject: alertSubject(notice),
        Message: JSON.stringify(notice),
        MessageAttributes: {
          level: { DataType: 'String', StringValue: notice.rule.level },
          ruleId: { DataType: 'String', StringValue: notice.rule.id },
          kind: { DataType: 'String', StringValue: notice.kind },
        },
      }));
      const result = await this.options.client.send(
        new PublishBatchCommand({ TopicArn: this.options.topicArn, PublishBatchRequestEntries: entries }),
      );
      const failed = result.Failed ?? [];
      if (failed.length > 0) {
        throw new Error(`SNS refused ${failed.length} alert message(s): ${failed[0]?.Code ?? 'unknown'}`);
      }
    }
  }
}

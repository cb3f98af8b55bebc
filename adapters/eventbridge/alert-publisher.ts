/**
 * Announces detection alerts as EventBridge events (`source: auditseal`, `detail-type: auditseal
 * Detection`, the notice as `detail`), for rules that route them to existing paging tools.
 */
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { AlertNotice, AlertPublisher } from '../../shared/ports/alerts.ts';

export const DETECTION_EVENT_SOURCE = 'auditseal';
export const DETECTION_DETAIL_TYPE = 'auditseal Detection';
/** PutEvents takes at most 10 entries per call. */
const EVENTS_BATCH = 10;

export class EventBridgeAlertPublisher implements AlertPublisher {
  /** `eventBusName`: a bus name or ARN; `default` is the account's default bus. */
  constructor(private readonly options: { client: EventBridgeClient; eventBusName: string }) {}

  async publish(notices: readonly AlertNotice[]): Promise<void> {
    for (let i = 0; i < notices.length; i += EVENTS_BATCH) {
      const result = await this.options.client.send(
        new PutEventsCommand({
          Entries: notices.slice(i, i + EVENTS_BATCH).map((notice) => ({
            EventBusName: this.options.eventBusName,
            Source: DETECTION_EVENT_SOURCE,
            DetailType: DETECTION_DETAIL_TYPE,
            Detail: JSON.stringify(notice),
            Time: new Date(notice.receivedAt),
          })),
        }),
      );
      if ((result.FailedEntryCount ?? 0) > 0) {
        const code = result.Entries?.find((e) => e.ErrorCode)?.ErrorCode ?? 'unknown';
        throw new Error(`EventBridge refused ${result.FailedEntryCount} alert event(s): ${code}`);
      }
    }
  }
}

import type { AlertNotice, AlertPublisher } from '../ports/alerts.ts';

/** Announces on every publisher, all of them attempted; throws the first failure after trying all. */
export class FanOutAlertPublisher implements AlertPublisher {
  constructor(private readonly publishers: readonly AlertPublisher[]) {}

  async publish(notices: readonly AlertNotice[]): Promise<void> {
    if (notices.length === 0) return;
    const results = await Promise.allSettled(this.publishers.map((p) => p.publish(notices)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }
}

import { alertPosition } from '../detect/alert-query.ts';
import type {
  AlertIndex,
  AlertListQuery,
  AlertNotice,
  AlertPage,
  AlertPublisher,
  IndexedAlert,
} from '../ports/alerts.ts';

/** In-memory AlertIndex with the DynamoDB adapter's semantics: put-only, newest first, filters, positions. */
export class InMemoryAlertIndex implements AlertIndex {
  readonly #byPosition = new Map<string, IndexedAlert>();
  /** Entries read by the last `list` (filtered out ones included), as a DynamoDB query would read them. */
  lastRead = 0;

  get size(): number {
    return this.#byPosition.size;
  }

  all(): IndexedAlert[] {
    return [...this.#byPosition.values()];
  }

  async record(alerts: readonly IndexedAlert[]): Promise<void> {
    for (const alert of alerts) {
      const position = alertPosition(alert.receivedAt, alert.alertId);
      if (!this.#byPosition.has(position)) this.#byPosition.set(position, alert);
    }
  }

  async list(query: AlertListQuery): Promise<AlertPage> {
    const positions = [...this.#byPosition.keys()].sort().reverse();
    const alerts: IndexedAlert[] = [];
    this.lastRead = 0;
    for (const position of positions) {
      if (query.after !== undefined && position >= query.after) continue;
      const alert = this.#byPosition.get(position)!;
      const ms = Date.parse(alert.receivedAt);
      if (ms >= query.toMs) continue;
      if (ms < query.fromMs) break;
      this.lastRead++;
      if (query.ruleId !== undefined && alert.ruleId !== query.ruleId) continue;
      if (query.level !== undefined && alert.level !== query.level) continue;
      alerts.push(alert);
      if (alerts.length === query.limit) {
        const more = positions.some((p) => p < position && Date.parse(p.slice(0, 24)) >= query.fromMs);
        return more ? { alerts, next: position } : { alerts };
      }
    }
    return { alerts };
  }
}

/** An AlertPublisher that keeps what it was given, and can be made to fail. */
export class RecordingAlertPublisher implements AlertPublisher {
  readonly notices: AlertNotice[] = [];
  failWith: Error | undefined;

  async publish(notices: readonly AlertNotice[]): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.notices.push(...notices);
  }
}

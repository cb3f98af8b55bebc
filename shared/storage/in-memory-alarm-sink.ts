import type { AlarmSink } from '../ports/sealing.ts';
import type { TamperAlarm } from '../sealing/tamper-alarms.ts';

/** In-memory AlarmSink: stores each alarm once, by id. */
export class InMemoryAlarmSink implements AlarmSink {
  readonly alarms = new Map<string, TamperAlarm>();

  async raise(alarms: readonly TamperAlarm[]): Promise<void> {
    for (const alarm of alarms) if (!this.alarms.has(alarm.alarmId)) this.alarms.set(alarm.alarmId, alarm);
  }
}

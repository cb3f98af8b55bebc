/**
 * The local stand-in for an EventBridge schedule: runs a job every N seconds, on boundaries aligned to the
 * epoch (with a 60 s interval: at :00 of every minute, plus an optional offset), never two runs at once.
 * A tick that comes while the previous run is still going is skipped, not queued.
 *
 * @example
 * const scheduler = startScheduler({ intervalSeconds: 60, offsetSeconds: 5, run: async ({ scheduledTime }) => {} });
 * await scheduler.stop();
 */

import { randomUUID } from 'node:crypto';
import type { ScheduledEvent } from 'aws-lambda';

/** One tick. */
export interface Tick {
  /** The aligned boundary this run is for. */
  readonly scheduledTime: Date;
}

export interface SchedulerOptions {
  readonly intervalSeconds: number;
  /** Seconds after each aligned boundary; default 0. Must be less than the interval. */
  readonly offsetSeconds?: number;
  readonly run: (tick: Tick) => Promise<void>;
  readonly now?: () => number;
  /** Failures and skipped ticks. */
  readonly log?: (line: string) => void;
}

/** A running schedule. */
export interface Scheduler {
  /** When the next run is due. */
  readonly nextRun: () => Date | undefined;
  /** Cancels future ticks and waits for a run in progress. Idempotent. */
  stop(): Promise<void>;
}

/** The next boundary strictly after `nowMs`: a multiple of the interval, plus the offset. */
export function nextBoundary(nowMs: number, intervalSeconds: number, offsetSeconds = 0): number {
  const interval = intervalSeconds * 1000;
  const offset = offsetSeconds * 1000;
  return Math.floor((nowMs - offset) / interval) * interval + offset + interval;
}

/** Starts the schedule; the first run is at the next boundary, not at once. */
export function startScheduler(options: SchedulerOptions): Scheduler {
  const { intervalSeconds } = options;
  const offsetSeconds = options.offsetSeconds ?? 0;
  if (!(intervalSeconds > 0) || !(offsetSeconds >= 0) || offsetSeconds >= intervalSeconds) {
    throw new RangeError(
      `need 0 <= offsetSeconds < intervalSeconds, got ${offsetSeconds} and ${intervalSeconds}`,
    );
  }
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => {});
  let timer: NodeJS.Timeout | undefined;
  let due: number | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  const schedule = () => {
    if (stopped) return;
    // Strictly after the boundary just fired too: a timer may fire a little before the wall clock reaches
    // its boundary (timers run on a monotonic clock), and the same boundary must not be scheduled twice.
    due = nextBoundary(due === undefined ? now() : Math.max(now(), due), intervalSeconds, offsetSeconds);
    timer = setTimeout(fire, Math.max(0, due - now()));
  };
  const fire = () => {
    const scheduledTime = new Date(due!);
    schedule();
    if (running !== undefined) {
      log(`scheduler: skipped the ${scheduledTime.toISOString()} run: the previous one is still going`);
      return;
    }
    running = options
      .run({ scheduledTime })
      .catch((error: unknown) => {
        log(
          `scheduler: the ${scheduledTime.toISOString()} run failed: ${error instanceof Error ? (error.stack ?? error.name) : 'non-Error thrown'}`,
        );
      })
      .finally(() => {
        running = undefined;
      });
  };
  schedule();

  return {
    nextRun: () => (stopped || due === undefined ? undefined : new Date(due)),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/** The event an EventBridge schedule rule sends its target. */
export function scheduledEvent(
  tick: Tick,
  options: { region: string; accountId: string; ruleName: string },
): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: options.accountId,
    time: tick.scheduledTime.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: options.region,
    resources: [`arn:aws:events:${options.region}:${options.accountId}:rule/${options.ruleName}`],
    detail: {},
  };
}

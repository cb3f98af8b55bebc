/**
 * The local heartbeat scheduler: aligned ticks, no overlapping runs, a clean stop.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { nextBoundary, scheduledEvent, startScheduler } from '../../../local/scheduler.ts';

const T0 = Date.parse('2024-06-01T12:00:10Z');

describe('Function: nextBoundary', () => {
  it.each([
    [T0, 60, 0, '2024-06-01T12:01:00.000Z'],
    [Date.parse('2024-06-01T12:01:00Z'), 60, 0, '2024-06-01T12:02:00.000Z'],
    [T0, 60, 5, '2024-06-01T12:01:05.000Z'],
    [Date.parse('2024-06-01T12:00:04Z'), 60, 5, '2024-06-01T12:00:05.000Z'],
    [T0, 3600, 0, '2024-06-01T13:00:00.000Z'],
    [T0, 7, 0, new Date((Math.floor(T0 / 7000) + 1) * 7000).toISOString()],
  ])('after %s every %is (offset %is) is %s', (now, interval, offset, expected) => {
    // Act & Assess
    expect(new Date(nextBoundary(now, interval, offset)).toISOString()).toBe(expected);
  });
});

describe('Function: startScheduler', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs at each aligned boundary with its scheduled time', async () => {
    // Prepare
    const runs: string[] = [];
    const scheduler = startScheduler({
      intervalSeconds: 60,
      run: async ({ scheduledTime }) => void runs.push(scheduledTime.toISOString()),
    });

    // Act
    await vi.advanceTimersByTimeAsync(49_999);
    const beforeFirst = [...runs];
    await vi.advanceTimersByTimeAsync(1 + 120_000);
    await scheduler.stop();

    // Assess
    expect(beforeFirst).toEqual([]);
    expect(runs).toEqual([
      '2024-06-01T12:01:00.000Z',
      '2024-06-01T12:02:00.000Z',
      '2024-06-01T12:03:00.000Z',
    ]);
  });

  it('runs each boundary once when the timer fires before the wall clock reaches it', async () => {
    // Prepare: the clock reads 5 ms ahead when the first timer is set, then right, so that timer fires
    // 5 ms before its boundary by the clock (as libuv's cached loop time can make a timer fire early)
    const runs: string[] = [];
    const logs: string[] = [];
    let skew = 5;
    let finish: () => void = () => {};
    const scheduler = startScheduler({
      intervalSeconds: 60,
      now: () => Date.now() + skew,
      run: ({ scheduledTime }) => {
        runs.push(scheduledTime.toISOString());
        return new Promise<void>((resolve) => {
          finish = resolve;
        });
      },
      log: (line) => logs.push(line),
    });
    skew = 0;

    // Act: the first run is still going a few ms after its boundary
    await vi.advanceTimersByTimeAsync(50_000 + 20);
    finish();
    await vi.advanceTimersByTimeAsync(60_000);
    finish();
    await scheduler.stop();

    // Assess: no second run, and no "skipped" line, for a boundary already run
    expect(runs).toEqual(['2024-06-01T12:01:00.000Z', '2024-06-01T12:02:00.000Z']);
    expect(logs).toEqual([]);
  });

  it('skips a tick while the previous run is still going, and logs it', async () => {
    // Prepare
    const runs: string[] = [];
    const logs: string[] = [];
    let finish: () => void = () => {};
    const scheduler = startScheduler({
      intervalSeconds: 10,
      log: (line) => void logs.push(line),
      run: ({ scheduledTime }) => {
        runs.push(scheduledTime.toISOString());
        return runs.length === 1 ? new Promise<void>((resolve) => (finish = resolve)) : Promise.resolve();
      },
    });

    // Act
    await vi.advanceTimersByTimeAsync(10_000); // 12:00:20 starts and hangs
    await vi.advanceTimersByTimeAsync(10_000); // 12:00:30 is skipped
    finish();
    await vi.advanceTimersByTimeAsync(10_000); // 12:00:40 runs
    await scheduler.stop();

    // Assess
    expect(runs).toEqual(['2024-06-01T12:00:20.000Z', '2024-06-01T12:00:40.000Z']);
    expect(logs).toEqual([expect.stringContaining('skipped the 2024-06-01T12:00:30.000Z run')]);
  });

  it('keeps going after a failed run', async () => {
    // Prepare
    let calls = 0;
    const logs: string[] = [];
    const scheduler = startScheduler({
      intervalSeconds: 10,
      log: (line) => void logs.push(line),
      run: async () => {
        calls++;
        if (calls === 1) throw new Error('boom');
      },
    });

    // Act
    await vi.advanceTimersByTimeAsync(20_000);
    await scheduler.stop();

    // Assess
    expect(calls).toBe(2);
    expect(logs).toEqual([expect.stringContaining('run failed: Error: boom')]);
  });

  describe('when stopped', () => {
    it('waits for the run in progress and runs no more', async () => {
      // Prepare
      let finished = false;
      let calls = 0;
      const scheduler = startScheduler({
        intervalSeconds: 10,
        run: async () => {
          calls++;
          await new Promise((resolve) => setTimeout(resolve, 5000));
          finished = true;
        },
      });
      await vi.advanceTimersByTimeAsync(10_000);

      // Act
      const stopping = scheduler.stop();
      await vi.advanceTimersByTimeAsync(5000);
      await stopping;
      await vi.advanceTimersByTimeAsync(60_000);

      // Assess
      expect(finished).toBe(true);
      expect(calls).toBe(1);
      expect(scheduler.nextRun()).toBeUndefined();
    });
  });

  describe('when the offset is not below the interval', () => {
    it('throws a RangeError', () => {
      // Act & Assess
      expect(() => startScheduler({ intervalSeconds: 10, offsetSeconds: 10, run: async () => {} })).toThrow(
        RangeError,
      );
    });
  });
});

describe('Function: scheduledEvent', () => {
  it('has the shape of an EventBridge scheduled event', () => {
    // Act
    const event = scheduledEvent(
      { scheduledTime: new Date('2024-06-01T12:01:00.000Z') },
      { region: 'us-east-1', accountId: '000000000000', ruleName: 'auditseal-heartbeat' },
    );

    // Assess
    expect(event).toEqual({
      version: '0',
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: '2024-06-01T12:01:00Z',
      region: 'us-east-1',
      resources: ['arn:aws:events:us-east-1:000000000000:rule/auditseal-heartbeat'],
      detail: {},
    });
  });
});

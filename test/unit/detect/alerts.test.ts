import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalBytes } from '../../../shared/canonical/jcs.ts';
import { alertId, summaryAlertId } from '../../../shared/detect/alert-ids.ts';
import {
  ALERT_ACTION,
  AlertPlanner,
  alertInput,
  MAX_SUMMARY_MATCHES,
  type MatchedEvent,
  type RuleMatch,
  SUMMARY_ACTION,
} from '../../../shared/detect/alerts.ts';
import type { SigmaRule } from '../../../shared/detect/sigma-rule.ts';
import { EVENT_ID_PATTERN, parseAuditEventInput } from '../../../shared/events/audit-event.ts';
import { rule } from './rule-helpers.ts';

const T = Date.UTC(2026, 10, 22, 21, 0, 0, 0);
const stopLogging = rule('selection:\n  eventName: StopLogging\ncondition: selection', {
  id: '4db60cc0-36fb-42b7-9b58-a5b53019fb74',
});
const other = rule('selection:\n  eventName: DeleteTrail\ncondition: selection', { id: 'other-rule' });

function matched(n: number, offsetMs = n): MatchedEvent {
  return {
    id: `ct:event-${n}`,
    alertKey: `ct:event-${n}`,
    receivedAt: new Date(T + offsetMs).toISOString(),
    eventTime: '2026-11-22T20:59:59Z',
    leafHash: 'ab'.repeat(32),
    source: 'cloudtrail',
  };
}

const on = (r: SigmaRule, events: readonly MatchedEvent[]): RuleMatch[] =>
  events.map((event) => ({ rule: r, event }));

describe('Function: alertId', () => {
  it('is the same for the same rule and event, and differs for another event or rule', () => {
    // Act
    const a = alertId(stopLogging.id, 'ct:1');

    // Assess
    expect(a).toBe(alertId(stopLogging.id, 'ct:1'));
    expect(a).not.toBe(alertId(stopLogging.id, 'ct:2'));
    expect(a).not.toBe(alertId(other.id, 'ct:1'));
    expect(a).toMatch(/^det:4db60cc0-36fb-42b7-9b58-a5b53019fb74:[0-9a-f]{32}$/);
  });

  it('is a valid event id of at most 128 characters for any rule and event id (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 128 }),
        fc.string({ minLength: 1, maxLength: 128 }),
        (r, e) => {
          const id = alertId(r, e);
          expect(id.length).toBeLessThanOrEqual(128);
          expect(id).toMatch(EVENT_ID_PATTERN);
          expect(summaryAlertId(r, [e]).length).toBeLessThanOrEqual(128);
        },
      ),
    );
  });

  it('names a summary by its set of events, whatever their order', () => {
    expect(summaryAlertId('r', ['b', 'a'])).toBe(summaryAlertId('r', ['a', 'b']));
    expect(summaryAlertId('r', ['a'])).not.toBe(summaryAlertId('r', ['a', 'b']));
  });
});

describe('Function: alertInput', () => {
  it('is a valid event input that names the rule (with its author) and the matched event', () => {
    // Prepare
    const event = {
      ...matched(1),
      resource: { id: 'arn:aws:cloudtrail:us-east-1:1:trail/t', type: 'AWS::CloudTrail::Trail' },
    };
    const withAuthor = { ...stopLogging, author: 'Ryan Stauffer' } as SigmaRule;

    // Act
    const input = parseAuditEventInput(alertInput(withAuthor, event));

    // Assess
    expect(input.action).toBe(ALERT_ACTION);
    expect(input.eventTime).toBe(event.receivedAt);
    expect(input.resource).toEqual(event.resource);
    expect(input.details).toMatchObject({
      rule: { id: stopLogging.id, title: 'Test rule', level: 'medium', author: 'Ryan Stauffer' },
      match: {
        eventId: event.id,
        leafHash: event.leafHash,
        receivedAt: event.receivedAt,
        source: 'cloudtrail',
      },
    });
  });

  it('is the same bytes every time for the same match (so a redelivery is a duplicate)', () => {
    expect(canonicalBytes(alertInput(stopLogging, matched(1)))).toEqual(
      canonicalBytes(alertInput(stopLogging, matched(1))),
    );
  });
});

describe('Class: AlertPlanner', () => {
  describe('Method: plan', () => {
    it('gives one alert per rule and event, and one per pair even when a match is repeated', () => {
      // Prepare
      const planner = new AlertPlanner({ alerts: 10, windowSeconds: 60 });

      // Act
      const plan = planner.plan([
        ...on(stopLogging, [matched(1)]),
        ...on(other, [matched(1)]),
        ...on(stopLogging, [matched(1)]),
      ]);

      // Assess
      expect(plan.alerts.map((a) => a.input.id)).toEqual([
        alertId(stopLogging.id, 'ct:event-1'),
        alertId(other.id, 'ct:event-1'),
      ]);
    });

    describe('when a rule matches more events in a window than its limit', () => {
      it('alerts on the first ones and lists the rest in a summary alert, per rule', () => {
        // Prepare
        const planner = new AlertPlanner({ alerts: 10, windowSeconds: 60 });
        const storm = Array.from({ length: 25 }, (_, i) => matched(i));

        // Act
        const plan = planner.plan([...on(stopLogging, storm), ...on(other, [matched(99)])]);

        // Assess
        const singles = plan.alerts.filter((a) => a.kind === 'alert');
        const summaries = plan.alerts.filter((a) => a.kind === 'summary');
        expect(singles.filter((a) => a.rule === stopLogging)).toHaveLength(10);
        expect(singles.filter((a) => a.rule === other)).toHaveLength(1);
        expect(summaries).toHaveLength(1);
        expect(summaries[0]!.input.action).toBe(SUMMARY_ACTION);
        expect(summaries[0]!.matches.map((m) => m.id)).toEqual(storm.slice(10).map((m) => m.id));
        expect(parseAuditEventInput(summaries[0]!.input).details).toMatchObject({
          count: 15,
          limit: { alerts: 10, windowSeconds: 60 },
        });
      });

      it('splits a summary beyond MAX_SUMMARY_MATCHES matches', () => {
        // Prepare
        const planner = new AlertPlanner({ alerts: 0, windowSeconds: 60 });
        const storm = Array.from({ length: MAX_SUMMARY_MATCHES + 5 }, (_, i) => matched(i, 0));

        // Act
        const plan = planner.plan(on(stopLogging, storm));

        // Assess
        expect(plan.alerts.map((a) => a.matches.length)).toEqual([MAX_SUMMARY_MATCHES, 5]);
        for (const summary of plan.alerts) expect(() => parseAuditEventInput(summary.input)).not.toThrow();
      });
    });

    describe('when a plan is not committed (its batch failed and is retried)', () => {
      it('plans the same alerts again', () => {
        // Prepare
        const planner = new AlertPlanner({ alerts: 3, windowSeconds: 60 });
        const matches = on(
          stopLogging,
          Array.from({ length: 5 }, (_, i) => matched(i)),
        );

        // Act
        const first = planner.plan(matches);
        const retry = planner.plan(matches);

        // Assess
        expect(retry.alerts.map((a) => a.input)).toEqual(first.alerts.map((a) => a.input));
      });
    });

    describe('when earlier plans of the same window were committed', () => {
      it('counts their alerts against the limit, and starts again in the next window', () => {
        // Prepare
        const planner = new AlertPlanner({ alerts: 3, windowSeconds: 60 });
        planner.plan(on(stopLogging, [matched(1), matched(2)])).commit();

        // Act
        const sameWindow = planner.plan(on(stopLogging, [matched(3), matched(4)]));
        sameWindow.commit();
        const nextWindow = planner.plan(on(stopLogging, [matched(5, 61_000)]));

        // Assess
        expect(sameWindow.alerts.map((a) => a.kind)).toEqual(['alert', 'summary']);
        expect(nextWindow.alerts.map((a) => a.kind)).toEqual(['alert']);
      });
    });
  });

  describe('when matches arrive in any order and batches (property)', () => {
    it('covers every rule-and-event pair and never exceeds the limit per rule and window', () => {
      const rules = [stopLogging, other];
      const arbitraryBatches = fc.array(fc.array(fc.tuple(fc.nat(1), fc.nat(40)), { maxLength: 60 }), {
        maxLength: 6,
      });
      fc.assert(
        fc.property(arbitraryBatches, fc.integer({ min: 0, max: 5 }), (batches, limit) => {
          // Prepare
          const planner = new AlertPlanner({ alerts: limit, windowSeconds: 60 });
          const covered = new Map<string, number>();
          const singlesPerWindow = new Map<string, number>();
          const expected = new Set<string>();

          // Act
          for (const batch of batches) {
            // Event n landed at one time (4.5 s apart: 41 events over three windows).
            const matches = batch.map(([r, n]) => ({ rule: rules[r]!, event: matched(n, n * 4_500) }));
            const plan = planner.plan(matches);
            for (const m of matches) expected.add(`${m.rule.id}|${m.event.id}|${m.event.receivedAt}`);
            const inPlan = plan.alerts.flatMap((a) => a.matches.map((m) => `${a.rule.id}|${m.id}`));
            expect(new Set(inPlan).size).toBe(inPlan.length);
            expect(new Set(inPlan)).toEqual(new Set(matches.map((m) => `${m.rule.id}|${m.event.id}`)));
            for (const alert of plan.alerts) {
              for (const m of alert.matches) {
                const key = `${alert.rule.id}|${m.id}|${m.receivedAt}`;
                covered.set(key, (covered.get(key) ?? 0) + 1);
                if (alert.kind === 'alert') {
                  const window = `${alert.rule.id}|${Math.floor(Date.parse(m.receivedAt) / 60_000)}`;
                  singlesPerWindow.set(window, (singlesPerWindow.get(window) ?? 0) + 1);
                }
              }
            }
            plan.commit();
          }

          // Assess: within a batch each pair is planned once, so over batches a pair is covered once per
          // batch it appears in, and never dropped.
          for (const key of expected) expect(covered.get(key) ?? 0).toBeGreaterThan(0);
          for (const count of singlesPerWindow.values()) expect(count).toBeLessThanOrEqual(limit);
        }),
        { numRuns: 300 },
      );
    });
  });
  describe('when several function instances plan alerts for the same rule (one planner each)', () => {
    /**
     * The documented bound (docs/DETECTIONS.md §9, "Storms"): counts live in each instance, so the single
     * alerts of one rule in one window are at most limit × the instances that planned single alerts of
     * that rule in that window; every match is still covered. Instances here get batches in any order,
     * and any instance may be replaced by a fresh one (a cold start) between batches.
     */
    it('keeps single alerts per rule and window within limit × instances, and covers every match (property)', () => {
      const batch = fc.array(fc.nat(60), { maxLength: 40 });
      const step = fc.record({ instance: fc.nat(3), replace: fc.boolean(), events: batch });
      fc.assert(
        fc.property(fc.array(step, { maxLength: 12 }), fc.integer({ min: 0, max: 4 }), (steps, limit) => {
          // Prepare
          const instances = [0, 1, 2, 3].map(() => new AlertPlanner({ alerts: limit, windowSeconds: 60 }));
          let created = instances.length;
          const singleIds = new Map<string, Set<string>>();
          const plannersWithSingles = new Map<string, Set<AlertPlanner>>();
          const expected = new Set<string>();
          const covered = new Set<string>();

          // Act
          for (const { instance, replace, events } of steps) {
            if (replace) {
              instances[instance] = new AlertPlanner({ alerts: limit, windowSeconds: 60 });
              created++;
            }
            const planner = instances[instance]!;
            // Event n landed at one time, 4.5 s apart: 61 events over five windows.
            const plan = planner.plan(
              on(
                stopLogging,
                events.map((n) => matched(n, n * 4_500)),
              ),
            );
            for (const n of events) expected.add(`ct:event-${n}`);
            for (const alert of plan.alerts) {
              for (const m of alert.matches) covered.add(m.id);
              if (alert.kind !== 'alert') continue;
              const window = String(Math.floor(Date.parse(alert.matches[0]!.receivedAt) / 60_000));
              // One alert id per rule and event: the same single alert from two instances is stored once.
              singleIds.set(window, (singleIds.get(window) ?? new Set()).add(alert.input.id));
              plannersWithSingles.set(window, (plannersWithSingles.get(window) ?? new Set()).add(planner));
            }
            plan.commit();
          }

          // Assess
          expect(covered).toEqual(expected);
          for (const [window, ids] of singleIds) {
            expect(ids.size).toBeLessThanOrEqual(limit * plannersWithSingles.get(window)!.size);
            expect(ids.size).toBeLessThanOrEqual(limit * created);
          }
        }),
        { numRuns: 300 },
      );
    });

    it('reaches that bound: 3 instances, each with 10 other matches of one window, let 30 single alerts through', () => {
      // Prepare
      const planners = [0, 1, 2].map(() => new AlertPlanner({ alerts: 10, windowSeconds: 60 }));

      // Act
      const plans = planners.map((planner, i) =>
        planner.plan(
          on(
            stopLogging,
            Array.from({ length: 12 }, (_, j) => matched(i * 12 + j, j * 1_000)),
          ),
        ),
      );

      // Assess: 10 single alerts each, the other 2 of each in a summary: 30 singles in one window.
      const singles = plans.flatMap((p) => p.alerts.filter((a) => a.kind === 'alert'));
      expect(new Set(singles.map((a) => a.input.id)).size).toBe(30);
      expect(plans.map((p) => p.alerts.filter((a) => a.kind === 'summary').length)).toEqual([1, 1, 1]);
    });
  });
});

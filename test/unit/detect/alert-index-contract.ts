/**
 * The `AlertIndex` contract, run against the in-memory fake (unit) and the DynamoDB adapter on DynamoDB
 * Local (integration), so the fake keeps the adapter's semantics: put-only, newest first, filters, a
 * `[from, to)` range and positions that page through everything exactly once.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalBytes } from '../../../shared/canonical/jcs.ts';
import { alertId } from '../../../shared/detect/alert-ids.ts';
import { alertPosition } from '../../../shared/detect/alert-query.ts';
import { RECEIPT_TYPE } from '../../../shared/ledger/formats.ts';
import { hashLeaf } from '../../../shared/merkle/rfc6962.ts';
import type { AlertIndex, AlertLevel, IndexedAlert } from '../../../shared/ports/alerts.ts';

const T = Date.UTC(2026, 10, 22, 21, 0, 0, 0);

/** An indexed alert whose bytes and receipt agree (the receipt is not signed: the index does not check). */
export function indexedAlert(
  n: number,
  ruleId = 'rule-a',
  level: AlertLevel = 'high',
  atMs = T + n * 1000,
): IndexedAlert {
  const id = alertId(ruleId, `ct:${n}`);
  const receivedAt = new Date(atMs).toISOString();
  const bytes = canonicalBytes({
    id,
    channel: 'detection',
    details: { rule: { id: ruleId, level } },
    receivedAt,
  });
  return {
    alertId: id,
    receivedAt,
    ruleId,
    level,
    kind: 'alert',
    bytes,
    receipt: {
      type: RECEIPT_TYPE,
      eventId: id,
      receivedAt,
      leafHash: hashLeaf(bytes).toString('hex'),
      leafIndex: 0,
      auditPath: [],
      statement: '{}',
      signature: 'AAAA',
    },
  };
}

const ALL = { fromMs: 0, toMs: Date.UTC(10_000, 0, 1), limit: 1_000 };

export function alertIndexContract(name: string, make: () => Promise<AlertIndex>): void {
  describe(`AlertIndex contract: ${name}`, () => {
    it('records an alert once, however often it is recorded', async () => {
      // Prepare
      const index = await make();
      const alert = indexedAlert(1);

      // Act
      await index.record([alert]);
      await index.record([alert, alert]);

      // Assess
      const page = await index.list(ALL);
      expect(page.alerts).toHaveLength(1);
      expect(Buffer.from(page.alerts[0]!.bytes)).toEqual(Buffer.from(alert.bytes));
      expect(page.alerts[0]!.receipt).toEqual(alert.receipt);
      expect(page.next).toBeUndefined();
    });

    it('lists newest first, filtered by rule and level, inside [from, to)', async () => {
      // Prepare
      const index = await make();
      await index.record([
        indexedAlert(1, 'rule-a', 'high'),
        indexedAlert(2, 'rule-b', 'low'),
        indexedAlert(3, 'rule-a', 'low'),
        indexedAlert(4, 'rule-a', 'high'),
      ]);

      // Act
      const all = await index.list(ALL);
      const ruleA = await index.list({ ...ALL, ruleId: 'rule-a' });
      const low = await index.list({ ...ALL, level: 'low' });
      const highA = await index.list({ ...ALL, ruleId: 'rule-a', level: 'high' });
      const range = await index.list({ ...ALL, fromMs: T + 2000, toMs: T + 4000 });

      // Assess
      const ns = (page: { alerts: readonly IndexedAlert[] }) => page.alerts.map((a) => a.alertId);
      expect(ns(all)).toEqual([
        alertId('rule-a', 'ct:4'),
        alertId('rule-a', 'ct:3'),
        alertId('rule-b', 'ct:2'),
        alertId('rule-a', 'ct:1'),
      ]);
      expect(ns(ruleA)).toEqual([4, 3, 1].map((n) => alertId('rule-a', `ct:${n}`)));
      expect(ns(low)).toEqual([alertId('rule-a', 'ct:3'), alertId('rule-b', 'ct:2')]);
      expect(ns(highA)).toEqual([4, 1].map((n) => alertId('rule-a', `ct:${n}`)));
      expect(ns(range)).toEqual([alertId('rule-a', 'ct:3'), alertId('rule-b', 'ct:2')]);
    });

    it('pages through every matching alert exactly once, in order (property)', async () => {
      // Prepare
      const index = await make();
      const alerts = Array.from({ length: 30 }, (_, n) =>
        indexedAlert(
          n,
          n % 3 === 0 ? 'rule-a' : 'rule-b',
          n % 2 === 0 ? 'high' : 'low',
          T + Math.floor(n / 2) * 1000,
        ),
      );
      await index.record(alerts);

      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 7 }),
          fc.constantFrom(undefined, 'rule-a', 'rule-b'),
          fc.constantFrom<AlertLevel | undefined>(undefined, 'high', 'low'),
          async (limit, ruleId, level) => {
            // Act
            const seen: string[] = [];
            let after: string | undefined;
            for (let pages = 0; pages < 40; pages++) {
              const page = await index.list({
                ...ALL,
                limit,
                ...(ruleId ? { ruleId } : {}),
                ...(level ? { level } : {}),
                ...(after ? { after } : {}),
              });
              expect(page.alerts.length).toBeLessThanOrEqual(limit);
              seen.push(...page.alerts.map((a) => alertPosition(a.receivedAt, a.alertId)));
              if (page.next === undefined) break;
              after = page.next;
            }

            // Assess
            const expected = alerts
              .filter((a) => (ruleId ? a.ruleId === ruleId : true) && (level ? a.level === level : true))
              .map((a) => alertPosition(a.receivedAt, a.alertId))
              .sort()
              .reverse();
            expect(seen).toEqual(expected);
          },
        ),
        { numRuns: 25 },
      );
    });
  });
}

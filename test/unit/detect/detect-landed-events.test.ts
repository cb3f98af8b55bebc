import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { alertId } from '../../../shared/detect/alert-ids.ts';
import { AlertPlanner } from '../../../shared/detect/alerts.ts';
import {
  type DetectionDeps,
  detectLandedEvents,
  type LandedEvent,
} from '../../../shared/detect/detect-landed-events.ts';
import { Detector } from '../../../shared/detect/detector.ts';
import { loadDefaultRules } from '../../../shared/detect/load-rules.ts';
import { fromCloudTrailRecord } from '../../../shared/events/cloudtrail.ts';
import { fromKubernetesAuditEvent } from '../../../shared/events/kubernetes.ts';
import { ingestBatch } from '../../../shared/ingest/ingest-batch.ts';
import { checkReceipt } from '../../../shared/ledger/batch-receipts.ts';
import { hashLeaf } from '../../../shared/merkle/rfc6962.ts';
import {
  InMemoryAlertIndex,
  RecordingAlertPublisher,
} from '../../../shared/storage/in-memory-alert-index.ts';
import { sharedDataPath } from '../../support/shared-data.ts';
import { type Harness, harness, LEDGER } from '../ingest/ingest-fixtures.ts';

const detector = new Detector(loadDefaultRules().rules);
const DISABLE_LOGGING_RULE = '4db60cc0-36fb-42b7-9b58-a5b53019fb74';
const CLUSTER = 'arn:aws:eks:eu-west-1:123456789012:cluster/prod';

/** The records as CloudTrail wrote them (their text is what the ledger keeps). */
const stratus = readFileSync(sharedDataPath('cloudtrail', 'records', 'stratus-red-team.jsonl'), 'utf8')
  .split('\n')
  .filter((line) => line.length > 0);
const nameOf = (text: string) => (JSON.parse(text) as { eventName: string }).eventName;
const stopLogging = stratus.find((r) => nameOf(r) === 'StopLogging')!;
/** A real record that no shipped rule fires on. */
const quietRecord = stratus.find(
  (r) => nameOf(r) === 'DescribeInstances' && detector.detect({ cloudtrail: r }).length === 0,
)!;

interface Setup {
  readonly h: Harness;
  readonly deps: DetectionDeps;
  readonly index: InMemoryAlertIndex;
  readonly publisher: RecordingAlertPublisher;
  readonly unreadable: string[];
  readonly conflicts: string[];
}

async function setup(): Promise<Setup> {
  const h = await harness();
  const index = new InMemoryAlertIndex();
  const publisher = new RecordingAlertPublisher();
  const unreadable: string[] = [];
  const conflicts: string[] = [];
  const deps: DetectionDeps = {
    ledger: LEDGER,
    detector,
    planner: new AlertPlanner(),
    ingest: h.deps,
    index,
    publisher,
    observer: { unreadable: (id) => void unreadable.push(id), conflict: (id) => void conflicts.push(id) },
  };
  return { h, deps, index, publisher, unreadable, conflicts };
}

/** Stores inputs through the ingest core and returns them as they landed (what the stream shows). */
async function land(
  h: Harness,
  channel: 'cloudtrail' | 'kubernetes' | 'api',
  inputs: readonly unknown[],
): Promise<LandedEvent[]> {
  const result = await ingestBatch(
    { ledger: LEDGER, items: inputs, channel, principal: 'test', requestId: 'r' },
    h.deps,
  );
  return Promise.all(
    result.stored.map(async (id) => {
      const stored = (await h.store.getEvent(LEDGER, id))!;
      return { id, receivedAt: stored.receivedAt, bytes: stored.bytes };
    }),
  );
}

describe('Function: detectLandedEvents', () => {
  describe('when a real StopLogging record lands (Stratus Red Team detonation)', () => {
    it('stores one signed alert event, indexes it and announces it', async () => {
      // Prepare
      const s = await setup();
      const [landed] = await land(s.h, 'cloudtrail', [
        fromCloudTrailRecord(stopLogging),
        fromCloudTrailRecord(quietRecord),
      ]);

      // Act
      const outcome = await detectLandedEvents([landed!], s.deps, 'req-1');

      // Assess
      const id = alertId(DISABLE_LOGGING_RULE, landed!.id);
      expect(outcome.stored).toEqual([id]);
      const alert = (await s.h.store.getEvent(LEDGER, id))!;
      const event = JSON.parse(Buffer.from(alert.bytes).toString('utf8'));
      expect(event).toMatchObject({
        channel: 'detection',
        action: 'detection.alert',
        details: {
          rule: { id: DISABLE_LOGGING_RULE, level: 'medium', author: 'vitaliy0x1' },
          match: { eventId: landed!.id, leafHash: hashLeaf(landed!.bytes).toString('hex') },
        },
      });
      expect(checkReceipt(alert.receipt, s.h.keys).ok).toBe(true);
      const [indexed] = s.index.all();
      expect(indexed).toMatchObject({
        alertId: id,
        ruleId: DISABLE_LOGGING_RULE,
        level: 'medium',
        kind: 'alert',
      });
      expect(Buffer.from(indexed!.bytes)).toEqual(Buffer.from(alert.bytes));
      expect(s.publisher.notices).toEqual([
        expect.objectContaining({
          alertId: id,
          count: 1,
          eventIds: [landed!.id],
          leafHash: alert.receipt.leafHash,
        }),
      ]);
    });
  });

  describe('when an event matches no rule', () => {
    it('stores, indexes and announces nothing', async () => {
      // Prepare
      const s = await setup();
      const landed = await land(s.h, 'cloudtrail', [fromCloudTrailRecord(quietRecord)]);
      const before = s.h.store.eventCount;

      // Act
      const outcome = await detectLandedEvents(landed, s.deps, 'r');

      // Assess
      expect(outcome).toMatchObject({ evaluated: 1, matches: 0, stored: [] });
      expect(s.h.store.eventCount).toBe(before);
      expect(s.index.size).toBe(0);
      expect(s.publisher.notices).toEqual([]);
    });
  });

  describe('when the same stream batch is delivered twice', () => {
    it('stores and indexes the alert once, and announces it again (at least once)', async () => {
      // Prepare
      const s = await setup();
      const landed = await land(s.h, 'cloudtrail', [fromCloudTrailRecord(stopLogging)]);
      await detectLandedEvents(landed, s.deps, 'r');
      const events = s.h.store.eventCount;

      // Act
      const again = await detectLandedEvents(landed, s.deps, 'r');

      // Assess
      expect(again.stored).toEqual([]);
      expect(again.duplicates).toHaveLength(1);
      expect(s.h.store.eventCount).toBe(events);
      expect(s.index.size).toBe(1);
      expect(s.publisher.notices.map((n) => n.alertId)).toEqual([again.duplicates[0], again.duplicates[0]]);
    });
  });

  describe('when the landed event is itself an alert', () => {
    it('is not evaluated, so alerts never raise alerts', async () => {
      // Prepare
      const s = await setup();
      await detectLandedEvents(
        await land(s.h, 'cloudtrail', [fromCloudTrailRecord(stopLogging)]),
        s.deps,
        'r',
      );
      const alert = (await s.h.store.getEvent(LEDGER, s.index.all()[0]!.alertId))!;

      // Act
      const outcome = await detectLandedEvents(
        [{ id: alert.id, receivedAt: alert.receivedAt, bytes: alert.bytes }],
        s.deps,
        'r',
      );

      // Assess
      expect(outcome.evaluated).toBe(0);
      expect(s.index.size).toBe(1);
    });
  });

  describe('when a Kubernetes audit event lands', () => {
    it('runs the Kubernetes rules on its verbatim Event', async () => {
      // Prepare
      const s = await setup();
      const exec = readFileSync(sharedDataPath('kubernetes', 'falco-trace-files', 'exec_pod.json'), 'utf8');
      const landed = await land(s.h, 'kubernetes', [fromKubernetesAuditEvent(exec, { clusterArn: CLUSTER })]);

      // Act
      const outcome = await detectLandedEvents(landed, s.deps, 'r');

      // Assess
      expect(outcome.stored).toHaveLength(1);
      expect(s.publisher.notices[0]!.rule.title).toBe('Potential Remote Command Execution In Pod Container');
    });
  });

  describe('when the stages of one Kubernetes request land separately (a long exec)', () => {
    it('alerts once per rule and request, and records no conflict for the later stage', async () => {
      // Prepare
      const s = await setup();
      const started = JSON.parse(
        readFileSync(sharedDataPath('kubernetes', 'falco-trace-files', 'exec_pod.json'), 'utf8'),
      ) as Record<string, unknown>;
      const complete = { ...started, stage: 'ResponseComplete', responseStatus: { code: 101 } };
      const first = await land(s.h, 'kubernetes', [
        fromKubernetesAuditEvent(JSON.stringify(started), { clusterArn: CLUSTER }),
      ]);
      await detectLandedEvents(first, s.deps, 'r');
      const later = await land(s.h, 'kubernetes', [
        fromKubernetesAuditEvent(JSON.stringify(complete), { clusterArn: CLUSTER }),
      ]);
      const events = s.h.store.eventCount;

      // Act
      const outcome = await detectLandedEvents(later, s.deps, 'r');

      // Assess
      expect(first[0]!.id).toBe(`${later[0]!.id}:ResponseStarted`);
      expect(outcome.matches).toBe(1);
      expect(outcome.alreadyAlerted).toHaveLength(1);
      expect(outcome.stored).toEqual([]);
      expect(s.h.store.eventCount).toBe(events);
      expect(s.h.store.securitySignals()).toEqual([]);
      expect(s.conflicts).toEqual([]);
      expect(s.index.size).toBe(1);
    });

    it('alerts once when both stages are in the same batch', async () => {
      // Prepare
      const s = await setup();
      const started = JSON.parse(
        readFileSync(sharedDataPath('kubernetes', 'falco-trace-files', 'exec_pod.json'), 'utf8'),
      ) as Record<string, unknown>;
      const complete = { ...started, stage: 'ResponseComplete', responseStatus: { code: 101 } };
      const landed = [
        ...(await land(s.h, 'kubernetes', [
          fromKubernetesAuditEvent(JSON.stringify(started), { clusterArn: CLUSTER }),
        ])),
        ...(await land(s.h, 'kubernetes', [
          fromKubernetesAuditEvent(JSON.stringify(complete), { clusterArn: CLUSTER }),
        ])),
      ];

      // Act
      const outcome = await detectLandedEvents(landed, s.deps, 'r');

      // Assess
      expect(outcome.matches).toBe(2);
      expect(outcome.stored).toHaveLength(1);
      expect(s.index.size).toBe(1);
    });
  });

  describe('when a landed row is not a readable event', () => {
    it('reports it, and stores nothing for it', async () => {
      // Prepare
      const s = await setup();

      // Act
      const outcome = await detectLandedEvents(
        [{ id: 'forged', receivedAt: '2026-11-22T21:10:00.123Z', bytes: Buffer.from('{not json') }],
        s.deps,
        'r',
      );

      // Assess
      expect(outcome.evaluated).toBe(0);
      expect(s.unreadable).toEqual(['forged']);
      expect(s.h.store.eventCount).toBe(0);
    });
  });

  describe('when announcing fails', () => {
    it('throws (the stream retries), and the retry announces the stored alert', async () => {
      // Prepare
      const s = await setup();
      const landed = await land(s.h, 'cloudtrail', [fromCloudTrailRecord(stopLogging)]);
      s.publisher.failWith = new Error('SNS is down');

      // Act
      const failed = await detectLandedEvents(landed, s.deps, 'r').catch((e: unknown) => e);
      s.publisher.failWith = undefined;
      const retry = await detectLandedEvents(landed, s.deps, 'r');

      // Assess
      expect(failed).toBeInstanceOf(Error);
      expect(retry.duplicates).toHaveLength(1);
      expect(s.publisher.notices).toHaveLength(1);
      expect(s.index.size).toBe(1);
    });
  });

  describe('when signing fails', () => {
    it('throws and stores no alert', async () => {
      // Prepare
      const s = await setup();
      const landed = await land(s.h, 'cloudtrail', [fromCloudTrailRecord(stopLogging)]);
      const events = s.h.store.eventCount;
      s.h.signer.failWith = new Error('KMS is down');

      // Act
      const failed = await detectLandedEvents(landed, s.deps, 'r').catch((e: unknown) => e);

      // Assess
      expect(failed).toBeInstanceOf(Error);
      expect(s.h.store.eventCount).toBe(events);
      expect(s.index.size).toBe(0);
      expect(s.publisher.notices).toEqual([]);
    });
  });

  describe('when an alert id is already stored with other content (the rule was edited)', () => {
    it('leaves that alert out, reports the conflict, and stores the others', async () => {
      // Prepare
      const s = await setup();
      const landed = await land(s.h, 'cloudtrail', [fromCloudTrailRecord(stopLogging)]);
      await detectLandedEvents(landed, s.deps, 'r');
      const edited = detector.rules.map((r) =>
        r.id === DISABLE_LOGGING_RULE ? { ...r, title: 'Edited' } : r,
      );
      const deps = { ...s.deps, detector: new Detector(edited) };

      // Act
      const outcome = await detectLandedEvents(landed, deps, 'r');

      // Assess
      expect(s.conflicts).toEqual([alertId(DISABLE_LOGGING_RULE, landed[0]!.id)]);
      expect(outcome.stored).toEqual([]);
      expect(s.h.store.securitySignals()).toHaveLength(1);
    });
  });
});

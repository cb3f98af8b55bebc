import { readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import type { CloudWatchLogsEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createHandler, parseKubernetesSources } from '../../../functions/forward-cloudwatch-logs.ts';
import { parseAuditEvent } from '../../../shared/events/audit-event.ts';
import { eksAuditMessage, encodeSubscriptionEvent } from '../../../shared/ingest/cloudwatch-logs.ts';
import type { KubernetesForwardOutcome } from '../../../shared/ingest/forward-cloudwatch-logs.ts';
import { checkReceipt } from '../../../shared/ledger/batch-receipts.ts';
import { sharedDataPath } from '../../support/shared-data.ts';
import { type Harness, harness, LEDGER } from '../ingest/ingest-fixtures.ts';
import { lambdaContext, recordingLogger } from './http-fixtures.ts';

const FALCO = sharedDataPath('kubernetes', 'falco-trace-files');
/** A trace file's Event as its JSON text, as the API server would log it (the file without its final newline). */
const falco = (name: string) => readFileSync(`${FALCO}/${name}`, 'utf8').trim();
const GOOD = readdirSync(FALCO).filter((f) => f.endsWith('.json') && f !== 'fal_01_003.json');
const OWNER = '123456789012';
const CLUSTER_ARN = `arn:aws:eks:eu-west-1:${OWNER}:cluster/prod`;

function delivery(events: readonly string[]): CloudWatchLogsEvent {
  return encodeSubscriptionEvent(eksAuditMessage(events, { cluster: 'prod', owner: OWNER, timestampMs: 1 }));
}

function setup(h: Harness) {
  const { logger } = recordingLogger();
  const outcomes: KubernetesForwardOutcome[] = [];
  const handler = createHandler({
    ledger: LEDGER,
    sources: { region: 'eu-west-1' },
    ingest: h.deps,
    logger,
    observe: (o) => void outcomes.push(o),
  });
  return { handler, logger, outcomes };
}

describe('Handler: forward-cloudwatch-logs (CloudWatch Logs subscription)', () => {
  describe('when a payload carries every Falco audit Event (EKS control-plane group)', () => {
    it('stores each one verbatim, channel kubernetes, signed, with its cluster resource ids', async () => {
      // Prepare
      const h = await harness();
      const { handler } = setup(h);
      const events = GOOD.map(falco);

      // Act
      const outcome = await handler(delivery(events), lambdaContext());

      // Assess
      expect(outcome.clusterArn).toBe(CLUSTER_ARN);
      // Two pairs of traces share an auditID with other content: the second of each is a conflict.
      expect(outcome.conflicts).toHaveLength(2);
      expect(outcome.stored).toHaveLength(outcome.events - 2);
      expect(h.store.securitySignals()).toHaveLength(1);
      expect(outcome.events).toBeGreaterThanOrEqual(35);
      for (const id of outcome.stored) {
        const stored = (await h.store.getEvent(LEDGER, id))!;
        const event = parseAuditEvent(JSON.parse(Buffer.from(stored.bytes).toString('utf8')));
        expect(event.channel).toBe('kubernetes');
        expect(event.id.startsWith('k8s:')).toBe(true);
        expect(event.resource?.id.startsWith(CLUSTER_ARN)).toBe(true);
        // The Event's own text, byte for byte.
        expect(events).toContain(event.kubernetes);
        expect(checkReceipt(stored.receipt, h.keys).ok).toBe(true);
      }
    });
  });

  describe('when the same payload is delivered again', () => {
    it('stores nothing new and answers duplicates', async () => {
      // Prepare
      const h = await harness();
      const { handler } = setup(h);
      const payload = delivery([falco('create_secret.json'), falco('delete_secret.json')]);
      await handler(payload, lambdaContext());
      const before = h.store.eventCount;

      // Act
      const again = await handler(payload, lambdaContext());

      // Assess
      expect(again.stored).toEqual([]);
      expect(again.duplicates).toHaveLength(2);
      expect(h.store.eventCount).toBe(before);
    });
  });

  describe('when a payload is bad', () => {
    it.each<[string, CloudWatchLogsEvent | unknown, string]>([
      [
        'one malformed Event among good ones (fal_01_003.json)',
        delivery([falco('create_secret.json'), falco('fal_01_003.json')]),
        'BAD_LOG_EVENT',
      ],
      ['data that is not base64', { awslogs: { data: '%%%' } }, 'BAD_BASE64'],
      [
        'gzip of something that is not JSON',
        { awslogs: { data: gzipSync('nope').toString('base64') } },
        'NOT_JSON',
      ],
      ['not a subscription event', { Records: [] }, 'NOT_A_SUBSCRIPTION_EVENT'],
      [
        'an unknown log group',
        encodeSubscriptionEvent({
          ...eksAuditMessage([falco('create_secret.json')], {
            cluster: 'prod',
            owner: OWNER,
            timestampMs: 1,
          }),
          logGroup: '/custom/audit',
        }),
        'UNKNOWN_CLUSTER',
      ],
    ])('refuses %s whole, logs the code, and stores nothing', async (_, payload, code) => {
      // Prepare
      const h = await harness();
      const { handler, logger } = setup(h);

      // Act
      const error = await handler(payload as CloudWatchLogsEvent, lambdaContext()).catch((e: unknown) => e);

      // Assess
      expect(error).toMatchObject({ name: 'SubscriptionPayloadError', code });
      expect(h.store.eventCount).toBe(0);
      expect(logger.error.mock.calls[0]?.[1]).toMatchObject({ code });
    });
  });

  describe('when CloudWatch Logs checks the destination (CONTROL_MESSAGE)', () => {
    it('stores nothing and succeeds', async () => {
      // Prepare
      const h = await harness();
      const { handler } = setup(h);
      const control = {
        awslogs: {
          data: gzipSync(
            JSON.stringify({ messageType: 'CONTROL_MESSAGE', owner: 'CloudwatchLogs' }),
          ).toString('base64'),
        },
      };

      // Act
      const outcome = await handler(control, lambdaContext());

      // Assess
      expect(outcome.type).toBe('control');
      expect(h.store.eventCount).toBe(0);
    });
  });

  describe('when an Event is beyond the stored-event limits', () => {
    it('stores the others verbatim and that one as its projection, and says which', async () => {
      // Prepare
      const h = await harness();
      const { handler } = setup(h);
      const big = JSON.parse(falco('create_configmap.json')) as Record<string, unknown>;
      big['requestObject'] = { data: { blob: 'z'.repeat(400_000) } };

      // Act
      const outcome = await handler(
        delivery([falco('create_secret.json'), JSON.stringify(big)]),
        lambdaContext(),
      );

      // Assess
      expect(outcome.stored).toHaveLength(2);
      expect(outcome.omitted).toEqual([`k8s:${String(big['auditID'])}`]);
    });
  });
});

describe('Function: parseKubernetesSources', () => {
  it('takes a map of log groups to cluster ARNs', () => {
    // Act
    const sources = parseKubernetesSources({
      AWS_REGION: 'eu-west-1',
      AUDITSEAL_KUBERNETES_CLUSTERS: JSON.stringify({ '/k8s/audit': CLUSTER_ARN }),
    });

    // Assess
    expect(sources.clusters?.get('/k8s/audit')).toBe(CLUSTER_ARN);
  });

  describe('when the map is not valid', () => {
    it.each(['{', '{"/k8s/audit":"prod"}', '[]'])('refuses %s, naming the variable only', (text) => {
      expect(() => parseKubernetesSources({ AUDITSEAL_KUBERNETES_CLUSTERS: text })).toThrow(
        /^invalid configuration: AUDITSEAL_KUBERNETES_CLUSTERS/,
      );
    });
  });
});

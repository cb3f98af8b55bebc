/**
 * Kubernetes audit events from EKS: CloudWatch Logs subscription filter → this function (asynchronous
 * invocation). Middy wiring around one call to `forwardCloudWatchLogs`. A payload that is refused is
 * logged with its code and path (never its content) and the invocation fails, so that the payload ends in
 * the function's on-failure destination, where it is kept; nothing of it is stored.
 *
 * | variable | meaning | default |
 * | --- | --- | --- |
 * | the ingest variables (functions/config.ts) | events are written through the ingest core | |
 * | `AUDITSEAL_KUBERNETES_CLUSTERS` | JSON `{ "<log group>": "<cluster ARN>" }` for groups that are not EKS control-plane groups | none |
 */
import middy from '@middy/core';
import type { CloudWatchLogsEvent, Context } from 'aws-lambda';
import { z } from 'zod';
import { isClusterArn } from '../shared/events/kubernetes.ts';
import { type KubernetesLogSources, SubscriptionPayloadError } from '../shared/ingest/cloudwatch-logs.ts';
import {
  forwardCloudWatchLogs,
  type KubernetesForwardOutcome,
} from '../shared/ingest/forward-cloudwatch-logs.ts';
import type { IngestDeps } from '../shared/ingest/ingest-batch.ts';
import { parseIngestConfig } from './config.ts';
import type { HandlerLogger } from './http/error-response.ts';
import { createIngestRuntime } from './ingest-runtime.ts';

export interface ForwardCloudWatchLogsDeps {
  readonly ledger: string;
  readonly sources: KubernetesLogSources;
  readonly ingest: IngestDeps;
  readonly logger: HandlerLogger;
  /** Told the outcome of every delivery (the local replay tool reports it). */
  readonly observe?: (outcome: KubernetesForwardOutcome) => void;
}

/** Builds the handler around its dependencies (tests pass in-memory ones). */
export function createHandler(deps: ForwardCloudWatchLogsDeps) {
  return middy<CloudWatchLogsEvent, KubernetesForwardOutcome>().handler(
    async (event: CloudWatchLogsEvent, context: Context): Promise<KubernetesForwardOutcome> => {
      let outcome: KubernetesForwardOutcome;
      try {
        outcome = await forwardCloudWatchLogs(
          {
            ledger: deps.ledger,
            principal: context.invokedFunctionArn || 'cloudwatch-logs-forwarder',
            requestId: context.awsRequestId,
            event,
          },
          deps.sources,
          deps.ingest,
        );
      } catch (error) {
        if (error instanceof SubscriptionPayloadError) {
          deps.logger.error('CloudWatch Logs payload refused whole; nothing of it was stored', {
            code: error.code,
            path: error.path,
            ...(error.reason === undefined ? {} : { reason: error.reason }),
            detail: error.message,
          });
        }
        throw error;
      }
      if (outcome.conflicts.length > 0 || outcome.omitted.length > 0) {
        deps.logger.warn('Kubernetes audit events stored with exceptions', {
          conflicts: outcome.conflicts,
          omitted: outcome.omitted,
        });
      }
      deps.logger.info('Kubernetes audit events forwarded', {
        type: outcome.type,
        events: outcome.events,
        stored: outcome.stored.length,
        duplicates: outcome.duplicates.length,
        conflicts: outcome.conflicts.length,
        skipped: outcome.skipped,
      });
      deps.observe?.(outcome);
      return outcome;
    },
  );
}

const clustersSchema = z
  .record(z.string().min(1).max(512), z.string().refine(isClusterArn, 'must be an EKS cluster ARN'))
  .refine((m) => Object.keys(m).length <= 100, 'at most 100 log groups');

/** The log groups' clusters from `AUDITSEAL_KUBERNETES_CLUSTERS`; throws naming the variable, not its value. */
export function parseKubernetesSources(env: Record<string, string | undefined>): KubernetesLogSources {
  const region = env['AWS_REGION'] ?? 'us-east-1';
  const text = env['AUDITSEAL_KUBERNETES_CLUSTERS'];
  if (text === undefined || text === '') return { region };
  let parsed: ReturnType<typeof clustersSchema.safeParse>;
  try {
    parsed = clustersSchema.safeParse(JSON.parse(text));
  } catch {
    throw new Error('invalid configuration: AUDITSEAL_KUBERNETES_CLUSTERS is not JSON');
  }
  if (!parsed.success) throw new Error('invalid configuration: AUDITSEAL_KUBERNETES_CLUSTERS');
  return { region, clusters: new Map(Object.entries(parsed.data)) };
}

let coldStartHandler: ReturnType<typeof createHandler> | undefined;

/** The Lambda entry point: configuration and clients are built on the first invocation only. */
export const handler = async (
  event: CloudWatchLogsEvent,
  context: Context,
): Promise<KubernetesForwardOutcome> => {
  if (coldStartHandler === undefined) {
    const config = parseIngestConfig(process.env);
    const runtime = createIngestRuntime(config, 'auditseal-forward-cloudwatch-logs');
    coldStartHandler = createHandler({
      ledger: config.ledger,
      sources: parseKubernetesSources(process.env),
      ingest: runtime.ingest,
      logger: runtime.logger,
    });
  }
  return coldStartHandler(event, context);
};

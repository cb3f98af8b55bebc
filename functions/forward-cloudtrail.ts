/**
 * The EventBridge forwarder: EventBridge rules ("AWS API Call / Console Sign In / Console Action /
 * Service Event via CloudTrail", and AWS Config's "Config Configuration Item Change") → SQS → this
 * function. Each SQS message body is an EventBridge envelope. Middy wiring around one call to
 * `forwardEventBridge` (shared/ingest/forward-eventbridge.ts): CloudTrail events go into the ledger, and
 * Config items and the CloudTrail records that carry a resource's new state become profile versions. The
 * event source mapping must enable `ReportBatchItemFailures`, so that only the messages listed here are
 * redelivered; rejected messages are logged with their reason and acknowledged.
 */
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { ForwardObserver } from '../shared/ingest/forward-cloudtrail.ts';
import { type EventBridgeForwardOutcome, forwardEventBridge } from '../shared/ingest/forward-eventbridge.ts';
import type { IngestDeps } from '../shared/ingest/ingest-batch.ts';
import type { ProfileStore } from '../shared/ports/profile-store.ts';
import { parseIngestConfig } from './config.ts';
import { describeError, type HandlerLogger } from './http/error-response.ts';
import { createIngestRuntime } from './ingest-runtime.ts';

export interface ForwardCloudTrailDeps {
  readonly ledger: string;
  readonly ingest: IngestDeps;
  /** The profile chains (read); versions are written with their events through `ingest`. */
  readonly profiles: ProfileStore;
  readonly logger: HandlerLogger;
  /** Told the outcome of every delivery (the local replay tools report it); never given message bodies. */
  readonly observe?: (outcome: EventBridgeForwardOutcome) => void;
}

/** Builds the handler around its dependencies (tests pass in-memory ones). */
export function createHandler(deps: ForwardCloudTrailDeps) {
  const observer: ForwardObserver = {
    rejected: (r) =>
      deps.logger.warn('EventBridge envelope rejected', {
        messageId: r.messageId,
        reason: r.reason,
        path: r.path,
        detail: r.message,
      }),
    failed: (error, messageIds) =>
      deps.logger.error('EventBridge envelopes not stored; returned for redelivery', {
        messageIds,
        ...describeError(error),
      }),
  };
  return middy<SQSEvent, SQSBatchResponse>().handler(
    async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
      const records = event.Records ?? [];
      const outcome = await forwardEventBridge(
        {
          ledger: deps.ledger,
          principal: records[0]?.eventSourceARN || 'cloudtrail-forwarder',
          requestId: context.awsRequestId,
          messages: records.map((r) => ({ messageId: r.messageId, body: r.body })),
        },
        { ingest: deps.ingest, profiles: deps.profiles },
        observer,
      );
      deps.logger.info('EventBridge delivery forwarded', {
        messages: records.length,
        stored: outcome.stored.length,
        duplicates: outcome.duplicates.length,
        rejected: outcome.rejected.length,
        failed: outcome.failed.length,
        versionsCreated: outcome.versions.filter((v) => v.status === 'created').length,
      });
      deps.observe?.(outcome);
      return {
        batchItemFailures: [...new Set(outcome.failed)].map((itemIdentifier) => ({ itemIdentifier })),
      };
    },
  );
}

let coldStartHandler: ReturnType<typeof createHandler> | undefined;

/** The Lambda entry point: configuration and clients are built on the first invocation only. */
export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  if (coldStartHandler === undefined) {
    const config = parseIngestConfig(process.env);
    const runtime = createIngestRuntime(config, 'auditseal-forward-cloudtrail');
    coldStartHandler = createHandler({
      ledger: config.ledger,
      ingest: runtime.ingest,
      profiles: runtime.profiles,
      logger: runtime.logger,
    });
  }
  return coldStartHandler(event, context);
};

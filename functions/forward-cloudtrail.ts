/**
 * CloudTrail forwarder: EventBridge rule ("AWS API Call / Console Sign In / Service Event via
 * CloudTrail") → SQS → this function. Each SQS message body is an EventBridge envelope. Middy wiring
 * around one call to `forwardCloudTrail`; the event source mapping must enable
 * `ReportBatchItemFailures`, so that only the messages listed here are redelivered.
 */
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import {
  type ForwardObserver,
  type ForwardOutcome,
  forwardCloudTrail,
} from '../shared/ingest/forward-cloudtrail.ts';
import type { IngestDeps } from '../shared/ingest/ingest-batch.ts';
import { parseIngestConfig } from './config.ts';
import { describeError, type HandlerLogger } from './http/error-response.ts';
import { createIngestRuntime } from './ingest-runtime.ts';

export interface ForwardCloudTrailDeps {
  readonly ledger: string;
  readonly ingest: IngestDeps;
  readonly logger: HandlerLogger;
  /** Told the outcome of every delivery (the local replay tool reports it); never given message bodies. */
  readonly observe?: (outcome: ForwardOutcome) => void;
}

/** Builds the handler around its dependencies (tests pass in-memory ones). */
export function createHandler(deps: ForwardCloudTrailDeps) {
  const observer: ForwardObserver = {
    rejected: (r) =>
      deps.logger.warn('CloudTrail envelope rejected', {
        messageId: r.messageId,
        reason: r.reason,
        path: r.path,
        detail: r.message,
      }),
    failed: (error, messageIds) =>
      deps.logger.error('CloudTrail events not stored; returned for redelivery', {
        messageIds,
        ...describeError(error),
      }),
  };
  return middy<SQSEvent, SQSBatchResponse>().handler(
    async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
      const records = event.Records ?? [];
      const outcome = await forwardCloudTrail(
        {
          ledger: deps.ledger,
          principal: records[0]?.eventSourceARN || 'cloudtrail-forwarder',
          requestId: context.awsRequestId,
          messages: records.map((r) => ({ messageId: r.messageId, body: r.body })),
        },
        deps.ingest,
        observer,
      );
      deps.logger.info('CloudTrail delivery forwarded', {
        messages: records.length,
        stored: outcome.stored.length,
        duplicates: outcome.duplicates.length,
        rejected: outcome.rejected.length,
        failed: outcome.failed.length,
      });
      deps.observe?.(outcome);
      return { batchItemFailures: outcome.failed.map((itemIdentifier) => ({ itemIdentifier })) };
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
      logger: runtime.logger,
    });
  }
  return coldStartHandler(event, context);
};

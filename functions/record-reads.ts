/**
 * The read recorder (G7): the read journal's queue → this function → the ingest core, channel `read`.
 * Middy wiring around one call to `recordReads`; the event source mapping must enable
 * `ReportBatchItemFailures`, so that only the messages listed here are redelivered.
 */
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { IngestDeps } from '../shared/ingest/ingest-batch.ts';
import { recordReads } from '../shared/query/record-reads.ts';
import { parseIngestConfig } from './config.ts';
import { describeError, type HandlerLogger } from './http/error-response.ts';
import { createIngestRuntime } from './ingest-runtime.ts';

export interface RecordReadsDeps {
  readonly ledger: string;
  readonly ingest: IngestDeps;
  readonly logger: HandlerLogger;
}

/** Builds the handler around its dependencies (tests pass in-memory ones). */
export function createHandler(deps: RecordReadsDeps) {
  return middy<SQSEvent, SQSBatchResponse>().handler(
    async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
      const records = event.Records ?? [];
      const outcome = await recordReads(
        {
          ledger: deps.ledger,
          requestId: context.awsRequestId,
          messages: records.map((r) => ({ messageId: r.messageId, body: r.body })),
        },
        deps.ingest,
        (error, messageIds) =>
          deps.logger.error('reads not recorded; returned for redelivery', {
            messageIds,
            ...describeError(error),
          }),
      );
      for (const rejected of outcome.rejected) deps.logger.warn('read record dropped', rejected);
      deps.logger.info('reads recorded', {
        messages: records.length,
        stored: outcome.stored.length,
        duplicates: outcome.duplicates.length,
        rejected: outcome.rejected.length,
        failed: outcome.failed.length,
      });
      return { batchItemFailures: outcome.failed.map((itemIdentifier) => ({ itemIdentifier })) };
    },
  );
}

let coldStartHandler: ReturnType<typeof createHandler> | undefined;

/** The Lambda entry point: configuration and clients are built on the first invocation only. */
export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  if (coldStartHandler === undefined) {
    const config = parseIngestConfig(process.env);
    const runtime = createIngestRuntime(config, 'auditseal-record-reads');
    coldStartHandler = createHandler({
      ledger: config.ledger,
      ingest: runtime.ingest,
      logger: runtime.logger,
    });
  }
  return coldStartHandler(event, context);
};

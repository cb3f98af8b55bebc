/**
 * Detections on the ledger stream (G9): every event row INSERTed into the ledger table is run through the
 * Sigma rules; matches become alerts (ledger events of channel `detection`), indexed and announced.
 * Middy wiring around one call to `detectLandedEvents`. On AWS the event source mapping filters the
 * stream down to event-row INSERTs; locally the poller delivers everything and this handler filters.
 * A failure fails the whole batch: every step is idempotent, so the retry (bisected on AWS) is safe.
 */
import middy from '@middy/core';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { z } from 'zod';
import {
  type DetectionDeps,
  detectLandedEvents,
  type LandedEvent,
} from '../shared/detect/detect-landed-events.ts';
import { type DetectionRuntime, detectionRuntimeFromEnv } from './detection-runtime.ts';
import { describeError, type HandlerLogger } from './http/error-response.ts';

const eventRowSchema = z.object({
  eventName: z.literal('INSERT'),
  dynamodb: z.object({
    Keys: z.object({ pk: z.object({ S: z.string() }) }),
    NewImage: z.object({
      id: z.object({ S: z.string().min(1).max(128) }),
      receivedAt: z.object({ S: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/) }),
      body: z.object({ B: z.string().max(400_000 * 2) }),
    }),
  }),
});

/** The event rows of a stream batch that landed in `ledger`: INSERTs of `EV#<ledger>#…` items. */
export function landedEventsOf(
  records: readonly DynamoDBRecord[],
  ledger: string,
  logger: Pick<HandlerLogger, 'warn'>,
): LandedEvent[] {
  const partition = `EV#${ledger}#`;
  const landed: LandedEvent[] = [];
  for (const record of records) {
    if (record.eventName !== 'INSERT' || !record.dynamodb?.Keys?.['pk']?.S?.startsWith(partition)) continue;
    const parsed = eventRowSchema.safeParse(record);
    if (!parsed.success) {
      // The sealer raises FOREIGN_ROW for a row the service did not write; here it is only skipped.
      logger.warn('event row without a readable id, time or body; not evaluated', {
        eventID: record.eventID,
      });
      continue;
    }
    const image = parsed.data.dynamodb.NewImage;
    landed.push({
      id: image.id.S,
      receivedAt: image.receivedAt.S,
      bytes: Buffer.from(image.body.B, 'base64'),
    });
  }
  return landed;
}

export interface DetectEventsDeps {
  readonly ledger: string;
  readonly logger: HandlerLogger;
  /** The detection dependencies, built on first use (rules load at cold start). */
  readonly detection: () => Promise<DetectionDeps>;
}

/** Builds the handler around injected dependencies (tests pass in-memory ones). */
export function createDetectEventsHandler(deps: DetectEventsDeps) {
  return middy(async (event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> => {
    const landed = landedEventsOf(event.Records ?? [], deps.ledger, deps.logger);
    if (landed.length === 0) return { batchItemFailures: [] };
    try {
      const outcome = await detectLandedEvents(landed, await deps.detection(), context.awsRequestId);
      if (outcome.notices.length > 0) {
        deps.logger.info('detections', {
          evaluated: outcome.evaluated,
          matches: outcome.matches,
          stored: outcome.stored.length,
          duplicates: outcome.duplicates.length,
          alreadyAlerted: outcome.alreadyAlerted.length,
          summaries: outcome.summaries,
        });
      }
    } catch (error) {
      deps.logger.error('detection batch failed; the stream retries it', describeError(error));
      throw error;
    }
    return { batchItemFailures: [] };
  });
}

let runtime: Promise<DetectionRuntime> | undefined;

function coldStart(): Promise<DetectionRuntime> {
  runtime ??= detectionRuntimeFromEnv().catch((error: unknown) => {
    runtime = undefined;
    throw error;
  });
  return runtime;
}

/** Lambda entry point; the runtime (and the rule index) is built on the first invocation of a container. */
export const handler = async (
  event: DynamoDBStreamEvent,
  context: Context,
): Promise<DynamoDBBatchResponse> => {
  const { deps, logger } = await coldStart();
  return createHandlerOnce(deps, logger)(event, context);
};

let built: ReturnType<typeof createDetectEventsHandler> | undefined;

function createHandlerOnce(deps: DetectionDeps, logger: HandlerLogger) {
  built ??= createDetectEventsHandler({ ledger: deps.ledger, logger, detection: async () => deps });
  return built;
}

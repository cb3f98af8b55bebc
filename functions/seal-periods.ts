/**
 * Stream-triggered sealing (G3) and tamper alarms (G5): the DynamoDB stream of the ledger table.
 * Every MODIFY or non-TTL REMOVE becomes a stored, logged alarm; then every due period is sealed from
 * the table (the source of truth). A sealing failure does not fail the batch — the heartbeat retries
 * sealing every minute — so alarms keep flowing even when S3 or KMS is down.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { z } from 'zod';
import type { AlarmSink } from '../shared/ports/sealing.ts';
import { type StreamChange, tamperAlarmsOf } from '../shared/sealing/tamper-alarms.ts';
import { sealingRuntimeFromEnv } from './sealing-runtime.ts';

const recordSchema = z.object({
  eventID: z.string().min(1).max(256),
  eventName: z.enum(['INSERT', 'MODIFY', 'REMOVE']),
  dynamodb: z.object({
    ApproximateCreationDateTime: z.number().nonnegative().optional(),
    Keys: z
      .object({ pk: z.object({ S: z.string() }).optional(), sk: z.object({ S: z.string() }).optional() })
      .optional(),
  }),
  userIdentity: z.object({ type: z.string().optional(), principalId: z.string().optional() }).optional(),
});

/** Maps one stream record; a record that does not parse is itself suspicious and becomes an alarm. */
export function toStreamChange(record: unknown, index: number): StreamChange {
  const parsed = recordSchema.safeParse(record);
  if (!parsed.success) {
    return {
      streamEventId: `unparsable-${index}-${Date.now()}`,
      eventName: 'MODIFY',
      changedAtMs: Date.now(),
    };
  }
  const r = parsed.data;
  return {
    streamEventId: r.eventID,
    eventName: r.eventName,
    // Deterministic even without a creation time, so a redelivered record maps to the same alarm id.
    changedAtMs: (r.dynamodb.ApproximateCreationDateTime ?? 0) * 1000,
    ...(r.dynamodb.Keys?.pk ? { pk: r.dynamodb.Keys.pk.S } : {}),
    ...(r.dynamodb.Keys?.sk ? { sk: r.dynamodb.Keys.sk.S } : {}),
    ...(r.userIdentity ? { userIdentity: r.userIdentity } : {}),
  };
}

export interface SealPeriodsDeps {
  readonly alarms: AlarmSink;
  readonly sealDue: () => Promise<unknown>;
  readonly logger: Logger;
}

/** Builds the handler around injected dependencies (tests pass fakes). */
export function createSealPeriodsHandler(deps: SealPeriodsDeps) {
  return middy(async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const changes = event.Records.map((r, i) => toStreamChange(r, i));
    const alarms = tamperAlarmsOf(changes);
    for (const alarm of alarms) {
      deps.logger.error('TAMPER ALARM: a ledger item was changed or removed', {
        alarmId: alarm.alarmId,
        eventName: alarm.eventName,
        pk: alarm.pk,
        sk: alarm.sk,
        principal: alarm.principal,
      });
    }
    // Alarm storage failing must fail the batch: the stream redelivers, and alarm ids are idempotent.
    await deps.alarms.raise(alarms);
    try {
      await deps.sealDue();
    } catch (error) {
      deps.logger.error('sealing failed; the heartbeat will retry', { error: (error as Error).name });
    }
    return { batchItemFailures: [] };
  });
}

let runtime: ReturnType<typeof sealingRuntimeFromEnv> | undefined;
const logger = new Logger({ serviceName: 'auditseal-sealer' });

/** Lambda entry point; the runtime is built on the first invocation of a container. */
export const handler = createSealPeriodsHandler({
  logger,
  alarms: {
    raise: (alarms) => {
      runtime ??= sealingRuntimeFromEnv();
      return runtime.alarms.raise(alarms);
    },
  },
  sealDue: () => {
    runtime ??= sealingRuntimeFromEnv();
    return runtime.sealDue();
  },
});

/**
 * Stream-triggered sealing (G3) and tamper alarms (G5): the DynamoDB stream of the ledger table.
 * Every MODIFY or REMOVE, and every INSERT of a row that no signature backs (a row the service did not
 * write), becomes a stored, logged alarm; then every due period is sealed from the table (the source of
 * truth). A sealing failure does not fail the batch — the heartbeat retries sealing every minute — so
 * alarms keep flowing even when S3 or KMS is down.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { z } from 'zod';
import type { AlarmSink } from '../shared/ports/sealing.ts';
import {
  foreignRowAlarm,
  type StreamChange,
  type TamperAlarm,
  tamperAlarmsOf,
} from '../shared/sealing/tamper-alarms.ts';
import { alarmLogLine, sealingRuntimeFromEnv } from './sealing-runtime.ts';

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
  /** Says why an inserted row is not one the service wrote (undefined: recognized). */
  readonly recognizeInsert?: (image: Record<string, AttributeValue>) => Promise<string | undefined>;
}

/** A Lambda stream image (binary attributes in base64) in the SDK's form (binary as bytes). */
export function sdkImage(image: unknown): Record<string, AttributeValue> | undefined {
  if (typeof image !== 'object' || image === null || Array.isArray(image)) return undefined;
  const out: Record<string, AttributeValue> = {};
  for (const [name, value] of Object.entries(image as Record<string, unknown>)) {
    const converted = sdkValue(value);
    if (!converted) return undefined;
    Object.defineProperty(out, name, {
      value: converted,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

function sdkValue(value: unknown): AttributeValue | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v['S'] === 'string') return { S: v['S'] };
  if (typeof v['N'] === 'string') return { N: v['N'] };
  if (typeof v['B'] === 'string') return { B: Buffer.from(v['B'], 'base64') };
  if (typeof v['BOOL'] === 'boolean') return { BOOL: v['BOOL'] };
  if (v['NULL'] === true) return { NULL: true };
  if (Array.isArray(v['L'])) {
    const list = v['L'].map(sdkValue);
    return list.every((x) => x !== undefined) ? { L: list as AttributeValue[] } : undefined;
  }
  if (typeof v['M'] === 'object' && v['M'] !== null) {
    const map = sdkImage(v['M']);
    return map ? { M: map } : undefined;
  }
  if (Array.isArray(v['SS'])) return { SS: v['SS'].map(String) };
  if (Array.isArray(v['NS'])) return { NS: v['NS'].map(String) };
  if (Array.isArray(v['BS'])) return { BS: v['BS'].map((b) => Buffer.from(String(b), 'base64')) };
  return undefined;
}

/** Builds the handler around injected dependencies (tests pass fakes). */
export function createSealPeriodsHandler(deps: SealPeriodsDeps) {
  return middy(async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const changes = event.Records.map((r, i) => toStreamChange(r, i));
    const alarms: TamperAlarm[] = tamperAlarmsOf(changes);
    if (deps.recognizeInsert) {
      for (const [i, change] of changes.entries()) {
        if (change.eventName !== 'INSERT') continue;
        const image = sdkImage(event.Records[i]?.dynamodb?.NewImage);
        const problem = image
          ? await deps.recognizeInsert(image)
          : 'the stream record carries no readable new image';
        if (problem !== undefined) alarms.push(foreignRowAlarm(change, problem));
      }
    }
    for (const alarm of alarms) {
      deps.logger.error(`${alarmLogLine(alarm)}`, {
        alarmId: alarm.alarmId,
        kind: alarm.kind,
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
  recognizeInsert: (image) => {
    runtime ??= sealingRuntimeFromEnv();
    return runtime.recognizeInsert(image);
  },
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

/**
 * Cold-start wiring of the detection function: configuration parsed once, rules loaded, validated and
 * indexed once (from the shipped folder, an operator folder and an S3 prefix), SDK clients created once.
 *
 * | variable | meaning | default |
 * | --- | --- | --- |
 * | the ingest variables (functions/config.ts) | alerts are written through the ingest core | |
 * | `AUDITSEAL_RULES_DIR` | the shipped rules (the deployed bundle carries a copy) | `shared/detect/rules/sigma/` |
 * | `AUDITSEAL_EXTRA_RULES_DIR` | an operator's folder of Sigma rules | none |
 * | `AUDITSEAL_RULES_BUCKET`, `AUDITSEAL_RULES_PREFIX` | an operator's rules under an S3 prefix | none |
 * | `AUDITSEAL_DISABLED_RULES` | rule ids not to run, comma-separated | none |
 * | `AUDITSEAL_ALERTS_PER_WINDOW`, `AUDITSEAL_ALERT_WINDOW_SECONDS` | per-rule rate limit | 10 per 60 s |
 * | `AUDITSEAL_ALERT_TOPIC` | SNS topic ARN alerts are announced on | none |
 * | `AUDITSEAL_EVENT_BUS` | EventBridge bus (name or ARN) alerts are put on | none |
 * | `AUDITSEAL_SNS_ENDPOINT`, `AUDITSEAL_EVENTS_ENDPOINT`, `AUDITSEAL_S3_ENDPOINT` | local endpoints | none |
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { z } from 'zod';
import { DynamoDbAlertIndex } from '../adapters/dynamodb/alert-index.ts';
import { EventBridgeAlertPublisher } from '../adapters/eventbridge/alert-publisher.ts';
import { readRuleBucketPrefix } from '../adapters/s3/rule-files.ts';
import { SnsAlertPublisher } from '../adapters/sns/alert-publisher.ts';
import { AlertPlanner } from '../shared/detect/alerts.ts';
import type { DetectionDeps } from '../shared/detect/detect-landed-events.ts';
import { Detector } from '../shared/detect/detector.ts';
import { FanOutAlertPublisher } from '../shared/detect/fan-out-publisher.ts';
import {
  buildRuleSet,
  DEFAULT_RULES_DIR,
  type OperatorRuleSet,
  readRuleFolder,
} from '../shared/detect/load-rules.ts';
import type { AlertPublisher } from '../shared/ports/alerts.ts';
import { parseIngestConfig } from './config.ts';
import { createIngestRuntime } from './ingest-runtime.ts';

const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema.optional());
const endpoint = optional(z.url({ protocol: /^https?$/ }));

const detectionEnvSchema = z
  .object({
    AUDITSEAL_RULES_DIR: optional(z.string().min(1).max(4096)),
    AUDITSEAL_EXTRA_RULES_DIR: optional(z.string().min(1).max(4096)),
    AUDITSEAL_RULES_BUCKET: optional(z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/)),
    AUDITSEAL_RULES_PREFIX: optional(z.string().max(1024)),
    AUDITSEAL_DISABLED_RULES: optional(
      z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}(,[A-Za-z0-9][A-Za-z0-9._:-]{0,127})*$/),
    ),
    AUDITSEAL_ALERTS_PER_WINDOW: optional(z.coerce.number().int().min(0).max(10_000)),
    AUDITSEAL_ALERT_WINDOW_SECONDS: optional(z.coerce.number().int().min(1).max(86_400)),
    AUDITSEAL_ALERT_TOPIC: optional(
      z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/),
    ),
    AUDITSEAL_EVENT_BUS: optional(z.string().min(1).max(1600)),
    AUDITSEAL_SNS_ENDPOINT: endpoint,
    AUDITSEAL_EVENTS_ENDPOINT: endpoint,
    AUDITSEAL_S3_ENDPOINT: endpoint,
  })
  .refine((env) => env.AUDITSEAL_RULES_PREFIX === undefined || env.AUDITSEAL_RULES_BUCKET !== undefined, {
    message: 'AUDITSEAL_RULES_PREFIX needs AUDITSEAL_RULES_BUCKET',
    path: ['AUDITSEAL_RULES_PREFIX'],
  });

export type DetectionConfig = z.output<typeof detectionEnvSchema>;

/** Parses the detection settings; throws naming the variables, never their values. */
export function parseDetectionConfig(env: Record<string, string | undefined>): DetectionConfig {
  const result = detectionEnvSchema.safeParse(env);
  if (!result.success) {
    const names = result.error.issues.map((i) => i.path.join('.') || '(env)').join(', ');
    throw new Error(`invalid detection configuration: ${names}`);
  }
  return result.data;
}

/** The rules the function runs, by its configuration (throws `RuleSetError` on any operator refusal). */
export async function loadConfiguredRules(config: DetectionConfig, s3?: S3Client): Promise<OperatorRuleSet> {
  const shipped = readRuleFolder(config.AUDITSEAL_RULES_DIR ?? DEFAULT_RULES_DIR);
  const operator = config.AUDITSEAL_EXTRA_RULES_DIR
    ? readRuleFolder(config.AUDITSEAL_EXTRA_RULES_DIR, 'operator/')
    : [];
  if (config.AUDITSEAL_RULES_BUCKET !== undefined) {
    const client = s3 ?? new S3Client({});
    operator.push(
      ...(await readRuleBucketPrefix(
        client,
        config.AUDITSEAL_RULES_BUCKET,
        config.AUDITSEAL_RULES_PREFIX ?? '',
      )),
    );
  }
  return buildRuleSet({
    shipped,
    operator,
    disabled: config.AUDITSEAL_DISABLED_RULES?.split(',') ?? [],
  });
}

/** Everything one detection invocation needs, built once per container. */
export interface DetectionRuntime {
  readonly deps: DetectionDeps;
  readonly rules: OperatorRuleSet;
  readonly logger: Logger;
}

/** Builds the runtime from the environment (async: rules may come from S3). */
export async function detectionRuntimeFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): Promise<DetectionRuntime> {
  const ingestConfig = parseIngestConfig(env);
  const config = parseDetectionConfig(env);
  const region = env['AWS_REGION'] ?? 'us-east-1';
  const { ingest, logger } = createIngestRuntime(ingestConfig, 'auditseal-detect-events');
  const s3 = new S3Client({
    region,
    ...(config.AUDITSEAL_S3_ENDPOINT ? { endpoint: config.AUDITSEAL_S3_ENDPOINT, forcePathStyle: true } : {}),
  });
  const rules = await loadConfiguredRules(config, s3);
  const publishers: AlertPublisher[] = [];
  if (config.AUDITSEAL_ALERT_TOPIC !== undefined) {
    const client = new SNSClient({
      region,
      ...(config.AUDITSEAL_SNS_ENDPOINT ? { endpoint: config.AUDITSEAL_SNS_ENDPOINT } : {}),
    });
    publishers.push(new SnsAlertPublisher({ client, topicArn: config.AUDITSEAL_ALERT_TOPIC }));
  }
  if (config.AUDITSEAL_EVENT_BUS !== undefined) {
    const client = new EventBridgeClient({
      region,
      ...(config.AUDITSEAL_EVENTS_ENDPOINT ? { endpoint: config.AUDITSEAL_EVENTS_ENDPOINT } : {}),
    });
    publishers.push(new EventBridgeAlertPublisher({ client, eventBusName: config.AUDITSEAL_EVENT_BUS }));
  }
  const dynamodb = new DynamoDBClient({
    region,
    ...(ingestConfig.dynamoDbEndpoint ? { endpoint: ingestConfig.dynamoDbEndpoint } : {}),
  });
  logger.info('detection rules loaded', {
    running: rules.rules.length,
    refusedShipped: rules.refusedShipped.length,
    disabled: rules.disabled.map((r) => r.id),
  });
  return {
    rules,
    logger,
    deps: {
      ledger: ingestConfig.ledger,
      detector: new Detector(rules.rules),
      planner: new AlertPlanner({
        alerts: config.AUDITSEAL_ALERTS_PER_WINDOW ?? 10,
        windowSeconds: config.AUDITSEAL_ALERT_WINDOW_SECONDS ?? 60,
      }),
      ingest,
      index: new DynamoDbAlertIndex({
        client: dynamodb,
        tableName: ingestConfig.tableName,
        ledger: ingestConfig.ledger,
      }),
      publisher: new FanOutAlertPublisher(publishers),
      observer: {
        unreadable: (eventId, reason) => logger.warn('landed row not evaluated', { eventId, reason }),
        conflict: (alertId) =>
          logger.error(
            'alert id already stored with other content (rule edited?); security signal recorded',
            {
              alertId,
            },
          ),
      },
    },
  };
}

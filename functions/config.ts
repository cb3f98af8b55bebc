/**
 * Function configuration, parsed once at cold start from environment variables with a strict schema
 * and passed down as plain values: nothing under `shared/` reads `process.env`.
 *
 * | variable | meaning | default |
 * | --- | --- | --- |
 * | `AUDITSEAL_TABLE` | ledger table name | required |
 * | `AUDITSEAL_LEDGER` | ledger id (`a-z 0-9 -`, 1–63) | required |
 * | `AUDITSEAL_KMS_KEY_ID` | KMS key id, ARN or alias of the signing key | required |
 * | `AUDITSEAL_PERIOD_SECONDS` | sealing period, dividing a day, 60..86400 | 3600 |
 * | `AUDITSEAL_GRACE_SECONDS` | wait after a period's end before it is sealed; > `WRITER_TIMEOUT_SECONDS` (10) | 60 |
 * | `AUDITSEAL_SHARDS` | event partitions per period, 1..100 | 32 |
 * | `AUDITSEAL_DYNAMODB_ENDPOINT`, `AUDITSEAL_KMS_ENDPOINT` | endpoint overrides for the local stack | none |
 */
import { z } from 'zod';
import { DEFAULT_WRITE_MARGIN_MS } from '../shared/ingest/ingest-batch.ts';
import { LEDGER_ID_PATTERN } from '../shared/ledger/object-keys.ts';
import { assertPeriodSeconds, DEFAULT_PERIOD_SECONDS } from '../shared/ledger/period.ts';

export const DEFAULT_GRACE_SECONDS = 60;
/**
 * The timeout of every function that appends to the ledger (ingest, the CloudTrail forwarder, the queries
 * that record their reads), deployed (infra/constructs/functions.ts) and local (local/routes.ts). The
 * sealing grace must exceed it, so that no write can outlive the grace of its period.
 */
export const WRITER_TIMEOUT_SECONDS = 10;
/** API Gateway's integration timeout: the timeout of the API functions that only read. */
export const API_INTEGRATION_TIMEOUT_SECONDS = 29;
export const DEFAULT_SHARDS = 32;

/** Unset and empty variables are the same thing. */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema.optional());

const wholeNumber = (min: number, max: number, fallback: number) =>
  optional(
    z
      .string()
      .regex(/^\d{1,6}$/, 'must be a whole number')
      .transform(Number)
      .pipe(z.number().int().min(min).max(max)),
  ).transform((value) => value ?? fallback);

const endpoint = optional(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }));

const ingestEnvSchema = z
  .object({
    AUDITSEAL_TABLE: z.string().regex(/^[A-Za-z0-9_.-]{3,255}$/, 'must be a DynamoDB table name'),
    AUDITSEAL_LEDGER: z.string().regex(LEDGER_ID_PATTERN, 'must be 1-63 chars of a-z 0-9 -'),
    AUDITSEAL_KMS_KEY_ID: z.string().min(1).max(2048),
    AUDITSEAL_PERIOD_SECONDS: wholeNumber(60, 86_400, DEFAULT_PERIOD_SECONDS).refine((seconds) => {
      try {
        assertPeriodSeconds(seconds);
        return true;
      } catch {
        return false;
      }
    }, 'must divide a day (86400)'),
    AUDITSEAL_GRACE_SECONDS: wholeNumber(
      Math.max(Math.ceil(DEFAULT_WRITE_MARGIN_MS / 1000), WRITER_TIMEOUT_SECONDS) + 1,
      86_400,
      DEFAULT_GRACE_SECONDS,
    ),
    AUDITSEAL_SHARDS: wholeNumber(1, 100, DEFAULT_SHARDS),
    AUDITSEAL_DYNAMODB_ENDPOINT: endpoint,
    AUDITSEAL_KMS_ENDPOINT: endpoint,
  })
  .transform((env) => ({
    tableName: env.AUDITSEAL_TABLE,
    ledger: env.AUDITSEAL_LEDGER,
    kmsKeyId: env.AUDITSEAL_KMS_KEY_ID,
    periodSeconds: env.AUDITSEAL_PERIOD_SECONDS,
    graceSeconds: env.AUDITSEAL_GRACE_SECONDS,
    shardCount: env.AUDITSEAL_SHARDS,
    dynamoDbEndpoint: env.AUDITSEAL_DYNAMODB_ENDPOINT,
    kmsEndpoint: env.AUDITSEAL_KMS_ENDPOINT,
  }));

/** Configuration of the ingest functions (`POST /v1/events` and the CloudTrail forwarder). */
export type IngestConfig = z.output<typeof ingestEnvSchema>;

/** The environment does not describe a usable configuration. Names the variables, never their values. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
  }
}

/** Parses the ingest configuration from an environment (normally `process.env`, once per cold start). */
export function parseIngestConfig(env: Record<string, string | undefined>): IngestConfig {
  const result = ingestEnvSchema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.') || '(env)'} ${i.message}`));
  }
  return result.data;
}

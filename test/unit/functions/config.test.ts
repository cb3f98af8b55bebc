import { describe, expect, it } from 'vitest';
import { ConfigError, parseIngestConfig } from '../../../functions/config.ts';
import { handler } from '../../../functions/ingest-events.ts';
import { lambdaContext, postEvents } from './http-fixtures.ts';

const REQUIRED = {
  AUDITSEAL_TABLE: 'auditseal-ledger',
  AUDITSEAL_LEDGER: 'main',
  AUDITSEAL_KMS_KEY_ID: 'alias/auditseal-signing',
};

function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    parseIngestConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('parseIngestConfig did not throw');
}

describe('Function: parseIngestConfig', () => {
  it('applies the defaults when only the required variables are set', () => {
    // Act
    const config = parseIngestConfig(REQUIRED);

    // Assess
    expect(config).toEqual({
      tableName: 'auditseal-ledger',
      ledger: 'main',
      kmsKeyId: 'alias/auditseal-signing',
      periodSeconds: 3600,
      graceSeconds: 60,
      shardCount: 32,
      dynamoDbEndpoint: undefined,
      kmsEndpoint: undefined,
    });
  });

  it('reads every variable, treating empty optional ones as unset', () => {
    // Act
    const config = parseIngestConfig({
      ...REQUIRED,
      AUDITSEAL_PERIOD_SECONDS: '60',
      AUDITSEAL_GRACE_SECONDS: '20',
      AUDITSEAL_SHARDS: '4',
      AUDITSEAL_DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000',
      AUDITSEAL_KMS_ENDPOINT: '',
    });

    // Assess
    expect(config).toMatchObject({
      periodSeconds: 60,
      graceSeconds: 20,
      shardCount: 4,
      dynamoDbEndpoint: 'http://127.0.0.1:8000',
      kmsEndpoint: undefined,
    });
  });

  describe.each([
    ['a missing table', { AUDITSEAL_TABLE: undefined }, 'AUDITSEAL_TABLE'],
    ['an uppercase ledger id', { AUDITSEAL_LEDGER: 'Main' }, 'AUDITSEAL_LEDGER'],
    ['a period that does not divide a day', { AUDITSEAL_PERIOD_SECONDS: '7000' }, 'AUDITSEAL_PERIOD_SECONDS'],
    ['a fractional period', { AUDITSEAL_PERIOD_SECONDS: '60.5' }, 'AUDITSEAL_PERIOD_SECONDS'],
    ['a grace shorter than the write margin', { AUDITSEAL_GRACE_SECONDS: '5' }, 'AUDITSEAL_GRACE_SECONDS'],
    ['a grace not above the writer timeout', { AUDITSEAL_GRACE_SECONDS: '10' }, 'AUDITSEAL_GRACE_SECONDS'],
    ['101 shards', { AUDITSEAL_SHARDS: '101' }, 'AUDITSEAL_SHARDS'],
    ['a non-URL endpoint', { AUDITSEAL_DYNAMODB_ENDPOINT: 'localhost:8000' }, 'AUDITSEAL_DYNAMODB_ENDPOINT'],
  ])('when the environment has %s', (_name, override, variable) => {
    it(`names ${variable} and not its value`, () => {
      // Act
      const error = configError({ ...REQUIRED, ...override });

      // Assess
      expect(error.message).toContain(variable);
      for (const value of Object.values(override)) if (value) expect(error.message).not.toContain(value);
    });
  });
});

describe('Handler: default export of ingest-events', () => {
  describe('when the environment is not configured', () => {
    it('fails on the first invocation without touching AWS', async () => {
      // Act
      const error = await handler(postEvents('{"events":[]}'), lambdaContext()).catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(ConfigError);
    });
  });
});

/**
 * The app's parameters: read from the CDK context (`cdk.json` or `-c`), validated, and named in every error.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_GRACE_SECONDS } from '../../functions/config.ts';
import { DEFAULT_LEDGER, DEFAULT_STACK_NAME, settingsFromContext } from '../../infra/app.ts';
import { DEFAULT_THROTTLING } from '../../infra/constructs/private-api.ts';
import { DEFAULT_PERIOD_SECONDS } from '../../shared/ledger/period.ts';
import { cdkJsonContext } from './synthesize.ts';

describe('Function: settingsFromContext', () => {
  it('uses the defaults when no auditseal key is set', () => {
    // Act
    const settings = settingsFromContext({ '@aws-cdk/core:someFlag': true });

    // Assess
    expect(settings).toEqual({
      stackName: DEFAULT_STACK_NAME,
      parameters: {
        ledger: DEFAULT_LEDGER,
        periodSeconds: DEFAULT_PERIOD_SECONDS,
        graceSeconds: DEFAULT_GRACE_SECONDS,
        throttling: {
          rateLimit: DEFAULT_THROTTLING.rateLimit,
          burstLimit: DEFAULT_THROTTLING.rateLimit * 2,
          ingestRateLimit: DEFAULT_THROTTLING.ingestRateLimit,
          ingestBurstLimit: DEFAULT_THROTTLING.ingestRateLimit * 2,
        },
      },
    });
  });

  it('reads cdk.json’s parameters', () => {
    // Act
    const { parameters } = settingsFromContext(cdkJsonContext());

    // Assess
    expect(parameters).toMatchObject({ ledger: 'main', periodSeconds: 3600, graceSeconds: 60 });
  });

  it('accepts values as `-c key=value` strings', () => {
    // Act
    const { parameters } = settingsFromContext({
      'auditseal:periodSeconds': '900',
      'auditseal:retentionDays': '30',
      'auditseal:clientVpcEndpointIds': 'vpce-0123456789abcdef0,vpce-0fedcba9876543210',
    });

    // Assess
    expect(parameters).toMatchObject({
      periodSeconds: 900,
      retentionDays: 30,
      clientVpcEndpointIds: ['vpce-0123456789abcdef0', 'vpce-0fedcba9876543210'],
    });
  });

  describe('when a value is invalid', () => {
    it.each([
      ['auditseal:periodSeconds', 7],
      ['auditseal:periodSeconds', 7000],
      ['auditseal:ledger', 'Not A Ledger'],
      ['auditseal:retentionDays', 0],
      ['auditseal:clientVpcEndpointIds', 'sg-123'],
      ['auditseal:alarmEmail', 'not-an-address'],
    ])('rejects %s = %j, naming the key', (key, value) => {
      // Act / Assess
      expect(() => settingsFromContext({ [key]: value })).toThrow(key);
    });
  });

  describe('when a key is unknown', () => {
    it('rejects it, naming the key', () => {
      // Act / Assess
      expect(() => settingsFromContext({ 'auditseal:retentionDay': 30 })).toThrow('auditseal:retentionDay');
    });
  });
});

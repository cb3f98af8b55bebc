import { describe, expect, it } from 'vitest';
import { ProfileValidationError } from '../../../shared/profiles/errors.ts';
import { MAX_PROFILE_BYTES } from '../../../shared/profiles/limits.ts';
import { parseProfile } from '../../../shared/profiles/profile.ts';
import { INSTANCE_ARN, profileInput } from './profile-fixtures.ts';

function validationError(act: () => unknown): ProfileValidationError {
  try {
    act();
  } catch (error) {
    if (error instanceof ProfileValidationError) return error;
    throw error;
  }
  throw new Error('parseProfile did not throw');
}

describe('Function: parseProfile', () => {
  it('accepts a profile of an ARN with ":" and "/", normalizes lastModified and hashes the canonical text', () => {
    // Prepare
    const input = profileInput('2026-11-22T23:00:00.1234+02:00', { b: 1, a: [true, null] });

    // Act
    const { profile, canonical, contentHash } = parseProfile(input);

    // Assess
    expect(profile.resourceId).toBe(INSTANCE_ARN);
    expect(profile.lastModified).toBe('2026-11-22T21:00:00.123Z');
    expect(canonical).toBe(
      `{"configuration":{"a":[true,null],"b":1},"lastModified":"2026-11-22T21:00:00.123Z","resourceId":"${INSTANCE_ARN}","resourceType":"AWS::EC2::Instance","source":"api","tags":{"env":"prod"}}`,
    );
    expect(contentHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('returns a frozen copy that later changes to the input cannot reach', () => {
    // Prepare
    const configuration = { state: 'running' };
    const input = profileInput('2026-11-22T21:00:00Z', configuration);

    // Act
    const { profile } = parseProfile(input);
    configuration.state = 'stopped';

    // Assess
    expect(profile.configuration).toEqual({ state: 'running' });
    expect(Object.isFrozen(profile.configuration)).toBe(true);
    expect(() => {
      (profile.tags as Record<string, string>)['env'] = 'dev';
    }).toThrow(TypeError);
  });

  it('accepts an oversized-item version: configuration null and the reason', () => {
    // Act
    const { profile } = parseProfile(
      profileInput('2026-11-22T21:00:00Z', null, {
        source: 'aws-config',
        configurationNotDelivered: { reason: 'SOURCE_OVERSIZED', location: 'bucket/key.json.gz' },
      }),
    );

    // Assess
    expect(profile.configurationNotDelivered?.reason).toBe('SOURCE_OVERSIZED');
  });

  describe('when a member name is __proto__, constructor or prototype', () => {
    it.each(['__proto__', 'constructor', 'prototype'])('refuses %s anywhere with FORBIDDEN_KEY', (name) => {
      // Prepare: JSON.parse makes "__proto__" an own member, as a request body would.
      const input = JSON.parse(
        JSON.stringify(profileInput('2026-11-22T21:00:00Z', { deep: { ok: 1 } })).replace(
          '"ok"',
          JSON.stringify(name),
        ),
      ) as unknown;

      // Act
      const error = validationError(() => parseProfile(input));

      // Assess
      expect(error.reason).toBe('FORBIDDEN_KEY');
      expect(error.path).toBe(`$.configuration.deep.${name}`);
      expect(({} as Record<string, unknown>)['ok']).toBeUndefined();
    });
  });

  describe('when a member is unknown', () => {
    it('refuses it with SCHEMA_VIOLATION and its path', () => {
      // Act
      const error = validationError(() =>
        parseProfile({ ...profileInput('2026-11-22T21:00:00Z'), owner: 'x' }),
      );

      // Assess
      expect(error.reason).toBe('SCHEMA_VIOLATION');
      expect(error.path).toBe('$.owner');
    });
  });

  describe('when the resource id has a control character', () => {
    it('refuses it', () => {
      // Act
      const error = validationError(() =>
        parseProfile({ ...profileInput('2026-11-22T21:00:00Z'), resourceId: 'arn:x\u0007' }),
      );

      // Assess
      expect(error.path).toBe('$.resourceId');
      expect(error.message).not.toContain('\u0007');
    });
  });

  describe('when the configuration is not null but marked not delivered', () => {
    it('refuses it', () => {
      // Act
      const error = validationError(() =>
        parseProfile(
          profileInput(
            '2026-11-22T21:00:00Z',
            { a: 1 },
            { configurationNotDelivered: { reason: 'PROFILE_LIMIT' } },
          ),
        ),
      );

      // Assess
      expect(error.path).toBe('$.configuration');
    });
  });

  describe('when the profile is larger than MAX_PROFILE_BYTES', () => {
    it('refuses it with TOO_LARGE', () => {
      // Prepare: many strings that each fit, together too large.
      const configuration = Object.fromEntries(
        Array.from({ length: 200 }, (_, i) => [`k${i}`, 'x'.repeat(2_000)]),
      );

      // Act
      const error = validationError(() => parseProfile(profileInput('2026-11-22T21:00:00Z', configuration)));

      // Assess
      expect(MAX_PROFILE_BYTES).toBeLessThan(200 * 2_000);
      expect(error.reason).toBe('TOO_LARGE');
    });
  });

  describe('when lastModified has no time zone', () => {
    it('refuses it', () => {
      // Act
      const error = validationError(() => parseProfile(profileInput('2026-11-22T21:00:00')));

      // Assess
      expect(error.path).toBe('$.lastModified');
    });
  });

  describe('when relatedEventIds repeat an id', () => {
    it('refuses them', () => {
      // Act
      const error = validationError(() =>
        parseProfile(profileInput('2026-11-22T21:00:00Z', null, { relatedEventIds: ['ct:a', 'ct:a'] })),
      );

      // Assess
      expect(error.path).toBe('$.relatedEventIds');
    });
  });

  describe('when an integer is beyond 2^53', () => {
    it('refuses it with UNSAFE_INTEGER', () => {
      // Act
      const error = validationError(() =>
        parseProfile(profileInput('2026-11-22T21:00:00Z', { big: 2 ** 60 })),
      );

      // Assess
      expect(error.reason).toBe('UNSAFE_INTEGER');
    });
  });
});

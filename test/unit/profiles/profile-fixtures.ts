/** Small builders for profile tests: a valid profile input, parsed profiles, and a chain of versions. */
import fc from 'fast-check';
import type { JsonValue } from '../../../shared/events/json-guard.ts';
import { type ParsedProfile, parseProfile } from '../../../shared/profiles/profile.ts';
import { createVersion, type ProfileVersion } from '../../../shared/profiles/version.ts';

/** A real-looking ARN with both `:` and `/`. */
export const INSTANCE_ARN = 'arn:aws:ec2:us-east-1:123456789012:instance/i-0abc1234def567890';

/** `2026-11-22T21:MM:00.000Z` for minute m: times that sort as they read. */
export function minute(m: number): string {
  return new Date(Date.UTC(2026, 10, 22, 21, m, 0)).toISOString();
}

/** A valid profile input for `INSTANCE_ARN` at `lastModified` with the given configuration. */
export function profileInput(
  lastModified: string,
  configuration: JsonValue = { state: 'running' },
  extra: object = {},
) {
  return {
    resourceId: INSTANCE_ARN,
    resourceType: 'AWS::EC2::Instance',
    configuration,
    tags: { env: 'prod' },
    lastModified,
    source: 'api' as const,
    ...extra,
  };
}

export function parsed(lastModified: string, configuration?: JsonValue, extra: object = {}): ParsedProfile {
  return parseProfile(profileInput(lastModified, configuration, extra));
}

/**
 * A valid chain: version k (1-based) has effective time `effective[k-1]` (minutes), configuration
 * `{ step: k }`, and is recorded one second after the previous one.
 */
export function chainOf(effective: readonly number[], resourceId = INSTANCE_ARN): ProfileVersion[] {
  const versions: ProfileVersion[] = [];
  effective.forEach((m, i) => {
    const previous = versions.at(-1);
    versions.push(
      createVersion(parseProfile({ ...profileInput(minute(m), { step: i + 1 }), resourceId }), {
        n: i + 1,
        previousHash: previous?.hash ?? null,
        recordedAt: new Date(Date.UTC(2026, 10, 23, 0, 0, i)).toISOString(),
      }),
    );
  });
  return versions;
}

/** Versions sorted by (effectiveAt, n), as a store keeps them. */
export function byTime(versions: readonly ProfileVersion[]): ProfileVersion[] {
  return [...versions].sort((a, b) =>
    a.effectiveAt === b.effectiveAt ? a.n - b.n : a.effectiveAt < b.effectiveAt ? -1 : 1,
  );
}

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * JSON values a profile accepts: fast-check's JSON without the member names the guard refuses and
 * without integers beyond 2^53 (both are refused on purpose, and tested on their own).
 */
export function profileJson(maxDepth = 3): fc.Arbitrary<JsonValue> {
  return fc.jsonValue({ maxDepth }).map(
    (value) =>
      JSON.parse(
        JSON.stringify(value, (key, v: unknown) => {
          if (FORBIDDEN.has(key)) return undefined;
          return typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v) ? 0 : v;
        }) ?? 'null',
      ) as JsonValue,
  );
}

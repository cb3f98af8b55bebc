/**
 * `canonicalizeParsedInput`, the ingest path's one-pass canonicalization, against the general path it
 * replaces there: `canonicalizeEvent` for the stored form and `canonicalString` for the input.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { canonicalString } from '../../../shared/canonical/jcs.ts';
import { type AuditEventInput, parseAuditEventInput } from '../../../shared/events/audit-event.ts';
import { fromCloudTrailRecord } from '../../../shared/events/cloudtrail.ts';
import { CloudTrailMappingError, EventValidationError } from '../../../shared/events/errors.ts';
import { MAX_EVENT_BYTES } from '../../../shared/events/limits.ts';
import {
  type Channel,
  canonicalizeEvent,
  canonicalizeParsedInput,
} from '../../../shared/ingest/canonical-event.ts';
import { appEvent } from './ingest-fixtures.ts';

const RECEIVED_AT = '2026-11-22T21:10:00.123Z';
const CHANNELS: readonly Channel[] = ['api', 'cloudtrail', 'import'];

/** Every CloudTrail sample record the mapper accepts: real, varied inputs (nested records, unicode, numbers). */
function cloudTrailInputs(): AuditEventInput[] {
  const url = new URL('../../../../shared/data/cloudtrail/all_permissive.jsonl', import.meta.url);
  const inputs: AuditEventInput[] = [];
  for (const line of readFileSync(url, 'utf8').split('\n')) {
    if (line === '') continue;
    try {
      inputs.push(fromCloudTrailRecord(line));
    } catch (error) {
      if (!(error instanceof CloudTrailMappingError) && !(error instanceof EventValidationError)) throw error;
    }
  }
  return inputs;
}

function outcome(act: () => unknown): unknown {
  try {
    return act();
  } catch (error) {
    if (error instanceof EventValidationError)
      return { code: error.code, path: error.path, message: error.message };
    throw error;
  }
}

describe('Function: canonicalizeParsedInput', () => {
  describe('when given a parsed input and the server members', () => {
    const full = parseAuditEventInput({
      ...appEvent(7),
      actor: { id: 'arn:aws:sts::123456789012:assumed-role/R/ü', type: 'role', mfa: true, accountId: '1' },
      outcome: { result: 'failure', errorCode: 'AccessDenied', errorMessage: 'no 😀' },
      sourceIp: '2001:db8::1',
      userAgent: 'ua',
      requestId: 'r-1',
      endpoint: 'vpce-1',
      tags: { zé: 'b', a: '' },
      labels: ['x', 'y'],
      details: { n: [1, 2.5, -0, 1.5e-7, 123456.789], nested: { b: null, a: false }, '\u00e9': 'é' },
    });
    const inputs = [parseAuditEventInput(appEvent(1)), full, ...cloudTrailInputs()];

    it('gives the bytes and leaf hash of canonicalizeEvent and the text of canonicalString', () => {
      expect(inputs.length).toBeGreaterThan(100);
      for (const input of inputs) {
        for (const channel of CHANNELS) {
          // Act
          const fast = canonicalizeParsedInput(input, RECEIVED_AT, channel);

          // Assess
          const general = canonicalizeEvent(input, RECEIVED_AT, channel);
          expect(Buffer.from(fast.bytes).equals(general.bytes)).toBe(true);
          expect(fast.leafHash.equals(general.leafHash)).toBe(true);
          expect(fast.inputCanonical).toBe(canonicalString(input));
        }
      }
    });
  });

  describe('when the server members are not what the stored schema accepts', () => {
    it.each([
      ['a receivedAt without milliseconds', '2026-11-22T21:10:00Z', 'api'],
      ['a receivedAt that is not a real time', '2026-02-30T21:10:00.000Z', 'api'],
      ['an unknown channel', RECEIVED_AT, 'email'],
    ])('throws exactly what canonicalizeEvent throws for %s', (_name, receivedAt, channel) => {
      // Prepare
      const input = parseAuditEventInput(appEvent(1));

      // Act
      const fast = outcome(() => canonicalizeParsedInput(input, receivedAt, channel as Channel));

      // Assess
      const general = outcome(() => canonicalizeEvent(input, receivedAt, channel as Channel));
      expect(fast).toEqual(general);
      expect(fast).toMatchObject({ code: 'SCHEMA_VIOLATION' });
    });
  });

  describe('when the input fits the size limit but its stored form does not', () => {
    it('throws exactly what canonicalizeEvent throws', () => {
      // Prepare: strings of 32,000 characters plus padding, so that the input is 40 bytes under the limit.
      const base = {
        ...appEvent(1),
        details: {
          p: Array.from({ length: Math.floor(MAX_EVENT_BYTES / 32_003) }, () => 'x'.repeat(32_000)),
          q: '',
        },
      };
      const gap = MAX_EVENT_BYTES - 40 - canonicalString(base).length;
      const input = parseAuditEventInput({ ...base, details: { ...base.details, q: 'y'.repeat(gap) } });
      expect(canonicalString(input).length).toBe(MAX_EVENT_BYTES - 40);

      // Act
      const fast = outcome(() => canonicalizeParsedInput(input, RECEIVED_AT, 'api'));

      // Assess
      const general = outcome(() => canonicalizeEvent(input, RECEIVED_AT, 'api'));
      expect(fast).toEqual(general);
      expect(fast).toMatchObject({ code: 'TOO_LARGE' });
    });
  });
});

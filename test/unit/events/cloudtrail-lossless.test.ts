/**
 * Issue 7, "Valid CloudTrail is refused": generated CloudTrail records that hold integers beyond 2^53,
 * exponents, `-0`, deep nesting and any Unicode. Each one maps, keeps its own text verbatim, and is
 * stored as RFC 8785 bytes that carry that text, whether it comes bare or inside an EventBridge envelope.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalString } from '../../../shared/canonical/jcs.ts';
import { parseAuditEvent } from '../../../shared/events/audit-event.ts';
import {
  cloudTrailRecordOf,
  fromCloudTrailRecord,
  fromEventBridgeEnvelope,
  wrapInEventBridgeEnvelope,
} from '../../../shared/events/cloudtrail.ts';
import { assertSafeJson } from '../../../shared/events/json-guard.ts';
import { isLosslessNumber } from '../../../shared/events/json-text.ts';
import { canonicalizeEvent } from '../../../shared/ingest/canonical-event.ts';
import { cloudTrailRecord, EDGE_CASES, eventIdOf, sampleRecords } from '../../support/cloudtrail-records.ts';

const RECEIVED_AT = '2026-11-22T21:10:00.123Z';
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** What the mapping refused before: the record read with JSON.parse breaks the app-event guard. */
function refusedByTheAppEventGuard(text: string): boolean {
  try {
    assertSafeJson(JSON.parse(text));
    return false;
  } catch {
    return true;
  }
}

/** Every number text of a parsed record, in document order. */
function numberTexts(value: unknown, out: string[] = []): string[] {
  if (isLosslessNumber(value)) out.push(String(value));
  else if (Array.isArray(value)) for (const item of value) numberTexts(item, out);
  else if (value !== null && typeof value === 'object')
    for (const key of Object.keys(value)) numberTexts((value as Record<string, unknown>)[key], out);
  return out;
}

/** Checks the whole chain for one record text: mapping, EventBridge, stored bytes, reading it back. */
function assertKeptVerbatim(text: string): void {
  const event = fromCloudTrailRecord(text);
  expect(event.cloudtrail).toBe(text);
  expect(fromEventBridgeEnvelope(wrapInEventBridgeEnvelope(text))).toEqual(event);

  const stored = canonicalizeEvent(event, RECEIVED_AT, 'cloudtrail');
  const bytes = utf8.decode(stored.bytes);
  const reparsed = JSON.parse(bytes) as Record<string, unknown>;
  expect(canonicalString(reparsed)).toBe(bytes);
  expect(reparsed['cloudtrail']).toBe(text);
  expect(parseAuditEvent(reparsed)).toEqual(stored.event);
  expect(numberTexts(cloudTrailRecordOf(reparsed))).toEqual(numberTexts(cloudTrailRecordOf(event)));
}

describe('Function: fromCloudTrailRecord', () => {
  describe('when 600 generated records hold the edge cases (the issue: 375 of 600 were refused)', () => {
    const records = sampleRecords(600);

    it('is a sample the previous mapping mostly refused', () => {
      // Act
      const refused = records.filter(refusedByTheAppEventGuard);

      // Assess: JSON.parse plus the app-event guard was the previous mapping's first step.
      expect(refused.length).toBeGreaterThan(400);
    });

    it('maps all 600, each with its text verbatim', () => {
      // Act
      const failures = records.flatMap((text, i) => {
        try {
          return fromCloudTrailRecord(text).cloudtrail === text ? [] : [`${i}: not verbatim`];
        } catch (error) {
          return [`${i}: ${(error as Error).message}`];
        }
      });

      // Assess
      expect(failures).toEqual([]);
    });
  });

  describe.each(EDGE_CASES)('when generated records hold %s', (_name, payload) => {
    it('maps each one bare and through EventBridge, and stores JCS bytes that carry its text', () => {
      fc.assert(
        fc.property(cloudTrailRecord(payload), (render) => {
          assertKeptVerbatim(render(eventIdOf(1)));
        }),
        { numRuns: 40 },
      );
    });
  });
});

describe('Document: docs/FORMAT.md §1', () => {
  describe('when a record holds 12345678901234567890 and -0', () => {
    it('stores it as the section shows: a JCS string holding the record text', () => {
      // Act
      const canonical = canonicalString({ cloudtrail: '{"size":12345678901234567890,"z":-0}' });

      // Assess
      expect(canonical).toBe('{"cloudtrail":"{\\"size\\":12345678901234567890,\\"z\\":-0}"}');
      expect(JSON.parse(canonical).cloudtrail).toBe('{"size":12345678901234567890,"z":-0}');
    });
  });
});

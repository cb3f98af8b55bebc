/**
 * `canonicalizeParsedInput`, the ingest path's one-pass canonicalization, against the general path it
 * replaces there: `canonicalizeEvent` for the stored form and `idempotencyCanonical` for the input; and the
 * idempotency text itself, which does not depend on how `eventTime` writes its instant.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalString } from '../../../shared/canonical/jcs.ts';
import { type AuditEventInput, parseAuditEventInput } from '../../../shared/events/audit-event.ts';
import { fromCloudTrailRecord } from '../../../shared/events/cloudtrail.ts';
import { CloudTrailMappingError, EventValidationError } from '../../../shared/events/errors.ts';
import { MAX_EVENT_BYTES } from '../../../shared/events/limits.ts';
import { normalizeTimestamp } from '../../../shared/events/rfc3339.ts';
import {
  type Channel,
  canonicalizeEvent,
  canonicalizeForIngest,
  canonicalizeParsedInput,
  idempotencyCanonical,
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

/** Server members the stored schema refuses: [what, receivedAt, channel]. */
const BAD_SERVER_MEMBERS: readonly [string, string, string][] = [
  ['a receivedAt without milliseconds', '2026-11-22T21:10:00Z', 'api'],
  ['a receivedAt that is not a real time', '2026-02-30T21:10:00.000Z', 'api'],
  ['an unknown channel', RECEIVED_AT, 'email'],
];

/** Instants whose eventTime has a four-digit year in any form an input may write it. */
const anyInstant = fc.date({
  min: new Date('1971-01-01T00:00:00Z'),
  max: new Date('9998-12-31T00:00:00Z'),
  noInvalidDate: true,
});

/**
 * A parsed input whose JCS text is 40 bytes under MAX_EVENT_BYTES (strings of 32,000 characters plus
 * padding): it fits the input limit, but its stored form, with the server members, does not.
 */
function inputNearTheLimit(): AuditEventInput {
  const base = {
    ...appEvent(1),
    details: {
      p: Array.from({ length: Math.floor(MAX_EVENT_BYTES / 32_003) }, () => 'x'.repeat(32_000)),
      q: '',
    },
  };
  const gap = MAX_EVENT_BYTES - 40 - canonicalString(base).length;
  return parseAuditEventInput({ ...base, details: { ...base.details, q: 'y'.repeat(gap) } });
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

    it('gives the bytes and leaf hash of canonicalizeEvent and the text of idempotencyCanonical', () => {
      expect(inputs.length).toBeGreaterThan(100);
      for (const input of inputs) {
        for (const channel of CHANNELS) {
          // Act
          const fast = canonicalizeParsedInput(input, RECEIVED_AT, channel);

          // Assess
          const general = canonicalizeEvent(input, RECEIVED_AT, channel);
          expect(Buffer.from(fast.bytes).equals(general.bytes)).toBe(true);
          expect(fast.leafHash.equals(general.leafHash)).toBe(true);
          expect(fast.inputCanonical).toBe(idempotencyCanonical(input));
        }
      }
    });
  });

  describe('when the server members are not what the stored schema accepts', () => {
    it.each(BAD_SERVER_MEMBERS)(
      'throws exactly what canonicalizeEvent throws for %s',
      (_name, receivedAt, channel) => {
        // Prepare
        const input = parseAuditEventInput(appEvent(1));

        // Act
        const fast = outcome(() => canonicalizeParsedInput(input, receivedAt, channel as Channel));

        // Assess
        const general = outcome(() => canonicalizeEvent(input, receivedAt, channel as Channel));
        expect(fast).toEqual(general);
        expect(fast).toMatchObject({ code: 'SCHEMA_VIOLATION' });
      },
    );
  });

  describe('when the input fits the size limit but its stored form does not', () => {
    it('throws exactly what canonicalizeEvent throws', () => {
      // Prepare
      const input = inputNearTheLimit();
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

describe('Function: idempotencyCanonical', () => {
  describe('when eventTime is already in the server form', () => {
    it('is the JCS text of the input', () => {
      // Prepare
      const input = parseAuditEventInput({ ...appEvent(1), eventTime: '2026-11-22T21:00:00.000Z' });

      // Act
      const text = idempotencyCanonical(input);

      // Assess
      expect(text).toBe(canonicalString(input));
    });
  });

  describe('when two inputs write the same instant differently', () => {
    it.each([
      ['Z and +00:00', '2026-11-22T21:00:00Z', '2026-11-22T21:00:00+00:00'],
      ['Z and -00:00', '2026-11-22T21:00:00Z', '2026-11-22T21:00:00-00:00'],
      ['no fraction and .000', '2026-11-22T21:00:00Z', '2026-11-22T21:00:00.000Z'],
      ['.5 and .500000000', '2026-11-22T21:00:00.5Z', '2026-11-22T21:00:00.500000000Z'],
      ['digits past the millisecond', '2026-11-22T21:00:00.123Z', '2026-11-22T21:00:00.1239Z'],
      ['another offset', '2026-11-22T21:00:00Z', '2026-11-22T23:30:00+02:30'],
    ])('gives one text for %s', (_name, first, second) => {
      // Prepare
      const a = parseAuditEventInput({ ...appEvent(1), eventTime: first });
      const b = parseAuditEventInput({ ...appEvent(1), eventTime: second });

      // Act & Assess
      expect(idempotencyCanonical(a)).toBe(idempotencyCanonical(b));
      expect(canonicalizeParsedInput(a, RECEIVED_AT, 'api').inputCanonical).toBe(
        canonicalizeParsedInput(b, RECEIVED_AT, 'api').inputCanonical,
      );
    });

    it('gives one text for any instant, offset and fraction (property)', () => {
      fc.assert(
        fc.property(
          anyInstant,
          fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 }),
          fc.integer({ min: 0, max: 999_999 }),
          (date, offsetMinutes, subMillisecond) => {
            // Prepare: the same instant in UTC and at an offset, with extra digits past the millisecond
            const utc = date.toISOString();
            const local = new Date(date.getTime() + offsetMinutes * 60_000).toISOString();
            const sign = offsetMinutes < 0 ? '-' : '+';
            const abs = Math.abs(offsetMinutes);
            const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
            const written = `${local.slice(0, 23)}${String(subMillisecond).padStart(6, '0')}${zone}`;
            const a = parseAuditEventInput({ ...appEvent(1), eventTime: utc });
            const b = parseAuditEventInput({ ...appEvent(1), eventTime: written });

            // Act & Assess
            expect(idempotencyCanonical(b)).toBe(idempotencyCanonical(a));
          },
        ),
      );
    });
  });

  describe('when two inputs name different instants', () => {
    it('gives different texts, even a millisecond apart', () => {
      // Prepare
      const a = parseAuditEventInput({ ...appEvent(1), eventTime: '2026-11-22T21:00:00.000Z' });
      const b = parseAuditEventInput({ ...appEvent(1), eventTime: '2026-11-22T21:00:00.001Z' });

      // Act & Assess
      expect(idempotencyCanonical(a)).not.toBe(idempotencyCanonical(b));
    });
  });

  describe('when the stored form is built', () => {
    it('keeps eventTime as written', () => {
      // Prepare
      const input = parseAuditEventInput({ ...appEvent(1), eventTime: '2026-11-22T23:30:00+02:30' });

      // Act
      const { bytes } = canonicalizeParsedInput(input, RECEIVED_AT, 'api');

      // Assess
      expect(Buffer.from(bytes).toString('utf8')).toContain('"eventTime":"2026-11-22T23:30:00+02:30"');
    });
  });
});

describe('Function: canonicalizeForIngest', () => {
  const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
  const inputs = [
    parseAuditEventInput(appEvent(1)),
    parseAuditEventInput({ ...appEvent(2), actor: { id: 'ü-😀', type: 'user' }, details: { é: ['😀'] } }),
    ...cloudTrailInputs(),
  ];

  describe('when given a parsed input and the server members', () => {
    it('gives the bytes and leaf hash of canonicalizeEvent and the SHA-256 of idempotencyCanonical', () => {
      for (const input of inputs) {
        for (const channel of CHANNELS) {
          // Act
          const fast = canonicalizeForIngest(input, RECEIVED_AT, channel);

          // Assess
          const general = canonicalizeEvent(input, RECEIVED_AT, channel);
          expect(Buffer.from(fast.bytes).equals(general.bytes)).toBe(true);
          expect(fast.leafHash.equals(general.leafHash)).toBe(true);
          expect(fast.inputSha256).toBe(sha256(idempotencyCanonical(input)));
          expect(fast.eventTime).toBe(normalizeTimestamp(input.eventTime));
        }
      }
    });

    it('agrees with the general path for any eventTime form and any text (property)', () => {
      fc.assert(
        fc.property(
          anyInstant,
          fc.constantFrom('Z', '+00:00', '-05:30', '.5Z', '.123456+01:00', '.000Z'),
          fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }),
          fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
          (date, zone, text, details) => {
            // Prepare: eventTime in the server form or not, ASCII or not
            const iso = date.toISOString();
            const eventTime = zone === '.000Z' ? iso : `${iso.slice(0, 19)}${zone}`;
            const parsed = outcome(() =>
              parseAuditEventInput({
                ...appEvent(3),
                eventTime,
                action: text,
                details: { ...details, text },
              }),
            );
            fc.pre(!(parsed && typeof parsed === 'object' && 'code' in parsed)); // an input the guard refuses
            const input = parsed as AuditEventInput;

            // Act
            const fast = canonicalizeForIngest(input, RECEIVED_AT, 'api');

            // Assess
            const general = canonicalizeEvent(input, RECEIVED_AT, 'api');
            expect(Buffer.from(fast.bytes).equals(general.bytes)).toBe(true);
            expect(fast.leafHash.equals(general.leafHash)).toBe(true);
            expect(fast.inputSha256).toBe(sha256(idempotencyCanonical(input)));
            expect(fast.eventTime).toBe(normalizeTimestamp(input.eventTime));
          },
        ),
        { numRuns: 500 },
      );
    });
  });

  describe('when the server members are not what the stored schema accepts', () => {
    it.each(BAD_SERVER_MEMBERS)(
      'throws exactly what canonicalizeEvent throws for %s',
      (_name, receivedAt, channel) => {
        // Prepare
        const input = parseAuditEventInput(appEvent(1));

        // Act
        const fast = outcome(() => canonicalizeForIngest(input, receivedAt, channel as Channel));

        // Assess
        expect(fast).toEqual(outcome(() => canonicalizeEvent(input, receivedAt, channel as Channel)));
        expect(fast).toMatchObject({ code: 'SCHEMA_VIOLATION' });
      },
    );
  });

  describe('when the input carries a member named like a server member', () => {
    it('gives what canonicalizeParsedInput gives', () => {
      // Prepare: not an input the schema accepts, but the function must not guess
      const input = { ...parseAuditEventInput(appEvent(1)), v: 7 } as unknown as AuditEventInput;

      // Act
      const fast = outcome(() => canonicalizeForIngest(input, RECEIVED_AT, 'api'));

      // Assess
      const general = outcome(() => {
        const c = canonicalizeParsedInput(input, RECEIVED_AT, 'api');
        return {
          bytes: Buffer.from(c.bytes),
          leafHash: c.leafHash,
          inputSha256: sha256(c.inputCanonical),
          eventTime: normalizeTimestamp(input.eventTime),
        };
      });
      expect(
        fast && typeof fast === 'object' && 'bytes' in fast
          ? { ...fast, bytes: Buffer.from((fast as { bytes: Uint8Array }).bytes) }
          : fast,
      ).toEqual(general);
    });
  });

  describe('when many events are canonicalized one after another', () => {
    it('gives each event bytes of its own, which later events never overwrite', () => {
      // Prepare: enough events of every size class to fill several of the shared encoding slabs
      const inputs = Array.from({ length: 3000 }, (_, n) =>
        parseAuditEventInput(appEvent(n, { details: { pad: 'é'.repeat(n % 7 === 0 ? 12_000 : n % 300) } })),
      );

      // Act
      const all = inputs.map((input) => canonicalizeForIngest(input, RECEIVED_AT, 'api').bytes);

      // Assess
      for (const [n, bytes] of all.entries()) {
        const expected = canonicalizeEvent(inputs[n]!, RECEIVED_AT, 'api').bytes;
        expect(Buffer.from(bytes).equals(Buffer.from(expected))).toBe(true);
      }
    });
  });

  describe('when the stored form is over the size limit', () => {
    it('throws exactly what canonicalizeEvent throws', () => {
      // Prepare
      const input = inputNearTheLimit();

      // Act
      const fast = outcome(() => canonicalizeForIngest(input, RECEIVED_AT, 'api'));

      // Assess
      expect(fast).toEqual(outcome(() => canonicalizeEvent(input, RECEIVED_AT, 'api')));
      expect(fast).toMatchObject({ code: 'TOO_LARGE' });
    });
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalString } from '../../../shared/canonical/jcs.ts';
import {
  auditEventInputSchema,
  isPlainAppEventInput,
  MAX_LABELS,
  MAX_LENGTH,
  MAX_TAGS,
  parseAuditEventInput,
} from '../../../shared/events/audit-event.ts';
import { EventValidationError } from '../../../shared/events/errors.ts';
import { MAX_EVENT_ID_LENGTH } from '../../../shared/events/event-id.ts';
import { assertSafeJson } from '../../../shared/events/json-guard.ts';
import { FAST_PATH_MEMBERS } from '../../support/app-event-members.ts';

/** Strings at and around a bound: empty, one code unit, the bound, one past it, and some ordinary ones. */
const textAround = (max: number) =>
  fc.oneof(
    fc.constantFrom(
      '',
      'a',
      'x'.repeat(max),
      'y'.repeat(max + 1),
      'é'.repeat(max),
      '😀'.repeat(Math.ceil(max / 2)),
    ),
    fc.string({ maxLength: 20 }),
  );
const maybeWrong = <T>(arb: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 8, arbitrary: arb }, { weight: 1, arbitrary: fc.jsonValue() });

const idArb = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,20}$/),
  fc.constantFrom(
    'a'.repeat(MAX_EVENT_ID_LENGTH),
    'a'.repeat(MAX_EVENT_ID_LENGTH + 1),
    '-lead',
    'sp ace',
    '',
  ),
);
const timeArb = fc.oneof(
  fc
    .date({
      min: new Date('1970-01-01T00:00:00Z'),
      max: new Date('9999-12-31T23:59:59Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString()),
  fc.constantFrom(
    '2026-11-22T21:00:00+01:00',
    '2026-11-22T21:00:00.5Z',
    '2026-11-22 21:00:00Z',
    '1969-12-31T23:59:59Z',
    '2026-02-30T00:00:00Z',
    '',
  ),
);
const actorArb = fc.record(
  {
    id: textAround(MAX_LENGTH.actorId),
    type: fc.constantFrom(
      'user',
      'role',
      'service',
      'root',
      'federated',
      'account',
      'anonymous',
      'unknown',
      'admin',
    ),
    authMethod: textAround(MAX_LENGTH.authMethod),
    mfa: fc.oneof(fc.boolean(), fc.constant('yes')),
    sessionId: textAround(MAX_LENGTH.sessionId),
    accountId: textAround(MAX_LENGTH.accountId),
    extra: fc.constant(1),
  },
  { requiredKeys: [] },
);
const resourceArb = fc.record(
  {
    id: textAround(MAX_LENGTH.resourceId),
    type: textAround(MAX_LENGTH.resourceType),
    name: textAround(MAX_LENGTH.resourceName),
    extra: fc.constant('x'),
  },
  { requiredKeys: [] },
);
const outcomeArb = fc.record(
  {
    result: fc.constantFrom('success', 'failure', 'denied'),
    errorCode: textAround(MAX_LENGTH.errorCode),
    errorMessage: textAround(MAX_LENGTH.errorMessage),
    extra: fc.constant(null),
  },
  { requiredKeys: [] },
);
const tagsArb = fc.oneof(
  fc.dictionary(
    fc.oneof(fc.string({ maxLength: 10 }), fc.constant('k'.repeat(129))),
    fc.oneof(fc.string(), fc.constant('v'.repeat(257)), fc.constant(3) as fc.Arbitrary<unknown>),
    { maxKeys: 5 },
  ),
  fc
    .integer({ min: MAX_TAGS - 1, max: MAX_TAGS + 1 })
    .map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`t${i}`, 'v']))),
);
const labelsArb = fc.oneof(
  fc.array(textAround(MAX_LENGTH.label), { maxLength: 4 }),
  fc
    .integer({ min: MAX_LABELS - 1, max: MAX_LABELS + 1 })
    .map((n) => Array.from({ length: n }, (_, i) => `l${i}`)),
);

/** App events, mostly valid, with every member sometimes missing, wrong or at a bound. */
const eventArb = fc.record(
  {
    id: maybeWrong(idArb),
    eventTime: maybeWrong(timeArb),
    actor: maybeWrong(actorArb),
    action: maybeWrong(textAround(MAX_LENGTH.action)),
    resource: maybeWrong(resourceArb),
    outcome: maybeWrong(outcomeArb),
    sourceIp: maybeWrong(
      fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain(), fc.constantFrom('not an ip', 'h'.repeat(254))),
    ),
    userAgent: maybeWrong(textAround(MAX_LENGTH.userAgent)),
    requestId: maybeWrong(textAround(MAX_LENGTH.requestId)),
    endpoint: maybeWrong(textAround(MAX_LENGTH.endpoint)),
    tags: maybeWrong(tagsArb),
    labels: maybeWrong(labelsArb),
    details: fc.jsonValue({ maxDepth: 3 }),
    unknownMember: fc.constant(true),
    cloudtrail: fc.constant('{}'),
    profileVersion: fc.constant({}),
  },
  { requiredKeys: [] },
);

/** The most common input: a complete, valid app event. */
const validEventArb = fc
  .record(
    {
      id: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,40}$/),
      eventTime: timeArb.filter((t) => t.endsWith('Z') && t.length === 24),
      actor: fc.record({
        id: fc.string({ minLength: 1, maxLength: 30 }),
        type: fc.constantFrom('user', 'role'),
      }),
      action: fc.string({ minLength: 1, maxLength: 30 }),
      outcome: fc.record({ result: fc.constantFrom('success', 'failure') }),
      tags: fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), fc.string({ maxLength: 20 }), {
        maxKeys: MAX_TAGS,
      }),
      labels: fc.array(fc.string({ minLength: 1, maxLength: 20 }), { maxLength: MAX_LABELS }),
      details: fc.dictionary(
        fc.stringMatching(/^[a-z]{1,8}$/),
        fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null)),
      ),
    },
    { requiredKeys: ['id', 'eventTime', 'actor', 'action', 'outcome'] },
  )
  .filter((e) => !/[\uD800-\uDFFF]/.test(JSON.stringify(e)));

/** What the generic path (the schema alone, after the guard) says of a value. */
function generic(value: unknown): { ok: true; data: unknown } | { ok: false; error: EventValidationError } {
  try {
    assertSafeJson(value);
  } catch (error) {
    if (error instanceof EventValidationError) return { ok: false, error };
    throw error;
  }
  const result = auditEventInputSchema.safeParse(value);
  return result.success
    ? { ok: true, data: result.data }
    : { ok: false, error: new EventValidationError('SCHEMA_VIOLATION', '$', '') };
}

/** Round-trips through JSON, as a request body is. */
const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe('Function: isPlainAppEventInput', () => {
  describe("when given app events with the fast path's members (property)", () => {
    it('accepts exactly what the schema accepts, and the schema returns an equal copy', () => {
      fc.assert(
        fc.property(eventArb, (raw) => {
          // Prepare: JSON as a request body holds it, without the members the fast path leaves to the schema.
          const value = asJson(
            Object.fromEntries(Object.entries(raw).filter(([k]) => FAST_PATH_MEMBERS.has(k))),
          );
          const expected = generic(value);
          // A value the guard refuses never reaches the fast path.
          fc.pre(expected.ok || expected.error.code === 'SCHEMA_VIOLATION');

          // Act
          const fast = isPlainAppEventInput(value);

          // Assess
          expect(fast).toBe(expected.ok);
          if (expected.ok) {
            expect(expected.data).toEqual(value);
            expect(canonicalString(expected.data)).toBe(canonicalString(value));
          }
        }),
        { numRuns: 3000 },
      );
    });
  });

  describe('when given any member, known or not (property)', () => {
    it('accepts only values the schema accepts unchanged', () => {
      fc.assert(
        fc.property(fc.oneof(eventArb, fc.jsonValue(), fc.anything()), (raw) => {
          // Prepare
          const value = raw;
          const expected = generic(value);
          fc.pre(expected.ok || expected.error.code === 'SCHEMA_VIOLATION');

          // Act
          const fast = isPlainAppEventInput(value);

          // Assess
          if (fast) {
            expect(expected.ok).toBe(true);
            if (expected.ok) expect(canonicalString(expected.data)).toBe(canonicalString(value));
          }
        }),
        { numRuns: 3000 },
      );
    });
  });

  describe('when given complete valid app events (property)', () => {
    it('accepts every one of them', () => {
      fc.assert(
        fc.property(validEventArb, (raw) => {
          // Prepare
          const value = asJson(raw);

          // Act + Assess
          expect(generic(value).ok).toBe(true);
          expect(isPlainAppEventInput(value)).toBe(true);
        }),
        { numRuns: 1000 },
      );
    });
  });
});

describe('Function: parseAuditEventInput', () => {
  describe('when the fast path takes an event (property)', () => {
    it('returns what the schema returns, and throws what the schema throws', () => {
      fc.assert(
        fc.property(eventArb, (raw) => {
          // Prepare
          const value = asJson(raw);
          const expected = generic(value);

          // Act
          let outcome: { ok: true; data: unknown } | { ok: false; error: unknown };
          try {
            outcome = { ok: true, data: parseAuditEventInput(value) };
          } catch (error) {
            outcome = { ok: false, error };
          }

          // Assess
          expect(outcome.ok).toBe(expected.ok);
          if (outcome.ok && expected.ok)
            expect(canonicalString(outcome.data)).toBe(canonicalString(expected.data));
          if (!outcome.ok) expect(outcome.error).toBeInstanceOf(EventValidationError);
        }),
        { numRuns: 2000 },
      );
    });
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalString } from '../../../shared/canonical/jcs.ts';
import {
  normalizeTimestamp,
  parseAuditEvent,
  parseAuditEventInput,
} from '../../../shared/events/audit-event.ts';
import type { EventErrorCode } from '../../../shared/events/errors.ts';
import { EventValidationError } from '../../../shared/events/errors.ts';

function validInput(): Record<string, unknown> {
  return {
    id: 'bastion-7:ssh/login=42',
    eventTime: '2026-11-22T21:00:00Z',
    actor: { id: 'alice@example.com', type: 'user', authMethod: 'sso', mfa: true, accountId: '123456789012' },
    action: 'ssh.login',
    resource: { id: 'arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc', type: 'AWS::EC2::Instance' },
    outcome: { result: 'success' },
    sourceIp: '2001:db8::1',
    tags: { team: 'platform' },
    labels: ['interactive'],
    details: { tty: true, argv: ['bash'] },
  };
}

function failure(act: () => unknown): EventValidationError {
  try {
    act();
  } catch (error) {
    if (error instanceof EventValidationError) return error;
    throw error;
  }
  throw new Error('the call did not throw');
}

describe('Function: parseAuditEventInput', () => {
  describe('when the input is valid', () => {
    it('returns an equal event with no undefined-valued members', () => {
      // Prepare
      const input = validInput();

      // Act
      const event = parseAuditEventInput(JSON.parse(JSON.stringify(input)));

      // Assess
      expect(event).toEqual(input);
      const undefinedMembers = JSON.stringify(event, (_k, v: unknown) => (v === undefined ? 'UNDEFINED' : v));
      expect(undefinedMembers).not.toContain('UNDEFINED');
    });

    it('accepts the minimal event', () => {
      // Prepare
      const input = {
        id: 'a',
        eventTime: '1970-01-01T00:00:00Z',
        actor: { id: 'x', type: 'unknown' },
        action: 'y',
        outcome: { result: 'failure' },
      };

      // Act
      const event = parseAuditEventInput(input);

      // Assess
      expect(Object.keys(event).sort()).toEqual(['action', 'actor', 'eventTime', 'id', 'outcome']);
    });

    it.each(['cloudtrail.amazonaws.com', '192.0.2.10', '::ffff:192.0.2.1', 'fe80::1%eth0'])(
      'accepts sourceIp %s',
      (sourceIp) => {
        // Act
        const event = parseAuditEventInput({ ...validInput(), sourceIp });

        // Assess
        expect(event.sourceIp).toBe(sourceIp);
      },
    );
  });

  describe('when the input has hostile JSON', () => {
    it.each<[string, () => unknown, EventErrorCode, string]>([
      ['a __proto__ key', () => JSON.parse('{"__proto__":{"admin":true}}'), 'FORBIDDEN_KEY', '$.__proto__'],
      [
        'a constructor key in details',
        () => ({ ...validInput(), details: JSON.parse('{"constructor":{"prototype":{}}}') }),
        'FORBIDDEN_KEY',
        '$.details.constructor',
      ],
      [
        'a 40k-character string',
        () => ({ ...validInput(), action: 'a'.repeat(40_000) }),
        'STRING_TOO_LONG',
        '$.action',
      ],
      ['a lone surrogate', () => ({ ...validInput(), action: 'ssh\ud800' }), 'LONE_SURROGATE', '$.action'],
      ['2^53', () => ({ ...validInput(), details: { n: 2 ** 53 } }), 'UNSAFE_INTEGER', '$.details.n'],
      [
        'NaN in an object',
        () => ({ ...validInput(), details: { n: Number.NaN } }),
        'NON_FINITE_NUMBER',
        '$.details.n',
      ],
      [
        'depth 33',
        () => {
          let deep: unknown = 0;
          for (let i = 0; i < 32; i++) deep = [deep];
          return { ...validInput(), details: deep };
        },
        'TOO_DEEP',
        `$.details${'[0]'.repeat(31)}`,
      ],
    ])('rejects %s before schema validation', (_name, build, code, path) => {
      // Prepare
      const input = build();

      // Act
      const error = failure(() => parseAuditEventInput(input));

      // Assess
      expect(error.code).toBe(code);
      expect(error.path).toBe(path);
    });
  });

  describe('when the input carries a CloudTrail record as text', () => {
    const record = '{"eventID":"e","n":12345678901234567890,"__proto__":{"x":1e400},"s":"\\ud800"}';

    it('accepts what the app-event guard would refuse inside the record, and keeps the text', () => {
      // Act
      const event = parseAuditEventInput({ ...validInput(), cloudtrail: record });

      // Assess
      expect(event.cloudtrail).toBe(record);
    });

    it.each<[string, unknown, EventErrorCode]>([
      ['a text that is not JSON', '{"eventID":', 'INVALID_JSON'],
      ['the text of an array', '[]', 'SCHEMA_VIOLATION'],
      ['a literal lone surrogate', '{"s":"\ud800"}', 'LONE_SURROGATE'],
      ['nesting deeper than 1,100', `${'{"a":'.repeat(1_101)}1${'}'.repeat(1_101)}`, 'TOO_DEEP'],
      ['a parsed object (the old form)', { eventID: 'e' }, 'SCHEMA_VIOLATION'],
    ])('rejects %s at $.cloudtrail', (_name, cloudtrail, code) => {
      // Act
      const error = failure(() => parseAuditEventInput({ ...validInput(), cloudtrail }));

      // Assess
      expect(error.code).toBe(code);
      expect(error.path).toBe('$.cloudtrail');
    });

    it('still guards every other member', () => {
      // Prepare
      const input = { ...validInput(), cloudtrail: record, details: JSON.parse('{"__proto__":1}') };

      // Act
      const error = failure(() => parseAuditEventInput(input));

      // Assess
      expect(error.code).toBe('FORBIDDEN_KEY');
      expect(error.path).toBe('$.details.__proto__');
    });
  });

  describe('when the input breaks the schema', () => {
    it.each<[string, Record<string, unknown>, string]>([
      ['an unknown top-level field', { extra: 1 }, '$.extra'],
      ['server-assigned receivedAt', { receivedAt: '2026-11-22T21:00:00.000Z' }, '$.receivedAt'],
      ['an unknown actor field', { actor: { id: 'a', type: 'user', admin: true } }, '$.actor.admin'],
      ['an empty id', { id: '' }, '$.id'],
      ['an id with a space', { id: 'a b' }, '$.id'],
      ['an id starting with a dash', { id: '-abc' }, '$.id'],
      ['a 129-character id', { id: 'a'.repeat(129) }, '$.id'],
      ['February 30th', { eventTime: '2026-02-30T00:00:00Z' }, '$.eventTime'],
      ['February 29th of a common year', { eventTime: '2025-02-29T00:00:00Z' }, '$.eventTime'],
      ['no time zone', { eventTime: '2026-11-22T21:00:00' }, '$.eventTime'],
      ['a space separator', { eventTime: '2019-01-01 00:00:00.000000000' }, '$.eventTime'],
      ['hour 24', { eventTime: '2026-11-22T24:00:00Z' }, '$.eventTime'],
      ['a leap second', { eventTime: '2016-12-31T23:59:60Z' }, '$.eventTime'],
      ['ten fraction digits', { eventTime: '2026-11-22T21:00:00.1234567890Z' }, '$.eventTime'],
      ['a year before 1970', { eventTime: '1969-12-31T23:59:59Z' }, '$.eventTime'],
      ['an instant before 1970', { eventTime: '1970-01-01T00:30:00+01:00' }, '$.eventTime'],
      ['a number as eventTime', { eventTime: 1_700_000_000 }, '$.eventTime'],
      ['an unknown actor type', { actor: { id: 'a', type: 'admin' } }, '$.actor.type'],
      ['mfa as a string', { actor: { id: 'a', type: 'user', mfa: 'true' } }, '$.actor.mfa'],
      ['a missing outcome', { outcome: undefined }, '$.outcome'],
      ['an unknown result', { outcome: { result: 'partial' } }, '$.outcome.result'],
      ['an empty optional string', { userAgent: '' }, '$.userAgent'],
      ['a malformed IPv4 sourceIp', { sourceIp: '253.252.51.07' }, '$.sourceIp'],
      ['a sourceIp with a space', { sourceIp: 'AWS Internal' }, '$.sourceIp'],
      ['51 labels', { labels: Array.from({ length: 51 }, (_, i) => `l${i}`) }, '$.labels'],
      [
        '51 tags',
        { tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`t${i}`, 'v'])) },
        '$.tags',
      ],
      ['a non-string tag value', { tags: { a: 1 } }, '$.tags.a'],
      ['cloudtrail as an array', { cloudtrail: [] }, '$.cloudtrail'],
      ["kubernetes as an object (it is the Event's text)", { kubernetes: { kind: 'Event' } }, '$.kubernetes'],
      ['a resource without type', { resource: { id: 'r' } }, '$.resource.type'],
    ])('rejects %s with SCHEMA_VIOLATION and its path', (_name, change, path) => {
      // Prepare
      const input = { ...validInput(), ...change };
      if (change['outcome'] === undefined && 'outcome' in change) delete input['outcome'];

      // Act
      const error = failure(() => parseAuditEventInput(input));

      // Assess
      expect(error.code).toBe('SCHEMA_VIOLATION');
      expect(error.path).toBe(path);
    });

    it('does not echo the offending value in the message', () => {
      // Prepare
      const input = { ...validInput(), actor: { id: 'a', type: 'secret-value-xyz' } };

      // Act
      const error = failure(() => parseAuditEventInput(input));

      // Assess
      expect(error.message).not.toContain('secret-value-xyz');
    });
  });

  describe('when the input is not an object', () => {
    it.each([null, 'event', 42, [], true])('rejects %j with SCHEMA_VIOLATION', (input) => {
      // Act
      const error = failure(() => parseAuditEventInput(input));

      // Assess
      expect(error.code).toBe('SCHEMA_VIOLATION');
      expect(error.path).toBe('$');
    });
  });

  describe('when given arbitrary JSON values (property)', () => {
    it('throws nothing but EventValidationError', () => {
      // Prepare
      const nearEvent = fc.record(
        {
          id: fc.oneof(fc.string(), fc.constant('ok-id')),
          eventTime: fc.oneof(fc.string(), fc.constant('2026-11-22T21:00:00Z')),
          actor: fc.oneof(fc.jsonValue(), fc.record({ id: fc.string(), type: fc.constantFrom('user', 'x') })),
          action: fc.jsonValue(),
          outcome: fc.oneof(fc.jsonValue(), fc.constant({ result: 'success' })),
          details: fc.jsonValue(),
          cloudtrail: fc.jsonValue(),
          kubernetes: fc.jsonValue(),
        },
        { requiredKeys: [] },
      );
      const anyInput = fc.oneof(fc.jsonValue(), nearEvent, fc.anything());

      // Act & Assess
      fc.assert(
        fc.property(anyInput, (input) => {
          try {
            const event = parseAuditEventInput(input);
            expect(() => canonicalString(event)).not.toThrow();
          } catch (error) {
            expect(error).toBeInstanceOf(EventValidationError);
          }
        }),
        { numRuns: 2_000 },
      );
    });
  });
});

describe('Function: parseAuditEvent', () => {
  describe('when the stored event has its server members', () => {
    it('accepts it', () => {
      // Prepare
      const stored = { ...validInput(), v: 1, receivedAt: '2026-11-22T21:00:00.123Z', channel: 'api' };

      // Act
      const event = parseAuditEvent(stored);

      // Assess
      expect(event.receivedAt).toBe('2026-11-22T21:00:00.123Z');
      expect(event.channel).toBe('api');
      expect(event.v).toBe(1);
    });

    it.each(['kubernetes', 'detection'])('accepts the %s channel', (channel) => {
      // Prepare
      const stored = { ...validInput(), v: 1, receivedAt: '2026-11-22T21:00:00.123Z', channel };

      // Act and Assess
      expect(parseAuditEvent(stored).channel).toBe(channel);
    });
  });

  describe('when a Kubernetes audit Event is kept verbatim', () => {
    it('accepts its own JSON text in the kubernetes member, as it came (numbers, __proto__, duplicates)', () => {
      // Prepare
      const kubernetes =
        '{"kind":"Event", "apiVersion":"audit.k8s.io/v1","verb":"get","auditID":"a-1","n":12345678901234567890,"e":1e400,"z":-0,"__proto__":{},"verb":"list"}';

      // Act
      const event = parseAuditEventInput({ ...validInput(), kubernetes });

      // Assess
      expect(event.kubernetes).toBe(kubernetes);
    });

    it.each([
      ['text that is not JSON', '{"kind":', 'INVALID_JSON'],
      ['the text of an array', '[]', 'SCHEMA_VIOLATION'],
      ['text with a literal lone surrogate', '{"a":"\ud800"}', 'LONE_SURROGATE'],
    ])('rejects %s at $.kubernetes', (_what, kubernetes, code) => {
      // Act
      const error = failure(() => parseAuditEventInput({ ...validInput(), kubernetes }));

      // Assess
      expect(error.code).toBe(code);
      expect(error.path).toBe('$.kubernetes');
    });
  });

  describe('when a server member is wrong or missing', () => {
    it.each<[string, Record<string, unknown>, string]>([
      ['receivedAt without milliseconds', { receivedAt: '2026-11-22T21:00:00Z' }, '$.receivedAt'],
      ['receivedAt with an offset', { receivedAt: '2026-11-22T21:00:00.000+00:00' }, '$.receivedAt'],
      ['receivedAt on a non-existent day', { receivedAt: '2026-02-30T21:00:00.000Z' }, '$.receivedAt'],
      ['an unknown channel', { channel: 'email' }, '$.channel'],
      ['format version 2', { v: 2 }, '$.v'],
      ['an unknown field', { signature: 'x' }, '$.signature'],
    ])('rejects %s', (_name, change, path) => {
      // Prepare
      const stored = {
        ...validInput(),
        v: 1,
        receivedAt: '2026-11-22T21:00:00.123Z',
        channel: 'api',
        ...change,
      };

      // Act
      const error = failure(() => parseAuditEvent(stored));

      // Assess
      expect(error.code).toBe('SCHEMA_VIOLATION');
      expect(error.path).toBe(path);
    });

    it('rejects an event without v', () => {
      // Prepare
      const stored = { ...validInput(), receivedAt: '2026-11-22T21:00:00.123Z', channel: 'api' };

      // Act
      const error = failure(() => parseAuditEvent(stored));

      // Assess
      expect(error.path).toBe('$.v');
    });
  });
});

describe('Function: normalizeTimestamp', () => {
  describe('when the input is a valid RFC 3339 date-time', () => {
    it.each([
      ['2026-11-22T21:00:00Z', '2026-11-22T21:00:00.000Z'],
      ['2026-11-22T21:00:00.1Z', '2026-11-22T21:00:00.100Z'],
      ['2026-11-22T21:00:00.123456789Z', '2026-11-22T21:00:00.123Z'],
      ['2026-11-22T21:00:00.999999999Z', '2026-11-22T21:00:00.999Z'],
      ['2026-11-22T23:30:00+02:30', '2026-11-22T21:00:00.000Z'],
      ['2026-12-31T23:00:00-01:00', '2027-01-01T00:00:00.000Z'],
      ['2024-02-29T12:00:00-00:00', '2024-02-29T12:00:00.000Z'],
      ['1970-01-01T00:00:00Z', '1970-01-01T00:00:00.000Z'],
      ['9999-12-31T23:59:59.999999Z', '9999-12-31T23:59:59.999Z'],
    ])('normalizes %s to %s', (input, expected) => {
      // Act
      const normalized = normalizeTimestamp(input);

      // Assess
      expect(normalized).toBe(expected);
    });
  });

  describe('when the input is not a valid date-time', () => {
    it.each([
      '2026-02-30T00:00:00Z',
      '2026-11-22T21:00:00',
      '2026-11-22 21:00:00Z',
      '2026-11-22t21:00:00z',
      '2026-11-22T21:00Z',
      '2026-13-01T00:00:00Z',
      '2026-11-22T21:00:00+24:00',
      '2026-11-22T21:00:00.Z',
      '10000-01-01T00:00:00Z',
      '9999-12-31T23:59:59-01:00',
      '',
    ])('throws INVALID_TIMESTAMP for %j', (input) => {
      // Act
      const error = failure(() => normalizeTimestamp(input));

      // Assess
      expect(error.code).toBe('INVALID_TIMESTAMP');
    });
  });
});

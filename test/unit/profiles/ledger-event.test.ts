import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalBytes } from '../../../shared/canonical/jcs.ts';
import {
  EVENT_ID_PATTERN,
  MAX_EVENT_ID_LENGTH,
  parseAuditEvent,
} from '../../../shared/events/audit-event.ts';
import { EventValidationError } from '../../../shared/events/errors.ts';
import { canonicalizeEvent } from '../../../shared/ingest/canonical-event.ts';
import { InvalidEventsError } from '../../../shared/ingest/errors.ts';
import { type IngestChannel, ingestBatch } from '../../../shared/ingest/ingest-batch.ts';
import {
  PROFILE_VERSION_ACTION,
  profileEventProblem,
  profileVersionEvent,
  profileVersionEventId,
} from '../../../shared/profiles/ledger-event.ts';
import { hashVersionBytes, type ProfileVersion } from '../../../shared/profiles/version.ts';
import { apiRequest, appEvent, harness } from '../ingest/ingest-fixtures.ts';
import { chainOf, INSTANCE_ARN } from './profile-fixtures.ts';

const WRITER = { id: 'arn:aws:iam::123456789012:role/profile-writer', type: 'role' } as const;

/** The stored event of a version, as the ingest core would store it. */
function storedEventOf(version: ProfileVersion) {
  return {
    ...profileVersionEvent(version, WRITER),
    v: 1,
    receivedAt: version.recordedAt,
    channel: 'profile',
  };
}

/** The hex SHA-256 of UTF-8 text, written out independently of the module under test. */
function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

describe('Function: profileVersionEventId', () => {
  it('is pv: and the hex SHA-256 of the JCS of [type, R, n]', () => {
    // Prepare
    const expected = `pv:${sha256(`["auditseal.profile-version-id.v1","${INSTANCE_ARN}",2]`)}`;

    // Act
    const id = profileVersionEventId(INSTANCE_ARN, 2);

    // Assess
    expect(id).toBe(expected);
    expect(id).toHaveLength(67);
  });

  it('escapes the resource id as JCS does', () => {
    // Prepare
    const resourceId = 'app "x"\\é';

    // Act
    const id = profileVersionEventId(resourceId, 1);

    // Assess
    expect(id).toBe(`pv:${sha256('["auditseal.profile-version-id.v1","app \\"x\\"\\\\é",1]')}`);
  });

  it('is a valid event id, distinct for every (R, n)', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 64 }),
        fc.integer({ min: 1, max: 2 ** 48 }),
        fc.integer({ min: 1, max: 2 ** 48 }),
        (resourceId, n, m) => {
          const id = profileVersionEventId(resourceId, n);
          expect(id.length).toBeLessThanOrEqual(MAX_EVENT_ID_LENGTH);
          expect(EVENT_ID_PATTERN.test(id)).toBe(true);
          expect(id === profileVersionEventId(resourceId, m)).toBe(n === m);
          expect(id === profileVersionEventId(`${resourceId}x`, n)).toBe(false);
        },
      ),
    );
  });

  describe('when n is not a chain position', () => {
    it.each([0, -1, 1.5, Number.NaN])('throws for %s', (n) => {
      expect(() => profileVersionEventId(INSTANCE_ARN, n)).toThrow(RangeError);
    });
  });
});

describe('Function: profileVersionEvent', () => {
  it('carries the version document verbatim: its JCS inside the event is the version bytes', () => {
    // Prepare
    const [, second] = chainOf([1, 2]);

    // Act
    const { bytes } = canonicalizeEvent(profileVersionEvent(second!, WRITER), second!.recordedAt, 'profile');

    // Assess
    const text = Buffer.from(bytes).toString('utf8');
    const versionText = Buffer.from(second!.bytes).toString('utf8');
    expect(text).toContain(`"profileVersion":${versionText}`);
    const event = parseAuditEvent(JSON.parse(text));
    expect(hashVersionBytes(canonicalBytes(event.profileVersion))).toBe(second!.hash);
  });

  it('has the id, times, resource, action and outcome of the format', () => {
    // Prepare
    const [version] = chainOf([5]);

    // Act
    const event = profileVersionEvent(version!, WRITER);

    // Assess
    expect(event).toMatchObject({
      id: profileVersionEventId(INSTANCE_ARN, 1),
      eventTime: version!.effectiveAt,
      actor: WRITER,
      action: PROFILE_VERSION_ACTION,
      resource: { id: INSTANCE_ARN, type: 'AWS::EC2::Instance' },
      outcome: { result: 'success' },
    });
    expect(profileEventProblem({ ...event, receivedAt: version!.recordedAt })).toBeUndefined();
  });
});

describe('Function: parseAuditEvent', () => {
  it('accepts the stored event of a version', () => {
    // Prepare
    const [version] = chainOf([1]);

    // Act
    const event = parseAuditEvent(storedEventOf(version!));

    // Assess
    expect(event.channel).toBe('profile');
    expect(event.profileVersion?.n).toBe(1);
  });

  describe('when a profile event has no profileVersion', () => {
    it('refuses it', () => {
      const { profileVersion: _dropped, ...event } = storedEventOf(chainOf([1])[0]!);
      expect(() => parseAuditEvent(event)).toThrow(/must carry a profileVersion/);
    });
  });

  describe('when another channel carries a profileVersion', () => {
    it('refuses it', () => {
      const event = { ...storedEventOf(chainOf([1])[0]!), channel: 'api' };
      expect(() => parseAuditEvent(event)).toThrow(/only events of channel "profile"/);
    });
  });

  describe('when the profileVersion is not a valid version document', () => {
    it.each<[string, (doc: Record<string, unknown>) => unknown]>([
      ['an unknown member', (doc) => ({ ...doc, extra: 1 })],
      ['a wrong type', (doc) => ({ ...doc, type: 'other' })],
      ['n = 0', (doc) => ({ ...doc, n: 0 })],
      ['version 2 without previous hash', (doc) => ({ ...doc, n: 2 })],
      ['a time that is not canonical', (doc) => ({ ...doc, recordedAt: '2026-11-23T00:00:00Z' })],
      [
        'an invalid profile',
        (doc) => ({ ...doc, profile: { ...(doc['profile'] as object), source: 'elsewhere' } }),
      ],
      [
        'a lastModified that is not as stored',
        (doc) => ({
          ...doc,
          profile: { ...(doc['profile'] as object), lastModified: '2026-11-22T21:01:00Z' },
        }),
      ],
      ['an array', () => []],
    ])('refuses %s with SCHEMA_VIOLATION at $.profileVersion', (_name, mutate) => {
      // Prepare
      const stored = storedEventOf(chainOf([1])[0]!);
      const event = { ...stored, profileVersion: mutate(stored.profileVersion as never) };

      // Act
      const error = (() => {
        try {
          parseAuditEvent(event);
        } catch (e) {
          return e;
        }
        return undefined;
      })();

      // Assess
      expect(error).toBeInstanceOf(EventValidationError);
      expect(error).toMatchObject({ code: 'SCHEMA_VIOLATION', path: '$.profileVersion' });
    });
  });
});

describe('Function: ingestBatch (channel profile)', () => {
  /** Ingest deps whose clock reads the version's recordedAt, as the write path sets it. */
  async function profileHarness(version: ProfileVersion) {
    const h = await harness();
    h.clock.nowMs = Date.parse(version.recordedAt);
    return h;
  }

  it('stores the event of a version at its recordedAt, with the version bytes inside', async () => {
    // Prepare
    const [version] = chainOf([1]);
    const { deps, store } = await profileHarness(version!);
    const item = profileVersionEvent(version!, WRITER);

    // Act
    const result = await ingestBatch({ ...apiRequest([item]), channel: 'profile' }, deps);

    // Assess
    expect(result.stored).toEqual([item.id]);
    expect(result.receipts[0]!.receivedAt).toBe(version!.recordedAt);
    expect(store.eventCount).toBe(1);
  });

  it('answers a retry of the same version with its receipt, writing nothing', async () => {
    // Prepare
    const [version] = chainOf([1]);
    const { deps, store } = await profileHarness(version!);
    const item = profileVersionEvent(version!, WRITER);
    await ingestBatch({ ...apiRequest([item]), channel: 'profile' }, deps);

    // Act
    const again = await ingestBatch({ ...apiRequest([item]), channel: 'profile' }, deps);

    // Assess
    expect(again).toMatchObject({ status: 200, duplicates: [item.id] });
    expect(store.eventCount).toBe(1);
  });

  describe('when the clock does not read the version time', () => {
    it('refuses the event at $.receivedAt and stores nothing', async () => {
      // Prepare
      const [version] = chainOf([1]);
      const { deps, store, clock } = await profileHarness(version!);
      clock.nowMs += 1;

      // Act
      const error = await ingestBatch(
        { ...apiRequest([profileVersionEvent(version!, WRITER)]), channel: 'profile' },
        deps,
      ).catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(InvalidEventsError);
      expect((error as InvalidEventsError).errors[0]).toMatchObject({
        code: 'SCHEMA_VIOLATION',
        path: '$.receivedAt',
      });
      expect(store.eventCount).toBe(0);
    });
  });

  describe('when the event disagrees with the version it carries', () => {
    it.each<[string, (item: Record<string, unknown>, version: ProfileVersion) => unknown, string]>([
      [
        'the id of another position',
        (i, v) => ({ ...i, id: profileVersionEventId(v.resourceId, 2) }),
        '$.id',
      ],
      [
        'another resource',
        (i) => ({ ...i, resource: { id: 'other', type: 'AWS::EC2::Instance' } }),
        '$.resource',
      ],
      [
        'a resource name',
        (i) => ({ ...i, resource: { ...(i['resource'] as object), name: 'x' } }),
        '$.resource',
      ],
      ['another event time', (i) => ({ ...i, eventTime: '2026-11-22T21:00:00.000Z' }), '$.eventTime'],
      ['another action', (i) => ({ ...i, action: 'profile:Other' }), '$.action'],
      ['a failure', (i) => ({ ...i, outcome: { result: 'failure' } }), '$.outcome'],
    ])('refuses %s and stores nothing', async (_name, mutate, path) => {
      // Prepare
      const [version] = chainOf([1]);
      const { deps, store } = await profileHarness(version!);
      const item = mutate(profileVersionEvent(version!, WRITER) as never, version!);

      // Act
      const error = await ingestBatch({ ...apiRequest([item]), channel: 'profile' }, deps).catch(
        (e: unknown) => e,
      );

      // Assess
      expect(error).toBeInstanceOf(InvalidEventsError);
      expect((error as InvalidEventsError).errors[0]).toMatchObject({ code: 'SCHEMA_VIOLATION', path });
      expect(store.eventCount).toBe(0);
    });
  });

  describe('when a pv: id or a profileVersion comes on another channel', () => {
    it.each<IngestChannel>(['api', 'cloudtrail', 'kubernetes', 'detection', 'read'])(
      'refuses a pv: id on %s with RESERVED_ID',
      async (channel) => {
        // Prepare
        const { deps, store } = await harness();
        const id = profileVersionEventId(INSTANCE_ARN, 1);

        // Act
        const error = await ingestBatch({ ...apiRequest([appEvent(1, { id })]), channel }, deps).catch(
          (e: unknown) => e,
        );

        // Assess
        expect((error as InvalidEventsError).errors[0]).toMatchObject({ code: 'RESERVED_ID', path: '$.id' });
        expect(store.eventCount).toBe(0);
      },
    );

    it('refuses a profileVersion on the api channel', async () => {
      // Prepare
      const [version] = chainOf([1]);
      const { deps, store } = await harness();
      const item = { ...appEvent(1), profileVersion: profileVersionEvent(version!, WRITER).profileVersion };

      // Act
      const error = await ingestBatch(apiRequest([item]), deps).catch((e: unknown) => e);

      // Assess
      expect((error as InvalidEventsError).errors[0]).toMatchObject({
        code: 'SCHEMA_VIOLATION',
        path: '$.profileVersion',
      });
      expect(store.eventCount).toBe(0);
    });

    it('refuses an id without pv: on the profile channel', async () => {
      // Prepare
      const { deps } = await harness();

      // Act
      const error = await ingestBatch({ ...apiRequest([appEvent(1)]), channel: 'profile' }, deps).catch(
        (e: unknown) => e,
      );

      // Assess
      expect((error as InvalidEventsError).errors[0]).toMatchObject({ code: 'RESERVED_ID' });
    });
  });
});

import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalString } from '../../../shared/canonical/jcs.ts';
import { VersionDocumentError } from '../../../shared/profiles/errors.ts';
import { parseProfile } from '../../../shared/profiles/profile.ts';
import {
  buildNextVersion,
  createVersion,
  PROFILE_VERSION_TYPE,
  parseVersionBytes,
  stateHash,
} from '../../../shared/profiles/version.ts';
import { chainOf, minute, parsed, profileInput, profileJson } from './profile-fixtures.ts';

const NOW = new Date('2026-11-23T00:00:00.000Z');

describe('Function: createVersion', () => {
  it('stores the JCS of the version document and hashes it as SHA-256(0x00 ‖ bytes)', () => {
    // Prepare
    const profile = parsed(minute(0));

    // Act
    const version = createVersion(profile, {
      n: 1,
      previousHash: null,
      recordedAt: '2026-11-23T00:00:00.000Z',
    });

    // Assess
    const text = Buffer.from(version.bytes).toString('utf8');
    expect(text).toBe(
      canonicalString({
        type: PROFILE_VERSION_TYPE,
        n: 1,
        recordedAt: '2026-11-23T00:00:00.000Z',
        previousHash: null,
        profile: JSON.parse(profile.canonical),
      }),
    );
    expect(text.startsWith('{"n":1,"previousHash":null,"profile":{')).toBe(true);
    const expected = createHash('sha256')
      .update(Buffer.from([0x00]))
      .update(version.bytes)
      .digest('hex');
    expect(version.hash).toBe(expected);
    expect(version.contentHash).toBe(profile.contentHash);
  });

  describe('when version 1 names a previous hash, or version 2 names none', () => {
    it('throws RangeError', () => {
      // Assess
      expect(() =>
        createVersion(parsed(minute(0)), {
          n: 1,
          previousHash: 'a'.repeat(64),
          recordedAt: NOW.toISOString(),
        }),
      ).toThrow(RangeError);
      expect(() =>
        createVersion(parsed(minute(0)), { n: 2, previousHash: null, recordedAt: NOW.toISOString() }),
      ).toThrow(RangeError);
    });
  });
});

describe('Function: buildNextVersion', () => {
  it('makes version 1 of a new resource, then version 2 chained to it', () => {
    // Act
    const first = buildNextVersion(
      parsed(minute(0)),
      { head: undefined, sameContent: undefined, inForce: undefined },
      NOW,
    );
    const second = buildNextVersion(
      parsed(minute(5), { state: 'stopped' }),
      { head: first.version, sameContent: undefined, inForce: first.version },
      NOW,
    );

    // Assess
    expect(first).toMatchObject({
      status: 'new',
      version: { n: 1, previousHash: null, recordedAt: NOW.toISOString() },
    });
    expect(second.status).toBe('new');
    expect(second.version.n).toBe(2);
    expect(second.version.previousHash).toBe(first.version.hash);
  });

  it('returns the existing version when the very same content is written again (idempotent)', () => {
    // Prepare
    const [v1] = chainOf([0]);

    // Act
    const again = buildNextVersion(
      parsed(minute(0), { step: 1 }),
      { head: v1, sameContent: v1, inForce: v1 },
      NOW,
    );

    // Assess
    expect(again).toEqual({ status: 'unchanged', version: v1 });
  });

  it('returns the version in force when only lastModified differs (the state is unchanged)', () => {
    // Prepare
    const [v1] = chainOf([0]);

    // Act
    const same = buildNextVersion(
      parsed(minute(9), { step: 1 }),
      { head: v1, sameContent: undefined, inForce: v1 },
      NOW,
    );

    // Assess
    expect(same).toEqual({ status: 'unchanged', version: v1 });
  });

  it('gives a late (older) item the next chain position, keeping its own effective time', () => {
    // Prepare
    const chain = chainOf([10, 20]);

    // Act
    const late = buildNextVersion(
      parsed(minute(15), { step: 'late' }),
      { head: chain[1], sameContent: undefined, inForce: chain[0] },
      NOW,
    );

    // Assess
    expect(late.version.n).toBe(3);
    expect(late.version.previousHash).toBe(chain[1]!.hash);
    expect(late.version.effectiveAt).toBe(minute(15));
  });

  it('keeps recordedAt strictly increasing when the clock is behind the head', () => {
    // Prepare
    const [v1] = chainOf([0]);

    // Act
    const next = buildNextVersion(
      parsed(minute(1), { step: 2 }),
      { head: v1, sameContent: undefined, inForce: v1 },
      new Date(0),
    );

    // Assess
    expect(Date.parse(next.version.recordedAt)).toBe(Date.parse(v1!.recordedAt) + 1);
  });

  describe('when the chain context is another resource’s', () => {
    it('throws RangeError', () => {
      // Prepare
      const other = chainOf([0], 'arn:aws:s3:::other-bucket')[0];

      // Assess
      expect(() =>
        buildNextVersion(parsed(minute(1)), { head: other, sameContent: undefined, inForce: undefined }, NOW),
      ).toThrow(RangeError);
    });
  });
});

describe('Function: stateHash', () => {
  it('ignores lastModified and nothing else', () => {
    // Prepare
    const a = parseProfile(profileInput(minute(0))).profile;
    const b = parseProfile(profileInput(minute(1))).profile;
    const c = parseProfile(profileInput(minute(0), { state: 'stopped' })).profile;

    // Assess
    expect(stateHash(a)).toBe(stateHash(b));
    expect(stateHash(a)).not.toBe(stateHash(c));
  });
});

describe('Function: parseVersionBytes', () => {
  it('reads a stored version back with the same hash', () => {
    // Prepare
    const [, v2] = chainOf([0, 1]);

    // Act
    const read = parseVersionBytes(v2!.bytes);

    // Assess
    expect(read.hash).toBe(v2!.hash);
    expect(read.previousHash).toBe(v2!.previousHash);
    expect(read.profile).toEqual(v2!.profile);
  });

  describe('when the bytes are valid JSON but not canonical', () => {
    it('throws VersionDocumentError', () => {
      // Prepare
      const [v1] = chainOf([0]);
      const spaced = Buffer.from(JSON.stringify(JSON.parse(Buffer.from(v1!.bytes).toString()), null, 1));

      // Assess
      expect(() => parseVersionBytes(spaced)).toThrow(VersionDocumentError);
    });
  });

  describe('when the bytes are not UTF-8', () => {
    it('throws VersionDocumentError', () => {
      // Assess
      expect(() => parseVersionBytes(Uint8Array.from([0x7b, 0xff, 0x7d]))).toThrow(VersionDocumentError);
    });
  });

  describe('when the document has another type', () => {
    it('throws VersionDocumentError', () => {
      // Prepare
      const [v1] = chainOf([0]);
      const other = Buffer.from(
        Buffer.from(v1!.bytes).toString().replace(PROFILE_VERSION_TYPE, 'auditseal.profile-version.v2'),
      );

      // Assess
      expect(() => parseVersionBytes(other)).toThrow(VersionDocumentError);
    });
  });

  it('round-trips any chain of valid profiles (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ minute: fc.integer({ min: 0, max: 59 }), value: profileJson() }), {
          minLength: 1,
          maxLength: 6,
        }),
        (steps) => {
          let previous: ReturnType<typeof createVersion> | undefined;
          steps.forEach((step, i) => {
            const version = createVersion(parsed(minute(step.minute), step.value), {
              n: i + 1,
              previousHash: previous?.hash ?? null,
              recordedAt: new Date(Date.UTC(2026, 10, 23, 0, 0, i)).toISOString(),
            });
            const read = parseVersionBytes(version.bytes);
            expect(read.hash).toBe(version.hash);
            previous = version;
          });
        },
      ),
    );
  });
});

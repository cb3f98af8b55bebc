import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type FoundVersion,
  type ProfileFindingCode,
  verifyProfileChains,
} from '../../../shared/profiles/chain.ts';
import { parseProfile } from '../../../shared/profiles/profile.ts';
import { createVersion, type ProfileVersion } from '../../../shared/profiles/version.ts';
import { chainOf, INSTANCE_ARN, minute, profileInput } from './profile-fixtures.ts';

/** Named corruptions of one chain, as in transparency-dev's test vectors and aws-cli's scenario fake. */
type Defect = 'ok' | 'edited' | 'removed' | 'inserted' | 'reordered' | 'duplicated' | 'malformed';

const EXPECTED: Record<Exclude<Defect, 'ok'>, ProfileFindingCode> = {
  edited: 'PROFILE_VERSION_MODIFIED',
  removed: 'PROFILE_VERSION_REMOVED',
  inserted: 'PROFILE_VERSION_INSERTED',
  reordered: 'PROFILE_VERSION_REORDERED',
  duplicated: 'PROFILE_VERSION_DUPLICATED',
  malformed: 'PROFILE_VERSION_MALFORMED',
};

/** Same position, previous hash and time as `v`, another configuration: what an edit of stored bytes gives. */
function edited(v: ProfileVersion): ProfileVersion {
  return createVersion(parseProfile({ ...v.profile, configuration: { edited: true } }), v);
}

/** A chain of `length` versions as found, with `defect` applied at position `k` (1-based). */
function scenario(length: number, defect: Defect, k: number): FoundVersion[] {
  const chain = chainOf(Array.from({ length }, (_, i) => i));
  const found: ProfileVersion[] = [...chain];
  switch (defect) {
    case 'ok':
      break;
    case 'edited':
      found[k - 1] = edited(chain[k - 1]!);
      break;
    case 'removed':
      found.splice(k - 1, 1);
      break;
    case 'inserted':
      // A forged version k that links to the genuine version k−1, placed before the genuine k.
      found.splice(k - 1, 0, edited(chain[k - 1]!));
      break;
    case 'reordered':
      [found[k - 1], found[k]] = [found[k]!, found[k - 1]!];
      break;
    case 'duplicated':
      found.splice(k, 0, chain[k - 1]!);
      break;
    case 'malformed':
      return [...found.map((v) => ({ bytes: v.bytes })), { bytes: Buffer.from('{"not":"a version"}') }];
  }
  return found.map((v) => ({ bytes: v.bytes }));
}

describe('Function: verifyProfileChains', () => {
  it('finds nothing in an intact chain, and summarizes its head', () => {
    // Prepare
    const chain = chainOf([0, 1, 2, 3]);

    // Act
    const report = verifyProfileChains(chain.map((v) => ({ bytes: v.bytes, claimedHash: v.hash })));

    // Assess
    expect(report.findings).toEqual([]);
    expect(report.chains).toEqual([
      { resourceId: INSTANCE_ARN, versions: 4, head: { n: 4, hash: chain[3]!.hash } },
    ]);
  });

  it('accepts a late item: effective time going back is not a defect', () => {
    // Prepare: the third version is older in effective time than the second.
    const chain = chainOf([10, 30, 20]);

    // Act
    const report = verifyProfileChains(chain.map((v) => ({ bytes: v.bytes })));

    // Assess
    expect(report.findings).toEqual([]);
  });

  describe.each([
    ['edited', 2, { n: 2 }],
    ['removed', 3, { n: 3, count: 1 }],
    ['inserted', 3, { n: 3, index: 2 }],
    ['reordered', 2, { n: 2, index: 2 }],
    ['duplicated', 2, { n: 2, index: 2 }],
    ['malformed', 1, { index: 5 }],
  ] as const)('when a version is %s', (defect, k, evidence) => {
    it(`reports exactly one ${EXPECTED[defect]}`, () => {
      // Act
      const report = verifyProfileChains(scenario(5, defect, k));

      // Assess
      expect(report.findings).toHaveLength(1);
      expect(report.findings[0]).toMatchObject({ code: EXPECTED[defect], ...evidence });
    });
  });

  describe('when an edited version is compared with its successor', () => {
    it('gives the committed and the computed hash as evidence', () => {
      // Prepare
      const chain = chainOf([0, 1, 2]);
      const tampered = edited(chain[1]!);

      // Act
      const report = verifyProfileChains([chain[0]!, tampered, chain[2]!].map((v) => ({ bytes: v.bytes })));

      // Assess
      expect(report.findings).toEqual([
        expect.objectContaining({
          code: 'PROFILE_VERSION_MODIFIED',
          n: 2,
          expected: chain[1]!.hash,
          computed: tampered.hash,
        }),
      ]);
    });
  });

  describe('when the stored hash beside a version does not match its bytes', () => {
    it('reports PROFILE_VERSION_MODIFIED for that version, even the newest', () => {
      // Prepare
      const chain = chainOf([0, 1]);

      // Act
      const report = verifyProfileChains([
        { bytes: chain[0]!.bytes, claimedHash: chain[0]!.hash },
        { bytes: edited(chain[1]!).bytes, claimedHash: chain[1]!.hash },
      ]);

      // Assess
      expect(report.findings).toEqual([
        expect.objectContaining({ code: 'PROFILE_VERSION_MODIFIED', n: 2, index: 1 }),
      ]);
    });
  });

  describe('when the newest version is edited and nothing else commits to it', () => {
    it('cannot see it without an anchor, and reports it with one', () => {
      // Prepare
      const chain = chainOf([0, 1, 2]);
      const found = [chain[0]!, chain[1]!, edited(chain[2]!)].map((v) => ({ bytes: v.bytes }));
      const anchors = new Map([[INSTANCE_ARN, { n: 3, hash: chain[2]!.hash }]]);

      // Act
      const without = verifyProfileChains(found);
      const withAnchor = verifyProfileChains(found, { anchors });

      // Assess: the chain alone has nothing to compare the newest version with (docs/PROFILES.md).
      expect(without.findings).toEqual([]);
      expect(withAnchor.findings).toEqual([
        expect.objectContaining({ code: 'PROFILE_VERSION_MODIFIED', n: 3 }),
      ]);
    });
  });

  describe('when versions are removed from the end', () => {
    it('reports them as removed against the anchor', () => {
      // Prepare
      const chain = chainOf([0, 1, 2, 3]);

      // Act
      const report = verifyProfileChains(
        chain.slice(0, 2).map((v) => ({ bytes: v.bytes })),
        {
          anchors: new Map([[INSTANCE_ARN, { n: 4, hash: chain[3]!.hash }]]),
        },
      );

      // Assess
      expect(report.findings).toEqual([
        expect.objectContaining({ code: 'PROFILE_VERSION_REMOVED', n: 3, count: 2 }),
      ]);
    });
  });

  describe('when a version is appended after the trusted head', () => {
    it('reports it as inserted', () => {
      // Prepare
      const chain = chainOf([0, 1, 2]);

      // Act
      const report = verifyProfileChains(
        chain.map((v) => ({ bytes: v.bytes })),
        {
          anchors: new Map([[INSTANCE_ARN, { n: 2, hash: chain[1]!.hash }]]),
        },
      );

      // Assess
      expect(report.findings).toEqual([expect.objectContaining({ code: 'PROFILE_VERSION_INSERTED', n: 3 })]);
    });
  });

  describe('when the first versions are missing', () => {
    it('reports the chain start as removed, unless the run starts after a trusted version', () => {
      // Prepare
      const chain = chainOf([0, 1, 2, 3]);
      const tail = chain.slice(2).map((v) => ({ bytes: v.bytes }));

      // Act
      const alone = verifyProfileChains(tail);
      const ranged = verifyProfileChains(tail, {
        startsAfter: new Map([[INSTANCE_ARN, { n: 2, hash: chain[1]!.hash }]]),
      });
      const wrongStart = verifyProfileChains(tail, {
        startsAfter: new Map([[INSTANCE_ARN, { n: 2, hash: chain[0]!.hash }]]),
      });

      // Assess
      expect(alone.findings).toEqual([
        expect.objectContaining({ code: 'PROFILE_VERSION_REMOVED', n: 1, count: 2 }),
      ]);
      expect(ranged.findings).toEqual([]);
      expect(wrongStart.findings).toEqual([
        expect.objectContaining({ code: 'PROFILE_VERSION_MODIFIED', n: 2 }),
      ]);
    });
  });

  describe('when a well-linked chain was recorded backwards in time', () => {
    it('reports PROFILE_VERSION_TIME_REVERSED', () => {
      // Prepare: a writer that signed version 2 with an earlier recordedAt than version 1.
      const v1 = createVersion(parseProfile(profileInput(minute(0))), {
        n: 1,
        previousHash: null,
        recordedAt: '2026-11-23T00:00:05.000Z',
      });
      const v2 = createVersion(parseProfile(profileInput(minute(1), { x: 2 })), {
        n: 2,
        previousHash: v1.hash,
        recordedAt: '2026-11-23T00:00:01.000Z',
      });

      // Act
      const report = verifyProfileChains([v1, v2].map((v) => ({ bytes: v.bytes })));

      // Assess
      expect(report.findings).toEqual([
        expect.objectContaining({ code: 'PROFILE_VERSION_TIME_REVERSED', n: 2 }),
      ]);
    });
  });

  describe('when chains of several resources are interleaved', () => {
    it('verifies each on its own', () => {
      // Prepare
      const a = chainOf([0, 1, 2]);
      const b = chainOf([0, 1], 'arn:aws:s3:::bucket-b');
      const found = [a[0]!, b[0]!, a[1]!, b[1]!, a[2]!].map((v) => ({ bytes: v.bytes }));

      // Act
      const report = verifyProfileChains(found);

      // Assess
      expect(report.findings).toEqual([]);
      expect(report.chains.map((c) => [c.resourceId, c.versions])).toEqual([
        [INSTANCE_ARN, 3],
        ['arn:aws:s3:::bucket-b', 2],
      ]);
    });
  });

  it('reports exactly the one defect applied, for any chain length and position (property)', () => {
    const defects = ['edited', 'removed', 'inserted', 'reordered', 'duplicated'] as const;
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 12 }),
        fc.constantFrom(...defects),
        fc.nat(),
        (length, defect, seed) => {
          // Positions where the chain alone can see the defect: an edit or a removal of the newest
          // version needs an anchor (tested above); a swap needs a next version.
          const last = defect === 'inserted' || defect === 'duplicated' ? length : length - 1;
          const k = 1 + (seed % last);
          const report = verifyProfileChains(scenario(length, defect, k));
          expect(report.findings.map((f) => [f.code, f.n])).toEqual([[EXPECTED[defect], k]]);
        },
      ),
      { numRuns: 200 },
    );
  });
});

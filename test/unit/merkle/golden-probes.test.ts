import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ProofErrorCode } from '../../../shared/merkle/errors.ts';
import { ProofError } from '../../../shared/merkle/errors.ts';
import { verifyConsistency, verifyInclusion } from '../../../shared/merkle/proof.ts';
import { bytes, hex } from '../../support/rfc6962-vectors.ts';
import { readSharedJson } from '../../support/shared-data.ts';

// Upstream uses uint64 sizes; 2^64 - 1 arrives as an unsafe double and must still be rejected.
const size = z.number().nonnegative();
// A null proof in the Go files is a nil slice: the empty proof.
const proof = z
  .array(hex)
  .nullable()
  .transform((p) => p ?? []);

const probesSchema = z.object({
  golden_probes: z.object({
    inclusion: z
      .array(
        z.object({
          file: z.string(),
          desc: z.string(),
          leafIdx: size,
          treeSize: size,
          leafHash: hex,
          root: hex,
          proof,
          wantErr: z.boolean(),
        }),
      )
      .length(98),
    consistency: z
      .array(
        z.object({
          file: z.string(),
          desc: z.string(),
          size1: size,
          size2: size,
          root1: hex,
          root2: hex,
          proof,
          wantErr: z.boolean(),
        }),
      )
      .length(98),
  }),
});

const { inclusion, consistency } = readSharedJson('merkle/rfc6962_vectors.json', probesSchema).golden_probes;

/**
 * Probes where auditseal is deliberately stricter than transparency-dev/merkle, with the code it raises.
 * Upstream VerifyConsistency compares the two roots of equal-size trees without checking their length, so
 * two equal 12-byte "roots" pass there; we reject any root that is not a 32-byte SHA-256 hash.
 */
const STRICTER_THAN_UPSTREAM: Readonly<Record<string, ProofErrorCode>> = {
  'testdata/consistency/additional/sizes-are-equal-one-and-proof-is-empty.json': 'BAD_HASH_LENGTH',
};

/** The probe's fields as verifyInclusion arguments, hex decoded to bytes. */
function inclusionArgs(p: (typeof inclusion)[number]): Parameters<typeof verifyInclusion> {
  return [p.leafIdx, p.treeSize, bytes(p.leafHash), p.proof.map(bytes), bytes(p.root)];
}

/** The probe's fields as verifyConsistency arguments, hex decoded to bytes. */
function consistencyArgs(p: (typeof consistency)[number]): Parameters<typeof verifyConsistency> {
  return [p.size1, p.size2, p.proof.map(bytes), bytes(p.root1), bytes(p.root2)];
}

describe('Function: verifyInclusion', () => {
  describe('when given a golden probe that must verify', () => {
    const probes = inclusion.filter((p) => !p.wantErr && !(p.file in STRICTER_THAN_UPSTREAM));

    it.each(probes)('accepts $file', (probe) => {
      // Prepare
      const args = inclusionArgs(probe);

      // Act
      const verify = () => verifyInclusion(...args);

      // Assess
      expect(verify).not.toThrow();
    });
  });

  describe('when given a golden probe that must fail', () => {
    const probes = inclusion.filter((p) => p.wantErr);

    it.each(probes)('rejects $file with a ProofError', (probe) => {
      // Prepare
      const args = inclusionArgs(probe);

      // Act
      const verify = () => verifyInclusion(...args);

      // Assess
      expect(verify).toThrow(ProofError);
    });
  });
});

describe('Function: verifyConsistency', () => {
  describe('when given a golden probe that must verify', () => {
    const probes = consistency.filter((p) => !p.wantErr && !(p.file in STRICTER_THAN_UPSTREAM));

    it.each(probes)('accepts $file', (probe) => {
      // Prepare
      const args = consistencyArgs(probe);

      // Act
      const verify = () => verifyConsistency(...args);

      // Assess
      expect(verify).not.toThrow();
    });
  });

  describe('when given a golden probe that must fail', () => {
    const probes = consistency.filter((p) => p.wantErr);

    it.each(probes)('rejects $file with a ProofError', (probe) => {
      // Prepare
      const args = consistencyArgs(probe);

      // Act
      const verify = () => verifyConsistency(...args);

      // Assess
      expect(verify).toThrow(ProofError);
    });
  });

  describe('when a golden probe is accepted upstream but carries roots that are not 32 bytes', () => {
    const probes = consistency.filter((p) => p.file in STRICTER_THAN_UPSTREAM);

    it.each(probes)('rejects $file with the stricter code', (probe) => {
      // Prepare
      const args = consistencyArgs(probe);
      const expected = STRICTER_THAN_UPSTREAM[probe.file];

      // Act
      const verify = () => verifyConsistency(...args);

      // Assess
      expect(probe.wantErr).toBe(false);
      expect(verify).toThrow(expect.objectContaining({ name: 'ProofError', code: expected }));
    });
  });
});

// ROOT_MISMATCH is the only code raised after hashing; every other code means the probe never reached a hash.
const STRUCTURAL_CODES: readonly ProofErrorCode[] = [
  'INDEX_OUT_OF_RANGE',
  'BAD_TREE_SIZE',
  'BAD_HASH_LENGTH',
  'WRONG_PROOF_SIZE',
];
const hasOddHash = (hashes: string[]): boolean => hashes.some((h) => h.length !== 64);

describe('Golden probes with a hash that is not 32 bytes', () => {
  describe('when given to verifyInclusion', () => {
    const probes = inclusion.filter((p) => hasOddHash([p.leafHash, p.root, ...p.proof]));

    it.each(probes)('rejects $file before hashing', (probe) => {
      // Prepare
      const args = inclusionArgs(probe);

      // Act
      const verify = () => verifyInclusion(...args);

      // Assess
      expect(verify).toThrow(ProofError);
      expect(verify).toThrow(expect.objectContaining({ code: expect.toBeOneOf([...STRUCTURAL_CODES]) }));
    });
  });

  describe('when given to verifyConsistency', () => {
    const probes = consistency.filter((p) => hasOddHash([p.root1, p.root2, ...p.proof]));

    it.each(probes)('rejects $file before hashing', (probe) => {
      // Prepare
      const args = consistencyArgs(probe);

      // Act
      const verify = () => verifyConsistency(...args);

      // Assess
      expect(verify).toThrow(ProofError);
      expect(verify).toThrow(expect.objectContaining({ code: expect.toBeOneOf([...STRUCTURAL_CODES]) }));
    });
  });
});

describe('Golden probe set', () => {
  describe('when the shared data is loaded', () => {
    it('holds the 12 probes that must verify upstream, and every deviation names one of them', () => {
      // Prepare
      const all = [...inclusion, ...consistency];

      // Act
      const mustVerify = all.filter((p) => !p.wantErr).map((p) => p.file);

      // Assess
      expect(mustVerify).toHaveLength(12);
      expect(mustVerify).toEqual(expect.arrayContaining(Object.keys(STRICTER_THAN_UPSTREAM)));
    });
  });
});

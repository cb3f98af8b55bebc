import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CHUNK_WORKERS_FROM_BYTES,
  CHUNK_WORKERS_FROM_CORES,
  DEFAULT_JOBS_CAP,
  defaultJobs,
} from '../../../ui/jobs.ts';

describe('Module: ui/jobs', () => {
  describe('Method: defaultJobs', () => {
    it('starts one chunk worker per core, at most the cap, for a large or served folder', () => {
      // Act + Assess
      expect(defaultJobs(CHUNK_WORKERS_FROM_BYTES, 3)).toBe(3);
      expect(defaultJobs(undefined, 4)).toBe(4);
      expect(defaultJobs(10 * CHUNK_WORKERS_FROM_BYTES, 64)).toBe(DEFAULT_JOBS_CAP);
    });

    it('is always a whole number from 1 to the cap', () => {
      fc.assert(
        fc.property(
          fc.option(fc.nat(), { nil: undefined }),
          fc.option(fc.oneof(fc.integer(), fc.double()), { nil: undefined }),
          (bytes, cores) => {
            const jobs = defaultJobs(bytes, cores);
            expect(Number.isSafeInteger(jobs) && jobs >= 1 && jobs <= DEFAULT_JOBS_CAP).toBe(true);
          },
        ),
      );
    });

    describe('when the folder holds less than the threshold of archives', () => {
      it('checks the chunks in the verification worker (1)', () => {
        expect(defaultJobs(CHUNK_WORKERS_FROM_BYTES - 1, 8)).toBe(1);
        expect(defaultJobs(0, 8)).toBe(1);
      });
    });

    describe('when the machine has fewer cores than CHUNK_WORKERS_FROM_CORES', () => {
      it('checks the chunks in the verification worker (1), however large the folder', () => {
        expect(CHUNK_WORKERS_FROM_CORES).toBe(3);
        expect(defaultJobs(10 * CHUNK_WORKERS_FROM_BYTES, 2)).toBe(1);
        expect(defaultJobs(undefined, 2)).toBe(1);
        expect(defaultJobs(CHUNK_WORKERS_FROM_BYTES, 1)).toBe(1);
      });
    });

    describe('when the browser reports no core count', () => {
      it('uses 1', () => {
        expect(defaultJobs(undefined, undefined)).toBe(1);
        expect(defaultJobs(undefined, 0)).toBe(1);
        expect(defaultJobs(undefined, Number.NaN)).toBe(1);
      });
    });
  });
});

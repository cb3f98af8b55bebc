/**
 * The batch ids ingest gives each signed batch (functions/ingest-runtime.ts): 128 random bits each, drawn
 * from a pool the CSPRNG refills, so that no two ids share bits and a refill draws fresh ones.
 */
import { describe, expect, it } from 'vitest';
import { randomBatchId } from '../../../functions/ingest-runtime.ts';

describe('Function: randomBatchId', () => {
  describe('when asked for many ids, across several refills of its pool', () => {
    it('gives 22-character base64url ids of 16 bytes, all distinct', () => {
      // Act: more than four pools of 256
      const ids = Array.from({ length: 1_100 }, () => randomBatchId());

      // Assess
      for (const id of ids) {
        expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
        expect(Buffer.from(id, 'base64url')).toHaveLength(16);
      }
      expect(new Set(ids).size).toBe(ids.length);
    });

    it('uses every byte once: no two ids share a 16-byte window of the random stream', () => {
      // Prepare: the bytes of consecutive ids, across a refill
      const bytes = Buffer.concat(
        Array.from({ length: 600 }, () => Buffer.from(randomBatchId(), 'base64url')),
      );

      // Assess: a pool handed out twice, or ids overlapping in it, would repeat 8-byte runs
      const runs = new Set<string>();
      for (let at = 0; at + 8 <= bytes.length; at += 8) runs.add(bytes.toString('hex', at, at + 8));
      expect(runs.size).toBe(bytes.length / 8);
    });
  });
});

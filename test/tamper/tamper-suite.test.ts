/**
 * The tamper suite (G4): runs every scenario of scenarios.ts against its own copy of the pristine folder
 * and asserts the exact set of finding codes, the object each finding names, and the event where the code
 * is about one event. The last test checks that the scenarios exercise every code in FINDING_CODES.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deepCheckEvent } from '../../cli/commands/verify.ts';
import { FINDING_CODES } from '../../shared/verify/findings.ts';
import { FolderReader } from '../../shared/verify/object-reader.ts';
import { verifyFolder } from '../../shared/verify/verify-folder.ts';
import {
  copyFolder,
  listObjects,
  readDigest,
  removeFolder,
  type SealedFolder,
  TEST_LEDGER,
  tempFolder,
} from '../support/sealed-folder.ts';
import { AUG01_12, caseFolders, FIRST, LAST, SCENARIOS, sealPristine } from './scenarios.ts';

let pristine: SealedFolder;

beforeAll(async () => {
  pristine = await sealPristine(tempFolder('tamper-pristine'));
});

afterAll(() => {
  for (const dir of caseFolders) removeFolder(dir);
  if (pristine) removeFolder(pristine.dir);
});

function uniqueSorted(codes: readonly string[]): string[] {
  return [...new Set(codes)].sort();
}

describe('Function: verifyFolder (tamper suite)', () => {
  describe('when the pristine folder is sealed from the CloudTrail sample', () => {
    it('spans several periods, empty ones and multi-chunk ones included', () => {
      // Prepare
      const counts = pristine.sealed.map((s) => s.treeSize);

      // Act
      const objects = listObjects(pristine.dir, 'archives/');
      const chunks = objects.filter((k) => /\/\d{6}\.jsonl$/.test(k));
      const batchFiles = objects.filter((k) => /\/batches-\d{6}\.jsonl$/.test(k));

      // Assess
      expect(pristine.events.length).toBe(288);
      expect(pristine.sealed).toHaveLength(61);
      expect(pristine.sealed[0]!.period).toEqual(FIRST);
      expect(pristine.sealed.at(-1)!.period).toEqual(LAST);
      expect(counts.filter((n) => n === 0)).toHaveLength(49);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(288);
      expect(chunks).toHaveLength(26);
      // Format v2: one batch-record file per period with events, no exclusions.
      expect(batchFiles).toHaveLength(12);
      expect(objects.filter((k) => k.endsWith('exclusions.jsonl'))).toEqual([]);
      expect(readDigest(pristine.dir, TEST_LEDGER, AUG01_12).archives).toHaveLength(5);
    });
  });

  for (const scenario of SCENARIOS) {
    describe(`when ${scenario.when}`, () => {
      const expectation =
        scenario.codes.length === 0 ? 'reports no finding' : `reports ${scenario.codes.join(', ')}`;
      it(expectation, async () => {
        // Prepare
        const dir = copyFolder(pristine.dir, 'tamper-case');
        caseFolders.push(dir);
        const expected = await scenario.tamper({ dir, pristine });

        // Act
        const report = await verifyFolder(new FolderReader(dir), {
          keys: pristine.keys,
          ...expected.options,
        });

        // Assess
        expect(uniqueSorted(report.findings.map((f) => f.code))).toEqual(uniqueSorted(scenario.codes));
        expect(report.valid).toBe(scenario.codes.length === 0);
        if (expected.count !== undefined) expect(report.findings).toHaveLength(expected.count);
        for (const finding of expected.findings) {
          expect(report.findings).toContainEqual(expect.objectContaining(finding));
        }
        for (const finding of report.findings) {
          expect(finding.object).toMatch(/^(digests|archives|receipts)\/./);
          if (
            [
              'EVENT_MODIFIED',
              'EVENT_INSERTED',
              'EVENT_DUPLICATED',
              'EVENT_REORDERED',
              'BATCH_LEAF_MISSING',
              'EVENT_ID_REUSED',
              'EVENT_ORDER_INVALID',
              'RECEIPT_EVENT_MISMATCH',
            ].includes(finding.code)
          ) {
            expect(finding.eventId).toEqual(expect.any(String));
          }
        }
        expected.assess?.(report);
      });
    });
  }

  describe('when every scenario has run', () => {
    it('left the pristine folder untouched (case folders share its files as hard links)', async () => {
      // Prepare
      const reader = new FolderReader(pristine.dir);

      // Act
      const report = await verifyFolder(reader, { keys: pristine.keys, deepCheck: deepCheckEvent });

      // Assess
      expect(report.findings).toEqual([]);
      expect(listObjects(pristine.dir, 'receipts/')).toEqual([]);
    });

    it('has exercised every finding code', () => {
      // Prepare
      const allCodes = Object.keys(FINDING_CODES);

      // Act
      const exercised = uniqueSorted(SCENARIOS.flatMap((s) => s.codes));

      // Assess
      expect(exercised).toEqual(uniqueSorted(allCodes));
    });
  });
});

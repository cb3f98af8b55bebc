/**
 * Every folder of the public test vectors (test/vectors/) through the auditor's page in Chromium: the
 * page must give the very report `auditseal verify --json` gives on the same folder, with the same
 * arguments: verdict, findings (codes, objects, events, messages, evidence), ledgers and stats.
 */
import { execFile } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithChromium, launchChromium } from '../support/chromium.ts';
import {
  CASES_DIR,
  caseArgs,
  caseKey,
  caseNames,
  materialize,
  PRISTINE_DIR,
  readJson,
  type SpecialFiles,
  TRUSTED_KEY,
} from '../vectors/vector-files.ts';
import { verifyInPage } from './page-driver.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'auditseal.mjs');
const PAGE = join(ROOT, 'dist', 'ui', 'auditseal.html');

async function cliReport(dir: string, key: string, args: string[]): Promise<Record<string, unknown>> {
  const run = promisify(execFile)(process.execPath, [BIN, 'verify', dir, '--key', key, '--json', ...args], {
    maxBuffer: 64 * 1024 * 1024,
  });
  try {
    return JSON.parse((await run).stdout) as Record<string, unknown>;
  } catch (error) {
    const e = error as { code?: number; stdout?: string };
    if (e.code === 1 && e.stdout) return JSON.parse(e.stdout) as Record<string, unknown>;
    throw error;
  }
}

/**
 * A case's folder as a browser can hold it: a browser cannot pick a FIFO, so a case's FIFO is left out
 * (the object is absent); the CLI is run on that same folder.
 */
function browserFolder(caseDir: string): string {
  const dir = materialize(caseDir);
  const special = join(caseDir, 'special.json');
  if (existsSync(special)) {
    for (const path of readJson<SpecialFiles>(special).fifo ?? []) rmSync(join(dir, path), { force: true });
  }
  return dir;
}

describeWithChromium("Page: the auditor's page on the public test vectors", () => {
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
    page = await browser.newPage({ acceptDownloads: true });
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
  });

  afterAll(async () => {
    await browser?.close();
  });

  const cases = [{ name: 'pristine', dir: undefined as string | undefined }].concat(
    caseNames().map((name) => ({ name, dir: join(CASES_DIR, name) })),
  );

  it('has vectors to run', () => {
    expect(cases.length).toBeGreaterThan(50);
  });

  it.each(cases)(
    'gives the CLI report for $name',
    async ({ dir: caseDir }) => {
      // Prepare
      const folder = caseDir ? browserFolder(caseDir) : PRISTINE_DIR;
      const key = caseDir ? caseKey(caseDir) : TRUSTED_KEY;
      const args = caseDir ? caseArgs(caseDir) : [];
      try {
        const expected = await cliReport(folder, key, args);
        await page.goto(`file://${PAGE}`);

        // Act: with two chunk workers (the page's --jobs), whose results the verifier merges in order;
        // the other page tests run the default, the verifier alone.
        const shown = await verifyInPage(page, { keyFiles: [key], folder, args: [...args, '--jobs', '2'] });

        // Assess
        expect(shown.report).toEqual(expected);
        expect(shown.verdict).toBe(expected['valid'] ? 'VALID' : 'INVALID');
        expect(shown.codes).toEqual((expected['findings'] as { code: string }[]).map((f) => f.code));
        expect(errors).toEqual([]);
      } finally {
        if (caseDir) rmSync(folder, { recursive: true, force: true });
      }
    },
    120_000,
  );
});

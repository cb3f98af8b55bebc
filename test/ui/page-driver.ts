/** Drives the auditor's page like an auditor: keys, folder, options, Verify; returns what it shows. */
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';

export interface PageRun {
  readonly verdict: string;
  readonly codes: string[];
  readonly report: Record<string, unknown>;
  readonly seconds: number;
  /** How the page read the folder's files (the `reads` of its report response). */
  readonly reads: string;
}

export interface PageOptions {
  readonly keyFiles: string[];
  readonly folder?: string;
  readonly args?: string[];
  /** Called right before Verify is clicked, and as soon as the verdict shows (the benchmark's CPU clock). */
  readonly onVerifyClick?: () => void;
  readonly onVerdict?: () => void;
}

/**
 * Sets the inputs the way `auditseal verify` arguments say (`--from`, `--to`, `--deep`, `--head`,
 * `--resource`, `--jobs`).
 */
export async function verifyInPage(page: Page, options: PageOptions): Promise<PageRun> {
  await page.getByTestId('key-files').setInputFiles(options.keyFiles);
  if (options.folder) await page.getByTestId('folder').setInputFiles(options.folder);
  await page
    .getByTestId('folder-summary')
    .filter({ hasText: /chosen|served/ })
    .waitFor();
  const args = options.args ?? [];
  if (args.length > 0) await page.locator('details').evaluate((d) => d.setAttribute('open', ''));
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--deep') await page.getByTestId('deep').check();
    else if (a === '--from') await page.getByTestId('from').fill(args[++i]!);
    else if (a === '--to') await page.getByTestId('to').fill(args[++i]!);
    else if (a === '--head') await page.getByTestId('head').setInputFiles(args[++i]!);
    else if (a === '--resource') await page.getByTestId('resource').fill(args[++i]!);
    else if (a === '--jobs') await page.getByTestId('jobs').fill(args[++i]!);
    else throw new Error(`verifyInPage: unknown argument ${a}`);
  }
  options.onVerifyClick?.();
  await page.getByTestId('verify').click();
  // A verdict, or an error the page shows instead (then this throws with the page's message).
  // A function, not a string: the page's CSP forbids evaluating strings.
  await page.waitForFunction(
    () => {
      type Doc = { querySelector(selector: string): { textContent: string | null } | null };
      const doc = (globalThis as unknown as { document: Doc }).document;
      const verdict = doc.querySelector('[data-testid="verdict"]')?.textContent ?? '';
      return /VALID/.test(verdict) || (doc.querySelector('[data-testid="error"]')?.textContent ?? '') !== '';
    },
    undefined,
    { timeout: 600_000, polling: 50 },
  );
  options.onVerdict?.();
  const error = await page.getByTestId('error').textContent();
  if (error) throw new Error(`the page reports an error: ${error}`);
  const verdict = (await page.getByTestId('verdict').textContent()) ?? '';
  const codes = await page.getByTestId('finding').allTextContents();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('save').click()]);
  const report = JSON.parse(readFileSync((await download.path())!, 'utf8')) as Record<string, unknown>;
  const seconds = Number(await page.getByTestId('progress-text').getAttribute('data-seconds'));
  const reads = (await page.getByTestId('progress-text').getAttribute('data-reads')) ?? '';
  return { verdict, codes, report, seconds, reads };
}

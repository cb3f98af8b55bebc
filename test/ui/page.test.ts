/**
 * The auditor's page in Chromium: no network request, its CSP, screenshots of a valid and an invalid
 * folder, the period strip, a period's digest and events, an event's audit path, a receipt and a proof
 * file checked as the CLI checks them, and `auditseal ui` (write and serve).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUiServer } from '../../cli/commands/ui.ts';
import { digestSchema, digestStatementSchema } from '../../shared/ledger/formats.ts';
import { inclusionProof } from '../../shared/merkle/proof.ts';
import { hashLeaf } from '../../shared/merkle/rfc6962.ts';
import { PROOF_TYPE } from '../../shared/query/event-proof.ts';
import { describeWithChromium, launchChromium } from '../support/chromium.ts';
import { tempFolder } from '../support/sealed-folder.ts';
import { CASES_DIR, caseKey, materialize, PRISTINE_DIR, TRUSTED_KEY } from '../vectors/vector-files.ts';
import { verifyInPage } from './page-driver.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'auditseal.mjs');
const PAGE = join(ROOT, 'dist', 'ui', 'auditseal.html');
const SCREENSHOTS = process.env['UPDATE_SCREENSHOTS'] === '1' ? join(ROOT, 'docs') : join(ROOT, '.auditseal');
const TAMPERED = join(CASES_DIR, 'an-event-is-modified');

async function cli(args: string[]): Promise<{ code: number; json: unknown }> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [BIN, ...args]);
    return { code: 0, json: JSON.parse(stdout) };
  } catch (error) {
    const e = error as { code: number; stdout: string };
    return { code: e.code, json: e.stdout ? JSON.parse(e.stdout) : undefined };
  }
}

describeWithChromium("Page: the auditor's page", () => {
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let requests: string[];

  beforeAll(async () => {
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
  });

  async function openPage(url = `file://${PAGE}`): Promise<void> {
    page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1100, height: 900 } });
    errors = [];
    requests = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => requests.push(r.url()));
    page.on('websocket', (w) => requests.push(w.url()));
    await page.goto(url);
  }

  describe('when a valid folder is verified from the written file', () => {
    it('shows VALID, makes no network request, and renders without console errors', async () => {
      // Prepare
      await openPage();

      // Act
      const run = await verifyInPage(page, { keyFiles: [TRUSTED_KEY], folder: PRISTINE_DIR });
      await page.getByTestId('period-cell').first().waitFor();
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: join(SCREENSHOTS, 'ui-valid.png'), fullPage: true });

      // Assess: the only load is the page itself; the worker is a blob: of the page's own script.
      expect(run.verdict).toBe('VALID');
      expect(await page.getByTestId('verdict').isVisible()).toBe(true);
      // The picked files were read by the read worker (ui/read-worker.ts), not by the verifier's thread.
      expect(run.reads).toBe('worker');
      expect(requests.filter((u) => u !== `file://${PAGE}` && !u.startsWith('blob:'))).toEqual([]);
      expect(errors).toEqual([]);
    });
  });

  describe('when a tampered folder is verified', () => {
    it('shows INVALID with the CLI findings, and marks the period in the strip', async () => {
      // Prepare
      const dir = materialize(TAMPERED);
      try {
        const expected = await cli(['verify', dir, '--key', caseKey(TAMPERED), '--json']);
        await openPage();

        // Act
        const run = await verifyInPage(page, { keyFiles: [caseKey(TAMPERED)], folder: dir });
        await page.screenshot({ path: join(SCREENSHOTS, 'ui-invalid.png'), fullPage: true });

        // Assess
        expect(expected.code).toBe(1);
        expect(run.verdict).toBe('INVALID');
        expect(run.codes).toEqual(
          (expected.json as { findings: { code: string }[] }).findings.map((f) => f.code),
        );
        expect(await page.locator('[data-testid="period-cell"][data-kind="bad"]').count()).toBeGreaterThan(0);
        expect(requests.filter((u) => u !== `file://${PAGE}` && !u.startsWith('blob:'))).toEqual([]);
        expect(errors).toEqual([]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('when the page tries to reach the network', () => {
    it('is stopped by its Content-Security-Policy', async () => {
      // Prepare
      await openPage();
      const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');

      // Act: a script in the page (as an injected one would) tries fetch and an image.
      const outcome = await page.evaluate(async () => {
        try {
          await fetch('http://127.0.0.1:9/');
          return 'fetched';
        } catch {
          return 'refused';
        }
      });

      // Assess
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("connect-src 'none'");
      expect(outcome).toBe('refused');
      expect(requests.filter((u) => u.startsWith('http'))).toEqual([]);
    });
  });

  describe('when a period and an event are opened', () => {
    it('shows the digest, the chain link, filters events, and checks the audit path step by step', async () => {
      // Prepare
      await openPage();
      await verifyInPage(page, { keyFiles: [TRUSTED_KEY], folder: PRISTINE_DIR });

      // Act: the period with the most events (the tallest bar).
      const cells = page.locator('[data-testid="period-cell"][data-kind="ok"]');
      const titles = await cells.evaluateAll((els) => els.map((e) => e.getAttribute('title') ?? ''));
      const counts = titles.map((t) => Number(/· (\d+) event/.exec(t)?.[1] ?? 0));
      const busiest = counts.indexOf(Math.max(...counts));
      await cells.nth(busiest).click();
      await page.getByTestId('event-row').first().waitFor();
      const allRows = await page.getByTestId('event-row').count();
      const firstActor = (await page.getByTestId('event-row').first().locator('td').nth(2).textContent())!;
      await page.getByTestId('filter-actor').fill(firstActor);
      const filtered = await page.getByTestId('event-row').count();
      await page.getByTestId('event-row').first().click();
      await page.getByTestId('path-result').waitFor();
      await page.screenshot({ path: join(ROOT, '.auditseal', 'ui-event.png'), fullPage: true });

      // Assess
      expect(allRows).toBe(counts[busiest]);
      expect(filtered).toBeGreaterThan(0);
      expect(filtered).toBeLessThanOrEqual(allRows);
      expect(await page.getByTestId('chain').textContent()).toMatch(/matches|genesis/);
      expect(await page.getByTestId('path-result').textContent()).toMatch(
        /^The path leads to the signed root/,
      );
      expect(await page.getByTestId('audit-path').locator('tbody tr').count()).toBeGreaterThan(0);
      expect(errors).toEqual([]);
    });
  });

  describe('when a receipt or a proof file is checked', () => {
    it('gives the verdict of auditseal verify-receipt and verify-proof', async () => {
      // Prepare: receipts from a vector (one has a flipped byte), and a proof built from pristine.
      const scratch = tempFolder('ui-files');
      const receipts = JSON.parse(
        readFileSync(
          join(CASES_DIR, 'a-receipt-audit-path-has-a-flipped-byte/overlay/receipts/batch.json'),
          'utf8',
        ),
      ) as unknown[];
      const proof = buildProof();
      const files = {
        receipt0: join(scratch, 'receipt-0.json'),
        receipt1: join(scratch, 'receipt-1.json'),
        proof: join(scratch, 'proof.json'),
        badProof: join(scratch, 'bad-proof.json'),
      };
      writeFileSync(files.receipt0, JSON.stringify(receipts[0]));
      writeFileSync(files.receipt1, JSON.stringify(receipts[1]));
      writeFileSync(files.proof, JSON.stringify(proof));
      writeFileSync(
        files.badProof,
        JSON.stringify({ ...proof, leafIndex: (proof.leafIndex + 1) % proof.treeSize }),
      );
      await openPage();
      await page.getByTestId('key-files').setInputFiles([TRUSTED_KEY]);
      try {
        for (const [kind, file] of [
          ['receipt', files.receipt0],
          ['receipt', files.receipt1],
          ['proof', files.proof],
          ['proof', files.badProof],
        ] as const) {
          // Act
          const command = kind === 'receipt' ? 'verify-receipt' : 'verify-proof';
          const expected = await cli([command, file, '--key', TRUSTED_KEY, '--json']);
          await page.getByTestId('file-check').evaluate((e) => {
            e.textContent = '';
          });
          await page.getByTestId(kind).setInputFiles(file);
          await page
            .getByTestId('file-check')
            .filter({ hasText: /VALID|INVALID/ })
            .waitFor();
          const shown = (await page.getByTestId('file-check').textContent())!;

          // Assess
          expect(
            shown.startsWith(`${kind} ${expected.code === 0 ? 'VALID' : 'INVALID'}`),
            `${file}: ${shown}`,
          ).toBe(true);
        }
        expect(errors).toEqual([]);
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    });
  });

  describe('when auditseal ui serves a folder', () => {
    it('verifies it through 127.0.0.1 only', async () => {
      // Prepare
      const server = await startUiServer({ dir: PRISTINE_DIR });
      try {
        await openPage(server.url);

        // Act
        const run = await verifyInPage(page, { keyFiles: [TRUSTED_KEY] });

        // Assess
        expect(run.verdict).toBe('VALID');
        expect(run.reads).toBe('served');
        const origin = new URL(server.url).origin;
        expect(requests.filter((u) => !u.startsWith(origin) && !u.startsWith('blob:'))).toEqual([]);
        expect(errors).toEqual([]);
      } finally {
        await server.close();
      }
    }, 120_000);
  });
});

describe('Command: auditseal ui --write', () => {
  it('writes the self-contained page', async () => {
    // Prepare
    const scratch = tempFolder('ui-write');
    const out = join(scratch, 'page.html');
    try {
      // Act
      await promisify(execFile)(process.execPath, [BIN, 'ui', '--write', out]);
      const html = readFileSync(out, 'utf8');
      // Assess: one file, inline script and style, no external reference.
      expect(html).toBe(readFileSync(PAGE, 'utf8'));
      expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/i);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  describe('when both DIR and --write are given', () => {
    it('exits 2', async () => {
      const run = await cli(['ui', PRISTINE_DIR, '--write', '/tmp/x.html']);
      expect(run.code).toBe(2);
    });
  });
});

/** An event proof (docs/FORMAT.md, shared/query/event-proof.ts) for an event of the pristine folder. */
function buildProof() {
  const digestsDir = join(PRISTINE_DIR, 'digests');
  const statementFile = readdirSync(digestsDir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.statement.json'))
    .map((f) => join(digestsDir, f))
    .map((f) => ({ f, s: digestStatementSchema.parse(JSON.parse(readFileSync(f, 'utf8'))) }))
    .sort((a, b) => b.s.treeSize - a.s.treeSize)[0]!;
  const statementText = readFileSync(statementFile.f, 'utf8');
  const signature = readFileSync(statementFile.f.replace('.statement.json', '.sig')).toString('base64');
  const digest = digestSchema.parse(
    JSON.parse(readFileSync(join(PRISTINE_DIR, statementFile.s.digestKey), 'utf8')),
  );
  const lines = digest.archives.flatMap((a) =>
    readFileSync(join(PRISTINE_DIR, a.key), 'utf8')
      .split('\n')
      .filter((l) => l !== ''),
  );
  const leafIndex = Math.floor(lines.length / 2);
  const leaves = lines.map((l) => hashLeaf(Buffer.from(l, 'utf8')));
  return {
    type: PROOF_TYPE,
    ledger: statementFile.s.ledger,
    eventId: (JSON.parse(lines[leafIndex]!) as { id: string }).id,
    eventJson: lines[leafIndex]!,
    leafIndex,
    treeSize: lines.length,
    auditPath: inclusionProof(leaves, leafIndex).map((h) => h.toString('hex')),
    statement: statementText,
    signature,
  };
}

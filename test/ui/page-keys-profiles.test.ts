/**
 * The auditor's page in Chromium on folders across a key rotation (key records, FORMAT.md §9.4) and on
 * folders with resource profiles (docs/PROFILES.md): the page's report must be the report of
 * `auditseal verify --json` on the same folder, and a resource's view must show the timeline, diffs and
 * PROFILE_VERSION_* findings of `auditseal verify --resource ID --json`.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyFileSigner } from '../../shared/crypto/key-file-signer.ts';
import { keyRecordBytes, keyRecordObjectKey, signKeyRecord } from '../../shared/keys/key-record.ts';
import { sealRange } from '../../shared/ledger/seal-range.ts';
import { FolderObjectStore } from '../../shared/storage/folder-object-store.ts';
import { describeWithChromium, launchChromium } from '../support/chromium.ts';
import { makeEvent, TEST_LEDGER, tempFolder, writeObject } from '../support/sealed-folder.ts';
import { CASES_DIR, caseKey, materialize } from '../vectors/vector-files.ts';
import { verifyInPage } from './page-driver.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'auditseal.mjs');
const PAGE = join(ROOT, 'dist', 'ui', 'auditseal.html');
const SCREENSHOTS = process.env['UPDATE_SCREENSHOTS'] === '1' ? join(ROOT, 'docs') : join(ROOT, '.auditseal');
const HOUR = 3600_000;
const T0 = Date.parse('2024-08-01T10:00:00.000Z');

async function cliReport(dir: string, key: string, args: string[] = []): Promise<Record<string, unknown>> {
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [BIN, 'verify', dir, '--key', key, '--json', ...args],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    return JSON.parse(stdout) as Record<string, unknown>;
  } catch (error) {
    const e = error as { code?: number; stdout?: string };
    if (e.code === 1 && e.stdout) return JSON.parse(e.stdout) as Record<string, unknown>;
    throw error;
  }
}

const codesOf = (report: Record<string, unknown>) =>
  (report['findings'] as { code: string }[]).map((f) => f.code);

/**
 * A folder across a rotation: periods 1 and 2 sealed under key A, periods 3 and 4 under key B, chained;
 * `record` says when B took over from A (or is signed by an intruder). Returns the folder and a key
 * file trusting A and B.
 */
async function rotatedFolder(record: 'at-rotation' | 'before-period-2-ended' | 'forged-by-intruder') {
  const dir = tempFolder('page-rotation');
  const [a, b] = [KeyFileSigner.generate(), KeyFileSigner.generate()];
  const events = (hour: number) =>
    [0, 1, 2].map((i) =>
      makeEvent(`evt-${hour}-${i}`, new Date(T0 + hour * HOUR + (i + 1) * 60_000).toISOString()),
    );
  const store = new FolderObjectStore(dir);
  const first = await sealRange(
    {
      ledger: TEST_LEDGER,
      seconds: 3600,
      events: [...events(0), ...events(1)],
      previous: null,
      chunkLeaves: 2,
    },
    { store, signer: a },
  );
  await sealRange(
    {
      ledger: TEST_LEDGER,
      seconds: 3600,
      events: [...events(2), ...events(3)],
      previous: first[first.length - 1]!,
      chunkLeaves: 2,
    },
    { store, signer: b },
  );
  const notBefore = new Date(record === 'before-period-2-ended' ? T0 + 1.5 * HOUR : T0 + 2 * HOUR + 60_000);
  const successor = record === 'forged-by-intruder' ? KeyFileSigner.generate() : b;
  const signed = await signKeyRecord(successor, {
    ledger: TEST_LEDGER,
    notBefore,
    previousPublicKeyPem: await a.publicKeyPem(),
  });
  writeObject(dir, keyRecordObjectKey(TEST_LEDGER, await successor.keyId()), keyRecordBytes(signed));
  const key = join(tempFolder('page-rotation-key'), 'trusted.pem');
  writeFileSync(key, `${await a.publicKeyPem()}${await b.publicKeyPem()}`);
  return { dir, key };
}

describeWithChromium("Page: the auditor's page on key records and resource profiles", () => {
  let browser: Browser;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
  });

  async function openPage(): Promise<void> {
    page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1100, height: 900 } });
    errors = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`file://${PAGE}`);
  }

  describe('when a folder across a key rotation is verified', () => {
    it.each([
      { record: 'at-rotation' as const, valid: true, codes: [] as string[] },
      { record: 'before-period-2-ended' as const, valid: false, codes: ['KEY_OUTSIDE_WINDOW'] },
      { record: 'forged-by-intruder' as const, valid: true, codes: [] as string[] },
    ])(
      'gives the CLI report with the record $record',
      async ({ record, valid, codes }) => {
        // Prepare
        const { dir, key } = await rotatedFolder(record);
        try {
          const expected = await cliReport(dir, key);
          await openPage();

          // Act
          const shown = await verifyInPage(page, { keyFiles: [key], folder: dir });

          // Assess: the CLI's verdict, and the page's report is the CLI's, object for object.
          expect(expected['valid']).toBe(valid);
          expect(codesOf(expected)).toEqual(codes);
          expect(shown.report).toEqual(expected);
          expect(shown.verdict).toBe(valid ? 'VALID' : 'INVALID');
          expect(shown.codes).toEqual(codes);
          expect(errors).toEqual([]);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
      120_000,
    );
  });

  describe('when a resource is asked for with --resource', () => {
    it('shows the events that name it, each opening its audit path, and the CLI report', async () => {
      // Prepare: six events, two of which name the bucket, one another bucket.
      const bucket = 'arn:aws:s3:::page-test-bucket';
      const dir = tempFolder('page-resource');
      const signer = KeyFileSigner.generate();
      const at = (i: number) => new Date(T0 + (i + 1) * 60_000).toISOString();
      const events = [0, 1, 2, 3, 4, 5].map((i) =>
        makeEvent(
          `evt-r-${i}`,
          at(i),
          i === 1 || i === 4
            ? { resource: { id: bucket, type: 'AWS::S3::Bucket' } }
            : i === 2
              ? { resource: { id: 'arn:aws:s3:::other', type: 'AWS::S3::Bucket' } }
              : {},
        ),
      );
      await sealRange(
        { ledger: TEST_LEDGER, seconds: 3600, events, previous: null, chunkLeaves: 4 },
        { store: new FolderObjectStore(dir), signer },
      );
      const key = join(tempFolder('page-resource-key'), 'trusted.pem');
      writeFileSync(key, await signer.publicKeyPem());
      try {
        const expected = await cliReport(dir, key, ['--resource', bucket]);
        await openPage();

        // Act
        const shown = await verifyInPage(page, {
          keyFiles: [key],
          folder: dir,
          args: ['--resource', bucket],
        });
        const rows = page.getByTestId('timeline-event');
        await rows.first().waitFor();
        const texts = await rows.allTextContents();
        await rows.nth(1).click();
        await page.getByTestId('path-result').waitFor();

        // Assess
        expect(shown.report).toEqual(expected);
        expect(texts).toHaveLength(2);
        expect(texts[0]).toContain('evt-r-1');
        expect(texts[1]).toContain('evt-r-4');
        expect(await page.getByTestId('event-json').textContent()).toContain('"evt-r-4"');
        expect(await page.getByTestId('path-result').getAttribute('class')).toBe('ok-text');
        expect(errors).toEqual([]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 120_000);
  });

  describe.each([
    { name: 'profile-versions-of-two-resources-are-sealed-as-ledger-events-deep', args: ['--deep'] },
    { name: 'a-sealed-profile-version-is-edited-in-its-archive', args: [] as string[] },
    { name: 'the-writer-skipped-a-chain-position-signed-and-sealed-as-written', args: [] as string[] },
  ])('when a folder with profile versions ($name) is verified', ({ name, args }) => {
    it("lists its resources, and each one's view is `verify --resource` of the CLI", async () => {
      // Prepare
      const caseDir = join(CASES_DIR, name);
      const dir = materialize(caseDir);
      const key = caseKey(caseDir);
      try {
        await openPage();
        await verifyInPage(page, { keyFiles: [key], folder: dir, args });
        const rows = page.getByTestId('resource-row');
        await rows.first().waitFor();
        const ids = await rows.evaluateAll((items) => items.map((i) => i.getAttribute('data-resource')!));
        expect(ids.length).toBeGreaterThan(0);

        for (const id of ids) {
          const expected = await cliReport(dir, key, [...args, '--resource', id]);
          const resource = expected['resource'] as {
            verified: boolean;
            timeline: { n: number; hash: string; diff: { patch: unknown[] } }[];
          };

          // Act
          await page.locator(`[data-testid="resource-row"][data-resource="${id}"]`).click();
          const view = page.getByTestId('resource-detail');
          await expect
            .poll(() => view.getByRole('heading').textContent(), { timeout: 120_000 })
            .toBe(`Resource ${id}`);

          // Assess: the chain's verdict, its versions in order with their hashes and diffs, and the
          // PROFILE_VERSION_* findings of the CLI for this resource.
          await expect
            .poll(() => page.getByTestId('resource-verdict').textContent(), { timeout: 10_000 })
            .toBe(resource.verified ? 'VERIFIED' : 'NOT VERIFIED');
          const versions = await view.getByTestId('version-n').allTextContents();
          expect(versions.map((v) => Number(/version (\d+)/.exec(v)![1]))).toEqual(
            resource.timeline.map((t) => t.n),
          );
          for (const t of resource.timeline) {
            expect(await view.getByText(t.hash, { exact: true }).count()).toBe(1);
          }
          const diffs = await view.getByTestId('version-diff').allTextContents();
          expect(diffs.map((d) => (d.startsWith('{') ? d.split('\n').length : 0))).toEqual(
            resource.timeline.map((t) => t.diff.patch.length),
          );
          expect(await view.getByTestId('resource-finding').allTextContents()).toEqual(
            codesOf(expected).filter((c) => c.startsWith('PROFILE_VERSION_')),
          );
          // The list says what the verifier established for the resource, before it is opened.
          expect(
            await page
              .locator(`[data-testid="resource-row"][data-resource="${id}"]`)
              .getAttribute('data-verified'),
          ).toBe(String(resource.verified));
        }
        if (name.startsWith('profile-versions-of-two-resources')) {
          // The README's picture of a resource's view (UPDATE_SCREENSHOTS=1 writes it to docs/).
          mkdirSync(SCREENSHOTS, { recursive: true });
          await page
            .getByTestId('resource-detail')
            .screenshot({ path: join(SCREENSHOTS, 'ui-resource.png') });
        }
        expect(errors).toEqual([]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 300_000);
  });
  describe('when a forged event naming the resource is inserted, and a period is signed by an untrusted key', () => {
    it('marks those events NOT VERIFIED and the sealed ones verified, as `verify --resource` reports', async () => {
      // Prepare: period 1 sealed by the trusted key (two events name the bucket), period 2 chained to it
      // but signed by a key the auditor does not trust (one event names the bucket); then a copy of a
      // sealed event, with another id, inserted at the top of period 1's first chunk.
      const bucket = 'arn:aws:s3:::page-forged-bucket';
      const dir = tempFolder('page-resource-forged');
      const [trusted, intruder] = [KeyFileSigner.generate(), KeyFileSigner.generate()];
      const names = { resource: { id: bucket, type: 'AWS::S3::Bucket' } };
      const at = (hour: number, i: number) => new Date(T0 + hour * HOUR + (i + 1) * 60_000).toISOString();
      const store = new FolderObjectStore(dir);
      const first = await sealRange(
        {
          ledger: TEST_LEDGER,
          seconds: 3600,
          events: [0, 1, 2, 3, 4].map((i) =>
            makeEvent(`evt-t-${i}`, at(0, i), i === 1 || i === 3 ? names : {}),
          ),
          previous: null,
          chunkLeaves: 4,
        },
        { store, signer: trusted },
      );
      await sealRange(
        {
          ledger: TEST_LEDGER,
          seconds: 3600,
          events: [0, 1].map((i) => makeEvent(`evt-u-${i}`, at(1, i), i === 1 ? names : {})),
          previous: first[first.length - 1]!,
          chunkLeaves: 4,
        },
        { store, signer: intruder },
      );
      const chunk = join(dir, 'archives', TEST_LEDGER, '2024/08/01/20240801T100000Z-3600s/000000.jsonl');
      const text = readFileSync(chunk, 'utf8');
      const sealed = text.split('\n').find((l) => l.includes('"evt-t-1"'))!;
      writeFileSync(chunk, `${sealed.replace('"evt-t-1"', '"evt-forged"')}\n${text}`);
      const key = join(tempFolder('page-resource-forged-key'), 'trusted.pem');
      writeFileSync(key, await trusted.publicKeyPem());
      try {
        const expected = await cliReport(dir, key, ['--resource', bucket]);
        await openPage();

        // Act
        const shown = await verifyInPage(page, {
          keyFiles: [key],
          folder: dir,
          args: ['--resource', bucket],
        });
        const rows = page.getByTestId('timeline-event');
        await rows.first().waitFor();
        const listed = await rows.evaluateAll((items) =>
          items.map((i) => ({ text: i.textContent ?? '', verified: i.getAttribute('data-verified') })),
        );
        const state = (id: string) => listed.find((r) => r.text.includes(`"${id}"`) || r.text.includes(id));

        // Assess: the CLI's report (with its events), and every listed event says whether it is verified.
        expect(shown.report).toEqual(expected);
        expect(codesOf(expected)).toContain('EVENT_INSERTED');
        expect(codesOf(expected)).toContain('KEY_UNKNOWN');
        expect(listed).toHaveLength(4);
        expect(state('evt-t-1')?.verified).toBe('true');
        expect(state('evt-t-3')?.verified).toBe('true');
        expect(state('evt-forged')?.verified).toBe('false');
        expect(state('evt-forged')?.text).toContain('NOT VERIFIED');
        expect(state('evt-u-1')?.verified).toBe('false');
        expect(state('evt-u-1')?.text).toContain('NOT VERIFIED');
        expect(await page.getByTestId('resource-events-summary').textContent()).toContain(
          '2 of 4 event(s) verified',
        );
        const cli = (expected['resource'] as { events: { listed: { eventId: string; verified: boolean }[] } })
          .events.listed;
        expect(Object.fromEntries(cli.map((e) => [e.eventId, e.verified]))).toEqual({
          'evt-t-1': true,
          'evt-t-3': true,
          'evt-forged': false,
          'evt-u-1': false,
        });
        expect(errors).toEqual([]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 120_000);
  });

  describe('when a line that no trusted digest commits to names a new resource', () => {
    it('does not list that resource: the list is what the verifier established', async () => {
      // Prepare: a copy of a sealed profile event, for another resource, inserted into a sealed chunk:
      // first, so that it lies within the chunk's committed size, which any bounded read sees.
      const caseDir = join(CASES_DIR, 'profile-versions-of-two-resources-are-sealed-as-ledger-events-deep');
      const dir = materialize(caseDir);
      const key = caseKey(caseDir);
      const chunk = join(dir, 'archives/profiles/2024/08/05/20240805T130000Z-3600s/000000.jsonl');
      const text = readFileSync(chunk, 'utf8');
      const sealed = text.split('\n')[0]!;
      const forgedId = 'arn:aws:s3:::forged-bucket';
      expect(sealed).toContain('arn:aws:s3:::mborch-test-bucket-config-item');
      const forged = sealed.replaceAll('arn:aws:s3:::mborch-test-bucket-config-item', forgedId);
      writeFileSync(chunk, `${forged}\n${text}`);
      try {
        const expected = await cliReport(dir, key, ['--deep']);
        await openPage();

        // Act
        const run = await verifyInPage(page, { keyFiles: [key], folder: dir, args: ['--deep'] });

        // Assess: the CLI's verdict and codes; the sealed resources are listed, the forged one is not.
        expect(run.verdict).toBe('INVALID');
        expect(run.codes).toEqual(codesOf(expected));
        const rows = page.getByTestId('resource-row');
        await rows.first().waitFor();
        const ids = await rows.evaluateAll((items) => items.map((i) => i.getAttribute('data-resource')!));
        expect(ids).toContain('arn:aws:s3:::mborch-test-bucket-config-item');
        expect(ids).not.toContain(forgedId);
        expect(errors).toEqual([]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 120_000);
  });
});

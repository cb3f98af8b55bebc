/**
 * Debian's Chromium, driven through playwright-core (which never downloads a browser). The page tests
 * need it: outside CI they are skipped, with a message, when it is not installed; in CI (CI=true) its
 * absence is a failure, so the tests cannot silently stop running. `.ci/run` installs it with apt-get.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { describe, it } from 'vitest';

export const CHROMIUM_PATH = process.env['AUDITSEAL_CHROMIUM'] ?? '/usr/bin/chromium';
const inCi = process.env['CI'] === 'true';

export function chromiumInstalled(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/** `describe` for tests that need Chromium: skipped (not in CI) or failing (in CI) when it is absent. */
export function describeWithChromium(name: string, body: () => void): void {
  if (chromiumInstalled()) {
    describe(name, body);
    return;
  }
  const why = `${CHROMIUM_PATH} is missing: install it with \`apt-get install -y chromium\` (docs/UI.md)`;
  if (inCi) {
    describe(name, () => {
      it('has Chromium to run the page tests in CI', () => {
        throw new Error(`CI=true and ${why}`);
      });
    });
    return;
  }
  process.stderr.write(`\n[auditor's page tests SKIPPED] ${why}\n`);
  describe.skip(`${name} (skipped: ${why})`, body);
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    // Root in containers and CI has no user namespace for Chromium's sandbox.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

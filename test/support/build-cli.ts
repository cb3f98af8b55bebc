/**
 * Vitest global setup: builds dist/ once per run (`node scripts/build.mjs --no-types`, about a second), so
 * that tests which run the `auditseal` command (bin/auditseal.mjs → dist/cli/) run the current sources,
 * exactly as the installed command does.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export default function setup(): void {
  const result = spawnSync(process.execPath, ['scripts/build.mjs', '--no-types'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`the CLI build failed:\n${result.stderr}${result.stdout}`);
}

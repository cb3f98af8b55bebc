#!/usr/bin/env node
// Builds dist/ (not committed: `prepare` runs this at `npm ci`, `npm install` and `npm pack`):
// - dist/cli/auditseal.mjs: the `auditseal` command, bundled with esbuild so that nothing is transpiled
//   at run time; each command's code is a chunk loaded only when that command runs. Files named
//   `*.worker.ts` under cli/ or shared/ become `dist/cli/<name>.worker.mjs`, beside the chunks, so a
//   worker is found at `new URL('./<name>.worker.mjs', import.meta.url)` from any chunk.
// - dist/client/index.mjs and dist/types/: `auditseal/client`, as JavaScript and declarations.
// Usage: node scripts/build.mjs [--no-types] [--metafile]
// Plain JavaScript: it runs before anything else is built.
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const dist = join(root, 'dist');

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  process.stderr.write(
    'auditseal build: esbuild is not installed (it is a dev dependency): run `npm ci` without --omit=dev\n',
  );
  process.exit(1);
}

/** `*.worker.ts` files under the folders the CLI bundles. */
function workerEntries() {
  const found = [];
  for (const folder of ['cli', 'shared']) {
    for (const name of readdirSync(join(root, folder), { recursive: true })) {
      const file = String(name);
      if (file.endsWith('.worker.ts')) {
        const base = file.split(/[\\/]/).pop().slice(0, -'.ts'.length);
        found.push({ in: join(root, folder, file), out: base });
      }
    }
  }
  return found;
}

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // npm packages stay imports: they are the package's dependencies, installed beside it.
  packages: 'external',
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
};

const started = Date.now();
rmSync(join(dist, 'cli'), { recursive: true, force: true });
rmSync(join(dist, 'client'), { recursive: true, force: true });
rmSync(join(dist, 'cli-meta.json'), { force: true });
const cli = await esbuild.build({
  ...common,
  entryPoints: [{ in: join(root, 'cli', 'main.ts'), out: 'auditseal' }, ...workerEntries()],
  outdir: join(dist, 'cli'),
  outExtension: { '.js': '.mjs' },
  splitting: true,
  chunkNames: '[name]-[hash]',
  metafile: args.has('--metafile'),
});
if (cli.metafile) writeFileSync(join(dist, 'cli-meta.json'), JSON.stringify(cli.metafile));
await esbuild.build({
  ...common,
  entryPoints: [{ in: join(root, 'client', 'index.ts'), out: 'index' }],
  outdir: join(dist, 'client'),
  outExtension: { '.js': '.mjs' },
});

if (!args.has('--no-types')) {
  rmSync(join(dist, 'types'), { recursive: true, force: true });
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'client', 'tsconfig.types.json')], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    process.stderr.write('auditseal build: declarations failed (tsc above)\n');
    process.exit(1);
  }
}
process.stderr.write(
  `auditseal build: ${relative(process.cwd(), dist) || '.'}/ in ${Date.now() - started} ms\n`,
);

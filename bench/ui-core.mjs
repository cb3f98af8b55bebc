// Profiles the auditor's page's verifier outside the browser: bench/ui-core-entry.ts is bundled exactly as
// scripts/build-ui.mjs bundles the page's worker (crypto.browser.ts as the crypto port, the `buffer`
// package with ui/shims/buffer.ts as Buffer), then run in Node on a folder, its files given as Blobs
// (fs.openAsBlob), as a browser gives picked files. docs/BENCHMARKS.md ("Auditor's page") quotes it.
//
//   node --cpu-prof bench/ui-core.mjs DIR KEY.pem       (a folder of bench/seal-child.ts, for example)
//
// Last stdout line: one JSON object (verdict, milliseconds, process CPU seconds).
import { openAsBlob, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const [dir, keyFile] = process.argv.slice(2);
if (!dir || !keyFile) {
  process.stderr.write('usage: node bench/ui-core.mjs DIR KEY.pem\n');
  process.exit(2);
}
const out = await mkdtemp(join(tmpdir(), 'auditseal-ui-core-'));
try {
  const nodePort = join(root, 'shared', 'platform', 'crypto.ts');
  await esbuild.build({
    entryPoints: [join(root, 'bench', 'ui-core-entry.ts')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    outfile: join(out, 'core.mjs'),
    target: ['chrome120'],
    logLevel: 'warning',
    inject: [join(root, 'ui', 'shims', 'buffer.ts')],
    define: { 'process.env.NODE_ENV': '"production"' },
    plugins: [
      {
        name: 'auditseal-browser',
        setup(build) {
          build.onResolve({ filter: /(^|[\\/])crypto\.ts$/ }, (args) =>
            join(args.resolveDir, args.path) === nodePort
              ? { path: join(root, 'shared', 'platform', 'crypto.browser.ts') }
              : undefined,
          );
          build.onResolve({ filter: /^node:net$/ }, () => ({
            path: join(root, 'ui', 'shims', 'node-net.ts'),
          }));
          build.onResolve({ filter: /^node:/ }, () => ({
            path: join(root, 'ui', 'shims', 'node-builtin.ts'),
          }));
        },
      },
    ],
  });
  const { verifyPicked } = await import(pathToFileURL(join(out, 'core.mjs')).href);
  const files = [];
  for (const rel of readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()) {
    const path = join(dir, rel);
    if (statSync(path).isFile()) files.push({ key: rel.split('\\').join('/'), file: await openAsBlob(path) });
  }
  const cpu0 = process.cpuUsage();
  const result = await verifyPicked(files, readFileSync(keyFile, 'utf8'));
  const cpu = process.cpuUsage(cpu0);
  console.log(JSON.stringify({ ...result, cpu_s: (cpu.user + cpu.system) / 1e6 }));
} finally {
  await rm(out, { recursive: true, force: true });
}

// Builds the auditor's page (docs/UI.md): one self-contained HTML file, dist/ui/auditseal.html.
// - ui/worker.ts (the verifier, from shared/) is bundled for the browser, with the crypto port's browser
//   implementation (shared/platform/crypto.browser.ts) in place of shared/platform/crypto.ts, the `buffer`
//   package as Buffer, and throwing stand-ins for the Node built-ins of Node-only code paths.
// - ui/page.ts is bundled with the worker's code as a string (the page starts it from a blob: URL).
// - Both scripts and the styles are inlined into ui/page.html, under a Content-Security-Policy that
//   allows exactly that script and that style (by SHA-256), a blob: worker, and nothing else: no
//   connection, no image, no font, no frame, no form.
// Called by scripts/build.mjs; plain JavaScript like it.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The CSP of the written page; `auditseal ui DIR` widens connect-src to 'self' to read its folder. */
export function pageCsp(scriptHash, styleHash) {
  return [
    "default-src 'none'",
    `script-src '${scriptHash}'`,
    `style-src '${styleHash}'`,
    'worker-src blob:',
    "connect-src 'none'",
    "img-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

const sha256Source = (text) => `sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}`;

function browserPlugin(root) {
  const shim = join(root, 'ui', 'shims', 'node-builtin.ts');
  return {
    name: 'auditseal-browser',
    setup(build) {
      const nodePort = join(root, 'shared', 'platform', 'crypto.ts');
      build.onResolve({ filter: /(^|[\\/])crypto\.ts$/ }, (args) =>
        resolve(args.resolveDir, args.path) === nodePort
          ? { path: join(root, 'shared', 'platform', 'crypto.browser.ts') }
          : undefined,
      );
      build.onResolve({ filter: /^node:net$/ }, () => ({ path: join(root, 'ui', 'shims', 'node-net.ts') }));
      build.onResolve({ filter: /^node:/ }, () => ({ path: shim }));
    },
  };
}

export async function buildUi(esbuild, root) {
  const common = {
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'iife',
    target: ['chrome120', 'firefox120', 'safari17'],
    minifyWhitespace: true,
    minifySyntax: true,
    // AUDITSEAL_UI_PROFILE=1 keeps function names, for CPU profiles of the page (bench/ui-profile.ts).
    minifyIdentifiers: process.env.AUDITSEAL_UI_PROFILE !== '1',
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [browserPlugin(root)],
    inject: [join(root, 'ui', 'shims', 'buffer.ts')],
    define: { 'process.env.NODE_ENV': '"production"' },
  };
  // The chunk workers (ui/chunk-pool.ts), started by the verification worker from a blob: URL.
  const chunkWorker = await esbuild.build({ ...common, entryPoints: [join(root, 'ui', 'chunk-worker.ts')] });
  // The file-read worker (ui/read-worker.ts): no Buffer, no shims, a few hundred bytes.
  const readWorker = await esbuild.build({
    ...common,
    inject: [],
    entryPoints: [join(root, 'ui', 'read-worker.ts')],
  });
  const worker = await esbuild.build({
    ...common,
    entryPoints: [join(root, 'ui', 'worker.ts')],
    define: {
      ...common.define,
      __CHUNK_WORKER_SOURCE__: JSON.stringify(chunkWorker.outputFiles[0].text),
      __READ_WORKER_SOURCE__: JSON.stringify(readWorker.outputFiles[0].text),
    },
  });
  const workerSource = worker.outputFiles[0].text;
  const page = await esbuild.build({
    ...common,
    entryPoints: [join(root, 'ui', 'page.ts')],
    define: { ...common.define, __WORKER_SOURCE__: JSON.stringify(workerSource) },
  });
  // A script or style element's text must not close it early.
  const script = page.outputFiles[0].text.replace(/<\/script/gi, '<\\/script');
  const style = readFileSync(join(root, 'ui', 'page.css'), 'utf8');
  const html = readFileSync(join(root, 'ui', 'page.html'), 'utf8')
    .replace('__CSP__', () => pageCsp(sha256Source(script), sha256Source(style)))
    .replace('__STYLE__', () => style)
    .replace('__SCRIPT__', () => script);
  mkdirSync(join(root, 'dist', 'ui'), { recursive: true });
  writeFileSync(join(root, 'dist', 'ui', 'auditseal.html'), html);
  return { bytes: Buffer.byteLength(html), workerBytes: Buffer.byteLength(workerSource) };
}

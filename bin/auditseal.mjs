#!/usr/bin/env node
// The `auditseal` command: runs the CLI bundle that `npm run build` writes to dist/ (`prepare` runs it at
// `npm ci` and `npm pack`). Nothing is transpiled at run time.
let cli;
try {
  cli = await import('../dist/cli/auditseal.mjs');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('dist/cli/auditseal.mjs'))
    throw error;
  process.stderr.write(
    'auditseal: the CLI is not built (dist/cli/auditseal.mjs is missing): run `npm run build`\n',
  );
  process.exit(2);
}
process.exitCode = await cli.main(process.argv);

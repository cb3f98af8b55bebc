import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Builds the CLI bundle that the command-line tests run (scripts/build.mjs).
    globalSetup: ['test/support/build-cli.ts'],
  },
});

import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores: one worker on a 2-core machine, so the suite ran
    // file after file. The longest files (the README, the stack end to end, detections) mostly wait for
    // periods to end and be sealed; two workers overlap those waits with the rest.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // Builds the CLI bundle that the command-line tests run (scripts/build.mjs).
    globalSetup: ['test/support/build-cli.ts'],
  },
});

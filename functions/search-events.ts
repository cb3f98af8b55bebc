/** Lambda entry point of one event read route; see read-handlers.ts. Dependencies are built once per container. */
import { createSearchEventsHandler, type ReadDeps } from './read-handlers.ts';
import { readDepsFromEnv } from './read-runtime.ts';

let deps: Promise<ReadDeps> | undefined;

export const handler = createSearchEventsHandler(() => {
  deps ??= readDepsFromEnv(process.env, { cursors: true }).catch((error: unknown) => {
    deps = undefined;
    throw error;
  });
  return deps;
});

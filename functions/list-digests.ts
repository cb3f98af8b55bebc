/** Lambda entry point of one auditor route; see auditor-handlers.ts. Dependencies are built once per container. */
import { createListDigestsHandler } from './auditor-handlers.ts';
import { auditorDepsFromEnv } from './auditor-runtime.ts';

let deps: ReturnType<typeof auditorDepsFromEnv> | undefined;

export const handler = createListDigestsHandler(() => {
  deps ??= auditorDepsFromEnv();
  return deps;
});

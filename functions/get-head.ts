/** Lambda entry point of one auditor route; see auditor-handlers.ts. Dependencies are built once per container. */
import { createGetHeadHandler } from './auditor-handlers.ts';
import { auditorDepsFromEnv } from './auditor-runtime.ts';

let deps: ReturnType<typeof auditorDepsFromEnv> | undefined;

export const handler = createGetHeadHandler(() => {
  deps ??= auditorDepsFromEnv();
  return deps;
});

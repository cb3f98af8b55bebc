/** Lambda entry point of `GET /v1/resources/{id}/timeline`; see profile-handlers.ts. Dependencies are built once. */
import { createGetTimelineHandler, type ProfileReadDeps } from './profile-handlers.ts';
import { profileReadDepsFromEnv } from './profile-runtime.ts';

let deps: Promise<ProfileReadDeps> | undefined;

export const handler = createGetTimelineHandler(() => {
  deps ??= profileReadDepsFromEnv(process.env, { cursors: true }).catch((error: unknown) => {
    deps = undefined;
    throw error;
  });
  return deps;
});

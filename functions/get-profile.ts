/** Lambda entry point of `GET /v1/resources/{id}/profile`; see profile-handlers.ts. Dependencies are built once. */
import { createGetProfileHandler, type ProfileReadDeps } from './profile-handlers.ts';
import { profileReadDepsFromEnv } from './profile-runtime.ts';

let deps: Promise<ProfileReadDeps> | undefined;

export const handler = createGetProfileHandler(() => {
  deps ??= profileReadDepsFromEnv(process.env, { cursors: false }).catch((error: unknown) => {
    deps = undefined;
    throw error;
  });
  return deps;
});

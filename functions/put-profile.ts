/** Lambda entry point of `PUT /v1/resources/{id}/profile`; see profile-handlers.ts. Dependencies are built once. */
import { createPutProfileHandler, type ProfileWriteDeps } from './profile-handlers.ts';
import { profileWriteDepsFromEnv } from './profile-runtime.ts';

let deps: Promise<ProfileWriteDeps> | undefined;

export const handler = createPutProfileHandler(() => {
  deps ??= Promise.resolve()
    .then(() => profileWriteDepsFromEnv(process.env))
    .catch((error: unknown) => {
      deps = undefined;
      throw error;
    });
  return deps;
});

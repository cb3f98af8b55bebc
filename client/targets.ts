/**
 * Where requests go and who signs them: the local stack's `.auditseal/local.json` (one key pair per role),
 * or a deployed API with the standard AWS credential chain.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { AuditsealConfigError } from './errors.ts';
import type { Credentials, CredentialsSource } from './signing.ts';

/** The three roles of the API (docs/DEPLOY.md). */
export type Role = 'writer' | 'reader' | 'auditor';

/** Default path of the local stack description, relative to the project. */
export const LOCAL_STACK_FILE = '.auditseal/local.json';

const roleSchema = z.object({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1) });
const localStackSchema = z.object({
  endpoint: z.url(),
  region: z.string().min(1),
  roles: z.object({ writer: roleSchema, reader: roleSchema, auditor: roleSchema }),
});

/** An endpoint, its region, and credentials for it. */
export interface Target {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: CredentialsSource;
}

/**
 * Reads the local stack description written by `npm start`; undefined if the file does not exist.
 * Throws `AuditsealConfigError` for a file that exists but is not one.
 */
export async function readLocalStack(
  file: string = LOCAL_STACK_FILE,
): Promise<z.infer<typeof localStackSchema> | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AuditsealConfigError(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new AuditsealConfigError(`${file} is not JSON`, { cause });
  }
  const parsed = localStackSchema.safeParse(value);
  if (!parsed.success) {
    throw new AuditsealConfigError(`${file} is not a local stack description (written by npm start)`);
  }
  return parsed.data;
}

/** The local stack's endpoint, region and the keys of one role. */
export async function localStackTarget(role: Role, file: string = LOCAL_STACK_FILE): Promise<Target> {
  const local = await readLocalStack(file);
  if (!local) {
    throw new AuditsealConfigError(`${file} not found: start the local stack with \`npm start\``);
  }
  return { endpoint: local.endpoint, region: local.region, credentials: local.roles[role] };
}

/** The region of an `execute-api` host name (`…execute-api.eu-west-1.amazonaws.com`), if it is one. */
export function regionOfEndpoint(endpoint: string): string | undefined {
  let host: string;
  try {
    host = new URL(endpoint).hostname;
  } catch {
    return undefined;
  }
  return /\.execute-api\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$/.exec(host)?.[1];
}

/**
 * The standard AWS credential chain (environment, shared config and SSO profiles, web identity,
 * container and instance metadata), loaded on first use so that programs that pass credentials never
 * load it. The provider caches and refreshes what it finds.
 */
export function defaultCredentials(profile?: string): () => Promise<Credentials> {
  let provider: (() => Promise<Credentials>) | undefined;
  return async () => {
    if (!provider) {
      const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
      provider = fromNodeProviderChain(profile ? { profile } : {});
    }
    try {
      return await provider();
    } catch (error) {
      throw new AuditsealConfigError(
        `no AWS credentials: the standard chain (environment, profile${profile ? ` ${profile}` : ''}, SSO, instance role) found none: ${(error as Error).message}`,
        { cause: error },
      );
    }
  };
}

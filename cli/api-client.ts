/**
 * How the CLI reaches the API: it resolves an endpoint and credentials, then uses `auditseal/client`
 * (client/) for everything else (signing, retries, errors).
 *
 * - No `--endpoint` and no `AUDITSEAL_ENDPOINT`: the local stack, `.auditseal/local.json`, signing as the
 *   command's role with that file's keys.
 * - An endpoint that is the local stack's: the same.
 * - Any other endpoint (a deployed stack): the standard AWS credential chain (`AWS_PROFILE` or `--profile`,
 *   `AWS_ACCESS_KEY_ID`…, SSO, instance roles), region from `--region`, `AWS_REGION`, or the host name.
 */
import { AuditsealClient, type AuditsealClientOptions } from '../client/auditseal-client.ts';
import { AuditsealApiError } from '../client/errors.ts';
import type { CredentialsSource, Query } from '../client/signing.ts';
import {
  defaultCredentials,
  LOCAL_STACK_FILE,
  type Role,
  readLocalStack,
  regionOfEndpoint,
} from '../client/targets.ts';
import { UsageError } from './errors.ts';

/** The API error the CLI reports (exit 2). */
export { AuditsealApiError as ApiError };

export interface ApiTarget {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: CredentialsSource;
}

export interface TargetOptions {
  readonly role: Role;
  readonly endpoint?: string;
  readonly region?: string;
  readonly profile?: string;
  readonly localFile?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** Resolves endpoint, region and credentials: explicit options, then the environment, then local.json. */
export async function resolveTarget(options: TargetOptions): Promise<ApiTarget> {
  const env = options.env ?? process.env;
  const localFile = options.localFile ?? LOCAL_STACK_FILE;
  let local: Awaited<ReturnType<typeof readLocalStack>>;
  try {
    local = await readLocalStack(localFile);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const explicit = options.endpoint ?? nonEmpty(env['AUDITSEAL_ENDPOINT']);
  // The local stack's own keys, unless another endpoint is named: AWS credentials from the shell would
  // only be refused by the local gateway, and the local keys mean nothing to a deployed API.
  if (local && (explicit === undefined || sameEndpoint(explicit, local.endpoint))) {
    return { endpoint: local.endpoint, region: local.region, credentials: local.roles[options.role] };
  }
  if (explicit === undefined) {
    throw new UsageError(
      `no API endpoint: start the local stack (npm start, which writes ${localFile}), or pass --endpoint (or set AUDITSEAL_ENDPOINT) for a deployed stack`,
    );
  }
  try {
    new URL(explicit);
  } catch {
    throw new UsageError(`--endpoint is not a URL: ${JSON.stringify(explicit)}`);
  }
  const region =
    options.region ??
    regionOfEndpoint(explicit) ??
    nonEmpty(env['AWS_REGION']) ??
    nonEmpty(env['AWS_DEFAULT_REGION']);
  if (!region) throw new UsageError('no region: pass --region or set AWS_REGION');
  const profile = options.profile ?? nonEmpty(env['AWS_PROFILE']);
  return { endpoint: explicit, region, credentials: defaultCredentials(profile) };
}

/** A client for a resolved target. */
export function clientFor(
  target: ApiTarget,
  options: Omit<AuditsealClientOptions, 'endpoint' | 'region' | 'credentials'> = {},
): AuditsealClient {
  return new AuditsealClient({ ...options, ...target });
}

/** Sends one signed request and resolves with the parsed JSON answer. */
export async function signedJson<T>(
  target: ApiTarget,
  method: 'GET' | 'POST' | 'PUT',
  path: string,
  query: Query = {},
  body?: unknown,
): Promise<T> {
  return (await clientFor(target).request({ method, path, query, body })) as T;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function sameEndpoint(a: string, b: string): boolean {
  try {
    const x = new URL(a);
    const y = new URL(b);
    return x.origin === y.origin && x.pathname.replace(/\/+$/, '') === y.pathname.replace(/\/+$/, '');
  } catch {
    return false;
  }
}

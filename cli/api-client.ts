/**
 * A small SigV4-signed JSON client for the auditseal HTTP API (service `execute-api`). Credentials come
 * from `.auditseal/local.json` (a role of the local stack) or from the standard AWS environment variables.
 */
import { readFile } from 'node:fs/promises';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { z } from 'zod';
import { UsageError } from './errors.ts';

const roleSchema = z.object({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1) });
const localSchema = z.object({
  endpoint: z.url(),
  region: z.string().min(1),
  roles: z.object({ writer: roleSchema, reader: roleSchema, auditor: roleSchema }),
});

export interface ApiTarget {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** Resolves endpoint and credentials: explicit options, then local.json, then the environment. */
export async function resolveTarget(options: {
  endpoint?: string;
  role: 'writer' | 'reader' | 'auditor';
  localFile?: string;
  env?: NodeJS.ProcessEnv;
}): Promise<ApiTarget> {
  const env = options.env ?? process.env;
  const localFile = options.localFile ?? '.auditseal/local.json';
  let local: z.infer<typeof localSchema> | undefined;
  try {
    local = localSchema.parse(JSON.parse(await readFile(localFile, 'utf8')));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new UsageError(`${localFile} is not a valid local stack file`);
  }
  // The local stack's own file wins unless an endpoint is named explicitly: AWS credentials in the shell
  // would only be refused by the local gateway.
  const explicit = options.endpoint ?? env['AUDITSEAL_ENDPOINT'];
  if (local && explicit === undefined) {
    return { endpoint: local.endpoint, region: local.region, credentials: local.roles[options.role] };
  }
  const endpoint = explicit ?? local?.endpoint;
  if (!endpoint)
    throw new UsageError('no API endpoint: start the local stack (npm start), or pass --endpoint');
  const region = env['AWS_REGION'] ?? local?.region ?? 'us-east-1';
  if (env['AWS_ACCESS_KEY_ID'] && env['AWS_SECRET_ACCESS_KEY']) {
    return {
      endpoint,
      region,
      credentials: {
        accessKeyId: env['AWS_ACCESS_KEY_ID'],
        secretAccessKey: env['AWS_SECRET_ACCESS_KEY'],
        ...(env['AWS_SESSION_TOKEN'] ? { sessionToken: env['AWS_SESSION_TOKEN'] } : {}),
      },
    };
  }
  if (!local)
    throw new UsageError(
      `no credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or start the local stack (${localFile})`,
    );
  return { endpoint, region, credentials: local.roles[options.role] };
}

/** Error from the API: its HTTP status and `{code, message}`. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${status} ${code}: ${message}`);
  }
}

/** Sends one signed request and parses the JSON answer. */
export async function signedJson<T>(
  target: ApiTarget,
  method: 'GET' | 'POST' | 'PUT',
  path: string,
  query: Record<string, string> = {},
  body?: unknown,
): Promise<T> {
  const url = new URL(path, target.endpoint);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const signer = new SignatureV4({
    service: 'execute-api',
    region: target.region,
    credentials: target.credentials,
    sha256: Sha256,
  });
  const signed = await signer.sign({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: { host: url.host, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(payload !== undefined ? { body: payload } : {}),
  });
  const response = await fetch(url, {
    method,
    headers: signed.headers as Record<string, string>,
    ...(payload !== undefined ? { body: payload } : {}),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    throw new ApiError(response.status, 'INVALID_RESPONSE', 'the API did not answer JSON');
  }
  if (!response.ok) {
    const e = json as { code?: unknown; message?: unknown };
    throw new ApiError(response.status, String(e.code ?? 'ERROR'), String(e.message ?? response.statusText));
  }
  return json as T;
}

/**
 * Sends SigV4-signed requests to the local gateway the way an AWS client does: `@smithy/signature-v4` (the
 * AWS SDK's signer) over the request's method, encoded path, query, headers and body.
 *
 * @example
 * const response = await signedFetch(stack.endpoint, stack.roles.writer, { method: 'POST', path: '/v1/events', body });
 */

import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

export interface SigningCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface SignedFetchInit {
  readonly method?: string;
  /** Path and query, e.g. `/v1/events?actor=alice`. */
  readonly path: string;
  readonly body?: string | Uint8Array;
  readonly headers?: Readonly<Record<string, string>>;
  /** Default `us-east-1`. */
  readonly region?: string;
  /** Default now. */
  readonly signingDate?: Date;
  /** Also sign an `x-amz-content-sha256` header, as S3-style clients do. */
  readonly signPayloadHeader?: boolean;
  /** Changes the signed request after signing, before sending: for tamper tests. */
  readonly tamper?: (request: SignedRequestParts) => void;
}

/** The parts of a signed request that are sent. */
export interface SignedRequestParts {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | Uint8Array | undefined;
}

/** Signs and sends; resolves with the raw Response. */
export async function signedFetch(
  endpoint: string,
  credentials: SigningCredentials,
  init: SignedFetchInit,
): Promise<Response> {
  const parts = await signRequest(endpoint, credentials, init);
  init.tamper?.(parts);
  const { host: _host, ...headers } = parts.headers;
  return fetch(new URL(parts.path, endpoint), {
    method: parts.method,
    headers,
    ...(parts.body === undefined ? {} : { body: parts.body }),
  });
}

/** Signs a request for the gateway at `endpoint` and returns what to send. */
export async function signRequest(
  endpoint: string,
  credentials: SigningCredentials,
  init: SignedFetchInit,
): Promise<SignedRequestParts> {
  const url = new URL(init.path, endpoint);
  const method = init.method ?? 'GET';
  const query: Record<string, string | string[]> = {};
  // Decoded as the gateway (and API Gateway) decode it: `+` is a space, a plus sign is `%2B`.
  const decode = (text: string) => decodeURIComponent(text.replaceAll('+', ' '));
  const pairs = url.search
    .slice(1)
    .split('&')
    .filter((part) => part !== '')
    .map((part) => {
      const eq = part.indexOf('=');
      return eq < 0 ? [part, ''] : [part.slice(0, eq), part.slice(eq + 1)];
    })
    .map(([key, value]) => [decode(key!), decode(value!)] as const);
  for (const [key, value] of pairs) {
    const existing = Object.hasOwn(query, key) ? query[key] : undefined;
    const next =
      existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
    Object.defineProperty(query, key, { value: next, enumerable: true, writable: true, configurable: true });
  }
  const signer = new SignatureV4({
    credentials,
    region: init.region ?? 'us-east-1',
    service: 'execute-api',
    sha256: Sha256,
    applyChecksum: init.signPayloadHeader === true,
  });
  const signed = await signer.sign(
    {
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query,
      headers: {
        host: url.host,
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...init.headers,
      },
      body: init.body,
    },
    init.signingDate === undefined ? {} : { signingDate: init.signingDate },
  );
  return {
    method,
    path: `${url.pathname}${url.search}`,
    headers: Object.fromEntries(Object.entries(signed.headers).map(([name, value]) => [name, String(value)])),
    body: init.body,
  };
}

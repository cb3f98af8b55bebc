/**
 * SigV4 signing of one API request (service `execute-api`) with `@smithy/signature-v4`, the AWS SDK's own
 * signer. The request that is sent is byte for byte the one that was signed: the query string on the wire
 * uses the same RFC 3986 encoding as the canonical query, so no gateway has to re-encode anything.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';

/** Long-term or temporary AWS credentials. */
export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/** Credentials, or a function that returns them (as the AWS SDK's providers do; it should cache). */
export type CredentialsSource = Credentials | (() => Promise<Credentials>);

/** Query parameters; an array repeats the key. */
export type Query = Readonly<Record<string, string | readonly string[]>>;

/** What to send, relative to the endpoint. */
export interface ApiRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path below the endpoint, each segment already URL-encoded, e.g. `/v1/digests/20261122T210000Z-60s`. */
  readonly path: string;
  readonly query?: Query;
  /** JSON text of the body, if any. */
  readonly body?: string;
}

export interface SignedRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

/** SHA-256 and HMAC-SHA-256 from node:crypto, in the shape the signer expects. */
class NodeSha256 {
  readonly #hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.#hash.digest();
  }
}

function bytes(data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** RFC 3986 percent-encoding of everything but unreserved characters, as SigV4 canonicalizes. */
export function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** The query string as sent: keys and values encoded exactly as in the canonical request. */
export function queryString(query: Query): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    for (const v of typeof value === 'string' ? [value] : value)
      parts.push(`${escapeUri(key)}=${escapeUri(v)}`);
  }
  return parts.join('&');
}

/** Signs requests for one endpoint; the endpoint may carry a base path (a REST API stage, `/prod`). */
export class RequestSigner {
  readonly #signer: SignatureV4;
  readonly #origin: URL;
  readonly #basePath: string;

  constructor(endpoint: string, region: string, credentials: CredentialsSource) {
    this.#origin = new URL(endpoint);
    this.#basePath = this.#origin.pathname.replace(/\/+$/, '');
    this.#signer = new SignatureV4({ service: 'execute-api', region, credentials, sha256: NodeSha256 });
  }

  async sign(request: ApiRequest, signingDate?: Date): Promise<SignedRequest> {
    if (!request.path.startsWith('/')) throw new RangeError(`path must start with '/': ${request.path}`);
    const path = `${this.#basePath}${request.path}`;
    const query: Record<string, string | string[]> = {};
    for (const [key, value] of Object.entries(request.query ?? {})) {
      // Defined, not assigned: a key named __proto__ stays an ordinary key.
      Object.defineProperty(query, key, {
        value: typeof value === 'string' ? value : [...value],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    const signed = await this.#signer.sign(
      {
        method: request.method,
        protocol: this.#origin.protocol,
        hostname: this.#origin.hostname,
        ...(this.#origin.port ? { port: Number(this.#origin.port) } : {}),
        path,
        query,
        headers: {
          host: this.#origin.host,
          ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(request.body !== undefined ? { body: request.body } : {}),
      },
      signingDate ? { signingDate } : {},
    );
    const search = queryString(request.query ?? {});
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(signed.headers)) {
      // fetch sets Host itself, from the URL, to the same value that was signed.
      if (name.toLowerCase() !== 'host') headers[name] = String(value);
    }
    return {
      url: `${this.#origin.origin}${path}${search ? `?${search}` : ''}`,
      method: request.method,
      headers,
      ...(request.body !== undefined ? { body: request.body } : {}),
    };
  }
}

/**
 * Verifies AWS Signature Version 4 on an incoming request, the way API Gateway's IAM authorization does: the
 * request is signed again with `@smithy/signature-v4`, with the secret of the access key it names and at the
 * time it claims, and the two signatures are compared in constant time.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 *
 * Only the `Authorization` header form is accepted (no presigned URLs, no session tokens).
 */

import { createHash, timingSafeEqual } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { GatewayError } from './gateway-errors.ts';

/** A request as received, ready to canonicalize. */
export interface IncomingSignedRequest {
  readonly method: string;
  /** The path exactly as sent on the wire (still percent-encoded), without the query. */
  readonly rawPath: string;
  /** Decoded query parameters; a repeated key has all its values in order. */
  readonly query: Readonly<Record<string, string | readonly string[]>>;
  /** Lower-case header names; repeated headers joined with `,`. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

/** Who signed a verified request. */
export interface VerifiedCaller {
  readonly accessKeyId: string;
}

export interface SigV4VerifierOptions {
  readonly region: string;
  /** Default `execute-api`. */
  readonly service?: string;
  /** The secret of an access key id, or undefined for an unknown key. */
  readonly secretFor: (accessKeyId: string) => string | undefined;
  /** Allowed distance between the request's `X-Amz-Date` and now; default 5 minutes. */
  readonly maxClockSkewMs?: number;
  readonly now?: () => number;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/;
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

interface ParsedAuthorization {
  readonly accessKeyId: string;
  readonly scopeDate: string;
  readonly scopeRegion: string;
  readonly scopeService: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

/** Checks SigV4 signatures against a fixed set of credentials. */
export class SigV4Verifier {
  readonly #region: string;
  readonly #service: string;
  readonly #secretFor: (accessKeyId: string) => string | undefined;
  readonly #maxClockSkewMs: number;
  readonly #now: () => number;

  constructor(options: SigV4VerifierOptions) {
    this.#region = options.region;
    this.#service = options.service ?? 'execute-api';
    this.#secretFor = options.secretFor;
    this.#maxClockSkewMs = options.maxClockSkewMs ?? 5 * 60_000;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Resolves with the caller if the signature is valid; rejects with a 403 `GatewayError` otherwise.
   * @example const { accessKeyId } = await verifier.verify(request);
   */
  async verify(request: IncomingSignedRequest): Promise<VerifiedCaller> {
    const { auth, signingDate, secret } = this.#preflight(request.headers, request.query);
    checkPayloadHash(request);
    const signedHeaders = pickSignedHeaders(request.headers, auth.signedHeaders);

    const signer = new SignatureV4({
      credentials: { accessKeyId: auth.accessKeyId, secretAccessKey: secret },
      region: this.#region,
      service: this.#service,
      sha256: Sha256,
      // Only add x-amz-content-sha256 to the canonical headers when the client signed it.
      applyChecksum: auth.signedHeaders.includes('x-amz-content-sha256'),
    });
    const signed = await signer.sign(
      {
        method: request.method,
        protocol: 'http:',
        hostname: signedHeaders['host'] ?? '',
        path: request.rawPath,
        query: request.query as Record<string, string | string[]>,
        headers: signedHeaders,
        body: request.body,
      },
      { signingDate, signableHeaders: new Set(auth.signedHeaders) },
    );
    const expected = /Signature=([0-9a-f]{64})$/.exec(String(signed.headers['authorization'] ?? ''))?.[1];
    if (expected === undefined || !timingSafeEqual(Buffer.from(expected), Buffer.from(auth.signature))) {
      throw new GatewayError(
        'INVALID_SIGNATURE',
        'the request signature we calculated does not match the signature you provided',
      );
    }
    return { accessKeyId: auth.accessKeyId };
  }

  /**
   * The checks that need no body: header syntax, date, scope and access key. Lets the gateway refuse a
   * request before reading its body; `verify` repeats them.
   */
  preflight(headers: IncomingSignedRequest['headers'], query: IncomingSignedRequest['query']): void {
    this.#preflight(headers, query);
  }

  #preflight(
    headers: IncomingSignedRequest['headers'],
    query: IncomingSignedRequest['query'],
  ): { auth: ParsedAuthorization; signingDate: Date; secret: string } {
    const authorization = headers['authorization'];
    if (authorization === undefined || authorization === '') {
      const presigned = Object.keys(query).some((key) => key.toLowerCase() === 'x-amz-signature');
      throw new GatewayError(
        'MISSING_AUTHENTICATION',
        presigned
          ? 'presigned URLs are not accepted; sign the Authorization header'
          : 'missing Authentication Token: sign the request with SigV4',
      );
    }
    const auth = parseAuthorization(authorization);
    const signingDate = this.#checkDate(headers['x-amz-date'], auth);
    this.#checkScope(auth);
    if (headers['x-amz-security-token'] !== undefined) {
      throw new GatewayError('UNRECOGNIZED_CLIENT', 'the security token included in the request is invalid');
    }
    const secret = this.#secretFor(auth.accessKeyId);
    if (secret === undefined) {
      throw new GatewayError('UNRECOGNIZED_CLIENT', 'the access key id is not known to this gateway');
    }
    return { auth, signingDate, secret };
  }

  #checkDate(amzDate: string | undefined, auth: ParsedAuthorization): Date {
    const match = amzDate === undefined ? null : AMZ_DATE.exec(amzDate);
    if (match === null) {
      throw new GatewayError('INCOMPLETE_SIGNATURE', 'X-Amz-Date must be present, as YYYYMMDDTHHMMSSZ');
    }
    const [, y, mo, d, h, mi, s] = match.map(Number) as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
    // Date.UTC rolls 2024-13-40 over into a later valid date: formatting it back must give the same text.
    if (Number.isNaN(date.getTime()) || date.toISOString().replace(/[-:]|\.\d{3}/g, '') !== amzDate) {
      throw new GatewayError('INCOMPLETE_SIGNATURE', 'X-Amz-Date is not a valid date');
    }
    if (Math.abs(this.#now() - date.getTime()) > this.#maxClockSkewMs) {
      throw new GatewayError(
        'SIGNATURE_EXPIRED',
        `signature expired or not yet valid: X-Amz-Date ${amzDate} is more than ${this.#maxClockSkewMs / 60_000} minutes from the server time`,
      );
    }
    if (auth.scopeDate !== amzDate!.slice(0, 8)) {
      throw new GatewayError('INVALID_SIGNATURE', 'the credential scope date does not match X-Amz-Date');
    }
    return date;
  }

  #checkScope(auth: ParsedAuthorization): void {
    if (auth.scopeRegion !== this.#region) {
      throw new GatewayError('INVALID_SIGNATURE', `credential should be scoped to region ${this.#region}`);
    }
    if (auth.scopeService !== this.#service) {
      throw new GatewayError('INVALID_SIGNATURE', `credential should be scoped to service ${this.#service}`);
    }
  }
}

/** `AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=…` */
function parseAuthorization(value: string): ParsedAuthorization {
  const incomplete = (detail: string) =>
    new GatewayError('INCOMPLETE_SIGNATURE', `malformed Authorization header: ${detail}`);
  const space = value.indexOf(' ');
  if (space < 0 || value.slice(0, space) !== ALGORITHM)
    throw incomplete(`the algorithm must be ${ALGORITHM}`);
  const fields = new Map<string, string>();
  for (const part of value.slice(space + 1).split(',')) {
    const trimmed = part.trim();
    const eq = trimmed.indexOf('=');
    if (eq <= 0) throw incomplete('expected Credential=…, SignedHeaders=…, Signature=…');
    const name = trimmed.slice(0, eq);
    if (fields.has(name)) throw incomplete(`${name} appears twice`);
    fields.set(name, trimmed.slice(eq + 1));
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (
    credential === undefined ||
    signedHeaders === undefined ||
    signature === undefined ||
    fields.size !== 3
  ) {
    throw incomplete('expected exactly Credential, SignedHeaders and Signature');
  }
  const scope = credential.split('/');
  if (scope.length !== 5 || scope[4] !== 'aws4_request' || !/^\d{8}$/.test(scope[1]!)) {
    throw incomplete('Credential must be <access key id>/<YYYYMMDD>/<region>/<service>/aws4_request');
  }
  if (!ACCESS_KEY_ID.test(scope[0]!)) throw incomplete('the access key id is malformed');
  const headers = signedHeaders.split(';');
  if (!headers.every((name) => HEADER_NAME.test(name))) throw incomplete('SignedHeaders is malformed');
  if (!headers.includes('host')) throw incomplete('SignedHeaders must include host');
  if (!headers.includes('x-amz-date')) throw incomplete('SignedHeaders must include x-amz-date');
  if (!HEX_SHA256.test(signature)) throw incomplete('Signature must be 64 lower-case hex digits');
  return {
    accessKeyId: scope[0]!,
    scopeDate: scope[1]!,
    scopeRegion: scope[2]!,
    scopeService: scope[3]!,
    signedHeaders: headers,
    signature,
  };
}

/** An `x-amz-content-sha256` header, signed or not, must be the SHA-256 of the body actually received. */
function checkPayloadHash(request: IncomingSignedRequest): void {
  const claimed = request.headers['x-amz-content-sha256'];
  if (claimed === undefined) return;
  const actual =
    request.body.length === 0 ? EMPTY_SHA256 : createHash('sha256').update(request.body).digest('hex');
  if (claimed !== actual) {
    throw new GatewayError(
      'INVALID_SIGNATURE',
      'x-amz-content-sha256 does not match the SHA-256 of the body (UNSIGNED-PAYLOAD is not accepted)',
    );
  }
}

/** The headers named in SignedHeaders, each of which must be present. */
function pickSignedHeaders(
  headers: Readonly<Record<string, string>>,
  names: readonly string[],
): Record<string, string> {
  const picked: Record<string, string> = Object.create(null);
  for (const name of names) {
    const value = Object.hasOwn(headers, name) ? headers[name] : undefined;
    if (value === undefined) {
      throw new GatewayError('INVALID_SIGNATURE', `signed header ${name} is missing from the request`);
    }
    picked[name] = value;
  }
  return picked;
}

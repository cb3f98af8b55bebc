/**
 * An independent SigV4 check for tests, written from the AWS specification ("Create a signed AWS API
 * request"), not from `@smithy/signature-v4`: it recomputes the signature of a request as received on
 * the wire. Path segments are encoded a second time (every service but S3), query pairs are decoded and
 * re-encoded with RFC 3986 rules and sorted, header values are trimmed.
 */
import { createHash, createHmac } from 'node:crypto';

const rfc3986 = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

export interface ReceivedRequest {
  readonly method: string;
  /** The request target as received: path and query, encoded as sent. */
  readonly url: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** Why a signature was refused, or undefined when it verifies. */
export function sigv4Problem(
  request: ReceivedRequest,
  credentials: { accessKeyId: string; secretAccessKey: string },
  service = 'execute-api',
): string | undefined {
  const auth = request.headers['authorization'];
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
      auth ?? '',
    );
  if (!m) return 'no SigV4 Authorization header';
  const [, keyId, day, region, signedService, signedHeaders, signature] = m;
  if (keyId !== credentials.accessKeyId) return 'unknown access key';
  if (signedService !== service) return `service ${signedService}`;
  const amzDate = request.headers['x-amz-date'] ?? '';
  if (!amzDate.startsWith(day!)) return 'x-amz-date does not match the credential scope';
  const names = signedHeaders!.split(';');
  if (!names.includes('host')) return 'host is not signed';
  const queryAt = request.url.indexOf('?');
  const rawPath = queryAt < 0 ? request.url : request.url.slice(0, queryAt);
  const rawQuery = queryAt < 0 ? '' : request.url.slice(queryAt + 1);
  const canonicalUri = rawPath
    .split('/')
    .map((segment) => rfc3986(segment))
    .join('/');
  const canonicalQuery = rawQuery
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const eq = p.indexOf('=');
      const key = decodeURIComponent(eq < 0 ? p : p.slice(0, eq));
      const value = decodeURIComponent(eq < 0 ? '' : p.slice(eq + 1));
      return [rfc3986(key), rfc3986(value)] as const;
    })
    .sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalHeaders = names
    .map((n) => `${n}:${(request.headers[n] ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const canonicalRequest = [
    request.method,
    canonicalUri,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders,
    sha256Hex(request.body),
  ].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const key = hmac(
    hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, day!), region!), service),
    'aws4_request',
  );
  const expected = createHmac('sha256', key).update(stringToSign).digest('hex');
  return expected === signature ? undefined : 'signature does not match';
}

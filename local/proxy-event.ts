/**
 * API Gateway REST (v1) Lambda proxy integration, locally: the event a handler receives and the result it
 * returns. Shapes follow the IAM-authorized sample in ../shared/data/lambda-events/apigw-rest-v1/.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
 */

import { createHash, randomBytes } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { GatewayError } from './gateway-errors.ts';
import type { Role, RouteMatch } from './route-table.ts';

/** The authenticated caller, as IAM would describe the local role's user. */
export interface ProxyCaller {
  readonly role: Role;
  readonly accessKeyId: string;
}

/** Everything the gateway knows about one request once it is routed and authenticated. */
export interface ProxyRequest {
  readonly method: string;
  readonly rawPath: string;
  readonly query: readonly (readonly [string, string])[];
  /** Node's `rawHeaders`: names in their original case, then values, alternating. */
  readonly rawHeaders: readonly string[];
  readonly body: Uint8Array;
  readonly sourceIp: string;
  readonly requestId: string;
  readonly receivedAt: Date;
  readonly match: RouteMatch;
  readonly caller: ProxyCaller;
}

/** The fixed parts of the local API's identity. */
export interface ProxyApi {
  readonly accountId: string;
  readonly apiId: string;
  readonly stage: string;
  readonly port: number;
}

/** A handler result checked and ready to write. */
export interface ProxyResponse {
  readonly statusCode: number;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
}

const MAX_QUERY_PARAMETERS = 256;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The IAM user ARN the local role's credentials belong to. */
export function roleUserArn(accountId: string, role: Role): string {
  return `arn:aws:iam::${accountId}:user/auditseal-${role}`;
}

/**
 * Decodes a raw query string into ordered key/value pairs, as API Gateway does, for the proxy event and
 * for the signature alike: percent-escapes are decoded and `+` is a space (form encoding, which
 * `URLSearchParams` and most HTTP clients write); a literal plus sign is `%2B`. A key without `=` has the
 * value `''`. Rejects undecodable escapes and more than 256 parameters with 400.
 */
export function parseQuery(rawQuery: string): [string, string][] {
  if (rawQuery === '') return [];
  const parts = rawQuery.split('&').filter((part) => part !== '');
  if (parts.length > MAX_QUERY_PARAMETERS) {
    throw new GatewayError('BAD_REQUEST', `at most ${MAX_QUERY_PARAMETERS} query parameters are accepted`);
  }
  return parts.map((part) => {
    const eq = part.indexOf('=');
    const [key, value] = eq < 0 ? [part, ''] : [part.slice(0, eq), part.slice(eq + 1)];
    try {
      return [formDecode(key), formDecode(value)];
    } catch {
      throw new GatewayError('BAD_REQUEST', 'the query string has a malformed percent-escape');
    }
  });
}

function formDecode(text: string): string {
  return decodeURIComponent(text.replaceAll('+', ' '));
}

/** Query pairs as SigV4 canonicalization wants them: one key, one value or all its values. */
export function signingQuery(
  pairs: readonly (readonly [string, string])[],
): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of pairs) {
    const existing = Object.hasOwn(query, key) ? query[key] : undefined;
    setOwn(
      query,
      key,
      existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value],
    );
  }
  return query;
}

/** The REST v1 proxy event for a routed, authenticated request. */
export function proxyEvent(request: ProxyRequest, api: ProxyApi): APIGatewayProxyEvent {
  const { headers, multiValueHeaders } = eventHeaders(request, api);
  const { single, multi } = eventQuery(request.query);
  const resource = request.match.route.path;
  const text = utf8OrUndefined(request.body);
  const userAgent = headerValue(request.rawHeaders, 'user-agent');
  const userId = `AIDA${createHash('sha256').update(request.caller.accessKeyId).digest('hex').slice(0, 17).toUpperCase()}`;
  return {
    resource,
    path: request.rawPath,
    httpMethod: request.method,
    headers,
    multiValueHeaders,
    queryStringParameters: single,
    multiValueQueryStringParameters: multi,
    pathParameters: request.match.pathParameters === null ? null : { ...request.match.pathParameters },
    stageVariables: null,
    requestContext: {
      resourceId: createHash('sha256').update(resource).digest('hex').slice(0, 6),
      resourcePath: resource,
      httpMethod: request.method,
      extendedRequestId: randomBytes(12).toString('base64'),
      requestTime: requestTime(request.receivedAt),
      path: `/${api.stage}${request.rawPath}`,
      accountId: api.accountId,
      protocol: 'HTTP/1.1',
      stage: api.stage,
      domainPrefix: api.apiId,
      requestTimeEpoch: request.receivedAt.getTime(),
      requestId: request.requestId,
      identity: {
        cognitoIdentityPoolId: null,
        accountId: api.accountId,
        cognitoIdentityId: null,
        caller: userId,
        sourceIp: request.sourceIp,
        principalOrgId: null,
        accessKey: request.caller.accessKeyId,
        cognitoAuthenticationType: null,
        cognitoAuthenticationProvider: null,
        userArn: roleUserArn(api.accountId, request.caller.role),
        userAgent: userAgent ?? null,
        user: userId,
        apiKey: null,
        apiKeyId: null,
        clientCert: null,
      },
      domainName: headerValue(request.rawHeaders, 'host') ?? `127.0.0.1:${api.port}`,
      apiId: api.apiId,
      authorizer: undefined,
    },
    body: request.body.length === 0 ? null : (text ?? Buffer.from(request.body).toString('base64')),
    isBase64Encoded: request.body.length > 0 && text === undefined,
  };
}

/**
 * Checks a handler's result the way API Gateway does ("Malformed Lambda proxy response") and turns it into
 * bytes to write. Throws a plain Error when it is malformed.
 */
export function proxyResponse(result: unknown): ProxyResponse {
  if (typeof result !== 'object' || result === null) throw new Error('the handler returned no object');
  const { statusCode, headers, multiValueHeaders, body, isBase64Encoded } = result as Record<string, unknown>;
  if (
    typeof statusCode !== 'number' ||
    !Number.isInteger(statusCode) ||
    statusCode < 100 ||
    statusCode > 599
  ) {
    throw new Error('the handler returned no valid statusCode');
  }
  if (body !== undefined && body !== null && typeof body !== 'string')
    throw new Error('body must be a string');
  if (isBase64Encoded !== undefined && typeof isBase64Encoded !== 'boolean') {
    throw new Error('isBase64Encoded must be a boolean');
  }
  const pairs: [string, string][] = [];
  for (const [name, value] of entries(headers, 'headers')) pairs.push([name, headerText(name, value)]);
  for (const [name, values] of entries(multiValueHeaders, 'multiValueHeaders')) {
    if (!Array.isArray(values)) throw new Error(`multiValueHeaders.${name} must be an array`);
    for (const value of values) pairs.push([name, headerText(name, value)]);
  }
  const text = typeof body === 'string' ? body : '';
  return {
    statusCode,
    headers: pairs,
    body: isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8'),
  };
}

function entries(value: unknown, name: string): [string, unknown][] {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`${name} must be an object`);
  return Object.entries(value);
}

function headerText(name: string, value: unknown): string {
  if (!TOKEN.test(name)) throw new Error('a header name is not a token');
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
    throw new Error(`header ${name} must be a string, number or boolean`);
  }
  const text = String(value);
  // What Node's http module accepts in a header value: no control characters, nothing beyond Latin-1.
  if (/[^\t\x20-\x7e\x80-\xff]/.test(text))
    throw new Error(`header ${name} has a character HTTP cannot carry`);
  return text;
}

function eventHeaders(
  request: ProxyRequest,
  api: ProxyApi,
): { headers: Record<string, string>; multiValueHeaders: Record<string, string[]> } {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  const names = new Map<string, string>();
  const add = (rawName: string, value: string) => {
    const lower = rawName.toLowerCase();
    const name = names.get(lower) ?? rawName;
    names.set(lower, name);
    setOwn(headers, name, value);
    const values = Object.hasOwn(multiValueHeaders, name) ? multiValueHeaders[name]! : [];
    setOwn(multiValueHeaders, name, [...values, value]);
  };
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    // As in the IAM-authorized sample event: the signature itself is not passed on.
    if (request.rawHeaders[i]!.toLowerCase() === 'authorization') continue;
    add(request.rawHeaders[i]!, request.rawHeaders[i + 1]!);
  }
  // Added by API Gateway in front of every integration.
  add('X-Forwarded-For', request.sourceIp);
  add('X-Forwarded-Port', String(api.port));
  add('X-Forwarded-Proto', 'http');
  add(
    'X-Amzn-Trace-Id',
    `Root=1-${Math.floor(request.receivedAt.getTime() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`,
  );
  return { headers, multiValueHeaders };
}

function eventQuery(pairs: readonly (readonly [string, string])[]): {
  single: Record<string, string> | null;
  multi: Record<string, string[]> | null;
} {
  if (pairs.length === 0) return { single: null, multi: null };
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [key, value] of pairs) {
    setOwn(single, key, value);
    setOwn(multi, key, [...(Object.hasOwn(multi, key) ? multi[key]! : []), value]);
  }
  return { single, multi };
}

/** Defines an own property even for keys such as `__proto__`, like JSON.parse does. */
function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function headerValue(rawHeaders: readonly string[], lowerName: string): string | undefined {
  let found: string | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === lowerName) found = rawHeaders[i + 1];
  }
  return found;
}

function utf8OrUndefined(body: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    return undefined;
  }
}

/** `17/Jun/2024:14:58:25 +0000`, as in `requestContext.requestTime`. */
function requestTime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

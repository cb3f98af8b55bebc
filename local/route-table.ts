/**
 * The local gateway's routes: API Gateway resource paths (`/v1/events/{id}`, `/{proxy+}`) bound to Lambda
 * proxy handlers and to the roles allowed to call them.
 */

import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { GatewayError } from './gateway-errors.ts';

/** The three IAM roles of the API (G7). */
export type Role = 'writer' | 'reader' | 'auditor';

export const ROLES: readonly Role[] = ['writer', 'reader', 'auditor'];

/** A Lambda handler behind an API Gateway REST proxy integration. */
export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** One API route. */
export interface Route {
  readonly method: string;
  /** API Gateway resource path: literal segments, `{name}` for one segment, `{name+}` for the rest. */
  readonly path: string;
  /** The role, or roles, whose credentials may call it. */
  readonly role: Role | readonly Role[];
  readonly handler: ProxyHandler;
  /** The Lambda function's name, for the context and logs; default derived from method and path. */
  readonly functionName?: string;
  /**
   * The function's timeout in ms (Lambda's, as deployed). The gateway answers 504 once the shorter of
   * this and its own integration timeout (29 s) has passed; default the integration timeout.
   */
  readonly timeoutMs?: number;
}

/** A matched route with its decoded path parameters. */
export interface RouteMatch {
  readonly route: Route;
  readonly roles: ReadonlySet<Role>;
  readonly functionName: string;
  readonly pathParameters: Record<string, string> | null;
}

type Segment =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'greedy'; readonly name: string };

interface CompiledRoute {
  readonly route: Route;
  readonly roles: ReadonlySet<Role>;
  readonly functionName: string;
  readonly method: string;
  readonly segments: readonly Segment[];
}

const PARAM = /^\{([A-Za-z_][A-Za-z0-9_]*)(\+?)\}$/;

/** Routes compiled once; `match` answers 404 or 405 as a `GatewayError`. */
export class RouteTable {
  readonly #routes: readonly CompiledRoute[];

  constructor(routes: readonly Route[]) {
    const seen = new Set<string>();
    this.#routes = routes.map((route) => {
      const compiled = compile(route);
      const key = `${compiled.method} ${compiled.segments.map((s) => (s.kind === 'literal' ? s.value : '{}')).join('/')}`;
      if (seen.has(key)) throw new TypeError(`duplicate route ${route.method} ${route.path}`);
      seen.add(key);
      return compiled;
    });
  }

  /**
   * The route for a method and a raw (still percent-encoded) path.
   * @example table.match('GET', '/v1/events/abc%20d') // pathParameters { id: 'abc d' }
   */
  match(method: string, rawPath: string): RouteMatch {
    const segments = splitPath(rawPath);
    let pathMatched = false;
    const allowed = new Set<string>();
    for (const compiled of this.#routes) {
      const pathParameters = matchSegments(compiled.segments, segments);
      if (pathParameters === undefined) continue;
      pathMatched = true;
      allowed.add(compiled.method);
      if (compiled.method === method) {
        return {
          route: compiled.route,
          roles: compiled.roles,
          functionName: compiled.functionName,
          pathParameters: Object.keys(pathParameters).length === 0 ? null : pathParameters,
        };
      }
    }
    if (!pathMatched) throw new GatewayError('NOT_FOUND', `no route for ${rawPath.slice(0, 200)}`);
    const allow = [...allowed].sort().join(', ');
    throw new GatewayError('METHOD_NOT_ALLOWED', `${method} is not allowed here; use ${allow}`, {
      headers: { allow },
    });
  }
}

function compile(route: Route): CompiledRoute {
  if (!route.path.startsWith('/')) throw new TypeError(`route path must start with /: ${route.path}`);
  const segments: Segment[] = route.path
    .split('/')
    .slice(1)
    .filter((part, index, all) => !(part === '' && index === all.length - 1))
    .map((part, index, all) => {
      const param = PARAM.exec(part);
      if (param === null) {
        if (part === '' || part.includes('{') || part.includes('}')) {
          throw new TypeError(`bad segment "${part}" in route ${route.path}`);
        }
        return { kind: 'literal', value: part };
      }
      if (param[1] === '__proto__') throw new TypeError(`bad parameter name in route ${route.path}`);
      if (param[2] === '+' && index !== all.length - 1) {
        throw new TypeError(`a greedy parameter must be last in route ${route.path}`);
      }
      return { kind: param[2] === '+' ? 'greedy' : 'param', name: param[1]! };
    });
  const roles = new Set(typeof route.role === 'string' ? [route.role] : route.role);
  if (roles.size === 0) throw new TypeError(`route ${route.method} ${route.path} allows no role`);
  const method = route.method.toUpperCase();
  const functionName =
    route.functionName ??
    `auditseal-${method.toLowerCase()}${route.path.replace(/[{}+]/g, '').replace(/[^A-Za-z0-9]+/g, '-')}`.replace(
      /-+$/,
      '',
    );
  return { route, roles, functionName, method, segments };
}

/**
 * Splits a raw path into decoded segments. Dot segments, empty segments and undecodable escapes match no
 * route: the signature canonicalization would normalize them away, and the route must not differ from it.
 */
function splitPath(rawPath: string): string[] {
  if (rawPath === '/') return [];
  const parts = rawPath.split('/').slice(1);
  if (parts.at(-1) === '') parts.pop();
  return parts.map((part) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(part);
    } catch {
      throw new GatewayError('NOT_FOUND', 'the path has a malformed percent-escape');
    }
    if (part === '' || decoded === '.' || decoded === '..' || decoded.includes('/')) {
      throw new GatewayError('NOT_FOUND', 'the path has an empty, dot or encoded-slash segment');
    }
    return decoded;
  });
}

function matchSegments(
  pattern: readonly Segment[],
  segments: readonly string[],
): Record<string, string> | undefined {
  const parameters: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const segment = pattern[i]!;
    if (segment.kind === 'greedy') {
      if (i >= segments.length) return undefined;
      parameters[segment.name] = segments.slice(i).join('/');
      return parameters;
    }
    const actual = segments[i];
    if (actual === undefined) return undefined;
    if (segment.kind === 'literal') {
      if (segment.value !== actual) return undefined;
    } else {
      parameters[segment.name] = actual;
    }
  }
  return segments.length === pattern.length ? parameters : undefined;
}

/**
 * Request bodies for the ingest benchmark: realistic app events as a producer sends them to
 * `POST /v1/events` (no `v`, `receivedAt` or `channel`: the server adds those), about 1 KiB each, with a
 * unique id per event across the whole process, and API Gateway REST proxy events that carry them.
 *
 * A pool of distinct event bodies is built once from a seeded PRNG; each request takes bodies from the
 * pool and gives every event a fresh id and eventTime, then serializes the request body with
 * JSON.stringify, as a client would. All of that is client work and happens before any timing.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { sharedDataPath } from '../test/support/shared-data.ts';
import { prng } from './synthetic-events.ts';

const ACCOUNT = '123456789012';
const ROLES = [
  'PlatformAdmin',
  'SecurityAudit',
  'DeployPipeline',
  'OnCallEngineer',
  'ReadOnly',
  'BreakGlass',
];
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy'];
const ACTIONS: readonly (readonly [action: string, resourceType: string, arnPrefix: string])[] = [
  ['ssm:StartSession', 'AWS::EC2::Instance', `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/i-`],
  ['ssh.login', 'AWS::EC2::Instance', `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/i-`],
  ['db.connect', 'AWS::RDS::DBInstance', `arn:aws:rds:eu-west-1:${ACCOUNT}:db:orders-`],
  ['k8s.exec', 'AWS::EKS::Cluster', `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/prod-`],
  ['secrets.read', 'AWS::SecretsManager::Secret', `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:app-`],
  ['vault.unseal', 'AWS::EC2::Instance', `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/i-`],
];
const COMMANDS = [
  'sudo systemctl restart nginx && journalctl -u nginx --since "10 min ago" --no-pager | tail -n 200',
  'kubectl -n payments exec -it deploy/api -- /bin/sh -c "env | grep -v SECRET; ps aux"',
  'psql "host=orders-db.internal dbname=orders user=readonly sslmode=verify-full" -c "\\dt+"',
  'aws secretsmanager get-secret-value --secret-id app/prod/stripe --query SecretString',
];
const USER_AGENTS = [
  'aws-cli/2.17.12 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.11.8',
  'aws-sdk-js/3.654.0 ua/2.1 os/linux lang/js md/nodejs#20.17.0 api/ssm#3.654.0',
  'auditseal-agent/1.4.2 (linux; amd64) go1.23.1',
];
const ERRORS = ['AccessDenied', 'SessionExpired', 'MfaRequired'];

const HEX = '0123456789abcdef';

function hex(rand: () => number, digits: number): string {
  let out = '';
  for (let i = 0; i < digits; i++) out += HEX[Math.floor(rand() * 16)];
  return out;
}

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

/** One app event body without id and eventTime, which every request sets afresh. */
function poolEvent(rand: () => number): Record<string, unknown> {
  const role = pick(rand, ROLES);
  const user = pick(rand, USERS);
  const [action, resourceType, arnPrefix] = pick(rand, ACTIONS);
  const failed = rand() < 0.07;
  const suffix = hex(rand, 17);
  const ticket = 100_000 + Math.floor(rand() * 900_000);
  return {
    actor: {
      id: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${user}@example.com`,
      type: 'role',
      authMethod: 'sigv4',
      mfa: rand() < 0.8,
      sessionId: `${user}@example.com-${hex(rand, 16)}`,
      accountId: ACCOUNT,
    },
    action,
    resource: { id: `${arnPrefix}${suffix}`, type: resourceType, name: `prod-${suffix.slice(0, 6)}` },
    outcome: failed
      ? { result: 'failure', errorCode: pick(rand, ERRORS), errorMessage: `${user} may not ${action} here` }
      : { result: 'success' },
    sourceIp: `10.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}.${1 + Math.floor(rand() * 254)}`,
    userAgent: pick(rand, USER_AGENTS),
    requestId: `${hex(rand, 8)}-${hex(rand, 4)}-4${hex(rand, 3)}-a${hex(rand, 3)}-${hex(rand, 12)}`,
    endpoint: 'vpce-0a1b2c3d4e5f60718.execute-api.eu-west-1.vpce.amazonaws.com',
    tags: { environment: 'production', team: 'platform', costCenter: `cc-${10 + Math.floor(rand() * 90)}` },
    labels: ['privileged', failed ? 'denied' : 'allowed'],
    details: {
      reason: `change ticket CHG-${ticket}`,
      approvedBy: `${pick(rand, USERS)}@example.com`,
      session: {
        target: `i-${suffix}`,
        document: 'AWS-StartInteractiveCommand',
        durationLimitSeconds: 3600,
        shell: '/bin/bash',
      },
      command: pick(rand, COMMANDS),
    },
  };
}

/** Builds request bodies of app events with ids unique across this process. */
export class AppEvents {
  readonly #pool: Record<string, unknown>[] = [];
  readonly #prefix: string;
  #next = 0;

  constructor(seed = 7, poolSize = 512) {
    const rand = prng(seed);
    for (let i = 0; i < poolSize; i++) this.#pool.push(poolEvent(rand));
    // A per-process prefix keeps ids unique across runs that share a table (the end-to-end part).
    this.#prefix = `bench-${Date.now().toString(36)}-${hex(prng(Date.now() % 2 ** 31), 4)}`;
  }

  /** `count` new events (fresh ids, eventTime a little before now). */
  events(count: number, nowMs = Date.now()): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (let i = 0; i < count; i++) {
      const n = this.#next++;
      const base = this.#pool[n % this.#pool.length]!;
      out.push({
        id: `${this.#prefix}-${n.toString(36).padStart(7, '0')}`,
        eventTime: new Date(nowMs - (n % 2000)).toISOString(),
        ...base,
      });
    }
    return out;
  }

  /** The JSON body of one `POST /v1/events` request with `count` new events. */
  body(count: number): string {
    return JSON.stringify({ events: this.events(count) });
  }
}

const SAMPLE = 'lambda-events/apigw-rest-v1/powertools-ts_iam-auth.json';

/**
 * API Gateway REST (v1 payload) events for `POST /v1/events`, built on a real IAM-auth sample (its
 * identity and headers are kept), with a JSON body string, as API Gateway hands them to the function.
 */
export class ApiGatewayEvents {
  readonly #sample: APIGatewayProxyEvent;
  readonly #headers: Record<string, string>;

  constructor() {
    this.#sample = JSON.parse(readFileSync(sharedDataPath(SAMPLE), 'utf8')) as APIGatewayProxyEvent;
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(this.#sample.headers ?? {})) {
      if (key.toLowerCase() !== 'content-type' && value !== undefined) headers[key] = value;
    }
    headers['Content-Type'] = 'application/json';
    this.#headers = headers;
  }

  /** One invocation's event for `body`. */
  post(body: string): APIGatewayProxyEvent {
    const sample = this.#sample;
    const headers = { ...this.#headers, 'Content-Length': String(Buffer.byteLength(body)) };
    return {
      ...sample,
      resource: '/v1/events',
      path: '/v1/events',
      httpMethod: 'POST',
      headers,
      multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
      requestContext: {
        ...sample.requestContext,
        resourcePath: '/v1/events',
        httpMethod: 'POST',
        path: '/prod/v1/events',
        requestId: randomUUID(),
        requestTimeEpoch: Date.now(),
      },
      body,
      isBase64Encoded: false,
    };
  }
}

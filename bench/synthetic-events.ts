/**
 * Synthetic audit events for benchmarks: realistic stored events (`v: 1`, `channel: 'api'`) of about
 * 1 KiB canonical size, produced lazily so that a million of them never sit in memory at once.
 * Deterministic: the same seed and count give the same bytes.
 */
import { canonicalBytes } from '../shared/canonical/jcs.ts';
import type { AuditEvent } from '../shared/events/audit-event.ts';
import type { SealableEvent } from '../shared/ledger/archive-chunk.ts';
import type { Period } from '../shared/ledger/period.ts';

/** The one period every benchmark run seals: one hour from 2026-03-02T10:00:00Z. */
export const BENCH_PERIOD: Period = { startMs: Date.UTC(2026, 2, 2, 10), seconds: 3600 };
export const BENCH_LEDGER = 'bench';

/** Canonical size every synthetic event is padded to, in bytes (the archive line adds one newline). */
export const TARGET_EVENT_BYTES = 1024;

const ACCOUNT = '123456789012';
const ROLES = [
  'PlatformAdmin',
  'SecurityAudit',
  'DeployPipeline',
  'OnCallEngineer',
  'ReadOnly',
  'BreakGlass',
];
const USERS = [
  'alice',
  'bob',
  'carol',
  'dave',
  'erin',
  'frank',
  'grace',
  'heidi',
  'ivan',
  'judy',
  'mallory',
  'oscar',
];
const ACTIONS: readonly (readonly [action: string, resourceType: string, arnPrefix: string])[] = [
  ['ssm:StartSession', 'AWS::EC2::Instance', `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/i-`],
  [
    'ec2:AuthorizeSecurityGroupIngress',
    'AWS::EC2::SecurityGroup',
    `arn:aws:ec2:eu-west-1:${ACCOUNT}:security-group/sg-`,
  ],
  ['iam:CreateAccessKey', 'AWS::IAM::User', `arn:aws:iam::${ACCOUNT}:user/svc-`],
  ['rds:ModifyDBInstance', 'AWS::RDS::DBInstance', `arn:aws:rds:eu-west-1:${ACCOUNT}:db:orders-`],
  ['kms:Decrypt', 'AWS::KMS::Key', `arn:aws:kms:eu-west-1:${ACCOUNT}:key/`],
  ['s3:GetObject', 'AWS::S3::Object', 'arn:aws:s3:::audit-exports/report-'],
  ['eks:AccessKubernetesApi', 'AWS::EKS::Cluster', `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/prod-`],
  ['sts:AssumeRole', 'AWS::IAM::Role', `arn:aws:iam::${ACCOUNT}:role/Deploy-`],
];
const USER_AGENTS = [
  'aws-cli/2.17.12 md/awscrt#0.20.11 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard',
  'aws-sdk-js/3.654.0 ua/2.1 os/linux#5.10.225-213.878.amzn2.x86_64 lang/js md/nodejs#20.17.0 api/ssm#3.654.0',
  'Boto3/1.35.24 md/Botocore#1.35.24 ua/2.0 os/linux#6.1.0 md/arch#aarch64 lang/python#3.12.6 md/pyimpl#CPython',
  'terraform-provider-aws/5.68.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.31.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15',
];
const ERRORS = ['AccessDenied', 'ThrottlingException', 'ValidationException', 'UnauthorizedOperation'];
// Padding alphabet: ASCII that JSON never escapes, so the padding adds exactly its length in bytes.
const PAD_SOURCE = Array.from(
  { length: 2048 },
  (_, i) => 'abcdefghijklmnopqrstuvwxyz0123456789'[(i * 7919 + 13) % 36],
).join('');

/** Small deterministic PRNG (mulberry32); benchmarks need variety, not cryptographic randomness. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const HEX = '0123456789abcdef';

function hex(rand: () => number, digits: number): string {
  let out = '';
  for (let i = 0; i < digits; i++) out += HEX[Math.floor(rand() * 16)];
  return out;
}

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

/** Width of the per-event counter inside event ids: 36^7 ≈ 7.8e10 distinct ids. */
const COUNTER_DIGITS = 7;
const ISO_LENGTH = '2026-03-02T10:00:00.000Z'.length;

/** One distinct event body; the per-event members are filled in later. */
interface Template {
  readonly event: AuditEvent;
  readonly bytes: Buffer;
  readonly lagMs: number;
  /** Byte offsets of the counter in the id, and of the eventTime and receivedAt values. */
  readonly idAt: number;
  readonly eventTimeAt: number;
  readonly receivedAtAt: number;
}

function templateEvent(rand: () => number): { event: AuditEvent; lagMs: number } {
  const role = pick(rand, ROLES);
  const user = pick(rand, USERS);
  const [action, resourceType, arnPrefix] = pick(rand, ACTIONS);
  const failed = rand() < 0.07;
  const resourceSuffix = hex(rand, 17);
  const placeholderTime = new Date(0).toISOString();
  const event: AuditEvent = {
    v: 1,
    channel: 'api',
    id: `evt-${'0'.repeat(COUNTER_DIGITS)}-${hex(rand, 12)}`,
    eventTime: placeholderTime,
    receivedAt: placeholderTime,
    actor: {
      id: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${user}@example.com`,
      type: 'role',
      authMethod: 'sigv4',
      mfa: rand() < 0.8,
      sessionId: `${user}@example.com-${hex(rand, 16)}`,
      accountId: ACCOUNT,
    },
    action,
    resource: {
      id: `${arnPrefix}${resourceSuffix}`,
      type: resourceType,
      name: `${resourceType.split('::')[2]}-${resourceSuffix.slice(0, 6)}`,
    },
    outcome: failed
      ? {
          result: 'failure',
          errorCode: pick(rand, ERRORS),
          errorMessage: `User is not authorized to perform: ${action}`,
        }
      : { result: 'success' },
    sourceIp: `10.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}.${1 + Math.floor(rand() * 254)}`,
    userAgent: pick(rand, USER_AGENTS),
    requestId: `${hex(rand, 8)}-${hex(rand, 4)}-4${hex(rand, 3)}-a${hex(rand, 3)}-${hex(rand, 12)}`,
    endpoint: 'vpce-0a1b2c3d4e5f60718.execute-api.eu-west-1.vpce.amazonaws.com',
    tags: { environment: 'production', team: 'platform', costCenter: `cc-${Math.floor(rand() * 90) + 10}` },
    labels: ['privileged', failed ? 'denied' : 'allowed'],
    details: { reason: `change ticket CHG-${100000 + Math.floor(rand() * 900000)}`, padding: '' },
  };
  return { event, lagMs: Math.floor(rand() * 2000) };
}

/** Pads `event.details.padding` to make the canonical form `target` bytes (no padding if already larger). */
function padTo(event: AuditEvent, target: number, offset: number): AuditEvent {
  const size = canonicalBytes(event).length;
  const start = offset % (PAD_SOURCE.length - target);
  const padding = PAD_SOURCE.slice(start, start + Math.max(0, target - size));
  return { ...event, details: { ...(event.details as Record<string, string>), padding } };
}

function offsetAfter(text: string, prefix: string): number {
  const at = text.indexOf(prefix);
  if (at === -1 || text.indexOf(prefix, at + 1) !== -1)
    throw new Error(`template needs exactly one ${prefix}`);
  return at + prefix.length;
}

/**
 * Lazily produces `count` stored events of ~TARGET_EVENT_BYTES canonical bytes, with `receivedAt` ascending
 * through `period`. A pool of distinct bodies is canonicalized with `canonicalBytes` once; each event then
 * gets its own id, eventTime and receivedAt written at fixed offsets of a copy. That keeps generation cheap
 * next to the sealing it feeds, and is exact because those members have fixed-length ASCII values and JCS
 * member order does not depend on values: `eventObject(i)` canonicalizes to exactly `eventBytes(i)`.
 */
export class SyntheticEvents implements Iterable<SealableEvent> {
  private readonly templates: Template[] = [];

  constructor(
    readonly count: number,
    readonly period: Period,
    seed = 1,
    poolSize = 4096,
  ) {
    const rand = prng(seed);
    for (let t = 0; t < Math.min(poolSize, count); t++) {
      const { event: raw, lagMs } = templateEvent(rand);
      const event = padTo(raw, TARGET_EVENT_BYTES, t);
      const bytes = Buffer.from(canonicalBytes(event));
      const text = bytes.toString('latin1');
      this.templates.push({
        event,
        bytes,
        lagMs,
        idAt: offsetAfter(text, '"id":"evt-'),
        eventTimeAt: offsetAfter(text, '"eventTime":"'),
        receivedAtAt: offsetAfter(text, '"receivedAt":"'),
      });
    }
  }

  private fields(i: number): { template: Template; counter: string; eventTime: string; receivedAt: string } {
    const template = this.templates[i % this.templates.length]!;
    const receivedMs = this.period.startMs + Math.floor((i * this.period.seconds * 1000) / this.count);
    return {
      template,
      counter: i.toString(36).padStart(COUNTER_DIGITS, '0'),
      eventTime: new Date(Math.max(this.period.startMs, receivedMs - template.lagMs)).toISOString(),
      receivedAt: new Date(receivedMs).toISOString(),
    };
  }

  /** Event `i` as an object, for cross-checking the fast path against canonicalBytes and the schema. */
  eventObject(i: number): AuditEvent {
    const { template, counter, eventTime, receivedAt } = this.fields(i);
    const id = `evt-${counter}${template.event.id.slice(4 + COUNTER_DIGITS)}`;
    return { ...template.event, id, eventTime, receivedAt };
  }

  /** Canonical bytes of event `i` (a fresh buffer) and its id. */
  event(i: number): SealableEvent & { receivedAt: string } {
    const { template, counter, eventTime, receivedAt } = this.fields(i);
    if (
      counter.length !== COUNTER_DIGITS ||
      eventTime.length !== ISO_LENGTH ||
      receivedAt.length !== ISO_LENGTH
    ) {
      throw new RangeError(`event ${i} does not fit the fixed-width members`);
    }
    const bytes = Buffer.allocUnsafe(template.bytes.length);
    template.bytes.copy(bytes);
    bytes.write(counter, template.idAt, 'latin1');
    bytes.write(eventTime, template.eventTimeAt, 'latin1');
    bytes.write(receivedAt, template.receivedAtAt, 'latin1');
    const idStart = template.idAt - 4;
    return { id: bytes.toString('latin1', idStart, bytes.indexOf(0x22, idStart)), bytes, receivedAt };
  }

  *[Symbol.iterator](): Generator<SealableEvent & { receivedAt: string }> {
    for (let i = 0; i < this.count; i++) yield this.event(i);
  }
}

/**
 * Kubernetes API server audit events (`audit.k8s.io/v1` and `v1beta1` Event objects) to audit events. The
 * original Event is kept verbatim in `kubernetes`; the other members are a searchable projection of it.
 * Reference: https://kubernetes.io/docs/reference/config-api/apiserver-audit.v1/ (Event, ObjectReference).
 * The mapping table is in docs/DETECTIONS.md ("Kubernetes audit events").
 *
 * | Event | audit event |
 * | --- | --- |
 * | `auditID` (+ stage) | `id`: `k8s:<auditID>` for ResponseComplete, `k8s:<auditID>:<stage>` for other stages |
 * | `requestReceivedTimestamp` (else `timestamp`, else `stageTimestamp`) | `eventTime` |
 * | `user.username`, `user.groups`, `user.extra` | `actor` (groups in `details.groups`) |
 * | `verb` (+ `objectRef.subresource`) | `action`: `get`, `create/exec` |
 * | `objectRef` + cluster ARN | `resource`: id `<clusterArn>/api[s/<group>]/[namespaces/<ns>/]<resource>[/<name>]` |
 * | `responseStatus.code` | `outcome`: failure from 400 up, errorCode the code |
 * | `sourceIPs[0]` | `sourceIp` |
 *
 * The cluster ARN is not in the Event: the caller gives it (from the CloudWatch Logs log group, or from
 * configuration; see `eksClusterArnFromLogGroup`).
 */
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { canonicalBytes } from '../canonical/jcs.ts';
import {
  type ActorType,
  type AuditEventInput,
  EVENT_ID_PATTERN,
  MAX_EVENT_ID_LENGTH,
  parseAuditEventInput,
} from './audit-event.ts';
import { type EventErrorCode, EventValidationError } from './errors.ts';
import { assertSafeJson, isPlainObject, type JsonObject } from './json-guard.ts';
import { formatJsonPath } from './json-path.ts';
import type { JsonLimits } from './limits.ts';
import { isRfc3339 } from './rfc3339.ts';
import { isSourceAddress, MAX_HOSTNAME_LENGTH } from './source-address.ts';

/** Prefix of the event id of every Kubernetes-derived event: `k8s:<auditID>`. */
export const KUBERNETES_ID_PREFIX = 'k8s:';
/** The Event versions taken in. Falco's captured traces omit `apiVersion`; such Events are taken too. */
export const KUBERNETES_AUDIT_API_VERSIONS = ['audit.k8s.io/v1', 'audit.k8s.io/v1beta1'] as const;
export const KUBERNETES_AUDIT_STAGES = [
  'RequestReceived',
  'ResponseStarted',
  'ResponseComplete',
  'Panic',
] as const;
export type KubernetesAuditStage = (typeof KUBERNETES_AUDIT_STAGES)[number];
/** Stages after which nothing more is logged for a request. */
const FINAL_STAGES: ReadonlySet<string> = new Set(['ResponseComplete', 'Panic']);

/**
 * An event input carrying its verbatim Kubernetes Event (the schema's `kubernetes` member), or, for an
 * Event beyond the stored-event limits, its projection with `details.kubernetesOmitted` instead.
 */
export type KubernetesEventInput = AuditEventInput & { kubernetes?: JsonObject };

/**
 * Stored-event limits an otherwise valid Event can exceed (a large `requestObject`, a ConfigMap with more
 * than 256 keys…). Such an Event is kept as its projection, without the verbatim member, and says so in
 * `details.kubernetesOmitted` (docs/DETECTIONS.md §7, "Events beyond the stored-event limits").
 */
export const OMITTED_SIZE_CODES: ReadonlySet<EventErrorCode> = new Set([
  'TOO_LARGE',
  'STRING_TOO_LONG',
  'TOO_MANY_KEYS',
  'ARRAY_TOO_LONG',
  'TOO_DEEP',
  'KEY_TOO_LONG',
]);

/** What stands in for an Event too large to keep verbatim: why, and what it was (JCS SHA-256 and size). */
export interface KubernetesOmission {
  readonly reason: string;
  /** Hex SHA-256 of the RFC 8785 canonical form of the Event, so the original can be matched later. */
  readonly sha256: string;
  /** Size in bytes of that canonical form. */
  readonly bytes: number;
}

/**
 * The bounds an Event must meet to be read at all (before mapping). They refuse hostile input (forbidden
 * keys, lone surrogates, unsafe integers, absurd sizes); the stored-event limits are checked afterwards.
 * A log event message is at most 1 MiB of UTF-16 code units (`cloudwatch-logs.ts`), so 4 MiB of UTF-8.
 */
const READABLE_LIMITS: JsonLimits = Object.freeze({
  maxDepth: 100,
  maxStringLength: 1_048_576,
  maxObjectKeys: 100_000,
  maxArrayLength: 100_000,
  maxKeyLength: 1_048_576,
  maxTotalBytes: 4 * 1_048_576,
});

/** Why a Kubernetes audit Event was not turned into an audit event. */
export type KubernetesRejectReason =
  | 'NOT_AN_EVENT'
  | 'UNSAFE_JSON'
  | 'UNSUPPORTED_API_VERSION'
  | 'MISSING_AUDIT_ID'
  | 'BAD_AUDIT_ID'
  | 'BAD_STAGE'
  | 'MISSING_EVENT_TIME'
  | 'BAD_EVENT_TIME'
  | 'MISSING_VERB'
  | 'MISSING_USER'
  | 'NO_OUTCOME'
  | 'BAD_CLUSTER_ARN'
  | 'INVALID_MAPPED_FIELD';

/** Raised when an Event cannot be mapped; `reason` says why, `path` where (messages never echo values). */
export class KubernetesMappingError extends EventValidationError {
  override readonly name = 'KubernetesMappingError';
  constructor(
    readonly reason: KubernetesRejectReason,
    path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('UNSUPPORTED_RECORD', path, message, options);
  }
}

/** What the Event does not say: the cluster it comes from. */
export interface KubernetesContext {
  /** `arn:aws:eks:<region>:<account>:cluster/<name>` (or any cluster ARN the operator configures). */
  readonly clusterArn: string;
}

const CLUSTER_ARN = /^arn:aws[a-z-]*:eks:[a-z0-9-]{1,32}:\d{12}:cluster\/[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;
const EKS_LOG_GROUP = /^\/aws\/eks\/([A-Za-z0-9][A-Za-z0-9_-]{0,99})\/cluster$/;
/** Log streams of an EKS control-plane log group that carry API server audit events. */
export const EKS_AUDIT_STREAM_PREFIX = 'kube-apiserver-audit-';

/** True for a cluster ARN as `KubernetesContext` takes it. */
export function isClusterArn(value: string): boolean {
  return CLUSTER_ARN.test(value);
}

/**
 * The ARN of the EKS cluster whose control-plane log group is `logGroup` (`/aws/eks/<name>/cluster`), in
 * `account` and `region` (a subscription delivers within its region), or undefined for another group.
 */
export function eksClusterArnFromLogGroup(
  logGroup: string,
  account: string,
  region: string,
  partition = 'aws',
): string | undefined {
  const m = EKS_LOG_GROUP.exec(logGroup);
  if (m === null) return undefined;
  const arn = `arn:${partition}:eks:${region}:${account}:cluster/${m[1]}`;
  return isClusterArn(arn) ? arn : undefined;
}

/**
 * The resource id of what `objectRef` names, in the cluster: the object's API path without the version,
 * under the cluster ARN, so that one object keeps one id across API versions. Examples:
 * `<arn>/api/namespaces/default/pods/nginx`, `<arn>/apis/apps/namespaces/web/deployments/api`,
 * `<arn>/apis/rbac.authorization.k8s.io/clusterroles/admin`, `<arn>/api/namespaces/foo`.
 * `/` and `%` in a segment are percent-encoded (valid Kubernetes names have neither), so ids stay unambiguous.
 */
export function kubernetesResourceId(clusterArn: string, objectRef: KubernetesObjectRef): string {
  const seg = (s: string) => s.replace(/[%/]/g, (c) => encodeURIComponent(c));
  const group = objectRef.apiGroup ? `apis/${seg(objectRef.apiGroup)}` : 'api';
  const isNamespaceObject = !objectRef.apiGroup && objectRef.resource === 'namespaces';
  const namespace =
    objectRef.namespace && !isNamespaceObject ? `/namespaces/${seg(objectRef.namespace)}` : '';
  const name = objectRef.name ? `/${seg(objectRef.name)}` : '';
  return `${clusterArn}/${group}${namespace}/${seg(objectRef.resource)}${name}`;
}

/** The `objectRef` members the mapping uses. */
export interface KubernetesObjectRef {
  readonly resource: string;
  readonly apiGroup?: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: string;
}

/**
 * Maps one Event. Throws `KubernetesMappingError` (with `reason`). The result is checked against the
 * event schema and the stored-event limits in one pass; an Event beyond those limits (but readable) is
 * kept as its projection, with `details.kubernetesOmitted` (`OMITTED_SIZE_CODES`).
 */
export function fromKubernetesAuditEvent(event: unknown, context: KubernetesContext): KubernetesEventInput {
  if (!isClusterArn(context.clusterArn)) {
    throw new KubernetesMappingError('BAD_CLUSTER_ARN', '$', 'the cluster ARN is not an EKS cluster ARN');
  }
  guard(event, '$', READABLE_LIMITS);
  if (!isPlainObject(event) || event['kind'] !== 'Event') {
    throw new KubernetesMappingError(
      'NOT_AN_EVENT',
      '$.kind',
      'not a Kubernetes audit Event (kind must be "Event")',
    );
  }
  const apiVersion = event['apiVersion'];
  if (
    apiVersion !== undefined &&
    !(KUBERNETES_AUDIT_API_VERSIONS as readonly unknown[]).includes(apiVersion)
  ) {
    throw reject(
      'UNSUPPORTED_API_VERSION',
      'apiVersion',
      `apiVersion must be ${KUBERNETES_AUDIT_API_VERSIONS.join(' or ')}`,
    );
  }
  const stage = event['stage'];
  if (typeof stage !== 'string' || !(KUBERNETES_AUDIT_STAGES as readonly string[]).includes(stage)) {
    throw reject('BAD_STAGE', 'stage', `stage must be one of ${KUBERNETES_AUDIT_STAGES.join(', ')}`);
  }
  const id = eventIdOf(event['auditID'], stage as KubernetesAuditStage);
  const eventTime = eventTimeOf(event);
  const verb = str(event['verb']);
  if (verb === undefined) throw reject('MISSING_VERB', 'verb', 'the Event has no verb');
  const user = event['user'];
  if (!isPlainObject(user) || str(user['username']) === undefined) {
    throw reject('MISSING_USER', 'user.username', 'the Event has no user.username');
  }
  const objectRef = objectRefOf(event['objectRef']);

  const mapped: Record<string, unknown> = {
    id,
    eventTime,
    actor: actorOf(user),
    action: objectRef?.subresource ? `${verb}/${objectRef.subresource}` : verb,
    resource: objectRef
      ? {
          id: kubernetesResourceId(context.clusterArn, objectRef),
          type: `Kubernetes::${objectRef.apiGroup || 'core'}::${objectRef.resource}`,
          ...(objectRef.name ? { name: objectRef.name } : {}),
        }
      : { id: context.clusterArn, type: 'AWS::EKS::Cluster' },
    outcome: outcomeOf(event),
  };
  const sourceIp = firstSourceIp(event['sourceIPs']);
  if (sourceIp !== undefined) mapped['sourceIp'] = sourceIp;
  putBounded(mapped, 'userAgent', str(event['userAgent']), 1_024);
  putBounded(mapped, 'endpoint', str(event['requestURI'])?.split('?')[0], 1_024);
  const level = str(event['level']);
  mapped['labels'] = [
    'kubernetes',
    `stage:${stage}`,
    ...(level && level.length <= 64 ? [`level:${level}`] : []),
  ];
  mapped['details'] = detailsOf(event, user, context, stage);

  try {
    // One pass: the stored-event limits over the Event, and the schema over the whole input.
    return parseAuditEventInput({ ...mapped, kubernetes: event }) as KubernetesEventInput;
  } catch (error) {
    if (!(error instanceof EventValidationError)) throw error;
    if (!error.path.startsWith('$.kubernetes') || !OMITTED_SIZE_CODES.has(error.code)) {
      throw new KubernetesMappingError('INVALID_MAPPED_FIELD', '$', `mapped event ${error.message}`, {
        cause: error,
      });
    }
    return omittedProjection(mapped, event, error.code);
  }
}

/** The projection of an Event beyond the stored-event limits, with what was omitted and why. */
function omittedProjection(
  mapped: Record<string, unknown>,
  event: Record<string, unknown>,
  reason: EventErrorCode,
): KubernetesEventInput {
  const canonical = canonicalBytes(event);
  const omission: KubernetesOmission = {
    reason,
    sha256: createHash('sha256').update(canonical).digest('hex'),
    bytes: canonical.length,
  };
  const projection = {
    ...mapped,
    labels: [...(mapped['labels'] as string[]), 'kubernetes:omitted'],
    details: { ...(mapped['details'] as Record<string, unknown>), kubernetesOmitted: omission },
  };
  try {
    return parseAuditEventInput(projection);
  } catch (error) {
    if (!(error instanceof EventValidationError)) throw error;
    throw new KubernetesMappingError('INVALID_MAPPED_FIELD', '$', `mapped event ${error.message}`, {
      cause: error,
    });
  }
}

/**
 * Maps the Events of one delivery, all or nothing: the first Event that cannot be mapped throws, with
 * its index in `path` (`$[3].auditID`). Exact duplicates are kept once. When a request's final stage
 * (ResponseComplete or Panic) is in the same delivery, its earlier stages are left out: the final stage
 * repeats everything they say. Earlier stages delivered alone are kept, under their own ids.
 */
export function fromKubernetesAuditEvents(
  events: readonly unknown[],
  context: KubernetesContext,
): KubernetesEventInput[] {
  const mapped = events.map((event, index) => {
    try {
      return fromKubernetesAuditEvent(event, context);
    } catch (error) {
      if (error instanceof KubernetesMappingError) {
        throw new KubernetesMappingError(error.reason, `$[${index}]${error.path.slice(1)}`, error.message, {
          cause: error,
        });
      }
      throw error;
    }
  });
  const finished = new Set(mapped.filter((e) => FINAL_STAGES.has(stageOf(e))).map(requestIdOf));
  const kept: KubernetesEventInput[] = [];
  const byId = new Map<string, KubernetesEventInput[]>();
  for (const event of mapped) {
    if (!FINAL_STAGES.has(stageOf(event)) && finished.has(requestIdOf(event))) continue;
    const same = byId.get(event.id) ?? [];
    if (same.some((e) => isDeepStrictEqual(e, event))) continue;
    same.push(event);
    byId.set(event.id, same);
    kept.push(event);
  }
  return kept;
}

/** The stage of a mapped Event (`details.stage`, which the mapping always sets). */
function stageOf(event: KubernetesEventInput): string {
  return String((event.details as Record<string, unknown>)['stage']);
}

/** The id of the request a mapped Event belongs to: its event id without the stage suffix. */
function requestIdOf(event: KubernetesEventInput): string {
  const stage = stageOf(event);
  return stage === 'ResponseComplete' ? event.id : event.id.slice(0, -(stage.length + 1));
}

/**
 * The event id of the request a Kubernetes event id belongs to: `k8s:<auditID>` for any of its stages
 * (`k8s:<auditID>:ResponseStarted` → `k8s:<auditID>`). Other ids are returned as they are.
 */
export function kubernetesRequestEventId(id: string): string {
  if (!id.startsWith(KUBERNETES_ID_PREFIX)) return id;
  for (const stage of KUBERNETES_AUDIT_STAGES) {
    if (stage !== 'ResponseComplete' && id.endsWith(`:${stage}`)) return id.slice(0, -(stage.length + 1));
  }
  return id;
}

function eventIdOf(auditID: unknown, stage: KubernetesAuditStage): string {
  if (auditID === undefined || auditID === null)
    throw reject('MISSING_AUDIT_ID', 'auditID', 'the Event has no auditID');
  if (typeof auditID !== 'string') throw reject('BAD_AUDIT_ID', 'auditID', 'auditID is not a string');
  const id = `${KUBERNETES_ID_PREFIX}${auditID}${stage === 'ResponseComplete' ? '' : `:${stage}`}`;
  if (id.length > MAX_EVENT_ID_LENGTH || !EVENT_ID_PATTERN.test(id)) {
    throw reject('BAD_AUDIT_ID', 'auditID', 'auditID does not form a valid event id');
  }
  return id;
}

function eventTimeOf(event: Record<string, unknown>): string {
  for (const key of ['requestReceivedTimestamp', 'timestamp', 'stageTimestamp']) {
    const value = event[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string' || !isRfc3339(value)) {
      throw reject('BAD_EVENT_TIME', key, `${key} is not an RFC 3339 date-time with a time zone`);
    }
    return value;
  }
  throw reject(
    'MISSING_EVENT_TIME',
    'requestReceivedTimestamp',
    'the Event has no requestReceivedTimestamp, timestamp or stageTimestamp',
  );
}

function objectRefOf(value: unknown): KubernetesObjectRef | undefined {
  if (!isPlainObject(value)) return undefined;
  const resource = str(value['resource']);
  if (resource === undefined) return undefined;
  const ref: { -readonly [K in keyof KubernetesObjectRef]: KubernetesObjectRef[K] } = { resource };
  for (const key of ['apiGroup', 'namespace', 'name', 'subresource'] as const) {
    const text = str(value[key]);
    if (text !== undefined) ref[key] = text;
  }
  return ref;
}

/** Kubernetes user names: `system:anonymous`, `system:serviceaccount:<ns>:<name>`, `system:node:<node>`, … */
function actorOf(user: Record<string, unknown>): AuditEventInput['actor'] {
  const username = str(user['username'])!;
  const groups = Array.isArray(user['groups']) ? user['groups'].filter((g) => typeof g === 'string') : [];
  const extra = isPlainObject(user['extra']) ? user['extra'] : {};
  const canonicalArn = firstString(extra['canonicalArn']) ?? firstString(extra['arn']);
  let type: ActorType;
  if (username === 'system:anonymous' || groups.includes('system:unauthenticated')) type = 'anonymous';
  else if (username.startsWith('system:') || groups.includes('system:nodes')) type = 'service';
  else if (canonicalArn?.includes(':role/')) type = 'role';
  else if (canonicalArn?.includes(':root')) type = 'root';
  else type = 'user';
  const actor: AuditEventInput['actor'] = { id: username, type };
  const accessKeyId = firstString(extra['accessKeyId']);
  if (accessKeyId !== undefined && accessKeyId.length <= 512) actor.sessionId = accessKeyId;
  const account =
    canonicalArn === undefined ? undefined : /^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):/.exec(canonicalArn)?.[1];
  if (account !== undefined) actor.accountId = account;
  return actor;
}

/**
 * Failure from HTTP 400 up (with the code as `errorCode`); without a response (RequestReceived), the
 * authorizer's decision annotation; without either, the Event says nothing about its outcome.
 */
function outcomeOf(event: Record<string, unknown>): AuditEventInput['outcome'] {
  const status = event['responseStatus'];
  const code = isPlainObject(status) ? status['code'] : undefined;
  if (typeof code === 'number' && Number.isInteger(code)) {
    if (code < 400) return { result: 'success' };
    const outcome: AuditEventInput['outcome'] = { result: 'failure', errorCode: String(code) };
    const message = isPlainObject(status) ? str(status['message']) : undefined;
    if (message !== undefined && message.length <= 4_096) outcome.errorMessage = message;
    return outcome;
  }
  const annotations = event['annotations'];
  const decision = isPlainObject(annotations) ? annotations['authorization.k8s.io/decision'] : undefined;
  if (decision === 'allow') return { result: 'success' };
  if (decision === 'forbid') return { result: 'failure', errorCode: 'Forbidden' };
  throw reject(
    'NO_OUTCOME',
    'responseStatus',
    'the Event has neither responseStatus.code nor an authorization decision',
  );
}

function detailsOf(
  event: Record<string, unknown>,
  user: Record<string, unknown>,
  context: KubernetesContext,
  stage: string,
): Record<string, unknown> {
  const details: Record<string, unknown> = { cluster: context.clusterArn, stage };
  const groups = user['groups'];
  if (Array.isArray(groups) && groups.every((g) => typeof g === 'string')) details['groups'] = groups;
  const impersonated = event['impersonatedUser'];
  const as = isPlainObject(impersonated) ? str(impersonated['username']) : undefined;
  if (as !== undefined) details['impersonatedUser'] = as;
  return details;
}

function firstSourceIp(value: unknown): string | undefined {
  const first = Array.isArray(value) ? value[0] : undefined;
  return typeof first === 'string' && first.length <= MAX_HOSTNAME_LENGTH && isSourceAddress(first)
    ? first
    : undefined;
}

/** Sets an optional string member when it fits the schema; the verbatim Event keeps it either way. */
function putBounded(
  target: Record<string, unknown>,
  key: string,
  value: string | undefined,
  max: number,
): void {
  if (value !== undefined && value.length > 0 && value.length <= max) target[key] = value;
}

function guard(value: unknown, base: string, limits: JsonLimits): void {
  try {
    assertSafeJson(value, limits);
  } catch (error) {
    if (!(error instanceof EventValidationError)) throw error;
    throw new KubernetesMappingError('UNSAFE_JSON', base + error.path.slice(1), error.message, {
      cause: error,
    });
  }
}

/** `field` is a dotted member path of the Event (`user.username`). */
function reject(reason: KubernetesRejectReason, field: string, message: string): KubernetesMappingError {
  return new KubernetesMappingError(reason, formatJsonPath(field.split('.')), message);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** `extra` values are string lists in Kubernetes (`map[string][]string`); a bare string is taken too. */
function firstString(value: unknown): string | undefined {
  return str(Array.isArray(value) ? value[0] : value);
}

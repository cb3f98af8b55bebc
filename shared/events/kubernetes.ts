/**
 * Kubernetes API server audit events (`audit.k8s.io/v1` and `v1beta1` Event objects) to audit events.
 *
 * Input is the Event's JSON text (a log event message), parsed without loss (`json-text.ts`). The text is
 * kept verbatim as the string member `kubernetes`, as CloudTrail records are kept (docs/EVENTS.md §5), so
 * every number stays as the API server wrote it (beyond 2^53, `1e400`, `-0`) and the event's bytes are
 * still RFC 8785 JCS. The other members are a searchable projection of it.
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
  EVENT_FORMAT_VERSION,
  EVENT_ID_PATTERN,
  MAX_EVENT_ID_LENGTH,
  parseAuditEventInput,
} from './audit-event.ts';
import { parseRecordText } from './cloudtrail-record.ts';
import { type EventErrorCode, EventValidationError } from './errors.ts';
import { isPlainObject } from './json-guard.ts';
import { formatJsonPath } from './json-path.ts';
import {
  assertTextBounds,
  isLosslessNumber,
  type JsonTextLimits,
  parseJsonText,
  trimJsonWhitespace,
} from './json-text.ts';
import { MAX_EVENT_BYTES, MAX_RECORD_DEPTH, RECORD_TEXT_LIMITS } from './limits.ts';
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
 * An event input carrying its verbatim Kubernetes Event (the schema's `kubernetes` member: the Event's
 * own JSON text), or, for an Event beyond the stored-event limits, its projection with
 * `details.kubernetesOmitted` instead.
 */
export type KubernetesEventInput = AuditEventInput & { kubernetes?: string };

/**
 * Stored-event limits an otherwise valid Event can exceed: its text is longer than a stored event may be,
 * or the stored event with it would be (`TOO_LARGE`: a RequestResponse-level Event of a large ConfigMap),
 * or it nests deeper than a kept text may (`TOO_DEEP`, beyond 1,100). Such an Event is kept as its
 * projection, without the verbatim member, and says so in `details.kubernetesOmitted`
 * (docs/DETECTIONS.md §7, "Events beyond the stored-event limits").
 */
export const OMITTED_SIZE_CODES: ReadonlySet<EventErrorCode> = new Set(['TOO_LARGE', 'TOO_DEEP']);

/** What stands in for an Event too large to keep verbatim: why, and what it was (SHA-256 and size of its text). */
export interface KubernetesOmission {
  readonly reason: string;
  /** What `sha256` and `bytes` are over: always `text`, the Event's exact JSON text as UTF-8. */
  readonly form: 'text';
  /**
   * Hex SHA-256 of the UTF-8 bytes of the Event's text (the log event message without the JSON
   * whitespace around it), so a copy found in CloudWatch Logs can be matched byte for byte.
   */
  readonly sha256: string;
  /** Size in bytes of that text. */
  readonly bytes: number;
}

/**
 * The bounds an Event's text must meet to be read at all: a log event message is at most 1 MiB of UTF-16
 * code units (`cloudwatch-logs.ts`). Deeper than `MAX_RECORD_DEPTH` it is read for its projection only
 * (with the engine's non-recursive `JSON.parse`, `projectionOfDeepText`), never kept.
 */
const READABLE_TEXT_LIMITS: JsonTextLimits = Object.freeze({
  maxLength: 1_048_576,
  maxDepth: MAX_RECORD_DEPTH,
});

/** The members the server adds to a stored event, in a stand-in of their exact canonical length. */
const SERVER_MEMBERS_BYTES =
  canonicalBytes({ v: EVENT_FORMAT_VERSION, receivedAt: '1970-01-01T00:00:00.000Z', channel: 'kubernetes' })
    .length - 1;

/** Why a Kubernetes audit Event was not turned into an audit event. */
export type KubernetesRejectReason =
  | 'NOT_JSON'
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

const LONE_SURROGATES = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
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
 * Maps the JSON text of one Event (a log event message) to an event input whose `kubernetes` is that
 * text, from its `{` to its `}`. Throws `KubernetesMappingError` (with `reason`). An Event beyond the
 * stored-event limits (but readable) is kept as its projection, with `details.kubernetesOmitted`
 * (`OMITTED_SIZE_CODES`).
 * Example: `fromKubernetesAuditEvent(logEvent.message, { clusterArn })`.
 */
export function fromKubernetesAuditEvent(text: string, context: KubernetesContext): KubernetesEventInput {
  if (!isClusterArn(context.clusterArn)) {
    throw new KubernetesMappingError('BAD_CLUSTER_ARN', '$', 'the cluster ARN is not an EKS cluster ARN');
  }
  if (typeof text !== 'string') throw new KubernetesMappingError('NOT_JSON', '$', 'the Event is not text');
  const eventText = trimJsonWhitespace(text);
  const parsed = parseEventText(eventText);
  if (parsed === TOO_DEEP) return projectionOfDeepText(eventText, context);
  const mapped = projectionOf(parsed, context);
  const omission = omissionOf(mapped, eventText);
  return omission === undefined
    ? { ...validProjection(mapped), kubernetes: eventText }
    : omittedProjection(mapped, eventText, omission);
}

/**
 * The Kubernetes audit Event an event keeps, parsed from its verbatim text; undefined when the event has
 * no `kubernetes` member. Read it as `cloudTrailRecordOf`'s record (docs/EVENTS.md §5.5): numbers are
 * lossless-json `LosslessNumber`s, members are own members (`__proto__` included), the last of duplicate
 * member names wins. Throws `EventValidationError` if `kubernetes` is not the text of an object (never
 * for an event that `parseAuditEvent` or `parseAuditEventInput` accepted).
 */
export function kubernetesEventOf(event: object): Record<string, unknown> | undefined {
  const text: unknown = Object.hasOwn(event, 'kubernetes')
    ? (event as { kubernetes?: unknown }).kubernetes
    : undefined;
  if (text === undefined) return undefined;
  if (typeof text !== 'string') {
    throw new EventValidationError('SCHEMA_VIOLATION', '$.kubernetes', 'must be the JSON text of an Event');
  }
  return parseRecordText(text, '$.kubernetes');
}

const TOO_DEEP = Symbol('too deep');

/** The Event of `text`, parsed without loss, or `TOO_DEEP` for a text deeper than a kept text may be. */
function parseEventText(text: string): Record<string, unknown> | typeof TOO_DEEP {
  let value: unknown;
  try {
    value = parseJsonText(text, READABLE_TEXT_LIMITS, '$');
  } catch (error) {
    if (!(error instanceof EventValidationError)) throw error;
    if (error.code === 'TOO_DEEP') return TOO_DEEP;
    if (error.code === 'INVALID_JSON') {
      throw new KubernetesMappingError('NOT_JSON', '$', error.message.replace(/ at \S+$/, ''), {
        cause: error,
      });
    }
    throw new KubernetesMappingError('UNSAFE_JSON', '$', error.message.replace(/ at \S+$/, ''), {
      cause: error,
    });
  }
  if (!isPlainObject(value)) {
    throw new KubernetesMappingError(
      'NOT_AN_EVENT',
      '$.kind',
      'not a Kubernetes audit Event (kind must be "Event")',
    );
  }
  return value;
}

/**
 * An Event nested deeper than `MAX_RECORD_DEPTH` (Kubernetes' own decoder allows 10,000 levels): the
 * lossless parser is recursive, so such a text is read with `JSON.parse`, which V8 runs without
 * recursion, for its projection only. Its numbers may round there, but the projection reads none but
 * `responseStatus.code`, and the text is not kept: only its SHA-256.
 */
function projectionOfDeepText(text: string, context: KubernetesContext): KubernetesEventInput {
  assertTextBounds(
    text,
    { maxLength: READABLE_TEXT_LIMITS.maxLength, maxDepth: Number.MAX_SAFE_INTEGER },
    '$',
  );
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new KubernetesMappingError('NOT_JSON', '$', 'text is not valid JSON');
  }
  if (!isPlainObject(value)) {
    throw new KubernetesMappingError(
      'NOT_AN_EVENT',
      '$.kind',
      'not a Kubernetes audit Event (kind must be "Event")',
    );
  }
  return omittedProjection(projectionOf(value, context), text, 'TOO_DEEP');
}

/** The common members of an Event (everything but the verbatim text). Throws `KubernetesMappingError`. */
function projectionOf(event: Record<string, unknown>, context: KubernetesContext): Record<string, unknown> {
  if (own(event, 'kind') !== 'Event') {
    throw new KubernetesMappingError(
      'NOT_AN_EVENT',
      '$.kind',
      'not a Kubernetes audit Event (kind must be "Event")',
    );
  }
  const apiVersion = own(event, 'apiVersion');
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
  const stage = own(event, 'stage');
  if (typeof stage !== 'string' || !(KUBERNETES_AUDIT_STAGES as readonly string[]).includes(stage)) {
    throw reject('BAD_STAGE', 'stage', `stage must be one of ${KUBERNETES_AUDIT_STAGES.join(', ')}`);
  }
  const id = eventIdOf(own(event, 'auditID'), stage as KubernetesAuditStage);
  const eventTime = eventTimeOf(event);
  const verb = str(own(event, 'verb'));
  if (verb === undefined) throw reject('MISSING_VERB', 'verb', 'the Event has no verb');
  const user = own(event, 'user');
  if (!isPlainObject(user) || str(own(user, 'username')) === undefined) {
    throw reject('MISSING_USER', 'user.username', 'the Event has no user.username');
  }
  const objectRef = objectRefOf(own(event, 'objectRef'));

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
  const sourceIp = firstSourceIp(own(event, 'sourceIPs'));
  if (sourceIp !== undefined) mapped['sourceIp'] = sourceIp;
  putBounded(mapped, 'userAgent', str(own(event, 'userAgent')), 1_024);
  putBounded(mapped, 'endpoint', str(own(event, 'requestURI'))?.split('?')[0], 1_024);
  const level = str(own(event, 'level'));
  mapped['labels'] = [
    'kubernetes',
    `stage:${stage}`,
    ...(level && level.length <= 64 ? [`level:${level}`] : []),
  ];
  mapped['details'] = detailsOf(event, user, context, stage);
  return mapped;
}

/**
 * Why the Event's text cannot be kept in the stored event (`TOO_LARGE`), or undefined when it can: the
 * text fits a kept text (`RECORD_TEXT_LIMITS`), and the stored event with it (server members included,
 * at their exact canonical length) is within `MAX_EVENT_BYTES`.
 */
function omissionOf(mapped: Record<string, unknown>, text: string): EventErrorCode | undefined {
  if (text.length > RECORD_TEXT_LIMITS.maxLength) return 'TOO_LARGE';
  const stored = canonicalBytes({ ...mapped, kubernetes: text }).length + SERVER_MEMBERS_BYTES;
  return stored > MAX_EVENT_BYTES ? 'TOO_LARGE' : undefined;
}

/** The projection, checked against the event schema; a failure is a mapping refusal. */
function validProjection(mapped: Record<string, unknown>): AuditEventInput {
  try {
    return parseAuditEventInput(mapped);
  } catch (error) {
    if (!(error instanceof EventValidationError)) throw error;
    throw new KubernetesMappingError('INVALID_MAPPED_FIELD', '$', `mapped event ${error.message}`, {
      cause: error,
    });
  }
}

/** The projection of an Event beyond the stored-event limits, with what was omitted and why. */
function omittedProjection(
  mapped: Record<string, unknown>,
  text: string,
  reason: EventErrorCode,
): KubernetesEventInput {
  const bytes = Buffer.from(text, 'utf8');
  const omission: KubernetesOmission = {
    reason,
    form: 'text',
    sha256: createHash('sha256').update(bytes).digest('hex'),
    bytes: bytes.length,
  };
  return validProjection({
    ...mapped,
    labels: [...(mapped['labels'] as string[]), 'kubernetes:omitted'],
    details: { ...(mapped['details'] as Record<string, unknown>), kubernetesOmitted: omission },
  });
}

/**
 * Maps the Events (their JSON texts) of one delivery, all or nothing: the first Event that cannot be mapped throws, with
 * its index in `path` (`$[3].auditID`). Exact duplicates are kept once. When a request's final stage
 * (ResponseComplete or Panic) is in the same delivery, its earlier stages are left out: the final stage
 * repeats everything they say. Earlier stages delivered alone are kept, under their own ids.
 */
export function fromKubernetesAuditEvents(
  texts: readonly string[],
  context: KubernetesContext,
): KubernetesEventInput[] {
  const mapped = texts.map((text, index) => {
    try {
      return fromKubernetesAuditEvent(text, context);
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
    const value = own(event, key);
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
  const resource = str(own(value, 'resource'));
  if (resource === undefined) return undefined;
  const ref: { -readonly [K in keyof KubernetesObjectRef]: KubernetesObjectRef[K] } = { resource };
  for (const key of ['apiGroup', 'namespace', 'name', 'subresource'] as const) {
    const text = str(own(value, key));
    if (text !== undefined) ref[key] = text;
  }
  return ref;
}

/** Kubernetes user names: `system:anonymous`, `system:serviceaccount:<ns>:<name>`, `system:node:<node>`, … */
function actorOf(user: Record<string, unknown>): AuditEventInput['actor'] {
  const username = str(own(user, 'username'))!;
  const groups = stringsOf(own(user, 'groups')) ?? [];
  const rawExtra = own(user, 'extra');
  const extra = isPlainObject(rawExtra) ? rawExtra : {};
  const canonicalArn = firstString(own(extra, 'canonicalArn')) ?? firstString(own(extra, 'arn'));
  let type: ActorType;
  if (username === 'system:anonymous' || groups.includes('system:unauthenticated')) type = 'anonymous';
  else if (username.startsWith('system:') || groups.includes('system:nodes')) type = 'service';
  else if (canonicalArn?.includes(':role/')) type = 'role';
  else if (canonicalArn?.includes(':root')) type = 'root';
  else type = 'user';
  const actor: AuditEventInput['actor'] = { id: username, type };
  const accessKeyId = firstString(own(extra, 'accessKeyId'));
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
  const status = own(event, 'responseStatus');
  const code = integerOf(isPlainObject(status) ? own(status, 'code') : undefined);
  if (code !== undefined) {
    if (code.value < 400) return { result: 'success' };
    const outcome: AuditEventInput['outcome'] = { result: 'failure' };
    if (code.text.length <= 256) outcome.errorCode = code.text;
    const message = isPlainObject(status) ? str(own(status, 'message')) : undefined;
    if (message !== undefined && message.length <= 4_096) outcome.errorMessage = message;
    return outcome;
  }
  const annotations = own(event, 'annotations');
  const decision = isPlainObject(annotations) ? own(annotations, 'authorization.k8s.io/decision') : undefined;
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
  const raw = own(user, 'groups');
  const groups = stringsOf(raw);
  if (groups !== undefined && groups.length === (raw as unknown[]).length) details['groups'] = groups;
  const impersonated = own(event, 'impersonatedUser');
  const as = isPlainObject(impersonated) ? str(own(impersonated, 'username')) : undefined;
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

/** `field` is a dotted member path of the Event (`user.username`). */
function reject(reason: KubernetesRejectReason, field: string, message: string): KubernetesMappingError {
  return new KubernetesMappingError(reason, formatJsonPath(field.split('.')), message);
}

/**
 * A non-empty string, with each lone UTF-16 surrogate (a `\ud800` escape in the text) replaced by
 * U+FFFD: a projected member must be valid UTF-8; the kept text has the escape.
 */
function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value.replace(LONE_SURROGATES, '\uFFFD') : undefined;
}

/** The strings of an array, made well-formed (`str`), or undefined for a non-array. */
function stringsOf(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.filter((g) => typeof g === 'string').map((g) => str(g) ?? g);
}

/**
 * An integer JSON number, as its value (a double, exact up to 2^53, which is all a comparison with 400
 * needs) and its text (exact: the lossless source text, or the double's own for `JSON.parse` input).
 * `403.0` is the integer 403; `1e400` and fractions are not integers.
 */
function integerOf(value: unknown): { value: number; text: string } | undefined {
  const n = isLosslessNumber(value) ? Number(value.value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n)) return undefined;
  const exact = isLosslessNumber(value) && /^-?(?:0|[1-9]\d*)$/.test(value.value) ? value.value : String(n);
  return { value: n, text: exact === '-0' ? '0' : exact };
}

/** The object's own member `key`: never one inherited from `Object.prototype` (`constructor`, …). */
function own(value: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(value, key) ? value[key] : undefined;
}

/** `extra` values are string lists in Kubernetes (`map[string][]string`); a bare string is taken too. */
function firstString(value: unknown): string | undefined {
  return str(Array.isArray(value) ? value[0] : value);
}

/**
 * CloudWatch Logs subscription payloads: what a subscription filter delivers (to Lambda as
 * `{ "awslogs": { "data": "<base64 of gzip>" } }`), decoded into its log events, and the Kubernetes audit
 * events those carry. Format: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html
 *
 * A payload is taken whole or refused whole: every check (size, base64, gzip, UTF-8, JSON, shape, each
 * audit log event) runs before anything is returned, so a caller never writes part of a bad payload.
 * Sizes are bounded before each step that could amplify them (the gunzip output is capped while it
 * inflates). `CONTROL_MESSAGE`s, which CloudWatch Logs sends to check that a destination is reachable,
 * decode to `{ type: 'control' }` and carry no events.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { EventValidationError } from '../events/errors.ts';
import { assertSafeJson } from '../events/json-guard.ts';
import {
  EKS_AUDIT_STREAM_PREFIX,
  eksClusterArnFromLogGroup,
  fromKubernetesAuditEvents,
  isClusterArn,
  type KubernetesEventInput,
  KubernetesMappingError,
} from '../events/kubernetes.ts';

/** Longest base64 `data` accepted: the largest record a subscription destination takes (1 MiB), encoded. */
export const MAX_ENCODED_LENGTH = 1_398_104;
/** Largest decompressed payload, in bytes. */
export const MAX_DECODED_BYTES = 16 * 1_048_576;
/** Most log events in one payload (PutLogEvents' own batch limit). */
export const MAX_LOG_EVENTS = 10_000;
/** Longest log event message, in UTF-16 code units (CloudWatch Logs' event size limit is 1 MiB). */
export const MAX_MESSAGE_LENGTH = 1_048_576;

/** Closed set of reasons a payload is refused. */
export type SubscriptionPayloadErrorCode =
  | 'NOT_A_SUBSCRIPTION_EVENT'
  | 'TOO_LARGE'
  | 'BAD_BASE64'
  | 'NOT_GZIP'
  | 'BAD_GZIP'
  | 'DECODED_TOO_LARGE'
  | 'BAD_UTF8'
  | 'NOT_JSON'
  | 'BAD_PAYLOAD'
  | 'UNKNOWN_CLUSTER'
  | 'BAD_LOG_EVENT';

/**
 * A payload refused whole. `path` points into the decoded payload (`$.logEvents[3].message`); messages
 * never echo payload content. For `BAD_LOG_EVENT`, `reason` is the Kubernetes mapping's reason.
 */
export class SubscriptionPayloadError extends Error {
  override readonly name = 'SubscriptionPayloadError';
  constructor(
    readonly code: SubscriptionPayloadErrorCode,
    readonly path: string,
    message: string,
    readonly reason?: string,
    options?: { cause?: unknown },
  ) {
    super(`${message} at ${path}`, options);
  }
}

/** One log event, as CloudWatch Logs delivers it. */
export interface LogEvent {
  readonly id: string;
  readonly timestamp: number;
  readonly message: string;
}

/** A decoded `DATA_MESSAGE`. */
export interface DataMessage {
  readonly type: 'data';
  /** The account that owns the log group. */
  readonly owner: string;
  readonly logGroup: string;
  readonly logStream: string;
  readonly subscriptionFilters: readonly string[];
  readonly logEvents: readonly LogEvent[];
}

export type SubscriptionMessage = DataMessage | { readonly type: 'control' };

const text = (max: number) => z.string().max(max);
const logEventSchema = z.looseObject({
  id: text(128),
  timestamp: z.number().int().nonnegative(),
  message: text(MAX_MESSAGE_LENGTH),
});
const dataSchema = z.looseObject({
  messageType: z.literal('DATA_MESSAGE'),
  owner: z.string().regex(/^\d{12}$/, 'must be a 12-digit account id'),
  logGroup: text(512).min(1),
  logStream: text(512).min(1),
  subscriptionFilters: z.array(text(512)).max(16),
  logEvents: z.array(logEventSchema).max(MAX_LOG_EVENTS),
});
const controlSchema = z.looseObject({ messageType: z.literal('CONTROL_MESSAGE') });
const lambdaEventSchema = z.strictObject({ awslogs: z.strictObject({ data: z.string() }) });
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes the Lambda event a subscription filter sends (`{ awslogs: { data } }`). */
export function decodeSubscriptionEvent(event: unknown): SubscriptionMessage {
  const parsed = lambdaEventSchema.safeParse(event);
  if (!parsed.success) {
    throw new SubscriptionPayloadError(
      'NOT_A_SUBSCRIPTION_EVENT',
      '$',
      'expected { "awslogs": { "data": "<base64>" } }',
    );
  }
  return decodeSubscriptionData(parsed.data.awslogs.data);
}

/** Decodes a subscription payload: base64, then gzip, then UTF-8 JSON of a data or control message. */
export function decodeSubscriptionData(data: string): SubscriptionMessage {
  if (data.length > MAX_ENCODED_LENGTH) {
    throw new SubscriptionPayloadError(
      'TOO_LARGE',
      '$',
      `data is longer than ${MAX_ENCODED_LENGTH} base64 characters`,
    );
  }
  if (data.length === 0 || !BASE64.test(data))
    throw new SubscriptionPayloadError('BAD_BASE64', '$', 'data is not base64');
  const gzipped = Buffer.from(data, 'base64');
  if (gzipped.length < 18 || gzipped[0] !== 0x1f || gzipped[1] !== 0x8b) {
    throw new SubscriptionPayloadError('NOT_GZIP', '$', 'data is not gzip');
  }
  let bytes: Buffer;
  try {
    bytes = gunzipSync(gzipped, { maxOutputLength: MAX_DECODED_BYTES });
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new SubscriptionPayloadError(
        'DECODED_TOO_LARGE',
        '$',
        `data inflates beyond ${MAX_DECODED_BYTES} bytes`,
      );
    }
    throw new SubscriptionPayloadError('BAD_GZIP', '$', 'data is not a valid gzip stream', undefined, {
      cause: error,
    });
  }
  return parseDecodedPayload(bytes);
}

/** Parses the decompressed bytes of a payload. */
export function parseDecodedPayload(bytes: Uint8Array): SubscriptionMessage {
  if (bytes.length > MAX_DECODED_BYTES) {
    throw new SubscriptionPayloadError(
      'DECODED_TOO_LARGE',
      '$',
      `payload is larger than ${MAX_DECODED_BYTES} bytes`,
    );
  }
  let json: string;
  try {
    json = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch (error) {
    throw new SubscriptionPayloadError('BAD_UTF8', '$', 'payload is not UTF-8', undefined, { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new SubscriptionPayloadError('NOT_JSON', '$', 'payload is not JSON', undefined, { cause: error });
  }
  try {
    assertSafeJson(value, {
      maxDepth: 8,
      maxStringLength: MAX_MESSAGE_LENGTH,
      maxObjectKeys: 64,
      maxArrayLength: MAX_LOG_EVENTS,
      maxKeyLength: 256,
      maxTotalBytes: MAX_DECODED_BYTES,
    });
  } catch (error) {
    if (!(error instanceof EventValidationError)) throw error;
    throw new SubscriptionPayloadError('BAD_PAYLOAD', error.path, error.message, undefined, { cause: error });
  }
  if (controlSchema.safeParse(value).success) return { type: 'control' };
  const parsed = dataSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = `$${issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}`;
    throw new SubscriptionPayloadError(
      'BAD_PAYLOAD',
      path,
      `not a CloudWatch Logs DATA_MESSAGE: ${issue.message}`,
    );
  }
  const { owner, logGroup, logStream, subscriptionFilters, logEvents } = parsed.data;
  return {
    type: 'data',
    owner,
    logGroup,
    logStream,
    subscriptionFilters,
    logEvents: logEvents.map(({ id, timestamp, message }) => ({ id, timestamp, message })),
  };
}

/** Where Kubernetes audit events come from. */
export interface KubernetesLogSources {
  /** The region of the subscription (and so of its log groups). */
  readonly region: string;
  /** Clusters by log group, for groups that are not EKS control-plane groups; every stream of them is audit. */
  readonly clusters?: ReadonlyMap<string, string>;
  readonly partition?: string;
}

/** What one data message holds for the Kubernetes source. */
export interface KubernetesDelivery {
  readonly clusterArn: string;
  readonly events: readonly KubernetesEventInput[];
  /** Log events of streams that are not audit streams (EKS's authenticator, scheduler, … logs). */
  readonly skipped: number;
}

/**
 * The Kubernetes audit events of a data message, all or nothing. The cluster is the configured one for
 * the log group, else the EKS cluster the group is named for (`/aws/eks/<name>/cluster`). In an EKS group,
 * only `kube-apiserver-audit-*` streams carry audit events; the other streams' events are counted as
 * skipped. Every audit log event must be a JSON Kubernetes audit Event, or the whole message is refused.
 */
export function kubernetesEventsOf(message: DataMessage, sources: KubernetesLogSources): KubernetesDelivery {
  const configured = sources.clusters?.get(message.logGroup);
  if (configured !== undefined && !isClusterArn(configured)) {
    throw new SubscriptionPayloadError(
      'UNKNOWN_CLUSTER',
      '$.logGroup',
      'the cluster configured for this log group is not a cluster ARN',
    );
  }
  const clusterArn =
    configured ??
    eksClusterArnFromLogGroup(message.logGroup, message.owner, sources.region, sources.partition);
  if (clusterArn === undefined) {
    throw new SubscriptionPayloadError(
      'UNKNOWN_CLUSTER',
      '$.logGroup',
      'the log group is neither configured for a cluster nor an EKS control-plane group (/aws/eks/<name>/cluster)',
    );
  }
  if (configured === undefined && !message.logStream.startsWith(EKS_AUDIT_STREAM_PREFIX)) {
    return { clusterArn, events: [], skipped: message.logEvents.length };
  }
  try {
    // Each message is an Event's own JSON text; the mapping keeps it verbatim (docs/DETECTIONS.md §7).
    const texts = message.logEvents.map((logEvent) => logEvent.message);
    return { clusterArn, events: fromKubernetesAuditEvents(texts, { clusterArn }), skipped: 0 };
  } catch (error) {
    if (!(error instanceof KubernetesMappingError)) throw error;
    // `$[i]…` of the mapping becomes `$.logEvents[i].message…`.
    const m = /^\$\[(\d+)\](.*)$/.exec(error.path);
    const path = m ? `$.logEvents[${m[1]}].message${m[2]}` : '$.logEvents';
    throw new SubscriptionPayloadError(
      'BAD_LOG_EVENT',
      path,
      error.message.replace(/ at \$.*$/, ''),
      error.reason,
      { cause: error },
    );
  }
}

/**
 * The Lambda event a subscription filter would send for `message`: its JSON, gzipped, base64-encoded.
 * The local replay tool and the tests use it to deliver payloads the way CloudWatch Logs does.
 */
export function encodeSubscriptionEvent(message: DataMessage): { awslogs: { data: string } } {
  const { type: _type, ...members } = message;
  const json = JSON.stringify({ messageType: 'DATA_MESSAGE', ...members });
  return { awslogs: { data: gzipSync(Buffer.from(json, 'utf8')).toString('base64') } };
}

/**
 * A data message carrying Kubernetes audit Events the way EKS delivers them: the control-plane log group
 * of cluster `cluster` (`/aws/eks/<cluster>/cluster`), a `kube-apiserver-audit-…` stream, one log event
 * per Event, whose message is the Event's JSON text exactly as given (`texts`; the API server writes one
 * line per Event).
 */
export function eksAuditMessage(
  texts: readonly string[],
  options: { readonly cluster: string; readonly owner: string; readonly timestampMs: number },
): DataMessage {
  const stream = createHash('sha256').update(options.cluster).digest('hex').slice(0, 32);
  return {
    type: 'data',
    owner: options.owner,
    logGroup: `/aws/eks/${options.cluster}/cluster`,
    logStream: `${EKS_AUDIT_STREAM_PREFIX}${stream}`,
    subscriptionFilters: ['auditseal-kubernetes-audit'],
    logEvents: texts.map((message, i) => ({
      // CloudWatch Logs event ids are 56 decimal digits.
      id: BigInt(`0x${createHash('sha256').update(`${options.timestampMs}/${i}/${message}`).digest('hex')}`)
        .toString()
        .padStart(56, '0')
        .slice(0, 56),
      timestamp: options.timestampMs,
      message,
    })),
  };
}

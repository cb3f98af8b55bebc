/**
 * `auditseal local replay-cloudwatch-logs FILE`: delivers CloudWatch Logs subscription payloads to the
 * running local stack through the real Kubernetes forwarder (functions/forward-cloudwatch-logs.ts), the
 * way a subscription filter on an EKS control-plane log group invokes it.
 *
 * FILE is one JSON value, or JSON lines; each value is one of:
 * - a Lambda subscription event `{ "awslogs": { "data": "<base64 gzip>" } }`: delivered as it is;
 * - a decoded `DATA_MESSAGE` (or `CONTROL_MESSAGE`): gzipped, base64-encoded, delivered;
 * - anything else is a Kubernetes audit `Event` (an `EventList` is its items): put, in file order, into
 *   payloads of up to `--batch` Events from the EKS log group `/aws/eks/<cluster>/cluster`, stream
 *   `kube-apiserver-audit-…`, one log event each (a malformed Event refuses its whole payload).
 * A payload the forwarder refuses is reported with its code and path; nothing of it is stored.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import type { CloudWatchLogsEvent, Context } from 'aws-lambda';
import { createHandler } from '../../functions/forward-cloudwatch-logs.ts';
import { isPlainObject } from '../../shared/events/json-guard.ts';
import { elementTexts, memberText, trimJsonWhitespace } from '../../shared/events/json-text.ts';
import {
  eksAuditMessage,
  encodeSubscriptionEvent,
  SubscriptionPayloadError,
} from '../../shared/ingest/cloudwatch-logs.ts';
import type { KubernetesForwardOutcome } from '../../shared/ingest/forward-cloudwatch-logs.ts';
import { UsageError } from '../errors.ts';
import { localIngestRuntime, readLocalIngestFile } from '../local-ingest-runtime.ts';

/** Most bytes read from FILE. */
const MAX_FILE_BYTES = 256 * 1_048_576;

export interface CloudWatchLogsReplaySummary {
  /** Payloads handed to the forwarder. */
  readonly payloads: number;
  readonly events: number;
  readonly stored: number;
  readonly duplicates: number;
  /** Event ids already stored with other content (security signals recorded). */
  readonly conflicts: readonly string[];
  /** Events stored as their projection, beyond the stored-event limits. */
  readonly omitted: readonly string[];
  /** Payloads refused whole: nothing of them stored. */
  readonly refused: readonly {
    payload: number;
    code: string;
    path: string;
    reason?: string;
    message: string;
  }[];
  readonly clusterArns: readonly string[];
  /** Ids stored or already stored, in delivery order. */
  readonly ids: readonly string[];
}

/**
 * The subscription events FILE stands for, in order, from the JSON texts of its values. An Event's text
 * (a value, or an element of an `EventList`'s `items`) becomes its log event's message exactly as it is
 * in FILE, so the forwarder keeps it verbatim, large numbers included. Throws `UsageError` for a value of
 * no known kind.
 */
export function subscriptionEventsOf(
  texts: readonly string[],
  options: { cluster: string; owner: string; batch: number; nowMs: number },
): unknown[] {
  const out: unknown[] = [];
  let events: string[] = [];
  const flush = () => {
    for (let i = 0; i < events.length; i += options.batch) {
      const message = eksAuditMessage(events.slice(i, i + options.batch), {
        cluster: options.cluster,
        owner: options.owner,
        timestampMs: options.nowMs,
      });
      out.push(encodeSubscriptionEvent(message));
    }
    events = [];
  };
  texts.forEach((text, index) => {
    // Read only to tell the kinds apart: `JSON.parse` may round a number, but no number decides the kind,
    // and what is delivered is the text.
    const value: unknown = JSON.parse(text);
    if (isPlainObject(value) && isPlainObject(value['awslogs'])) {
      flush();
      out.push(value);
    } else if (isPlainObject(value) && typeof value['messageType'] === 'string') {
      flush();
      out.push({ awslogs: { data: gzipSync(Buffer.from(trimJsonWhitespace(text))).toString('base64') } });
    } else if (isPlainObject(value) && value['kind'] === 'EventList') {
      const items = memberText(text, 'items');
      const itemTexts = items === undefined ? undefined : elementTexts(items);
      if (itemTexts === undefined) throw new UsageError(`value ${index + 1}: an EventList without items`);
      events.push(...itemTexts);
    } else {
      // Anything else is an audit Event as the API server logged it; the forwarder judges it (a malformed
      // one refuses its whole payload, as on AWS).
      events.push(trimJsonWhitespace(text));
    }
  });
  flush();
  return out;
}

/** FILE as the JSON texts of its values: the whole file if it is one JSON value, else one per non-empty line. */
async function readValues(file: string): Promise<string[]> {
  let text: string;
  try {
    const bytes = await readFile(file);
    if (bytes.length > MAX_FILE_BYTES) throw new UsageError(`${file} is larger than ${MAX_FILE_BYTES} bytes`);
    text = bytes.toString('utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    JSON.parse(text);
    return [text];
  } catch {
    // JSON lines.
  }
  return text
    .split('\n')
    .map((line, i) => [line, i + 1] as const)
    .filter(([line]) => line.trim().length > 0)
    .map(([line, n]) => {
      try {
        JSON.parse(line);
      } catch {
        throw new UsageError(`${file}:${n}: not JSON`);
      }
      return line;
    });
}

export async function runCloudWatchLogsReplay(
  file: string,
  options: { localFile?: string; cluster?: string; batch?: number },
): Promise<CloudWatchLogsReplaySummary> {
  const local = await readLocalIngestFile(options.localFile);
  const cluster = options.cluster ?? 'local';
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/.test(cluster)) {
    throw new UsageError('--cluster must be 1-100 characters of A-Z a-z 0-9 _ - (an EKS cluster name)');
  }
  const batch = options.batch ?? 100;
  if (!Number.isInteger(batch) || batch < 1 || batch > 10_000)
    throw new UsageError('--batch must be 1 to 10000');
  const payloads = subscriptionEventsOf(await readValues(file), {
    cluster,
    owner: local.accountId,
    batch,
    nowMs: Date.now(),
  });

  process.env['POWERTOOLS_LOG_LEVEL'] ??= 'CRITICAL';
  const runtime = localIngestRuntime(local, 'auditseal-replay-cloudwatch-logs');
  const { config } = runtime;
  const outcomes: KubernetesForwardOutcome[] = [];
  const handler = createHandler({
    ledger: config.ledger,
    sources: { region: local.region },
    ingest: runtime.ingest,
    logger: runtime.logger,
    observe: (o) => void outcomes.push(o),
  });
  const refused: CloudWatchLogsReplaySummary['refused'][number][] = [];
  for (const [index, payload] of payloads.entries()) {
    const context = {
      awsRequestId: randomUUID(),
      invokedFunctionArn: `arn:aws:lambda:${local.region}:${local.accountId}:function:auditseal-forward-cloudwatch-logs`,
    } as Context;
    try {
      await handler(payload as CloudWatchLogsEvent, context);
    } catch (error) {
      if (!(error instanceof SubscriptionPayloadError)) throw error;
      refused.push({
        payload: index + 1,
        code: error.code,
        path: error.path,
        ...(error.reason === undefined ? {} : { reason: error.reason }),
        message: error.message,
      });
    }
  }
  return {
    payloads: payloads.length,
    events: outcomes.reduce((n, o) => n + o.events, 0),
    stored: outcomes.reduce((n, o) => n + o.stored.length, 0),
    duplicates: outcomes.reduce((n, o) => n + o.duplicates.length, 0),
    conflicts: outcomes.flatMap((o) => o.conflicts),
    omitted: outcomes.flatMap((o) => o.omitted),
    refused,
    clusterArns: [...new Set(outcomes.flatMap((o) => (o.clusterArn ? [o.clusterArn] : [])))],
    ids: outcomes.flatMap((o) => [...o.stored, ...o.duplicates]),
  };
}

export function renderCloudWatchLogsReplay(file: string, s: CloudWatchLogsReplaySummary): string {
  return [
    `Replayed ${file}: ${s.payloads} subscription payload(s), ${s.events} Kubernetes audit event(s): ` +
      `${s.stored} stored, ${s.duplicates} already stored, ${s.conflicts.length} id conflict(s)` +
      (s.clusterArns.length > 0 ? ` (cluster ${s.clusterArns.join(', ')})` : ''),
    ...s.omitted.map(
      (id) => `  ${id}: beyond the stored-event limits; stored as its projection (details.kubernetesOmitted)`,
    ),
    ...s.conflicts.map(
      (id) => `  ${id}: already stored with other content; not stored, security signal recorded`,
    ),
    ...s.refused.map(
      (r) =>
        `  payload ${r.payload} refused whole, nothing stored: ${r.code}${r.reason ? ` (${r.reason})` : ''}: ${r.message}`,
    ),
  ].join('\n');
}

/**
 * `auditseal alerts`: detection alerts from `GET /v1/alerts` (reader role), newest first, as a table or
 * as JSON. `--all` follows the cursors to the end (bounded by `--max`).
 */
import type { AlertView } from '../../shared/detect/alert-query.ts';
import { resolveTarget, signedJson } from '../api-client.ts';
import { UsageError } from '../errors.ts';

export interface AlertsOptions {
  readonly rule?: string;
  readonly level?: string;
  readonly from?: string;
  readonly to?: string;
  readonly limit?: number;
  readonly cursor?: string;
  readonly all: boolean;
  /** With `--all`: stop after this many alerts. */
  readonly max: number;
  readonly endpoint?: string;
  readonly localFile?: string;
  /** Wait up to this long for a first alert that matches (`--wait`); polls once a second. */
  readonly waitMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** How often `--wait` asks again. */
const WAIT_POLL_MS = 1000;

/** `--wait` ran out of time with no alert (exit 1). */
export class AlertWaitTimeout extends Error {
  override readonly name = 'AlertWaitTimeout';
}

export interface AlertsResult {
  readonly alerts: AlertView[];
  /** Where to continue, when not everything was listed. */
  readonly cursor?: string;
}

export async function runAlerts(options: AlertsOptions): Promise<AlertsResult> {
  if (!Number.isInteger(options.max) || options.max < 1)
    throw new UsageError('--max must be a positive whole number');
  const target = await resolveTarget({
    role: 'reader',
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.localFile ? { localFile: options.localFile } : {}),
  });
  const query: Record<string, string> = {};
  if (options.rule !== undefined) query['rule'] = options.rule;
  if (options.level !== undefined) query['level'] = options.level;
  if (options.from !== undefined) query['from'] = options.from;
  if (options.to !== undefined) query['to'] = options.to;
  if (options.limit !== undefined) query['limit'] = String(options.limit);
  const deadline = Date.now() + (options.waitMs ?? 0);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let cursor = options.cursor;
  const alerts: AlertView[] = [];
  for (;;) {
    const page = await signedJson<{ alerts: AlertView[]; cursor?: string }>(target, 'GET', '/v1/alerts', {
      ...query,
      ...(cursor ? { cursor } : {}),
    });
    if (alerts.length === 0 && page.alerts.length === 0 && options.waitMs !== undefined) {
      if (Date.now() >= deadline) {
        throw new AlertWaitTimeout(
          `no alert matched within ${Math.round(options.waitMs / 1000)} s. ${noAlertsText({}).split('\n').slice(1).join(' ').replace(/\s+/g, ' ')}`,
        );
      }
      await sleep(Math.min(WAIT_POLL_MS, Math.max(0, deadline - Date.now())));
      continue;
    }
    alerts.push(...page.alerts);
    cursor = page.cursor;
    if (!options.all || cursor === undefined || alerts.length >= options.max) break;
  }
  return cursor === undefined ? { alerts } : { alerts, cursor };
}

const LEVEL_WIDTH = 13;

/** The filters of a listing, as the options name them; an empty answer repeats them. */
export interface AlertFilters {
  readonly rule?: string | undefined;
  readonly level?: string | undefined;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
}

/** Why there are no alerts, and what to try next. */
function noAlertsText(filters: AlertFilters): string {
  const given = Object.entries(filters).filter(([, value]) => value !== undefined);
  return [
    given.length === 0
      ? 'No alerts: no detection rule has matched an event on this ledger yet.'
      : `No alerts match ${given.map(([name, value]) => `--${name} ${JSON.stringify(value)}`).join(' ')}.`,
    '  Rules run on every event as it lands; an alert shows here a few seconds after its event is stored.',
    '  To see some locally, replay the samples (real attack records among them):',
    '  npx auditseal local replay-cloudtrail examples/cloudtrail-sample.jsonl',
    '  Which rules run: docs/DETECTIONS.md.',
  ].join('\n');
}

/** A readable table: time, level, rule, what matched, alert id. */
export function renderAlerts(result: AlertsResult, filters: AlertFilters = {}): string {
  if (result.alerts.length === 0) return noAlertsText(filters);
  const rows = result.alerts.map((a) => [
    a.receivedAt,
    a.level.toUpperCase().padEnd(LEVEL_WIDTH),
    a.rule.title,
    a.kind === 'summary'
      ? `${a.count} event${a.count === 1 ? '' : 's'} (summary over the rate limit)`
      : (a.eventIds[0] ?? ''),
    a.alertId,
  ]);
  const header = ['RECEIVED', 'LEVEL'.padEnd(LEVEL_WIDTH), 'RULE', 'MATCHED EVENT', 'ALERT'];
  const widths = header.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => r[i]!.length))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) =>
        i === cells.length - 1
          ? c
          : c.length > widths[i]!
            ? `${c.slice(0, widths[i]! - 1)}…`
            : c.padEnd(widths[i]!),
      )
      .join('  ');
  const authors = [...new Set(result.alerts.flatMap((a) => (a.rule.author ? [a.rule.author] : [])))];
  return [
    line(header),
    ...rows.map(line),
    '',
    `${result.alerts.length} alert(s).${result.cursor ? ` More: --cursor ${result.cursor}` : ''}`,
    ...(authors.length > 0 ? [`Sigma rules by ${authors.join('; ')} (Detection Rule License 1.1).`] : []),
  ].join('\n');
}

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
  let cursor = options.cursor;
  const alerts: AlertView[] = [];
  for (;;) {
    const page = await signedJson<{ alerts: AlertView[]; cursor?: string }>(target, 'GET', '/v1/alerts', {
      ...query,
      ...(cursor ? { cursor } : {}),
    });
    alerts.push(...page.alerts);
    cursor = page.cursor;
    if (!options.all || cursor === undefined || alerts.length >= options.max) break;
  }
  return cursor === undefined ? { alerts } : { alerts, cursor };
}

const LEVEL_WIDTH = 13;

/** A readable table: time, level, rule, what matched, alert id. */
export function renderAlerts(result: AlertsResult): string {
  if (result.alerts.length === 0) return 'No alerts.';
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

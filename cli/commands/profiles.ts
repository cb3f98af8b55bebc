/**
 * The resource profile commands, thin shells over the API (docs/API.md "Resource profiles"):
 * - `auditseal put-profile FILE` (writer role): records the profile in FILE as the resource's next version;
 * - `auditseal profile ID [--at T] [--json]` (reader role): the version in force at T, or the latest;
 * - `auditseal timeline ID [--from T] [--to T] [--all] [--json]` (reader role): versions with their diffs
 *   and the events on the resource, in time order.
 */
import { readFile } from 'node:fs/promises';
import { resourcePath } from '../../shared/profiles/api.ts';
import { type ApiTarget, resolveTarget, signedJson } from '../api-client.ts';
import { UsageError } from '../errors.ts';
import type { ApiOptions } from './read-events.ts';

async function target(role: 'reader' | 'writer', o: ApiOptions, given?: ApiTarget): Promise<ApiTarget> {
  return (
    given ??
    resolveTarget({
      role,
      ...(o.endpoint ? { endpoint: o.endpoint } : {}),
      ...(o.localFile ? { localFile: o.localFile } : {}),
    })
  );
}

type Json = Record<string, unknown>;

/** `auditseal put-profile FILE`: the answer of `PUT /v1/resources/{id}/profile`. */
export async function runPutProfile(file: string, options: ApiOptions, given?: ApiTarget): Promise<Json> {
  let profile: unknown;
  try {
    profile = JSON.parse(await readFile(file, 'utf8'));
  } catch (cause) {
    throw new UsageError(`${file} is not a readable JSON file`, { cause });
  }
  const id = (profile as { resourceId?: unknown } | null)?.resourceId;
  if (typeof id !== 'string' || id === '') throw new UsageError(`${file} has no resourceId`);
  const api = await target('writer', options, given);
  return signedJson<Json>(api, 'PUT', resourcePath(id, '/profile'), {}, profile);
}

export function renderPutProfile(body: Json): string {
  const v = body['version'] as Json;
  const diff = body['diff'] as { patch?: unknown[] } | undefined;
  return [
    `${body['status'] === 'created' ? 'Recorded' : 'Unchanged:'} version ${v['n']} of ${v['resourceId']} (hash ${String(v['hash']).slice(0, 16)}…, event ${v['eventId']})`,
    ...(diff?.patch ? [`${diff.patch.length} change(s) from the version before it in time`] : []),
  ].join('\n');
}

/** `auditseal profile ID [--at T]`. */
export async function runProfile(
  id: string,
  at: string | undefined,
  options: ApiOptions,
  given?: ApiTarget,
): Promise<Json> {
  const api = await target('reader', options, given);
  return signedJson<Json>(api, 'GET', resourcePath(id, '/profile'), at === undefined ? {} : { at });
}

export function renderProfile(body: Json): string {
  const v = body['version'] as Json;
  return [
    `${v['resourceId']} version ${v['n']} (${body['state']}), in force from ${v['effectiveAt']}, recorded ${v['recordedAt']}`,
    `hash ${v['hash']}  event ${v['eventId']}`,
    JSON.stringify(v['profile'], null, 2),
  ].join('\n');
}

export interface TimelineOptions extends ApiOptions {
  readonly from?: string;
  readonly to?: string;
  readonly limit?: string;
  readonly all: boolean;
}

/** `auditseal timeline ID`: one page, or every page with `all`. */
export async function runTimeline(
  id: string,
  options: TimelineOptions,
  given?: ApiTarget,
): Promise<{ resourceId: string; items: Json[]; nextCursor?: string }> {
  const api = await target('reader', options, given);
  const query: Record<string, string> = {};
  for (const name of ['from', 'to', 'limit'] as const) {
    const value = options[name];
    if (value !== undefined) query[name] = value;
  }
  const items: Json[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await signedJson<{ items: Json[]; nextCursor?: string }>(
      api,
      'GET',
      resourcePath(id, '/timeline'),
      { ...query, ...(cursor ? { cursor } : {}) },
    );
    items.push(...page.items);
    cursor = page.nextCursor;
    pages++;
  } while (options.all && cursor !== undefined && pages < 100_000);
  return { resourceId: id, items, ...(cursor === undefined ? {} : { nextCursor: cursor }) };
}

/** One line per item; each version's diff as `op path: before → after` lines under it. */
export function renderTimeline(page: { resourceId: string; items: Json[]; nextCursor?: string }): string {
  const lines = [`Timeline of ${page.resourceId}`];
  for (const item of page.items) {
    if (item['kind'] === 'event') {
      const e = item['event'] as Json;
      lines.push(`${item['time']}  event    ${e['action']} by ${e['actor']} (${e['outcome']})  ${e['id']}`);
      continue;
    }
    const v = item['version'] as Json;
    const diff = item['diff'] as { from?: number | null; patch?: Json[]; notCompared?: string[] };
    const flags = [
      v['tombstone'] ? 'deleted' : '',
      v['configurationDelivered'] ? '' : 'configuration not delivered',
    ]
      .filter(Boolean)
      .join(', ');
    lines.push(
      `${item['time']}  version  ${v['n']}${flags ? ` (${flags})` : ''}  hash ${String(v['hash']).slice(0, 16)}…`,
    );
    for (const op of diff.patch ?? []) {
      const value = 'value' in op ? ` = ${JSON.stringify(op['value']).slice(0, 120)}` : '';
      lines.push(`    ${op['op']} ${op['path']}${value}`);
    }
    if ((diff.notCompared ?? []).length > 0) lines.push(`    not compared: ${diff.notCompared!.join(', ')}`);
  }
  lines.push(`${page.items.length} item(s)${page.nextCursor ? '; more follow (use --all)' : ''}`);
  return lines.join('\n');
}

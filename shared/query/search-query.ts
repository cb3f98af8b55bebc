/**
 * `GET /v1/events`: the query parameters (one strict zod schema: the handler validates with it and
 * docs/openapi.json is generated from it) and the plan that picks the index serving them.
 *
 * Index choice, most selective first: resource, actor, action, then the kind index (channel × outcome).
 * The other filters are checked on each index item (a DynamoDB FilterExpression). docs/LEDGER-TABLE.md.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalString } from '../canonical/jcs.ts';
import { EVENT_CHANNELS, OUTCOME_RESULTS } from '../events/audit-event.ts';
import { parseRfc3339 } from '../events/rfc3339.ts';
import type { IndexKey, IndexPartition, ResidualFilters } from './ports.ts';

/** Results per page when `limit` is not given, and the most a page may ask for. */
export const DEFAULT_SEARCH_LIMIT = 50;
export const MAX_SEARCH_LIMIT = 500;
/** Longest cursor accepted (the service's own are far shorter). */
export const MAX_CURSOR_LENGTH = 1024;

/** Channels a search can name: every channel of the event schema. */
export const SEARCH_CHANNELS = EVENT_CHANNELS;
/**
 * Channels whose events live in the ledger table: `import` events are sealed offline (`auditseal seal`)
 * and never stored there, so a search without a channel does not read their partitions.
 */
export const TABLE_CHANNELS = EVENT_CHANNELS.filter((channel) => channel !== 'import');

const text = (max: number, what: string) =>
  z
    .string()
    .min(1, `${what} must not be empty`)
    .max(max, `${what} is longer than ${max} characters`)
    .meta({ description: `${what} (exact match)` });

const rfc3339 = z
  .string()
  .max(35)
  .refine((value) => parseRfc3339(value) !== undefined, 'must be an RFC 3339 date-time with a time zone')
  .meta({
    description: 'RFC 3339 date-time with a time zone, compared with the time the ledger received the event',
  });

/** The query parameters of `GET /v1/events`, as received (strings). */
export const searchParametersSchema = z
  .strictObject({
    actor: text(512, 'actor id'),
    resource: text(2048, 'resource id'),
    action: text(256, 'action'),
    outcome: z.enum(OUTCOME_RESULTS),
    channel: z.enum(SEARCH_CHANNELS).meta({ description: 'how the event arrived' }),
    source: z.enum(SEARCH_CHANNELS).meta({ description: 'same as channel' }),
    from: rfc3339.meta({ description: 'events received at or after this time' }),
    to: rfc3339.meta({ description: 'events received before this time' }),
    limit: z
      .string()
      .regex(/^[1-9]\d{0,3}$/, `must be a whole number from 1 to ${MAX_SEARCH_LIMIT}`)
      .refine((value) => Number(value) <= MAX_SEARCH_LIMIT, `must be at most ${MAX_SEARCH_LIMIT}`)
      .meta({ description: `results per page, default ${DEFAULT_SEARCH_LIMIT}` }),
    cursor: z
      .string()
      .max(MAX_CURSOR_LENGTH)
      .regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'is not a cursor of this service')
      .meta({ description: 'the nextCursor of the previous page of the same query' }),
    receipts: z.enum(['true', 'false']).meta({ description: 'true: each result carries its receipt' }),
    include: z.enum(['profile']).meta({
      description:
        "profile: each result carries the version of its resource in force at the event's time, and the one after it when the event changed the resource",
    }),
  })
  .partial()
  .superRefine((q, ctx) => {
    if (q.channel !== undefined && q.source !== undefined && q.channel !== q.source) {
      ctx.addIssue({ code: 'custom', path: ['source'], message: 'source and channel differ' });
    }
    if (q.from !== undefined && q.to !== undefined && parseRfc3339(q.from)! >= parseRfc3339(q.to)!) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'to must be after from' });
    }
  });

export type SearchParameters = z.infer<typeof searchParametersSchema>;

/** A validated search. Times are `YYYY-MM-DDTHH:MM:SS.sssZ`. */
export interface SearchQuery {
  readonly actor?: string;
  readonly resource?: string;
  readonly action?: string;
  readonly outcome?: (typeof OUTCOME_RESULTS)[number];
  readonly channel?: (typeof SEARCH_CHANNELS)[number];
  readonly from?: string;
  readonly to?: string;
  readonly limit: number;
  readonly cursor?: string;
  readonly receipts: boolean;
}

/** The search a set of validated parameters asks for. */
export function toSearchQuery(p: SearchParameters): SearchQuery {
  const time = (value: string | undefined) =>
    value === undefined ? undefined : new Date(parseRfc3339(value)!).toISOString();
  const channel = p.channel ?? p.source;
  const from = time(p.from);
  const to = time(p.to);
  return {
    ...(p.actor === undefined ? {} : { actor: p.actor }),
    ...(p.resource === undefined ? {} : { resource: p.resource }),
    ...(p.action === undefined ? {} : { action: p.action }),
    ...(p.outcome === undefined ? {} : { outcome: p.outcome }),
    ...(channel === undefined ? {} : { channel }),
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
    limit: p.limit === undefined ? DEFAULT_SEARCH_LIMIT : Number(p.limit),
    ...(p.cursor === undefined ? {} : { cursor: p.cursor }),
    receipts: p.receipts === 'true',
  };
}

/** Lower and upper bounds of every sort key (`<receivedAt>#<id>`): before and after any time. */
export const EARLIEST = '0000';
export const LATEST = '9999-99';

/** How a search reads: the partitions it merges, the filters checked on each item, its time window. */
export interface SearchPlan {
  readonly index: IndexKey['index'];
  readonly partitions: readonly IndexPartition[];
  readonly filters: ResidualFilters;
  /** Inclusive lower bound of the sort keys. */
  readonly from: string;
  /** Exclusive upper bound of the sort keys. */
  readonly below: string;
}

/** Picks the index for a query and lists its partitions (`shards` per index key). */
export function planSearch(query: SearchQuery, shards: number): SearchPlan {
  const { actor, resource, action, outcome, channel } = query;
  let keys: IndexKey[];
  let filters: ResidualFilters;
  if (resource !== undefined) {
    keys = [{ index: 'resource', value: resource }];
    filters = { ...defined({ actor, action, outcome, channel }) };
  } else if (actor !== undefined) {
    keys = [{ index: 'actor', value: actor }];
    filters = { ...defined({ action, outcome, channel }) };
  } else if (action !== undefined) {
    keys = [{ index: 'action', value: action }];
    filters = { ...defined({ outcome, channel }) };
  } else {
    const channels = channel === undefined ? TABLE_CHANNELS : [channel];
    const outcomes = outcome === undefined ? (['success', 'failure'] as const) : [outcome];
    keys = channels.flatMap((c) =>
      outcomes.map((o): IndexKey => ({ index: 'kind', channel: c, outcome: o })),
    );
    filters = {};
  }
  const partitions = keys.flatMap((key) => Array.from({ length: shards }, (_, shard) => ({ key, shard })));
  return {
    index: keys[0]!.index,
    partitions,
    filters,
    from: query.from ?? EARLIEST,
    below: query.to ?? LATEST,
  };
}

/**
 * What a cursor is bound to: every filter and the time window (not `limit` nor `receipts`, which may
 * change from page to page), and the ledger. Hex SHA-256 of their JCS form.
 */
export function queryHash(ledger: string, query: SearchQuery): string {
  const bound = {
    v: 'auditseal.search.v1',
    ledger,
    ...defined({
      actor: query.actor,
      resource: query.resource,
      action: query.action,
      outcome: query.outcome,
      channel: query.channel,
      from: query.from,
      to: query.to,
    }),
  };
  return createHash('sha256').update(canonicalString(bound), 'utf8').digest('hex');
}

function defined<T extends Record<string, string | undefined>>(values: T): Partial<Record<keyof T, string>> {
  const out: Partial<Record<keyof T, string>> = {};
  for (const [name, value] of Object.entries(values)) if (value !== undefined) out[name as keyof T] = value;
  return out;
}

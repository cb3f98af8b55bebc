/**
 * `GET /v1/events`: one page of a search (docs/API.md). The plan picks an index, the cursor (if any) is
 * checked against the query, the index partitions are merged newest first, and each result carries the
 * event's stored canonical JSON (the bytes its receipt and proof commit to) and, on request, its receipt.
 */
import type { Receipt } from '../ledger/formats.ts';
import type { StoredEventId } from '../ports/ledger-store.ts';
import type { CursorCodec } from './cursor.ts';
import { QueryError } from './errors.ts';
import { mergePartitions } from './merge-partitions.ts';
import type { EventIndex } from './ports.ts';
import { planSearch, queryHash, type SearchQuery } from './search-query.ts';

/** One result. */
export interface SearchHit {
  readonly id: string;
  readonly receivedAt: string;
  /** The event's stored canonical JSON text (FORMAT.md §1): exactly the bytes its leaf hash commits to. */
  readonly eventJson: string;
  readonly receipt?: Receipt;
}

/** One page of results. */
export interface SearchPage {
  readonly events: SearchHit[];
  /** Present when more results may follow: pass it back as `cursor` with the same filters. */
  readonly nextCursor?: string;
  /** Which index served the search. */
  readonly index: string;
  /** Index items read for this page (matching or not). */
  readonly itemsRead: number;
}

export interface SearchDeps {
  readonly ledger: string;
  readonly index: EventIndex;
  readonly cursors: CursorCodec;
  /** The id records (with receipts) of events, for `receipts=true`. */
  readonly receipts: {
    findEventIds(ledger: string, ids: readonly string[]): Promise<Map<string, StoredEventId>>;
  };
  /** Index items one page may read before it ends early; default 20 × limit, at least 2,000. */
  readonly readBudget?: number;
  /** Largest JSON body of a page; results past it move to the next page. Default 5,000,000 bytes. */
  readonly maxResponseBytes?: number;
}

export const DEFAULT_MAX_RESPONSE_BYTES = 5_000_000;

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Runs one page of a validated search. */
export async function searchEvents(query: SearchQuery, deps: SearchDeps): Promise<SearchPage> {
  const plan = planSearch(query, deps.index.shards);
  const hash = queryHash(deps.ledger, query);
  const below = query.cursor === undefined ? plan.below : deps.cursors.decode(query.cursor, hash);
  if (below > plan.below || below < plan.from) {
    throw new QueryError('INVALID_CURSOR', 'cursor lies outside the query time range');
  }
  const merged = await mergePartitions(deps.index, {
    ledger: deps.ledger,
    partitions: plan.partitions,
    filters: plan.filters,
    from: plan.from,
    below,
    limit: query.limit,
    readBudget: deps.readBudget ?? Math.max(2_000, 20 * query.limit),
  });

  let receipts: Map<string, StoredEventId> | undefined;
  if (query.receipts && merged.events.length > 0) {
    receipts = await deps.receipts.findEventIds(
      deps.ledger,
      merged.events.map((e) => e.id),
    );
  }
  const maxBytes = deps.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const events: SearchHit[] = [];
  let bytes = 200;
  let resumeBelow = merged.resumeBelow;
  for (const event of merged.events) {
    const hit: SearchHit = {
      id: event.id,
      receivedAt: event.receivedAt,
      eventJson: decoder.decode(event.bytes),
      ...(receipts?.get(event.id) ? { receipt: receipts.get(event.id)!.receipt } : {}),
    };
    const size = JSON.stringify(hit).length + 1;
    if (events.length > 0 && bytes + size > maxBytes) {
      // Everything newer than the last result kept is in this page; the rest follows.
      resumeBelow = skOf(events.at(-1)!);
      break;
    }
    bytes += size;
    events.push(hit);
  }
  return {
    events,
    ...(resumeBelow === undefined ? {} : { nextCursor: deps.cursors.encode(hash, resumeBelow) }),
    index: plan.index,
    itemsRead: merged.itemsRead,
  };
}

function skOf(hit: SearchHit): string {
  return `${hit.receivedAt}#${hit.id}`;
}

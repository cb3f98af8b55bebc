/**
 * One page of a search: a lazy k-way merge, newest first, of the index partitions a plan names (one per
 * shard of each index key). Each partition is read a page at a time, only when the merge needs its next
 * item, so a page reads about what it returns plus one small page per partition.
 *
 * Invariant: every item emitted is newer than every item not yet emitted, so the page's last sort key is
 * an exact resume position (nothing skipped, nothing repeated). A read budget bounds the cost of a page
 * whose filters match little: when it is spent, the page ends early at a position every partition has
 * read past, and says where to resume (docs/API.md, "Cursors").
 */
import type { EventIndex, IndexedEvent, IndexPartition, PartitionWindow, ResidualFilters } from './ports.ts';

export interface MergeRequest {
  readonly ledger: string;
  readonly partitions: readonly IndexPartition[];
  readonly filters: ResidualFilters;
  /** Inclusive lower bound of the sort keys. */
  readonly from: string;
  /** Exclusive upper bound of the sort keys: the query's `to`, or the cursor position. */
  readonly below: string;
  readonly limit: number;
  /** Once this many index items were read, no partition is read again in this page. */
  readonly readBudget: number;
  /** Most partitions read at once. */
  readonly concurrency?: number;
}

export interface MergedPage {
  /** Newest first. */
  readonly events: IndexedEvent[];
  /** Exclusive upper bound of the next page's sort keys, or undefined when the search is complete. */
  readonly resumeBelow?: string;
  /** Index items read (what DynamoDB bills), matching or not. */
  readonly itemsRead: number;
  /** Partition reads (Query calls). */
  readonly reads: number;
}

/** Most items one partition read asks for. */
const MAX_PAGE = 1000;

interface PartitionState {
  readonly partition: IndexPartition;
  buffer: IndexedEvent[];
  /** Next buffered item to emit. */
  head: number;
  exhausted: boolean;
  resume?: unknown;
  /** Sort key of the last item read: everything newer in the partition has been read. */
  frontier?: string;
  pageSize: number;
}

/** Merges one page. */
export async function mergePartitions(index: EventIndex, request: MergeRequest): Promise<MergedPage> {
  const { limit } = request;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be a whole number ≥ 1');
  const n = request.partitions.length;
  // An even share of the page: most partitions are read once, some twice (with a small page).
  const firstPage = Math.min(MAX_PAGE, Math.ceil(limit / n));
  const filtered = Object.values(request.filters).some((value) => value !== undefined);
  const states: PartitionState[] = request.partitions.map((partition) => ({
    partition,
    buffer: [],
    head: 0,
    exhausted: false,
    pageSize: firstPage,
  }));
  let itemsRead = 0;
  let reads = 0;
  const concurrency = request.concurrency ?? 32;

  const fill = async (targets: PartitionState[]): Promise<void> => {
    for (let start = 0; start < targets.length; start += concurrency) {
      await Promise.all(
        targets.slice(start, start + concurrency).map(async (state) => {
          const window: PartitionWindow = {
            from: request.from,
            below: request.below,
            ...(state.resume === undefined ? {} : { resume: state.resume }),
          };
          const page = await index.queryPartition(
            request.ledger,
            state.partition,
            window,
            request.filters,
            state.pageSize,
          );
          reads++;
          itemsRead += page.itemsRead;
          state.buffer = page.events;
          state.head = 0;
          if (page.next === undefined) {
            state.exhausted = true;
          } else {
            state.resume = page.next.resume;
            state.frontier = page.next.sk;
          }
          // A refill asks for an even share of what the page still needs, so little is read past it; with
          // filters, matches are sparse and the page size doubles instead.
          const still = Math.max(1, limit - events.length);
          state.pageSize = filtered
            ? Math.min(MAX_PAGE, state.pageSize * 2)
            : Math.min(MAX_PAGE, Math.ceil(still / Math.max(1, active())));
        }),
      );
    }
  };

  const pending = (s: PartitionState) => s.head < s.buffer.length;
  const events: IndexedEvent[] = [];
  const active = () => states.filter((s) => !s.exhausted).length;
  await fill(states);
  let budgetSpent = false;
  while (events.length < limit) {
    const empty = states.filter((s) => !pending(s) && !s.exhausted);
    if (empty.length > 0) {
      if (itemsRead >= request.readBudget) {
        budgetSpent = true;
        break;
      }
      await fill(empty);
      continue;
    }
    let newest: PartitionState | undefined;
    for (const s of states) {
      if (pending(s) && (newest === undefined || s.buffer[s.head]!.sk > newest.buffer[newest.head]!.sk)) {
        newest = s;
      }
    }
    if (newest === undefined) break;
    events.push(newest.buffer[newest.head++]!);
  }

  const more = states.some((s) => pending(s) || !s.exhausted);
  if (!more) return { events, itemsRead, reads };
  if (!budgetSpent || events.length >= limit) {
    return { events, resumeBelow: events.at(-1)?.sk ?? request.below, itemsRead, reads };
  }
  // The budget ran out while some partition still had to be read. Every partition has been read down to
  // its frontier; above the highest frontier, every match is known: emit those (in order), resume below.
  let floor = '';
  for (const s of states)
    if (!s.exhausted && s.frontier !== undefined && s.frontier > floor) floor = s.frontier;
  const known: IndexedEvent[] = [];
  for (const s of states)
    for (let i = s.head; i < s.buffer.length && s.buffer[i]!.sk >= floor; i++) known.push(s.buffer[i]!);
  known.sort((a, b) => (a.sk < b.sk ? 1 : a.sk > b.sk ? -1 : 0));
  for (const event of known) {
    if (events.length >= limit) break;
    events.push(event);
  }
  const resumeBelow = events.length >= limit ? events.at(-1)!.sk : floor;
  return { events, resumeBelow, itemsRead, reads };
}

/**
 * The events of one resource in the order of their own time (ascending `<eventTime>#<id>`), for its
 * timeline (docs/PROFILES.md "Timeline"): the `byResourceTime` index (docs/LEDGER-TABLE.md "Search
 * indexes"), its `INDEX_SHARDS` partitions read forward from a position a page at a time and merged. A
 * timeline page reads about what it returns: each shard is read lazily, only when the merge needs its next
 * event, and profile-version events and read records are not in the index at all.
 *
 * Each item is shown only when its bytes agree with its attributes (`timelineEventFromStored`): index
 * attributes are not signed.
 */
import {
  type AttributeValue,
  type DynamoDBClient,
  QueryCommand,
  type QueryCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { LedgerUnavailableError } from '../../shared/ports/ledger-store.ts';
import { type TimelineEventView, timelineEventFromStored } from '../../shared/profiles/timeline-events.ts';
import { INDEX_SHARDS, indexPartitionKey, RESOURCE_TIME_INDEX } from './index-keys.ts';
import { mergeSorted } from './k-way-merge.ts';

/** Items of a shard's first Query. */
const FIRST_QUERY_LIMIT = 4;

export interface DynamoDbResourceEventsOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly ledger: string;
  /**
   * Most items per Query of one shard. Default 64. A shard's first Query asks for 4 and each next one for
   * twice as many: a page needs a head from all 16 shards but, spread over them, only a few items of each.
   */
  readonly pageSize?: number;
}

export class DynamoDbResourceEvents {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #ledger: string;
  readonly #pageSize: number;

  constructor(options: DynamoDbResourceEventsOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#ledger = options.ledger;
    this.#pageSize = options.pageSize ?? 64;
  }

  /** The resource's events with a timeline key at or after `fromKey` (`<eventTime>#…`), oldest first. */
  after(resourceId: string, fromKey: string): AsyncIterable<TimelineEventView> {
    const shards = Array.from({ length: INDEX_SHARDS }, (_, shard) =>
      this.#shard(resourceId, shard, fromKey),
    );
    return mergeSorted(shards, (a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async *#shard(
    resourceId: string,
    shard: number,
    fromKey: string,
  ): AsyncGenerator<TimelineEventView & { key: string }> {
    const { indexName, attribute, sortAttribute } = RESOURCE_TIME_INDEX;
    let startKey: Record<string, AttributeValue> | undefined;
    let limit = Math.min(FIRST_QUERY_LIMIT, this.#pageSize);
    do {
      const exclusiveStartKey = startKey;
      let output: QueryCommandOutput;
      try {
        output = await this.#client.send(
          new QueryCommand({
            TableName: this.#table,
            IndexName: indexName,
            KeyConditionExpression: '#pk = :pk AND #key >= :from',
            ProjectionExpression: '#key, #sk, #id, #receivedAt, #body, #leafHash',
            ExpressionAttributeNames: {
              '#pk': attribute,
              '#key': sortAttribute,
              '#sk': 'sk',
              '#id': 'id',
              '#receivedAt': 'receivedAt',
              '#body': 'body',
              '#leafHash': 'leafHash',
            },
            ExpressionAttributeValues: {
              ':pk': { S: indexPartitionKey(this.#ledger, { index: 'resource', value: resourceId }, shard) },
              // DynamoDB refuses an empty key value; every timeline key starts with a year.
              ':from': { S: fromKey === '' ? '0' : fromKey },
            },
            ScanIndexForward: true,
            Limit: limit,
            ...(exclusiveStartKey ? { ExclusiveStartKey: exclusiveStartKey } : {}),
          }),
        );
      } catch (error) {
        const name = (error as { name?: unknown }).name;
        if (name === 'ProvisionedThroughputExceededException' || name === 'ThrottlingException') {
          throw new LedgerUnavailableError('the resource index is throttled', [], { cause: error });
        }
        throw error;
      }
      for (const item of output.Items ?? []) {
        const view = viewOf(item, resourceId);
        if (view !== undefined) yield view;
      }
      startKey = output.LastEvaluatedKey;
      limit = Math.min(limit * 2, this.#pageSize);
    } while (startKey !== undefined);
  }
}

/** An index item as a timeline event, or undefined when it is not one to show (or not an event at all). */
function viewOf(
  item: Record<string, AttributeValue>,
  resourceId: string,
): (TimelineEventView & { key: string }) | undefined {
  const key = item[RESOURCE_TIME_INDEX.sortAttribute]?.S;
  const id = item['id']?.S;
  const receivedAt = item['receivedAt']?.S;
  const bytes = item['body']?.B;
  const leafHash = item['leafHash']?.B;
  if ([key, id, receivedAt, bytes, leafHash].includes(undefined)) return undefined;
  if (item['sk']?.S !== `${receivedAt}#${id}`) return undefined;
  const view = timelineEventFromStored(
    { key: key!, id: id!, receivedAt: receivedAt!, bytes: bytes!, leafHash: leafHash! },
    resourceId,
  );
  return view === undefined ? undefined : { key: key!, ...view };
}

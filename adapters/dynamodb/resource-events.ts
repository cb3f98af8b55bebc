/**
 * The events of one resource in ledger time order (ascending `<receivedAt>#<id>`), for its timeline
 * (docs/PROFILES.md "Timeline"): the `byResource` search index (docs/LEDGER-TABLE.md "Search indexes"),
 * its `INDEX_SHARDS` partitions read forward from a position a page at a time and merged. A timeline page
 * reads about what it returns: each shard is read lazily, only when the merge needs its next event.
 *
 * Profile-version events and read records are left out: the versions are on the timeline as versions,
 * and reads are not changes to the resource.
 */
import {
  type AttributeValue,
  type DynamoDBClient,
  QueryCommand,
  type QueryCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { LedgerUnavailableError } from '../../shared/ports/ledger-store.ts';
import type { TimelineEventView } from '../../shared/profiles/api.ts';
import { INDEX_ATTRIBUTES, INDEX_SHARDS, indexPartitionKey } from './index-keys.ts';
import { mergeSorted } from './k-way-merge.ts';

const HIDDEN_CHANNELS = new Set(['profile', 'read']);

export interface DynamoDbResourceEventsOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly ledger: string;
  /** Items per Query of one shard. Default 25. */
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
    this.#pageSize = options.pageSize ?? 25;
  }

  /** The resource's events with a sort key at or after `fromKey` (`<time>#…`), oldest first. */
  after(resourceId: string, fromKey: string): AsyncIterable<TimelineEventView> {
    const shards = Array.from({ length: INDEX_SHARDS }, (_, shard) =>
      this.#shard(resourceId, shard, fromKey),
    );
    return mergeSorted(shards, (a, b) => (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0));
  }

  async *#shard(
    resourceId: string,
    shard: number,
    fromKey: string,
  ): AsyncGenerator<TimelineEventView & { sk: string }> {
    const { indexName, attribute } = INDEX_ATTRIBUTES.resource;
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const exclusiveStartKey = startKey;
      let output: QueryCommandOutput;
      try {
        output = await this.#client.send(
          new QueryCommand({
            TableName: this.#table,
            IndexName: indexName,
            KeyConditionExpression: '#pk = :pk AND #sk >= :from',
            ProjectionExpression: '#sk, #id, #receivedAt, #body',
            ExpressionAttributeNames: {
              '#pk': attribute,
              '#sk': 'sk',
              '#id': 'id',
              '#receivedAt': 'receivedAt',
              '#body': 'body',
            },
            ExpressionAttributeValues: {
              ':pk': { S: indexPartitionKey(this.#ledger, { index: 'resource', value: resourceId }, shard) },
              // DynamoDB refuses an empty key value; every sort key starts with a year.
              ':from': { S: fromKey === '' ? '0' : fromKey },
            },
            ScanIndexForward: true,
            Limit: this.#pageSize,
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
    } while (startKey !== undefined);
  }
}

/** An index item as a timeline event, or undefined when it is not one to show (or not an event at all). */
function viewOf(
  item: Record<string, AttributeValue>,
  resourceId: string,
): (TimelineEventView & { sk: string }) | undefined {
  const sk = item['sk']?.S;
  const id = item['id']?.S;
  const receivedAt = item['receivedAt']?.S;
  const body = item['body']?.B;
  if (sk === undefined || id === undefined || receivedAt === undefined || body === undefined)
    return undefined;
  if (sk !== `${receivedAt}#${id}`) return undefined;
  let event: Record<string, unknown>;
  try {
    event = JSON.parse(Buffer.from(body).toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const resource = event['resource'] as { id?: unknown } | undefined;
  if (resource?.id !== resourceId || HIDDEN_CHANNELS.has(String(event['channel']))) return undefined;
  return { sk, ...timelineEventOf(event, receivedAt, Buffer.from(body).toString('utf8')) };
}

/** The timeline view of a stored event. */
export function timelineEventOf(
  event: Record<string, unknown>,
  receivedAt: string,
  eventJson: string,
): TimelineEventView {
  return {
    id: String(event['id']),
    time: receivedAt,
    eventTime: String(event['eventTime']),
    channel: String(event['channel']),
    action: String(event['action']),
    actor: String((event['actor'] as { id?: unknown } | undefined)?.id ?? ''),
    outcome: String((event['outcome'] as { result?: unknown } | undefined)?.result ?? ''),
    eventJson,
  };
}

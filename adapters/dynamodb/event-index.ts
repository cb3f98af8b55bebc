/**
 * `EventIndex` on the ledger table's search indexes (docs/LEDGER-TABLE.md, "Search indexes"): one
 * `Query` per partition read, newest first (`ScanIndexForward: false`), bounded by the window's sort keys,
 * with the residual filters as a `FilterExpression`. Index reads are eventually consistent, as every
 * global secondary index read is.
 */
import {
  type AttributeValue,
  type DynamoDBClient,
  QueryCommand,
  type QueryCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { LedgerUnavailableError } from '../../shared/ports/ledger-store.ts';
import type {
  EventIndex,
  IndexedEvent,
  IndexPartition,
  PartitionPage,
  PartitionWindow,
  ResidualFilters,
} from '../../shared/query/ports.ts';
import { INDEX_ATTRIBUTES, INDEX_SHARDS, indexPartitionKey } from './index-keys.ts';

export interface DynamoDbEventIndexOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
}

/** The stored attribute each residual filter compares. */
const FILTER_ATTRIBUTES: Record<keyof ResidualFilters, string> = {
  actor: 'actorId',
  resource: 'resourceId',
  action: 'action',
  outcome: 'outcome',
  channel: 'channel',
};

const SORT_KEY = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z#/;

export class DynamoDbEventIndex implements EventIndex {
  readonly shards = INDEX_SHARDS;
  readonly #client: DynamoDBClient;
  readonly #table: string;

  constructor(options: DynamoDbEventIndexOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
  }

  async queryPartition(
    ledger: string,
    partition: IndexPartition,
    window: PartitionWindow,
    filters: ResidualFilters,
    limit: number,
  ): Promise<PartitionPage> {
    const { indexName, attribute } = INDEX_ATTRIBUTES[partition.key.index];
    const names: Record<string, string> = {
      '#pk': attribute,
      '#sk': 'sk',
      '#id': 'id',
      '#receivedAt': 'receivedAt',
      '#body': 'body',
    };
    const values: Record<string, AttributeValue> = {
      ':pk': { S: indexPartitionKey(ledger, partition.key, partition.shard) },
      ':from': { S: window.from },
      ':below': { S: window.below },
    };
    const conditions: string[] = [];
    for (const [name, value] of Object.entries(filters) as [keyof ResidualFilters, string | undefined][]) {
      if (value === undefined) continue;
      names[`#f_${name}`] = FILTER_ATTRIBUTES[name];
      values[`:f_${name}`] = { S: value };
      conditions.push(`#f_${name} = :f_${name}`);
    }
    let output: QueryCommandOutput;
    try {
      output = await this.#client.send(
        new QueryCommand({
          TableName: this.#table,
          IndexName: indexName,
          KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :below',
          ...(conditions.length > 0 ? { FilterExpression: conditions.join(' AND ') } : {}),
          ProjectionExpression: '#sk, #id, #receivedAt, #body',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ScanIndexForward: false,
          // BETWEEN reads the exclusive upper bound too (the previous page's last item, first in this
          // order): a first read asks for one more, so a page of `limit` 1 still moves past it.
          Limit: window.resume === undefined ? limit + 1 : limit,
          ...(window.resume === undefined
            ? {}
            : { ExclusiveStartKey: window.resume as Record<string, AttributeValue> }),
        }),
      );
    } catch (error) {
      const name = (error as { name?: unknown }).name;
      if (name === 'ProvisionedThroughputExceededException' || name === 'ThrottlingException') {
        throw new LedgerUnavailableError('the search index is throttled', [], { cause: error });
      }
      throw error;
    }
    const events: IndexedEvent[] = [];
    for (const item of output.Items ?? []) {
      const event = indexedEvent(item);
      // The exclusive upper bound is read by BETWEEN and dropped here; an item without the shape the
      // ledger writes is not an event (the stream's FOREIGN_ROW alarm reports it).
      if (event !== undefined && event.sk !== window.below) events.push(event);
    }
    const last = output.LastEvaluatedKey;
    return {
      events,
      itemsRead: output.ScannedCount ?? output.Count ?? 0,
      ...(last === undefined ? {} : { next: { sk: last['sk']?.S ?? window.from, resume: last } }),
    };
  }
}

function indexedEvent(item: Record<string, AttributeValue>): IndexedEvent | undefined {
  const sk = item['sk']?.S;
  const id = item['id']?.S;
  const receivedAt = item['receivedAt']?.S;
  const body = item['body']?.B;
  if (sk === undefined || id === undefined || receivedAt === undefined || body === undefined)
    return undefined;
  if (!SORT_KEY.test(sk) || sk !== `${receivedAt}#${id}`) return undefined;
  return { sk, id, receivedAt, bytes: body };
}

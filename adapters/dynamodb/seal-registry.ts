/**
 * SealRegistry in the ledger table (docs/LEDGER-TABLE.md): the genesis item `LG#<ledger>`/`GENESIS` and
 * one put-only item per sealed period, `SE#<ledger>`/`<label>-<seconds>s`, whose sort keys order
 * chronologically. All writes are conditional puts; nothing is ever updated or deleted.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { compactLabel, type Period, parseCompactLabel } from '../../shared/ledger/period.ts';
import type { ChainHead } from '../../shared/ledger/seal-period.ts';
import type { DigestCatalog, SealPage } from '../../shared/ports/digest-catalog.ts';
import { SealRecordConflictError, type SealRegistry } from '../../shared/ports/sealing.ts';

export interface DynamoDbSealRegistryOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
}

function periodSortKey(p: Period): string {
  return `${compactLabel(p.startMs)}-${p.seconds}s`;
}

/** Cursor = the last sort key returned plus a suffix that sorts right after it. */
function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^\d{8}T\d{6}Z-\d+s!$/.test(text)) throw new RangeError('invalid pagination token');
  return text;
}

function parsePeriodSortKey(sk: string): Period | undefined {
  const m = /^(\d{8}T\d{6}Z)-(\d+)s$/.exec(sk);
  const startMs = m ? parseCompactLabel(m[1]!) : undefined;
  return startMs === undefined ? undefined : { startMs, seconds: Number(m![2]) };
}

export class DynamoDbSealRegistry implements SealRegistry, DigestCatalog {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;

  constructor(options: DynamoDbSealRegistryOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
  }

  async ensureGenesis(ledger: string, candidate: Period): Promise<Period> {
    const key = { pk: { S: `LG#${ledger}` }, sk: { S: 'GENESIS' } };
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { ...key, period: { S: periodSortKey(candidate) } },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return candidate;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = error.Item?.['period']?.S ?? (await this.readGenesis(key));
      const period = existing ? parsePeriodSortKey(existing) : undefined;
      if (!period) throw new Error(`ledger ${ledger} has an unreadable genesis item`);
      return period;
    }
  }

  private async readGenesis(key: Record<string, { S: string }>): Promise<string | undefined> {
    const result = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    return result.Item?.['period']?.S;
  }

  async lastSeal(ledger: string): Promise<ChainHead | undefined> {
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: `SE#${ledger}` } },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const item = result.Items?.[0];
    if (!item) return undefined;
    const period = parsePeriodSortKey(item['sk']?.S ?? '');
    if (!period) throw new Error(`unreadable seal item ${item['sk']?.S}`);
    return {
      ledger,
      period,
      sequence: Number(item['sequence']?.N),
      digestKey: item['digestKey']?.S ?? '',
      statementSha256: item['statementSha256']?.S ?? '',
    };
  }

  async *sealsNewestFirst(ledger: string): AsyncIterable<ChainHead> {
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page: QueryCommandOutput = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: `SE#${ledger}` } },
          ScanIndexForward: false,
          Limit: 25,
          ConsistentRead: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        const period = parsePeriodSortKey(item['sk']?.S ?? '');
        // An unreadable row is skipped here: the stream handler has already raised its alarm.
        if (period) yield this.headOf(ledger, item);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
  }

  async listSeals(
    ledger: string,
    fromMs: number,
    toMs: number,
    limit: number,
    cursor?: string,
  ): Promise<SealPage> {
    const start = cursor ? decodeCursor(cursor) : `${compactLabel(Math.max(0, fromMs))}`;
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': { S: `SE#${ledger}` },
          ':from': { S: start },
          ':to': { S: `${compactLabel(Math.max(0, toMs - 1000))}~` },
        },
        Limit: limit,
        ConsistentRead: true,
      }),
    );
    const items = (result.Items ?? []).map((item) => this.headOf(ledger, item));
    const last = result.LastEvaluatedKey?.['sk']?.S;
    return { items, ...(last ? { cursor: Buffer.from(`${last}!`, 'utf8').toString('base64url') } : {}) };
  }

  async getSeal(ledger: string, period: Period): Promise<ChainHead | undefined> {
    const result = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: `SE#${ledger}` }, sk: { S: periodSortKey(period) } },
        ConsistentRead: true,
      }),
    );
    return result.Item ? this.headOf(ledger, result.Item) : undefined;
  }

  private headOf(ledger: string, item: Record<string, { S?: string; N?: string }>): ChainHead {
    const period = parsePeriodSortKey(item['sk']?.S ?? '');
    if (!period) throw new Error(`unreadable seal item ${item['sk']?.S}`);
    return {
      ledger,
      period,
      sequence: Number(item['sequence']?.N),
      digestKey: item['digestKey']?.S ?? '',
      statementSha256: item['statementSha256']?.S ?? '',
    };
  }

  async recordSeal(head: ChainHead): Promise<void> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            pk: { S: `SE#${head.ledger}` },
            sk: { S: periodSortKey(head.period) },
            sequence: { N: String(head.sequence) },
            digestKey: { S: head.digestKey },
            statementSha256: { S: head.statementSha256 },
          },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      if (error.Item?.['statementSha256']?.S !== head.statementSha256) {
        throw new SealRecordConflictError(head.digestKey);
      }
    }
  }
}

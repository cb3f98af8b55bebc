/**
 * `ProfileStore` on the ledger table (docs/PROFILES.md "Storage", docs/LEDGER-TABLE.md "Profile versions").
 * All items of one resource share `pk = PV#<ledger>#<hex SHA-256(UTF-8 resourceId)>`; each version is three
 * put-only items written together:
 *
 * | item    | sk                                  | serves                                             |
 * | version | `N#<n, 16 digits>`                  | head, getVersion, listByChain                      |
 * | time    | `T#<effectiveAt>#<n, 16 digits>`    | versionAt, versionBefore, listByTime               |
 * | content | `C#<contentHash>`                   | findByContent, and the CONTENT_EXISTS condition    |
 *
 * Each `Put` has `attribute_not_exists(pk)`; for n > 1 a `ConditionCheck` on `N#<n−1>` checks that it
 * holds the hash the new version names. The service writes these items only inside the ledger transaction
 * of the version's event (`LedgerEvent.profileVersion`, `adapters/dynamodb/ledger-store.ts`), so a crash
 * never leaves a version without its sealed event or the reverse; `putVersion` writes them alone (the
 * port's contract, and tools). Every item names its event id, which the row recognizer checks (G5).
 *
 * Items read back are checked like ledger rows: the version item's bytes must parse (`parseVersionBytes`)
 * and agree with the key they sit under, or the read fails with `CORRUPT_ITEM`.
 */
import { createHash } from 'node:crypto';
import {
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  type QueryCommandOutput,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import {
  MAX_PROFILE_PAGE,
  type ProfileConflictReason,
  type ProfileStore,
  ProfileStoreError,
  ProfileStoreUnavailableError,
  ProfileVersionConflictError,
} from '../../shared/ports/profile-store.ts';
import { VersionDocumentError } from '../../shared/profiles/errors.ts';
import { profileVersionEventId } from '../../shared/profiles/ledger-event.ts';
import {
  type ProfileVersion,
  parseVersionBytes,
  type VersionTimeKey,
} from '../../shared/profiles/version.ts';
import type { Item } from './ledger-items.ts';

const IF_ABSENT = 'attribute_not_exists(pk)';
/** Chain positions are written with 16 digits, so sort keys sort like numbers (n ≤ 2^48 < 10^16). */
const POSITION_DIGITS = 16;

/** Partition of one resource's versions: `PV#<ledger>#<hex SHA-256(UTF-8 resourceId)>`. */
export function profilePartitionKey(ledger: string, resourceId: string): string {
  return `PV#${ledger}#${createHash('sha256').update(resourceId, 'utf8').digest('hex')}`;
}

function position(n: number): string {
  return String(n).padStart(POSITION_DIGITS, '0');
}

/** Sort key of a version item. */
export function versionSortKey(n: number): string {
  return `N#${position(n)}`;
}

/** Sort key of a time item: time order is (effectiveAt, n), and canonical ms times sort as strings. */
export function timeSortKey(key: VersionTimeKey): string {
  return `T#${key.effectiveAt}#${position(key.n)}`;
}

/** Sort key of a content item. */
export function contentSortKey(contentHash: string): string {
  return `C#${contentHash}`;
}

/** What one version adds to a transaction: three puts, and for n > 1 the check on its predecessor. */
export interface ProfileVersionWrite {
  readonly puts: readonly Item[];
  readonly previousCheck?: {
    readonly key: Item;
    readonly expression: string;
    readonly names: Record<string, string>;
    readonly values: Item;
  };
}

/**
 * The items of `version` (`puts`: version, time, content, in that order) and the condition on version
 * n−1. Each names the ledger event that carries the version (`eventId`).
 */
export function profileVersionWrite(ledger: string, version: ProfileVersion): ProfileVersionWrite {
  const pk = { S: profilePartitionKey(ledger, version.resourceId) };
  const eventId = { S: profileVersionEventId(version.resourceId, version.n) };
  const body: Item = {
    n: { N: String(version.n) },
    hash: { S: version.hash },
    contentHash: { S: version.contentHash },
    effectiveAt: { S: version.effectiveAt },
    recordedAt: { S: version.recordedAt },
    eventId,
    bytes: { B: version.bytes },
  };
  const puts: Item[] = [
    { pk, sk: { S: versionSortKey(version.n) }, ...body },
    { pk, sk: { S: timeSortKey(version) }, ...body },
    {
      pk,
      sk: { S: contentSortKey(version.contentHash) },
      n: { N: String(version.n) },
      hash: { S: version.hash },
      eventId,
    },
  ];
  if (version.previousHash === null) return { puts };
  return {
    puts,
    previousCheck: {
      key: { pk, sk: { S: versionSortKey(version.n - 1) } },
      expression: 'attribute_exists(pk) AND #hash = :previousHash',
      names: { '#hash': 'hash' },
      values: { ':previousHash': { S: version.previousHash } },
    },
  };
}

/** Why the items of a version were refused, from the cancellation reasons of its transaction (in write order). */
export function profileConflictReason(
  codes: readonly (string | undefined)[],
): ProfileConflictReason | undefined {
  const [version, time, content, previous] = codes;
  if (version === 'ConditionalCheckFailed' || time === 'ConditionalCheckFailed') return 'VERSION_TAKEN';
  if (previous === 'ConditionalCheckFailed') return 'PREVIOUS_MISMATCH';
  if (content === 'ConditionalCheckFailed') return 'CONTENT_EXISTS';
  return undefined;
}

/**
 * Reads a version or time item back: its bytes must be a valid version document of the resource whose
 * partition it is in, at the position (and time) its key names, with the attributes it carries.
 * Returns the reason it is not, or the version.
 */
export function parseProfileVersionItem(ledger: string, item: Item): ProfileVersion | string {
  const pk = item['pk']?.S;
  const sk = item['sk']?.S ?? '';
  const bytes = item['bytes']?.B;
  if (pk === undefined || bytes === undefined) return 'not a profile version item';
  let version: ProfileVersion;
  try {
    version = parseVersionBytes(bytes);
  } catch (error) {
    if (error instanceof VersionDocumentError)
      return `its bytes are not a version document: ${error.message}`;
    throw error;
  }
  if (profilePartitionKey(ledger, version.resourceId) !== pk)
    return 'its version belongs to another resource';
  if (sk !== versionSortKey(version.n) && sk !== timeSortKey(version)) {
    return 'its key is not the position or time of its version';
  }
  if (
    item['n']?.N !== String(version.n) ||
    item['hash']?.S !== version.hash ||
    item['contentHash']?.S !== version.contentHash ||
    item['effectiveAt']?.S !== version.effectiveAt ||
    item['recordedAt']?.S !== version.recordedAt ||
    item['eventId']?.S !== profileVersionEventId(version.resourceId, version.n)
  ) {
    return 'its attributes disagree with its version';
  }
  return version;
}

export interface DynamoDbProfileStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly ledger: string;
}

export class DynamoDbProfileStore implements ProfileStore {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #ledger: string;

  constructor(options: DynamoDbProfileStoreOptions) {
    if (typeof options.tableName !== 'string' || options.tableName === '') {
      throw new TypeError('DynamoDbProfileStore needs a table name');
    }
    this.#client = options.client;
    this.#table = options.tableName;
    this.#ledger = options.ledger;
  }

  async head(resourceId: string): Promise<ProfileVersion | undefined> {
    const [item] = await this.#query(resourceId, {
      condition: 'begins_with(#sk, :prefix)',
      values: { ':prefix': { S: 'N#' } },
      forward: false,
      limit: 1,
    });
    return item;
  }

  async getVersion(resourceId: string, n: number): Promise<ProfileVersion | undefined> {
    if (!Number.isSafeInteger(n) || n < 1) return undefined;
    const item = await this.#get(resourceId, versionSortKey(n));
    return item === undefined ? undefined : this.#parse(item);
  }

  async findByContent(resourceId: string, contentHash: string): Promise<ProfileVersion | undefined> {
    if (!/^[0-9a-f]{64}$/.test(contentHash)) return undefined;
    const item = await this.#get(resourceId, contentSortKey(contentHash));
    if (item === undefined) return undefined;
    const n = Number(item['n']?.N);
    const version = Number.isSafeInteger(n) && n >= 1 ? await this.getVersion(resourceId, n) : undefined;
    if (version === undefined || version.contentHash !== contentHash || item['hash']?.S !== version.hash) {
      throw corrupt(item, 'content item names no version with that content');
    }
    return version;
  }

  async versionAt(resourceId: string, at: string): Promise<ProfileVersion | undefined> {
    // The greatest time key ≤ (at, any n): `~` sorts after every digit.
    const [item] = await this.#query(resourceId, {
      condition: '#sk BETWEEN :low AND :high',
      values: { ':low': { S: 'T#' }, ':high': { S: `T#${at}#~` } },
      forward: false,
      limit: 1,
    });
    return item;
  }

  async versionBefore(resourceId: string, key: VersionTimeKey): Promise<ProfileVersion | undefined> {
    const [item] = await this.#query(resourceId, {
      condition: '#sk BETWEEN :low AND :high',
      values: { ':low': { S: 'T#' }, ':high': { S: justBefore(timeSortKey(key)) } },
      forward: false,
      limit: 1,
    });
    return item;
  }

  async listByTime(
    resourceId: string,
    page: { readonly after?: VersionTimeKey; readonly limit: number },
  ): Promise<ProfileVersion[]> {
    const limit = pageLimit(page.limit);
    // Time items have the highest prefix of the partition, so "greater than" stays among them.
    const after = page.after === undefined ? 'T#' : timeSortKey(page.after);
    return this.#query(resourceId, {
      condition: '#sk > :after',
      values: { ':after': { S: after } },
      forward: true,
      limit,
    });
  }

  async listByChain(
    resourceId: string,
    page: { readonly afterN?: number; readonly limit: number },
  ): Promise<ProfileVersion[]> {
    const limit = pageLimit(page.limit);
    const afterN = Math.max(0, page.afterN ?? 0);
    return this.#query(resourceId, {
      condition: '#sk BETWEEN :low AND :high',
      values: { ':low': { S: versionSortKey(afterN + 1) }, ':high': { S: 'N#~' } },
      forward: true,
      limit,
    });
  }

  async putVersion(version: ProfileVersion): Promise<void> {
    const write = profileVersionWrite(this.#ledger, version);
    const items = [
      ...write.puts.map((item) => ({
        Put: { TableName: this.#table, Item: item, ConditionExpression: IF_ABSENT },
      })),
      ...(write.previousCheck
        ? [
            {
              ConditionCheck: {
                TableName: this.#table,
                Key: write.previousCheck.key,
                ConditionExpression: write.previousCheck.expression,
                ExpressionAttributeNames: write.previousCheck.names,
                ExpressionAttributeValues: write.previousCheck.values,
              },
            },
          ]
        : []),
    ];
    try {
      await this.#call(() => this.#client.send(new TransactWriteItemsCommand({ TransactItems: items })));
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reason = profileConflictReason((error.CancellationReasons ?? []).map((r) => r.Code));
      if (reason === undefined) {
        throw new ProfileStoreUnavailableError('the version transaction was cancelled', { cause: error });
      }
      throw await this.conflict(reason, version);
    }
  }

  /** The conflict error for a refused `version`, with the head as the store now has it. */
  async conflict(
    reason: ProfileConflictReason,
    version: ProfileVersion,
  ): Promise<ProfileVersionConflictError> {
    const current = await this.head(version.resourceId);
    const existing =
      reason === 'CONTENT_EXISTS'
        ? await this.findByContent(version.resourceId, version.contentHash)
        : undefined;
    return new ProfileVersionConflictError(reason, version.resourceId, version.n, current, existing);
  }

  async #get(resourceId: string, sk: string): Promise<Item | undefined> {
    const output = await this.#call(() =>
      this.#client.send(
        new GetItemCommand({
          TableName: this.#table,
          Key: { pk: { S: profilePartitionKey(this.#ledger, resourceId) }, sk: { S: sk } },
          ConsistentRead: true,
        }),
      ),
    );
    return output.Item;
  }

  /** A strongly consistent Query of one resource's partition, page after page until `limit` versions. */
  async #query(
    resourceId: string,
    query: { condition: string; values: Item; forward: boolean; limit: number },
  ): Promise<ProfileVersion[]> {
    const versions: ProfileVersion[] = [];
    let startKey: Item | undefined;
    do {
      const exclusiveStartKey = startKey;
      const page: QueryCommandOutput = await this.#call(() =>
        this.#client.send(
          new QueryCommand({
            TableName: this.#table,
            KeyConditionExpression: `#pk = :pk AND ${query.condition}`,
            ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
            ExpressionAttributeValues: {
              ':pk': { S: profilePartitionKey(this.#ledger, resourceId) },
              ...query.values,
            },
            ScanIndexForward: query.forward,
            ConsistentRead: true,
            Limit: query.limit - versions.length,
            ...(exclusiveStartKey ? { ExclusiveStartKey: exclusiveStartKey } : {}),
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        const version = this.#parse(item);
        if (version.resourceId !== resourceId) throw corrupt(item, 'its version belongs to another resource');
        versions.push(version);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined && versions.length < query.limit);
    return versions;
  }

  #parse(item: Item): ProfileVersion {
    const parsed = parseProfileVersionItem(this.#ledger, item);
    if (typeof parsed === 'string') throw corrupt(item, parsed);
    return parsed;
  }

  async #call<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      if (isTransient(error)) {
        throw new ProfileStoreUnavailableError(`DynamoDB unavailable: ${(error as Error).name}`, {
          cause: error,
        });
      }
      throw error;
    }
  }
}

/** The greatest key below `key` among keys of the same shape: `key` with its last character decremented. */
function justBefore(key: string): string {
  const last = key.charCodeAt(key.length - 1);
  return `${key.slice(0, -1)}${String.fromCharCode(last - 1)}~`;
}

function pageLimit(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PROFILE_PAGE) {
    throw new RangeError(`limit must be an integer in 1..${MAX_PROFILE_PAGE}`);
  }
  return limit;
}

function corrupt(item: Item, reason: string): ProfileStoreError {
  return new ProfileStoreError(
    'CORRUPT_ITEM',
    `profile item ${item['pk']?.S ?? '?'} / ${item['sk']?.S ?? '?'} is corrupt: ${reason}`,
  );
}

const TRANSIENT_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TransactionInProgressException',
  'TimeoutError',
]);

function isTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (TRANSIENT_ERRORS.has(error.name)) return true;
  if ((error as { $fault?: unknown }).$fault === 'server') return true;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(code);
}

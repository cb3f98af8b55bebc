/**
 * Delivers a DynamoDB stream to a handler the way Lambda's event source mapping does:
 * https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html
 *
 * - Shards are read in parallel; records of one shard in order, one batch at a time. A child shard starts
 *   only once its parent is finished (closed and fully delivered); shards appearing later are picked up.
 * - A batch holds up to `batchSize` records.
 * - A handler that throws (or times out) fails the whole batch. With `bisectBatchOnFunctionError` the batch
 *   is split in two and each half retried on its own, down to single records; splitting does not count as
 *   a retry.
 * - With `reportBatchItemFailures`, a returned `batchItemFailures` list checkpoints just before the failed
 *   record with the lowest sequence number and retries from it. An identifier that is empty or names no
 *   record of the batch fails the whole batch. Without the setting the response is ignored.
 * - After `maximumRetryAttempts` retries (-1: forever) the failing records go to `onFailure` (the on-failure
 *   destination: logged and kept by the caller) and delivery moves on.
 * - Checkpoints are written after each batch, so a restart resumes after the last completed batch:
 *   at-least-once, like Lambda.
 *
 * @example
 * const poller = await startStreamPoller({ client, streamArn, handler, checkpointFile, region: 'us-east-1' });
 * await poller.stop();
 */

import type { _Record, DynamoDBStreamsClient, Shard } from '@aws-sdk/client-dynamodb-streams';
import {
  DescribeStreamCommand,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ResourceNotFoundException,
  TrimmedDataAccessException,
} from '@aws-sdk/client-dynamodb-streams';
import type { Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { lambdaContext } from './lambda-context.ts';
import { CheckpointStore } from './stream-checkpoints.ts';
import { awsStreamArn, lambdaStreamRecord } from './stream-records.ts';

/** The stream function's signature: it resolves with a `DynamoDBBatchResponse` or nothing. */
export type StreamHandler = (event: DynamoDBStreamEvent, context: Context) => Promise<unknown>;

/** Records the poller gave up on, as the on-failure destination receives them. */
export interface StreamBatchFailure {
  readonly shardId: string;
  readonly reason: 'FunctionError' | 'PartialBatchFailure';
  /** Invocations of the last, failing batch. */
  readonly attempts: number;
  readonly records: readonly DynamoDBRecord[];
  readonly firstSequenceNumber: string;
  readonly lastSequenceNumber: string;
}

export interface StreamPollerOptions {
  readonly client: DynamoDBStreamsClient;
  /** The stream ARN as DynamoDB Local names it. */
  readonly streamArn: string;
  readonly handler: StreamHandler;
  /** JSON file of per-shard checkpoints, e.g. `.auditseal/stream-checkpoints.json`. */
  readonly checkpointFile: string;
  /** The region records and ARNs are reported in. */
  readonly region: string;
  readonly accountId?: string;
  readonly functionName?: string;
  readonly batchSize?: number;
  readonly startingPosition?: 'TRIM_HORIZON' | 'LATEST';
  readonly bisectBatchOnFunctionError?: boolean;
  readonly reportBatchItemFailures?: boolean;
  readonly maximumRetryAttempts?: number;
  /** Lambda's function timeout: a longer invocation counts as a failure. Default 60 s. */
  readonly functionTimeoutMs?: number;
  /** Delay between polls of a shard with no new records. Default 250 ms, Lambda's four polls a second. */
  readonly pollIntervalMs?: number;
  /** How often to look for new shards. Default 5 s. */
  readonly discoveryIntervalMs?: number;
  /** Delay before retry `attempt` (1, 2, …). Default 100 ms doubling up to 5 s. */
  readonly retryDelayMs?: (attempt: number) => number;
  /** The on-failure destination. Default: log. */
  readonly onFailure?: (failure: StreamBatchFailure) => void | Promise<void>;
  readonly log?: (line: string) => void;
}

/** A running poller. */
export interface StreamPoller {
  /** Stops polling, waits for the batch in flight (up to `functionTimeoutMs`) and the last checkpoint. */
  stop(): Promise<void>;
  /** Rejects if discovery or a shard worker failed for good (not for handler failures, which are retried). */
  readonly failed: Promise<never>;
}

interface Settings {
  readonly client: DynamoDBStreamsClient;
  readonly streamArn: string;
  readonly handler: StreamHandler;
  readonly region: string;
  readonly accountId: string;
  readonly functionName: string;
  readonly batchSize: number;
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
  readonly bisect: boolean;
  readonly reportBatchItemFailures: boolean;
  readonly maximumRetryAttempts: number;
  readonly functionTimeoutMs: number;
  readonly pollIntervalMs: number;
  readonly discoveryIntervalMs: number;
  readonly retryDelayMs: (attempt: number) => number;
  readonly onFailure: (failure: StreamBatchFailure) => void | Promise<void>;
  readonly log: (line: string) => void;
  readonly eventSourceARN: string;
  readonly checkpoints: CheckpointStore;
  readonly stopping: AbortSignal;
}

/** Starts polling; resolves once the checkpoint file is read. */
export async function startStreamPoller(options: StreamPollerOptions): Promise<StreamPoller> {
  const batchSize = options.batchSize ?? 100;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    throw new RangeError(`batchSize must be 1 to 10000, got ${batchSize}`);
  }
  const log = options.log ?? (() => {});
  const stop = new AbortController();
  const settings: Settings = {
    client: options.client,
    streamArn: options.streamArn,
    handler: options.handler,
    region: options.region,
    accountId: options.accountId ?? '000000000000',
    functionName: options.functionName ?? 'auditseal-stream',
    batchSize,
    startingPosition: options.startingPosition ?? 'TRIM_HORIZON',
    bisect: options.bisectBatchOnFunctionError ?? false,
    reportBatchItemFailures: options.reportBatchItemFailures ?? false,
    maximumRetryAttempts: options.maximumRetryAttempts ?? -1,
    functionTimeoutMs: options.functionTimeoutMs ?? 60_000,
    pollIntervalMs: options.pollIntervalMs ?? 250,
    discoveryIntervalMs: options.discoveryIntervalMs ?? 5000,
    retryDelayMs: options.retryDelayMs ?? ((attempt) => Math.min(5000, 100 * 2 ** (attempt - 1))),
    onFailure:
      options.onFailure ??
      ((failure) =>
        log(
          `stream: gave up on ${failure.records.length} record(s) of ${failure.shardId} ` +
            `(${failure.firstSequenceNumber}..${failure.lastSequenceNumber}) after ${failure.attempts} attempt(s): ${failure.reason}`,
        )),
    log,
    eventSourceARN: awsStreamArn(options.streamArn, options.region),
    checkpoints: await CheckpointStore.open(options.checkpointFile, options.streamArn),
    stopping: stop.signal,
  };
  let rejectFailed: (error: unknown) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    rejectFailed = reject;
  });
  failed.catch(() => {});
  const coordinator = coordinate(settings, () => stop.abort()).catch((error: unknown) => {
    log(`stream: poller stopped on error: ${errorName(error)}`);
    rejectFailed(error);
  });
  return {
    failed,
    async stop() {
      stop.abort();
      await coordinator;
    },
  };
}

/** Finds shards and runs one worker per shard, each once its parent is finished. */
async function coordinate(settings: Settings, halt: () => void): Promise<void> {
  const workers = new Map<string, Promise<void>>();
  const finished = new Set<string>();
  let fatal: { error: unknown } | undefined;
  let firstDiscovery = true;
  while (!settings.stopping.aborted && fatal === undefined) {
    let shards: Shard[];
    try {
      shards = await describeShards(settings);
    } catch (error) {
      if (error instanceof ResourceNotFoundException) {
        fatal = { error };
        break;
      }
      settings.log(`stream: DescribeStream failed (${errorName(error)}); retrying`);
      await sleep(settings.discoveryIntervalMs, settings.stopping);
      continue;
    }
    const listed = new Set(shards.map((shard) => shard.ShardId!));
    for (const shard of shards) {
      const shardId = shard.ShardId!;
      if (workers.has(shardId) || finished.has(shardId)) continue;
      if (settings.checkpoints.get(shardId)?.finished === true) {
        finished.add(shardId);
        continue;
      }
      const parent = shard.ParentShardId;
      // A parent no longer listed has been trimmed from the stream: there is nothing left to wait for.
      if (parent !== undefined && listed.has(parent) && !finished.has(parent)) continue;
      const worker = runShard(settings, shard, firstDiscovery).then(
        () => {
          finished.add(shardId);
          workers.delete(shardId);
        },
        (error: unknown) => {
          workers.delete(shardId);
          fatal ??= { error };
        },
      );
      workers.set(shardId, worker);
    }
    firstDiscovery = false;
    // Wake up early when a shard finishes, so that its children start without waiting a full interval.
    await Promise.race([sleep(settings.discoveryIntervalMs, settings.stopping), ...workers.values()]);
  }
  if (fatal !== undefined) halt();
  await Promise.all(workers.values());
  if (fatal !== undefined) throw fatal.error;
}

async function describeShards(settings: Settings): Promise<Shard[]> {
  const shards: Shard[] = [];
  let exclusiveStartShardId: string | undefined;
  do {
    const { StreamDescription: description } = await settings.client.send(
      new DescribeStreamCommand({
        StreamArn: settings.streamArn,
        ...(exclusiveStartShardId === undefined ? {} : { ExclusiveStartShardId: exclusiveStartShardId }),
      }),
    );
    shards.push(...(description?.Shards ?? []).filter((shard) => shard.ShardId !== undefined));
    exclusiveStartShardId = description?.LastEvaluatedShardId;
  } while (exclusiveStartShardId !== undefined && !settings.stopping.aborted);
  return shards;
}

/** Where a shard worker stands. */
interface ShardState {
  readonly shardId: string;
  iterator: string | undefined;
  /** Records fetched but not yet done with, oldest first. */
  buffer: _Record[];
  /** Sequence number of the newest fetched record, to get a fresh iterator after expiry. */
  lastFetched: string | undefined;
  /** Sizes of the bisected batches still to deliver from the head of the buffer; the last one is next. */
  bisected: number[];
  /** Failed invocations of the batch at the head of the buffer. */
  attempts: number;
  /** The shard is closed and every record has been fetched. */
  exhausted: boolean;
}

/** Delivers one shard until it is finished (closed and empty) or the poller stops. */
async function runShard(settings: Settings, shard: Shard, atStart: boolean): Promise<void> {
  const shardId = shard.ShardId!;
  const checkpoint = settings.checkpoints.get(shardId);
  const closed = shard.SequenceNumberRange?.EndingSequenceNumber !== undefined;
  if (checkpoint === undefined && atStart && settings.startingPosition === 'LATEST' && closed) {
    await settings.checkpoints.set(shardId, { finished: true });
    return;
  }
  const state: ShardState = {
    shardId,
    iterator: undefined,
    buffer: [],
    lastFetched: checkpoint?.sequenceNumber,
    bisected: [],
    attempts: 0,
    exhausted: false,
  };
  const position = checkpoint === undefined && atStart ? settings.startingPosition : 'TRIM_HORIZON';
  while (state.iterator === undefined && !settings.stopping.aborted) {
    try {
      state.iterator = await shardIterator(settings, shardId, checkpoint?.sequenceNumber, position);
      if (state.iterator === undefined) state.exhausted = true;
      break;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) throw error;
      settings.log(`stream: GetShardIterator on ${shardId} failed (${errorName(error)}); retrying`);
      await sleep(settings.pollIntervalMs * 4, settings.stopping);
    }
  }
  while (!settings.stopping.aborted) {
    if (state.buffer.length < settings.batchSize && !state.exhausted) await fetchRecords(settings, state);
    if (state.buffer.length === 0) {
      if (state.exhausted) {
        await settings.checkpoints.set(shardId, { finished: true });
        settings.log(`stream: shard ${shardId} finished`);
        return;
      }
      await sleep(settings.pollIntervalMs, settings.stopping);
      continue;
    }
    await deliverHeadBatch(settings, state);
  }
}

async function shardIterator(
  settings: Settings,
  shardId: string,
  afterSequenceNumber: string | undefined,
  position: 'TRIM_HORIZON' | 'LATEST',
): Promise<string | undefined> {
  const { ShardIterator } = await settings.client.send(
    new GetShardIteratorCommand({
      StreamArn: settings.streamArn,
      ShardId: shardId,
      ...(afterSequenceNumber === undefined
        ? { ShardIteratorType: position }
        : { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: afterSequenceNumber }),
    }),
  );
  return ShardIterator;
}

async function fetchRecords(settings: Settings, state: ShardState): Promise<void> {
  if (state.iterator === undefined) {
    state.exhausted = true;
    return;
  }
  try {
    const output = await settings.client.send(
      new GetRecordsCommand({ ShardIterator: state.iterator, Limit: 1000 }),
    );
    const records = output.Records ?? [];
    state.buffer.push(...records);
    if (records.length > 0) state.lastFetched = records.at(-1)!.dynamodb?.SequenceNumber ?? state.lastFetched;
    state.iterator = output.NextShardIterator;
    if (state.iterator === undefined) state.exhausted = true;
  } catch (error) {
    if (error instanceof ExpiredIteratorException) {
      // Iterators live 15 minutes; a long retry loop can outlive one.
      state.iterator = await renewIterator(settings, state, state.lastFetched);
      return;
    }
    if (error instanceof TrimmedDataAccessException) {
      settings.log(
        `stream: records of ${state.shardId} expired before delivery; continuing from the oldest left`,
      );
      // The oldest records left may include buffered ones: start over from them rather than keep duplicates.
      state.buffer = [];
      state.bisected = [];
      state.attempts = 0;
      state.iterator = await renewIterator(settings, state, undefined);
      return;
    }
    if (error instanceof ResourceNotFoundException) throw error;
    settings.log(`stream: GetRecords on ${state.shardId} failed (${errorName(error)}); retrying`);
    await sleep(settings.pollIntervalMs * 4, settings.stopping);
  }
}

/** A fresh iterator; on failure the old one is kept, so that the next poll fails and tries again. */
async function renewIterator(
  settings: Settings,
  state: ShardState,
  afterSequenceNumber: string | undefined,
): Promise<string | undefined> {
  try {
    return await shardIterator(settings, state.shardId, afterSequenceNumber, 'TRIM_HORIZON');
  } catch (error) {
    if (error instanceof ResourceNotFoundException) throw error;
    settings.log(`stream: GetShardIterator on ${state.shardId} failed (${errorName(error)}); retrying`);
    await sleep(settings.pollIntervalMs * 4, settings.stopping);
    return state.iterator;
  }
}

/** Invokes the handler with the batch at the head of the buffer and applies the outcome. */
async function deliverHeadBatch(settings: Settings, state: ShardState): Promise<void> {
  const limit = Math.min(state.bisected.at(-1) ?? settings.batchSize, state.buffer.length);
  const batch = state.buffer.slice(0, limit);
  const records = batch.map((record) =>
    lambdaStreamRecord(record, { eventSourceARN: settings.eventSourceARN, awsRegion: settings.region }),
  );
  const outcome = await invoke(settings, records);

  if (outcome.kind === 'success') {
    await consume(settings, state, limit);
    return;
  }
  let failedFrom = 0;
  if (outcome.kind === 'partial') {
    failedFrom = outcome.failedFrom;
    if (failedFrom > 0) await consume(settings, state, failedFrom);
  }
  state.attempts++;
  const remaining = limit - failedFrom;
  if (outcome.kind === 'error' && settings.bisect && remaining > 1) {
    // Split the batch: first half on top, delivered next. Splitting is not a retry.
    const first = Math.ceil(remaining / 2);
    if (state.bisected.length > 0) state.bisected.pop();
    state.bisected.push(remaining - first, first);
    state.attempts = 0;
    return;
  }
  if (settings.maximumRetryAttempts >= 0 && state.attempts > settings.maximumRetryAttempts) {
    const given = records.slice(failedFrom);
    await sendToDestination(settings, {
      shardId: state.shardId,
      reason: outcome.kind === 'error' ? 'FunctionError' : 'PartialBatchFailure',
      attempts: state.attempts,
      records: given,
      firstSequenceNumber: given[0]!.dynamodb!.SequenceNumber!,
      lastSequenceNumber: given.at(-1)!.dynamodb!.SequenceNumber!,
    });
    await consume(settings, state, remaining);
    return;
  }
  await sleep(settings.retryDelayMs(state.attempts), settings.stopping);
}

async function sendToDestination(settings: Settings, failure: StreamBatchFailure): Promise<void> {
  try {
    await settings.onFailure(failure);
  } catch (error) {
    settings.log(`stream: the on-failure destination failed (${errorName(error)}); the records are dropped`);
  }
}

type Outcome = { kind: 'success' } | { kind: 'partial'; failedFrom: number } | { kind: 'error' };

async function invoke(settings: Settings, records: DynamoDBRecord[]): Promise<Outcome> {
  const context = lambdaContext({
    functionName: settings.functionName,
    region: settings.region,
    accountId: settings.accountId,
    timeoutMs: settings.functionTimeoutMs,
  });
  let timer: NodeJS.Timeout | undefined;
  let response: unknown;
  try {
    response = await Promise.race([
      Promise.resolve().then(() => settings.handler({ Records: records }, context)),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('Task timed out')), settings.functionTimeoutMs);
      }),
    ]);
  } catch (error) {
    settings.log(
      `stream: ${settings.functionName} failed on ${records.length} record(s): ${errorName(error)}`,
    );
    return { kind: 'error' };
  } finally {
    clearTimeout(timer);
  }
  if (!settings.reportBatchItemFailures) return { kind: 'success' };
  return partialOutcome(response, records);
}

/**
 * Lambda's reading of a partial batch response: nothing, `{}`, `null` or an empty list is success; the
 * lowest failed sequence number is where delivery resumes; a malformed list fails the whole batch.
 */
function partialOutcome(response: unknown, records: readonly DynamoDBRecord[]): Outcome {
  if (response === undefined || response === null) return { kind: 'success' };
  if (typeof response !== 'object') return { kind: 'error' };
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return { kind: 'success' };
  if (!Array.isArray(failures)) return { kind: 'error' };
  if (failures.length === 0) return { kind: 'success' };
  const positions = new Map(records.map((record, index) => [record.dynamodb?.SequenceNumber, index]));
  let failedFrom = records.length;
  for (const failure of failures) {
    const id =
      typeof failure === 'object' && failure !== null
        ? (failure as { itemIdentifier?: unknown }).itemIdentifier
        : undefined;
    const index = typeof id === 'string' && id !== '' ? positions.get(id) : undefined;
    if (index === undefined) return { kind: 'error' };
    failedFrom = Math.min(failedFrom, index);
  }
  return { kind: 'partial', failedFrom };
}

/** Drops `count` records from the head of the buffer and checkpoints after the last of them. */
async function consume(settings: Settings, state: ShardState, count: number): Promise<void> {
  const done = state.buffer.splice(0, count);
  state.attempts = 0;
  const top = state.bisected.pop();
  if (top !== undefined && top > count) state.bisected.push(top - count);
  const sequenceNumber = done.at(-1)?.dynamodb?.SequenceNumber;
  if (sequenceNumber !== undefined) await settings.checkpoints.set(state.shardId, { sequenceNumber });
}

function sleep(ms: number, cancelled: AbortSignal): Promise<void> {
  if (cancelled.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      cancelled.removeEventListener('abort', done);
      resolve();
    }
    cancelled.addEventListener('abort', done, { once: true });
  });
}

function errorName(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : 'non-Error thrown';
}

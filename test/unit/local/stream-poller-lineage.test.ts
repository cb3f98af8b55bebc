/**
 * Shard lineage in the local stream poller, with a scripted Streams API (DynamoDB Local never splits
 * shards on its own): a parent is delivered before its child, closed shards finish, late shards are found.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { _Record, Shard } from '@aws-sdk/client-dynamodb-streams';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StreamPoller } from '../../../local/stream-poller.ts';
import { startStreamPoller } from '../../../local/stream-poller.ts';
import { until } from '../../support/dynamodb-local.ts';

const STREAM_ARN = 'arn:aws:dynamodb:ddblocal:000000000000:table/t/stream/2024-01-01T00:00:00.000';
const scratch = mkdtempSync(join(tmpdir(), 'auditseal-lineage-'));
const streams = mockClient(DynamoDBStreamsClient);
let poller: StreamPoller | undefined;

afterEach(async () => {
  await poller?.stop();
  poller = undefined;
  streams.reset();
});

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function record(sequenceNumber: string): _Record {
  return {
    eventID: `id-${sequenceNumber}`,
    eventName: 'INSERT',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'ddblocal',
    dynamodb: {
      ApproximateCreationDateTime: new Date('2024-01-01T00:00:00Z'),
      Keys: { pk: { S: sequenceNumber } },
      SequenceNumber: sequenceNumber,
      SizeBytes: 10,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

const parent: Shard = {
  ShardId: 'shard-parent',
  SequenceNumberRange: { StartingSequenceNumber: '100', EndingSequenceNumber: '200' },
};
const child: Shard = {
  ShardId: 'shard-child',
  ParentShardId: 'shard-parent',
  SequenceNumberRange: { StartingSequenceNumber: '300' },
};
const late: Shard = { ShardId: 'shard-late', SequenceNumberRange: { StartingSequenceNumber: '500' } };

/** Scripts the Streams API: each shard's records come in one page, then the shard is closed or idle. */
function script(
  shardLists: Shard[][],
  records: Record<string, _Record[]>,
  closed: ReadonlySet<string>,
): void {
  let describeCalls = 0;
  streams.on(DescribeStreamCommand).callsFake(() => {
    const shards = shardLists[Math.min(describeCalls++, shardLists.length - 1)]!;
    return { StreamDescription: { StreamArn: STREAM_ARN, Shards: shards } };
  });
  streams.on(GetShardIteratorCommand).callsFake((input) => ({
    ShardIterator: `${input.ShardId}|${input.ShardIteratorType}|${input.SequenceNumber ?? ''}|page0`,
  }));
  streams.on(GetRecordsCommand).callsFake((input) => {
    const [shardId, type, after, page] = String(input.ShardIterator).split('|') as [
      string,
      string,
      string,
      string,
    ];
    const all = records[shardId] ?? [];
    const fresh =
      type === 'AFTER_SEQUENCE_NUMBER'
        ? all.filter((r) => BigInt(r.dynamodb!.SequenceNumber!) > BigInt(after))
        : all;
    const next = `${shardId}|${type}|${after}|page1`;
    if (page === 'page0') return { Records: fresh, NextShardIterator: next };
    return closed.has(shardId) ? { Records: [] } : { Records: [], NextShardIterator: next };
  });
}

describe('Function: startStreamPoller (shard lineage)', () => {
  let delivered: string[];
  let checkpointFile: string;

  beforeEach(() => {
    delivered = [];
    checkpointFile = join(scratch, `${Math.random().toString(16).slice(2)}.json`);
  });

  async function start(): Promise<void> {
    poller = await startStreamPoller({
      client: new DynamoDBStreamsClient({ region: 'us-east-1' }),
      streamArn: STREAM_ARN,
      checkpointFile,
      region: 'eu-west-1',
      pollIntervalMs: 10,
      discoveryIntervalMs: 30,
      handler: async (event) => {
        // Slow enough that a child started too early would interleave with its parent.
        await new Promise((resolve) => setTimeout(resolve, 5));
        for (const r of event.Records) delivered.push(r.dynamodb!.SequenceNumber!);
      },
      batchSize: 1,
    });
  }

  it('delivers a closed parent entirely before its child, and marks it finished', async () => {
    // Prepare
    script(
      [[child, parent]],
      { 'shard-parent': [record('101'), record('102'), record('103')], 'shard-child': [record('301')] },
      new Set(['shard-parent']),
    );

    // Act
    await start();
    await until(() => delivered.length >= 4, 5000);
    // The checkpoint is persisted after the handler returns: wait for it rather than race it.
    const shards = () => {
      try {
        return JSON.parse(readFileSync(checkpointFile, 'utf8')).streams[STREAM_ARN].shards;
      } catch {
        return {};
      }
    };
    await until(() => shards()['shard-child'] !== undefined, 5000);

    // Assess
    expect(delivered).toEqual(['101', '102', '103', '301']);
    const saved = shards();
    expect(saved['shard-parent']).toEqual({ sequenceNumber: '103', finished: true });
    expect(saved['shard-child']).toEqual({ sequenceNumber: '301' });
  });

  it('picks up a shard that appears later', async () => {
    // Prepare
    script(
      [[parent], [parent], [parent, late]],
      { 'shard-parent': [record('101')], 'shard-late': [record('501')] },
      new Set(['shard-parent']),
    );

    // Act
    await start();
    await until(() => delivered.length >= 2, 5000);

    // Assess
    expect(delivered).toEqual(['101', '501']);
  });

  it('starts a child at once when its parent was trimmed from the stream', async () => {
    // Prepare
    script([[child]], { 'shard-child': [record('301')] }, new Set());

    // Act
    await start();
    await until(() => delivered.length >= 1, 5000);

    // Assess
    expect(delivered).toEqual(['301']);
  });

  describe('when a shard iterator expires', () => {
    it('gets a new one after the last fetched record and loses nothing', async () => {
      // Prepare
      let calls = 0;
      streams
        .on(DescribeStreamCommand)
        .resolves({ StreamDescription: { StreamArn: STREAM_ARN, Shards: [late] } });
      streams.on(GetShardIteratorCommand).callsFake((input) => ({
        ShardIterator: `${input.ShardIteratorType}:${input.SequenceNumber ?? ''}`,
      }));
      streams.on(GetRecordsCommand).callsFake((input) => {
        calls++;
        if (input.ShardIterator === 'TRIM_HORIZON:')
          return { Records: [record('501')], NextShardIterator: 'stale' };
        if (input.ShardIterator === 'stale') {
          throw new ExpiredIteratorException({ message: 'Iterator expired', $metadata: {} });
        }
        if (input.ShardIterator === 'AFTER_SEQUENCE_NUMBER:501') {
          return { Records: [record('502')], NextShardIterator: 'idle' };
        }
        return { Records: [], NextShardIterator: 'idle' };
      });

      // Act
      await start();
      await until(() => delivered.length >= 2, 5000);

      // Assess
      expect(delivered).toEqual(['501', '502']);
      expect(calls).toBeGreaterThanOrEqual(3);
    });
  });

  describe('when restarted from a checkpoint', () => {
    it('skips a finished parent and resumes the child after its checkpoint', async () => {
      // Prepare
      writeFileSync(
        checkpointFile,
        JSON.stringify({
          version: 1,
          streams: {
            [STREAM_ARN]: {
              shards: {
                'shard-parent': { sequenceNumber: '103', finished: true },
                'shard-child': { sequenceNumber: '301' },
              },
            },
          },
        }),
      );
      script(
        [[parent, child]],
        { 'shard-parent': [record('101')], 'shard-child': [record('301'), record('302')] },
        new Set(['shard-parent']),
      );

      // Act
      await start();
      await until(() => delivered.length >= 1, 5000);
      await new Promise((resolve) => setTimeout(resolve, 100));

      // Assess
      expect(delivered).toEqual(['302']);
      expect(streams.commandCalls(GetShardIteratorCommand).map((call) => call.args[0].input)).toEqual([
        {
          StreamArn: STREAM_ARN,
          ShardId: 'shard-child',
          ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
          SequenceNumber: '301',
        },
      ]);
    });

    it('refuses a corrupt checkpoint file instead of redelivering silently', async () => {
      // Prepare
      writeFileSync(
        checkpointFile,
        '{"version":1,"streams":{"x":{"shards":{"s":{"sequenceNumber":"abc"}}}}}',
      );
      script([[parent]], {}, new Set());

      // Act & Assess
      await expect(start()).rejects.toThrow(/checkpoint file .* is corrupt/);
    });
  });
});

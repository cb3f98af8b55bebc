import { describe, expect, it } from 'vitest';
import { INDEX_SHARDS, indexAttributes, indexPartitionKey } from '../../../adapters/dynamodb/index-keys.ts';
import { shardOf } from '../../../adapters/dynamodb/ledger-items.ts';
import { ingestBatch } from '../../../shared/ingest/ingest-batch.ts';
import type { LedgerEvent } from '../../../shared/ports/ledger-store.ts';
import { apiRequest, appEvent, harness, LEDGER } from '../ingest/ingest-fixtures.ts';

const BUCKET = 'arn:aws:s3:::example-bucket';
const fields = {
  actorId: 'alice',
  action: 's3:PutBucketPolicy',
  outcome: 'success',
  resourceId: BUCKET,
  channel: 'cloudtrail',
  eventTime: '2019-01-01T00:00:00.000Z',
};

describe('Function: indexAttributes', () => {
  it('gives an event with a resource its timeline key, <eventTime>#<id>, in the resource partition', () => {
    // Act
    const attributes = indexAttributes('ledger-a', 'ct:1111', fields);

    // Assess
    expect(attributes['ixEventTime']).toBe('2019-01-01T00:00:00.000Z#ct:1111');
    expect(attributes['ixResource']).toBe(
      indexPartitionKey('ledger-a', { index: 'resource', value: BUCKET }, shardOf('ct:1111', INDEX_SHARDS)),
    );
  });

  describe('when the event has no resource', () => {
    it('gives it no timeline key', () => {
      // Prepare
      const { resourceId: _, ...withoutResource } = fields;

      // Act
      const attributes = indexAttributes('ledger-a', 'ct:1111', withoutResource);

      // Assess
      expect(attributes['ixEventTime']).toBeUndefined();
      expect(attributes['ixResource']).toBeUndefined();
    });
  });

  describe.each(['profile', 'read'])('when the event is of channel %s', (channel) => {
    it('keeps it in the resource search index but out of the timeline index', () => {
      // Act
      const attributes = indexAttributes('ledger-a', 'x:1', { ...fields, channel });

      // Assess
      expect(attributes['ixResource']).toBeDefined();
      expect(attributes['ixEventTime']).toBeUndefined();
    });
  });
});

describe('Function: ingestBatch, then indexAttributes', () => {
  it('places a stored event by its own time, normalized to UTC milliseconds, not by its ledger time', async () => {
    // Prepare: an event whose eventTime has an offset and sub-millisecond digits.
    const h = await harness();
    const written: LedgerEvent[] = [];
    const putBatch = h.store.putBatch.bind(h.store);
    h.store.putBatch = async (batch, events, before) => {
      written.push(...events);
      return putBatch(batch, events, before);
    };
    const input = {
      ...appEvent(1),
      eventTime: '2019-01-01T02:00:00.123456+02:00',
      resource: { id: BUCKET, type: 'AWS::S3::Bucket' },
    };

    // Act
    await ingestBatch(apiRequest([input]), h.deps);
    const attributes = indexAttributes(LEDGER, written[0]!.id, written[0]!.index);

    // Assess
    expect(written[0]!.receivedAt).not.toBe('2019-01-01T00:00:00.123Z');
    expect(attributes['ixEventTime']).toBe(`2019-01-01T00:00:00.123Z#${written[0]!.id}`);
  });
});

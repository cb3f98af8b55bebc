/**
 * The budget behind `MAX_EVENT_BYTES` (docs/EVENTS.md §3.1): the DynamoDB item of the largest stored
 * event, with every other attribute at its largest, stays under DynamoDB's 400 KB item limit.
 */
import { describe, expect, it } from 'vitest';
import { eventItem, itemSizeBytes, MAX_SHARD_COUNT } from '../../../adapters/dynamodb/ledger-items.ts';
import { MAX_EVENT_ID_LENGTH, MAX_LENGTH } from '../../../shared/events/audit-event.ts';
import { MAX_EVENT_BYTES } from '../../../shared/events/limits.ts';
import type { LedgerEvent } from '../../../shared/ports/ledger-store.ts';

/** DynamoDB's item size limit: 400 KB, counted as 409,600 bytes of attribute names and values. */
const DYNAMODB_MAX_ITEM_BYTES = 400 * 1024;
/** A BMP character outside ASCII: 3 bytes of UTF-8 for one UTF-16 code unit, the most there is. */
const WIDE = '\u20ac';

describe('Constant: MAX_EVENT_BYTES', () => {
  describe('when an event of that size has every indexed attribute at its longest', () => {
    it('fits in one DynamoDB item', () => {
      // Prepare
      const event = {
        id: `ct:${'a'.repeat(MAX_EVENT_ID_LENGTH - 3)}`,
        receivedAt: '2026-11-22T21:10:00.123Z',
        period: { startMs: Date.parse('2026-11-22T21:00:00Z'), seconds: 3600 },
        bytes: new Uint8Array(MAX_EVENT_BYTES),
        leafHash: new Uint8Array(32),
        batchId: 'b'.repeat(64),
        index: {
          actorId: WIDE.repeat(MAX_LENGTH.actorId),
          action: WIDE.repeat(MAX_LENGTH.action),
          outcome: 'failure',
          resourceId: WIDE.repeat(MAX_LENGTH.resourceId),
        },
      } as unknown as LedgerEvent;

      // Act
      const size = itemSizeBytes(eventItem('a'.repeat(63), event, MAX_SHARD_COUNT));

      // Assess
      expect(size).toBeGreaterThan(MAX_EVENT_BYTES);
      expect(size).toBeLessThanOrEqual(DYNAMODB_MAX_ITEM_BYTES);
    });
  });
});

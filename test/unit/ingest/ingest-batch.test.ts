import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SigningError } from '../../../shared/crypto/errors.ts';
import type { AuditEventInput } from '../../../shared/events/audit-event.ts';
import { MAX_EVENT_BYTES } from '../../../shared/events/limits.ts';
import { idempotencyCanonical } from '../../../shared/ingest/canonical-event.ts';
import {
  EmptyBatchError,
  IdConflictError,
  IngestError,
  IngestWriteError,
  InvalidEventsError,
  PeriodClosingError,
  TooManyEventsError,
} from '../../../shared/ingest/errors.ts';
import { type IngestChannel, ingestBatch, MAX_BATCH_EVENTS } from '../../../shared/ingest/ingest-batch.ts';
import { checkReceipt } from '../../../shared/ledger/batch-receipts.ts';
import { hashLeaf } from '../../../shared/merkle/rfc6962.ts';
import {
  LedgerUnavailableError,
  type PeriodEvent,
  type PeriodRow,
} from '../../../shared/ports/ledger-store.ts';
import { apiRequest, appEvent, harness, LEDGER, T0 } from './ingest-fixtures.ts';

const HOUR = { startMs: Date.UTC(2026, 10, 22, 21), seconds: 3600 };

async function rejection<T extends Error>(
  promise: Promise<unknown>,
  type: new (...args: never[]) => T,
): Promise<T> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(type);
  return error as T;
}

async function readAll(iterable: AsyncIterable<PeriodRow>): Promise<PeriodEvent[]> {
  const events: PeriodEvent[] = [];
  for await (const row of iterable) {
    if ('malformed' in row) throw new Error(`malformed row ${row.item.sk}: ${row.reason}`);
    events.push(row);
  }
  return events;
}

/** The idempotency hash of an input (JCS with `eventTime` normalized). */
function sha256Hex(value: unknown): string {
  return createHash('sha256')
    .update(idempotencyCanonical(value as AuditEventInput))
    .digest('hex');
}

describe('Function: ingestBatch', () => {
  describe('when every event is new', () => {
    it('stores them, signs once and returns verifiable receipts in request order', async () => {
      // Prepare
      const { store, signer, deps, keys } = await harness();
      const items = [appEvent(3), appEvent(1), appEvent(2)];

      // Act
      const result = await ingestBatch(apiRequest(items), deps);

      // Assess
      expect(result.status).toBe(201);
      expect(result.stored).toEqual(['app-3', 'app-1', 'app-2']);
      expect(result.duplicates).toEqual([]);
      expect(signer.signCalls).toBe(1);
      expect(result.receipts.map((r) => r.eventId)).toEqual(['app-3', 'app-1', 'app-2']);
      for (const receipt of result.receipts) expect(checkReceipt(receipt, keys).ok).toBe(true);
      const stored = await readAll(store.readPeriod(LEDGER, HOUR));
      expect(stored.map((e) => e.id)).toEqual(['app-1', 'app-2', 'app-3']);
      for (const event of stored) {
        const receipt = result.receipts.find((r) => r.eventId === event.id)!;
        expect(hashLeaf(event.bytes).toString('hex')).toBe(receipt.leafHash);
        expect(event.receivedAt).toBe(new Date(T0).toISOString());
        expect(JSON.parse(Buffer.from(event.bytes).toString('utf8'))).toMatchObject({
          v: 1,
          channel: 'api',
          receivedAt: '2026-11-22T21:10:00.123Z',
        });
      }
    });

    it('keeps the idempotency record of each event: input hash, receivedAt and receipt', async () => {
      // Prepare
      const { store, deps } = await harness();
      const item = appEvent(1);

      // Act
      const result = await ingestBatch(apiRequest([item]), deps);

      // Assess
      const records = await store.findEventIds(LEDGER, ['app-1']);
      expect(records.get('app-1')).toEqual({
        id: 'app-1',
        inputSha256: sha256Hex(item),
        receivedAt: '2026-11-22T21:10:00.123Z',
        receipt: result.receipts[0],
      });
    });

    it('signs a full batch of 500 events once and stores all of them', async () => {
      // Prepare
      const { store, signer, deps } = await harness();
      const items = Array.from({ length: MAX_BATCH_EVENTS }, (_, i) => appEvent(i));

      // Act
      const result = await ingestBatch(apiRequest(items), deps);

      // Assess
      expect(result.status).toBe(201);
      expect(result.stored).toHaveLength(500);
      expect(signer.signCalls).toBe(1);
      expect(store.eventCount).toBe(500);
    });
  });

  describe('when a request is retried with the same events', () => {
    it('returns the original receipts with 200, signs nothing and writes nothing', async () => {
      // Prepare
      const { store, signer, clock, deps } = await harness();
      const items = [appEvent(1), appEvent(2)];
      const first = await ingestBatch(apiRequest(items), deps);
      const before = store.snapshot();
      clock.nowMs += 1_000;

      // Act
      const retry = await ingestBatch(apiRequest(structuredClone(items)), deps);

      // Assess
      expect(retry.status).toBe(200);
      expect(retry.receipts).toEqual(first.receipts);
      expect(retry.duplicates).toEqual(['app-1', 'app-2']);
      expect(retry.stored).toEqual([]);
      expect(signer.signCalls).toBe(1);
      expect(store.snapshot()).toBe(before);
    });

    it('treats members in another order as the same content', async () => {
      // Prepare
      const { deps } = await harness();
      const item = appEvent(1);
      const first = await ingestBatch(apiRequest([item]), deps);
      const reordered = Object.fromEntries(Object.entries(item).reverse());

      // Act
      const retry = await ingestBatch(apiRequest([reordered]), deps);

      // Assess
      expect(retry.duplicates).toEqual(['app-1']);
      expect(retry.receipts[0]).toEqual(first.receipts[0]);
    });
  });

  describe('when a batch mixes new and already stored events', () => {
    it('stores the new ones under one signature and returns the stored receipt for the others', async () => {
      // Prepare
      const { store, signer, clock, deps, keys } = await harness();
      const first = await ingestBatch(apiRequest([appEvent(1)]), deps);
      clock.nowMs += 5;

      // Act
      const result = await ingestBatch(apiRequest([appEvent(2), appEvent(1), appEvent(3)]), deps);

      // Assess
      expect(result.status).toBe(201);
      expect(result.stored).toEqual(['app-2', 'app-3']);
      expect(result.duplicates).toEqual(['app-1']);
      expect(result.receipts[1]).toEqual(first.receipts[0]);
      expect(signer.signCalls).toBe(2);
      for (const receipt of result.receipts) expect(checkReceipt(receipt, keys).ok).toBe(true);
      const newTree = JSON.parse(result.receipts[0]!.statement) as { treeSize: number };
      expect(newTree.treeSize).toBe(2);
      expect(store.eventCount).toBe(3);
    });
  });

  describe('when an id is reused with different content', () => {
    it('answers 409, records a security signal and stores nothing from the request', async () => {
      // Prepare
      const { store, signer, deps } = await harness();
      const original = appEvent(1);
      await ingestBatch(apiRequest([original]), deps);
      const before = store.snapshot();
      const altered = appEvent(1, { action: 'ssh.logout' });

      // Act
      const error = await rejection(ingestBatch(apiRequest([appEvent(2), altered]), deps), IdConflictError);

      // Assess
      expect(error.status).toBe(409);
      expect(error.toBody()).toEqual({
        code: 'ID_CONFLICT',
        message: expect.stringContaining('nothing from this request was stored'),
        conflicts: ['app-1'],
        stored: [],
        receipts: [],
      });
      expect(signer.signCalls).toBe(1);
      expect(await store.findEventIds(LEDGER, ['app-2'])).toEqual(new Map());
      expect(store.securitySignals()).toEqual([
        {
          ledger: LEDGER,
          kind: 'ID_CONFLICT',
          at: '2026-11-22T21:10:00.123Z',
          principal: 'arn:aws:sts::123456789012:assumed-role/writer/app',
          requestId: 'req-1',
          channel: 'api',
          conflicts: [
            {
              eventId: 'app-1',
              storedInputSha256: sha256Hex(original),
              attemptedInputSha256: sha256Hex(altered),
            },
          ],
        },
      ]);
      expect(store.snapshot()).not.toBe(before); // only the signal was added
      expect(store.eventCount).toBe(1);
    });
  });

  describe('when an item is invalid', () => {
    it('answers 400 with every invalid item and writes nothing', async () => {
      // Prepare
      const { store, signer, deps } = await harness();
      const before = store.snapshot();
      const items = [appEvent(1), { ...appEvent(2), eventTime: 'yesterday' }, appEvent(3), 'not an event'];

      // Act
      const error = await rejection(ingestBatch(apiRequest(items), deps), InvalidEventsError);

      // Assess
      expect(error.status).toBe(400);
      expect(error.errors).toEqual([
        { index: 1, code: 'SCHEMA_VIOLATION', path: '$.eventTime', message: expect.any(String) },
        { index: 3, code: 'SCHEMA_VIOLATION', path: '$', message: expect.any(String) },
      ]);
      expect(error.toBody()).toMatchObject({ code: 'INVALID_EVENTS', errors: error.errors });
      expect(signer.signCalls).toBe(0);
      expect(store.snapshot()).toBe(before);
    });

    it('rejects an event whose member names include __proto__', async () => {
      // Prepare
      const { store, deps } = await harness();
      const item = JSON.parse('{"__proto__":{"admin":true}}') as Record<string, unknown>;
      Object.assign(item, appEvent(1));

      // Act
      const error = await rejection(ingestBatch(apiRequest([item]), deps), InvalidEventsError);

      // Assess
      expect(error.errors[0]).toMatchObject({ index: 0, code: 'FORBIDDEN_KEY' });
      expect(store.eventCount).toBe(0);
    });

    it("reports an in-process caller's item per item, as the guard sees it, even with a throwing getter", async () => {
      // Prepare: item 1 has a string the guard refuses, then a getter that throws (the one-walk fast path
      // reads the getter first; it must leave the item to the general path, not fail the whole batch)
      const { store, signer, deps } = await harness();
      const hostile: Record<string, unknown> = { details: 'x'.repeat(40_000), ...appEvent(2) };
      Object.defineProperty(hostile, 'tags', {
        enumerable: true,
        get() {
          throw new Error('getter says no');
        },
      });

      // Act
      const error = await rejection(
        ingestBatch(apiRequest([appEvent(1), hostile]), deps),
        InvalidEventsError,
      );

      // Assess
      expect(error.errors).toEqual([
        { index: 1, code: 'STRING_TOO_LONG', path: '$.details', message: expect.any(String) },
      ]);
      expect(signer.signCalls).toBe(0);
      expect(store.eventCount).toBe(0);
    });

    it('rejects an event that is too large once canonical', async () => {
      // Prepare
      const { store, deps } = await harness();
      const pieces = Math.ceil(MAX_EVENT_BYTES / 30_000) + 1;
      const details = Object.fromEntries(
        Array.from({ length: pieces }, (_, i) => [`k${i}`, 'x'.repeat(30_000)]),
      );

      // Act
      const error = await rejection(
        ingestBatch(apiRequest([appEvent(1, { details })]), deps),
        InvalidEventsError,
      );

      // Assess
      expect(error.errors[0]).toMatchObject({ index: 0, code: 'TOO_LARGE' });
      expect(store.eventCount).toBe(0);
    });
  });

  describe('when an id occurs twice in one batch', () => {
    it('answers 400 DUPLICATE_ID for the second occurrence', async () => {
      // Prepare
      const { store, deps } = await harness();

      // Act
      const error = await rejection(
        ingestBatch(apiRequest([appEvent(1), appEvent(2), appEvent(1)]), deps),
        InvalidEventsError,
      );

      // Assess
      expect(error.errors).toEqual([
        { index: 2, code: 'DUPLICATE_ID', path: '$.id', message: 'id is also used by item 0' },
      ]);
      expect(store.eventCount).toBe(0);
    });
  });

  describe('when ids are in the other channel’s namespace', () => {
    it('refuses ct: ids from the API', async () => {
      // Prepare
      const { deps } = await harness();

      // Act
      const error = await rejection(
        ingestBatch(apiRequest([appEvent(1, { id: 'ct:abc' })]), deps),
        InvalidEventsError,
      );

      // Assess
      expect(error.errors[0]).toMatchObject({ index: 0, code: 'RESERVED_ID', path: '$.id' });
    });

    it('refuses non-ct: ids from the CloudTrail forwarder', async () => {
      // Prepare
      const { deps } = await harness();

      // Act
      const error = await rejection(
        ingestBatch({ ...apiRequest([appEvent(1)]), channel: 'cloudtrail' }, deps),
        InvalidEventsError,
      );

      // Assess
      expect(error.errors[0]).toMatchObject({ index: 0, code: 'RESERVED_ID' });
    });

    it.each<[string, IngestChannel]>([
      ['k8s:abc', 'api'],
      ['det:rule:abc', 'api'],
      ['k8s:abc', 'cloudtrail'],
      ['det:rule:abc', 'kubernetes'],
      ['ct:abc', 'detection'],
      ['app-1', 'kubernetes'],
      ['app-1', 'detection'],
    ])('refuses the id %s on the %s channel, and stores nothing', async (id, channel) => {
      // Prepare
      const { deps, store } = await harness();

      // Act
      const error = await rejection(
        ingestBatch({ ...apiRequest([appEvent(1, { id })]), channel }, deps),
        InvalidEventsError,
      );

      // Assess
      expect(error.errors[0]).toMatchObject({ index: 0, code: 'RESERVED_ID', path: '$.id' });
      expect(store.eventCount).toBe(0);
    });

    it.each<[string, IngestChannel]>([
      ['k8s:abc', 'kubernetes'],
      ['det:rule:abc', 'detection'],
    ])('stores the id %s on its own channel %s', async (id, channel) => {
      // Prepare
      const { deps, store } = await harness();

      // Act
      const result = await ingestBatch({ ...apiRequest([appEvent(1, { id })]), channel }, deps);

      // Assess
      expect(result.stored).toEqual([id]);
      expect(store.eventCount).toBe(1);
    });
  });

  describe('when the batch size is out of bounds', () => {
    it('answers 400 EMPTY_BATCH for no events', async () => {
      // Prepare
      const { deps } = await harness();

      // Act
      const error = await rejection(ingestBatch(apiRequest([]), deps), EmptyBatchError);

      // Assess
      expect(error.toBody()).toEqual({ code: 'EMPTY_BATCH', message: 'a batch needs at least one event' });
    });

    it('answers 400 TOO_MANY_EVENTS for 501 events and writes nothing', async () => {
      // Prepare
      const { store, signer, deps } = await harness();
      const items = Array.from({ length: 501 }, (_, i) => appEvent(i));

      // Act
      const error = await rejection(ingestBatch(apiRequest(items), deps), TooManyEventsError);

      // Assess
      expect(error.status).toBe(400);
      expect(error.code).toBe('TOO_MANY_EVENTS');
      expect(signer.signCalls).toBe(0);
      expect(store.eventCount).toBe(0);
    });
  });

  describe('when the period is closing', () => {
    it('answers 503 PERIOD_CLOSING before signing or writing once periodEnd + grace - margin is reached', async () => {
      // Prepare
      // The request starts in the period (first clock read: receivedAt) and reaches the guard late.
      const { store, signer, clock, deps } = await harness();
      const closesAt = HOUR.startMs + 3600_000 + 60_000 - 5_000;
      let reads = 0;
      const slowClock = () => new Date(reads++ === 0 ? HOUR.startMs + 3599_999 : closesAt);

      // Act
      const error = await rejection(
        ingestBatch(apiRequest([appEvent(1)]), { ...deps, clock: slowClock }),
        PeriodClosingError,
      );

      // Assess
      expect(error.status).toBe(503);
      expect(error.retryable).toBe(true);
      expect(error.toBody()).toMatchObject({ code: 'PERIOD_CLOSING', stored: [], receipts: [] });
      expect(signer.signCalls).toBe(0);
      expect(store.eventCount).toBe(0);
      expect(clock.nowMs).toBe(T0);
    });

    it('writes when the guard time is not yet reached', async () => {
      // Prepare
      const { store, deps } = await harness();
      let reads = 0;
      const closesAt = HOUR.startMs + 3600_000 + 60_000 - 5_000;
      const clock = () => new Date(reads++ === 0 ? HOUR.startMs + 3599_999 : closesAt - 1);

      // Act
      const result = await ingestBatch(apiRequest([appEvent(1)]), { ...deps, clock });

      // Assess
      expect(result.status).toBe(201);
      expect(store.eventCount).toBe(1);
    });

    it('refuses to write when signing took the request past the guard time', async () => {
      // Prepare
      const { store, signer, clock, deps } = await harness();
      const inner = signer.sign.bind(signer);
      signer.sign = async (statement) => {
        clock.nowMs = HOUR.startMs + 3600_000 + 60_000;
        return inner(statement);
      };

      // Act
      const error = await rejection(ingestBatch(apiRequest([appEvent(1)]), deps), PeriodClosingError);

      // Assess
      expect(error.stored).toEqual([]);
      expect(signer.signCalls).toBe(1);
      expect(store.eventCount).toBe(0);
    });

    it('checks the guard before every write transaction, not once per request', async () => {
      // Prepare
      // Regression: the period-open check ran once per request, so a slow request could write its later
      // transactions after the sealer had read the period. Groups of 2; the first transaction is slow and
      // time passes the guard while it commits.
      let clockRef: { nowMs: number } | undefined;
      let groups = 0;
      const h = await harness({
        eventsPerGroup: 2,
        beforeGroup: () => {
          if (++groups === 1 && clockRef) clockRef.nowMs = HOUR.startMs + 3600_000 + 60_000 - 5_000;
        },
      });
      clockRef = h.clock;
      const items = [appEvent(1), appEvent(2), appEvent(3), appEvent(4), appEvent(5)];

      // Act
      const error = await rejection(ingestBatch(apiRequest(items), h.deps), PeriodClosingError);

      // Assess
      // The second group's guard ran after time moved: only the first group was written, and said so.
      expect(error.toBody()).toMatchObject({ code: 'PERIOD_CLOSING', stored: ['app-1', 'app-2'] });
      expect(error.receipts.map((r) => r.eventId)).toEqual(['app-1', 'app-2']);
      expect(h.store.eventCount).toBe(2);
    });

    it('answers 503 with the exact stored ids when the sealer closed the period between transactions', async () => {
      // Prepare
      const h = await harness({
        eventsPerGroup: 2,
        beforeGroup: async (group, store) => {
          if (group[0]!.id === 'app-3') await store.closePeriod(LEDGER, HOUR);
        },
      });
      const items = [appEvent(1), appEvent(2), appEvent(3), appEvent(4)];

      // Act
      const error = await rejection(ingestBatch(apiRequest(items), h.deps), PeriodClosingError);

      // Assess
      expect(error.status).toBe(503);
      expect(error.toBody()).toMatchObject({ code: 'PERIOD_CLOSING', stored: ['app-1', 'app-2'] });
      const stored = await readAll(h.store.readPeriod(LEDGER, HOUR));
      expect(stored.map((e) => e.id)).toEqual(['app-1', 'app-2']);
    });

    it('refuses to write once the invocation deadline has passed, even inside the period', async () => {
      // Prepare
      const { store, deps } = await harness();

      // Act
      const error = await rejection(
        ingestBatch(apiRequest([appEvent(1)]), { ...deps, deadlineMs: T0 }),
        PeriodClosingError,
      );

      // Assess
      expect(error.stored).toEqual([]);
      expect(store.eventCount).toBe(0);
    });
  });

  describe('when a concurrent request stores the same event first', () => {
    it('returns that request’s receipt as a duplicate', async () => {
      // Prepare
      let racer: Promise<unknown> | undefined;
      const h = await harness({
        beforeGroup: async () => {
          if (racer) return;
          racer = ingestBatch({ ...apiRequest([appEvent(1)]), requestId: 'racer' }, h.deps);
          await racer;
        },
      });

      // Act
      const result = await ingestBatch(apiRequest([appEvent(1), appEvent(2)]), h.deps);

      // Assess
      const winner = (await h.store.findEventIds(LEDGER, ['app-1'])).get('app-1')!;
      expect(result.status).toBe(201);
      expect(result.duplicates).toEqual(['app-1']);
      expect(result.stored).toEqual(['app-2']);
      expect(result.receipts[0]).toEqual(winner.receipt);
      expect(h.store.eventCount).toBe(2);
    });
  });

  describe('when a concurrent request stores the same id with other content mid-batch', () => {
    it('answers 409 naming exactly the events this request stored', async () => {
      // Prepare
      let groups = 0;
      const h = await harness({
        eventsPerGroup: 2,
        beforeGroup: async () => {
          groups++;
          if (groups === 2) {
            await ingestBatch(
              { ...apiRequest([appEvent(3, { action: 'other' })]), requestId: 'racer' },
              h.deps,
            );
          }
        },
      });
      const items = [1, 2, 3, 4, 5].map((n) => appEvent(n));

      // Act
      const error = await rejection(ingestBatch(apiRequest(items), h.deps), IdConflictError);

      // Assess
      expect(error.conflicts).toEqual(['app-3']);
      expect(error.stored).toEqual(['app-1', 'app-2']);
      expect(error.receipts.map((r) => r.eventId)).toEqual(['app-1', 'app-2']);
      expect([
        ...(await h.store.findEventIds(LEDGER, ['app-1', 'app-2', 'app-3', 'app-4', 'app-5'])).keys(),
      ]).toEqual(['app-1', 'app-2', 'app-3']);
      expect(h.store.securitySignals()).toHaveLength(1);
    });
  });

  describe('when a write committed but its answer was lost', () => {
    it('recognizes its own receipts and reports the events as stored', async () => {
      // Prepare
      let lost = false;
      const h = await harness({
        beforeGroup: (events, store) => {
          if (lost) return;
          lost = true;
          store.insertForTest(LEDGER, events);
        },
      });

      // Act
      const result = await ingestBatch(apiRequest([appEvent(1), appEvent(2)]), h.deps);

      // Assess
      expect(result.status).toBe(201);
      expect(result.stored).toEqual(['app-1', 'app-2']);
      expect(result.duplicates).toEqual([]);
    });
  });

  describe('when the store fails after a partial write', () => {
    it('answers 503 WRITE_INCOMPLETE with exactly the stored events, and a retry completes the batch', async () => {
      // Prepare
      let groups = 0;
      const h = await harness({
        eventsPerGroup: 2,
        beforeGroup: () => {
          groups++;
          if (groups === 2) throw new LedgerUnavailableError('throttled', []);
        },
      });
      const items = [1, 2, 3, 4, 5].map((n) => appEvent(n));

      // Act
      const error = await rejection(ingestBatch(apiRequest(items), h.deps), IngestWriteError);
      const retry = await ingestBatch(apiRequest(items), h.deps);

      // Assess
      expect(error.status).toBe(503);
      expect(error.code).toBe('WRITE_INCOMPLETE');
      expect(error.stored).toEqual(['app-1', 'app-2']);
      for (const receipt of error.receipts) expect(checkReceipt(receipt, h.keys).ok).toBe(true);
      expect(retry.duplicates).toEqual(['app-1', 'app-2']);
      expect(retry.stored).toEqual(['app-3', 'app-4', 'app-5']);
      expect(retry.receipts.slice(0, 2)).toEqual(error.receipts);
      expect(h.store.eventCount).toBe(5);
    });
  });

  describe('when the store is unavailable before anything is written', () => {
    it('answers 503 STORE_UNAVAILABLE with nothing stored', async () => {
      // Prepare
      const h = await harness({
        beforeGroup: () => {
          throw new LedgerUnavailableError('throttled', []);
        },
      });

      // Act
      const error = await rejection(ingestBatch(apiRequest([appEvent(1)]), h.deps), IngestWriteError);

      // Assess
      expect(error.toBody()).toEqual({
        code: 'STORE_UNAVAILABLE',
        message: 'the ledger is busy; nothing was stored, retry the request',
        stored: [],
        receipts: [],
      });
      expect(h.store.eventCount).toBe(0);
    });
  });

  describe('when the store fails in an unexpected way before writing', () => {
    it('passes the error on (a 500 for the caller)', async () => {
      // Prepare
      const boom = new Error('bug');
      const h = await harness({
        beforeGroup: () => {
          throw boom;
        },
      });

      // Act
      const error = await ingestBatch(apiRequest([appEvent(1)]), h.deps).catch((e: unknown) => e);

      // Assess
      expect(error).toBe(boom);
    });
  });

  describe('when the signer is unavailable', () => {
    it('answers 503 SIGNER_UNAVAILABLE and writes nothing', async () => {
      // Prepare
      const { store, signer, deps } = await harness();
      signer.failWith = new SigningError('SIGNING_FAILED', 'KMS Sign failed: ThrottlingException');

      // Act
      const error = await rejection(ingestBatch(apiRequest([appEvent(1)]), deps), IngestError);

      // Assess
      expect(error.status).toBe(503);
      expect(error.code).toBe('SIGNER_UNAVAILABLE');
      expect(store.eventCount).toBe(0);
    });
  });
});

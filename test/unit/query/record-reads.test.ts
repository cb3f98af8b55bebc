/**
 * The read recorder's core: read records become signed `read` events, many per signed batch; a
 * redelivery is a duplicate; malformed messages are dropped; a failed write is returned for redelivery.
 */
import { describe, expect, it } from 'vitest';
import { ingestBatch } from '../../../shared/ingest/ingest-batch.ts';
import type { ReadRecord } from '../../../shared/query/read-record.ts';
import { recordReads } from '../../../shared/query/record-reads.ts';
import { apiRequest, appEvent, harness, LEDGER } from '../ingest/ingest-fixtures.ts';

function read(n: number, overrides: Partial<ReadRecord> = {}): ReadRecord {
  return {
    requestId: `0f8e${String(n).padStart(4, '0')}-aaaa-bbbb-cccc-000000000000`,
    principal: 'arn:aws:sts::123456789012:assumed-role/auditseal-reader/alice',
    route: 'GET /v1/events',
    action: 'auditseal:SearchEvents',
    at: '2026-11-22T21:10:00.000Z',
    parameters: { actor: 'bob', limit: '50' },
    resultCount: 50,
    ...overrides,
  };
}

const message = (id: string, body: unknown) => ({
  messageId: id,
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

describe('Function: recordReads', () => {
  it('stores every read as a read event, all of them under one signature', async () => {
    // Prepare
    const h = await harness();
    const messages = Array.from({ length: 30 }, (_, n) => message(`m${n}`, read(n)));
    // Act
    const outcome = await recordReads({ ledger: LEDGER, requestId: 'r', messages }, h.deps);
    // Assess
    expect(outcome.stored).toHaveLength(30);
    expect(outcome.failed).toEqual([]);
    expect(h.signer.signCalls).toBe(1);
    const stored = await h.store.getEvent(LEDGER, `read:${read(3).requestId}`);
    expect(JSON.parse(Buffer.from(stored!.bytes).toString('utf8'))).toMatchObject({
      channel: 'read',
      action: 'auditseal:SearchEvents',
      actor: { id: read(3).principal, type: 'role' },
      details: { route: 'GET /v1/events', parameters: { actor: 'bob', limit: '50' }, resultCount: 50 },
    });
  });

  describe('when a message is delivered again (in the same batch or later)', () => {
    it('stores it once and acknowledges every copy', async () => {
      const h = await harness();
      await recordReads({ ledger: LEDGER, requestId: 'r1', messages: [message('a', read(1))] }, h.deps);
      const outcome = await recordReads(
        { ledger: LEDGER, requestId: 'r2', messages: [message('b', read(1)), message('c', read(1))] },
        h.deps,
      );
      expect(outcome.duplicates.sort()).toEqual(['b', 'c']);
      expect(outcome.failed).toEqual([]);
    });
  });

  describe('when a message is not a read record', () => {
    it.each([
      ['not JSON', '{', 'INVALID_JSON'],
      ['another shape', { hello: 1 }, 'NOT_A_READ_RECORD'],
      ['a request id that is no id', { ...read(1), requestId: '../x' }, 'NOT_A_READ_RECORD'],
      ['an unknown member', { ...read(1), extra: true }, 'NOT_A_READ_RECORD'],
    ])('drops %s and stores the rest', async (_name, body, reason) => {
      const h = await harness();
      const outcome = await recordReads(
        { ledger: LEDGER, requestId: 'r', messages: [message('bad', body), message('good', read(2))] },
        h.deps,
      );
      expect(outcome.rejected).toEqual([{ messageId: 'bad', reason }]);
      expect(outcome.stored).toEqual(['good']);
    });
  });

  describe('when the signer is down', () => {
    it('returns every message for redelivery and stores nothing', async () => {
      const h = await harness();
      h.signer.failWith = new Error('KMS unavailable');
      const failures: string[][] = [];
      const outcome = await recordReads(
        { ledger: LEDGER, requestId: 'r', messages: [message('a', read(1)), message('b', read(2))] },
        h.deps,
        (_error, ids) => failures.push([...ids]),
      );
      expect(outcome.failed.sort()).toEqual(['a', 'b']);
      expect(failures).toEqual([['a', 'b']]);
      expect(await h.store.getEvent(LEDGER, `read:${read(1).requestId}`)).toBeUndefined();
    });
  });

  describe('when a writer tries to use a read: id', () => {
    it('is refused with RESERVED_ID, so no one can forge or pre-empt a read record', async () => {
      const h = await harness();
      await expect(
        ingestBatch(apiRequest([appEvent(1, { id: `read:${read(9).requestId}` })]), h.deps),
      ).rejects.toMatchObject({ errors: [expect.objectContaining({ code: 'RESERVED_ID' })] });
    });
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalString } from '../../../shared/canonical/jcs.ts';
import { eventIdHash } from '../../../shared/ledger/archive-chunk.ts';
import { batchRoot } from '../../../shared/ledger/batch-receipts.ts';
import { BATCH_RECORD_TYPE, type BatchRecord } from '../../../shared/ledger/formats.ts';
import {
  parseBatchRecordLine,
  readRecordFast,
  readRecordGeneric,
  recordBatchRoot,
} from '../../../shared/verify/batch-record-check.ts';

const ID_FIRST = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'.split('');
const ID_REST = [...ID_FIRST, ...'._:@/+=-'.split('')];
const idArb = fc
  .tuple(fc.constantFrom(...ID_FIRST), fc.array(fc.constantFrom(...ID_REST), { maxLength: 40 }))
  .map(([a, rest]) => a + rest.join(''));
const timeArb = fc
  .integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2099, 11, 31) })
  .map((ms) => new Date(ms).toISOString());
const hexArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));
const leafArb = fc.oneof(
  fc.record({ id: idArb, receivedAt: timeArb, leafHash: hexArb, index: fc.maxSafeNat() }),
  fc.record({
    id: idArb,
    receivedAt: timeArb,
    leafHash: hexArb,
    index: fc.constant(null),
    missing: fc.constantFrom('MODIFIED' as const, 'ABSENT' as const, 'ABANDONED' as const),
  }),
);
const base64Arb = fc
  .base64String({ minLength: 4, maxLength: 200 })
  .filter((s) => /^[A-Za-z0-9+/]+={0,2}$/.test(s));
/** Statements: printable ASCII with quotes and backslashes (the fast path), or any text (it may defer). */
const statementArb = fc.oneof(
  fc.constant('{"batchId":"b-1","type":"auditseal.batch-statement.v2"}'),
  fc.string({ unit: fc.constantFrom(...' "\\{}:,abcXYZ019'.split('')), minLength: 1, maxLength: 200 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }),
);
const recordArb: fc.Arbitrary<BatchRecord> = fc
  .record(
    {
      statement: statementArb,
      signature: base64Arb,
      leaves: fc.array(leafArb, { minLength: 1, maxLength: 12 }),
      abandon: fc.record({ statement: statementArb, signature: base64Arb }),
    },
    { requiredKeys: ['statement', 'signature', 'leaves'] },
  )
  .map((r) => ({ type: BATCH_RECORD_TYPE, ...r }) as BatchRecord);

const line = (value: unknown): Buffer => Buffer.from(canonicalString(value), 'utf8');
const isPrintableAscii = (s: string): boolean => /^[\x20-\x7e]*$/.test(s);

/** Changes one byte-level thing of a line: the kinds of edits an attacker or a bad writer makes. */
const mutationArb = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    byte: fc.constantFrom(...' \t\n"\\,:{}[]0-+eE.nulA\u00e9'.split('')),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
);
type Mutation = {
  kind: 'flip' | 'set' | 'insert' | 'delete';
  at: number;
  bit?: number;
  byte?: string | number;
};
function mutate(bytes: Buffer, m: Mutation): Buffer {
  const at = m.at % (bytes.length + (m.kind === 'insert' ? 1 : 0));
  switch (m.kind) {
    case 'flip': {
      const out = Buffer.from(bytes);
      out[at] = out[at]! ^ (1 << m.bit!);
      return out;
    }
    case 'set': {
      const out = Buffer.from(bytes);
      out[at] = m.byte as number;
      return out;
    }
    case 'insert':
      return Buffer.concat([
        bytes.subarray(0, at),
        Buffer.from(m.byte as string, 'utf8'),
        bytes.subarray(at),
      ]);
    default:
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
  }
}

describe('Function: readRecordFast', () => {
  it('reads every canonical record of printable ASCII strings exactly as the generic path does', () => {
    fc.assert(
      fc.property(recordArb, (record) => {
        // Prepare
        const bytes = line(record);

        // Act
        const fast = readRecordFast(bytes);
        const generic = readRecordGeneric(bytes);

        // Assess
        expect(generic).toBeDefined();
        const ascii = [record.statement, record.abandon?.statement ?? ''].every(isPrintableAscii);
        if (ascii) expect(fast).toEqual(generic);
        else if (fast) expect(fast).toEqual(generic);
      }),
      { numRuns: 300 },
    );
  });

  it('never accepts a line the generic path rejects, nor reads one differently (random byte edits)', () => {
    fc.assert(
      fc.property(recordArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }), (record, edits) => {
        // Prepare
        let bytes = line(record);
        for (const edit of edits) bytes = mutate(bytes, edit);

        // Act
        const fast = readRecordFast(bytes);

        // Assess
        if (fast !== undefined) expect(fast).toEqual(readRecordGeneric(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  describe('when the line is valid JSON of a valid record but not its canonical form', () => {
    const record: BatchRecord = {
      type: BATCH_RECORD_TYPE,
      statement: '{"a":"b"}',
      signature: 'AAAA',
      leaves: [{ id: 'e-1', receivedAt: '2026-03-02T10:00:00.000Z', leafHash: 'ab'.repeat(32), index: 7 }],
    };
    const canonical = canonicalString(record);
    const variants: Record<string, string> = {
      'a space after a colon': canonical.replace('"index":7', '"index": 7'),
      'a trailing newline': `${canonical}\n`,
      'a leading space': ` ${canonical}`,
      'an escaped solidus': canonical.replace('"AAAA"', '"AA\\/A"'),
      'a unicode escape': canonical.replace('"e-1"', '"\\u0065-1"'),
      'an index with a leading zero': canonical.replace('"index":7', '"index":07'),
      'an index with a fraction': canonical.replace('"index":7', '"index":7.0'),
      'an index with an exponent': canonical.replace('"index":7', '"index":7e0'),
      'an index of -0': canonical.replace('"index":7', '"index":-0'),
      'upper-case hex': canonical.replace('ab'.repeat(32), 'AB'.repeat(32)),
      'leaf keys out of order': canonical.replace(
        `{"id":"e-1","index":7,"leafHash":"${'ab'.repeat(32)}"`,
        `{"index":7,"id":"e-1","leafHash":"${'ab'.repeat(32)}"`,
      ),
      'a key twice': canonical.replace('"index":7', '"index":8,"index":7'),
      'top-level keys out of order': JSON.stringify({
        type: record.type,
        statement: record.statement,
        signature: record.signature,
        leaves: record.leaves,
      }),
      'a needlessly escaped statement character': canonical.replace('{\\"a\\"', '{\\"\\u0061\\"'),
    };
    for (const [name, text] of Object.entries(variants)) {
      describe(`when it has ${name}`, () => {
        it('is refused by both paths', () => {
          // Prepare
          expect(text).not.toBe(canonical);
          const bytes = Buffer.from(text, 'utf8');

          // Act
          const fast = readRecordFast(bytes);
          const both = parseBatchRecordLine(bytes);

          // Assess
          expect(fast).toBeUndefined();
          expect(both).toBeUndefined();
        });
      });
    }

    it('the canonical line itself is read by the fast path', () => {
      expect(readRecordFast(Buffer.from(canonical, 'utf8'))?.leaves.ids).toEqual(['e-1']);
    });
  });

  describe('when a leaf is both sealed and missing, or neither', () => {
    it('is refused by both paths', () => {
      // Prepare
      const leaf = { id: 'e-1', receivedAt: '2026-03-02T10:00:00.000Z', leafHash: 'ab'.repeat(32) };
      const both = line({
        type: BATCH_RECORD_TYPE,
        statement: 's',
        signature: 'AAAA',
        leaves: [{ ...leaf, index: 1, missing: 'ABSENT' }],
      });
      const neither = line({
        type: BATCH_RECORD_TYPE,
        statement: 's',
        signature: 'AAAA',
        leaves: [{ ...leaf, index: null }],
      });

      // Act / Assess
      for (const bytes of [both, neither]) {
        expect(readRecordFast(bytes)).toBeUndefined();
        expect(parseBatchRecordLine(bytes)).toBeUndefined();
      }
    });
  });
});

describe('Function: recordBatchRoot', () => {
  it('is batchRoot over the same leaves', () => {
    fc.assert(
      fc.property(recordArb, (record) => {
        // Prepare
        const parsed = parseBatchRecordLine(line(record))!;
        const idHashes = Buffer.concat(parsed.leaves.ids.map((id) => eventIdHash(id)));

        // Act
        const root = recordBatchRoot(parsed.leaves, idHashes);

        // Assess
        const expected = batchRoot(
          record.leaves.map((l) => ({
            eventId: l.id,
            receivedAt: l.receivedAt,
            leafHash: Buffer.from(l.leafHash, 'hex'),
          })),
        );
        expect(root.equals(expected)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChunkBuilder, eventIdHash, INDEX_ENTRY_SIZE } from '../../../shared/ledger/archive-chunk.ts';
import { hashLeaf, rootFromLeafHashes } from '../../../shared/merkle/rfc6962.ts';

/** The chunk bodies by their definition (FORMAT.md §7): lines of canonical bytes, and per event LH ‖ H(id). */
function expectedChunk(events: readonly { id: string; bytes: Uint8Array }[]): {
  archive: Buffer;
  index: Buffer;
  root: Buffer;
} {
  const leaves = events.map((e) => hashLeaf(e.bytes));
  return {
    archive: Buffer.concat(events.flatMap((e) => [Buffer.from(e.bytes), Buffer.from('\n')])),
    index: Buffer.concat(events.flatMap((e, i) => [leaves[i]!, eventIdHash(e.id)])),
    root: rootFromLeafHashes(leaves),
  };
}

// Event bytes without a newline (the builder refuses those), of sizes around the builder's first buffer.
const eventArb = fc.record({
  id: fc.string({ minLength: 1, maxLength: 40 }),
  bytes: fc
    .uint8Array({ maxLength: 3000 })
    .map((b) => b.map((x) => (x === 0x0a ? 0x20 : x)))
    .chain((small) =>
      fc.oneof(
        fc.constant(small),
        fc.integer({ min: 60 * 1024, max: 200 * 1024 }).map((n) => new Uint8Array(n).fill(0x41)),
      ),
    ),
});

describe('Class: ChunkBuilder', () => {
  describe('Method: build', () => {
    it('gives the defined archive, index and root, chunk after chunk on one reused builder', () => {
      fc.assert(
        fc.property(
          fc.array(fc.array(eventArb, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 4 }),
          fc.integer({ min: 1, max: 64 }),
          (chunks, expectedLeaves) => {
            // Prepare
            const builder = new ChunkBuilder(expectedLeaves);

            for (const events of chunks) {
              // Act
              for (const e of events) builder.add(e);
              const built = builder.build();

              // Assess
              const want = expectedChunk(events);
              expect(Buffer.from(built.archive).equals(want.archive)).toBe(true);
              expect(Buffer.from(built.index).equals(want.index)).toBe(true);
              expect(built.root.equals(want.root)).toBe(true);
              expect(built.count).toBe(events.length);
              expect(built.leafHashes.map((h) => Buffer.from(h).toString('hex'))).toEqual(
                events.map((e) => hashLeaf(e.bytes).toString('hex')),
              );
              expect(built.index.length).toBe(events.length * INDEX_ENTRY_SIZE);
              builder.reset();
            }
          },
        ),
        { numRuns: 60 },
      );
    });
  });

  describe('Method: add', () => {
    describe('when the caller reuses an event buffer after adding it', () => {
      it('keeps the bytes as they were added: the builder holds no reference to the event', () => {
        // Prepare: the sealer's memory stays one chunk only if the events it reads can be collected at once.
        const builder = new ChunkBuilder();
        const bytes = Buffer.from('{"id":"a"}');
        const want = expectedChunk([{ id: 'a', bytes: Buffer.from(bytes) }]);

        // Act
        builder.add({ id: 'a', bytes });
        bytes.fill(0x7a);
        const built = builder.build();

        // Assess
        expect(Buffer.from(built.archive).equals(want.archive)).toBe(true);
        expect(built.root.equals(want.root)).toBe(true);
      });
    });

    describe('when an event holds a raw newline', () => {
      it('throws, and the chunk is unchanged', () => {
        // Prepare
        const builder = new ChunkBuilder();
        builder.add({ id: 'a', bytes: Buffer.from('{"a":1}') });

        // Act
        const act = () => builder.add({ id: 'b', bytes: Buffer.from('{"a":\n1}') });

        // Assess
        expect(act).toThrow(RangeError);
        expect(Buffer.from(builder.build().archive).toString()).toBe('{"a":1}\n');
      });
    });
  });
});

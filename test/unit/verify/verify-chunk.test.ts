import { describe, expect, it } from 'vitest';
import { canonicalString } from '../../../shared/canonical/jcs.ts';
import { ChunkBuilder, eventIdHash } from '../../../shared/ledger/archive-chunk.ts';
import type { ArchiveRef } from '../../../shared/ledger/formats.ts';
import { toHex } from '../../../shared/ledger/hex.ts';
import { hashLeaf, rootFromLeafHashes, sha256 } from '../../../shared/merkle/rfc6962.ts';
import { chunkRoot, hashLines, verifyChunk } from '../../../shared/verify/verify-chunk.ts';
import { makeEvent, type TestEvent } from '../../support/sealed-folder.ts';

const KEY = 'archives/unit/2026/11/22/20261122T210000Z-3600s/000001.jsonl';
const INDEX_KEY = 'archives/unit/2026/11/22/20261122T210000Z-3600s/000001.idx';
const FIRST_INDEX = 8;

const EVENTS: TestEvent[] = Array.from({ length: 6 }, (_, i) =>
  makeEvent(`evt-${i}`, `2026-11-22T21:00:0${i}.000Z`, { action: `action-${i}` }),
);

/** A chunk as sealPeriod builds it, and the digest's entry for it. */
function sealedChunk(events: readonly TestEvent[] = EVENTS): {
  archive: Buffer;
  index: Buffer;
  ref: ArchiveRef;
} {
  const builder = new ChunkBuilder();
  for (const e of events) builder.add(e);
  const built = builder.build();
  return {
    archive: Buffer.from(built.archive),
    index: Buffer.from(built.index),
    ref: {
      key: KEY,
      indexKey: INDEX_KEY,
      firstIndex: FIRST_INDEX,
      count: built.count,
      size: built.archive.length,
      rootHash: toHex(built.root),
      indexSha256: toHex(sha256(built.index)),
    },
  };
}

function lines(...parts: Uint8Array[]): Buffer {
  return Buffer.concat(parts.flatMap((p) => [Buffer.from(p), Buffer.from('\n')]));
}

const bytesOf = (i: number): Uint8Array => EVENTS[i]!.bytes;

function modified(i: number): Buffer {
  const event = JSON.parse(Buffer.from(bytesOf(i)).toString('utf8')) as Record<string, unknown>;
  event['action'] = 'tampered';
  return Buffer.from(canonicalString(event));
}

describe('Function: hashLines', () => {
  describe('when given newline-terminated lines and a partial last line', () => {
    it('returns the RFC 6962 leaf of each complete line and leaves the data unchanged', () => {
      // Prepare
      const data = Buffer.concat([lines(bytesOf(0), bytesOf(1), Buffer.alloc(0)), Buffer.from('partial')]);
      const copy = Buffer.from(data);

      // Act
      const hashed = hashLines(data);

      // Assess
      expect(hashed.leaves).toEqual([hashLeaf(bytesOf(0)), hashLeaf(bytesOf(1)), hashLeaf(Buffer.alloc(0))]);
      expect(hashed.starts).toEqual([0, bytesOf(0).length + 1, bytesOf(0).length + bytesOf(1).length + 2]);
      expect(hashed.end).toBe(data.length - 'partial'.length);
      expect(data).toEqual(copy);
      expect(chunkRoot(hashed.leaves)).toEqual(rootFromLeafHashes(hashed.leaves));
    });
  });
});

describe('Function: verifyChunk', () => {
  describe('when archive and index are exactly as sealed', () => {
    it('reports nothing and returns the committed leaves', () => {
      // Prepare
      const { archive, index, ref } = sealedChunk();

      // Act
      const result = verifyChunk(ref, archive, index);

      // Assess
      expect(result.findings).toEqual([]);
      expect(result.clean).toBe(true);
      expect(result.committedLeaves).toEqual(EVENTS.map((e) => e.leafHash));
    });
  });

  describe('when an event is modified', () => {
    it('reports EVENT_MODIFIED with its id, position and both leaf hashes', () => {
      // Prepare
      const { index, ref } = sealedChunk();
      const archive = lines(bytesOf(0), bytesOf(1), modified(2), bytesOf(3), bytesOf(4), bytesOf(5));

      // Act
      const result = verifyChunk(ref, archive, index);

      // Assess
      expect(result.findings).toEqual([
        expect.objectContaining({
          code: 'EVENT_MODIFIED',
          object: KEY,
          eventId: 'evt-2',
          eventIndex: FIRST_INDEX + 2,
          evidence: { expected: toHex(EVENTS[2]!.leafHash), computed: toHex(hashLeaf(modified(2))) },
        }),
      ]);
      expect(result.committedLeaves).toEqual(EVENTS.map((e) => e.leafHash));
    });
  });

  describe('when a middle event is deleted', () => {
    it('reports EVENT_DELETED at its position, naming the hash of its id', () => {
      // Prepare
      const { index, ref } = sealedChunk();
      const archive = lines(bytesOf(0), bytesOf(1), bytesOf(2), bytesOf(4), bytesOf(5));

      // Act
      const result = verifyChunk(ref, archive, index);

      // Assess
      expect(result.findings).toHaveLength(1);
      expect(result.findings[0]).toMatchObject({
        code: 'EVENT_DELETED',
        object: KEY,
        eventIndex: FIRST_INDEX + 3,
      });
      expect(result.findings[0]!.message).toContain(toHex(eventIdHash('evt-3')).slice(0, 16));
    });
  });

  describe('when an unsealed event is inserted', () => {
    it('reports EVENT_INSERTED with its id', () => {
      // Prepare
      const { index, ref } = sealedChunk();
      const extra = makeEvent('evt-new', '2026-11-22T21:00:09.000Z').bytes;
      const archive = lines(bytesOf(0), extra, bytesOf(1), bytesOf(2), bytesOf(3), bytesOf(4), bytesOf(5));

      // Act
      const result = verifyChunk(ref, archive, index);

      // Assess
      expect(result.findings).toEqual([
        expect.objectContaining({ code: 'EVENT_INSERTED', object: KEY, eventId: 'evt-new' }),
      ]);
    });
  });

  describe('when an event occurs twice', () => {
    it('reports EVENT_DUPLICATED for the extra copy only', () => {
      // Prepare
      const { index, ref } = sealedChunk();
      const archive = lines(
        bytesOf(0),
        bytesOf(1),
        bytesOf(2),
        bytesOf(3),
        bytesOf(1),
        bytesOf(4),
        bytesOf(5),
      );

      // Act
      const result = verifyChunk(ref, archive, index);

      // Assess
      expect(result.findings).toEqual([
        expect.objectContaining({ code: 'EVENT_DUPLICATED', eventId: 'evt-1', eventIndex: FIRST_INDEX + 1 }),
      ]);
      expect(result.findings[0]!.message).toContain('line 5');
    });
  });

  describe('when a copy of an event is appended after the sealed events', () => {
    it('reports ARCHIVE_TRAILING_DATA: the sealed prefix is intact', () => {
      // Prepare
      const { archive, index, ref } = sealedChunk();

      // Act
      const result = verifyChunk(ref, Buffer.concat([archive, lines(bytesOf(1))]), index);

      // Assess
      expect(result.findings.map((f) => f.code)).toEqual(['ARCHIVE_TRAILING_DATA']);
    });
  });

  describe('when a modified copy of an event sits beside the original', () => {
    it('reports EVENT_DUPLICATED, not EVENT_MODIFIED', () => {
      // Prepare
      const { index, ref } = sealedChunk();
      const archive = lines(
        bytesOf(0),
        bytesOf(1),
        modified(1),
        bytesOf(2),
        bytesOf(3),
        bytesOf(4),
        bytesOf(5),
      );

      // Act
      const result = verifyChunk(ref, archive, index);

      // Assess
      expect(result.findings.map((f) => [f.code, f.eventId])).toEqual([['EVENT_DUPLICATED', 'evt-1']]);
    });
  });

  describe('when the events are in reverse order', () => {
    it('reports EVENT_REORDERED for all but one event', () => {
      // Prepare
      const { index, ref } = sealedChunk();
      const archive = lines(...EVENTS.map((e) => e.bytes).reverse());

      // Act
      const result = verifyChunk(ref, archive, index);

      // Assess
      expect(result.findings.map((f) => f.code)).toEqual(Array(5).fill('EVENT_REORDERED'));
      expect(new Set(result.findings.map((f) => f.eventId)).size).toBe(5);
    });
  });

  describe('when one event moved three places', () => {
    it('reports EVENT_REORDERED for that event alone', () => {
      // Prepare
      const { index, ref } = sealedChunk();
      const archive = lines(bytesOf(1), bytesOf(2), bytesOf(3), bytesOf(0), bytesOf(4), bytesOf(5));

      // Act
      const result = verifyChunk(ref, archive, index);

      // Assess
      expect(result.findings).toEqual([
        expect.objectContaining({ code: 'EVENT_REORDERED', eventId: 'evt-0', eventIndex: FIRST_INDEX }),
      ]);
    });
  });

  describe('when a line is not a JSON event', () => {
    it('reports ARCHIVE_MALFORMED at that line and the event it replaced as deleted', () => {
      // Prepare
      const { index, ref } = sealedChunk();
      const archive = lines(
        bytesOf(0),
        Buffer.from('[1,2,3]'),
        bytesOf(2),
        bytesOf(3),
        bytesOf(4),
        bytesOf(5),
      );

      // Act
      const result = verifyChunk(ref, archive, index);

      // Assess
      expect(result.findings.map((f) => [f.code, f.eventIndex])).toEqual([
        ['ARCHIVE_MALFORMED', FIRST_INDEX + 1],
        ['EVENT_DELETED', FIRST_INDEX + 1],
      ]);
    });
  });

  describe('when the archive is cut short', () => {
    it.each([
      ['at a line boundary', 3],
      ['in the middle of a line', 3.5],
      ['to nothing', 0],
    ])('reports ARCHIVE_TRUNCATED %s', (_, cutAfter) => {
      // Prepare
      const { archive, index, ref } = sealedChunk();
      const whole = Math.floor(cutAfter);
      const boundary = EVENTS.slice(0, whole).reduce((n, e) => n + e.bytes.length + 1, 0);
      const length = cutAfter === whole ? boundary : boundary + 10;

      // Act
      const result = verifyChunk(ref, archive.subarray(0, length), index);

      // Assess
      expect(result.findings).toEqual([
        expect.objectContaining({
          code: 'ARCHIVE_TRUNCATED',
          object: KEY,
          evidence: { expected: String(ref.size), computed: String(length) },
        }),
      ]);
      expect(result.committedLeaves).toEqual(EVENTS.map((e) => e.leafHash));
    });
  });

  describe('when bytes follow the sealed events', () => {
    it.each([
      ['a whole line', '{"id":"evt-x"}\n'],
      ['a partial line', 'garbage'],
    ])('reports ARCHIVE_TRAILING_DATA for %s', (_, extra) => {
      // Prepare
      const { archive, index, ref } = sealedChunk();

      // Act
      const result = verifyChunk(ref, Buffer.concat([archive, Buffer.from(extra)]), index);

      // Assess
      expect(result.findings).toEqual([
        expect.objectContaining({ code: 'ARCHIVE_TRAILING_DATA', object: KEY }),
      ]);
      expect(result.committedLeaves).toEqual(EVENTS.map((e) => e.leafHash));
    });
  });

  describe('when the archive is missing', () => {
    it('reports ARCHIVE_MISSING and still returns the leaves from the intact index', () => {
      // Prepare
      const { index, ref } = sealedChunk();

      // Act
      const result = verifyChunk(ref, undefined, index);

      // Assess
      expect(result.findings).toEqual([expect.objectContaining({ code: 'ARCHIVE_MISSING', object: KEY })]);
      expect(result.committedLeaves).toEqual(EVENTS.map((e) => e.leafHash));
    });
  });

  describe('when the index is missing and the archive is intact', () => {
    it('reports INDEX_MISSING only', () => {
      // Prepare
      const { archive, ref } = sealedChunk();

      // Act
      const result = verifyChunk(ref, archive, undefined);

      // Assess
      expect(result.findings).toEqual([
        expect.objectContaining({ code: 'INDEX_MISSING', object: INDEX_KEY }),
      ]);
      expect(result.clean).toBe(false);
      expect(result.committedLeaves).toEqual(EVENTS.map((e) => e.leafHash));
    });
  });

  describe('when both objects are missing', () => {
    it('reports both and cannot return leaves', () => {
      // Prepare
      const { ref } = sealedChunk();

      // Act
      const result = verifyChunk(ref, undefined, undefined);

      // Assess
      expect(result.findings.map((f) => f.code)).toEqual(['INDEX_MISSING', 'ARCHIVE_MISSING']);
      expect(result.committedLeaves).toBeUndefined();
    });
  });

  describe('when the index is modified and an event too', () => {
    it('reports INDEX_MODIFIED and ROOT_MISMATCH for the archive, with both roots', () => {
      // Prepare
      const { index, ref } = sealedChunk();
      const badIndex = Buffer.from(index);
      badIndex[0] = badIndex[0]! ^ 0xff;
      const archive = lines(modified(0), bytesOf(1), bytesOf(2), bytesOf(3), bytesOf(4), bytesOf(5));

      // Act
      const result = verifyChunk(ref, archive, badIndex);

      // Assess
      expect(result.findings).toEqual([
        expect.objectContaining({ code: 'INDEX_MODIFIED', object: INDEX_KEY }),
        expect.objectContaining({
          code: 'ROOT_MISMATCH',
          object: KEY,
          evidence: expect.objectContaining({ expected: ref.rootHash }),
        }),
      ]);
      expect(result.committedLeaves).toBeUndefined();
    });
  });

  describe('when the digest names a root its own intact index does not give', () => {
    it('reports DIGEST_MALFORMED for the index', () => {
      // Prepare
      const { archive, index, ref } = sealedChunk();
      const inconsistent = { ...ref, rootHash: toHex(hashLeaf(Buffer.from('another root'))) };

      // Act
      const result = verifyChunk(inconsistent, archive, index);

      // Assess
      expect(result.findings).toEqual([
        expect.objectContaining({ code: 'DIGEST_MALFORMED', object: INDEX_KEY }),
      ]);
    });
  });
});

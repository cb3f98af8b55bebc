import { createPublicKey, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalBytes } from '../../../shared/canonical/jcs.ts';
import { KeyFileSigner } from '../../../shared/crypto/key-file-signer.ts';
import { eventIdHash } from '../../../shared/ledger/archive-chunk.ts';
import { signBatchStatement } from '../../../shared/ledger/batch-receipts.ts';
import { SealError } from '../../../shared/ledger/errors.ts';
import { digestSchema, digestStatementSchema } from '../../../shared/ledger/formats.ts';
import { toHex } from '../../../shared/ledger/hex.ts';
import { archiveObjectKey, digestObjectKey } from '../../../shared/ledger/object-keys.ts';
import { nextPeriod, type Period } from '../../../shared/ledger/period.ts';
import {
  BATCH_FILE_MAX_RECORDS,
  readSealedHead,
  type SealRequest,
  sealPeriod,
} from '../../../shared/ledger/seal-period.ts';
import { sealRange, signImportBatches } from '../../../shared/ledger/seal-range.ts';
import { emptyRoot, rootFromLeafHashes, sha256 } from '../../../shared/merkle/rfc6962.ts';
import type { BatchSeal, PeriodEvent } from '../../../shared/ports/ledger-store.ts';
import type { ObjectStore, PutOutcome } from '../../../shared/ports/object-store.ts';
import { InMemoryObjectStore } from '../../../shared/storage/in-memory-object-store.ts';
import { verifyFolder } from '../../../shared/verify/verify-folder.ts';
import { MemoryReader, makeEvent, type TestEvent, trustedKeysOf } from '../../support/sealed-folder.ts';
import { sealSignedPeriod } from '../../support/signed-seal.ts';

const LEDGER = 'unit';
const P0: Period = { startMs: Date.parse('2026-11-22T21:00:00Z'), seconds: 3600 };
const P1 = nextPeriod(P0);
const P2 = nextPeriod(P1);

/** `n` events received inside `period`, in sealing order. */
function eventsIn(period: Period, n: number, prefix = 'evt'): TestEvent[] {
  return Array.from({ length: n }, (_, i) =>
    makeEvent(
      `${prefix}-${String(i).padStart(4, '0')}`,
      new Date(period.startMs + (i + 1) * 1000).toISOString(),
    ),
  );
}

/**
 * A seal request over `events`, signed once as import batches. Batch signatures are ECDSA, so they differ
 * per signing: a test of sealPeriod's own determinism seals the same signed batches twice.
 */
async function signedRequest(
  signer: KeyFileSigner,
  period: Period,
  events: readonly TestEvent[],
  chunkLeaves?: number,
): Promise<SealRequest & { rows: PeriodEvent[]; batches: BatchSeal[] }> {
  const { rows, batches } = await signImportBatches(LEDGER, period, events, { signer });
  return {
    ledger: LEDGER,
    period,
    previous: null,
    rows,
    batches,
    keys: await trustedKeysOf(signer),
    ...(chunkLeaves ? { chunkLeaves } : {}),
  };
}

function json(store: InMemoryObjectStore, key: string): unknown {
  return JSON.parse(Buffer.from(store.objects.get(key)!).toString('utf8'));
}

/** Every object except signatures, which ECDSA randomizes. */
function withoutSignatures(store: InMemoryObjectStore): Map<string, string> {
  return new Map(
    [...store.objects]
      .filter(([key]) => !key.endsWith('.sig'))
      .map(([key, bytes]) => [key, Buffer.from(bytes).toString('hex')]),
  );
}

/**
 * Every object except what commits to a signature: `.sig` objects, and in batch records the `signature`
 * member; digests and statements, which commit to the batch files, keep only their signature-free parts.
 */
function withoutBatchSignatures(store: InMemoryObjectStore): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [key, bytes] of store.objects) {
    const text = Buffer.from(bytes).toString('utf8');
    if (key.endsWith('.sig')) continue;
    if (/\/batches-\d{6}\.jsonl$/.test(key)) {
      out.set(
        key,
        text
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => ({ ...(JSON.parse(l) as object), signature: '(signature)' })),
      );
    } else if (key.endsWith('.digest.json')) {
      const digest = JSON.parse(text) as { batches: object[]; previous: object | null };
      out.set(key, {
        ...digest,
        batches: digest.batches.map((b) => ({ ...b, size: '(size)', sha256: '(sha256)' })),
        previous: digest.previous ? '(previous)' : null,
      });
    } else if (key.endsWith('.statement.json')) {
      const statement = JSON.parse(text) as object;
      out.set(key, { ...statement, digestSha256: '(sha256)', previousStatementSha256: '(sha256)' });
    } else out.set(key, Buffer.from(bytes).toString('hex'));
  }
  return out;
}

/** A store that dies at its `crashAt`-th write: before the write lands, or just after. */
class CrashingStore implements ObjectStore {
  private writes = 0;
  constructor(
    private readonly inner: ObjectStore,
    private readonly crashAt: number,
    private readonly when: 'before' | 'after',
  ) {}

  async putIfAbsent(key: string, body: Uint8Array, contentType: string): Promise<PutOutcome> {
    const n = this.writes++;
    if (n === this.crashAt && this.when === 'before') throw new Error(`crash before write ${n}`);
    const outcome = await this.inner.putIfAbsent(key, body, contentType);
    if (n === this.crashAt) throw new Error(`crash after write ${n}`);
    return outcome;
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.inner.get(key);
  }
}

/** Counts writes, so a test can crash at each of them. */
class CountingStore extends InMemoryObjectStore {
  writes = 0;
  override async putIfAbsent(key: string, body: Uint8Array): Promise<PutOutcome> {
    this.writes++;
    return super.putIfAbsent(key, body);
  }
}

describe('Function: sealPeriod', () => {
  describe('when a period is sealed twice', () => {
    it('writes byte-identical objects, and the second run reports already-sealed', async () => {
      // Prepare
      const signer = KeyFileSigner.generate();
      const request = await signedRequest(signer, P0, eventsIn(P0, 11), 4);
      const first = new InMemoryObjectStore();
      const fresh = new InMemoryObjectStore();
      const created = await sealPeriod(request, { store: first, signer });
      const before = new Map(first.objects);

      // Act
      const again = await sealPeriod(request, { store: first, signer });
      const elsewhere = await sealPeriod(request, { store: fresh, signer });

      // Assess
      expect(created.outcome).toBe('created');
      expect(again.outcome).toBe('already-sealed');
      expect(elsewhere.outcome).toBe('created');
      expect(first.objects).toEqual(before);
      expect(withoutSignatures(fresh)).toEqual(withoutSignatures(first));
      expect(withoutSignatures(first).size).toBe(first.objects.size - 1);
      expect(again.statementSha256).toBe(created.statementSha256);
      expect(elsewhere.statementSha256).toBe(created.statementSha256);
    });
  });

  describe('when events arrive as an async iterable', () => {
    it('seals the same objects as from an array', async () => {
      // Prepare
      const signer = KeyFileSigner.generate();
      const request = await signedRequest(signer, P0, eventsIn(P0, 6), 4);
      async function* stream<T>(items: readonly T[]) {
        for (const item of items) yield item;
      }
      const fromArray = new InMemoryObjectStore();
      const fromStream = new InMemoryObjectStore();
      await sealPeriod(request, { store: fromArray, signer });

      // Act
      await sealPeriod(
        { ...request, rows: stream(request.rows), batches: stream(request.batches) },
        { store: fromStream, signer },
      );

      // Assess
      expect(withoutSignatures(fromStream)).toEqual(withoutSignatures(fromArray));
    });
  });

  describe('when 11 events are sealed in chunks of 4', () => {
    it('writes 3 chunks whose roots combine into the root of all leaves', async () => {
      // Prepare
      const store = new InMemoryObjectStore();
      const events = eventsIn(P0, 11);
      const leaves = events.map((e) => e.leafHash);

      // Act
      const sealed = await sealSignedPeriod(
        { ledger: LEDGER, period: P0, previous: null, events, chunkLeaves: 4 },
        { store, signer: KeyFileSigner.generate() },
      );

      // Assess
      const digest = digestSchema.parse(json(store, digestObjectKey(LEDGER, P0, 'digest')));
      expect(digest.archives.map((a) => [a.firstIndex, a.count])).toEqual([
        [0, 4],
        [4, 4],
        [8, 3],
      ]);
      expect(digest.treeSize).toBe(11);
      expect(digest.rootHash).toBe(toHex(rootFromLeafHashes(leaves)));
      expect(sealed.rootHash).toBe(digest.rootHash);
      digest.archives.forEach((ref, n) => {
        const part = events.slice(ref.firstIndex, ref.firstIndex + ref.count);
        const archive = Buffer.from(store.objects.get(ref.key)!);
        const idx = Buffer.from(store.objects.get(ref.indexKey)!);
        expect(ref.key).toBe(archiveObjectKey(LEDGER, P0, n, 'events'));
        expect(ref.indexKey).toBe(archiveObjectKey(LEDGER, P0, n, 'index'));
        expect(archive).toEqual(
          Buffer.concat(part.flatMap((e) => [Buffer.from(e.bytes), Buffer.from('\n')])),
        );
        expect(ref.size).toBe(archive.length);
        expect(idx).toEqual(Buffer.concat(part.flatMap((e) => [e.leafHash, eventIdHash(e.id)])));
        expect(ref.indexSha256).toBe(toHex(sha256(idx)));
        expect(ref.rootHash).toBe(toHex(rootFromLeafHashes(part.map((e) => e.leafHash))));
      });
    });
  });

  describe('when the period has no events', () => {
    it('writes a digest of size 0 with the empty root and no archives', async () => {
      // Prepare
      const store = new InMemoryObjectStore();
      const signer = KeyFileSigner.generate();

      // Act
      const sealed = await sealSignedPeriod(
        { ledger: LEDGER, period: P0, previous: null, events: [] },
        { store, signer },
      );

      // Assess
      const digest = digestSchema.parse(json(store, digestObjectKey(LEDGER, P0, 'digest')));
      expect(digest).toMatchObject({
        treeSize: 0,
        archives: [],
        rootHash: toHex(emptyRoot()),
        sequence: 0,
        previous: null,
      });
      expect(digest.period).toEqual({
        start: '2026-11-22T21:00:00Z',
        end: '2026-11-22T22:00:00Z',
        seconds: 3600,
      });
      expect([...store.objects.keys()].sort()).toEqual(
        [
          digestObjectKey(LEDGER, P0, 'digest'),
          digestObjectKey(LEDGER, P0, 'signature'),
          digestObjectKey(LEDGER, P0, 'statement'),
        ].sort(),
      );
      expect(sealed.treeSize).toBe(0);
      const report = await verifyFolder(new MemoryReader(store.objects), {
        keys: await trustedKeysOf(signer),
      });
      expect(report.findings).toEqual([]);
    });
  });

  describe('when a period fills several archive chunks and several batch files', () => {
    it('writes each object whole although the sealer reuses its buffers, and the folder verifies', async () => {
      // Prepare: one batch per event, so that the batch records fill more than one batch file
      // (BATCH_FILE_MAX_RECORDS), and chunks of 1,024 events: every reused body is written more than once.
      const signer = KeyFileSigner.generate();
      const n = BATCH_FILE_MAX_RECORDS + 100;
      const events = Array.from({ length: n }, (_, i) =>
        makeEvent(`evt-${String(i).padStart(5, '0')}`, new Date(P0.startMs + 1 + i * 100).toISOString()),
      );
      const rows: PeriodEvent[] = [];
      const batches: BatchSeal[] = [];
      for (const [i, e] of events.entries()) {
        const batchId = `b-${String(i).padStart(5, '0')}`;
        const leaves = [{ eventId: e.id, receivedAt: e.receivedAt, leafHash: e.leafHash }];
        const signed = await signBatchStatement({ ledger: LEDGER, batchId, leaves }, signer);
        const statement = Buffer.from(signed.statementBytes).toString('utf8');
        batches.push({
          ledger: LEDGER,
          batchId,
          receivedAt: e.receivedAt,
          statement,
          signature: signed.signature,
          size: 1,
          leaves,
        });
        rows.push({ id: e.id, bytes: e.bytes, receivedAt: e.receivedAt, batchId });
      }
      const keys = await trustedKeysOf(signer);
      const store = new InMemoryObjectStore();

      // Act
      const sealed = await sealPeriod(
        { ledger: LEDGER, period: P0, previous: null, rows, batches, keys, chunkLeaves: 1024 },
        { store, signer },
      );

      // Assess
      const digest = digestSchema.parse(json(store, digestObjectKey(LEDGER, P0, 'digest')));
      expect(digest.archives).toHaveLength(Math.ceil(n / 1024));
      expect(digest.batches.map((b) => b.count)).toEqual([BATCH_FILE_MAX_RECORDS, 100]);
      for (const ref of digest.batches) {
        expect(toHex(sha256(store.objects.get(ref.key)!))).toBe(ref.sha256);
      }
      const lines = digest.archives.flatMap((a) =>
        Buffer.from(store.objects.get(a.key)!).toString('utf8').split('\n').slice(0, -1),
      );
      expect(lines).toEqual(events.map((e) => Buffer.from(e.bytes).toString('utf8')));
      expect(sealed.rootHash).toBe(toHex(rootFromLeafHashes(events.map((e) => e.leafHash))));
      const report = await verifyFolder(new MemoryReader(store.objects), { keys });
      expect(report.findings).toEqual([]);
    }, 60_000);
  });

  describe('when periods are sealed one after another', () => {
    it('chains each digest and statement to the previous statement', async () => {
      // Prepare
      const store = new InMemoryObjectStore();
      const signer = KeyFileSigner.generate();

      // Act
      const s0 = await sealSignedPeriod(
        { ledger: LEDGER, period: P0, previous: null, events: eventsIn(P0, 2) },
        { store, signer },
      );
      const s1 = await sealSignedPeriod(
        { ledger: LEDGER, period: P1, previous: s0, events: [] },
        { store, signer },
      );
      const s2 = await sealSignedPeriod(
        { ledger: LEDGER, period: P2, previous: s1, events: eventsIn(P2, 3) },
        { store, signer },
      );

      // Assess
      expect([s0.sequence, s1.sequence, s2.sequence]).toEqual([0, 1, 2]);
      for (const [prev, cur, period] of [
        [s0, s1, P1],
        [s1, s2, P2],
      ] as const) {
        const prevStatement = store.objects.get(digestObjectKey(LEDGER, prev.period, 'statement'))!;
        const statement = digestStatementSchema.parse(
          json(store, digestObjectKey(LEDGER, period, 'statement')),
        );
        const digest = digestSchema.parse(json(store, digestObjectKey(LEDGER, period, 'digest')));
        expect(cur.statementSha256).toBe(
          toHex(sha256(store.objects.get(digestObjectKey(LEDGER, period, 'statement'))!)),
        );
        expect(statement.previousStatementSha256).toBe(toHex(sha256(prevStatement)));
        expect(digest.previous).toEqual({
          digestKey: prev.digestKey,
          statementSha256: toHex(sha256(prevStatement)),
        });
      }
      expect(s0.statement.previousStatementSha256).toBeNull();
      const report = await verifyFolder(new MemoryReader(store.objects), {
        keys: await trustedKeysOf(signer),
      });
      expect(report.valid).toBe(true);
    });
  });

  describe('when the signed statement is checked', () => {
    it('is the canonical statement of the digest, and the signature verifies over its bytes', async () => {
      // Prepare
      const store = new InMemoryObjectStore();
      const signer = KeyFileSigner.generate();

      // Act
      const sealed = await sealSignedPeriod(
        { ledger: LEDGER, period: P0, previous: null, events: eventsIn(P0, 3) },
        { store, signer },
      );

      // Assess
      const statementBytes = store.objects.get(digestObjectKey(LEDGER, P0, 'statement'))!;
      const digestBytes = store.objects.get(digestObjectKey(LEDGER, P0, 'digest'))!;
      expect(Buffer.from(statementBytes)).toEqual(Buffer.from(canonicalBytes(sealed.statement)));
      expect(sealed.statement.digestSha256).toBe(toHex(sha256(digestBytes)));
      expect(sealed.statement.keyId).toBe(await signer.keyId());
      const key = createPublicKey(await signer.publicKeyPem());
      const signature = store.objects.get(digestObjectKey(LEDGER, P0, 'signature'))!;
      expect(verify('sha256', statementBytes, { key, dsaEncoding: 'der' }, signature)).toBe(true);
    });
  });

  describe('when the previous head is not the period right before', () => {
    it('throws SealError CHAIN_MISMATCH and writes nothing', async () => {
      // Prepare
      const store = new InMemoryObjectStore();
      const signer = KeyFileSigner.generate();
      const s0 = await sealSignedPeriod(
        { ledger: LEDGER, period: P0, previous: null, events: [] },
        { store, signer },
      );
      const before = store.objects.size;

      // Act
      const gap = sealSignedPeriod(
        { ledger: LEDGER, period: P2, previous: s0, events: eventsIn(P2, 1) },
        { store, signer },
      );

      // Assess
      await expect(gap).rejects.toBeInstanceOf(SealError);
      await expect(gap).rejects.toMatchObject({ code: 'CHAIN_MISMATCH' });
      expect(store.objects.size).toBe(before);
    });
  });

  describe('when the previous head belongs to another ledger', () => {
    it('throws SealError CHAIN_MISMATCH', async () => {
      // Prepare
      const store = new InMemoryObjectStore();
      const signer = KeyFileSigner.generate();
      const other = await sealSignedPeriod(
        { ledger: 'other', period: P0, previous: null, events: [] },
        { store, signer },
      );

      // Act
      const act = sealSignedPeriod(
        { ledger: LEDGER, period: P1, previous: other, events: [] },
        { store, signer },
      );

      // Assess
      await expect(act).rejects.toMatchObject({ name: 'SealError', code: 'CHAIN_MISMATCH' });
    });
  });

  describe('when an event holds a raw newline', () => {
    it('throws SealError BAD_EVENT', async () => {
      // Prepare
      const store = new InMemoryObjectStore();
      const bad = { id: 'bad', bytes: Buffer.from('{"id":"bad",\n"v":1}') };

      // Act
      const act = sealSignedPeriod(
        { ledger: LEDGER, period: P0, previous: null, events: [bad] },
        { store, signer: KeyFileSigner.generate() },
      );

      // Assess
      await expect(act).rejects.toMatchObject({ name: 'SealError', code: 'BAD_EVENT' });
      expect(store.objects.size).toBe(0);
    });
  });

  describe('when chunkLeaves is not a power of two', () => {
    it('throws a RangeError', async () => {
      // Prepare
      const request: Parameters<typeof sealSignedPeriod>[0] = {
        ledger: LEDGER,
        period: P0,
        previous: null,
        events: [],
        chunkLeaves: 3,
      };

      // Act
      const act = sealSignedPeriod(request, {
        store: new InMemoryObjectStore(),
        signer: KeyFileSigner.generate(),
      });

      // Assess
      await expect(act).rejects.toBeInstanceOf(RangeError);
    });
  });

  describe('when the period was sealed before with other events', () => {
    it('throws SealError NONDETERMINISTIC_OBJECT and overwrites nothing', async () => {
      // Prepare
      const store = new InMemoryObjectStore();
      const signer = KeyFileSigner.generate();
      await sealSignedPeriod(
        { ledger: LEDGER, period: P0, previous: null, events: eventsIn(P0, 2) },
        { store, signer },
      );
      const before = new Map(store.objects);

      // Act
      const act = sealSignedPeriod(
        { ledger: LEDGER, period: P0, previous: null, events: eventsIn(P0, 3, 'x') },
        { store, signer },
      );

      // Assess
      await expect(act).rejects.toMatchObject({ name: 'SealError', code: 'NONDETERMINISTIC_OBJECT' });
      expect(store.objects).toEqual(before);
    });
  });

  describe('when the stored signature does not verify', () => {
    it('throws SealError NONDETERMINISTIC_OBJECT instead of trusting it', async () => {
      // Prepare
      const store = new InMemoryObjectStore();
      const signer = KeyFileSigner.generate();
      const request: Parameters<typeof sealSignedPeriod>[0] = {
        ledger: LEDGER,
        period: P0,
        previous: null,
        events: eventsIn(P0, 1),
      };
      await sealSignedPeriod(request, { store, signer });
      const sigKey = digestObjectKey(LEDGER, P0, 'signature');
      const other = await KeyFileSigner.generate().sign(
        store.objects.get(digestObjectKey(LEDGER, P0, 'statement'))!,
      );
      store.objects.set(sigKey, other);

      // Act
      const act = sealSignedPeriod(request, { store, signer });

      // Assess
      await expect(act).rejects.toMatchObject({ name: 'SealError', code: 'NONDETERMINISTIC_OBJECT' });
      expect(store.objects.get(sigKey)).toEqual(other);
    });
  });
});

describe('Function: sealPeriod (key rotated under the sealer)', () => {
  describe('when the signer fails because its key was rotated away', () => {
    it('stores no statement naming the old key, so the retry seals under the new key', async () => {
      // Prepare: the first signer names the old key but cannot sign (a re-pointed KMS alias).
      const rotatedAway = KeyFileSigner.generate();
      const failing = {
        keyId: () => rotatedAway.keyId(),
        publicKeyPem: () => rotatedAway.publicKeyPem(),
        sign: async () => {
          throw new Error('SIGNATURE_MISMATCH');
        },
      };
      const next = KeyFileSigner.generate();
      const store = new InMemoryObjectStore();
      const request = await signedRequest(next, P0, eventsIn(P0, 3));

      // Act
      const failed = await sealPeriod(request, { store, signer: failing }).catch((e: unknown) => e);
      const stored = store.objects.has(digestObjectKey(LEDGER, P0, 'statement'));
      const retried = await sealPeriod(request, { store, signer: next });

      // Assess
      expect(failed).toBeInstanceOf(Error);
      expect(stored).toBe(false);
      expect(retried.outcome).toBe('created');
      expect(retried.statement.keyId).toBe(await next.keyId());
    });
  });
});

describe('Function: readSealedHead', () => {
  describe('when the period is sealed', () => {
    it('returns the head sealPeriod returned', async () => {
      // Prepare
      const store = new InMemoryObjectStore();
      const sealed = await sealSignedPeriod(
        { ledger: LEDGER, period: P0, previous: null, events: eventsIn(P0, 2) },
        { store, signer: KeyFileSigner.generate() },
      );

      // Act
      const head = await readSealedHead(store, LEDGER, P0);

      // Assess
      expect(head).toEqual({
        ledger: LEDGER,
        period: P0,
        sequence: 0,
        digestKey: sealed.digestKey,
        statementSha256: sealed.statementSha256,
      });
    });
  });

  describe('when the statement is written but the signature is not', () => {
    it('returns undefined', async () => {
      // Prepare
      const inner = new InMemoryObjectStore();
      const crashing = new CrashingStore(inner, 2, 'before');
      await expect(
        sealSignedPeriod(
          { ledger: LEDGER, period: P0, previous: null, events: [] },
          { store: crashing, signer: KeyFileSigner.generate() },
        ),
      ).rejects.toThrow('crash before write 2');

      // Act
      const head = await readSealedHead(inner, LEDGER, P0);

      // Assess
      expect(inner.objects.has(digestObjectKey(LEDGER, P0, 'statement'))).toBe(true);
      expect(head).toBeUndefined();
    });
  });
});

describe('Function: sealRange (crash and resume)', () => {
  describe.each(['before', 'after'] as const)('when the store crashes %s any one write', (when) => {
    it('a re-run completes, verifies, and writes the objects a clean run writes', async () => {
      // Prepare
      const signer = KeyFileSigner.generate();
      const keys = await trustedKeysOf(signer);
      const events = [...eventsIn(P0, 9), ...eventsIn(P2, 5)];
      const request = { ledger: LEDGER, seconds: 3600, events, previous: null, chunkLeaves: 4 };
      const clean = new CountingStore();
      await sealRange(request, { store: clean, signer });
      // Chunks (3 in P0, 2 in P2, object + index each), a batch-record file for each period with events
      // (format v2), and digest, statement and signature for each of the 3 periods.
      expect(clean.writes).toBe(3 * 2 + 2 * 2 + 2 + 3 * 3);

      for (let crashAt = 0; crashAt < clean.writes; crashAt++) {
        const store = new InMemoryObjectStore();
        await expect(
          sealRange(request, { store: new CrashingStore(store, crashAt, when), signer }),
        ).rejects.toThrow(`crash ${when} write ${crashAt}`);

        // Act
        const resumed = await sealRange(request, { store, signer });

        // Assess
        expect(resumed.map((s) => s.sequence)).toEqual([0, 1, 2]);
        // Format v2: batch records hold the import batches' ECDSA signatures, which differ per signing,
        // and so do the digests and statements that commit to them. Everything else is byte-identical.
        expect(withoutBatchSignatures(store)).toEqual(withoutBatchSignatures(clean));
        const report = await verifyFolder(new MemoryReader(store.objects), { keys });
        expect(report.findings).toEqual([]);
      }
    });
  });
});

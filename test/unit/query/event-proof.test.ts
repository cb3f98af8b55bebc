/**
 * Per-event inclusion proofs over periods sealed by the real sealer: every index of random periods and
 * chunk sizes proves, with a handful of object reads; each defect of a proof file is its own finding.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyFileSigner } from '../../../shared/crypto/key-file-signer.ts';
import { loadPublicKey, TrustedKeySet } from '../../../shared/crypto/keys.ts';
import { canonicalizeEvent } from '../../../shared/ingest/canonical-event.ts';
import type { Period } from '../../../shared/ledger/period.ts';
import type { SealedPeriod } from '../../../shared/ledger/seal-period.ts';
import {
  buildEventProof,
  type EventProof,
  type ObjectRangeReader,
  verifyEventProof,
} from '../../../shared/query/event-proof.ts';
import { InMemoryObjectStore } from '../../../shared/storage/in-memory-object-store.ts';
import { cloudTrailInputs } from '../../support/search-fixtures.ts';
import { sealSignedPeriod } from '../../support/signed-seal.ts';

const LEDGER = 'proofs';
const PERIOD: Period = { startMs: Date.UTC(2026, 10, 22, 21, 0, 0), seconds: 3600 };
const INPUTS = cloudTrailInputs();
const signer = KeyFileSigner.generate();

interface Sealed {
  readonly events: { id: string; receivedAt: string; bytes: Uint8Array }[];
  readonly store: InMemoryObjectStore;
  readonly seal: SealedPeriod;
}

async function sealEvents(count: number, chunkLeaves: number): Promise<Sealed> {
  const events = Array.from({ length: count }, (_, n) => {
    const input = {
      ...INPUTS[n % INPUTS.length]!,
      id: `arn:aws:s3:::bucket/key-${String(n).padStart(5, '0')}`,
    };
    const receivedAt = new Date(PERIOD.startMs + Math.floor(n / 3)).toISOString();
    return { id: input.id, receivedAt, bytes: canonicalizeEvent(input, receivedAt, 'api').bytes };
  });
  const store = new InMemoryObjectStore();
  const seal = await sealSignedPeriod(
    { ledger: LEDGER, period: PERIOD, previous: null, events, chunkLeaves },
    { store, signer },
  );
  return { events, store, seal };
}

/** Counts the object reads a proof costs. */
function counting(store: InMemoryObjectStore): ObjectRangeReader & { reads: number } {
  const reader = {
    reads: 0,
    get: async (key: string) => {
      reader.reads++;
      return store.get(key);
    },
    getRange: async (key: string, start: number, end: number) => {
      reader.reads++;
      return store.getRange(key, start, end);
    },
  };
  return reader;
}

async function keys(): Promise<TrustedKeySet> {
  return new TrustedKeySet([loadPublicKey(await signer.publicKeyPem())]);
}

describe('Function: buildEventProof', () => {
  it('proves every index of random periods and chunk sizes, in a handful of reads (property)', async () => {
    const trusted = await keys();
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 200 }),
        fc.constantFrom(1, 2, 4, 8, 16, 64),
        async (count, chunkLeaves) => {
          const { events, store, seal } = await sealEvents(count, chunkLeaves);
          const chunks = Math.ceil(count / chunkLeaves);
          for (const [position, event] of events.entries()) {
            const reader = counting(store);
            const proof = await buildEventProof(LEDGER, event, seal, reader);
            expect(proof.leafIndex).toBe(position);
            expect(verifyEventProof(proof, trusted)).toMatchObject({ ok: true, leafIndex: position });
            // digest + statement + signature, the binary search, the chunk's .idx
            expect(reader.reads).toBeLessThanOrEqual(4 + Math.ceil(Math.log2(chunks)));
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  describe('when the table row was changed after the period was sealed', () => {
    it('proves the sealed bytes, read from the chunk archive', async () => {
      const { events, store, seal } = await sealEvents(10, 4);
      const original = events[5]!;
      const changed = {
        ...original,
        bytes: Buffer.from(Buffer.from(original.bytes).toString().replace('"v":1', '"v":1 ')),
      };
      const proof = await buildEventProof(LEDGER, changed, seal, store);
      expect(proof.eventJson).toBe(Buffer.from(original.bytes).toString('utf8'));
      expect(verifyEventProof(proof, await keys()).ok).toBe(true);
    });
  });

  describe('when the event is not in the digest', () => {
    it('answers NOT_IN_DIGEST', async () => {
      const { events, store, seal } = await sealEvents(10, 4);
      const stranger = { ...events[2]!, id: 'not-sealed' };
      await expect(buildEventProof(LEDGER, stranger, seal, store)).rejects.toMatchObject({
        code: 'NOT_IN_DIGEST',
        status: 404,
      });
    });
  });

  describe('when a chunk index was replaced in the bucket', () => {
    it('answers PROOF_UNAVAILABLE instead of a wrong proof', async () => {
      const { events, store, seal } = await sealEvents(10, 4);
      const idx = [...store.objects.keys()].find((k) => k.endsWith('000001.idx'))!;
      store.objects.set(idx, new Uint8Array(store.objects.get(idx)!.length));
      await expect(buildEventProof(LEDGER, events[5]!, seal, store)).rejects.toMatchObject({
        code: 'PROOF_UNAVAILABLE',
      });
    });
  });
});

describe('Function: verifyEventProof', () => {
  let base: EventProof;
  const prepare = async () => {
    if (base) return base;
    const { events, store, seal } = await sealEvents(37, 8);
    base = await buildEventProof(LEDGER, events[21]!, seal, store);
    return base;
  };
  const cases: [string, (p: EventProof) => unknown, string][] = [
    [
      'the event bytes were changed',
      (p) => ({ ...p, eventJson: p.eventJson.replace('"v":1', '"v":2') }),
      'PROOF_PATH_INVALID',
    ],
    ['the leaf index was moved', (p) => ({ ...p, leafIndex: p.leafIndex + 1 }), 'PROOF_PATH_INVALID'],
    [
      'a path hash was changed',
      (p) => ({
        ...p,
        auditPath: [p.auditPath[0]!.replace(/^./, (c) => (c === '0' ? '1' : '0')), ...p.auditPath.slice(1)],
      }),
      'PROOF_PATH_INVALID',
    ],
    ['the path was truncated', (p) => ({ ...p, auditPath: p.auditPath.slice(1) }), 'PROOF_PATH_INVALID'],
    [
      'two path hashes were swapped',
      (p) => ({ ...p, auditPath: [p.auditPath[1]!, p.auditPath[0]!, ...p.auditPath.slice(2)] }),
      'PROOF_PATH_INVALID',
    ],
    ['the tree size was changed', (p) => ({ ...p, treeSize: p.treeSize + 1 }), 'PROOF_PATH_INVALID'],
    ['the event id was changed', (p) => ({ ...p, eventId: 'someone-else' }), 'PROOF_EVENT_MISMATCH'],
    [
      'the signature was replaced',
      (p) => ({ ...p, signature: Buffer.alloc(70, 1).toString('base64') }),
      'PROOF_SIGNATURE_INVALID',
    ],
    [
      'the statement was re-serialized',
      (p) => ({ ...p, statement: JSON.stringify(JSON.parse(p.statement), null, 1) }),
      'PROOF_MALFORMED',
    ],
    ['a member was added', (p) => ({ ...p, extra: 1 }), 'PROOF_MALFORMED'],
    ['it is not an object', () => [], 'PROOF_MALFORMED'],
  ];
  describe.each(cases)('when %s', (_name, alter, code) => {
    it(`reports ${code}`, async () => {
      const proof = await prepare();
      expect(verifyEventProof(alter(proof), await keys())).toMatchObject({ ok: false, code });
    });
  });

  describe('when the key is not trusted', () => {
    it('reports PROOF_KEY_UNKNOWN', async () => {
      const proof = await prepare();
      const other = new TrustedKeySet([loadPublicKey(await KeyFileSigner.generate().publicKeyPem())]);
      expect(verifyEventProof(proof, other)).toMatchObject({ ok: false, code: 'PROOF_KEY_UNKNOWN' });
    });
  });
});

/**
 * The verifier's chain walk, with a scenario fake in the manner of aws-cli's CloudTrail validator
 * tests: a chain is built from a list of defects, one per period, and each defect must surface as its
 * finding at that period and nowhere else.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalString } from '../../../shared/canonical/jcs.ts';
import { KeyFileSigner } from '../../../shared/crypto/key-file-signer.ts';
import { signBatch } from '../../../shared/ledger/batch-receipts.ts';
import { archiveObjectKey, digestObjectKey } from '../../../shared/ledger/object-keys.ts';
import type { Period } from '../../../shared/ledger/period.ts';
import type { ChainHead } from '../../../shared/ledger/seal-period.ts';
import { InMemoryObjectStore } from '../../../shared/storage/in-memory-object-store.ts';
import type { FindingCode } from '../../../shared/verify/findings.ts';
import { type VerifyProgress, verifyFolder } from '../../../shared/verify/verify-folder.ts';
import { MemoryReader, makeEvent, trustedKeysOf } from '../../support/sealed-folder.ts';
import { sealSignedPeriod } from '../../support/signed-seal.ts';

const LEDGER = 'chain';
const START: Period = { startMs: Date.parse('2026-11-22T00:00:00Z'), seconds: 3600 };
const signer = KeyFileSigner.generate();

/** What can be wrong with one period of a chain. */
type Defect = 'ok' | 'gap' | 'tampered' | 'moved' | 'unsigned' | 'foreign' | 'empty';

function periodAt(i: number): Period {
  return { startMs: START.startMs + i * START.seconds * 1000, seconds: START.seconds };
}

/** Seals one period per defect (two events each, or none for 'empty'), then applies the defects. */
async function buildChain(defects: readonly Defect[]): Promise<InMemoryObjectStore> {
  const store = new InMemoryObjectStore();
  const foreign = KeyFileSigner.generate();
  let previous: ChainHead | null = null;
  for (const [i, defect] of defects.entries()) {
    const period = periodAt(i);
    const at = (s: number) => new Date(period.startMs + s * 1000).toISOString();
    const events = defect === 'empty' ? [] : [makeEvent(`p${i}-a`, at(1)), makeEvent(`p${i}-b`, at(2))];
    previous = await sealSignedPeriod(
      { ledger: LEDGER, period, previous, events, chunkLeaves: 4 },
      { store, signer: defect === 'foreign' ? foreign : signer },
    );
  }
  for (const [i, defect] of defects.entries()) {
    const period = periodAt(i);
    const key = (part: 'digest' | 'statement' | 'signature') => digestObjectKey(LEDGER, period, part);
    if (defect === 'gap') {
      for (const k of [...store.objects.keys()]) {
        if (k.startsWith(key('digest').replace('.digest.json', '')) || k.startsWith(archivePrefix(period))) {
          store.objects.delete(k);
        }
      }
    } else if (defect === 'tampered') {
      const archiveKey = archiveObjectKey(LEDGER, period, 0, 'events');
      const [first, ...rest] = Buffer.from(store.objects.get(archiveKey)!).toString('utf8').split('\n');
      const event = JSON.parse(first!) as Record<string, unknown>;
      event['action'] = 'iam:DeleteUser';
      store.objects.set(archiveKey, Buffer.from([canonicalString(event), ...rest].join('\n')));
    } else if (defect === 'moved') {
      const before = (part: 'digest' | 'statement' | 'signature') =>
        digestObjectKey(LEDGER, periodAt(i - 1), part);
      for (const part of ['digest', 'statement', 'signature'] as const) {
        store.objects.set(key(part), store.objects.get(before(part))!);
      }
      for (const k of [...store.objects.keys()])
        if (k.startsWith(archivePrefix(period))) store.objects.delete(k);
    } else if (defect === 'unsigned') {
      store.objects.delete(key('signature'));
    }
  }
  return store;
}

function archivePrefix(period: Period): string {
  return archiveObjectKey(LEDGER, period, 0, 'events').replace(/000000\.jsonl$/, '');
}

/** The findings each defect must cause, as [code, period offset from the defect] pairs. */
const EXPECTED: Record<Defect, [FindingCode, number][]> = {
  ok: [],
  empty: [],
  gap: [['PERIOD_MISSING', 0]],
  tampered: [['EVENT_MODIFIED', 0]],
  // Period i holds i-1's digest: it names i-1, and neither it nor period i+1 links to what is before.
  moved: [
    ['DIGEST_MOVED', 0],
    ['CHAIN_BROKEN', 0],
    ['CHAIN_BROKEN', 1],
  ],
  unsigned: [['DIGEST_INCOMPLETE', 0]],
  foreign: [['KEY_UNKNOWN', 0]],
};

/** The period a finding is about, from its object key. */
function periodIndexOf(object: string): number {
  const m = /(\d{8}T\d{6}Z)-3600s/.exec(object);
  if (!m) return -1;
  const label = m[1]!;
  const ms = Date.UTC(+label.slice(0, 4), +label.slice(4, 6) - 1, +label.slice(6, 8), +label.slice(9, 11));
  return (ms - START.startMs) / (START.seconds * 1000);
}

describe('Function: verifyFolder', () => {
  describe.each<[string, Defect[]]>([
    ['every period is ok', ['ok', 'ok', 'empty', 'ok']],
    ['a middle period is missing', ['ok', 'gap', 'ok']],
    ['two middle periods are missing', ['ok', 'gap', 'gap', 'ok']],
    ['an event of a middle period is tampered with', ['ok', 'tampered', 'ok']],
    ['a digest sits under the next period key', ['ok', 'ok', 'moved', 'ok']],
    ['a signature is missing', ['ok', 'unsigned', 'ok']],
    ['a period is signed by an untrusted key', ['ok', 'foreign', 'ok']],
    ['defects pile up', ['ok', 'gap', 'tampered', 'moved', 'ok', 'unsigned', 'foreign', 'empty']],
  ])('when %s', (_, defects) => {
    it('reports each defect at its period and nothing else', async () => {
      // Prepare
      const store = await buildChain(defects);
      // A run of gaps is one PERIOD_MISSING, at its first period.
      const expected = defects
        .flatMap((d, i) =>
          d === 'gap' && defects[i - 1] === 'gap'
            ? []
            : EXPECTED[d].map(([code, offset]) => `${code}@${i + offset}`),
        )
        .sort();

      // Act
      const report = await verifyFolder(new MemoryReader(store.objects), {
        keys: await trustedKeysOf(signer),
      });

      // Assess
      expect(report.findings.map((f) => `${f.code}@${periodIndexOf(f.object)}`).sort()).toEqual(expected);
      expect(report.valid).toBe(expected.length === 0);
    });
  });

  describe('when any pattern of periods is missing', () => {
    it('reports one PERIOD_MISSING per run of consecutive missing periods, with its exact count', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.constantFrom<Defect>('ok', 'gap'), { minLength: 0, maxLength: 7 }),
          async (middle) => {
            // Prepare
            const defects: Defect[] = ['ok', ...middle, 'ok'];
            const store = await buildChain(defects);
            const runs: { first: number; count: number }[] = [];
            defects.forEach((d, i) => {
              if (d !== 'gap') return;
              if (defects[i - 1] === 'gap') runs[runs.length - 1]!.count++;
              else runs.push({ first: i, count: 1 });
            });

            // Act
            const report = await verifyFolder(new MemoryReader(store.objects), {
              keys: await trustedKeysOf(signer),
            });

            // Assess
            expect(
              report.findings.map((f) => ({
                code: f.code,
                first: periodIndexOf(f.object),
                count: f.periods?.count,
              })),
            ).toEqual(runs.map((r) => ({ code: 'PERIOD_MISSING', ...r })));
          },
        ),
        { numRuns: 25 },
      );
    });
  });

  describe('when the first period is missing and no --from is given', () => {
    it('reports CHAIN_START_MISSING at the first digest present', async () => {
      // Prepare
      const store = await buildChain(['gap', 'ok', 'ok']);

      // Act
      const report = await verifyFolder(new MemoryReader(store.objects), {
        keys: await trustedKeysOf(signer),
      });

      // Assess
      expect(report.findings).toEqual([
        expect.objectContaining({
          code: 'CHAIN_START_MISSING',
          object: digestObjectKey(LEDGER, periodAt(1), 'statement'),
        }),
      ]);
    });
  });

  describe('when --from starts at the second period', () => {
    it('verifies the partial chain without CHAIN_START_MISSING, ignoring earlier objects', async () => {
      // Prepare
      const store = await buildChain(['tampered', 'ok', 'ok']);

      // Act
      const report = await verifyFolder(new MemoryReader(store.objects), {
        keys: await trustedKeysOf(signer),
        fromMs: periodAt(1).startMs,
      });

      // Assess
      expect(report.findings).toEqual([]);
      expect(report.stats.digests).toBe(2);
    });
  });

  describe('when --from lies before the chain genesis', () => {
    it('does not ask for periods before the genesis', async () => {
      // Prepare
      const store = await buildChain(['ok', 'ok']);

      // Act
      const report = await verifyFolder(new MemoryReader(store.objects), {
        keys: await trustedKeysOf(signer),
        fromMs: periodAt(-5).startMs,
      });

      // Assess
      expect(report.findings).toEqual([]);
    });
  });

  describe('when --to lies after the last digest', () => {
    it('reports one PERIOD_MISSING for the run of periods up to --to', async () => {
      // Prepare
      const store = await buildChain(['ok', 'ok']);

      // Act
      const report = await verifyFolder(new MemoryReader(store.objects), {
        keys: await trustedKeysOf(signer),
        toMs: periodAt(4).startMs,
      });

      // Assess
      expect(report.findings.map((f) => [f.code, periodIndexOf(f.object), f.periods?.count])).toEqual([
        ['PERIOD_MISSING', 2, 2],
      ]);
    });
  });

  describe('when the folder holds no digest at all', () => {
    it.each([
      ['without a range', {}],
      ['with a range', { fromMs: periodAt(0).startMs, toMs: periodAt(2).startMs }],
    ])('reports PERIOD_MISSING %s', async (_, range) => {
      // Prepare
      const store = new InMemoryObjectStore();

      // Act
      const report = await verifyFolder(new MemoryReader(store.objects), {
        keys: await trustedKeysOf(signer),
        ...range,
      });

      // Assess
      expect(report.valid).toBe(false);
      expect(report.findings).toEqual([
        expect.objectContaining({ code: 'PERIOD_MISSING', object: 'digests/' }),
      ]);
    });
  });

  describe('when progress is observed', () => {
    it('reports every digest, then archive bytes up to the total', async () => {
      // Prepare
      const store = await buildChain(['ok', 'empty', 'ok']);
      const seen: VerifyProgress[] = [];

      // Act
      const report = await verifyFolder(new MemoryReader(store.objects), {
        keys: await trustedKeysOf(signer),
        onProgress: (p) => seen.push(p),
      });

      // Assess
      const digests = seen.filter((p) => p.phase === 'digests');
      const archives = seen.filter((p) => p.phase === 'archives');
      expect(digests.map((p) => p.done)).toEqual([1, 2, 3]);
      expect(archives).toHaveLength(2);
      expect(archives.at(-1)!.done).toBe(archives.at(-1)!.total);
      expect(archives.at(-1)!.total).toBe(report.stats.bytes);
      expect(report.ledgers).toEqual([
        {
          ledger: LEDGER,
          digests: 3,
          events: 4,
          firstPeriod: '2026-11-22T00:00:00Z',
          lastPeriod: '2026-11-22T02:00:00Z',
          periodSeconds: 3600,
          startsAtGenesis: true,
        },
      ]);
    });
  });
});

describe('Function: verifyFolder (receipts)', () => {
  async function withReceipt(receivedAt: string, eventId: string, leafHash: Buffer, options = {}) {
    const store = await buildChain(['ok', 'ok']);
    const batch = await signBatch(
      { ledger: LEDGER, batchId: 'b1', leaves: [{ eventId, receivedAt, leafHash }] },
      signer,
    );
    store.objects.set('receipts/b1.json', Buffer.from(JSON.stringify(batch.receipts)));
    store.objects.set('receipts/README.txt', Buffer.from('not a receipt, and not .json'));
    return verifyFolder(new MemoryReader(store.objects), { keys: await trustedKeysOf(signer), ...options });
  }

  describe('when a receipt matches a sealed event of its period', () => {
    it('reports nothing and counts the receipt', async () => {
      // Prepare
      const event = makeEvent('p1-a', '2026-11-22T01:00:01.000Z');

      // Act
      const report = await withReceipt(event.receivedAt, event.id, event.leafHash);

      // Assess
      expect(report.findings).toEqual([]);
      expect(report.stats.receipts).toBe(1);
    });
  });

  describe('when the receipt batch was received in another period than the sealed event', () => {
    it('reports RECEIPT_NOT_SEALED', async () => {
      // Prepare
      const event = makeEvent('p1-a', '2026-11-22T01:00:01.000Z');

      // Act
      const report = await withReceipt('2026-11-22T00:59:59.000Z', event.id, event.leafHash);

      // Assess
      expect(report.findings).toEqual([
        expect.objectContaining({ code: 'RECEIPT_NOT_SEALED', object: 'receipts/b1.json', eventId: 'p1-a' }),
      ]);
    });
  });

  describe('when an unsealed receipt falls outside the verified range', () => {
    it('does not report it', async () => {
      // Prepare
      const event = makeEvent('late', '2026-11-22T07:00:00.000Z');

      // Act
      const report = await withReceipt(event.receivedAt, event.id, event.leafHash, {
        toMs: periodAt(2).startMs,
      });

      // Assess
      expect(report.findings).toEqual([]);
    });
  });
});

/**
 * Provenance at sealing (G6, issue 7): a row an attacker edited, deleted or inserted in the ledger table
 * before its period is sealed is never sealed as if genuine. The untouched events are sealed, the period
 * is sealed on time, and the evidence (exclusions, missing signed leaves) is in the digest's files, where
 * `verifyFolder` reports it.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyFileSigner } from '../../../shared/crypto/key-file-signer.ts';
import { batchSealOf, signBatch } from '../../../shared/ledger/batch-receipts.ts';
import {
  type BatchRecord,
  batchRecordSchema,
  type Exclusion,
  exclusionSchema,
} from '../../../shared/ledger/formats.ts';
import { toHex } from '../../../shared/ledger/hex.ts';
import { batchFileKey, digestObjectKey, exclusionsKey } from '../../../shared/ledger/object-keys.ts';
import type { Period } from '../../../shared/ledger/period.ts';
import { type MissingLeaf, type ProvenEvent, provePeriod } from '../../../shared/ledger/period-provenance.ts';
import type { SealedPeriod } from '../../../shared/ledger/seal-period.ts';
import { hashLeaf, sha256 } from '../../../shared/merkle/rfc6962.ts';
import type {
  BatchSeal,
  PeriodBatchRow,
  PeriodEvent,
  PeriodRow,
} from '../../../shared/ports/ledger-store.ts';
import type { Signer } from '../../../shared/ports/signer.ts';
import { InMemoryLedgerStore } from '../../../shared/storage/in-memory-ledger-store.ts';
import { InMemoryObjectStore } from '../../../shared/storage/in-memory-object-store.ts';
import type { FindingCode } from '../../../shared/verify/findings.ts';
import { verifyFolder } from '../../../shared/verify/verify-folder.ts';
import { appItem, ingestInto, sealFromTable } from '../../support/ledger-table.ts';
import { MemoryReader, makeEvent, trustedKeysOf } from '../../support/sealed-folder.ts';

const LEDGER = 'prov';
const PERIOD: Period = { startMs: Date.parse('2026-11-22T21:00:00Z'), seconds: 3600 };
const at = (minutes: number, ms = 0): number => PERIOD.startMs + minutes * 60_000 + ms;
const iso = (ms: number): string => new Date(ms).toISOString();

const signer = KeyFileSigner.generate();

/** A table after three API requests: a-1…a-3 at 21:05, b-1, b-2 at 21:10, c-1 at 21:30. */
async function table(): Promise<InMemoryLedgerStore> {
  const store = new InMemoryLedgerStore();
  await ingestInto(
    store,
    signer,
    LEDGER,
    at(5),
    ['a-1', 'a-2', 'a-3'].map((id) => appItem(id)),
  );
  await ingestInto(
    store,
    signer,
    LEDGER,
    at(10),
    ['b-1', 'b-2'].map((id) => appItem(id)),
  );
  await ingestInto(store, signer, LEDGER, at(30), [appItem('c-1')]);
  return store;
}

async function rowOf(store: InMemoryLedgerStore, id: string): Promise<PeriodEvent> {
  for await (const row of store.readPeriod(LEDGER, PERIOD))
    if (!('malformed' in row) && row.id === id) return row;
  throw new Error(`no row ${id}`);
}

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

interface Sealed {
  readonly result: SealedPeriod;
  readonly objects: InMemoryObjectStore;
  readonly sealedIds: string[];
  readonly records: BatchRecord[];
  readonly exclusions: Exclusion[];
  readonly codes: FindingCode[];
}

function lines(objects: InMemoryObjectStore, key: string): string[] {
  const body = objects.objects.get(key);
  return body === undefined
    ? []
    : Buffer.from(body)
        .toString('utf8')
        .split('\n')
        .filter((l) => l !== '');
}

/** Seals PERIOD from `store` trusting `keys` (default: the ingest signer), then verifies the result. */
async function sealAndVerify(
  store: Pick<InMemoryLedgerStore, 'readPeriod' | 'readPeriodBatches'>,
  keys?: Awaited<ReturnType<typeof trustedKeysOf>>,
): Promise<Sealed> {
  const objects = new InMemoryObjectStore();
  const trusted = await trustedKeysOf(signer);
  const result = await sealFromTable({
    store,
    ledger: LEDGER,
    period: PERIOD,
    keys: keys ?? trusted,
    objects,
    signer,
    chunkLeaves: 4,
  });
  const sealedIds = [...objects.objects.keys()]
    .filter((k) => /\/\d{6}\.jsonl$/.test(k))
    .sort()
    .flatMap((k) => lines(objects, k).map((l) => (JSON.parse(l) as { id: string }).id));
  const records = lines(objects, batchFileKey(LEDGER, PERIOD, 0)).map((l) =>
    batchRecordSchema.parse(JSON.parse(l)),
  );
  const exclusions = lines(objects, exclusionsKey(LEDGER, PERIOD)).map((l) =>
    exclusionSchema.parse(JSON.parse(l)),
  );
  const report = await verifyFolder(new MemoryReader(objects.objects), { keys: trusted });
  return {
    result,
    objects,
    sealedIds,
    records,
    exclusions,
    codes: report.findings.map((f) => f.code).sort(),
  };
}

function leafOf(records: readonly BatchRecord[], id: string) {
  return records.flatMap((r) => r.leaves).find((l) => l.id === id);
}

/** A signed batch seal over `events`, as ingest would store it, signed by `by`. */
async function sealOver(
  by: Signer,
  batchId: string,
  events: readonly { id: string; receivedAt: string; bytes: Uint8Array }[],
  ledger = LEDGER,
): Promise<BatchSeal> {
  const leaves = events.map((e) => ({
    eventId: e.id,
    receivedAt: e.receivedAt,
    leafHash: hashLeaf(e.bytes),
  }));
  const req = { ledger, batchId, leaves };
  return batchSealOf(req, await signBatch(req, by));
}

/** Runs provePeriod over rows and batches in hand, collecting what it decides. */
async function prove(
  rows: PeriodRow[],
  batches: PeriodBatchRow[],
  keys?: Awaited<ReturnType<typeof trustedKeysOf>>,
) {
  const records: BatchRecord[] = [];
  const exclusions: Exclusion[] = [];
  const missing: MissingLeaf[] = [];
  const sealed: ProvenEvent[] = [];
  for await (const event of provePeriod(
    {
      ledger: LEDGER,
      period: PERIOD,
      rows,
      batches,
      keys: keys ?? (await trustedKeysOf(signer)),
      sealedIdHash: (index) => sealed[index]!.idHash,
    },
    {
      batchRecord: async (r) => void records.push(r),
      exclusion: async (e) => void exclusions.push(e),
      missing: (m) => void missing.push(m),
    },
  )) {
    sealed.push(event);
  }
  return { records, exclusions, missing, sealed };
}

describe('Function: sealPeriod (provenance)', () => {
  describe('when the table is untouched', () => {
    it('seals every event, archives every batch record with each leaf placed, and verifies VALID', async () => {
      // Prepare
      const store = await table();

      // Act
      const sealed = await sealAndVerify(store);

      // Assess
      expect(sealed.sealedIds).toEqual(['a-1', 'a-2', 'a-3', 'b-1', 'b-2', 'c-1']);
      expect(sealed.records.map((r) => r.leaves.map((l) => [l.id, l.index]))).toEqual([
        [
          ['a-1', 0],
          ['a-2', 1],
          ['a-3', 2],
        ],
        [
          ['b-1', 3],
          ['b-2', 4],
        ],
        [['c-1', 5]],
      ]);
      expect(sealed.exclusions).toEqual([]);
      expect(sealed.result.provenance).toEqual({
        excluded: 0,
        missing: 0,
        excludedSamples: [],
        missingSamples: [],
      });
      expect(sealed.codes).toEqual([]);
    });
  });

  describe('when an event row was edited in the table before sealing', () => {
    it('excludes the edited row, seals the untouched events, and the digest and the verifier say so', async () => {
      // Prepare
      const store = await table();
      const row = await rowOf(store, 'b-1');
      const edited = Buffer.from(Buffer.from(row.bytes).toString('utf8').replace('ssh.login', 'ssh.logout'));
      store.tamper.editBytes(LEDGER, 'b-1', edited);

      // Act
      const sealed = await sealAndVerify(store);

      // Assess
      expect(sealed.sealedIds).toEqual(['a-1', 'a-2', 'a-3', 'b-2', 'c-1']);
      expect(sealed.objects.objects.has(digestObjectKey(LEDGER, PERIOD, 'signature'))).toBe(true);
      expect(sealed.exclusions).toEqual([
        expect.objectContaining({
          reason: 'EVENT_MODIFIED',
          eventId: 'b-1',
          batchId: row.batchId,
          storedSha256: toHex(sha256(edited)),
          item: row.item,
        }),
      ]);
      expect(leafOf(sealed.records, 'b-1')).toMatchObject({ index: null, missing: 'MODIFIED' });
      expect(leafOf(sealed.records, 'b-1')!.leafHash).toBe(toHex(hashLeaf(row.bytes)));
      expect(sealed.result.provenance).toMatchObject({ excluded: 1, missing: 1 });
      expect(sealed.codes).toEqual(['BATCH_LEAF_MISSING', 'EVENT_EXCLUDED']);
    });
  });

  describe('when an event row was deleted from the table before sealing', () => {
    it('seals the others and records the signed leaf as missing', async () => {
      // Prepare
      const store = await table();
      store.tamper.deleteEvent(LEDGER, 'a-2');

      // Act
      const sealed = await sealAndVerify(store);

      // Assess
      expect(sealed.sealedIds).toEqual(['a-1', 'a-3', 'b-1', 'b-2', 'c-1']);
      expect(leafOf(sealed.records, 'a-2')).toMatchObject({ index: null, missing: 'ABSENT' });
      expect(sealed.objects.objects.has(exclusionsKey(LEDGER, PERIOD))).toBe(false);
      expect(sealed.result.provenance.missingSamples).toEqual([
        expect.objectContaining({ eventId: 'a-2', reason: 'ABSENT' }),
      ]);
      expect(sealed.codes).toEqual(['BATCH_LEAF_MISSING']);
    });
  });

  describe.each<[string, (store: InMemoryLedgerStore, genuine: PeriodEvent) => void]>([
    [
      'claiming a genuine batch that never signed it',
      (store, genuine) =>
        store.tamper.insertEvent(LEDGER, {
          ...forgedFrom(genuine, 'a-9'),
          batchId: genuine.batchId!,
          period: PERIOD,
        }),
    ],
    [
      'claiming a batch that does not exist',
      (store, genuine) =>
        store.tamper.insertEvent(LEDGER, {
          ...forgedFrom(genuine, 'a-9'),
          batchId: 'no-such-batch',
          period: PERIOD,
        }),
    ],
  ])('when an event row was inserted in the table, %s', (_, insert) => {
    it('never seals it and records it as EVENT_UNSIGNED', async () => {
      // Prepare
      const store = await table();
      insert(store, await rowOf(store, 'a-1'));

      // Act
      const sealed = await sealAndVerify(store);

      // Assess
      expect(sealed.sealedIds.sort()).toEqual(['a-1', 'a-2', 'a-3', 'b-1', 'b-2', 'c-1']);
      expect(sealed.exclusions).toEqual([expect.objectContaining({ reason: 'EVENT_UNSIGNED' })]);
      expect(sealed.records.flatMap((r) => r.leaves).every((l) => l.index !== null)).toBe(true);
      expect(sealed.codes).toEqual(['EVENT_EXCLUDED']);
    });
  });

  describe('when an event row was moved to another time in the table', () => {
    it('never seals the moved row, and records its signed leaf as missing', async () => {
      // Prepare
      const store = await table();
      const genuine = await rowOf(store, 'a-1');
      // The in-memory table keeps one row per id: the insert replaces the genuine row.
      store.tamper.insertEvent(LEDGER, {
        id: 'a-1',
        receivedAt: iso(at(40)),
        bytes: Buffer.from(
          Buffer.from(genuine.bytes)
            .toString('utf8')
            .replace(genuine.receivedAt, iso(at(40))),
        ),
        batchId: genuine.batchId!,
        period: PERIOD,
      });

      // Act
      const sealed = await sealAndVerify(store);

      // Assess
      expect(sealed.sealedIds).toEqual(['a-2', 'a-3', 'b-1', 'b-2', 'c-1']);
      expect(sealed.exclusions).toEqual([
        expect.objectContaining({ reason: 'EVENT_UNSIGNED', eventId: 'a-1', batchId: genuine.batchId }),
      ]);
      expect(leafOf(sealed.records, 'a-1')).toMatchObject({ index: null, missing: 'ABSENT' });
      expect(sealed.codes).toEqual(['BATCH_LEAF_MISSING', 'EVENT_EXCLUDED']);
    });
  });

  describe('when a poison row (not an event at all) sits among the period rows', () => {
    it('never blocks the period: it is excluded as ITEM_MALFORMED and everything else is sealed', async () => {
      // Prepare
      const store = await table();
      const row = await rowOf(store, 'a-3');
      store.tamper.insertMalformed(LEDGER, PERIOD, `${row.receivedAt}#a-3\n`, 'body holds a raw newline');
      store.tamper.insertMalformed(LEDGER, PERIOD, `${iso(at(59, 59_999))}#zz`, 'no body attribute');

      // Act
      const sealed = await sealAndVerify(store);

      // Assess
      expect(sealed.result.treeSize).toBe(6);
      expect(sealed.exclusions.map((e) => [e.reason, e.item.sk, e.eventId])).toEqual([
        ['ITEM_MALFORMED', `${row.receivedAt}#a-3\n`, null],
        ['ITEM_MALFORMED', `${iso(at(59, 59_999))}#zz`, null],
      ]);
      expect(sealed.codes).toEqual(['EVENT_EXCLUDED', 'EVENT_EXCLUDED']);
    });
  });

  describe('when a forged batch row signed by an untrusted key covers inserted rows', () => {
    it('excludes those rows and records the batch as BATCH_INVALID; its record is not archived', async () => {
      // Prepare
      const store = await table();
      const forger = KeyFileSigner.generate();
      const forged = [makeEvent('x-1', iso(at(20))), makeEvent('x-2', iso(at(20)))];
      store.tamper.insertBatch(await sealOver(forger, 'forged', forged));
      for (const e of forged) store.tamper.insertEvent(LEDGER, { ...e, batchId: 'forged', period: PERIOD });

      // Act
      const sealed = await sealAndVerify(store);

      // Assess
      expect(sealed.sealedIds).toEqual(['a-1', 'a-2', 'a-3', 'b-1', 'b-2', 'c-1']);
      expect(sealed.exclusions.map((e) => [e.reason, e.eventId, e.batchId])).toEqual([
        ['BATCH_INVALID', null, 'forged'],
        ['EVENT_UNSIGNED', 'x-1', 'forged'],
        ['EVENT_UNSIGNED', 'x-2', 'forged'],
      ]);
      expect(sealed.exclusions[0]!.detail).toContain('untrusted key');
      expect(sealed.records).toHaveLength(3);
      expect(sealed.codes).toEqual(['EVENT_EXCLUDED', 'EVENT_EXCLUDED', 'EVENT_EXCLUDED']);
    });
  });

  describe('when a batch row is signed for another period or another ledger', () => {
    it('does not trust it, and excludes the rows that claim it', async () => {
      // Prepare
      const store = await table();
      const event = makeEvent('y-1', iso(at(25)));
      const otherLedger = await sealOver(signer, 'other-ledger', [event], 'other');
      store.tamper.insertBatch({ ...otherLedger, ledger: LEDGER });
      store.tamper.insertEvent(LEDGER, { ...event, batchId: 'other-ledger', period: PERIOD });

      // Act
      const sealed = await sealAndVerify(store);

      // Assess
      expect(sealed.sealedIds).not.toContain('y-1');
      expect(sealed.exclusions.map((e) => e.reason)).toEqual(['BATCH_INVALID', 'EVENT_UNSIGNED']);
      expect(sealed.exclusions[0]!.detail).toContain('names ledger other');
    });
  });
});

function forgedFrom(genuine: PeriodEvent, id: string): { id: string; receivedAt: string; bytes: Uint8Array } {
  const bytes = Buffer.from(Buffer.from(genuine.bytes).toString('utf8').replaceAll(genuine.id, id));
  return { id, receivedAt: genuine.receivedAt, bytes };
}

describe('Function: provePeriod', () => {
  describe('when two rows are stored for one signed leaf', () => {
    it('seals the first and excludes the copy as EVENT_DUPLICATE', async () => {
      // Prepare
      const store = await table();
      const rows = await collect(store.readPeriod(LEDGER, PERIOD));
      const batches = await collect(store.readPeriodBatches(LEDGER, PERIOD));
      const copy = rows.find((r) => !('malformed' in r) && r.id === 'b-2')!;
      rows.splice(rows.indexOf(copy) + 1, 0, { ...copy, item: { pk: 'EV#prov#x#07', sk: 'copy' } });

      // Act
      const proven = await prove(rows, batches);

      // Assess
      expect(proven.sealed.map((e) => e.id)).toEqual(['a-1', 'a-2', 'a-3', 'b-1', 'b-2', 'c-1']);
      expect(proven.exclusions).toEqual([
        expect.objectContaining({
          reason: 'EVENT_DUPLICATE',
          eventId: 'b-2',
          item: { pk: 'EV#prov#x#07', sk: 'copy' },
        }),
      ]);
      expect(proven.missing).toEqual([]);
    });
  });

  describe('when a batch row itself is malformed', () => {
    it('excludes it as ITEM_MALFORMED and seals the rest', async () => {
      // Prepare
      const store = await table();
      const rows = await collect(store.readPeriod(LEDGER, PERIOD));
      const batches = await collect(store.readPeriodBatches(LEDGER, PERIOD));
      batches.splice(1, 0, {
        malformed: true,
        item: { pk: 'BA#prov', sk: 'junk' },
        reason: 'leaves are not a list',
      });

      // Act
      const proven = await prove(rows, batches);

      // Assess
      expect(proven.sealed).toHaveLength(6);
      expect(proven.exclusions).toEqual([
        expect.objectContaining({ reason: 'ITEM_MALFORMED', item: { pk: 'BA#prov', sk: 'junk' } }),
      ]);
    });
  });

  describe('when one batch id is stored twice', () => {
    it('keeps the first row, records the copy as BATCH_INVALID, and seals each leaf once', async () => {
      // Prepare
      const store = await table();
      const rows = await collect(store.readPeriod(LEDGER, PERIOD));
      const batches = await collect(store.readPeriodBatches(LEDGER, PERIOD));
      batches.splice(1, 0, batches[0]!);

      // Act
      const proven = await prove(rows, batches);

      // Assess
      expect(proven.sealed).toHaveLength(6);
      expect(proven.exclusions.map((e) => [e.reason, e.detail])).toEqual([
        ['BATCH_INVALID', expect.stringContaining('stored twice')],
      ]);
      expect(proven.records).toHaveLength(3);
    });
  });

  describe('when two signed batches list one event id', () => {
    it('seals each id once, at its first row, and excludes every later row as EVENT_DUPLICATE', async () => {
      await fc.assert(
        fc.asyncProperty(
          // Batches of ids drawn from a small pool, so ids repeat across batches (never inside one).
          fc.array(fc.uniqueArray(fc.nat({ max: 7 }), { minLength: 1, maxLength: 4 }), {
            minLength: 1,
            maxLength: 6,
          }),
          async (groups) => {
            // Prepare: batch g is received at minute g + 1, its leaves one millisecond apart.
            const batches: BatchSeal[] = [];
            const rows: PeriodEvent[] = [];
            for (const [g, ids] of groups.entries()) {
              const events = ids.map((n, i) => makeEvent(`dup-${n}`, iso(at(g + 1, i))));
              batches.push(await sealOver(signer, `batch-${g}`, events));
              for (const e of events) rows.push({ ...e, batchId: `batch-${g}` });
            }

            // Act
            const proven = await prove(rows, batches);

            // Assess: rows are already in (receivedAt, id) order; the oracle is a Set of the ids seen.
            const seen = new Set<string>();
            const firsts: string[] = [];
            const repeats: string[] = [];
            for (const row of rows) {
              if (seen.has(row.id)) repeats.push(row.id);
              else firsts.push(row.id);
              seen.add(row.id);
            }
            expect(proven.sealed.map((e) => e.id)).toEqual(firsts);
            expect(proven.exclusions.map((e) => [e.reason, e.eventId])).toEqual(
              repeats.map((id) => ['EVENT_DUPLICATE', id]),
            );
            expect(proven.records).toHaveLength(groups.length);
          },
        ),
        { numRuns: 25 },
      );
    });
  });

  describe('when an id is signed again by a later batch', () => {
    /** Two batches: x-1, x-2, x-3 at minute 1, then x-4 and x-2 again at minute 2. */
    async function twice() {
      const first = ['x-1', 'x-2', 'x-3'].map((id, i) => makeEvent(id, iso(at(1, i))));
      const second = ['x-4', 'x-2'].map((id, i) => makeEvent(id, iso(at(2, i))));
      const batches = [await sealOver(signer, 'first', first), await sealOver(signer, 'second', second)];
      const rows: PeriodEvent[] = [
        ...first.map((e) => ({ ...e, batchId: 'first' })),
        ...second.map((e) => ({ ...e, batchId: 'second' })),
      ];
      return { rows, batches, keys: await trustedKeysOf(signer) };
    }

    it('reads back the id hash sealed at the earlier index, for that row only, and excludes the row', async () => {
      // Prepare
      const { rows, batches, keys } = await twice();
      const sealed: ProvenEvent[] = [];
      const lookups: number[] = [];
      const exclusions: Exclusion[] = [];

      // Act
      for await (const event of provePeriod(
        {
          ledger: LEDGER,
          period: PERIOD,
          rows,
          batches,
          keys,
          sealedIdHash: (index) => {
            lookups.push(index);
            return sealed[index]!.idHash;
          },
        },
        { batchRecord: async () => {}, exclusion: async (e) => void exclusions.push(e), missing: () => {} },
      )) {
        sealed.push(event);
      }

      // Assess
      expect(sealed.map((e) => e.id)).toEqual(['x-1', 'x-2', 'x-3', 'x-4']);
      expect(lookups).toEqual([1]);
      expect(exclusions.map((e) => [e.reason, e.eventId, e.batchId])).toEqual([
        ['EVENT_DUPLICATE', 'x-2', 'second'],
      ]);
    });

    describe('when the id hash read back is not 32 bytes', () => {
      it('throws a RangeError instead of deciding', async () => {
        // Prepare
        const { rows, batches, keys } = await twice();

        // Act
        const act = async () => {
          for await (const _ of provePeriod(
            { ledger: LEDGER, period: PERIOD, rows, batches, keys, sealedIdHash: () => Buffer.alloc(31) },
            { batchRecord: async () => {}, exclusion: async () => {}, missing: () => {} },
          ));
        };

        // Assess
        await expect(act()).rejects.toThrow(RangeError);
      });
    });
  });

  describe('when a batch row has been read and checked', () => {
    it('keeps none of the row: its leaf objects can be collected while its events are still coming', async () => {
      // Prepare: the only references to the row's leaves are the batches list, dropped once it is read.
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as () => void;
      const events = ['k-1', 'k-2', 'k-3'].map((id, i) => makeEvent(id, iso(at(1, i))));
      let batches: BatchSeal[] | undefined = [await sealOver(signer, 'keep', events)];
      const leaves = new WeakRef(batches[0]!.leaves);
      const rowsRead: string[] = [];
      let collected: boolean | undefined;
      async function* rows(): AsyncGenerator<PeriodRow> {
        yield { ...events[0]!, batchId: 'keep' };
        rowsRead.push('k-1');
        // The batch is active (two of its events are still to come): is its row still reachable?
        batches = undefined;
        await new Promise((resolve) => setImmediate(resolve));
        gc();
        collected = leaves.deref() === undefined;
        yield { ...events[1]!, batchId: 'keep' };
        yield { ...events[2]!, batchId: 'keep' };
      }
      const source = (async function* () {
        const list = batches!;
        batches = undefined;
        yield* list;
      })();

      // Act
      const sealed: string[] = [];
      const idHashes: Buffer[] = [];
      for await (const event of provePeriod(
        {
          ledger: LEDGER,
          period: PERIOD,
          rows: rows(),
          batches: source,
          keys: await trustedKeysOf(signer),
          sealedIdHash: (index) => idHashes[index]!,
        },
        { batchRecord: async () => {}, exclusion: async () => {}, missing: () => {} },
      )) {
        sealed.push(event.id);
        idHashes.push(event.idHash);
      }

      // Assess
      expect(sealed).toEqual(['k-1', 'k-2', 'k-3']);
      expect(collected).toBe(true);
    });
  });

  describe('when random signed events meet random tampering in the table', () => {
    type Action =
      | { kind: 'edit'; at: number }
      | { kind: 'delete'; at: number }
      | { kind: 'insert'; at: number }
      | { kind: 'malformed'; at: number }
      | { kind: 'duplicate'; at: number };
    const action = fc.oneof(
      ...(['edit', 'delete', 'insert', 'malformed', 'duplicate'] as const).map((kind) =>
        fc.record({ kind: fc.constant(kind), at: fc.nat() }),
      ),
    ) as fc.Arbitrary<Action>;

    it('seals only signed leaves, and every signed leaf is either sealed or reported missing', async () => {
      const keys = await trustedKeysOf(signer);
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.record({
              minute: fc.integer({ min: 0, max: 59 }),
              ms: fc.integer({ min: 0, max: 2 }),
              n: fc.integer({ min: 1, max: 4 }),
            }),
            {
              minLength: 1,
              maxLength: 5,
            },
          ),
          fc.array(action, { maxLength: 6 }),
          async (requests, actions) => {
            // Prepare
            const store = new InMemoryLedgerStore();
            let next = 0;
            for (const r of requests) {
              const ids = Array.from({ length: r.n }, () => `p-${next++}`);
              await ingestInto(
                store,
                signer,
                LEDGER,
                at(r.minute, r.ms),
                ids.map((id) => appItem(id)),
              );
            }
            const genuine = (await collect(store.readPeriod(LEDGER, PERIOD))) as PeriodEvent[];
            const signed = new Map(genuine.map((e) => [e.id, toHex(hashLeaf(e.bytes))]));
            const touched = new Set<string>();
            // Rows with the sort key the table orders them by; copies share their original's key.
            let rows: { key: string; row: PeriodRow }[] = genuine.map((e) => ({ key: e.item!.sk, row: e }));
            const isEvent = (r: PeriodRow, id: string) => !('malformed' in r) && r.id === id;
            for (const a of actions) {
              const target = genuine[a.at % genuine.length]!;
              if (touched.has(target.id) && a.kind !== 'insert' && a.kind !== 'malformed') continue;
              if (a.kind === 'edit') {
                const bytes = Buffer.from(
                  Buffer.from(target.bytes).toString().replace('ssh.login', 'ssh.edit'),
                );
                rows = rows.map((r) => (isEvent(r.row, target.id) ? { ...r, row: { ...target, bytes } } : r));
                touched.add(target.id);
              } else if (a.kind === 'delete') {
                rows = rows.filter((r) => !isEvent(r.row, target.id));
                touched.add(target.id);
              } else if (a.kind === 'insert') {
                const forged = forgedFrom(target, `forged-${a.at}`);
                rows.push({
                  key: `${forged.receivedAt}#${forged.id}`,
                  row: { ...forged, batchId: target.batchId! },
                });
              } else if (a.kind === 'malformed') {
                const key = `${target.item!.sk}~${a.at}`;
                rows.push({
                  key,
                  row: { malformed: true, item: { pk: 'EV#prov', sk: key }, reason: 'poison' },
                });
              } else {
                rows.push({
                  key: target.item!.sk,
                  row: { ...target, item: { pk: 'EV#prov#copy', sk: target.item!.sk } },
                });
              }
            }
            // Stable: a copy comes right after its original, as the shard merge yields them.
            rows.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
            const batches = await collect(store.readPeriodBatches(LEDGER, PERIOD));

            // Act
            const proven = await prove(
              rows.map((r) => r.row),
              batches,
              keys,
            );

            // Assess
            // Every sealed event is a signed leaf, with the bytes that were signed, sealed once.
            const sealedIds = proven.sealed.map((e) => e.id);
            expect(new Set(sealedIds).size).toBe(sealedIds.length);
            for (const e of proven.sealed) expect(signed.get(e.id)).toBe(e.leafHash.toString('hex'));
            // Every signed leaf is sealed or reported missing, never both, never neither.
            const missingIds = proven.missing.map((m) => m.eventId);
            expect([...sealedIds, ...missingIds].sort()).toEqual([...signed.keys()].sort());
            // Untouched events are sealed; touched ones are not.
            for (const id of signed.keys()) expect(sealedIds.includes(id)).toBe(!touched.has(id));
            // The archived records agree: each leaf placed at its sealed index or marked missing.
            const placed = proven.records.flatMap((r) => r.leaves);
            expect(placed).toHaveLength(signed.size);
            for (const leaf of placed) {
              if (leaf.index === null) expect(missingIds).toContain(leaf.id);
              else expect(sealedIds[leaf.index]).toBe(leaf.id);
            }
          },
        ),
        { numRuns: 60 },
      );
    });
  });
});

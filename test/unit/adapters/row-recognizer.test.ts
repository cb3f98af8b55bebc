import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  abandonItem,
  batchItem,
  eventItem,
  type Item,
  idItem,
} from '../../../adapters/dynamodb/ledger-items.ts';
import { bySortKey } from '../../../adapters/dynamodb/ledger-store.ts';
import { createRowRecognizer } from '../../../adapters/dynamodb/row-recognizer.ts';
import { canonicalBytes } from '../../../shared/canonical/jcs.ts';
import { KeyFileSigner } from '../../../shared/crypto/key-file-signer.ts';
import { loadPublicKey, TrustedKeySet } from '../../../shared/crypto/keys.ts';
import { canonicalizeEvent } from '../../../shared/ingest/canonical-event.ts';
import { batchSealOf, signBatch } from '../../../shared/ledger/batch-receipts.ts';
import { ABANDON_STATEMENT_TYPE } from '../../../shared/ledger/formats.ts';
import type { BatchSeal, LedgerEvent } from '../../../shared/ports/ledger-store.ts';
import { InMemoryObjectStore } from '../../../shared/storage/in-memory-object-store.ts';

const LEDGER = 'main';
const PERIOD = { startMs: Date.UTC(2026, 10, 22, 21), seconds: 3600 };
const RECEIVED_AT = '2026-11-22T21:10:00.123Z';
const SHARDS = 4;
const NOW = new Date(Date.UTC(2026, 10, 22, 21, 30));

async function signedBatch(signer: KeyFileSigner): Promise<{ seal: BatchSeal; events: LedgerEvent[] }> {
  const canon = ['a-1', 'a-2'].map((id) =>
    canonicalizeEvent(
      {
        id,
        eventTime: '2026-11-22T21:09:00Z',
        actor: { id: 'alice', type: 'user' },
        action: 'ssh.login',
        outcome: { result: 'success' },
      },
      RECEIVED_AT,
      'api',
    ),
  );
  const leaves = canon.map((c) => ({ eventId: c.event.id, receivedAt: RECEIVED_AT, leafHash: c.leafHash }));
  const req = { ledger: LEDGER, batchId: 'b1', leaves };
  const signed = await signBatch(req, signer);
  const seal: BatchSeal = batchSealOf(req, signed);
  const events = canon.map(
    (c, i): LedgerEvent => ({
      id: c.event.id,
      receivedAt: RECEIVED_AT,
      period: PERIOD,
      bytes: c.bytes,
      leafHash: c.leafHash,
      batchId: 'b1',
      inputSha256: '0'.repeat(64),
      receipt: signed.receipts[i]!,
      index: { actorId: 'alice', action: 'ssh.login', outcome: 'success' },
    }),
  );
  return { seal, events };
}

/** The abandon row ingest writes when leaves of a batch were not stored (FORMAT.md §8). */
async function abandonRow(seal: BatchSeal, signer: KeyFileSigner, abandoned: number[]): Promise<Item> {
  const statement = canonicalBytes({
    type: ABANDON_STATEMENT_TYPE,
    ledger: LEDGER,
    batchId: seal.batchId,
    batchStatementSha256: createHash('sha256').update(seal.statement, 'utf8').digest('hex'),
    abandoned,
    keyId: await signer.keyId(),
  });
  return abandonItem(seal, PERIOD, SHARDS, {
    statement: Buffer.from(statement).toString('utf8'),
    signature: await signer.sign(statement),
  });
}

async function setup(batchSigner = KeyFileSigner.generate()) {
  const { seal, events } = await signedBatch(batchSigner);
  const stored = batchItem(seal, PERIOD, SHARDS);
  const recognize = createRowRecognizer({
    ledger: LEDGER,
    periodSeconds: PERIOD.seconds,
    graceSeconds: 60,
    keys: async () => new TrustedKeySet([loadPublicKey(await batchSigner.publicKeyPem())]),
    getBatch: async () => stored,
    objects: new InMemoryObjectStore(),
    clock: () => NOW,
  });
  return { recognize, seal, events, stored, batchSigner };
}

describe('Function: createRowRecognizer', () => {
  describe('when rows are the ones the service wrote', () => {
    it('recognizes the batch row, its event rows and their id rows', async () => {
      // Prepare
      const { recognize, events, stored } = await setup();

      // Act
      const problems = await Promise.all([
        recognize(stored),
        ...events.map((e) => recognize(eventItem(LEDGER, e, SHARDS))),
        ...events.map((e) => recognize(idItem(LEDGER, e, SHARDS))),
      ]);

      // Assess
      expect(problems).toEqual([undefined, undefined, undefined, undefined, undefined]);
    });
  });

  describe('when a request that lost a race explains its unstored leaves', () => {
    it('recognizes the abandon row signed for its batch', async () => {
      // Prepare
      const { recognize, seal, batchSigner } = await setup();

      // Act
      const problem = await recognize(await abandonRow(seal, batchSigner, [1]));

      // Assess
      expect(problem).toBeUndefined();
    });

    describe('when the abandon statement is signed by a key the service does not trust', () => {
      it('names the abandon row as foreign', async () => {
        // Prepare
        const { recognize, seal } = await setup();

        // Act
        const problem = await recognize(await abandonRow(seal, KeyFileSigner.generate(), [1]));

        // Assess
        expect(problem).toMatch(/abandon row of batch b1: .*untrusted key/);
      });
    });

    describe('when the abandon row names a batch no row backs', () => {
      it('names the abandon row as foreign', async () => {
        // Prepare
        const { recognize, seal, batchSigner } = await setup();
        const row = await abandonRow(seal, batchSigner, [0]);
        row['sk'] = { S: row['sk']!.S!.replace('#b1#', '#b9#') };
        const lonely = createRowRecognizer({
          ledger: LEDGER,
          periodSeconds: PERIOD.seconds,
          graceSeconds: 60,
          keys: async () => new TrustedKeySet([loadPublicKey(await batchSigner.publicKeyPem())]),
          getBatch: async () => undefined,
          objects: new InMemoryObjectStore(),
          clock: () => NOW,
        });

        // Act
        const problem = await lonely(row);

        // Assess
        expect(problem).toMatch(/abandon row: no batch row b9 backs it/);
        expect(await recognize(row)).toBeDefined();
      });
    });
  });

  describe('when an event row is inserted under a batch that does not sign it', () => {
    it('names the row as foreign', async () => {
      // Prepare
      const { recognize, events } = await setup();
      const forged = eventItem(LEDGER, { ...events[0]!, id: 'a-3' }, SHARDS);

      // Act
      const problem = await recognize(forged);

      // Assess
      expect(problem).toMatch(/does not sign event a-3/);
    });
  });

  describe('when an event row carries bytes other than the signed ones', () => {
    it('names the row as foreign', async () => {
      // Prepare
      const { recognize, events } = await setup();
      const edited = eventItem(LEDGER, events[0]!, SHARDS);
      edited['body'] = {
        B: Buffer.from(Buffer.from(events[0]!.bytes).toString('utf8').replace('ssh.login', 'ssh.logot')),
      };

      // Act
      const problem = await recognize(edited);

      // Assess
      expect(problem).toMatch(/not the ones batch b1 signed/);
    });
  });

  describe('when a batch row is signed by a key the service does not trust', () => {
    it('names the batch row and its event rows as foreign', async () => {
      // Prepare
      const attacker = KeyFileSigner.generate();
      const { seal, events } = await signedBatch(attacker);
      const { recognize } = await setup();
      const forgedBatch = batchItem(seal, PERIOD, SHARDS);
      const rec = createRowRecognizer({
        ledger: LEDGER,
        periodSeconds: PERIOD.seconds,
        graceSeconds: 60,
        keys: async () => new TrustedKeySet([loadPublicKey(await KeyFileSigner.generate().publicKeyPem())]),
        getBatch: async () => forgedBatch,
        objects: new InMemoryObjectStore(),
        clock: () => NOW,
      });

      // Act
      const batchProblem = await rec(forgedBatch);
      const eventProblem = await rec(eventItem(LEDGER, events[0]!, SHARDS));
      const idProblem = await rec(idItem(LEDGER, events[0]!, SHARDS));

      // Assess
      expect(await recognize(forgedBatch)).toBeDefined();
      expect(batchProblem).toMatch(/untrusted key/);
      expect(eventProblem).toMatch(/not trusted/);
      expect(idProblem).toMatch(/RECEIPT_KEY_UNKNOWN/);
    });
  });

  describe('when other kinds of rows are inserted', () => {
    it('refuses registry rows without signed objects, early close markers, future genesis and unknown kinds', async () => {
      // Prepare
      const { recognize } = await setup();
      const row = (pk: string, sk: string, extra: Item = {}): Item => ({
        pk: { S: pk },
        sk: { S: sk },
        ...extra,
      });

      // Act
      const problems = {
        seal: await recognize(
          row(`SE#${LEDGER}`, '20261122T200000Z-3600s', {
            statementSha256: { S: 'x' },
            digestKey: { S: 'y' },
          }),
        ),
        futureSeal: await recognize(row(`SE#${LEDGER}`, '99991231T230000Z-3600s')),
        earlyClose: await recognize(row(`CL#${LEDGER}`, '20261122T210000Z-3600s')),
        dueClose: await recognize(row(`CL#${LEDGER}`, '20261122T200000Z-3600s')),
        futureGenesis: await recognize(
          row(`LG#${LEDGER}`, 'GENESIS', { period: { S: '99991231T230000Z-3600s' } }),
        ),
        signal: await recognize(row(`SG#${LEDGER}#2026-11-22`, 'x')),
        unknown: await recognize(row(`ZZ#${LEDGER}`, 'x')),
        otherLedger: await recognize(row('EV#other#20261122T210000Z#00', 'x')),
      };

      // Assess
      expect(problems.seal).toMatch(/no signed statement/);
      expect(problems.futureSeal).toMatch(/has not ended/);
      expect(problems.earlyClose).toMatch(/before it is due/);
      expect(problems.dueClose).toBeUndefined();
      expect(problems.futureGenesis).toMatch(/not begun/);
      expect(problems.signal).toBeUndefined();
      expect(problems.unknown).toMatch(/not ledger rows/);
      expect(problems.otherLedger).toMatch(/does not belong/);
    });
  });
});

describe('Function: bySortKey', () => {
  it('orders sort keys as DynamoDB does (UTF-8 bytes), surrogate pairs after U+E000–U+FFFF', () => {
    // Prepare
    const keys = ['a\u{10000}', 'a\uffff', 'a', 'a\ue000', 'b', 'a~'];

    // Act
    const sorted = [...keys].sort((x, y) => bySortKey({ sk: x }, { sk: y }));

    // Assess
    const byBytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x, 'utf8'), Buffer.from(y, 'utf8')));
    expect(sorted).toEqual(byBytes);
    expect(sorted.indexOf('a\u{10000}')).toBeGreaterThan(sorted.indexOf('a\uffff'));
  });
});

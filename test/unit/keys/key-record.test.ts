/**
 * Key records and windows (docs/FORMAT.md §9.4): signing and checking a record, the windows trusted
 * records give, the one check a window makes, and the history walk the service serves as GET /v1/keys.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalString } from '../../../shared/canonical/jcs.ts';
import { KeyFileSigner } from '../../../shared/crypto/key-file-signer.ts';
import { readKeyHistory } from '../../../shared/keys/key-history.ts';
import {
  checkKeyRecord,
  type KeyRecord,
  keyRecordBytes,
  keyRecordObjectKey,
  keyWindows,
  parseKeyRecordObjectKey,
  signedOutsideWindow,
  signKeyRecord,
} from '../../../shared/keys/key-record.ts';
import { InMemoryObjectStore } from '../../../shared/storage/in-memory-object-store.ts';

const LEDGER = 'prod';
const T1 = new Date('2026-11-22T21:30:00.000Z');
const T2 = new Date('2026-11-23T08:00:00.000Z');

/** Three keys: A (first), B replaces A at T1, C replaces B at T2. */
async function rotatedKeys() {
  const [a, b, c] = [KeyFileSigner.generate(), KeyFileSigner.generate(), KeyFileSigner.generate()];
  const first = await signKeyRecord(a, { ledger: LEDGER, notBefore: null, previousPublicKeyPem: null });
  const second = await signKeyRecord(b, {
    ledger: LEDGER,
    notBefore: T1,
    previousPublicKeyPem: await a.publicKeyPem(),
  });
  const third = await signKeyRecord(c, {
    ledger: LEDGER,
    notBefore: T2,
    previousPublicKeyPem: await b.publicKeyPem(),
  });
  const ids = { a: await a.keyId(), b: await b.keyId(), c: await c.keyId() };
  return { a, b, c, ids, records: { first, second, third } };
}

const checked = async (record: KeyRecord) => (await checkKeyRecord(keyRecordBytes(record)))!;

describe('Function: signKeyRecord / checkKeyRecord', () => {
  describe('when a successor record is signed', () => {
    it('checks out and names both keys and the time', async () => {
      // Prepare
      const { ids, records } = await rotatedKeys();

      // Act
      const result = await checkKeyRecord(keyRecordBytes(records.second));

      // Assess
      expect(result?.statement).toEqual({
        type: 'auditseal.key-statement.v1',
        ledger: LEDGER,
        keyId: ids.b,
        notBefore: T1.toISOString(),
        previousKeyId: ids.a,
      });
      expect(result?.previousKey?.keyId).toBe(ids.a);
    });
  });

  describe('when the statement is changed after signing', () => {
    it('does not check out', async () => {
      // Prepare
      const { records } = await rotatedKeys();
      const later = records.second.statement.replace(T1.toISOString(), '2030-01-01T00:00:00.000Z');

      // Act
      const result = await checkKeyRecord(keyRecordBytes({ ...records.second, statement: later }));

      // Assess
      expect(result).toBeUndefined();
    });
  });

  describe('when the record carries another public key than the one its statement names', () => {
    it('does not check out', async () => {
      // Prepare
      const { c, records } = await rotatedKeys();

      // Act
      const result = await checkKeyRecord(
        keyRecordBytes({ ...records.second, publicKeyPem: await c.publicKeyPem() }),
      );

      // Assess
      expect(result).toBeUndefined();
    });
  });

  describe('when the record is not canonical JSON', () => {
    it('does not check out', async () => {
      // Prepare
      const { records } = await rotatedKeys();
      const spaced = Buffer.from(JSON.stringify(records.second, null, 1));

      // Act
      const result = await checkKeyRecord(spaced);

      // Assess
      expect(result).toBeUndefined();
    });
  });

  describe('when a record has a time but no previous key', () => {
    it('is refused at signing', async () => {
      // Act
      const signing = signKeyRecord(KeyFileSigner.generate(), {
        ledger: LEDGER,
        notBefore: T1,
        previousPublicKeyPem: null,
      });

      // Assess
      await expect(signing).rejects.toThrow(TypeError);
    });
  });

  describe('when any byte of a record is flipped', () => {
    it('never checks out as the same statement with another meaning', async () => {
      // Prepare
      const { records } = await rotatedKeys();
      const bytes = Buffer.from(keyRecordBytes(records.second));

      // Assess
      await fc.assert(
        fc.asyncProperty(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), async (at, xor) => {
          const flipped = Buffer.from(bytes);
          flipped[at] = flipped[at]! ^ xor;
          const result = await checkKeyRecord(flipped);
          // Either refused, or (a flip inside the base64 padding or PEM text that decodes the same) equal.
          return result === undefined || canonicalString(result.statement) === records.second.statement;
        }),
        { numRuns: 300 },
      );
    });
  });
});

describe('Function: keyWindows', () => {
  describe('when every key is trusted', () => {
    it('ends each replaced key at the time its successor took over', async () => {
      // Prepare
      const { ids, records } = await rotatedKeys();
      const trusted = new Set([ids.a, ids.b, ids.c]);

      // Act
      const windows = keyWindows(
        LEDGER,
        await Promise.all([records.first, records.second, records.third].map(checked)),
        trusted,
      );

      // Assess
      expect(windows.get(ids.a)).toEqual({ keyId: ids.a, notBeforeMs: null, notAfterMs: T1.getTime() });
      expect(windows.get(ids.b)).toEqual({
        keyId: ids.b,
        notBeforeMs: T1.getTime(),
        notAfterMs: T2.getTime(),
      });
      expect(windows.get(ids.c)).toEqual({ keyId: ids.c, notBeforeMs: T2.getTime(), notAfterMs: null });
    });
  });

  describe('when the successor key is not trusted', () => {
    it('does not let its record bound the trusted key', async () => {
      // Prepare
      const { ids, records } = await rotatedKeys();

      // Act
      const windows = keyWindows(LEDGER, [await checked(records.second)], new Set([ids.a]));

      // Assess
      expect(windows.get(ids.a)).toBeUndefined();
    });
  });

  describe('when a record belongs to another ledger', () => {
    it('is ignored', async () => {
      // Prepare
      const { ids, records } = await rotatedKeys();

      // Act
      const windows = keyWindows('other', [await checked(records.second)], new Set([ids.a, ids.b]));

      // Assess
      expect(windows.size).toBe(0);
    });
  });
});

describe('Function: signedOutsideWindow', () => {
  const window = { keyId: 'a'.repeat(64), notBeforeMs: null, notAfterMs: T1.getTime() };

  describe('when the statement could have been signed before the key was replaced', () => {
    it('is inside', () => {
      expect(signedOutsideWindow(window, T1.getTime() - 1)).toBe(false);
    });
  });

  describe('when the statement could only have been signed at or after the replacement', () => {
    it('is outside', () => {
      expect(signedOutsideWindow(window, T1.getTime())).toBe(true);
    });
  });

  describe('when a key signs a period that ended before it took over (a lagging seal)', () => {
    it('is inside: the start of a window is no bound', () => {
      expect(signedOutsideWindow({ ...window, notBeforeMs: T1.getTime(), notAfterMs: null }, 0)).toBe(false);
    });
  });

  describe('when nothing bounds the key', () => {
    it('is inside for any time', () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 2 ** 45 }), (ms) => !signedOutsideWindow(undefined, ms)),
      );
    });
  });

  it('is outside exactly from notAfter on, for any window and time', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 45 }), fc.integer({ min: 0, max: 2 ** 45 }), (end, ms) => {
        return signedOutsideWindow({ keyId: 'k', notBeforeMs: null, notAfterMs: end }, ms) === ms >= end;
      }),
    );
  });
});

describe('Function: parseKeyRecordObjectKey', () => {
  it('round-trips keyRecordObjectKey', () => {
    const keyId = 'ab'.repeat(32);
    expect(parseKeyRecordObjectKey(keyRecordObjectKey(LEDGER, keyId))).toEqual({ ledger: LEDGER, keyId });
  });

  describe('when the key escapes its folder', () => {
    it('is not a record key', () => {
      expect(parseKeyRecordObjectKey(`keys/../${'ab'.repeat(32)}.key.json`)).toBeUndefined();
    });
  });
});

describe('Function: readKeyHistory', () => {
  describe('when the bucket holds the records of three keys', () => {
    it('lists every key newest first, with its window and record', async () => {
      // Prepare
      const { c, ids, records } = await rotatedKeys();
      const objects = new InMemoryObjectStore();
      for (const [id, record] of [
        [ids.a, records.first],
        [ids.b, records.second],
        [ids.c, records.third],
      ] as const) {
        await objects.putIfAbsent(keyRecordObjectKey(LEDGER, id), keyRecordBytes(record));
      }

      // Act
      const history = await readKeyHistory(objects, LEDGER, await c.publicKeyPem());

      // Assess
      expect(history.problems).toEqual([]);
      expect(history.entries.map((e) => [e.keyId, e.status, e.notBefore, e.notAfter])).toEqual([
        [ids.c, 'active', T2.toISOString(), null],
        [ids.b, 'retired', T1.toISOString(), T2.toISOString()],
        [ids.a, 'retired', null, T1.toISOString()],
      ]);
      expect(history.entries[1]?.record).toEqual(records.second);
    });
  });

  describe('when the current key has no record yet', () => {
    it('lists only the current key, unbounded', async () => {
      // Prepare
      const signer = KeyFileSigner.generate();

      // Act
      const history = await readKeyHistory(new InMemoryObjectStore(), LEDGER, await signer.publicKeyPem());

      // Assess
      expect(history.entries).toEqual([
        {
          keyId: await signer.keyId(),
          publicKeyPem: await signer.publicKeyPem(),
          notBefore: null,
          notAfter: null,
          status: 'active',
          record: null,
        },
      ]);
    });
  });

  describe("when a key's record in the bucket is signed by another key", () => {
    it('stops the walk there and reports it', async () => {
      // Prepare
      const { b, ids, records } = await rotatedKeys();
      const objects = new InMemoryObjectStore();
      await objects.putIfAbsent(keyRecordObjectKey(LEDGER, ids.b), keyRecordBytes(records.third));

      // Act
      const history = await readKeyHistory(objects, LEDGER, await b.publicKeyPem());

      // Assess
      expect(history.entries.map((e) => e.keyId)).toEqual([ids.b]);
      expect(history.problems).toHaveLength(1);
    });
  });
});

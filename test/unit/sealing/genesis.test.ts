import { describe, expect, it } from 'vitest';
import { KeyFileSigner } from '../../../shared/crypto/key-file-signer.ts';
import { loadPublicKey, TrustedKeySet } from '../../../shared/crypto/keys.ts';
import { BeforeGenesisError } from '../../../shared/ingest/errors.ts';
import { GenesisGuard } from '../../../shared/ingest/genesis-guard.ts';
import { type IngestDeps, ingestBatch } from '../../../shared/ingest/ingest-batch.ts';
import { periodOf } from '../../../shared/ledger/period.ts';
import { sealDuePeriods } from '../../../shared/sealing/seal-due-periods.ts';
import { InMemoryAlarmSink } from '../../../shared/storage/in-memory-alarm-sink.ts';
import { InMemoryLedgerStore } from '../../../shared/storage/in-memory-ledger-store.ts';
import { InMemoryObjectStore } from '../../../shared/storage/in-memory-object-store.ts';
import { InMemorySealRegistry } from '../../../shared/storage/in-memory-seal-registry.ts';
import { verifyFolder } from '../../../shared/verify/verify-folder.ts';

const T0 = Date.parse('2026-11-22T22:00:00Z');

function event(id: string) {
  return {
    id,
    eventTime: '2026-11-22T22:00:00Z',
    actor: { id: 'alice', type: 'user' },
    action: 'ssh.login',
    outcome: { result: 'success' },
  };
}

async function setup(nowMs: { value: number }) {
  const signer = KeyFileSigner.generate();
  const registry = new InMemorySealRegistry();
  const store = new InMemoryLedgerStore();
  const deps: IngestDeps = {
    store,
    signer,
    clock: () => new Date(nowMs.value),
    periodSeconds: 60,
    graceSeconds: 15,
    batchIdFactory: () => `b-${nowMs.value}`,
    genesis: new GenesisGuard(registry),
  };
  const keys = new TrustedKeySet([loadPublicKey(await signer.publicKeyPem())]);
  return {
    signer,
    keys,
    registry,
    store,
    deps,
    objects: new InMemoryObjectStore(),
    alarms: new InMemoryAlarmSink(),
  };
}

const request = (ids: string[]) => ({
  ledger: 'test',
  items: ids.map(event),
  channel: 'api' as const,
  principal: 'p',
  requestId: 'r',
});

describe('Ingest and sealing: the ledger genesis', () => {
  describe('when an event is ingested one second before the sealer first runs in the next period', () => {
    it('records the event period as genesis, so the event is sealed (regression: it was lost)', async () => {
      // Prepare
      const now = { value: T0 + 59_000 };
      const s = await setup(now);

      // Act
      await ingestBatch(request(['late-1']), s.deps);
      now.value = T0 + 60_500;
      await sealDuePeriods(
        { ledger: 'test', periodSeconds: 60, graceSeconds: 15 },
        {
          objects: s.objects,
          signer: s.signer,
          events: s.store,
          registry: s.registry,
          clock: () => new Date(now.value),
          trustedKeys: async () => s.keys,
          alarms: s.alarms,
        },
      );
      now.value = T0 + 60_000 + 16_000;
      const sealed = await sealDuePeriods(
        { ledger: 'test', periodSeconds: 60, graceSeconds: 15 },
        {
          objects: s.objects,
          signer: s.signer,
          events: s.store,
          registry: s.registry,
          clock: () => new Date(now.value),
          trustedKeys: async () => s.keys,
          alarms: s.alarms,
        },
      );

      // Assess
      expect(s.registry.genesis.get('test')).toEqual(periodOf(T0, 60));
      expect(sealed.map((p) => [p.sequence, p.treeSize])).toEqual([[0, 1]]);
      const keys = new TrustedKeySet([loadPublicKey(await s.signer.publicKeyPem())]);
      const reader = {
        list: async (prefix: string) => [...s.objects.objects.keys()].filter((k) => k.startsWith(prefix)),
        read: async (key: string) => {
          const v = s.objects.objects.get(key);
          return v ? Buffer.from(v) : undefined;
        },
      };
      const report = await verifyFolder(reader, { keys });
      expect(report.stats.events).toBe(1);
      expect(report.findings).toEqual([]);
      expect(s.alarms.alarms.size).toBe(0);
    });
  });

  describe('when the genesis is after the batch period (clock skew)', () => {
    it('answers 503 BEFORE_GENESIS and writes nothing', async () => {
      // Prepare
      const now = { value: T0 };
      const s = await setup(now);
      await s.registry.ensureGenesis('test', periodOf(T0 + 120_000, 60));

      // Act
      const attempt = ingestBatch(request(['skewed-1']), s.deps);

      // Assess
      await expect(attempt).rejects.toBeInstanceOf(BeforeGenesisError);
      expect(await s.store.findEventIds('test', ['skewed-1'])).toEqual(new Map());
    });
  });
});

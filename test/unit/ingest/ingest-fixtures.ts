import { GenesisGuard } from '../../../shared/ingest/genesis-guard.ts';
import { InMemorySealRegistry } from '../../../shared/storage/in-memory-seal-registry.ts';
/**
 * Test doubles for the ingest path: app events, a signer that counts its Sign calls, a settable clock
 * and ingest deps over the in-memory ledger store.
 */

import { KeyFileSigner } from '../../../shared/crypto/key-file-signer.ts';
import { loadPublicKey, TrustedKeySet } from '../../../shared/crypto/keys.ts';
import type { IngestDeps } from '../../../shared/ingest/ingest-batch.ts';
import type { Signer } from '../../../shared/ports/signer.ts';
import {
  InMemoryLedgerStore,
  type InMemoryLedgerStoreOptions,
} from '../../../shared/storage/in-memory-ledger-store.ts';
import { InMemoryProfileStore } from '../../../shared/storage/in-memory-profile-store.ts';

export const LEDGER = 'test-ledger';
/** 2026-11-22T21:10:00.123Z: ten minutes into an hourly period. */
export const T0 = Date.UTC(2026, 10, 22, 21, 10, 0, 123);

/** A valid app event; `n` makes the id unique. */
export function appEvent(n: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: `app-${n}`,
    eventTime: '2026-11-22T21:09:59Z',
    actor: { id: 'alice@example.com', type: 'user' },
    action: 'ssh.login',
    resource: { id: `i-${n}`, type: 'AWS::EC2::Instance' },
    outcome: { result: 'success' },
    ...overrides,
  };
}

/** A signer that counts Sign calls and can be made to fail. */
export class CountingSigner implements Signer {
  signCalls = 0;
  failWith: Error | undefined;
  constructor(readonly inner: Signer) {}
  keyId(): Promise<string> {
    return this.inner.keyId();
  }
  publicKeyPem(): Promise<string> {
    return this.inner.publicKeyPem();
  }
  async sign(statement: Uint8Array): Promise<Uint8Array> {
    this.signCalls++;
    if (this.failWith) throw this.failWith;
    return this.inner.sign(statement);
  }
}

/** A clock tests can move. */
export class TestClock {
  constructor(public nowMs: number = T0) {}
  readonly now = (): Date => new Date(this.nowMs);
}

export interface Harness {
  readonly store: InMemoryLedgerStore;
  readonly signer: CountingSigner;
  readonly clock: TestClock;
  readonly deps: IngestDeps;
  readonly keys: TrustedKeySet;
  /** The profile chains the store writes each `profile` event's version into. */
  readonly profiles: InMemoryProfileStore;
}

const baseSigner = KeyFileSigner.generate();
const baseKeys = baseSigner.publicKeyPem().then((pem) => new TrustedKeySet([loadPublicKey(pem)]));

let batchCounter = 0;

/** Fresh store, counting signer and clock; `storeOptions` configure the in-memory store. */
export async function harness(storeOptions: InMemoryLedgerStoreOptions = {}): Promise<Harness> {
  const profiles = storeOptions.profiles ?? new InMemoryProfileStore();
  const store = new InMemoryLedgerStore({ ...storeOptions, profiles });
  const signer = new CountingSigner(baseSigner);
  const clock = new TestClock();
  const deps: IngestDeps = {
    store,
    signer,
    clock: clock.now,
    periodSeconds: 3600,
    graceSeconds: 60,
    writeMarginMs: 5_000,
    batchIdFactory: () => `batch-${++batchCounter}`,
    genesis: new GenesisGuard(new InMemorySealRegistry()),
  };
  return { store, signer, clock, deps, keys: await baseKeys, profiles };
}

/** An ingest request for `items` from the api channel. */
export function apiRequest(items: readonly unknown[]) {
  return {
    ledger: LEDGER,
    items,
    channel: 'api' as const,
    principal: 'arn:aws:sts::123456789012:assumed-role/writer/app',
    requestId: 'req-1',
  };
}

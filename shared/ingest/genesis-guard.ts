import type { Period } from '../ledger/period.ts';
import type { SealRegistry } from '../ports/sealing.ts';

/**
 * Records the ledger's genesis once per container and remembers it. The genesis item is put-only, so
 * the first writer wins and every later caller learns the same period; caching it costs nothing.
 */
export class GenesisGuard {
  private readonly known = new Map<string, Period>();

  constructor(private readonly registry: Pick<SealRegistry, 'ensureGenesis'>) {}

  async ensure(ledger: string, candidate: Period): Promise<Period> {
    const cached = this.known.get(ledger);
    if (cached) return cached;
    const genesis = await this.registry.ensureGenesis(ledger, candidate);
    this.known.set(ledger, genesis);
    return genesis;
  }
}

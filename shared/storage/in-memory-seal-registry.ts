import type { Period } from '../ledger/period.ts';
import type { ChainHead } from '../ledger/seal-period.ts';
import type { SealRegistry } from '../ports/sealing.ts';

function headOnly(h: ChainHead): ChainHead {
  return {
    ledger: h.ledger,
    period: h.period,
    sequence: h.sequence,
    digestKey: h.digestKey,
    statementSha256: h.statementSha256,
  };
}

/** In-memory SealRegistry with the DynamoDB adapter's put-only semantics. */
export class InMemorySealRegistry implements SealRegistry {
  readonly genesis = new Map<string, Period>();
  readonly seals = new Map<string, ChainHead[]>();

  async ensureGenesis(ledger: string, candidate: Period): Promise<Period> {
    const existing = this.genesis.get(ledger);
    if (existing) return existing;
    this.genesis.set(ledger, candidate);
    return candidate;
  }

  async lastSeal(ledger: string): Promise<ChainHead | undefined> {
    const list = this.seals.get(ledger) ?? [];
    return list[list.length - 1];
  }

  async recordSeal(head: ChainHead): Promise<void> {
    const list = this.seals.get(head.ledger) ?? [];
    const same = list.find((h) => h.period.startMs === head.period.startMs);
    if (same) {
      if (same.statementSha256 !== head.statementSha256)
        throw new Error(`period already sealed differently: ${head.digestKey}`);
      return;
    }
    list.push(headOnly(head));
    list.sort((a, b) => a.period.startMs - b.period.startMs);
    this.seals.set(head.ledger, list);
  }
}

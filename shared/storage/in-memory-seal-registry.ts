import type { Period } from '../ledger/period.ts';
import type { ChainHead } from '../ledger/seal-period.ts';
import type { DigestCatalog, SealPage } from '../ports/digest-catalog.ts';
import { SealRecordConflictError, type SealRegistry } from '../ports/sealing.ts';

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
export class InMemorySealRegistry implements SealRegistry, DigestCatalog {
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

  async *sealsNewestFirst(ledger: string): AsyncIterable<ChainHead> {
    const list = [...(this.seals.get(ledger) ?? [])];
    for (let i = list.length - 1; i >= 0; i--) yield list[i]!;
  }

  /** Writes a row as an attacker with table access would (no check at all). */
  forgeForTest(head: ChainHead): void {
    const list = this.seals.get(head.ledger) ?? [];
    list.push(headOnly(head));
    list.sort((a, b) => a.period.startMs - b.period.startMs);
    this.seals.set(head.ledger, list);
  }

  async listSeals(
    ledger: string,
    fromMs: number,
    toMs: number,
    limit: number,
    cursor?: string,
  ): Promise<SealPage> {
    const after =
      cursor === undefined ? -Infinity : Number(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Number.isNaN(after)) throw new RangeError('invalid pagination token');
    const all = (this.seals.get(ledger) ?? []).filter(
      (h) => h.period.startMs >= fromMs && h.period.startMs < toMs && h.period.startMs > after,
    );
    const items = all.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items,
      ...(all.length > limit && last
        ? { cursor: Buffer.from(String(last.period.startMs)).toString('base64url') }
        : {}),
    };
  }

  async getSeal(ledger: string, period: Period): Promise<ChainHead | undefined> {
    return (this.seals.get(ledger) ?? []).find(
      (h) => h.period.startMs === period.startMs && h.period.seconds === period.seconds,
    );
  }

  async recordSeal(head: ChainHead): Promise<void> {
    const list = this.seals.get(head.ledger) ?? [];
    const same = list.find((h) => h.period.startMs === head.period.startMs);
    if (same) {
      if (same.statementSha256 !== head.statementSha256) throw new SealRecordConflictError(head.digestKey);
      return;
    }
    list.push(headOnly(head));
    list.sort((a, b) => a.period.startMs - b.period.startMs);
    this.seals.set(head.ledger, list);
  }
}

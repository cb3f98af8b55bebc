/** Read side of sealing for auditors: which periods are sealed, and links to download their objects. */
import type { Period } from '../ledger/period.ts';
import type { ChainHead } from '../ledger/seal-period.ts';

/** A page of sealed periods, oldest first. */
export interface SealPage {
  readonly items: ChainHead[];
  /** Opaque cursor for the next page, absent on the last page. */
  readonly cursor?: string;
}

export interface DigestCatalog {
  /** Sealed periods whose start is in [fromMs, toMs), oldest first. */
  listSeals(ledger: string, fromMs: number, toMs: number, limit: number, cursor?: string): Promise<SealPage>;
  /** One sealed period, or undefined. */
  getSeal(ledger: string, period: Period): Promise<ChainHead | undefined>;
  /** The newest sealed period, or undefined before the first seal (the same as SealRegistry's). */
  lastSeal(ledger: string): Promise<ChainHead | undefined>;
}

/** Time-limited download links for bucket objects (S3 presigned GET URLs). */
export interface ObjectLinks {
  urlFor(key: string, expiresInSeconds: number): Promise<string>;
}

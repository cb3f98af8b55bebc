/**
 * Receipts in a verifiable folder (`DIR/receipts/*.json`, one receipt or an array of receipts per file).
 * Each receipt is checked on its own (key, signature, inclusion in its batch root), then matched against
 * the leaves of the sealed period its `receivedAt` falls in.
 */
import { checkReceiptAsync, type KeyLookup } from '../ledger/batch-receipts.ts';
import { toHex } from '../ledger/hex.ts';
import { type Period, periodEndMs } from '../ledger/period.ts';
import type { Finding } from './findings.ts';
import type { ObjectReader } from './object-reader.ts';

/** Largest receipt file read: about 2,000 receipts (docs/FORMAT.md §9.1). */
export const MAX_RECEIPT_FILE_BYTES = 16 * 1024 * 1024;

interface PendingReceipt {
  readonly object: string;
  readonly eventId: string;
  readonly ledger: string;
  readonly receivedAtMs: number;
  found: boolean;
}

/** Receipts waiting to be matched with sealed leaves while archives are verified. */
export interface ReceiptWork {
  readonly count: number;
  observe(ledger: string, period: Period, leaves: readonly Buffer[]): void;
  /** A sealed event whose id and leaf provenance established: receipts for that id must name that leaf. */
  observeEvent(ledger: string, period: Period, id: string, leaf: Uint8Array): void;
  finish(inRange: (ms: number) => boolean): Finding[];
}

/** What a receipt's leaf is matched on. */
export type BatchLeafCheck = PendingReceipt;

async function collect(reader: ObjectReader, keys: KeyLookup, findings: Finding[]): Promise<ReceiptWork> {
  const wanted = new Map<string, PendingReceipt[]>();
  const byId = new Map<string, (PendingReceipt & { leafHash: string })[]>();
  const mismatches: Finding[] = [];
  const all: PendingReceipt[] = [];
  for (const object of (await reader.list('receipts/')).sort()) {
    if (!object.endsWith('.json')) continue;
    const bytes = await reader.read(object, MAX_RECEIPT_FILE_BYTES + 1);
    // Absent now means it was not a regular file: the reader has reported that already.
    if (!bytes) continue;
    if (bytes.length > MAX_RECEIPT_FILE_BYTES) {
      findings.push({
        code: 'RECEIPT_MALFORMED',
        object,
        message: `larger than ${MAX_RECEIPT_FILE_BYTES} bytes: not read`,
      });
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(bytes.toString('utf8'));
    } catch {
      findings.push({ code: 'RECEIPT_MALFORMED', object, message: 'file is not JSON' });
      continue;
    }
    for (const item of Array.isArray(value) ? value : [value]) {
      const check = await checkReceiptAsync(item, keys);
      if (!check.ok) {
        findings.push({
          code: check.code,
          object,
          message: check.message,
          ...(check.eventId !== undefined ? { eventId: check.eventId } : {}),
        });
        continue;
      }
      const pending: PendingReceipt = {
        object,
        eventId: check.receipt.eventId,
        ledger: check.statement.ledger,
        receivedAtMs: Date.parse(check.receipt.receivedAt),
        found: false,
      };
      all.push(pending);
      const list = wanted.get(check.receipt.leafHash) ?? [];
      list.push(pending);
      wanted.set(check.receipt.leafHash, list);
      const sameId = byId.get(pending.eventId) ?? [];
      sameId.push(Object.assign(pending, { leafHash: check.receipt.leafHash }));
      byId.set(pending.eventId, sameId);
    }
  }
  return {
    count: all.length,
    observe(ledger, period, leaves) {
      if (wanted.size === 0) return;
      const end = periodEndMs(period);
      for (const leaf of leaves) {
        const list = wanted.get(toHex(leaf));
        if (!list) continue;
        for (const r of list) {
          if (r.ledger === ledger && r.receivedAtMs >= period.startMs && r.receivedAtMs < end) r.found = true;
        }
      }
    },
    observeEvent(ledger, period, id, leaf) {
      const list = byId.get(id);
      if (!list) return;
      const leafHash = toHex(leaf);
      const end = periodEndMs(period);
      for (const r of list) {
        if (r.ledger !== ledger || r.receivedAtMs < period.startMs || r.receivedAtMs >= end) continue;
        if (r.leafHash === leafHash) continue;
        r.found = true;
        mismatches.push({
          code: 'RECEIPT_EVENT_MISMATCH',
          object: r.object,
          eventId: id,
          message: `the sealed event ${id} is not the one this receipt acknowledged`,
          evidence: { expected: r.leafHash, computed: leafHash },
        });
      }
    },
    finish(inRange) {
      return mismatches.concat(
        all
          .filter((r) => !r.found && inRange(r.receivedAtMs))
          .map(
            (r): Finding => ({
              code: 'RECEIPT_NOT_SEALED',
              object: r.object,
              eventId: r.eventId,
              message: `event ${r.eventId} has a valid receipt but is not in the sealed period of ${new Date(r.receivedAtMs).toISOString()}`,
            }),
          ),
      );
    },
  };
}

/** Entry point used by the folder verifier. */
export const checkReceiptFile = { collect };

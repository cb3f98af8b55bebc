/** Hand-built ledger records for adapter tests: valid shapes, predictable values. */
import { canonicalString } from '../../../shared/canonical/jcs.ts';
import { parseAuditEventInput } from '../../../shared/events/audit-event.ts';
import { canonicalizeEvent } from '../../../shared/ingest/canonical-event.ts';
import { RECEIPT_TYPE, type Receipt } from '../../../shared/ledger/formats.ts';
import type { BatchSeal, LedgerEvent } from '../../../shared/ports/ledger-store.ts';

export const LEDGER = 'main';
export const TABLE = 'auditseal-ledger';
export const PERIOD = { startMs: Date.UTC(2026, 10, 22, 21), seconds: 3600 };
export const RECEIVED_AT = '2026-11-22T21:10:00.123Z';
/** A stand-in statement: the stores keep it verbatim and never check it (the sealer does). */
export const STATEMENT = canonicalString({ type: 'auditseal.batch-statement.v2', batchId: 'b1' });

/** The seal of batch `b1`; its leaves are those of `app-1` and `app-2` as `ledgerEvent` builds them. */
export const SEAL: BatchSeal = {
  ledger: LEDGER,
  batchId: 'b1',
  receivedAt: RECEIVED_AT,
  statement: STATEMENT,
  signature: new Uint8Array([0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]),
  size: 2,
  leaves: [1, 2].map((n) => ({
    eventId: `app-${n}`,
    receivedAt: RECEIVED_AT,
    leafHash: ledgerEvent(n).leafHash,
  })),
};

export function receiptFor(
  id: string,
  leafHash: Uint8Array,
  leafIndex = 0,
  receivedAt = RECEIVED_AT,
): Receipt {
  return {
    type: RECEIPT_TYPE,
    eventId: id,
    receivedAt,
    leafHash: Buffer.from(leafHash).toString('hex'),
    leafIndex,
    auditPath: [],
    statement: STATEMENT,
    signature: 'MAYCAQECAQE=',
  };
}

/** A valid event `app-<n>`; `bodyPadding` grows its canonical bytes. */
export function ledgerEvent(
  n: number,
  options: { bodyPadding?: number; receivedAt?: string } = {},
): LedgerEvent {
  const receivedAt = options.receivedAt ?? RECEIVED_AT;
  const input = parseAuditEventInput({
    id: `app-${n}`,
    eventTime: '2026-11-22T21:09:59Z',
    actor: { id: 'alice', type: 'user' },
    action: 'ssh.login',
    ...(n % 2 === 0 ? { resource: { id: `i-${n}`, type: 'AWS::EC2::Instance' } } : {}),
    outcome: { result: 'success' },
    ...(options.bodyPadding ? { details: padding(options.bodyPadding) } : {}),
  });
  const canonical = canonicalizeEvent(input, receivedAt, 'api');
  return {
    id: input.id,
    receivedAt,
    period: PERIOD,
    bytes: canonical.bytes,
    leafHash: canonical.leafHash,
    batchId: 'b1',
    inputSha256: 'ab'.repeat(32),
    receipt: receiptFor(input.id, canonical.leafHash, n, receivedAt),
    index: {
      actorId: 'alice',
      action: 'ssh.login',
      outcome: 'success',
      ...(n % 2 === 0 ? { resourceId: `i-${n}` } : {}),
    },
  };
}

/** About `bytes` of string values, in members of at most 30,000 characters (the event string limit). */
function padding(bytes: number): Record<string, string> {
  const parts = Math.ceil(bytes / 30_000);
  return Object.fromEntries(Array.from({ length: parts }, (_, i) => [`p${i}`, 'x'.repeat(bytes / parts)]));
}

/**
 * `--deep`: each archived event must be a schema-valid, canonical event received inside its period.
 * Shared by the CLI and the auditor's page, so that both report the same codes.
 */
import { canonicalString } from '../canonical/jcs.ts';
import { parseAuditEvent } from '../events/audit-event.ts';
import { type Period, periodEndMs } from '../ledger/period.ts';
import type { Finding } from './findings.ts';

export function deepCheckEvent(line: Buffer, period: Period): Finding['code'] | undefined {
  try {
    const text = line.toString('utf8');
    const event = parseAuditEvent(JSON.parse(text));
    if (canonicalString(event) !== text) return 'EVENT_INVALID';
    const t = Date.parse(event.receivedAt);
    if (t < period.startMs || t >= periodEndMs(period)) return 'EVENT_OUT_OF_PERIOD';
    return undefined;
  } catch {
    return 'EVENT_INVALID';
  }
}

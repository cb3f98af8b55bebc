/**
 * From a validated event input to its stored form: server fields added, RFC 8785 bytes, leaf hash.
 * The bytes produced here are exactly what is stored, archived and hashed (docs/FORMAT.md §Events).
 */
import { canonicalBytes } from '../canonical/jcs.ts';
import { type AuditEvent, type AuditEventInput, parseAuditEvent } from '../events/audit-event.ts';
import { EventValidationError } from '../events/errors.ts';
import { MAX_EVENT_BYTES } from '../events/limits.ts';
import { hashLeaf } from '../merkle/rfc6962.ts';

export type Channel = AuditEvent['channel'];

/** An event in its stored form. */
export interface CanonicalEvent {
  readonly event: AuditEvent;
  readonly bytes: Uint8Array;
  readonly leafHash: Buffer;
}

/** Adds `receivedAt` (`YYYY-MM-DDTHH:MM:SS.sssZ`) and `channel`, canonicalizes and hashes. */
export function canonicalizeEvent(
  input: AuditEventInput,
  receivedAt: string,
  channel: Channel,
): CanonicalEvent {
  const event = parseAuditEvent({ ...input, v: 1, receivedAt, channel });
  return fromStoredEvent(event);
}

/** Canonical bytes and leaf hash of an already complete stored event; enforces the size limit. */
export function fromStoredEvent(event: AuditEvent): CanonicalEvent {
  const bytes = canonicalBytes(event);
  if (bytes.length > MAX_EVENT_BYTES) {
    throw new EventValidationError(
      'TOO_LARGE',
      '$',
      `event is ${bytes.length} bytes once canonical; the limit is ${MAX_EVENT_BYTES}`,
    );
  }
  return { event, bytes, leafHash: hashLeaf(bytes) };
}

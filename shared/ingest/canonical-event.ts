/**
 * From a validated event input to its stored form: server fields added, RFC 8785 bytes, leaf hash.
 * The bytes produced here are exactly what is stored, archived and hashed (docs/FORMAT.md §Events).
 */
import { type CanonicalMember, canonicalBytes, canonicalMembers, canonicalString } from '../canonical/jcs.ts';
import {
  type AuditEvent,
  type AuditEventInput,
  EVENT_CHANNELS,
  EVENT_FORMAT_VERSION,
  parseAuditEvent,
} from '../events/audit-event.ts';
import { EventValidationError } from '../events/errors.ts';
import { MAX_EVENT_BYTES } from '../events/limits.ts';
import { isCanonicalTimestamp, normalizeTimestamp } from '../events/rfc3339.ts';
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

/**
 * The text the idempotency hash (`inputSha256`) is computed over: the input's JCS form with `eventTime`
 * normalized (`normalizeTimestamp`: UTC, `Z`, milliseconds). Two attempts that write the same instant
 * differently (`Z` or `+00:00`, `.5` or `.500`, another offset) are the same event, not a conflict; the
 * stored bytes keep `eventTime` as the first attempt wrote it. docs/EVENTS.md §2.2.
 * @example idempotencyCanonical({ ...input, eventTime: '2026-01-01T01:00:00+01:00' }) // …"eventTime":"2026-01-01T00:00:00.000Z"…
 */
export function idempotencyCanonical(input: AuditEventInput): string {
  return canonicalString({ ...input, eventTime: normalizeTimestamp(input.eventTime) });
}

/** The stored form of a parsed input (its bytes and leaf hash), and the idempotency text of the input. */
export interface CanonicalParsedInput {
  /** Exactly `canonicalizeEvent(input, receivedAt, channel).bytes`. */
  readonly bytes: Uint8Array;
  readonly leafHash: Buffer;
  /** Exactly `idempotencyCanonical(input)`. */
  readonly inputCanonical: string;
}

const encoder = new TextEncoder();
const SERVER_MEMBERS = new Set(['v', 'receivedAt', 'channel']);

/**
 * The bytes and leaf hash of `canonicalizeEvent(input, receivedAt, channel)` together with
 * `idempotencyCanonical(input)`, from one canonicalization pass, for an `input` that `parseAuditEventInput`
 * returned (the ingest path, which needs both: the stored bytes, and the input's idempotency hash).
 *
 * Same bytes, hash and errors as those two calls:
 * - The input's members are canonicalized once; the stored form is the same members with `channel`,
 *   `receivedAt` and `v` spliced in at their RFC 8785 positions.
 * - The stored event is not validated a second time. `parseAuditEventInput` already applied every rule of
 *   the stored schema and of its guard (`assertSafeJson`, and the record-text check of a `cloudtrail`
 *   member) to the input's members, and adding three top-level members
 *   with valid values can only break the total-size bound. That bound is a lower bound of the canonical
 *   size, so an event within `MAX_EVENT_BYTES` once canonical passes it. Anything else (a `receivedAt` or
 *   `channel` the schema would refuse, an event over the size limit) goes through `canonicalizeEvent`
 *   itself, which throws exactly what it always threw.
 * - No stored event object is built: the ingest path only stores the bytes.
 */
export function canonicalizeParsedInput(
  input: AuditEventInput,
  receivedAt: string,
  channel: Channel,
): CanonicalParsedInput {
  const members = canonicalMembers(input);
  const server: CanonicalMember[] = [
    { name: 'channel', text: `"channel":${JSON.stringify(channel)}` },
    { name: 'receivedAt', text: `"receivedAt":${JSON.stringify(receivedAt)}` },
    { name: 'v', text: `"v":${EVENT_FORMAT_VERSION}` },
  ];
  // Both texts are built by concatenation, which V8 keeps as rope strings until they are hashed or encoded.
  let inputText = '';
  let storedText = '';
  let next = 0;
  for (const member of members) {
    const inputMember =
      member.name === 'eventTime'
        ? `"eventTime":${JSON.stringify(normalizeTimestamp(input.eventTime))}`
        : member.text;
    inputText += inputText === '' ? inputMember : `,${inputMember}`;
    if (SERVER_MEMBERS.has(member.name)) continue;
    while (next < server.length && server[next]!.name < member.name) {
      storedText += storedText === '' ? server[next++]!.text : `,${server[next++]!.text}`;
    }
    storedText += storedText === '' ? member.text : `,${member.text}`;
  }
  while (next < server.length)
    storedText += storedText === '' ? server[next++]!.text : `,${server[next++]!.text}`;
  const inputCanonical = `{${inputText}}`;
  if (!serverValuesValid(receivedAt, channel)) {
    return { ...fallback(input, receivedAt, channel), inputCanonical };
  }
  const bytes = encoder.encode(`{${storedText}}`);
  if (bytes.length > MAX_EVENT_BYTES) return { ...fallback(input, receivedAt, channel), inputCanonical };
  return { bytes, leafHash: hashLeaf(bytes), inputCanonical };
}

/** The last `receivedAt` found canonical: a batch's events all share one, so it is checked once per batch. */
let lastCanonicalReceivedAt: string | undefined;

/** True when the stored schema accepts these server members (`v` is always the current version). */
function serverValuesValid(receivedAt: string, channel: Channel): boolean {
  if (receivedAt !== lastCanonicalReceivedAt) {
    if (!isCanonicalTimestamp(receivedAt)) return false;
    lastCanonicalReceivedAt = receivedAt;
  }
  return EVENT_CHANNELS.includes(channel);
}

/** The general path, for values the fast path does not vouch for: it validates, and throws what it always threw. */
function fallback(
  input: AuditEventInput,
  receivedAt: string,
  channel: Channel,
): Omit<CanonicalEvent, 'event'> {
  const { bytes, leafHash } = canonicalizeEvent(input, receivedAt, channel);
  return { bytes, leafHash };
}

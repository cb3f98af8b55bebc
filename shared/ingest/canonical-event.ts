/**
 * From a validated event input to its stored form: server fields added, RFC 8785 bytes, leaf hash.
 * The bytes produced here are exactly what is stored, archived and hashed (docs/FORMAT.md §Events).
 */
import { hash } from 'node:crypto';
import {
  type CanonicalBounds,
  type CanonicalMember,
  type CanonicalWithMembers,
  canonicalBytes,
  canonicalMembers,
  canonicalString,
  canonicalStringWithMembers,
} from '../canonical/jcs.ts';
import {
  type AuditEvent,
  type AuditEventInput,
  EVENT_CHANNELS,
  EVENT_FORMAT_VERSION,
  isPlainAppEventInput,
  parseAuditEvent,
} from '../events/audit-event.ts';
import { EventValidationError } from '../events/errors.ts';
import { DEFAULT_JSON_LIMITS, FORBIDDEN_KEYS, MAX_EVENT_BYTES } from '../events/limits.ts';
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

/** What ingest keeps of an event: its stored bytes and leaf hash, and the input's idempotency hash. */
export interface IngestCanonical {
  /** Exactly `canonicalizeEvent(input, receivedAt, channel).bytes`. */
  readonly bytes: Uint8Array;
  readonly leafHash: Buffer;
  /** Hex SHA-256 of the UTF-8 of `idempotencyCanonical(input)`: the event's `inputSha256`. */
  readonly inputSha256: string;
  /** `normalizeTimestamp(input.eventTime)`: the time the ledger indexes the event by. */
  readonly eventTime: string;
}

/** The server members of the last (receivedAt, channel) pair asked for: a batch's events all share one. */
let lastServer: { receivedAt: string; channel: string; members: CanonicalMember[] } | undefined;

function serverMembers(receivedAt: string, channel: Channel): CanonicalMember[] {
  if (lastServer?.receivedAt !== receivedAt || lastServer.channel !== channel) {
    lastServer = {
      receivedAt,
      channel,
      members: [
        { name: 'channel', text: `"channel":${JSON.stringify(channel)}` },
        { name: 'receivedAt', text: `"receivedAt":${JSON.stringify(receivedAt)}` },
        { name: 'v', text: `"v":${EVENT_FORMAT_VERSION}` },
      ],
    };
  }
  return lastServer.members;
}

/**
 * What ingest needs of a parsed input, from one canonicalization pass: the stored form's bytes and leaf
 * hash (`canonicalizeEvent`), and the hex SHA-256 of the input's idempotency text (`idempotencyCanonical`).
 *
 * The stored text is written once, with the server members spliced in at their RFC 8785 places
 * (`canonicalStringWithMembers`). The idempotency text is the same members without the server ones, with
 * `eventTime` normalized; it is hashed from the stored bytes' ranges when the text is ASCII (then UTF-16
 * offsets are byte offsets), and from slices of the stored text otherwise, so it is never canonicalized a
 * second time. Same bytes, hashes and errors as `canonicalizeParsedInput`, which decides every case this
 * path does not vouch for (server values the stored schema refuses, an input that carries a server
 * member's name, a stored form over the size limit).
 */
export function canonicalizeForIngest(
  input: AuditEventInput,
  receivedAt: string,
  channel: Channel,
): IngestCanonical {
  if (!serverValuesValid(receivedAt, channel)) return general(input, receivedAt, channel);
  const stored = canonicalStringWithMembers(input, serverMembers(receivedAt, channel));
  if (stored === undefined) return general(input, receivedAt, channel);
  return fromStoredText(input, stored) ?? general(input, receivedAt, channel);
}

/** The stored form's bytes and hashes from its text, or undefined when it is over the size limit. */
function fromStoredText(input: AuditEventInput, stored: CanonicalWithMembers): IngestCanonical | undefined {
  const bytes = utf8(stored.text);
  if (bytes.length > MAX_EVENT_BYTES) return undefined;
  const eventTime = normalizeTimestamp(input.eventTime);
  return {
    bytes,
    leafHash: hashLeaf(bytes),
    inputSha256: idempotencyHash(input, stored, bytes, eventTime),
    eventTime,
  };
}

/**
 * The events guard's limits (`assertSafeJson` with `DEFAULT_JSON_LIMITS`, shared/events/json-guard.ts) as
 * bounds of the canonical writer: each is the guard's own, and the text bound is the guard's size bound,
 * of which the canonical text's length is an upper bound.
 */
const GUARD_BOUNDS: CanonicalBounds = Object.freeze({
  maxDepth: DEFAULT_JSON_LIMITS.maxDepth,
  maxStringLength: DEFAULT_JSON_LIMITS.maxStringLength,
  maxKeyLength: DEFAULT_JSON_LIMITS.maxKeyLength,
  maxObjectKeys: DEFAULT_JSON_LIMITS.maxObjectKeys,
  maxArrayLength: DEFAULT_JSON_LIMITS.maxArrayLength,
  maxTextLength: DEFAULT_JSON_LIMITS.maxTotalBytes,
  forbiddenKeys: FORBIDDEN_KEYS,
  safeIntegersOnly: true,
});

/**
 * Ingest's fast path for the common app event: the validation of `parseAuditEventInput` and the work of
 * `canonicalizeForIngest` in one walk over the event instead of two (the guard's, then the writer's).
 *
 * It answers only when it can vouch for the answer, and undefined otherwise: then the caller runs
 * `parseAuditEventInput` and `canonicalizeForIngest`, which report exactly what they always reported.
 * - `isPlainAppEventInput` first: the schema's rules on the event's known members, which look at no
 *   nested value they do not bound (`details` is left to the writer).
 * - Then the writer, held to the guard's limits (`GUARD_BOUNDS`): any value the guard would refuse is
 *   refused here too (a lone surrogate, a non-finite number or a non-JSON value by the writer itself), and
 *   any refusal, for whatever reason, is an undefined answer, never an error.
 * So an answer means `parseAuditEventInput(item)` returns `item` itself, and the answer is exactly what
 * `canonicalizeForIngest(item, receivedAt, channel)` returns. The property test
 * `test/unit/ingest/checked-app-event.test.ts` holds the two paths to each other.
 */
export function canonicalizeCheckedAppEvent(
  item: unknown,
  receivedAt: string,
  channel: Channel,
): { readonly input: AuditEventInput; readonly canonical: IngestCanonical } | undefined {
  try {
    if (!isPlainAppEventInput(item)) return undefined;
  } catch {
    // An in-process caller's getter or proxy threw: the general path meets it too, and reports it as it
    // always did (its guard may find another error first).
    return undefined;
  }
  const canonical = canonicalizeWithinGuard(item, receivedAt, channel);
  return canonical === undefined ? undefined : { input: item, canonical };
}

/**
 * The second half of `canonicalizeCheckedAppEvent`, for an item `isPlainAppEventInput` accepted: the
 * writer held to the guard's bounds. Undefined when anything is beyond them, or when the general path
 * must decide (server values, a member named like a server member, the size limit).
 */
export function canonicalizeWithinGuard(
  input: AuditEventInput,
  receivedAt: string,
  channel: Channel,
): IngestCanonical | undefined {
  if (!serverValuesValid(receivedAt, channel)) return undefined;
  let stored: CanonicalWithMembers | undefined;
  try {
    stored = canonicalStringWithMembers(input, serverMembers(receivedAt, channel), GUARD_BOUNDS);
  } catch {
    // Whatever stopped the walk (a bound, a value the writer refuses, or an in-process caller's getter or
    // proxy that threw), the general path decides, and reports exactly what it always reported.
    return undefined;
  }
  return stored === undefined ? undefined : fromStoredText(input, stored);
}

/** Stored texts are encoded into slabs of this size, shared by the events of a batch. */
const SLAB_SIZE = 256 * 1024;
/** A text that may need more than this many bytes gets a Buffer of its own. */
const SLAB_TEXT_MAX = SLAB_SIZE / 8;
let slab = Buffer.alloc(SLAB_SIZE);
let slabUsed = 0;

/**
 * UTF-8 bytes of a stored text, as a view of a shared, zero-filled slab: a batch's events share a few
 * 256 KiB ArrayBuffers instead of taking one of Node's 8 KiB pool slabs every few events (each a backing
 * store for the garbage collector to track and free). Bytes handed out are never written again: each event
 * gets the next unused range, and a full slab is replaced, not reused. A text that could need over 32 KiB
 * gets a Buffer of its own.
 */
function utf8(text: string): Uint8Array {
  const most = text.length * 3;
  if (most > SLAB_TEXT_MAX) return Buffer.from(text, 'utf8');
  if (slabUsed + most > SLAB_SIZE) {
    slab = Buffer.alloc(SLAB_SIZE);
    slabUsed = 0;
  }
  const written = slab.write(text, slabUsed, 'utf8');
  const bytes = slab.subarray(slabUsed, slabUsed + written);
  slabUsed += written;
  return bytes;
}

/** `canonicalizeParsedInput`, with the idempotency text hashed. */
function general(input: AuditEventInput, receivedAt: string, channel: Channel): IngestCanonical {
  const { bytes, leafHash, inputCanonical } = canonicalizeParsedInput(input, receivedAt, channel);
  return {
    bytes,
    leafHash,
    inputSha256: hash('sha256', inputCanonical, 'hex'),
    eventTime: normalizeTimestamp(input.eventTime),
  };
}

/** Where the idempotency text of an ASCII event is assembled from its stored bytes: events up to 64 KiB. */
const idempotencyScratch = Buffer.alloc(64 * 1024);
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const COMMA = 0x2c;

/**
 * Hex SHA-256 of `idempotencyCanonical(input)`, from the stored text of `input` (its members and the
 * server members, `canonicalStringWithMembers`) and that text's UTF-8 bytes: the members but the server
 * ones, in the same order, with `eventTime` normalized. The members between two server members are one
 * run of the stored text, so it takes a few copies, not one per member.
 */
function idempotencyHash(
  input: AuditEventInput,
  stored: CanonicalWithMembers,
  bytes: Uint8Array,
  eventTime: string,
): string {
  const { text, names, starts } = stored;
  // `eventTime` is the normalized time: the stored text keeps the time as sent, which it replaces if it differs.
  const eventTimeMember =
    eventTime === input.eventTime ? undefined : `"eventTime":${JSON.stringify(eventTime)}`;
  // Runs of the stored text to keep, as [from, to) pairs, and the normalized eventTime member where it goes.
  const runs: number[] = [];
  let runStart = -1;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const replaced = name === 'eventTime' && eventTimeMember !== undefined;
    if (SERVER_MEMBERS.has(name) || replaced) {
      if (runStart >= 0) runs.push(runStart, starts[i]! - 1);
      runStart = -1;
      if (replaced) runs.push(-1, -1);
      continue;
    }
    if (runStart < 0) runStart = starts[i]!;
  }
  if (runStart >= 0) runs.push(runStart, text.length - 1);
  // The idempotency text is shorter than the stored one: it lacks the server members (over 50 bytes), and
  // a normalized eventTime is at most 4 bytes longer than any accepted one.
  if (bytes.length === text.length && bytes.length <= idempotencyScratch.length) {
    const from = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    const scratch = idempotencyScratch;
    let n = 0;
    scratch[n++] = OPEN_BRACE;
    for (let r = 0; r < runs.length; r += 2) {
      if (n > 1) scratch[n++] = COMMA;
      n +=
        runs[r]! < 0
          ? scratch.write(eventTimeMember!, n, 'latin1')
          : from.copy(scratch, n, runs[r]!, runs[r + 1]!);
    }
    scratch[n++] = CLOSE_BRACE;
    return hash('sha256', scratch.subarray(0, n), 'hex');
  }
  let inputText = '{';
  for (let r = 0; r < runs.length; r += 2) {
    if (inputText.length > 1) inputText += ',';
    inputText += runs[r]! < 0 ? eventTimeMember! : text.slice(runs[r]!, runs[r + 1]!);
  }
  return hash('sha256', `${inputText}}`, 'hex');
}

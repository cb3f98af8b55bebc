/**
 * Size limits for audit events. They bound the work and memory that one hostile request can cost, and
 * they are far above what real CloudTrail records need (measured maxima are in docs/EVENTS.md).
 */
import type { JsonTextLimits } from './json-text.ts';

/**
 * Largest RFC 8785 canonical size, in bytes, of one stored event (server fields included): 384 KiB.
 * It leaves room for a 256 KB EventBridge event's record once it is escaped as a JSON string, and the
 * event's DynamoDB item (body plus at most ~9 KB of key and index attributes) stays under the 400 KB
 * item limit. The budget is in docs/EVENTS.md §3.
 */
export const MAX_EVENT_BYTES = 393_216;

/** Bounds enforced by `assertSafeJson` on any parsed JSON before schema validation. */
export interface JsonLimits {
  /** Deepest container nesting; the root container is at depth 1. */
  readonly maxDepth: number;
  /** Longest string value, in UTF-16 code units. */
  readonly maxStringLength: number;
  /** Most members in one object. */
  readonly maxObjectKeys: number;
  /** Most elements in one array. */
  readonly maxArrayLength: number;
  /** Longest object member name, in UTF-16 code units. */
  readonly maxKeyLength: number;
  /**
   * Largest serialized size, checked against a lower bound of the canonical UTF-8 size (exact for ASCII
   * text without escapes). It also caps the walk itself, so shared references cannot multiply the work.
   */
  readonly maxTotalBytes: number;
}

/** Limits applied to one audit event (the verbatim CloudTrail record text has its own, below). */
export const DEFAULT_JSON_LIMITS: JsonLimits = Object.freeze({
  maxDepth: 32,
  maxStringLength: 32_768,
  maxObjectKeys: 256,
  maxArrayLength: 1_000,
  maxKeyLength: 256,
  maxTotalBytes: MAX_EVENT_BYTES,
});

/**
 * Deepest nesting of a CloudTrail record: EventBridge's own limit on an event's `detail` ("PutEvents will
 * only process nested JSON up to 1100 levels deep"), so every record EventBridge can deliver fits.
 */
export const MAX_RECORD_DEPTH = 1_100;

/**
 * Bounds on the text of one CloudTrail record. A longer text could not fit in a stored event (a UTF-16
 * code unit is at least one UTF-8 byte), so it is refused before it is parsed.
 */
export const RECORD_TEXT_LIMITS: JsonTextLimits = Object.freeze({
  maxLength: MAX_EVENT_BYTES,
  maxDepth: MAX_RECORD_DEPTH,
});

/**
 * Bounds on the text of an EventBridge envelope, or of one line of a `seal --in` file: 1 MiB (SQS's
 * largest message), and one level more than a record, for the envelope around `detail`.
 */
export const SOURCE_TEXT_LIMITS: JsonTextLimits = Object.freeze({
  maxLength: 1_048_576,
  maxDepth: MAX_RECORD_DEPTH + 1,
});

/** Member names rejected anywhere in an app event: they are prototype-pollution vectors in JavaScript consumers. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

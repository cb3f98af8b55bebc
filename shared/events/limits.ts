/**
 * Size limits for audit events. They bound the work and memory that one hostile request can cost, and
 * they are far above what real CloudTrail records need (measured maxima are in docs/EVENTS.md).
 */

/** Largest RFC 8785 canonical size, in bytes, of one stored event (server fields included). */
export const MAX_EVENT_BYTES = 262_144;

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

/** Limits applied to one audit event, including its embedded CloudTrail record. */
export const DEFAULT_JSON_LIMITS: JsonLimits = Object.freeze({
  maxDepth: 32,
  maxStringLength: 32_768,
  maxObjectKeys: 256,
  maxArrayLength: 1_000,
  maxKeyLength: 256,
  maxTotalBytes: MAX_EVENT_BYTES,
});

/** Member names rejected anywhere in an event: they are prototype-pollution vectors in JavaScript consumers. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Error codes for audit events that are rejected; each one maps to a 4xx with `{ code, message }`. */
export type EventErrorCode =
  | 'INVALID_JSON'
  | 'INVALID_JSON_VALUE'
  | 'NON_FINITE_NUMBER'
  | 'UNSAFE_INTEGER'
  | 'LONE_SURROGATE'
  | 'FORBIDDEN_KEY'
  | 'TOO_DEEP'
  | 'STRING_TOO_LONG'
  | 'KEY_TOO_LONG'
  | 'TOO_MANY_KEYS'
  | 'ARRAY_TOO_LONG'
  | 'TOO_LARGE'
  | 'INVALID_TIMESTAMP'
  | 'SCHEMA_VIOLATION'
  | 'UNSUPPORTED_RECORD';

/**
 * Why a CloudTrail record or EventBridge envelope was not turned into an audit event. When a record has
 * several faults, the first one in this order is reported.
 */
export type CloudTrailRejectReason =
  | 'INVALID_JSON'
  | 'NOT_A_RECORD'
  | 'UNSAFE_JSON'
  | 'BAD_ENVELOPE'
  | 'UNSUPPORTED_DETAIL_TYPE'
  | 'MISSING_EVENT_ID'
  | 'BAD_EVENT_ID'
  | 'MISSING_EVENT_TIME'
  | 'BAD_EVENT_TIME'
  | 'MISSING_EVENT_SOURCE'
  | 'BAD_EVENT_SOURCE'
  | 'MISSING_EVENT_NAME'
  | 'BAD_EVENT_NAME'
  | 'MISSING_USER_IDENTITY'
  | 'BAD_USER_IDENTITY';

/**
 * Raised when input is not an acceptable audit event. `path` is a JSON path into the input (`$.actor.id`);
 * messages never echo input values.
 */
export class EventValidationError extends Error {
  override readonly name: string = 'EventValidationError';
  constructor(
    readonly code: EventErrorCode,
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${message} at ${path}`, options);
  }
}

/** Raised when a CloudTrail record or its EventBridge envelope cannot be mapped; `reason` says why. */
export class CloudTrailMappingError extends EventValidationError {
  override readonly name: string = 'CloudTrailMappingError';
  constructor(
    readonly reason: CloudTrailRejectReason,
    path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('UNSUPPORTED_RECORD', path, message, options);
  }
}

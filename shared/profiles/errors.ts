/**
 * Errors of the resource-profile core. Each one has a code from a closed union, so a handler can map it
 * to a 4xx `{code, message}`; messages never echo input values.
 */
import type { EventErrorCode } from '../events/errors.ts';

/** Why a profile (or a version document) was refused. The JSON guard codes are those of events. */
export type ProfileValidationCode = Exclude<EventErrorCode, 'UNSUPPORTED_RECORD'>;

/** Why an AWS Config event could not become a profile version at all. */
export const CONFIG_REJECT_REASONS = [
  'INVALID_JSON',
  'NOT_AN_EVENT',
  'BAD_ENVELOPE',
  'UNSUPPORTED_DETAIL_TYPE',
  'UNSUPPORTED_MESSAGE_TYPE',
  'MISSING_CONFIGURATION_ITEM',
  'MISSING_RESOURCE_TYPE',
  'MISSING_RESOURCE_ID',
  'BAD_CAPTURE_TIME',
  'BAD_STATUS',
  'INVALID_ITEM',
] as const;
export type ConfigRejectReason = (typeof CONFIG_REJECT_REASONS)[number];

export type ProfileErrorCode =
  | 'PROFILE_INVALID'
  | 'CONFIG_ITEM_REJECTED'
  | 'CURSOR_INVALID'
  | 'VERSION_DOCUMENT_INVALID';

/** Base class of profile errors. */
export class ProfileError extends Error {
  override readonly name: string = 'ProfileError';
  constructor(
    readonly code: ProfileErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A profile does not satisfy the schema or the bounds. `path` is a JSON path into the input. */
export class ProfileValidationError extends ProfileError {
  override readonly name = 'ProfileValidationError';
  constructor(
    readonly reason: ProfileValidationCode,
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('PROFILE_INVALID', `${message} at ${path}`, options);
  }
}

/** An AWS Config event that cannot be mapped; `reason` says why. */
export class ConfigMappingError extends ProfileError {
  override readonly name = 'ConfigMappingError';
  constructor(
    readonly reason: ConfigRejectReason,
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('CONFIG_ITEM_REJECTED', `${message} at ${path}`, options);
  }
}

/** A timeline cursor that does not decode to a position. */
export class ProfileCursorError extends ProfileError {
  override readonly name = 'ProfileCursorError';
  constructor(message: string) {
    super('CURSOR_INVALID', message);
  }
}

/** Bytes that are not a canonical, schema-valid version document. */
export class VersionDocumentError extends ProfileError {
  override readonly name = 'VersionDocumentError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('VERSION_DOCUMENT_INVALID', message, options);
  }
}

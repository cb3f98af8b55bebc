/**
 * The verbatim CloudTrail record an event carries: the record's own JSON text, kept as the string
 * member `cloudtrail` (docs/EVENTS.md §5, docs/FORMAT.md §1). Keeping the text, not a parsed copy, is
 * what keeps every number exactly as CloudTrail wrote it while the event's bytes stay RFC 8785 JCS.
 */
import { EventValidationError } from './errors.ts';
import { isPlainObject } from './json-guard.ts';
import { parseJsonText } from './json-text.ts';
import { RECORD_TEXT_LIMITS } from './limits.ts';

/**
 * Parses the text of a CloudTrail record, losslessly (numbers are `LosslessNumber`s). It must be the
 * JSON text of an object within `RECORD_TEXT_LIMITS`. Throws `EventValidationError` at `path`.
 */
export function parseRecordText(text: string, path: string): Record<string, unknown> {
  const value = parseJsonText(text, RECORD_TEXT_LIMITS, path);
  if (!isPlainObject(value)) {
    throw new EventValidationError('SCHEMA_VIOLATION', path, 'must be the JSON text of an object');
  }
  return value;
}

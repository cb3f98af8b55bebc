/**
 * Checks events before the first request, with the server's own validation code (shared/events and
 * shared/ingest), so that input the API would refuse is refused before any batch is stored: a refused
 * batch in the middle of a split post would leave the batches before it stored.
 */
import { parseAuditEventInput } from '../shared/events/audit-event.ts';
import { CLOUDTRAIL_ID_PREFIX } from '../shared/events/cloudtrail.ts';
import { EventValidationError } from '../shared/events/errors.ts';
import { canonicalizeParsedInput } from '../shared/ingest/canonical-event.ts';
import { AuditsealInputError, type InputProblem } from './errors.ts';

/** Any `receivedAt`: all have the same length, so the canonical size it gives is the real one. */
const SAMPLE_RECEIVED_AT = '2000-01-01T00:00:00.000Z';
/** At most this many problems are listed; the count is always exact. */
const MAX_LISTED = 100;

/** Throws `AuditsealInputError` listing every item the API would refuse; returns the event ids. */
export function validateEvents(events: readonly unknown[]): string[] {
  if (events.length === 0) throw new AuditsealInputError('EMPTY_INPUT', 'no events to post');
  const problems: InputProblem[] = [];
  let count = 0;
  const add = (problem: InputProblem) => {
    count++;
    if (problems.length < MAX_LISTED) problems.push(problem);
  };
  const firstIndexById = new Map<string, number>();
  const ids: string[] = [];
  events.forEach((item, index) => {
    try {
      const input = parseAuditEventInput(item);
      ids.push(input.id);
      if (input.id.startsWith(CLOUDTRAIL_ID_PREFIX)) {
        add({
          index,
          code: 'RESERVED_ID',
          path: '$.id',
          message: `ids starting with "${CLOUDTRAIL_ID_PREFIX}" are reserved for CloudTrail events`,
        });
        return;
      }
      const earlier = firstIndexById.get(input.id);
      if (earlier !== undefined) {
        add({ index, code: 'DUPLICATE_ID', path: '$.id', message: `id is also used by item ${earlier}` });
        return;
      }
      firstIndexById.set(input.id, index);
      canonicalizeParsedInput(input, SAMPLE_RECEIVED_AT, 'api');
    } catch (error) {
      if (!(error instanceof EventValidationError)) throw error;
      add({ index, code: error.code, path: error.path, message: error.message });
    }
  });
  if (count > 0) {
    const first = problems[0]!;
    throw new AuditsealInputError(
      'INVALID_EVENTS',
      `${count} of ${events.length} event(s) would be refused; nothing was sent. First: item ${first.index}: ${first.code}: ${first.message}`,
      problems,
    );
  }
  return ids;
}

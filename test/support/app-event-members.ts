/**
 * The members an app event (`POST /v1/events`) and its objects allow, read from the schema itself
 * (`auditEventInputSchema`, shared/events/audit-event.ts), so that they cannot drift from it: the
 * generated bad-input tests draw "unknown" members outside these (test/integration/bad-input.test.ts,
 * test/unit/functions/ingest-events.fuzz.test.ts).
 */
import { auditEventInputSchema } from '../../shared/events/audit-event.ts';

const members = (shape: object): ReadonlySet<string> => new Set(Object.keys(shape));
const event = auditEventInputSchema.shape;

export const APP_EVENT_MEMBERS = {
  event: members(event),
  actor: members(event.actor.shape),
  resource: members(event.resource.unwrap().shape),
  outcome: members(event.outcome.shape),
} as const satisfies Record<string, ReadonlySet<string>>;

/**
 * The event members the fast acceptance check (`isPlainAppEventInput`) handles: all but the verbatim
 * source records and the profile version document, which always take the schema.
 */
export const FAST_PATH_MEMBERS: ReadonlySet<string> = new Set(
  [...APP_EVENT_MEMBERS.event].filter((m) => !['cloudtrail', 'kubernetes', 'profileVersion'].includes(m)),
);

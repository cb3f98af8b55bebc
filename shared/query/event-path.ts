/**
 * Event ids in API paths (docs/API.md, "Event ids in paths"). Ids may hold `/` and `:` (ARNs), and a REST
 * API does not route an encoded slash (`%2F`) inside one path segment, so the `{id}` segment is the id
 * encoded twice: the gateway decodes one layer, the handler the other. Ids never contain `%`, so a `%`
 * left in the parameter is always an encoding layer, and an id encoded once still works when it has no `/`.
 */
import { eventIdSchema } from '../ledger/formats.ts';

/**
 * The path of an event route.
 * @example eventPath('arn:aws:s3:::b/k') // '/v1/events/arn%253Aaws%253As3%253A%253A%253Ab%252Fk'
 */
export function eventPath(id: string, suffix: '' | '/proof' = ''): string {
  return `/v1/events/${encodeURIComponent(encodeURIComponent(id))}${suffix}`;
}

/** The event id of an `{id}` path parameter as the gateway passes it, or undefined if it is not one. */
export function eventIdFromParameter(raw: string): string | undefined {
  if (raw === '' || raw.length > 1024) return undefined;
  let id = raw;
  if (id.includes('%')) {
    try {
      id = decodeURIComponent(id);
    } catch {
      return undefined;
    }
  }
  return eventIdSchema.safeParse(id).success ? id : undefined;
}

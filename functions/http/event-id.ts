/**
 * The `{id}` path parameter of `/v1/events/{id}` and `/v1/events/{id}/proof`. Event ids may hold `/` and
 * `:` (ARNs), and a REST API does not route an encoded slash (`%2F`) inside one path segment, so clients
 * encode the id twice (`encodeURIComponent(encodeURIComponent(id))`, docs/API.md "Event ids in paths"):
 * the gateway decodes one layer and the handler the other. Ids never contain `%`, so a `%` left in the
 * parameter is always an encoding layer, and an id encoded only once still works when it has no `/`.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { eventIdSchema } from '../../shared/ledger/formats.ts';
import { HttpError } from './errors.ts';

/** The decoded event id of the request's `{id}`; 400 INVALID_PATH for anything that is not an event id. */
export function eventIdParameter(event: APIGatewayProxyEvent): string {
  const raw = event.pathParameters?.['id'];
  const invalid = () => new HttpError(400, 'INVALID_PATH', 'path parameter id is not an event id');
  if (typeof raw !== 'string' || raw === '' || raw.length > 1024) throw invalid();
  let id = raw;
  if (id.includes('%')) {
    try {
      id = decodeURIComponent(id);
    } catch {
      throw invalid();
    }
  }
  if (!eventIdSchema.safeParse(id).success) throw invalid();
  return id;
}

/** The path of an event route for an id, encoded as the API expects it (twice). */
export function eventPath(id: string, suffix: '' | '/proof' = ''): string {
  return `/v1/events/${encodeURIComponent(encodeURIComponent(id))}${suffix}`;
}

/** The `{id}` path parameter of `/v1/events/{id}` and `/v1/events/{id}/proof` (shared/query/event-path.ts). */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { eventIdFromParameter } from '../../shared/query/event-path.ts';
import { HttpError } from './errors.ts';

/** The decoded event id of the request's `{id}`; 400 INVALID_PATH for anything that is not an event id. */
export function eventIdParameter(event: APIGatewayProxyEvent): string {
  const raw = event.pathParameters?.['id'];
  const id = typeof raw === 'string' ? eventIdFromParameter(raw) : undefined;
  if (id === undefined) throw new HttpError(400, 'INVALID_PATH', 'path parameter id is not an event id');
  return id;
}

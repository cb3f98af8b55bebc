import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { z } from 'zod';
import { HttpError } from './errors.ts';

/** Parses the query string with a strict schema; any problem is a 400 INVALID_QUERY naming the parameter. */
export function parseQuery<T extends z.ZodType>(event: APIGatewayProxyEvent, schema: T): z.output<T> {
  const multi = event.multiValueQueryStringParameters ?? {};
  for (const [name, values] of Object.entries(multi)) {
    if ((values?.length ?? 0) > 1) throw new HttpError(400, 'INVALID_QUERY', `parameter ${name} is repeated`);
  }
  const raw = Object.assign(Object.create(null), event.queryStringParameters ?? {});
  const result = schema.safeParse({ ...raw });
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const name = issue.code === 'unrecognized_keys' ? issue.keys[0] : issue.path.join('.');
  throw new HttpError(400, 'INVALID_QUERY', `invalid query parameter ${String(name ?? '')}`.trim());
}

/** A path parameter that must match a pattern; otherwise 400 INVALID_PATH. */
export function pathParameter(event: APIGatewayProxyEvent, name: string, pattern: RegExp): string {
  const value = event.pathParameters?.[name];
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new HttpError(400, 'INVALID_PATH', `path parameter ${name} is not valid`);
  }
  return value;
}

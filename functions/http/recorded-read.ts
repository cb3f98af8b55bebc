/**
 * Audited reads (G7): wraps a read route so that its successful answer is recorded in the ledger before
 * it is sent. The record goes to the read journal (an SQS queue on AWS, docs/API.md "Audited reads"),
 * which guarantees it is ingested, signed and sealed later, in batches. If the journal cannot take the
 * record, the caller gets 503 READ_NOT_RECORDED and no data: no read goes unrecorded.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { QueryError } from '../../shared/query/errors.ts';
import { isReadRequestId, type ReadJournal, type ReadRecord } from '../../shared/query/read-record.ts';
import type { HandlerLogger } from './error-response.ts';
import { describeError } from './error-response.ts';
import { HttpError } from './errors.ts';

/** What a read route returns: its answer, and what the read record says about it. */
export interface ReadAnswer {
  readonly response: APIGatewayProxyResult;
  readonly resultCount: number;
  readonly target?: ReadRecord['target'];
  /** Default: the request's query parameters. */
  readonly parameters?: Readonly<Record<string, string>>;
}

/** The read route's identity in the record: `GET /v1/events/{id}` and `auditseal:GetEvent`. */
export interface ReadRoute {
  readonly route: string;
  readonly action: string;
}

/** The caller's IAM principal; the API uses IAM auth, so a request without one is refused. */
export function principalOf(event: APIGatewayProxyEvent): string {
  const arn: unknown = event.requestContext?.identity?.userArn;
  if (typeof arn !== 'string' || arn === '' || arn.length > 512) {
    throw new HttpError(403, 'MISSING_PRINCIPAL', 'request has no IAM principal');
  }
  return arn;
}

/**
 * Runs `answer` and records the read if it succeeded. Errors thrown by `answer` pass through untouched
 * (a refused read is not a read).
 */
export async function recordedRead(
  route: ReadRoute,
  event: APIGatewayProxyEvent,
  context: Context | undefined,
  deps: { readonly journal: ReadJournal; readonly now: () => Date; readonly logger: HandlerLogger },
  answer: () => Promise<ReadAnswer>,
): Promise<APIGatewayProxyResult> {
  const principal = principalOf(event);
  const at = deps.now().toISOString();
  const result = await answer();
  if (result.response.statusCode < 200 || result.response.statusCode > 299) return result.response;
  const fromGateway = event.requestContext?.requestId;
  const requestId =
    typeof fromGateway === 'string' && isReadRequestId(fromGateway)
      ? fromGateway
      : (context?.awsRequestId ?? '');
  if (!isReadRequestId(requestId)) throw new Error('the request has no usable request id');
  const parameters = result.parameters ?? { ...(event.queryStringParameters ?? {}) };
  const record: ReadRecord = {
    requestId,
    principal,
    route: route.route,
    action: route.action,
    at,
    resultCount: result.resultCount,
    ...(Object.keys(parameters).length > 0 ? { parameters: parameters as Record<string, string> } : {}),
    ...(result.target === undefined ? {} : { target: result.target }),
  };
  try {
    await deps.journal.record(record);
  } catch (cause) {
    deps.logger.error('read not recorded', describeError(cause));
    throw new QueryError(
      'READ_NOT_RECORDED',
      'the read could not be recorded in the ledger, so it is not answered; retry',
      {},
      { cause },
    );
  }
  return result.response;
}

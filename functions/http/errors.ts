/**
 * Deliberate 4xx answers of the HTTP layer (before any business logic runs). Like `IngestError`, each
 * has a status and a stable code; messages never echo the request.
 */

/** Closed set of HTTP-layer error codes (docs/API.md). */
export type HttpErrorCode =
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'PAYLOAD_TOO_LARGE'
  | 'INVALID_JSON'
  | 'INVALID_BODY'
  | 'MISSING_PRINCIPAL'
  | 'INVALID_QUERY'
  | 'INVALID_PATH'
  | 'NOT_FOUND';

/** A request refused by the HTTP layer; becomes `{ code, message }` with `status`. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: HttpErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  toBody(): Record<string, unknown> {
    return { code: this.code, message: this.message };
  }
}

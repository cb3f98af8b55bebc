/**
 * Errors the local gateway answers itself, before or instead of a handler, as JSON `{ code, message }`.
 * The codes follow API Gateway's own rejections (MissingAuthenticationToken, IncompleteSignature,
 * InvalidSignature, UnrecognizedClient, SignatureExpired, AccessDenied…).
 */

/** Every code the gateway itself can answer with. */
export type GatewayErrorCode =
  | 'BAD_REQUEST'
  | 'MISSING_AUTHENTICATION'
  | 'INCOMPLETE_SIGNATURE'
  | 'INVALID_SIGNATURE'
  | 'UNRECOGNIZED_CLIENT'
  | 'SIGNATURE_EXPIRED'
  | 'ACCESS_DENIED'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'REQUEST_TIMEOUT'
  | 'PAYLOAD_TOO_LARGE'
  | 'URI_TOO_LONG'
  | 'HEADERS_TOO_LARGE'
  | 'INTERNAL'
  | 'INTEGRATION_TIMEOUT';

const STATUS: Record<GatewayErrorCode, number> = {
  BAD_REQUEST: 400,
  MISSING_AUTHENTICATION: 403,
  INCOMPLETE_SIGNATURE: 403,
  INVALID_SIGNATURE: 403,
  UNRECOGNIZED_CLIENT: 403,
  SIGNATURE_EXPIRED: 403,
  ACCESS_DENIED: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  PAYLOAD_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  HEADERS_TOO_LARGE: 431,
  INTERNAL: 500,
  INTEGRATION_TIMEOUT: 504,
};

/** A deliberate gateway answer: its message is safe to show the caller. */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  readonly status: number;

  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    options?: { cause?: unknown; headers?: Readonly<Record<string, string>> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = STATUS[code];
    this.headers = options?.headers ?? {};
  }

  /** Extra response headers, such as `Allow` on a 405. */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * `AuditsealClient`: posts audit events to an auditseal API and keeps the receipts verifiable.
 *
 * @example
 * const client = new AuditsealClient({ endpoint: 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod' });
 * const { receipts } = await client.postEvents(events);   // split at 500 events / 5 MiB, retried with the same ids
 * client.verifyReceipts(receipts);                          // needs `trustedKeys`
 */
import type { Receipt } from '../shared/ledger/formats.ts';
import { API_LIMITS, type BatchLimits, type EventBatch, splitIntoBatches } from './batches.ts';
import {
  AuditsealApiError,
  AuditsealConfigError,
  type AuditsealError,
  AuditsealInputError,
  AuditsealNetworkError,
  AuditsealPostError,
  AuditsealReceiptError,
  AuditsealResponseError,
  isRetryableStatus,
} from './errors.ts';
import { type PinnedKeys, pinnedKeySet, type ReceiptCheck, verifyReceipt } from './receipts.ts';
import {
  type AlarmList,
  alarmListSchema,
  type DigestDescription,
  type DigestList,
  digestDescriptionSchema,
  digestListSchema,
  type KeyList,
  keyListSchema,
  type PostEventsResult,
  postEventsResponseSchema,
} from './responses.ts';
import { backoffDelayMs, parseRetryAfter, type RetryPolicy, retryPolicy } from './retry.ts';
import { type ApiRequest, type CredentialsSource, type Query, RequestSigner } from './signing.ts';
import {
  defaultCredentials,
  LOCAL_STACK_FILE,
  localStackTarget,
  type Role,
  regionOfEndpoint,
} from './targets.ts';
import { validateEvents } from './validate-events.ts';

export interface AuditsealClientOptions {
  /** The API's base URL, stage included: `https://<api-id>.execute-api.<region>.amazonaws.com/prod`. */
  readonly endpoint: string;
  /** Signing region; defaults to the region in an `execute-api` host name. */
  readonly region?: string;
  /** Credentials or a provider; defaults to the standard AWS credential chain. */
  readonly credentials?: CredentialsSource;
  /** Profile for the default credential chain. */
  readonly profile?: string;
  /** Public keys the receipts must verify against (PEM). Trust them from outside the API. */
  readonly trustedKeys?: PinnedKeys;
  readonly retry?: Partial<RetryPolicy>;
  /** Time limit of one attempt, answer included. Default 30 s. */
  readonly timeoutMs?: number;
  /** Largest answer read. Default 64 MiB. */
  readonly maxResponseBytes?: number;
  /** Called before each retry, e.g. to log it. */
  readonly onRetry?: (info: RetryInfo) => void;
  /** For tests: the fetch implementation, the sleep and the jitter source. */
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

export interface RetryInfo {
  readonly request: string;
  /** The attempt that failed, from 1. */
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: AuditsealApiError | AuditsealNetworkError;
}

export interface PostEventsOptions {
  /** Verify every receipt against `trustedKeys`; default: true when the client has trusted keys. */
  readonly verifyReceipts?: boolean;
  /** Check every event with the server's validation before the first request (default true). */
  readonly validate?: boolean;
  /** Called after each stored batch, in order. */
  readonly onBatch?: (progress: BatchProgress) => void | Promise<void>;
  /** Smaller limits than the API's (never larger). */
  readonly limits?: Partial<BatchLimits>;
}

export interface BatchProgress {
  /** Index of this batch, from 0. */
  readonly batch: number;
  readonly batches: number;
  /** Events confirmed so far, this batch included, and in all. */
  readonly done: number;
  readonly total: number;
  /** This batch's receipts, in input order. */
  readonly receipts: readonly Receipt[];
  readonly stored: readonly string[];
  readonly duplicates: readonly string[];
}

/** A signed request of the generic `request` method. */
export interface RequestOptions {
  readonly method?: ApiRequest['method'];
  /** Path below the endpoint, segments URL-encoded (use `pathOf`). */
  readonly path: string;
  readonly query?: Query;
  /** Serialized as JSON. */
  readonly body?: unknown;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** Builds a request path from raw segments: `pathOf('v1', 'digests', id)` → `/v1/digests/<id encoded>`. */
export function pathOf(...segments: string[]): string {
  return `/${segments.map((s) => encodeURIComponent(s)).join('/')}`;
}

/** A client of one auditseal API. Create it once and reuse it. */
export class AuditsealClient {
  readonly endpoint: string;
  readonly region: string;
  readonly #signer: RequestSigner;
  readonly #retry: RetryPolicy;
  readonly #timeoutMs: number;
  readonly #maxResponseBytes: number;
  readonly #keys: ReturnType<typeof pinnedKeySet> | undefined;
  readonly #fetch: typeof fetch;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  readonly #onRetry: ((info: RetryInfo) => void) | undefined;

  constructor(options: AuditsealClientOptions) {
    let url: URL;
    try {
      url = new URL(options.endpoint);
    } catch {
      throw new AuditsealConfigError(`endpoint is not a URL: ${JSON.stringify(options.endpoint)}`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new AuditsealConfigError(`endpoint must be http(s): ${options.endpoint}`);
    }
    if (url.search || url.hash || url.username || url.password) {
      throw new AuditsealConfigError('endpoint must not carry a query, a fragment or user info');
    }
    const region = options.region ?? regionOfEndpoint(options.endpoint);
    if (!region) {
      throw new AuditsealConfigError(
        `no region: pass region (it cannot be read from the endpoint ${url.host})`,
      );
    }
    this.endpoint = options.endpoint;
    this.region = region;
    this.#signer = new RequestSigner(
      options.endpoint,
      region,
      options.credentials ?? defaultCredentials(options.profile),
    );
    this.#retry = retryPolicy(options.retry);
    this.#timeoutMs = positive(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 'timeoutMs');
    this.#maxResponseBytes = positive(
      options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      'maxResponseBytes',
    );
    this.#keys = options.trustedKeys === undefined ? undefined : pinnedKeySet(options.trustedKeys);
    this.#fetch = options.fetch ?? fetch;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#random = options.random ?? Math.random;
    this.#onRetry = options.onRetry;
  }

  /**
   * A client for the local stack (`npm start`), signing as one of its roles with the keys in
   * `.auditseal/local.json`.
   */
  static async fromLocalStack(
    options: { role: Role; file?: string } & Omit<
      AuditsealClientOptions,
      'endpoint' | 'region' | 'credentials'
    >,
  ): Promise<AuditsealClient> {
    const { role, file, ...rest } = options;
    const target = await localStackTarget(role, file ?? LOCAL_STACK_FILE);
    return new AuditsealClient({ ...rest, ...target });
  }

  /**
   * Posts events (`POST /v1/events`, writer role) and returns one receipt per event, in input order.
   * Requests are split at the API's limits and sent one after another; throttling, 5xx answers and
   * network errors are retried with the same body, which is safe because an event id is an idempotency
   * key. Throws `AuditsealInputError` before sending anything for input the API would refuse, and
   * `AuditsealPostError` (with the receipts of the batches already stored) when a request fails for good.
   */
  async postEvents(events: readonly unknown[], options: PostEventsOptions = {}): Promise<PostEventsResult> {
    if (!Array.isArray(events)) throw new AuditsealInputError('INVALID_EVENTS', 'events must be an array');
    const verify = options.verifyReceipts ?? this.#keys !== undefined;
    if (verify && !this.#keys) {
      throw new AuditsealConfigError(
        'verifyReceipts needs trustedKeys (the public keys receipts must verify against)',
      );
    }
    if (options.validate !== false) validateEvents(events);
    else if (events.length === 0) throw new AuditsealInputError('EMPTY_INPUT', 'no events to post');
    const limits: BatchLimits = {
      maxEvents: Math.min(options.limits?.maxEvents ?? API_LIMITS.maxEvents, API_LIMITS.maxEvents),
      maxBytes: Math.min(options.limits?.maxBytes ?? API_LIMITS.maxBytes, API_LIMITS.maxBytes),
    };
    let batches: EventBatch[];
    try {
      batches = splitIntoBatches(events, limits);
    } catch (error) {
      if (error instanceof RangeError)
        throw new AuditsealInputError('INVALID_EVENTS', `${error.message}; nothing was sent`);
      throw error;
    }
    const result: PostEventsResult = { receipts: [], stored: [], duplicates: [], batches: batches.length };
    for (const [index, batch] of batches.entries()) {
      let answer: { receipts: Receipt[]; stored: string[]; duplicates: string[] };
      try {
        answer = await this.#postBatch(events, batch);
      } catch (error) {
        if (isClientError(error)) {
          throw new AuditsealPostError(result.receipts, events.length - result.receipts.length, error);
        }
        throw error;
      }
      result.receipts.push(...answer.receipts);
      result.stored.push(...answer.stored);
      result.duplicates.push(...answer.duplicates);
      await options.onBatch?.({
        batch: index,
        batches: batches.length,
        done: batch.first + batch.count,
        total: events.length,
        receipts: answer.receipts,
        stored: answer.stored,
        duplicates: answer.duplicates,
      });
    }
    if (verify) {
      const checks = this.verifyReceipts(result.receipts);
      if (checks.some((c) => !c.ok)) throw new AuditsealReceiptError(result.receipts, checks);
    }
    return result;
  }

  /** Checks receipts against the client's `trustedKeys` (or `keys`), offline. One check per receipt. */
  verifyReceipts(receipts: readonly unknown[], keys?: PinnedKeys): ReceiptCheck[] {
    const lookup = keys === undefined ? this.#keys : pinnedKeySet(keys);
    if (!lookup)
      throw new AuditsealConfigError('no trusted keys: pass trustedKeys to the client, or keys here');
    return receipts.map((r) => verifyReceipt(r, lookup));
  }

  /** `GET /v1/digests` (auditor role): sealed periods in a time range, one page. */
  async listDigests(
    range: { from?: string | Date; to?: string | Date; limit?: number; nextToken?: string } = {},
  ): Promise<DigestList> {
    const query: Record<string, string> = {};
    if (range.from !== undefined) query['from'] = instant(range.from);
    if (range.to !== undefined) query['to'] = instant(range.to);
    if (range.limit !== undefined) query['limit'] = String(range.limit);
    if (range.nextToken !== undefined) query['nextToken'] = range.nextToken;
    return digestListSchema.parse(await this.request({ path: '/v1/digests', query }));
  }

  /** `GET /v1/digests/{id}` (auditor role): one sealed period and short-lived links to its objects. */
  async getDigest(id: string): Promise<DigestDescription> {
    return digestDescriptionSchema.parse(await this.request({ path: pathOf('v1', 'digests', id) }));
  }

  /** `GET /v1/keys` (auditor role): the service's signing keys. Pin keys you obtained out of band. */
  async listKeys(): Promise<KeyList> {
    return keyListSchema.parse(await this.request({ path: '/v1/keys' }));
  }

  /** `GET /v1/alarms` (auditor role): tamper and sealing-lag alarms. */
  async listAlarms(options: { limit?: number } = {}): Promise<AlarmList> {
    const query: Record<string, string> = options.limit === undefined ? {} : { limit: String(options.limit) };
    return alarmListSchema.parse(await this.request({ path: '/v1/alarms', query }));
  }

  /**
   * Any signed request, with the client's retries; resolves with the parsed JSON answer. Throws
   * `AuditsealApiError` for an error status.
   */
  async request(options: RequestOptions): Promise<unknown> {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    return this.#send({
      method: options.method ?? (body === undefined ? 'GET' : 'POST'),
      path: options.path,
      ...(options.query ? { query: options.query } : {}),
      ...(body !== undefined ? { body } : {}),
    });
  }

  async #postBatch(
    events: readonly unknown[],
    batch: EventBatch,
  ): Promise<{ receipts: Receipt[]; stored: string[]; duplicates: string[] }> {
    const label = `POST ${this.endpoint} /v1/events`;
    const answer = postEventsResponseSchema.safeParse(
      await this.#send({ method: 'POST', path: '/v1/events', body: batch.body }),
    );
    if (!answer.success) throw new AuditsealResponseError('the answer is not a list of receipts', label);
    const receipts = answer.data.receipts;
    if (receipts.length !== batch.count) {
      throw new AuditsealResponseError(`${receipts.length} receipts for ${batch.count} events`, label);
    }
    for (const [i, receipt] of receipts.entries()) {
      const sent = (events[batch.first + i] as { id?: unknown }).id;
      if (receipt.eventId !== sent) {
        throw new AuditsealResponseError(`receipt ${i} is for another event than the one sent there`, label);
      }
    }
    return {
      receipts: receipts as unknown as Receipt[],
      stored: answer.data.stored,
      duplicates: answer.data.duplicates,
    };
  }

  async #send(request: ApiRequest): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      // Signed again for each attempt: a signature is valid for a few minutes only.
      const signed = await this.#signer.sign(request);
      const label = `${request.method} ${signed.url}`;
      let failure: AuditsealApiError | AuditsealNetworkError;
      let retryAfter: number | undefined;
      try {
        const response = await this.#fetch(signed.url, {
          method: signed.method,
          headers: signed.headers,
          ...(signed.body !== undefined ? { body: signed.body } : {}),
          signal: AbortSignal.timeout(this.#timeoutMs),
        });
        const text = await readText(response, this.#maxResponseBytes, label);
        if (response.ok) {
          try {
            return text === '' ? {} : JSON.parse(text);
          } catch {
            throw new AuditsealResponseError(`HTTP ${response.status} with a body that is not JSON`, label);
          }
        }
        failure = apiError(response, text, label);
        retryAfter = parseRetryAfter(response.headers.get('retry-after'));
        if (!isRetryableStatus(response.status)) throw failure;
      } catch (error) {
        if (isClientError(error)) throw error;
        failure = new AuditsealNetworkError(this.endpoint, networkCode(error), { cause: error });
      }
      if (attempt >= this.#retry.maxAttempts) throw failure;
      const delayMs = backoffDelayMs(this.#retry, attempt, this.#random(), retryAfter);
      this.#onRetry?.({ request: label, attempt, delayMs, error: failure });
      await this.#sleep(delayMs);
    }
  }
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new AuditsealConfigError(`${name} must be a positive number`);
  return value;
}

function instant(value: string | Date): string {
  return typeof value === 'string' ? value : value.toISOString();
}

function isClientError(error: unknown): error is AuditsealError {
  return (
    error instanceof AuditsealApiError ||
    error instanceof AuditsealNetworkError ||
    error instanceof AuditsealResponseError ||
    error instanceof AuditsealConfigError ||
    error instanceof AuditsealInputError
  );
}

/** Reads the body as UTF-8 text, refusing more than `max` bytes. */
async function readText(response: Response, max: number, label: string): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? 'NaN');
  if (declared > max)
    throw new AuditsealResponseError(`answer of ${declared} bytes is over the limit`, label);
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.byteLength;
    if (size > max) throw new AuditsealResponseError(`answer is over the limit of ${max} bytes`, label);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The API's `{code, message}`; API Gateway's own errors carry only `message` (and `x-amzn-ErrorType`). */
function apiError(response: Response, text: string, label: string): AuditsealApiError {
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
      body = parsed as Record<string, unknown>;
  } catch {
    // not JSON: the status says enough
  }
  const gatewayType = response.headers.get('x-amzn-errortype')?.split(':')[0];
  const code =
    typeof body['code'] === 'string' && /^[A-Z][A-Z0-9_]{0,63}$/.test(body['code'])
      ? body['code']
      : gatewayType && /^[A-Za-z]{1,64}$/.test(gatewayType)
        ? gatewayType
        : `HTTP_${response.status}`;
  const message =
    typeof body['message'] === 'string'
      ? body['message'].slice(0, 1000)
      : typeof body['Message'] === 'string'
        ? body['Message'].slice(0, 1000)
        : response.statusText || 'request failed';
  return new AuditsealApiError(response.status, code, message, body, label);
}

/** A short code for a failed fetch: the system error code of its cause, or TIMEOUT. */
function networkCode(error: unknown): string {
  const e = error as { name?: unknown; code?: unknown; cause?: { code?: unknown; name?: unknown } };
  if (e?.name === 'TimeoutError' || e?.cause?.name === 'TimeoutError') return 'TIMEOUT';
  const code = e?.cause?.code ?? e?.code;
  return typeof code === 'string' && /^[A-Z_]{2,40}$/.test(code) ? code : 'NETWORK_ERROR';
}

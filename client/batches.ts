/**
 * Splits events into `POST /v1/events` requests that stay inside the API's limits (docs/API.md): at most
 * 500 events and at most 5 MiB of body per request. Order is kept, and each request's body is the exact
 * text that is signed and sent, so a retry resends the same bytes with the same event ids.
 */
import { MAX_BATCH_EVENTS } from '../shared/ingest/ingest-batch.ts';

export { MAX_BATCH_EVENTS };
/** Largest `POST /v1/events` body, in bytes (functions/ingest-events.ts `MAX_BODY_BYTES`). */
export const MAX_REQUEST_BYTES = 5 * 1024 * 1024;

const PREFIX = '{"events":[';
const SUFFIX = ']}';

/** One request's worth of events. */
export interface EventBatch {
  /** Position of the batch's first event in the input. */
  readonly first: number;
  readonly count: number;
  /** The request body: `{"events":[…]}`, UTF-8 length at most the byte limit. */
  readonly body: string;
  readonly bytes: number;
}

export interface BatchLimits {
  readonly maxEvents: number;
  readonly maxBytes: number;
}

export const API_LIMITS: BatchLimits = { maxEvents: MAX_BATCH_EVENTS, maxBytes: MAX_REQUEST_BYTES };

/**
 * Packs events greedily, in order. Throws RangeError (naming the index) if one event alone is too large
 * for a request, before anything is packed.
 */
export function splitIntoBatches(events: readonly unknown[], limits: BatchLimits = API_LIMITS): EventBatch[] {
  if (!Number.isSafeInteger(limits.maxEvents) || limits.maxEvents < 1) throw new RangeError('maxEvents < 1');
  const frame = Buffer.byteLength(PREFIX) + Buffer.byteLength(SUFFIX);
  const texts = events.map((event, index) => {
    const text = JSON.stringify(event);
    if (text === undefined) throw new RangeError(`event ${index} is not JSON`);
    const bytes = Buffer.byteLength(text, 'utf8');
    if (frame + bytes > limits.maxBytes) {
      throw new RangeError(
        `event ${index} is ${bytes} bytes of JSON: more than one request may carry (${limits.maxBytes - frame})`,
      );
    }
    return { text, bytes };
  });
  const batches: EventBatch[] = [];
  let first = 0;
  let parts: string[] = [];
  let bytes = frame;
  const flush = () => {
    if (parts.length === 0) return;
    batches.push({ first, count: parts.length, body: `${PREFIX}${parts.join(',')}${SUFFIX}`, bytes });
    first += parts.length;
    parts = [];
    bytes = frame;
  };
  for (const { text, bytes: size } of texts) {
    const separator = parts.length === 0 ? 0 : 1;
    if (parts.length === limits.maxEvents || bytes + separator + size > limits.maxBytes) flush();
    bytes += (parts.length === 0 ? 0 : 1) + size;
    parts.push(text);
  }
  flush();
  return batches;
}

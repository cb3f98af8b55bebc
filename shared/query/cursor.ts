/**
 * Search cursors: the position of the last result of a page (its sort key, `<receivedAt>#<id>`) and the
 * hash of the query it belongs to, authenticated with an HMAC-SHA256 key the service keeps
 * (docs/API.md, "Cursors"). A client can read a cursor but not forge or alter one; a cursor of another
 * query (other filters or another time window) is refused.
 *
 *   cursor = base64url(JSON {"v":1,"q":<query hash>,"k":<sort key>}) "." base64url(HMAC(key, "auditseal.cursor.v1\n" ‖ payload))
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { QueryError } from './errors.ts';

/** Shortest HMAC key accepted: 256 bits. */
export const MIN_CURSOR_KEY_BYTES = 32;
const DOMAIN = 'auditseal.cursor.v1\n';
const SORT_KEY = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z#[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}$/;

const payloadSchema = z.strictObject({
  v: z.literal(1),
  q: z.string().regex(/^[0-9a-f]{64}$/),
  k: z.string().max(200).regex(SORT_KEY),
});

/** Encodes and checks cursors with one secret key. */
export class CursorCodec {
  readonly #key: Buffer;

  constructor(key: Uint8Array) {
    if (key.length < MIN_CURSOR_KEY_BYTES) {
      throw new RangeError(`a cursor key needs at least ${MIN_CURSOR_KEY_BYTES} bytes`);
    }
    this.#key = Buffer.from(key);
  }

  /** The cursor that resumes `query` right after the result whose sort key is `lastKey`. */
  encode(queryHash: string, lastKey: string): string {
    const payload = Buffer.from(JSON.stringify({ v: 1, q: queryHash, k: lastKey }), 'utf8').toString(
      'base64url',
    );
    return `${payload}.${this.#mac(payload).toString('base64url')}`;
  }

  /**
   * The sort key a cursor resumes after. Throws `QueryError` INVALID_CURSOR for anything this service
   * did not issue (malformed, altered, signed with another key) and CURSOR_MISMATCH for a cursor of
   * another query.
   */
  decode(cursor: string, queryHash: string): string {
    return this.#open(cursor, queryHash, {
      domain: DOMAIN,
      maxPayload: 1024,
      schema: payloadSchema,
      mismatch: 'cursor belongs to another query: repeat the filters and time range of the first page',
    }).k;
  }

  /**
   * A cursor around an opaque position token of another paged read (a resource timeline's position,
   * `shared/profiles/timeline.ts`), bound to that read's query hash. Its MAC has its own domain, so it is
   * never a search cursor, nor the reverse.
   */
  encodeToken(queryHash: string, token: string): string {
    if (!TOKEN.test(token)) throw new RangeError('a cursor token is 1 to 1024 base64url characters');
    const payload = Buffer.from(JSON.stringify({ v: 1, q: queryHash, t: token }), 'utf8').toString(
      'base64url',
    );
    return `${payload}.${this.#mac(payload, TOKEN_DOMAIN).toString('base64url')}`;
  }

  /** The token of a cursor made by `encodeToken`; the same errors as `decode`. */
  decodeToken(cursor: string, queryHash: string): string {
    return this.#open(cursor, queryHash, {
      domain: TOKEN_DOMAIN,
      maxPayload: 2048,
      schema: tokenPayloadSchema,
      mismatch: 'cursor belongs to another query: repeat the parameters of the first page',
    }).t;
  }

  /**
   * The payload of a cursor this service issued under `domain`, bound to `queryHash`: INVALID_CURSOR for
   * anything malformed, altered or signed with another key, CURSOR_MISMATCH for another query's cursor.
   */
  #open<T extends { readonly q: string }>(
    cursor: string,
    queryHash: string,
    kind: { domain: string; maxPayload: number; schema: z.ZodType<T>; mismatch: string },
  ): T {
    const invalid = () => new QueryError('INVALID_CURSOR', 'cursor is not a cursor issued by this service');
    const parts = cursor.split('.');
    const payload = parts[0]!;
    if (parts.length !== 2 || payload.length > kind.maxPayload || !/^[A-Za-z0-9_-]+$/.test(payload)) {
      throw invalid();
    }
    // Compared as text: base64url decoding ignores the spare bits of the last character.
    const given = Buffer.from(parts[1]!, 'latin1');
    const expected = Buffer.from(this.#mac(payload, kind.domain).toString('base64url'), 'latin1');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
    let value: unknown;
    try {
      value = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      throw invalid();
    }
    const parsed = kind.schema.safeParse(value);
    if (!parsed.success) throw invalid();
    if (parsed.data.q !== queryHash) throw new QueryError('CURSOR_MISMATCH', kind.mismatch);
    return parsed.data;
  }

  #mac(payload: string, domain: string = DOMAIN): Buffer {
    return createHmac('sha256', this.#key).update(domain).update(payload).digest();
  }
}

const TOKEN = /^[A-Za-z0-9_-]{1,1024}$/;
const TOKEN_DOMAIN = 'auditseal.cursor-token.v1\n';
const tokenPayloadSchema = z.strictObject({
  v: z.literal(1),
  q: z.string().regex(/^[0-9a-f]{64}$/),
  t: z.string().regex(TOKEN),
});

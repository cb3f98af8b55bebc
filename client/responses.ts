/**
 * The answers of the API routes the client calls (docs/API.md), checked with schemas before use. Objects
 * are loose: members the API adds later pass through, so an older client keeps working.
 */
import { z } from 'zod';
import type { Receipt } from '../shared/ledger/formats.ts';

/** `POST /v1/events` 2xx. Receipts are kept exactly as sent (they are verified, not re-shaped). */
export const postEventsResponseSchema = z.looseObject({
  stored: z.array(z.string()),
  duplicates: z.array(z.string()),
  receipts: z.array(z.looseObject({ eventId: z.string() })),
});

export const digestSummarySchema = z.looseObject({
  id: z.string(),
  periodStart: z.string(),
  periodSeconds: z.number(),
  sequence: z.number(),
  digestKey: z.string(),
  statementSha256: z.string(),
});
export type DigestSummary = z.infer<typeof digestSummarySchema>;

/** `GET /v1/digests` */
export const digestListSchema = z.looseObject({
  digests: z.array(digestSummarySchema),
  nextToken: z.string().optional(),
});
export type DigestList = z.infer<typeof digestListSchema>;

/** `GET /v1/digests/{id}`: the summary and a short-lived download link for each object. */
export const digestDescriptionSchema = digestSummarySchema.extend({
  objects: z.array(z.looseObject({ key: z.string(), url: z.string() })),
  expiresAt: z.string(),
});
export type DigestDescription = z.infer<typeof digestDescriptionSchema>;

/** `GET /v1/keys` */
export const keyListSchema = z.looseObject({
  keys: z.array(
    z.looseObject({
      keyId: z.string().regex(/^[0-9a-f]{64}$/),
      publicKeyPem: z.string(),
      status: z.string().optional(),
    }),
  ),
});
export type KeyList = z.infer<typeof keyListSchema>;

/** `GET /v1/alarms` */
export const alarmListSchema = z.looseObject({
  alarms: z.array(z.looseObject({ alarmId: z.string() })),
});
export type AlarmList = z.infer<typeof alarmListSchema>;

/** What `postEvents` returns. */
export interface PostEventsResult {
  /** One receipt per event, in input order; a duplicate gets the receipt it was first given. */
  readonly receipts: Receipt[];
  /** Ids this call stored, in input order. */
  readonly stored: string[];
  /** Ids that were already stored with the same content (earlier posts, retries). */
  readonly duplicates: string[];
  /** Requests made, retries not counted. */
  readonly batches: number;
}

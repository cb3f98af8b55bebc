/**
 * The answers of the read routes, as zod schemas: the CLI parses every answer with them, and
 * docs/openapi.json describes them from them (scripts/openapi.ts).
 */
import { z } from 'zod';
import { receiptSchema } from '../ledger/formats.ts';
import { eventProofSchema } from './event-proof.ts';

/** `{ code, message }`, sometimes with more members (docs/API.md lists them per route). */
export const errorBodySchema = z.looseObject({
  code: z.string().meta({ description: 'stable error code' }),
  message: z.string().meta({ description: 'what went wrong; never echoes request values' }),
});

export const searchHitSchema = z.object({
  id: z.string(),
  receivedAt: z.string().meta({ description: 'when the ledger received the event (UTC, milliseconds)' }),
  eventJson: z.string().meta({
    description:
      "the event's stored canonical JSON text (FORMAT.md §1): exactly the bytes its receipt and proof commit to",
  }),
  receipt: receiptSchema.optional().meta({ description: 'with receipts=true' }),
  profile: z
    .looseObject({ resourceId: z.string(), atEvent: z.looseObject({}).nullable() })
    .nullable()
    .optional()
    .meta({
      description:
        'with include=profile: the profile versions of the resource around the event (null: the event names no resource, or is a profile version or a read)',
    }),
});

export const searchPageSchema = z.object({
  events: z.array(searchHitSchema).meta({ description: 'newest first' }),
  nextCursor: z.string().optional().meta({ description: 'present when more may follow; pass it as cursor' }),
});

const periodSchema = z.object({
  id: z.string().meta({ description: 'the digest id of the period, e.g. 20261122T210000Z-3600s' }),
  start: z.string(),
  end: z.string(),
  seconds: z.number().int(),
});

export const eventAnswerSchema = z.object({
  id: z.string(),
  receivedAt: z.string(),
  eventJson: z.string(),
  receipt: receiptSchema,
  period: periodSchema,
  sealed: z.boolean(),
  digest: z
    .object({
      id: z.string(),
      digestKey: z.string(),
      statementSha256: z.string(),
      sequence: z.number().int(),
    })
    .nullable()
    .meta({ description: 'the digest reference, once the period is sealed' }),
});

export const notSealedSchema = errorBodySchema.extend({
  code: z.literal('NOT_SEALED'),
  retryAfter: z.number().int().meta({ description: 'seconds after which the period should be sealed' }),
  period: periodSchema,
});

export { eventProofSchema };

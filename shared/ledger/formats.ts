/**
 * The signed and sealed documents of docs/FORMAT.md, as zod schemas. Every document is stored as its
 * RFC 8785 canonical bytes; readers parse with these schemas and never trust a cast.
 */
import { z } from 'zod';

const hex32 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex characters');
const isoSeconds = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/, 'expected YYYY-MM-DDTHH:MM:SSZ');
const isoMillis = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, 'expected YYYY-MM-DDTHH:MM:SS.sssZ');
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const ledger = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/);
const objectKey = z.string().min(1).max(1024);

export const DIGEST_STATEMENT_TYPE = 'auditseal.digest-statement.v1';
export const DIGEST_TYPE = 'auditseal.digest.v2';
export const BATCH_STATEMENT_TYPE = 'auditseal.batch-statement.v2';
export const RECEIPT_TYPE = 'auditseal.receipt.v2';
export const BATCH_RECORD_TYPE = 'auditseal.batch-record.v1';
export const EXCLUSION_TYPE = 'auditseal.exclusion.v1';
export const ABANDON_STATEMENT_TYPE = 'auditseal.batch-abandon.v1';
/** Most leaves in one signed batch (an API request has at most 500; an import batch at most this). */
export const MAX_BATCH_LEAVES = 10_000;

/** The small statement that is signed for each period (≤ 4 KB). */
export const digestStatementSchema = z
  .object({
    type: z.literal(DIGEST_STATEMENT_TYPE),
    ledger,
    periodStart: isoSeconds,
    periodSeconds: z.number().int().min(60).max(86_400),
    sequence: count,
    treeSize: count,
    rootHash: hex32,
    digestKey: objectKey,
    digestSha256: hex32,
    previousStatementSha256: hex32.nullable(),
    keyId: hex32,
  })
  .strict();
export type DigestStatement = z.infer<typeof digestStatementSchema>;

/** One archive chunk as named by a digest. */
export const archiveRefSchema = z
  .object({
    key: objectKey,
    indexKey: objectKey,
    firstIndex: count,
    count: count.min(1),
    size: count,
    rootHash: hex32,
    indexSha256: hex32,
  })
  .strict();
export type ArchiveRef = z.infer<typeof archiveRefSchema>;

/** One file of batch records (FORMAT.md §5.1), as named by a digest. */
export const batchFileRefSchema = z
  .object({ key: objectKey, count: count.min(1), size: count.min(1), sha256: hex32 })
  .strict();
export type BatchFileRef = z.infer<typeof batchFileRefSchema>;

/** The exclusions file of a period (FORMAT.md §5.2): stored rows that were not sealed, and why. */
export const exclusionsRefSchema = z
  .object({ key: objectKey, count: count.min(1), size: count.min(1), sha256: hex32, omitted: count })
  .strict();
export type ExclusionsRef = z.infer<typeof exclusionsRefSchema>;

/** The period digest: commits to the exact sequence of the period's events and names their archives. */
export const digestSchema = z
  .object({
    type: z.literal(DIGEST_TYPE),
    ledger,
    period: z
      .object({ start: isoSeconds, end: isoSeconds, seconds: z.number().int().min(60).max(86_400) })
      .strict(),
    sequence: count,
    treeSize: count,
    rootHash: hex32,
    chunkLeaves: z
      .number()
      .int()
      .min(1)
      .max(1 << 20),
    archives: z.array(archiveRefSchema).max(100_000),
    batches: z.array(batchFileRefSchema).max(100_000),
    exclusions: exclusionsRefSchema.nullable(),
    previous: z.object({ digestKey: objectKey, statementSha256: hex32 }).strict().nullable(),
  })
  .strict();
export type Digest = z.infer<typeof digestSchema>;

/**
 * The statement signed once per ingest batch; receipts point into its tree. The tree's leaves are batch
 * leaves (FORMAT.md §8): each binds an event's leaf hash, its id and its `receivedAt`, all of which lie in
 * [receivedFrom, receivedTo] (equal for an API request; a range for an import batch).
 */
export const batchStatementSchema = z
  .object({
    type: z.literal(BATCH_STATEMENT_TYPE),
    ledger,
    batchId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
    receivedFrom: isoMillis,
    receivedTo: isoMillis,
    treeSize: count.min(1).max(MAX_BATCH_LEAVES),
    rootHash: hex32,
    keyId: hex32,
  })
  .strict()
  .refine((s) => s.receivedFrom <= s.receivedTo, 'receivedFrom is after receivedTo');
export type BatchStatement = z.infer<typeof batchStatementSchema>;

/**
 * Signed by ingest when a request ends without storing some leaves of its signed batch (an id conflict or
 * race, the period closing, a failed write): it explains their absence, so the verifier does not report
 * them. It names the batch by the SHA-256 of its statement bytes.
 */
export const abandonStatementSchema = z
  .object({
    type: z.literal(ABANDON_STATEMENT_TYPE),
    ledger,
    batchId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
    batchStatementSha256: hex32,
    abandoned: z.array(count).min(1).max(MAX_BATCH_LEAVES),
    keyId: hex32,
  })
  .strict()
  .refine(
    (s) => s.abandoned.every((v, i) => i === 0 || v > s.abandoned[i - 1]!),
    'abandoned must be increasing',
  );
export type AbandonStatement = z.infer<typeof abandonStatementSchema>;

/** Event ids (FORMAT.md §1): what a batch leaf and a receipt may name. */
export const eventIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:@/+=-]*$/);

/** One leaf of an archived batch record: sealed at `index` of the period tree, or not sealed (`index: null`). */
export const batchRecordLeafSchema = z
  .object({
    id: eventIdSchema,
    receivedAt: isoMillis,
    leafHash: hex32,
    index: count.nullable(),
    /** Why a leaf is not sealed: a stored row had different bytes, or no row was stored under its id. */
    missing: z.enum(['MODIFIED', 'ABSENT', 'ABANDONED']).optional(),
  })
  .strict()
  .refine((l) => (l.index === null) === (l.missing !== undefined), 'a leaf is either sealed or missing');
export type BatchRecordLeaf = z.infer<typeof batchRecordLeafSchema>;

/** A signed ingest batch as archived with its period (FORMAT.md §5.1), one JCS line per batch. */
export const batchRecordSchema = z
  .object({
    type: z.literal(BATCH_RECORD_TYPE),
    statement: z.string().min(1).max(4096),
    signature: z
      .string()
      .regex(/^[A-Za-z0-9+/]+={0,2}$/)
      .max(200),
    leaves: z.array(batchRecordLeafSchema).min(1).max(MAX_BATCH_LEAVES),
    /** The batch's signed abandon statement, when ingest signed one. */
    abandon: z
      .object({
        statement: z.string().min(1).max(4096),
        signature: z
          .string()
          .regex(/^[A-Za-z0-9+/]+={0,2}$/)
          .max(200),
      })
      .strict()
      .optional(),
  })
  .strict();
export type BatchRecord = z.infer<typeof batchRecordSchema>;

/** Why the sealer left a stored row out of a period (FORMAT.md §5.2). */
export const EXCLUSION_REASONS = [
  'EVENT_MODIFIED',
  'EVENT_UNSIGNED',
  'EVENT_DUPLICATE',
  'ITEM_MALFORMED',
  'BATCH_INVALID',
] as const;
export type ExclusionReason = (typeof EXCLUSION_REASONS)[number];

/** One stored row that was not sealed, as recorded in the period's exclusions file. */
export const exclusionSchema = z
  .object({
    type: z.literal(EXCLUSION_TYPE),
    reason: z.enum(EXCLUSION_REASONS),
    /** Where the row was, e.g. `EV#ledger#20261122T210000Z#07` and its sort key. */
    item: z.object({ pk: z.string().max(2048), sk: z.string().max(2048) }).strict(),
    eventId: z.string().max(2048).nullable(),
    batchId: z.string().max(2048).nullable(),
    /** SHA-256 of the stored bytes (hex), when the row had any. */
    storedSha256: hex32.nullable(),
    detail: z.string().max(1024),
  })
  .strict();
export type Exclusion = z.infer<typeof exclusionSchema>;

/** What a client gets back per event: enough to verify offline that the event was signed at ingest. */
export const receiptSchema = z
  .object({
    type: z.literal(RECEIPT_TYPE),
    eventId: eventIdSchema,
    receivedAt: isoMillis,
    leafHash: hex32,
    leafIndex: count,
    auditPath: z.array(hex32).max(64),
    statement: z.string().min(1).max(4096),
    signature: z
      .string()
      .regex(/^[A-Za-z0-9+/]+={0,2}$/)
      .max(200),
  })
  .strict();
export type Receipt = z.infer<typeof receiptSchema>;

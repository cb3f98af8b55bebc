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
export const DIGEST_TYPE = 'auditseal.digest.v1';
export const BATCH_STATEMENT_TYPE = 'auditseal.batch-statement.v1';
export const RECEIPT_TYPE = 'auditseal.receipt.v1';

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
    previous: z.object({ digestKey: objectKey, statementSha256: hex32 }).strict().nullable(),
  })
  .strict();
export type Digest = z.infer<typeof digestSchema>;

/** The statement signed once per ingest batch; receipts point into its tree. */
export const batchStatementSchema = z
  .object({
    type: z.literal(BATCH_STATEMENT_TYPE),
    ledger,
    batchId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
    receivedAt: isoMillis,
    treeSize: count.min(1).max(10_000),
    rootHash: hex32,
    keyId: hex32,
  })
  .strict();
export type BatchStatement = z.infer<typeof batchStatementSchema>;

/** What a client gets back per event: enough to verify offline that the event was signed at ingest. */
export const receiptSchema = z
  .object({
    type: z.literal(RECEIPT_TYPE),
    eventId: z.string().min(1).max(128),
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

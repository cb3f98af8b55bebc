/**
 * The signed head (docs/FORMAT.md §11): the newest sealed period's signed statement, as `GET /v1/head`
 * serves it and `auditseal head --out FILE` keeps it. An auditor who keeps heads can later prove that a
 * folder was cut short: `auditseal verify --head FILE` reports LEDGER_TRUNCATED when the folder ends before
 * the head, and HEAD_MISMATCH when it holds the head's period with another statement.
 *
 * The head carries the statement bytes and their signature, so it verifies on its own against the trusted
 * keys; everything else in it is a copy of statement fields, checked to agree.
 */
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { canonicalString } from '../canonical/jcs.ts';
import { verifyStatement } from '../crypto/keys.ts';
import { type DigestStatement, digestStatementSchema } from '../ledger/formats.ts';
import { toHex } from '../ledger/hex.ts';
import { digestObjectKey, LEDGER_ID_PATTERN } from '../ledger/object-keys.ts';
import {
  assertPeriodSeconds,
  isoSeconds,
  type Period,
  parseIsoSeconds,
  periodEndMs,
} from '../ledger/period.ts';
import { sha256 } from '../merkle/rfc6962.ts';
import type { DigestCatalog } from '../ports/digest-catalog.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import { MAX_STATEMENT_BYTES, type Signer } from '../ports/signer.ts';

export const SIGNED_HEAD_TYPE = 'auditseal.head.v1';
/** A head file is a few kilobytes; anything much larger is not one. */
export const MAX_HEAD_FILE_BYTES = 16 * 1024;

const hex32 = z.string().regex(/^[0-9a-f]{64}$/);

/** `GET /v1/head`'s body, and the content of a head file. */
export const signedHeadSchema = z.strictObject({
  type: z.literal(SIGNED_HEAD_TYPE),
  ledger: z.string().regex(LEDGER_ID_PATTERN),
  periodStart: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
  periodSeconds: z.number().int().min(60).max(86_400),
  sequence: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  digestKey: z.string().min(1).max(1024),
  keyId: hex32,
  /** The statement's JCS bytes, as a JSON string. */
  statement: z.string().min(1).max(MAX_STATEMENT_BYTES),
  statementSha256: hex32,
  /** Base64 of the DER ECDSA signature over the statement bytes. */
  signature: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z0-9+/]+={0,2}$/),
});
export type SignedHead = z.infer<typeof signedHeadSchema>;

/** A head whose signature verified with a trusted key. */
export interface VerifiedHead {
  readonly ledger: string;
  readonly period: Period;
  readonly sequence: number;
  readonly digestKey: string;
  readonly keyId: string;
  readonly statementSha256: string;
}

/** A head that cannot be used; the message says why, for the CLI's exit-2 line. */
export class HeadError extends Error {
  override readonly name = 'HeadError';
}

/** Trusted public keys by key id (the verifier's TrustedKeys). */
export interface HeadKeys {
  get(keyId: string): { readonly key: KeyObject } | undefined;
}

function parseStatement(bytes: Buffer): DigestStatement | undefined {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = digestStatementSchema.safeParse(value);
  if (!parsed.success) return undefined;
  try {
    return canonicalString(value) === bytes.toString('utf8') ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The statement's period, when it is one a digest can have (aligned, dividing a day). */
function statementPeriod(statement: DigestStatement): Period | undefined {
  const startMs = parseIsoSeconds(statement.periodStart);
  if (startMs === undefined) return undefined;
  try {
    assertPeriodSeconds(statement.periodSeconds);
  } catch {
    return undefined;
  }
  if (startMs % (statement.periodSeconds * 1000) !== 0) return undefined;
  return { startMs, seconds: statement.periodSeconds };
}

/** The head document of a signed statement; `statementBytes` must be the statement's JCS bytes. */
export function signedHeadOf(
  statement: DigestStatement,
  statementBytes: Uint8Array,
  signature: Uint8Array,
): SignedHead {
  return {
    type: SIGNED_HEAD_TYPE,
    ledger: statement.ledger,
    periodStart: statement.periodStart,
    periodSeconds: statement.periodSeconds,
    sequence: statement.sequence,
    digestKey: statement.digestKey,
    keyId: statement.keyId,
    statement: Buffer.from(statementBytes).toString('utf8'),
    statementSha256: toHex(sha256(statementBytes)),
    signature: Buffer.from(signature).toString('base64'),
  };
}

/** A head file that parses and agrees with its own statement; its signature is not checked yet. */
export interface ParsedHead {
  readonly head: SignedHead;
  readonly statementBytes: Buffer;
  readonly period: Period;
}

/** Parses a head file and checks that its fields agree with its statement. Throws HeadError. */
export function parseSignedHead(bytes: Uint8Array): ParsedHead {
  if (bytes.length > MAX_HEAD_FILE_BYTES)
    throw new HeadError(`is larger than ${MAX_HEAD_FILE_BYTES} bytes: not a head file`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new HeadError('is not JSON');
  }
  const parsed = signedHeadSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new HeadError(
      `is not an ${SIGNED_HEAD_TYPE} document (${issue.path.join('.') || 'root'}: ${issue.message})`,
    );
  }
  const head = parsed.data;
  const statementBytes = Buffer.from(head.statement, 'utf8');
  const statement = parseStatement(statementBytes);
  if (!statement) throw new HeadError('holds a statement that is not a canonical digest statement');
  const period = statementPeriod(statement);
  if (!period) throw new HeadError(`holds a statement for an impossible period ${statement.periodStart}`);
  const agrees =
    head.ledger === statement.ledger &&
    head.periodStart === statement.periodStart &&
    head.periodSeconds === statement.periodSeconds &&
    head.sequence === statement.sequence &&
    head.digestKey === statement.digestKey &&
    head.keyId === statement.keyId &&
    head.statementSha256 === toHex(sha256(statementBytes)) &&
    statement.digestKey === digestObjectKey(statement.ledger, period, 'digest');
  if (!agrees) throw new HeadError('has fields that do not agree with its signed statement');
  return { head, statementBytes, period };
}

/**
 * Checks a head file's bytes against the trusted keys. Throws HeadError naming the first problem.
 * @example const head = verifySignedHead(await readFile('head.json'), trustedKeys);
 */
export function verifySignedHead(bytes: Uint8Array, keys: HeadKeys): VerifiedHead {
  const { head, statementBytes, period } = parseSignedHead(bytes);
  const key = keys.get(head.keyId);
  if (!key) throw new HeadError(`is signed by key ${head.keyId}, which is not among the --key keys`);
  if (!verifyStatement(key.key, statementBytes, Buffer.from(head.signature, 'base64')))
    throw new HeadError('has a signature that does not verify over its statement');
  return {
    ledger: head.ledger,
    period,
    sequence: head.sequence,
    digestKey: head.digestKey,
    keyId: head.keyId,
    statementSha256: head.statementSha256,
  };
}

/** The newest sealed period's statement does not check out; `GET /v1/head` refuses to serve it. */
export class HeadUnverifiedError extends Error {
  override readonly name = 'HeadUnverifiedError';
}

export interface HeadSource {
  readonly catalog: Pick<DigestCatalog, 'lastSeal'>;
  readonly objects: Pick<ObjectStore, 'get'>;
  readonly signer: Pick<Signer, 'publicKeyPem'>;
  readonly now: () => Date;
  /** Public key lookup for the signer's key id, built from `signer.publicKeyPem()`. */
  readonly keys: HeadKeys;
}

/**
 * The newest sealed period as a signed head, built from the sealed objects in the bucket (the registry
 * only says which period is newest) and checked before it is served: the statement must be the one the
 * registry recorded, name that period, be signed by the service's key, and the period must have ended.
 * Undefined before the first seal; HeadUnverifiedError when the newest seal does not check out.
 */
export async function latestSignedHead(ledger: string, source: HeadSource): Promise<SignedHead | undefined> {
  const sealed = await source.catalog.lastSeal(ledger);
  if (!sealed) return undefined;
  const statementKey = digestObjectKey(ledger, sealed.period, 'statement');
  const [statementBytes, signature] = await Promise.all([
    source.objects.get(statementKey),
    source.objects.get(digestObjectKey(ledger, sealed.period, 'signature')),
  ]);
  if (!statementBytes || !signature)
    throw new HeadUnverifiedError(`the newest sealed period ${statementKey} has no statement or signature`);
  const statement = parseStatement(Buffer.from(statementBytes));
  if (!statement) throw new HeadUnverifiedError(`${statementKey} is not a canonical digest statement`);
  const head = signedHeadOf(statement, statementBytes, signature);
  let verified: VerifiedHead;
  try {
    verified = verifySignedHead(Buffer.from(JSON.stringify(head)), source.keys);
  } catch (error) {
    throw new HeadUnverifiedError(`${statementKey} ${(error as Error).message}`, { cause: error });
  }
  if (
    verified.ledger !== ledger ||
    verified.period.startMs !== sealed.period.startMs ||
    verified.period.seconds !== sealed.period.seconds ||
    verified.statementSha256 !== sealed.statementSha256
  ) {
    throw new HeadUnverifiedError(`${statementKey} is not the statement the seal registry recorded`);
  }
  if (periodEndMs(verified.period) > source.now().getTime())
    throw new HeadUnverifiedError(
      `the newest seal is for ${isoSeconds(verified.period.startMs)}, a period not over yet`,
    );
  return head;
}

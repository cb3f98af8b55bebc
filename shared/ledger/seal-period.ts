/**
 * Sealing one period: the single code path used by the stream-triggered function and by
 * `auditseal seal`. It streams the period's stored rows through the provenance check (only rows a
 * trusted signed batch covers are sealed; see period-provenance.ts), writes archive chunks, the batch
 * records and the exclusions, then the digest, the signed statement and finally the signature, all
 * put-only. Memory is one chunk plus one batch file plus O(log n).
 *
 * Idempotent: every object except the signature is a pure function of the input, so a re-run writes
 * byte-identical objects (the store treats them as success). ECDSA signatures are randomized, so an
 * existing signature is accepted when it verifies over the same statement with the same key.
 */
import { createPublicKey, verify } from 'node:crypto';
import { canonicalBytes } from '../canonical/jcs.ts';
import { HASH_SIZE, StreamingTree, sha256 } from '../merkle/rfc6962.ts';
import type { PeriodBatchRow, PeriodRow } from '../ports/ledger-store.ts';
import { ObjectConflictError, type ObjectStore } from '../ports/object-store.ts';
import { MAX_STATEMENT_BYTES, type Signer } from '../ports/signer.ts';
import { ChunkBuilder, DEFAULT_CHUNK_LEAVES, INDEX_ENTRY_SIZE } from './archive-chunk.ts';
import type { KeyLookup } from './batch-receipts.ts';
import { SealError } from './errors.ts';
import {
  type ArchiveRef,
  type BatchFileRef,
  type BatchRecord,
  DIGEST_STATEMENT_TYPE,
  DIGEST_TYPE,
  type Digest,
  type DigestStatement,
  digestStatementSchema,
  type Exclusion,
  type ExclusionsRef,
} from './formats.ts';
import { toHex } from './hex.ts';
import { archiveObjectKey, batchFileKey, digestObjectKey, exclusionsKey } from './object-keys.ts';
import { isoSeconds, nextPeriod, type Period, periodEndMs, samePeriod } from './period.ts';
import { type MissingLeaf, provePeriod } from './period-provenance.ts';

/** What the next period needs to chain to this one. */
export interface ChainHead {
  readonly ledger: string;
  readonly period: Period;
  readonly sequence: number;
  readonly digestKey: string;
  readonly statementSha256: string;
}

export interface SealRequest {
  readonly ledger: string;
  readonly period: Period;
  /** The head of the chain, or null to start a new chain (sequence 0) at this period. */
  readonly previous: ChainHead | null;
  /** The period's stored rows in (receivedAt, id) order: the order the digest commits to. */
  readonly rows: AsyncIterable<PeriodRow> | Iterable<PeriodRow>;
  /** The period's signed batches in (receivedAt, batchId) order. */
  readonly batches: AsyncIterable<PeriodBatchRow> | Iterable<PeriodBatchRow>;
  /** The keys whose batch signatures are trusted (the service's own signing keys). */
  readonly keys: KeyLookup;
  /** Events per archive chunk; a power of two. */
  readonly chunkLeaves?: number;
}

/** Most exclusion records written per period; the rest are counted as `omitted` in the digest. */
export const MAX_EXCLUSIONS_RECORDED = 10_000;
/** A batch-record file is cut after this many bytes or records. */
export const BATCH_FILE_MAX_BYTES = 4 * 1024 * 1024;
export const BATCH_FILE_MAX_RECORDS = 4096;
/** How many excluded rows and missing leaves a seal result carries as examples, for alarms. */
export const PROVENANCE_SAMPLES = 100;

/** What provenance left out of a sealed period (G6): the evidence behind its alarms. */
export interface ProvenanceOutcome {
  readonly excluded: number;
  readonly missing: number;
  /** The first exclusions and missing leaves, at most PROVENANCE_SAMPLES of each. */
  readonly excludedSamples: readonly Exclusion[];
  readonly missingSamples: readonly MissingLeaf[];
}

export interface SealDeps {
  readonly store: ObjectStore;
  readonly signer: Signer;
}

export interface SealedPeriod extends ChainHead {
  readonly treeSize: number;
  readonly rootHash: string;
  readonly statement: DigestStatement;
  /** 'created' if this call wrote the signature, 'already-sealed' if the period was sealed before. */
  readonly outcome: 'created' | 'already-sealed';
  readonly provenance: ProvenanceOutcome;
}

const JSON_TYPE = 'application/json';

function assertChain(req: SealRequest): number {
  if (!req.previous) return 0;
  if (req.previous.ledger !== req.ledger) {
    throw new SealError('CHAIN_MISMATCH', `previous digest belongs to ledger ${req.previous.ledger}`);
  }
  if (!samePeriod(nextPeriod(req.previous.period), req.period)) {
    throw new SealError(
      'CHAIN_MISMATCH',
      `period ${isoSeconds(req.period.startMs)} does not follow ${isoSeconds(req.previous.period.startMs)}; seal the periods between first`,
    );
  }
  return req.previous.sequence + 1;
}

async function putDeterministic(
  store: ObjectStore,
  key: string,
  body: Uint8Array,
  type: string,
): Promise<void> {
  try {
    await store.putIfAbsent(key, body, type);
  } catch (error) {
    if (error instanceof ObjectConflictError) {
      throw new SealError('NONDETERMINISTIC_OBJECT', `${key} exists with different bytes`, { cause: error });
    }
    throw error;
  }
}

function headOf(statement: DigestStatement, statementBytes: Uint8Array, period: Period): ChainHead {
  return {
    ledger: statement.ledger,
    period,
    sequence: statement.sequence,
    digestKey: statement.digestKey,
    statementSha256: toHex(sha256(statementBytes)),
  };
}

/**
 * Accumulates newline-terminated lines for one object. Each line is copied in as it is added, into one
 * body that the next object reuses: `take()` returns a view of it, valid until the next `add`.
 */
class LineFileWriter {
  #body = Buffer.allocUnsafe(64 * 1024);
  #count = 0;
  #bytes = 0;

  get count(): number {
    return this.#count;
  }

  get bytes(): number {
    return this.#bytes;
  }

  add(line: Uint8Array): void {
    const needed = this.#bytes + line.length + 1;
    if (needed > this.#body.length) {
      // Doubling up to 1 MiB, then 1 MiB steps: a batch file (cut after 4 MiB) then takes about 5 MiB,
      // not the 8 MiB a doubling would reach.
      const step = Math.min(this.#body.length, 1024 * 1024);
      const next = Buffer.allocUnsafe(Math.max(needed, this.#body.length + step));
      this.#body.copy(next, 0, 0, this.#bytes);
      this.#body = next;
    }
    this.#body.set(line, this.#bytes);
    this.#body[needed - 1] = 0x0a;
    this.#bytes = needed;
    this.#count++;
  }

  take(): { body: Buffer; count: number } {
    const body = this.#body.subarray(0, this.#bytes);
    const count = this.#count;
    this.#count = 0;
    this.#bytes = 0;
    return { body, count };
  }
}

/** Reads back an already sealed period's head, or undefined if its signature is not written yet. */
export async function readSealedHead(
  store: ObjectStore,
  ledger: string,
  period: Period,
): Promise<ChainHead | undefined> {
  const sig = await store.get(digestObjectKey(ledger, period, 'signature'));
  if (sig === undefined) return undefined;
  const bytes = await store.get(digestObjectKey(ledger, period, 'statement'));
  if (bytes === undefined) return undefined;
  const statement = digestStatementSchema.parse(JSON.parse(Buffer.from(bytes).toString('utf8')));
  return headOf(statement, bytes, period);
}

/** Seals one period. See the module comment for the write order and idempotency rules. */
export async function sealPeriod(req: SealRequest, deps: SealDeps): Promise<SealedPeriod> {
  const sequence = assertChain(req);
  const chunkLeaves = req.chunkLeaves ?? DEFAULT_CHUNK_LEAVES;
  if (!Number.isInteger(Math.log2(chunkLeaves)))
    throw new RangeError(`chunkLeaves ${chunkLeaves} is not a power of two`);
  const height = Math.log2(chunkLeaves);
  const { store, signer } = deps;

  const tree = new StreamingTree();
  const archives: ArchiveRef[] = [];
  // One builder for the whole period: its bodies are reused chunk after chunk (the store is done with a
  // body once its put settles), so sealing holds one chunk whatever the period's length.
  const chunk = new ChunkBuilder(chunkLeaves);

  const flush = async (): Promise<void> => {
    if (chunk.count === 0) return;
    const built = chunk.build();
    const n = archives.length;
    const key = archiveObjectKey(req.ledger, req.period, n, 'events');
    const indexKey = archiveObjectKey(req.ledger, req.period, n, 'index');
    await putDeterministic(store, key, built.archive, 'application/x-ndjson');
    await putDeterministic(store, indexKey, built.index, 'application/octet-stream');
    if (built.count === chunkLeaves) tree.appendSubtree(built.root, height);
    else for (const leaf of built.leafHashes) tree.appendLeafHash(leaf);
    archives.push({
      key,
      indexKey,
      firstIndex: tree.size - built.count,
      count: built.count,
      size: built.archive.length,
      rootHash: toHex(built.root),
      indexSha256: toHex(sha256(built.index)),
    });
    chunk.reset();
  };

  const batches = new LineFileWriter();
  const batchFiles: BatchFileRef[] = [];
  const flushBatches = async (): Promise<void> => {
    if (batches.count === 0) return;
    const { body, count } = batches.take();
    const key = batchFileKey(req.ledger, req.period, batchFiles.length);
    // The body is the writer's reused buffer: everything read from it is read before the next record.
    const ref = { key, count, size: body.length, sha256: toHex(sha256(body)) };
    await putDeterministic(store, key, body, 'application/x-ndjson');
    batchFiles.push(ref);
  };
  const exclusions = new LineFileWriter();
  let excluded = 0;
  let missing = 0;
  const excludedSamples: Exclusion[] = [];
  const missingSamples: MissingLeaf[] = [];
  const sink = {
    async batchRecord(record: BatchRecord): Promise<void> {
      batches.add(canonicalBytes(record));
      if (batches.count >= BATCH_FILE_MAX_RECORDS || batches.bytes >= BATCH_FILE_MAX_BYTES)
        await flushBatches();
    },
    async exclusion(exclusion: Exclusion): Promise<void> {
      excluded++;
      if (excludedSamples.length < PROVENANCE_SAMPLES) excludedSamples.push(exclusion);
      if (exclusions.count < MAX_EXCLUSIONS_RECORDED) exclusions.add(canonicalBytes(exclusion));
    },
    missing(leaf: MissingLeaf): void {
      missing++;
      if (missingSamples.length < PROVENANCE_SAMPLES) missingSamples.push(leaf);
    },
  };

  // The id hash of an event already sealed, for provenance to confirm a duplicate id in full: from the
  // chunk being built, or read back from an earlier chunk's index object (checked against its SHA-256;
  // the last one read is kept). Needed about once per repeated id and per fingerprint collision.
  let readBack: { n: number; index: Uint8Array } | undefined;
  const sealedIdHash = async (index: number): Promise<Uint8Array> => {
    const n = Math.floor(index / chunkLeaves);
    const entry = index - n * chunkLeaves;
    if (n === archives.length) return chunk.idHashAt(entry);
    const ref = archives[n];
    if (ref === undefined) throw new RangeError(`no event is sealed at ${index}`);
    if (readBack?.n !== n) {
      const body = await store.get(ref.indexKey);
      if (body === undefined || toHex(sha256(body)) !== ref.indexSha256) {
        throw new SealError(
          'ARCHIVE_READBACK',
          `index ${ref.indexKey}, written by this seal, ${body === undefined ? 'is missing' : 'reads back with other bytes'}`,
        );
      }
      readBack = { n, index: body };
    }
    const at = entry * INDEX_ENTRY_SIZE + HASH_SIZE;
    return readBack.index.subarray(at, at + HASH_SIZE);
  };

  const proven = provePeriod(
    {
      ledger: req.ledger,
      period: req.period,
      rows: req.rows,
      batches: req.batches,
      keys: req.keys,
      sealedIdHash,
    },
    sink,
  );
  for await (const event of proven) {
    try {
      chunk.add(event, event.leafHash, event.idHash);
    } catch (error) {
      throw new SealError('BAD_EVENT', (error as Error).message, { cause: error });
    }
    if (chunk.count === chunkLeaves) await flush();
  }
  await flush();
  await flushBatches();
  let exclusionsRef: ExclusionsRef | null = null;
  if (exclusions.count > 0) {
    const { body, count } = exclusions.take();
    const key = exclusionsKey(req.ledger, req.period);
    await putDeterministic(store, key, body, 'application/x-ndjson');
    exclusionsRef = { key, count, size: body.length, sha256: toHex(sha256(body)), omitted: excluded - count };
  }
  const provenance: ProvenanceOutcome = { excluded, missing, excludedSamples, missingSamples };

  const digestKey = digestObjectKey(req.ledger, req.period, 'digest');
  const digest: Digest = {
    type: DIGEST_TYPE,
    ledger: req.ledger,
    period: {
      start: isoSeconds(req.period.startMs),
      end: isoSeconds(periodEndMs(req.period)),
      seconds: req.period.seconds,
    },
    sequence,
    treeSize: tree.size,
    rootHash: toHex(tree.root()),
    chunkLeaves,
    archives,
    batches: batchFiles,
    exclusions: exclusionsRef,
    previous: req.previous
      ? { digestKey: req.previous.digestKey, statementSha256: req.previous.statementSha256 }
      : null,
  };
  const digestBytes = canonicalBytes(digest);
  await putDeterministic(store, digestKey, digestBytes, JSON_TYPE);

  const statement: DigestStatement = {
    type: DIGEST_STATEMENT_TYPE,
    ledger: req.ledger,
    periodStart: digest.period.start,
    periodSeconds: req.period.seconds,
    sequence,
    treeSize: digest.treeSize,
    rootHash: digest.rootHash,
    digestKey,
    digestSha256: toHex(sha256(digestBytes)),
    previousStatementSha256: req.previous ? req.previous.statementSha256 : null,
    keyId: await signer.keyId(),
  };
  const statementBytes = canonicalBytes(statement);
  if (statementBytes.length > MAX_STATEMENT_BYTES) {
    throw new SealError('STATEMENT_TOO_LARGE', `statement is ${statementBytes.length} bytes`);
  }
  const signatureKey = digestObjectKey(req.ledger, req.period, 'signature');
  // Signed before the statement is stored: a signer whose key was rotated away (a re-pointed alias) fails
  // here, before any object names the old key, so the retry seals under the new key (FORMAT.md §9.4).
  const signature =
    (await store.get(signatureKey)) === undefined ? await signer.sign(statementBytes) : undefined;
  await putDeterministic(
    store,
    digestObjectKey(req.ledger, req.period, 'statement'),
    statementBytes,
    JSON_TYPE,
  );

  const base = {
    ...headOf(statement, statementBytes, req.period),
    treeSize: digest.treeSize,
    rootHash: digest.rootHash,
    statement,
    provenance,
  };
  if (signature === undefined) {
    if (await existingSignatureValid()) return { ...base, outcome: 'already-sealed' };
    throw new SealError('NONDETERMINISTIC_OBJECT', `${signatureKey} vanished while sealing`);
  }
  try {
    await store.putIfAbsent(signatureKey, signature, 'application/pkix-signature');
  } catch (error) {
    // A concurrent or earlier run signed the same statement first; accept its signature if it verifies.
    if (!(error instanceof ObjectConflictError) || !(await existingSignatureValid())) throw error;
    return { ...base, outcome: 'already-sealed' };
  }
  return { ...base, outcome: 'created' };

  async function existingSignatureValid(): Promise<boolean> {
    const existing = await store.get(signatureKey);
    if (existing === undefined) return false;
    const key = createPublicKey(await signer.publicKeyPem());
    const ok = verify('sha256', statementBytes, { key, dsaEncoding: 'der' }, existing);
    if (!ok)
      throw new SealError(
        'NONDETERMINISTIC_OBJECT',
        `${signatureKey} holds a signature that does not verify`,
      );
    return true;
  }
}

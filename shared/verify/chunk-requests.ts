/**
 * The requests a chunk worker answers, and the answer, shared by the two workers that run them: the
 * worker threads of `auditseal verify --jobs N` (cli/verify-chunk.worker.ts, pool in cli/verify-workers.ts)
 * and the auditor's page's Web Workers (ui/chunk-worker.ts, pool in ui/chunk-pool.ts). A worker checks
 * archive chunks with verifyChunk, sending back its findings and the chunk's committed leaf hashes packed
 * into one transferable buffer, and batch records with checkBatchRecord (parse, JCS, schema, batch root),
 * sending back the record's leaves in transferable buffers. It holds no state between requests and no
 * keys: signatures are checked by the caller.
 */
import type { ArchiveRef } from '../ledger/formats.ts';
import type { Period } from '../ledger/period.ts';
import { HASH_SIZE } from '../merkle/rfc6962.ts';
import { type CheckedRecord, checkBatchRecord } from './batch-record-check.ts';
import type { Finding } from './findings.ts';
import { verifyChunk } from './verify-chunk.ts';

export interface ChunkRequest {
  readonly kind: 'chunk';
  readonly id: number;
  readonly ref: ArchiveRef;
  readonly archive?: Uint8Array;
  readonly index?: Uint8Array;
  readonly cut: boolean;
}

/** A batch record line to check (checkBatchRecord). */
export interface RecordRequest {
  readonly kind: 'record';
  readonly id: number;
  readonly line: Uint8Array;
  readonly ledger: string;
  readonly period: Period;
}

export type WorkerRequest = ChunkRequest | RecordRequest;

export type ChunkReply =
  | {
      readonly id: number;
      readonly findings: Finding[];
      readonly clean: boolean;
      readonly leaves?: Uint8Array;
      /** The archive's bytes, given back (transferred) when they were the caller's own buffer. */
      readonly archive?: Uint8Array;
    }
  | { readonly id: number; readonly record: CheckedRecord }
  | { readonly id: number; readonly error: string };

/**
 * The reply to `request`; the buffers it may move to the caller are pushed onto `transfer` (emptied again
 * when the check threw, and the reply then carries the error).
 */
export function answerChunkRequest(request: WorkerRequest, transfer: ArrayBuffer[]): ChunkReply {
  try {
    return request.kind === 'record' ? answerRecord(request, transfer) : answerChunk(request, transfer);
  } catch (error) {
    transfer.length = 0;
    return { id: request.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
}

/** The committed leaf hashes of a chunk reply, as views of its packed `leaves` (no copy). */
export function unpackLeaves(leaves: Uint8Array): Buffer[] {
  return Array.from({ length: leaves.length / HASH_SIZE }, (_, i) =>
    Buffer.from(leaves.buffer, leaves.byteOffset + i * HASH_SIZE, HASH_SIZE),
  );
}

function view(bytes: Uint8Array | undefined): Buffer | undefined {
  return bytes === undefined ? undefined : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function answerChunk(request: ChunkRequest, transfer: ArrayBuffer[]): ChunkReply {
  const result = verifyChunk(request.ref, view(request.archive), view(request.index), request.cut);
  let leaves: Uint8Array | undefined;
  if (result.committedLeaves) {
    const packed = new Uint8Array(result.committedLeaves.length * HASH_SIZE);
    for (const [i, leaf] of result.committedLeaves.entries()) packed.set(leaf, i * HASH_SIZE);
    transfer.push(packed.buffer);
    leaves = packed;
  }
  return {
    id: request.id,
    findings: result.findings,
    clean: result.clean,
    ...(leaves ? { leaves } : {}),
    ...(request.archive ? { archive: request.archive } : {}),
  };
}

function answerRecord(request: RecordRequest, transfer: ArrayBuffer[]): ChunkReply {
  const record = checkBatchRecord(view(request.line)!, { ledger: request.ledger, period: request.period });
  if (record.ok) {
    for (const b of [
      record.leaves.leafHashes,
      record.leaves.indices,
      record.leaves.missing,
      record.idHashes,
    ]) {
      if (b.buffer instanceof ArrayBuffer && b.byteOffset === 0 && b.byteLength === b.buffer.byteLength) {
        transfer.push(b.buffer);
      }
    }
  }
  return { id: request.id, record };
}

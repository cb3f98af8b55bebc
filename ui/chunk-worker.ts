/**
 * A chunk worker of the auditor's page: what `auditseal verify --jobs N` runs in each worker thread
 * (cli/verify-chunk.worker.ts), as a Web Worker started by the verification worker (chunk-pool.ts).
 * It checks archive chunks with the verifier's own verifyChunk and batch records with checkBatchRecord,
 * speaks the CLI pool's protocol (cli/verify-workers.ts), holds no state between requests and no keys.
 */
import type { ChunkReply, ChunkRequest, RecordRequest, WorkerRequest } from '../cli/verify-workers.ts';
import { HASH_SIZE } from '../shared/merkle/rfc6962.ts';
import { checkBatchRecord } from '../shared/verify/batch-record-check.ts';
import { verifyChunk } from '../shared/verify/verify-chunk.ts';

const scope = self as unknown as {
  postMessage(message: ChunkReply, transfer: Transferable[]): void;
  onmessage: ((event: { data: WorkerRequest }) => void) | null;
};

function view(bytes: Uint8Array | undefined): Buffer | undefined {
  return bytes === undefined ? undefined : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function chunk(request: ChunkRequest, transfer: Transferable[]): ChunkReply {
  const result = verifyChunk(request.ref, view(request.archive), view(request.index), request.cut);
  let leaves: Uint8Array | undefined;
  if (result.committedLeaves) {
    const packed = new Uint8Array(result.committedLeaves.length * HASH_SIZE);
    for (const [i, leaf] of result.committedLeaves.entries()) packed.set(leaf, i * HASH_SIZE);
    transfer.push(packed.buffer);
    leaves = packed;
  }
  // The archive's bytes go back to the verifier, which uses them after the check (profiles, --deep).
  if (request.archive) transfer.push(request.archive.buffer as ArrayBuffer);
  return {
    id: request.id,
    findings: result.findings,
    clean: result.clean,
    ...(leaves ? { leaves } : {}),
    ...(request.archive ? { archive: request.archive } : {}),
  };
}

function record(request: RecordRequest, transfer: Transferable[]): ChunkReply {
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

scope.onmessage = ({ data: request }) => {
  const transfer: Transferable[] = [];
  let reply: ChunkReply;
  try {
    reply = request.kind === 'record' ? record(request, transfer) : chunk(request, transfer);
  } catch (error) {
    transfer.length = 0;
    reply = {
      id: request.id,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    };
  }
  scope.postMessage(reply, transfer);
};

/**
 * Worker thread of `auditseal verify --jobs N` (cli/verify-workers.ts): checks archive chunks with the
 * verifier's own verifyChunk and sends back its findings and the chunk's committed leaf hashes, packed
 * into one transferred buffer; and checks batch records with checkBatchRecord (parse, JCS, schema, batch
 * root), sending back the record's leaves in transferred buffers. It holds no state between requests and
 * no keys: signatures are checked by the main thread. Bundled as dist/cli/verify-chunk.worker.mjs.
 */
import { parentPort } from 'node:worker_threads';
import { HASH_SIZE } from '../shared/merkle/rfc6962.ts';
import { checkBatchRecord } from '../shared/verify/batch-record-check.ts';
import { verifyChunk } from '../shared/verify/verify-chunk.ts';
import type {
  ChunkReply,
  ChunkRequest,
  RecordRequest,
  WorkerReply,
  WorkerRequest,
} from './verify-workers.ts';

function view(bytes: Uint8Array | undefined): Buffer | undefined {
  return bytes === undefined ? undefined : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function chunk(request: ChunkRequest, transfer: ArrayBuffer[]): ChunkReply {
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

function record(request: RecordRequest, transfer: ArrayBuffer[]): ChunkReply {
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

const port = parentPort;
if (!port) throw new Error('verify-chunk.worker must run as a worker thread');
/** The request's own buffers, given back to the pool to be filled again (nothing here keeps a view). */
function spare(request: WorkerRequest): ArrayBuffer[] {
  // The archive goes back as the reply's `archive`, in the same transfer.
  const views = request.kind === 'record' ? [request.line] : [request.index];
  return views.flatMap((v) => (v?.buffer instanceof ArrayBuffer ? [v.buffer] : []));
}

port.on('message', (request: WorkerRequest) => {
  let reply: WorkerReply;
  const transfer: ArrayBuffer[] = [];
  try {
    reply = request.kind === 'record' ? record(request, transfer) : chunk(request, transfer);
  } catch (error) {
    transfer.length = 0;
    reply = {
      id: request.id,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    };
  }
  const given = spare(request);
  const archive = request.kind === 'chunk' ? request.archive?.buffer : undefined;
  const back = archive instanceof ArrayBuffer && 'findings' in reply ? [archive] : [];
  port.postMessage({ ...reply, spare: given }, [...transfer, ...given, ...back]);
});

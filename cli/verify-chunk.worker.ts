/**
 * Worker thread of `auditseal verify --jobs N` (cli/verify-workers.ts): checks archive chunks with the
 * verifier's own verifyChunk and sends back its findings and the chunk's committed leaf hashes, packed
 * into one transferred buffer; and checks batch records with checkBatchRecord (parse, JCS, schema, batch
 * root), sending back the record's leaves in transferred buffers. It holds no state between requests and
 * no keys: signatures are checked by the main thread. Bundled as dist/cli/verify-chunk.worker.mjs.
 */
import { parentPort } from 'node:worker_threads';
import { answerChunkRequest } from '../shared/verify/chunk-requests.ts';
import type { WorkerReply, WorkerRequest } from './verify-workers.ts';

const port = parentPort;
if (!port) throw new Error('verify-chunk.worker must run as a worker thread');
/** The request's own buffers, given back to the pool to be filled again (nothing here keeps a view). */
function spare(request: WorkerRequest): ArrayBuffer[] {
  // The archive goes back as the reply's `archive`, in the same transfer.
  const views = request.kind === 'record' ? [request.line] : [request.index];
  return views.flatMap((v) => (v?.buffer instanceof ArrayBuffer ? [v.buffer] : []));
}

port.on('message', (request: WorkerRequest) => {
  const transfer: ArrayBuffer[] = [];
  const reply: WorkerReply = answerChunkRequest(request, transfer);
  const given = spare(request);
  const archive = request.kind === 'chunk' ? request.archive?.buffer : undefined;
  const back = archive instanceof ArrayBuffer && 'findings' in reply ? [archive] : [];
  port.postMessage({ ...reply, spare: given }, [...transfer, ...given, ...back]);
});

/**
 * A chunk worker of the auditor's page: what `auditseal verify --jobs N` runs in each worker thread
 * (cli/verify-chunk.worker.ts), as a Web Worker started by the verification worker (chunk-pool.ts).
 * It checks archive chunks with the verifier's own verifyChunk and batch records with checkBatchRecord,
 * speaks the CLI pool's protocol (cli/verify-workers.ts), holds no state between requests and no keys.
 */
import { answerChunkRequest, type ChunkReply, type WorkerRequest } from '../shared/verify/chunk-requests.ts';

const scope = self as unknown as {
  postMessage(message: ChunkReply, transfer: Transferable[]): void;
  onmessage: ((event: { data: WorkerRequest }) => void) | null;
};

scope.onmessage = ({ data: request }) => {
  const transfer: ArrayBuffer[] = [];
  const reply = answerChunkRequest(request, transfer);
  // The archive's bytes go back to the verifier, which uses them after the check (profiles, --deep).
  if (request.kind === 'chunk' && request.archive && 'findings' in reply) {
    transfer.push(request.archive.buffer as ArrayBuffer);
  }
  scope.postMessage(reply, transfer);
};

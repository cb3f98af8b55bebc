/**
 * Worker thread of `auditseal verify --jobs N` (cli/verify-workers.ts): checks archive chunks with the
 * verifier's own verifyChunk and sends back its findings and the chunk's committed leaf hashes, packed
 * into one transferred buffer. It holds no state between chunks. Bundled as dist/cli/verify-chunk.worker.mjs.
 */
import { parentPort } from 'node:worker_threads';
import { HASH_SIZE } from '../shared/merkle/rfc6962.ts';
import { verifyChunk } from '../shared/verify/verify-chunk.ts';
import type { ChunkReply, ChunkRequest } from './verify-workers.ts';

function view(bytes: Uint8Array | undefined): Buffer | undefined {
  return bytes === undefined ? undefined : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const port = parentPort;
if (!port) throw new Error('verify-chunk.worker must run as a worker thread');
port.on('message', (request: ChunkRequest) => {
  let reply: ChunkReply;
  const transfer: ArrayBuffer[] = [];
  try {
    const result = verifyChunk(request.ref, view(request.archive), view(request.index), request.cut);
    let leaves: Uint8Array | undefined;
    if (result.committedLeaves) {
      const packed = new Uint8Array(result.committedLeaves.length * HASH_SIZE);
      for (const [i, leaf] of result.committedLeaves.entries()) packed.set(leaf, i * HASH_SIZE);
      transfer.push(packed.buffer);
      leaves = packed;
    }
    reply = {
      id: request.id,
      findings: result.findings,
      clean: result.clean,
      ...(leaves ? { leaves } : {}),
    };
  } catch (error) {
    reply = {
      id: request.id,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    };
  }
  port.postMessage(reply, transfer);
});

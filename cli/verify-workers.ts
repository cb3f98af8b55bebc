/**
 * `auditseal verify --jobs N`: archive chunks are checked by N worker threads (cli/verify-chunk.worker.ts)
 * while the verifier reads ahead and uses the results strictly in chunk order (VerifyOptions.chunks), so
 * the report is the same, byte for byte, as with one thread. Each chunk's bytes are copied into a buffer
 * that is transferred to its worker; the leaf hashes come back in one transferred buffer.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ArchiveRef } from '../shared/ledger/formats.ts';
import type { Period } from '../shared/ledger/period.ts';
import type { CheckedRecord } from '../shared/verify/batch-record-check.ts';
import type {
  ChunkReply,
  ChunkRequest,
  RecordRequest,
  WorkerRequest,
} from '../shared/verify/chunk-requests.ts';
import { type ChunkSlot, ChunkSlots } from '../shared/verify/chunk-slots.ts';
import type { ChunkResult } from '../shared/verify/verify-chunk.ts';
import type { ChunkChecker } from '../shared/verify/verify-folder.ts';
import { UsageError } from './errors.ts';

/** Most worker threads `--jobs` accepts: more than any machine this runs on needs, and each holds chunks. */
export const MAX_JOBS = 256;

/** The default `--jobs`: the cores Node may use. */
export function defaultJobs(): number {
  return Math.max(1, Math.min(MAX_JOBS, availableParallelism()));
}

/** Parses `--jobs N`: an integer from 1 to MAX_JOBS, or a UsageError (exit 2). */
export function parseJobs(text: string): number {
  if (!/^[0-9]+$/.test(text.trim()) || Number(text) < 1 || Number(text) > MAX_JOBS) {
    throw new UsageError(`--jobs must be a whole number from 1 to ${MAX_JOBS}, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

export type { ChunkReply, ChunkRequest, RecordRequest, WorkerRequest };

/** Every reply also gives back the request's buffers (transferred), for the pool to fill again. */
export type WorkerReply = ChunkReply & { readonly spare?: ArrayBuffer[] };

/**
 * The worker beside this module: the bundled .mjs in dist/cli/, or, when this runs from source (tests,
 * benchmarks under tsx), the .ts source loaded through tsx's API, since a worker does not inherit the
 * parent's `--import tsx` hooks on Node 20.
 */
function startWorker(file?: URL): Worker {
  if (file) return new Worker(file);
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./verify-chunk.worker.mjs', import.meta.url));
  const source = new URL('./verify-chunk.worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); });`;
  return new Worker(boot, { eval: true });
}

/** Spare buffers are allocated in steps of this size, so that one fits the next chunk of about the same size. */
const SPARE_STEP = 1 << 20;
/**
 * A ChunkChecker over `jobs` worker threads, started on first use (a folder without chunks starts none).
 * Chunks go to the worker with the fewest in flight (shared/verify/chunk-slots.ts). Call close() when
 * done; it ends every worker.
 */
export class ChunkWorkerPool implements ChunkChecker {
  readonly lookahead: number;
  readonly #file: URL | undefined;
  readonly #slots: ChunkSlots<Worker>;
  /**
   * Buffers given back by the workers. Each request's bytes are copied into one of these rather than into
   * new memory: a fresh 16 MiB buffer costs a page fault per 4 KiB on first touch, which on the machine
   * of docs/BENCHMARKS.md made each copy 100 times slower than the copy itself.
   */
  readonly #spare: ArrayBuffer[] = [];
  readonly #take: boolean;

  /**
   * `worker`: the worker's file, when not the one beside this module (the benchmark runs the bundled one).
   * `takeBuffers`: the chunk bytes handed to check() belong to the caller alone (a FolderReader allocates
   * each read), so a buffer that is exactly one read is transferred to the worker instead of copied, and
   * the archive comes back in the result. Without it every chunk is copied.
   */
  constructor(jobs: number, options: { worker?: URL; takeBuffers?: boolean } = {}) {
    this.#take = options.takeBuffers === true;
    this.#file = options.worker;
    this.#slots = new ChunkSlots(jobs, MAX_JOBS, 'verifier worker', (slot) => this.#start(slot));
    this.lookahead = this.#slots.lookahead;
  }

  async check(
    ref: ArchiveRef,
    archive: Buffer | undefined,
    index: Buffer | undefined,
    cut: boolean,
  ): Promise<ChunkResult> {
    const archiveCopy = this.#own(archive);
    const taken = archiveCopy !== undefined && archiveCopy === archive;
    const indexCopy = this.#own(index);
    const reply = await this.#slots.send(
      (id) => ChunkSlots.chunkRequest(id, ref, cut, archiveCopy, indexCopy),
      [archiveCopy?.buffer, indexCopy?.buffer],
    );
    const result = this.#slots.chunkResult(reply, taken);
    // The caller's own buffer comes back to the caller; a copy's buffer is a spare for the next chunk.
    if (!taken && 'archive' in reply && reply.archive) this.#keepSpare(reply.archive.buffer);
    return result;
  }

  /** checkBatchRecord(line, context) in a worker: the line is copied and transferred. */
  async checkRecord(line: Buffer, context: { ledger: string; period: Period }): Promise<CheckedRecord> {
    return this.#slots.checkRecord(this.#copy(line)!, context);
  }

  /** Keeps a buffer given back, up to enough for every request in flight; more are left to the GC. */
  #keepSpare(buffer: ArrayBufferLike): void {
    if (buffer instanceof ArrayBuffer && this.#spare.length < 2 * this.lookahead + 2)
      this.#spare.push(buffer);
  }

  /**
   * `bytes` in a buffer that can be transferred: the caller's own buffer when it may be taken (see
   * takeBuffers) and is exactly this read (one allocation, beyond Buffer's shared 8 KiB pool), else a copy.
   */
  #own(bytes: Buffer | undefined): Uint8Array | undefined {
    if (
      bytes !== undefined &&
      this.#take &&
      bytes.byteOffset === 0 &&
      bytes.buffer instanceof ArrayBuffer &&
      bytes.buffer.byteLength > Buffer.poolSize &&
      bytes.buffer.byteLength - bytes.byteLength <= 1
    ) {
      return bytes;
    }
    return this.#copy(bytes);
  }

  /** A copy of `bytes` in a buffer the pool owns (a spare one when one fits), which can be transferred. */
  #copy(bytes: Uint8Array | undefined): Uint8Array | undefined {
    if (bytes === undefined) return undefined;
    let at = -1;
    for (let i = 0; i < this.#spare.length; i++) {
      const size = this.#spare[i]!.byteLength;
      if (size >= bytes.length && (at === -1 || size < this.#spare[at]!.byteLength)) at = i;
    }
    const buffer =
      at === -1
        ? new ArrayBuffer(Math.max(SPARE_STEP, Math.ceil(bytes.length / SPARE_STEP) * SPARE_STEP))
        : this.#spare.splice(at, 1)[0]!;
    const copy = new Uint8Array(buffer, 0, bytes.length);
    copy.set(bytes);
    return copy;
  }

  /** Ends every worker; checks still in flight are rejected. */
  async close(): Promise<void> {
    const slots = this.#slots.release();
    await Promise.all(slots.map((s) => s.worker.terminate()));
    for (const slot of slots) this.#slots.fail(slot, new Error('the verifier worker pool was closed'));
  }

  #start(slot: ChunkSlot<Worker>): Worker {
    const worker = startWorker(this.#file);
    worker.on('message', (reply: WorkerReply) => {
      // Enough spares for every request in flight; any more are left to the garbage collector.
      for (const buffer of reply.spare ?? []) this.#keepSpare(buffer);
      this.#slots.reply(slot, reply);
    });
    worker.on('error', (error) => this.#slots.fail(slot, error));
    worker.on('exit', (code) => {
      if (slot.pending.size > 0)
        this.#slots.fail(slot, new Error(`a verifier worker exited with code ${code}`));
    });
    return worker;
  }
}

/**
 * The page's `--jobs`: a ChunkChecker (shared/verify/verify-folder.ts) over Web Workers that run
 * ui/chunk-worker.ts, the browser twin of the CLI's pool (cli/verify-workers.ts), with its protocol.
 * verifyFolder reads `lookahead` chunks ahead and uses their results strictly in chunk order, so the report
 * is the same, finding for finding, as with the verifier alone in one worker.
 *
 * A chunk read from a picked or served file is a buffer of its own (one read, one ArrayBuffer): it is
 * transferred to its worker, not copied, and comes back with the result. Anything else is copied.
 */

import type { ArchiveRef } from '../shared/ledger/formats.ts';
import type { Period } from '../shared/ledger/period.ts';
import type { CheckedRecord } from '../shared/verify/batch-record-check.ts';
import { type ChunkReply, unpackLeaves, type WorkerRequest } from '../shared/verify/chunk-requests.ts';
import type { ChunkResult } from '../shared/verify/verify-chunk.ts';
import type { ChunkChecker } from '../shared/verify/verify-folder.ts';

/** Most chunk workers the page starts, whatever the browser reports. */
export const MAX_PAGE_JOBS = 16;

interface Pending {
  readonly resolve: (reply: ChunkReply) => void;
  readonly reject: (error: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
}

export class PageChunkPool implements ChunkChecker {
  readonly lookahead: number;
  readonly #jobs: number;
  readonly #source: string;
  readonly #slots: Slot[] = [];
  #url: string | undefined;
  #nextId = 0;
  #failed: Error | undefined;

  /** `workerSource`: the bundled chunk-worker.ts, started from a blob: URL (the page's CSP allows that). */
  constructor(jobs: number, workerSource: string) {
    if (!Number.isSafeInteger(jobs) || jobs < 1 || jobs > MAX_PAGE_JOBS)
      throw new RangeError(`jobs: ${jobs}`);
    this.#jobs = jobs;
    this.#source = workerSource;
    // Two chunks per worker: one being hashed, one read and queued behind it.
    this.lookahead = 2 * jobs;
  }

  async check(
    ref: ArchiveRef,
    archive: Buffer | undefined,
    index: Buffer | undefined,
    cut: boolean,
  ): Promise<ChunkResult & { archive?: Buffer }> {
    const archiveOwn = transferable(archive);
    const indexOwn = transferable(index);
    const reply = await this.#send(
      (id) => ({
        kind: 'chunk',
        id,
        ref,
        cut,
        ...(archiveOwn ? { archive: archiveOwn } : {}),
        ...(indexOwn ? { index: indexOwn } : {}),
      }),
      [archiveOwn?.buffer, indexOwn?.buffer],
    );
    if (!('findings' in reply)) throw new Error('chunk worker: a chunk check got another reply');
    const leaves = reply.leaves;
    const back = reply.archive;
    return {
      findings: reply.findings,
      clean: reply.clean,
      ...(back ? { archive: Buffer.from(back.buffer, back.byteOffset, back.byteLength) } : {}),
      ...(leaves
        ? {
            committedLeaves: unpackLeaves(leaves),
          }
        : {}),
    };
  }

  async checkRecord(line: Buffer, context: { ledger: string; period: Period }): Promise<CheckedRecord> {
    const copy = new Uint8Array(line);
    const reply = await this.#send(
      (id) => ({
        kind: 'record',
        id,
        line: copy,
        ledger: context.ledger,
        period: { startMs: context.period.startMs, seconds: context.period.seconds },
      }),
      [copy.buffer],
    );
    if (!('record' in reply)) throw new Error('chunk worker: a record check got another reply');
    return reply.record;
  }

  /** Ends every worker; checks still in flight are rejected. */
  close(): void {
    for (const slot of this.#slots.splice(0)) {
      slot.worker.terminate();
      this.#fail(slot, new Error('the chunk worker pool was closed'));
    }
    if (this.#url) URL.revokeObjectURL(this.#url);
    this.#url = undefined;
  }

  #send(
    request: (id: number) => WorkerRequest,
    buffers: (ArrayBufferLike | undefined)[],
  ): Promise<ChunkReply> {
    if (this.#failed) return Promise.reject(this.#failed);
    const slot = this.#slot();
    const id = this.#nextId++;
    const transfer = buffers.filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
    return new Promise<ChunkReply>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage(request(id), transfer);
    });
  }

  /** The worker with the fewest checks in flight, starting one while fewer than `jobs` run. */
  #slot(): Slot {
    if (this.#slots.length < this.#jobs) {
      const idle = this.#slots.find((s) => s.pending.size === 0);
      return idle ?? this.#start();
    }
    return this.#slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
  }

  #start(): Slot {
    this.#url ??= URL.createObjectURL(new Blob([this.#source], { type: 'text/javascript' }));
    const worker = new Worker(this.#url);
    const slot: Slot = { worker, pending: new Map() };
    worker.onmessage = (event: MessageEvent<ChunkReply>) => {
      const reply = event.data;
      const pending = slot.pending.get(reply.id);
      if (!pending) return;
      slot.pending.delete(reply.id);
      if ('error' in reply) pending.reject(new Error(`chunk worker: ${reply.error}`));
      else pending.resolve(reply);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      this.#fail(slot, new Error(`a chunk worker failed: ${event.message}`));
    };
    this.#slots.push(slot);
    return slot;
  }

  #fail(slot: Slot, error: Error): void {
    this.#failed ??= error;
    for (const pending of slot.pending.values()) pending.reject(error);
    slot.pending.clear();
  }
}

/**
 * `bytes` in a buffer that can be transferred without a copy: itself when it is the whole of its own
 * ArrayBuffer (each read of the page's readers is), else a copy.
 */
function transferable(bytes: Buffer | undefined): Uint8Array | undefined {
  if (bytes === undefined) return undefined;
  if (
    bytes.byteOffset === 0 &&
    bytes.buffer instanceof ArrayBuffer &&
    bytes.byteLength === bytes.buffer.byteLength
  )
    return bytes;
  return new Uint8Array(bytes);
}

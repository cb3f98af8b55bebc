/**
 * What the two chunk worker pools share, the CLI's worker threads (`auditseal verify --jobs N`,
 * cli/verify-workers.ts) and the auditor's page's Web Workers (ui/chunk-pool.ts): the worker slots, each
 * with its checks in flight; which slot takes the next request; request ids and their replies; failing a
 * slot's checks; and the requests and results around a check. The pools keep what differs: how a worker
 * starts and reports, and whose buffers are transferred or copied.
 */
import type { ArchiveRef } from '../ledger/formats.ts';
import type { Period } from '../ledger/period.ts';
import type { CheckedRecord } from './batch-record-check.ts';
import { type ChunkReply, type RecordRequest, unpackLeaves, type WorkerRequest } from './chunk-requests.ts';
import type { ChunkResult } from './verify-chunk.ts';

/** A worker as the slots use it: Node's `worker_threads.Worker` and the browser's `Worker` both fit. */
export interface SlotWorker {
  postMessage(message: WorkerRequest, transfer: ArrayBuffer[]): void;
}

interface Pending {
  readonly resolve: (reply: ChunkReply) => void;
  readonly reject: (error: Error) => void;
}

export interface ChunkSlot<W extends SlotWorker> {
  readonly worker: W;
  readonly pending: Map<number, Pending>;
}

/**
 * Up to `jobs` workers, started on first use by `start` (which wires the worker's messages to `reply` and
 * its failures to `fail`). A request goes to an idle worker, else a new one while fewer than `jobs` run,
 * else the one with the fewest in flight. `name` starts the errors' messages ("verifier worker").
 */
export class ChunkSlots<W extends SlotWorker> {
  /** The pool's ChunkChecker.lookahead: two chunks per worker, one being hashed, one read and queued behind it. */
  readonly lookahead: number;
  readonly #jobs: number;
  readonly #name: string;
  readonly #start: (slot: ChunkSlot<W>) => W;
  readonly #slots: ChunkSlot<W>[] = [];
  #nextId = 0;
  #failed: Error | undefined;

  /**
   * `jobs`: an integer from 1 to `maxJobs`, else a RangeError. `start(slot)`: a new worker for `slot`; its
   * messages go to `reply(slot, …)`, its failures to `fail(slot, …)`.
   */
  constructor(jobs: number, maxJobs: number, name: string, start: (slot: ChunkSlot<W>) => W) {
    if (!Number.isSafeInteger(jobs) || jobs < 1 || jobs > maxJobs) throw new RangeError(`jobs: ${jobs}`);
    this.#jobs = jobs;
    this.lookahead = 2 * jobs;
    this.#name = name;
    this.#start = start;
  }

  /** Sends the request made for a fresh id to a worker, transferring `buffers` (ArrayBuffers only). */
  send(
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

  /** Settles the check that `reply` answers, if it is still in flight on `slot`. */
  reply(slot: ChunkSlot<W>, reply: ChunkReply): void {
    const pending = slot.pending.get(reply.id);
    if (!pending) return;
    slot.pending.delete(reply.id);
    if ('error' in reply) {
      pending.reject(new Error(`${this.#name}: ${reply.error}`));
      return;
    }
    pending.resolve(reply);
  }

  /** Rejects every check in flight on `slot`; every later request is rejected with the first such error. */
  fail(slot: ChunkSlot<W>, error: Error): void {
    this.#failed ??= error;
    for (const pending of slot.pending.values()) pending.reject(error);
    slot.pending.clear();
  }

  /** Removes every slot and returns them, for the pool to end their workers and fail their checks. */
  release(): ChunkSlot<W>[] {
    return this.#slots.splice(0);
  }

  #slot(): ChunkSlot<W> {
    if (this.#slots.length < this.#jobs) {
      const idle = this.#slots.find((s) => s.pending.size === 0);
      if (idle) return idle;
      const slot = { pending: new Map() } as { worker: W; pending: Map<number, Pending> };
      slot.worker = this.#start(slot);
      this.#slots.push(slot);
      return slot;
    }
    return this.#slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
  }

  /** The check's result from a chunk reply; `archive` is the bytes given back, when the caller takes them. */
  chunkResult(reply: ChunkReply, archive: boolean): ChunkResult & { archive?: Buffer } {
    if (!('findings' in reply)) throw new Error(`${this.#name}: a chunk check got another reply`);
    const leaves = reply.leaves;
    const back = archive ? reply.archive : undefined;
    return {
      findings: reply.findings,
      clean: reply.clean,
      ...(back ? { archive: Buffer.from(back.buffer, back.byteOffset, back.byteLength) } : {}),
      ...(leaves ? { committedLeaves: unpackLeaves(leaves) } : {}),
    };
  }

  /** checkBatchRecord(line, context) in a worker; `line` is a buffer the pool may transfer. */
  async checkRecord(line: Uint8Array, context: { ledger: string; period: Period }): Promise<CheckedRecord> {
    const reply = await this.send(
      (id): RecordRequest => ({
        kind: 'record',
        id,
        line,
        ledger: context.ledger,
        period: { startMs: context.period.startMs, seconds: context.period.seconds },
      }),
      [line.buffer],
    );
    if (!('record' in reply)) throw new Error(`${this.#name}: a record check got another reply`);
    return reply.record;
  }

  /** The request of a chunk check, with the bytes to send. */
  static chunkRequest(
    id: number,
    ref: ArchiveRef,
    cut: boolean,
    archive: Uint8Array | undefined,
    index: Uint8Array | undefined,
  ): WorkerRequest {
    return {
      kind: 'chunk',
      id,
      ref,
      cut,
      ...(archive ? { archive } : {}),
      ...(index ? { index } : {}),
    };
  }
}

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
import type { ChunkReply } from '../shared/verify/chunk-requests.ts';
import { type ChunkSlot, ChunkSlots } from '../shared/verify/chunk-slots.ts';
import type { ChunkResult } from '../shared/verify/verify-chunk.ts';
import type { ChunkChecker } from '../shared/verify/verify-folder.ts';

/** Most chunk workers the page starts, whatever the browser reports. */
export const MAX_PAGE_JOBS = 16;

export class PageChunkPool implements ChunkChecker {
  readonly lookahead: number;
  readonly #source: string;
  readonly #slots: ChunkSlots<Worker>;
  #url: string | undefined;

  /** `workerSource`: the bundled chunk-worker.ts, started from a blob: URL (the page's CSP allows that). */
  constructor(jobs: number, workerSource: string) {
    this.#source = workerSource;
    this.#slots = new ChunkSlots(jobs, MAX_PAGE_JOBS, 'chunk worker', (slot) => this.#start(slot));
    this.lookahead = this.#slots.lookahead;
  }

  async check(
    ref: ArchiveRef,
    archive: Buffer | undefined,
    index: Buffer | undefined,
    cut: boolean,
  ): Promise<ChunkResult & { archive?: Buffer }> {
    const archiveOwn = transferable(archive);
    const indexOwn = transferable(index);
    const reply = await this.#slots.send(
      (id) => ChunkSlots.chunkRequest(id, ref, cut, archiveOwn, indexOwn),
      [archiveOwn?.buffer, indexOwn?.buffer],
    );
    return this.#slots.chunkResult(reply, true);
  }

  async checkRecord(line: Buffer, context: { ledger: string; period: Period }): Promise<CheckedRecord> {
    return this.#slots.checkRecord(new Uint8Array(line), context);
  }

  /** Ends every worker; checks still in flight are rejected. */
  close(): void {
    for (const slot of this.#slots.release()) {
      slot.worker.terminate();
      this.#slots.fail(slot, new Error('the chunk worker pool was closed'));
    }
    if (this.#url) URL.revokeObjectURL(this.#url);
    this.#url = undefined;
  }

  #start(slot: ChunkSlot<Worker>): Worker {
    this.#url ??= URL.createObjectURL(new Blob([this.#source], { type: 'text/javascript' }));
    const worker = new Worker(this.#url);
    worker.onmessage = (event: MessageEvent<ChunkReply>) => this.#slots.reply(slot, event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      this.#slots.fail(slot, new Error(`a chunk worker failed: ${event.message}`));
    };
    return worker;
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

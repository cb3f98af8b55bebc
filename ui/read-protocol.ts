/**
 * The page's file-read worker (ui/read-worker.ts) and its client (`WorkerBlobReads`, used by the
 * verification worker's PickedFilesReader).
 *
 * Why a worker of its own: a Blob's bytes reach a worker as tasks on that worker's own event loop, so a
 * read the verification worker starts makes no progress while it hashes a chunk. Read ahead or not, it then
 * waited for every chunk after checking the one before (idle about 30 % of its time on the 1M-event folder,
 * docs/BENCHMARKS.md). A worker that only reads keeps the reads moving; each read's ArrayBuffer is
 * transferred back, not copied.
 */

/** One bounded read: at most `max` bytes from the start of `file`. */
export interface ReadRequest {
  readonly id: number;
  readonly file: Blob;
  readonly max: number;
}

export type ReadReply =
  | { readonly id: number; readonly bytes: ArrayBuffer }
  | { readonly id: number; readonly error: string };

/** Reads a Blob's first `max` bytes. */
export type BlobReads = (file: Blob, max: number) => Promise<ArrayBuffer>;

/** Reads in the calling thread: what PickedFilesReader does without a read worker. */
export const readInThread: BlobReads = (file, max) => file.slice(0, Math.max(0, max)).arrayBuffer();

/** What the read worker does with one request (kept apart so that it is tested outside a browser). */
export async function answerRead(
  request: ReadRequest,
): Promise<{ reply: ReadReply; transfer: ArrayBuffer[] }> {
  try {
    const bytes = await readInThread(request.file, request.max);
    return { reply: { id: request.id, bytes }, transfer: [bytes] };
  } catch (error) {
    return {
      reply: { id: request.id, error: error instanceof Error ? error.message : String(error) },
      transfer: [],
    };
  }
}

/** The part of a Worker the client uses (a test gives it an in-process stand-in). */
export interface ReadEndpoint {
  postMessage(message: ReadRequest): void;
  onmessage: ((event: { data: ReadReply }) => void) | null;
  onerror: ((event: { message?: string; preventDefault(): void }) => void) | null;
  terminate(): void;
}

/**
 * Reads through a read worker. Reads run concurrently there and are answered by id. If the worker fails
 * (it cannot start, or it throws), the reads it had are retried in the calling thread and every later
 * read is made there: a read is never lost, only slower.
 */
export class WorkerBlobReads {
  readonly #pending = new Map<
    number,
    { file: Blob; max: number; resolve(b: ArrayBuffer): void; reject(e: Error): void }
  >();
  #endpoint: ReadEndpoint | undefined;
  #nextId = 1;

  constructor(endpoint: ReadEndpoint | undefined) {
    this.#endpoint = endpoint;
    if (!endpoint) return;
    endpoint.onmessage = ({ data }) => {
      const waiting = this.#pending.get(data.id);
      if (!waiting) return;
      this.#pending.delete(data.id);
      if ('bytes' in data) waiting.resolve(data.bytes);
      else waiting.reject(new Error(`reading a picked file failed: ${data.error}`));
    };
    endpoint.onerror = (event) => {
      event.preventDefault();
      this.#fallBack();
    };
  }

  /** Whether reads still go through the worker. */
  get inWorker(): boolean {
    return this.#endpoint !== undefined;
  }

  readonly read: BlobReads = (file, max) => {
    const endpoint = this.#endpoint;
    if (!endpoint) return readInThread(file, max);
    return new Promise((resolve, reject) => {
      const id = this.#nextId++;
      this.#pending.set(id, { file, max, resolve, reject });
      endpoint.postMessage({ id, file, max });
    });
  };

  #fallBack(): void {
    const endpoint = this.#endpoint;
    this.#endpoint = undefined;
    if (endpoint) {
      endpoint.onmessage = null;
      endpoint.onerror = null;
      endpoint.terminate();
    }
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) readInThread(p.file, p.max).then(p.resolve, p.reject);
  }
}

/**
 * The page's file-read worker (ui/read-worker.ts) and its client: reads answered by id whatever their
 * order, bounded as asked, errors named, and no read lost when the worker fails.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PickedFilesReader } from '../../../ui/browser-reader.ts';
import {
  answerRead,
  type ReadEndpoint,
  type ReadReply,
  type ReadRequest,
  WorkerBlobReads,
} from '../../../ui/read-protocol.ts';

/** An in-process read worker: answers with answerRead, holding replies until `flush` (in any order). */
class FakeReadWorker implements ReadEndpoint {
  onmessage: ((event: { data: ReadReply }) => void) | null = null;
  onerror: ((event: { message?: string; preventDefault(): void }) => void) | null = null;
  readonly requests: ReadRequest[] = [];
  terminated = false;

  postMessage(message: ReadRequest): void {
    this.requests.push(message);
  }

  terminate(): void {
    this.terminated = true;
  }

  /** Answers the requests received so far, in the given order of their positions. */
  async flush(order?: number[]): Promise<void> {
    const requests = this.requests.splice(0);
    const replies = await Promise.all(requests.map((r) => answerRead(r)));
    for (const i of order ?? replies.map((_, k) => k)) this.onmessage?.({ data: replies[i]!.reply });
  }

  fail(): void {
    this.onerror?.({ message: 'boom', preventDefault: () => undefined });
  }
}

const blobOf = (text: string): Blob => new Blob([text]);
const textOf = (bytes: ArrayBuffer): string => Buffer.from(bytes).toString('utf8');

describe('Module: ui/read-protocol', () => {
  describe('Method: answerRead', () => {
    it('reads at most `max` bytes from the start of the file, and transfers them', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.string({ maxLength: 80 }),
          fc.integer({ min: -5, max: 100 }),
          async (text, max) => {
            // Act
            const { reply, transfer } = await answerRead({ id: 7, file: blobOf(text), max });
            // Assess
            const expected = Buffer.from(text).subarray(0, Math.max(0, max));
            expect(reply.id).toBe(7);
            expect('bytes' in reply && Buffer.from(reply.bytes).equals(expected)).toBe(true);
            expect(transfer).toEqual('bytes' in reply ? [reply.bytes] : []);
          },
        ),
        { numRuns: 200 },
      );
    });

    describe('when the file cannot be read', () => {
      it('answers with the error, under the request id', async () => {
        // Prepare: a Blob whose read fails, as a file removed after it was picked.
        const broken = {
          slice: () => ({ arrayBuffer: () => Promise.reject(new Error('NotReadableError: gone')) }),
        } as unknown as Blob;
        // Act
        const { reply } = await answerRead({ id: 3, file: broken, max: 10 });
        // Assess
        expect(reply).toEqual({ id: 3, error: 'NotReadableError: gone' });
      });
    });
  });

  describe('Class: WorkerBlobReads', () => {
    it('gives each read its own bytes when the worker answers out of order', async () => {
      // Prepare
      const worker = new FakeReadWorker();
      const reads = new WorkerBlobReads(worker);
      // Act
      const a = reads.read(blobOf('first file'), 5);
      const b = reads.read(blobOf('second file'), 100);
      const c = reads.read(blobOf('third'), 0);
      await worker.flush([2, 0, 1]);
      // Assess
      expect(textOf(await a)).toBe('first');
      expect(textOf(await b)).toBe('second file');
      expect(textOf(await c)).toBe('');
      expect(reads.inWorker).toBe(true);
    });

    describe('when the worker answers with an error', () => {
      it('rejects that read with the reason', async () => {
        // Prepare
        const worker = new FakeReadWorker();
        const reads = new WorkerBlobReads(worker);
        const read = reads.read(blobOf('x'), 1);
        // Act
        worker.onmessage?.({ data: { id: worker.requests[0]!.id, error: 'NotFoundError' } });
        // Assess
        await expect(read).rejects.toThrow('reading a picked file failed: NotFoundError');
      });
    });

    describe('when the worker fails', () => {
      it('reads what it had, and everything after, in the calling thread', async () => {
        // Prepare
        const worker = new FakeReadWorker();
        const reads = new WorkerBlobReads(worker);
        const pending = reads.read(blobOf('pending read'), 7);
        // Act
        worker.fail();
        const later = reads.read(blobOf('later read'), 100);
        // Assess
        expect(textOf(await pending)).toBe('pending');
        expect(textOf(await later)).toBe('later read');
        expect(worker.terminated).toBe(true);
        expect(reads.inWorker).toBe(false);
        expect(worker.requests).toHaveLength(1);
      });
    });

    describe('when no worker could be started', () => {
      it('reads in the calling thread', async () => {
        const reads = new WorkerBlobReads(undefined);
        expect(textOf(await reads.read(blobOf('direct'), 3))).toBe('dir');
        expect(reads.inWorker).toBe(false);
      });
    });
  });

  describe('Class: PickedFilesReader', () => {
    it('reads through the reads it is given, with the verifier bound', async () => {
      // Prepare
      const worker = new FakeReadWorker();
      const reads = new WorkerBlobReads(worker);
      const reader = new PickedFilesReader([{ key: 'digests/a.json', file: blobOf('{"a":1}') }], reads.read);
      // Act
      const read = reader.read('digests/a.json', 4);
      await new Promise((r) => setTimeout(r, 0));
      await worker.flush();
      // Assess
      expect((await read)?.toString('utf8')).toBe('{"a"');
      await expect(reader.read('missing', 4)).resolves.toBeUndefined();
    });
  });
});

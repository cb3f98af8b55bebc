import { describe, expect, it } from 'vitest';
import type { ChunkReply, WorkerRequest } from '../../../shared/verify/chunk-requests.ts';
import { type ChunkSlot, ChunkSlots, type SlotWorker } from '../../../shared/verify/chunk-slots.ts';

/** A worker that keeps what it is sent; the test answers for it through the slots. */
class HeldWorker implements SlotWorker {
  readonly sent: { message: WorkerRequest; transfer: ArrayBuffer[] }[] = [];
  postMessage(message: WorkerRequest, transfer: ArrayBuffer[]): void {
    this.sent.push({ message, transfer });
  }
}

function slotsOf(jobs: number) {
  const started: ChunkSlot<HeldWorker>[] = [];
  const slots = new ChunkSlots<HeldWorker>(jobs, 8, 'test worker', (slot) => {
    started.push(slot);
    return new HeldWorker();
  });
  return { slots, started };
}

const ref = { archiveKey: 'a', indexKey: 'i' } as never;
const chunk = (id: number) => ChunkSlots.chunkRequest(id, ref, false, undefined, undefined);
const clean = (id: number): ChunkReply => ({ id, findings: [], clean: true });

describe('Class: ChunkSlots', () => {
  describe('Constructor', () => {
    it('reads two chunks ahead per worker', () => {
      expect(slotsOf(3).slots.lookahead).toBe(6);
    });

    describe.each([0, 9, 1.5, Number.NaN])('when jobs is %s', (jobs) => {
      it('throws a RangeError and starts no worker', () => {
        // Act
        const act = () => slotsOf(jobs);

        // Assess
        expect(act).toThrow(RangeError);
      });
    });
  });

  describe('Method: send', () => {
    describe('when more requests come than workers may run', () => {
      it('starts up to jobs workers, then sends each request to the one with the fewest in flight', () => {
        // Prepare
        const { slots, started } = slotsOf(2);

        // Act
        for (let i = 0; i < 5; i++) void slots.send(chunk, []);

        // Assess
        expect(started).toHaveLength(2);
        expect(started.map((s) => s.worker.sent.map((m) => m.message.id))).toEqual([
          [0, 2, 4],
          [1, 3],
        ]);
      });
    });

    describe('when a started worker is idle', () => {
      it('sends to it rather than starting another', async () => {
        // Prepare
        const { slots, started } = slotsOf(4);
        const first = slots.send(chunk, []);
        slots.reply(started[0]!, clean(0));
        await first;

        // Act
        void slots.send(chunk, []);

        // Assess
        expect(started).toHaveLength(1);
        expect(started[0]!.worker.sent.map((m) => m.message.id)).toEqual([0, 1]);
      });
    });

    it('transfers the ArrayBuffers given and nothing else', () => {
      // Prepare
      const { slots, started } = slotsOf(1);
      const own = new ArrayBuffer(8);

      // Act
      void slots.send(chunk, [own, undefined]);

      // Assess
      expect(started[0]!.worker.sent[0]!.transfer).toEqual([own]);
    });
  });

  describe('Method: reply', () => {
    it('settles the request the reply answers, on its slot', async () => {
      // Prepare
      const { slots, started } = slotsOf(2);
      const a = slots.send(chunk, []);
      const b = slots.send(chunk, []);

      // Act
      slots.reply(started[1]!, { id: 1, findings: [], clean: false });
      slots.reply(started[0]!, clean(0));

      // Assess
      expect(await a).toEqual(clean(0));
      expect(await b).toEqual({ id: 1, findings: [], clean: false });
    });

    describe('when the reply carries an error', () => {
      it('rejects the request with the worker name and the error', async () => {
        // Prepare
        const { slots, started } = slotsOf(1);
        const request = slots.send(chunk, []);

        // Act
        slots.reply(started[0]!, { id: 0, error: 'boom' });

        // Assess
        await expect(request).rejects.toThrow('test worker: boom');
      });
    });
  });

  describe('Method: fail', () => {
    it("rejects the slot's requests in flight and every later request with the first error", async () => {
      // Prepare
      const { slots, started } = slotsOf(1);
      const inFlight = slots.send(chunk, []);

      // Act
      slots.fail(started[0]!, new Error('first'));
      slots.fail(started[0]!, new Error('second'));

      // Assess
      await expect(inFlight).rejects.toThrow('first');
      await expect(slots.send(chunk, [])).rejects.toThrow('first');
    });
  });

  describe('Method: chunkResult', () => {
    describe('when the reply is not a chunk reply', () => {
      it('throws, naming the worker', () => {
        // Prepare
        const { slots } = slotsOf(1);

        // Act
        const act = () => slots.chunkResult({ id: 0, error: 'x' }, false);

        // Assess
        expect(act).toThrow('test worker: a chunk check got another reply');
      });
    });

    it('gives the archive back only when asked to, and the committed leaves as 32-byte views', () => {
      // Prepare
      const { slots } = slotsOf(1);
      const leaves = new Uint8Array(64).fill(7);
      const reply: ChunkReply = { id: 0, findings: [], clean: true, leaves, archive: new Uint8Array([1, 2]) };

      // Act
      const taken = slots.chunkResult(reply, true);
      const left = slots.chunkResult(reply, false);

      // Assess
      expect(taken.archive).toEqual(Buffer.from([1, 2]));
      expect(left.archive).toBeUndefined();
      expect(taken.committedLeaves?.map((l) => l.length)).toEqual([32, 32]);
    });
  });
});

// WriteBatch: the small writes of a batch joined by a framer's cut record or by their memory, never wrongly.
import * as fc from 'fast-check';
import type { Socket } from 'net';
import { WriteBatch } from '../../lib/core/WriteBatch';
import { ChunkQueue } from '../../lib/framing/ChunkQueue';
import type { FrameCut } from '../../lib/util/FrameCut';

/** A socket that records what it is handed. */
function fakeSocket(): { socket: Socket; writes: Uint8Array[] } {
  const writes: Uint8Array[] = [];
  const socket = {
    writableLength: 0,
    writableHighWaterMark: 16 * 1024,
    write(chunk: Uint8Array | string) {
      writes.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      return true;
    },
    cork() {},
    uncork() {},
  };
  return { socket: socket as unknown as Socket, writes };
}

/** A batch on a fake socket; writes are made as if a chunk were dispatched, so no tick is scheduled. */
function batchOf(socket: Socket): WriteBatch {
  const batch: WriteBatch = new WriteBatch(socket, { flushBatch: () => batch.end() });
  return batch;
}

const write = (batch: WriteBatch, frame: Buffer, cut: FrameCut | undefined) =>
  batch.write(frame, undefined, false, true, cut);

const typedArray = Object.getPrototypeOf(Uint8Array.prototype) as object;
const byteOffsetOf = Object.getOwnPropertyDescriptor(typedArray, 'byteOffset')!.get!;
const bufferOf = Object.getOwnPropertyDescriptor(typedArray, 'buffer')!.get!;

/** Counts the reads of `view`'s `byteOffset` and `buffer` (the slow ones the cut record spares). */
function watch(view: Buffer, reads: { n: number }): Buffer {
  Object.defineProperty(view, 'byteOffset', {
    get: () => (reads.n++, byteOffsetOf.call(view) as number),
  });
  Object.defineProperty(view, 'buffer', { get: () => (reads.n++, bufferOf.call(view) as ArrayBufferLike) });
  return view;
}

describe('WriteBatch', () => {
  it('joins the frames a cut record describes into one view of their chunk, without asking the frames where they lie', () => {
    const { socket, writes } = fakeSocket();
    const batch = batchOf(socket);
    const chunk = Buffer.from('one\ntwo\nthree\n');
    const queue = new ChunkQueue();
    queue.push(chunk);
    const reads = { n: 0 };
    for (const length of [4, 4, 6]) write(batch, watch(queue.extract(0, length, 0), reads), queue.cut);
    batch.end();
    expect(reads.n).toBe(0);
    expect(writes).toHaveLength(1);
    expect(writes[0].buffer).toBe(chunk.buffer);
    expect(writes[0].byteOffset).toBe(chunk.byteOffset);
    expect(Buffer.from(writes[0]).toString()).toBe('one\ntwo\nthree\n');
  });

  it('joins the same frames by their memory when no record is given', () => {
    const { socket, writes } = fakeSocket();
    const batch = batchOf(socket);
    const chunk = Buffer.from('one\ntwo\nthree\n');
    const queue = new ChunkQueue();
    queue.push(chunk);
    const reads = { n: 0 };
    for (const length of [4, 4, 6]) write(batch, watch(queue.extract(0, length, 0), reads), undefined);
    batch.end();
    expect(reads.n).toBeGreaterThan(0);
    expect(writes).toHaveLength(1);
    expect(writes[0].buffer).toBe(chunk.buffer);
    expect(Buffer.from(writes[0]).toString()).toBe('one\ntwo\nthree\n');
  });

  it("writes every frame's own bytes when two queues cut in turn and only one queue's record is given", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 6 })), { minLength: 1, maxLength: 40 }),
        fc.boolean(),
        (cuts, sameMemory) => {
          const { socket, writes } = fakeSocket();
          const batch = batchOf(socket);
          // Two chunks of different bytes, cut at the same positions in turn; with sameMemory they
          // are views of one buffer, the second starting where the first ends.
          const memory = Buffer.alloc(600);
          memory.fill(0x61, 0, 300).fill(0x62, 300);
          const chunks = sameMemory
            ? [memory.subarray(0, 300), memory.subarray(300)]
            : [Buffer.alloc(300, 0x61), Buffer.alloc(300, 0x62)];
          const queues = chunks.map((chunk) => {
            const queue = new ChunkQueue();
            queue.push(chunk);
            return queue;
          });
          let expected = '';
          for (const [second, size] of cuts) {
            const frame = queues[second ? 1 : 0].consume(size);
            expected += frame.toString();
            // The connection knows the record of its own framer only: the first queue's.
            write(batch, frame, queues[0].cut);
          }
          batch.end();
          expect(Buffer.concat(writes).toString()).toBe(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});

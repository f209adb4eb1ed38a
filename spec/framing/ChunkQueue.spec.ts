// ChunkQueue: views inside a chunk, one copy across chunks, searches and reads that span chunks.
import fc from 'fast-check';
import { setFlagsFromString } from 'v8';
import { runInNewContext } from 'vm';
import { ChunkQueue, MERGE_BELOW } from '../../lib/framing/ChunkQueue';
import { overlaps, ownCopy, splitAt } from '../support/framing';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function queueOf(chunks: Buffer[]): ChunkQueue {
  const queue = new ChunkQueue();
  for (const c of chunks) queue.push(c);
  return queue;
}

const chunked = fc.uint8Array({ maxLength: 64 }).chain((bytes) =>
  fc.array(fc.nat({ max: bytes.length }), { maxLength: 12 }).map((cuts) => ({
    bytes: Buffer.from(bytes),
    chunks: splitAt(Buffer.from(bytes), cuts),
  })),
);

describe('ChunkQueue', () => {
  it('returns a view of the chunk when the bytes lie inside one chunk', () => {
    const chunk = Buffer.from('hello world');
    const queue = queueOf([chunk]);
    const hello = queue.consume(5);
    expect(hello.toString()).toBe('hello');
    chunk[0] = 0x48;
    expect(hello.toString()).toBe('Hello');
    expect(queue.length).toBe(6);
  });

  it('returns the chunk itself when a whole chunk held as it is is consumed from its start', () => {
    const chunk = Buffer.alloc(MERGE_BELOW, 0x61);
    const queue = queueOf([chunk, Buffer.alloc(MERGE_BELOW, 0x62)]);
    expect(queue.consume(MERGE_BELOW)).toBe(chunk);
  });

  it('copies once into a fresh buffer when the bytes span chunks', () => {
    const a = Buffer.from('abc');
    const b = Buffer.from('def');
    const queue = queueOf([a, b]);
    queue.skip(1);
    const spanning = queue.consume(4);
    expect(spanning.toString()).toBe('bcde');
    a[1] = 0x58;
    b[0] = 0x58;
    expect(spanning.toString()).toBe('bcde');
    expect(queue.consume(1).toString()).toBe('f');
    expect(queue.length).toBe(0);
    expect(queue.chunkCount).toBe(0);
  });

  it('ignores empty chunks', () => {
    const queue = queueOf([Buffer.alloc(0), Buffer.from('x'), Buffer.alloc(0)]);
    expect(queue.length).toBe(1);
    expect(queue.chunkCount).toBe(1);
  });

  it('throws a RangeError when asked for more bytes than it holds', () => {
    const queue = queueOf([Buffer.from('ab')]);
    expect(() => queue.consume(3)).toThrow(RangeError);
    expect(() => queue.skip(3)).toThrow(RangeError);
  });

  it('keeps working after thousands of one-byte chunks were pushed and consumed', () => {
    const queue = new ChunkQueue();
    const bytes = Buffer.from(Array.from({ length: 5000 }, (_, i) => i & 0xff));
    for (const b of bytes) queue.push(Buffer.from([b]));
    const out: Buffer[] = [];
    while (queue.length > 0) out.push(queue.consume(Math.min(7, queue.length)));
    expect(Buffer.concat(out)).toEqual(bytes);
    expect(queue.chunkCount).toBe(0);
  });

  it('consumes and skips to the same bytes as one concatenated buffer, however chunked', () => {
    fc.assert(
      fc.property(chunked, fc.array(fc.nat({ max: 20 }), { maxLength: 20 }), ({ bytes, chunks }, steps) => {
        const queue = queueOf(chunks);
        let position = 0;
        for (const [i, step] of steps.entries()) {
          const n = Math.min(step, queue.length);
          if (i % 3 === 2) queue.skip(n);
          else expect(queue.consume(n)).toEqual(bytes.subarray(position, position + n));
          position += n;
          expect(queue.length).toBe(bytes.length - position);
        }
      }),
    );
  });

  it('finds the first occurrence of a needle, also across chunk boundaries, as Buffer#indexOf does', () => {
    const alphabet = fc.uint8Array({ minLength: 0, maxLength: 48 }).map((a) => Buffer.from(a.map((x) => x % 3)));
    fc.assert(
      fc.property(
        alphabet.chain((bytes) =>
          fc.record({
            bytes: fc.constant(bytes),
            cuts: fc.array(fc.nat({ max: bytes.length }), { maxLength: 16 }),
            needle: fc.uint8Array({ minLength: 1, maxLength: 4 }).map((a) => Buffer.from(a.map((x) => x % 3))),
            from: fc.nat({ max: bytes.length }),
            skipped: fc.nat({ max: bytes.length }),
          }),
        ),
        ({ bytes, cuts, needle, from, skipped }) => {
          const queue = queueOf(splitAt(bytes, cuts));
          queue.skip(skipped);
          const rest = bytes.subarray(skipped);
          const start = Math.min(from, rest.length);
          const expected = rest.indexOf(needle, start);
          expect(queue.indexOf(needle, start)).toBe(expected);
        },
      ),
    );
  });

  it('finds a three-byte delimiter spread over three one-byte chunks', () => {
    const queue = queueOf([Buffer.from('ab\r'), Buffer.from('\n'), Buffer.from('\r'), Buffer.from('\nz')]);
    expect(queue.indexOf(Buffer.from('\r\n\r\n'), 0)).toBe(2);
  });

  it('reads unsigned integers of 1 to 6 bytes and signed 64-bit integers across chunks, both byte orders', () => {
    fc.assert(
      fc.property(
        chunked,
        fc.nat(),
        fc.constantFrom(1, 2, 3, 4, 5, 6),
        fc.boolean(),
        ({ bytes, chunks }, at, n, le) => {
          if (bytes.length < 8) return;
          const start = at % (bytes.length - 7);
          const queue = queueOf(chunks);
          expect(queue.readUInt(start, n, le)).toBe(le ? bytes.readUIntLE(start, n) : bytes.readUIntBE(start, n));
          expect(queue.readBigInt64(start, le)).toBe(le ? bytes.readBigInt64LE(start) : bytes.readBigInt64BE(start));
          expect(queue.byteAt(start)).toBe(bytes[start]);
          expect(queue.length).toBe(bytes.length);
        },
      ),
    );
  });

  it('extracts the middle of before + n + after bytes, as skip, consume, skip would; as text, with no view made inside a chunk', () => {
    fc.assert(
      fc.property(
        chunked,
        fc.nat({ max: 8 }),
        fc.nat({ max: 30 }),
        fc.nat({ max: 8 }),
        fc.constantFrom('utf8' as const, 'latin1' as const),
        ({ bytes, chunks }, before, n, after, encoding) => {
          if (before + n + after > bytes.length) return;
          const queue = queueOf(chunks);
          expect(queue.extract(before, n, after)).toEqual(bytes.subarray(before, before + n));
          expect(queue.length).toBe(bytes.length - before - n - after);
          if (queue.length > 0) expect(queue.byteAt(0)).toBe(bytes[before + n + after]);
          const texts = queueOf(chunks);
          expect(texts.extractText(before, n, after, encoding)).toBe(
            bytes.subarray(before, before + n).toString(encoding),
          );
          expect(texts.length).toBe(queue.length);
          if (chunks[0].length > before + n + after) expect(texts.cut.view).toBeUndefined();
        },
      ),
    );
  });

  it('finds a single byte at or after a position, in one chunk or several', () => {
    fc.assert(
      fc.property(chunked, fc.nat({ max: 255 }), fc.nat({ max: 64 }), ({ bytes, chunks }, byte, from) => {
        const start = Math.min(from, bytes.length);
        expect(queueOf(chunks).indexOfByte(byte, start)).toBe(bytes.indexOf(byte, start));
      }),
    );
  });

  it('drops everything on clear', () => {
    const queue = queueOf([Buffer.from('abc'), Buffer.from('def')]);
    queue.clear();
    expect(queue.length).toBe(0);
    expect(queue.chunkCount).toBe(0);
    queue.push(Buffer.from('g'));
    expect(queue.consume(1).toString()).toBe('g');
  });
});

describe('ChunkQueue merging small chunks', () => {
  it('holds a small chunk pushed into an empty queue as it is, and frames are views of it', () => {
    const chunk = ownCopy(Buffer.from([1, 2, 3, 4]));
    const queue = queueOf([chunk]);
    const view = queue.consume(2);
    expect(view.buffer).toBe(chunk.buffer);
    expect(queue.chunkCount).toBe(1);
  });

  it('holds a chunk of MERGE_BELOW bytes or more as it is, even behind held bytes', () => {
    const big = Buffer.alloc(MERGE_BELOW, 0x62);
    const queue = queueOf([Buffer.alloc(MERGE_BELOW * 2, 0x61), big]);
    queue.skip(MERGE_BELOW * 2);
    expect(queue.consume(10).buffer).toBe(big.buffer);
  });

  it('holds one Buffer, not one per chunk, for a frame dripped one byte per chunk, and hands it out as one view', () => {
    const bytes = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i & 0xff));
    const queue = new ChunkQueue();
    for (const b of bytes) {
      queue.push(ownCopy(Buffer.from([b])));
      expect(queue.chunkCount).toBe(1);
    }
    const frame = queue.consume(bytes.length);
    expect(frame).toEqual(bytes);
    // One run in the accumulator: the frame is a view of it, not a copy made at the end.
    expect(frame).toBe(queue.cut.view);
  });

  it('keeps the number of Buffers held under two per MERGE_BELOW bytes, however small and large chunks alternate', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: MERGE_BELOW, max: 2 * MERGE_BELOW })), {
          maxLength: 200,
        }),
        (sizes) => {
          const queue = new ChunkQueue();
          for (const size of sizes) {
            queue.push(Buffer.alloc(size, 0x61));
            expect(queue.chunkCount).toBeLessThanOrEqual(2 * Math.floor(queue.length / MERGE_BELOW) + 2);
          }
        },
      ),
    );
  });

  it('carries the few bytes left of a big chunk into the accumulator, so the big chunk is not kept for them', () => {
    const big = Buffer.alloc(64 * 1024, 0x61);
    const queue = queueOf([big]);
    queue.skip(big.length - 5);
    queue.push(ownCopy(Buffer.from([0x62])));
    expect(queue.chunkCount).toBe(1);
    const rest = queue.consume(6);
    expect(rest.toString()).toBe('aaaaab');
    expect(rest.buffer).not.toBe(big.buffer);
  });

  it('never changes the bytes of a view it handed out, and each view is where its cut record says, whatever is pushed after', () => {
    const step = fc.oneof(
      { arbitrary: fc.record({ push: fc.integer({ min: 0, max: 3 }) }), weight: 4 },
      { arbitrary: fc.record({ push: fc.integer({ min: 4, max: 2 * MERGE_BELOW }) }), weight: 1 },
      { arbitrary: fc.record({ consume: fc.integer({ min: 0, max: 300 }) }), weight: 3 },
      { arbitrary: fc.record({ skip: fc.integer({ min: 0, max: 50 }) }), weight: 1 },
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 300 }), fc.integer({ min: 1, max: 1 << 16 }), (steps, maxHeld) => {
        const queue = new ChunkQueue({ maxHeld });
        const pushed: number[] = [];
        let next = 0;
        let position = 0;
        const handedOut: { view: Buffer; expected: Buffer }[] = [];
        for (const s of steps) {
          if ('push' in s) {
            const chunk = Buffer.alloc(s.push);
            for (let i = 0; i < chunk.length; i++) pushed.push((chunk[i] = next++ & 0xff));
            queue.push(chunk);
          } else if ('consume' in s) {
            queue.cut.clear();
            const n = Math.min(s.consume, queue.length);
            const view = queue.consume(n);
            const expected = Buffer.from(pushed.slice(position, position + n));
            expect(view).toEqual(expected);
            if (queue.cut.view === view) {
              const { chunk, start, end } = queue.cut;
              expect(chunk?.buffer).toBe(view.buffer);
              expect(chunk!.byteOffset + start).toBe(view.byteOffset);
              expect(end - start).toBe(view.length);
            }
            handedOut.push({ view, expected });
            position += n;
          } else {
            const n = Math.min(s.skip, queue.length);
            queue.skip(n);
            position += n;
          }
          expect(queue.length).toBe(pushed.length - position);
        }
        for (const { view, expected } of handedOut) expect(view).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('lets go of its accumulator once it is empty', async () => {
    const queue = new ChunkQueue();
    const memory = (() => {
      queue.push(Buffer.alloc(MERGE_BELOW * 8, 0x61));
      for (let i = 0; i < MERGE_BELOW * 8; i++) queue.push(ownCopy(Buffer.from([0x62])));
      // The carried bytes and the dripped ones: an accumulator of its own memory.
      queue.skip(queue.length - 1);
      const memory = new WeakRef(queue.consume(1).buffer);
      // As decodeFrames does once the frames of a chunk are handed out.
      queue.cut.clear();
      return memory;
    })();
    for (let i = 0; i < 3 && memory.deref() !== undefined; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      gc();
    }
    expect(memory.deref()).toBeUndefined();
  });
});

describe('ChunkQueue with copy', () => {
  it('hands out copies that share no memory with the chunks, equal in content', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.array(fc.nat({ max: 64 }), { maxLength: 12 }), (bytes, cuts) => {
        const chunks = splitAt(
          Buffer.from(bytes),
          cuts.map((c) => c % (bytes.length + 1)),
        ).map((c) => ownCopy(c));
        const queue = new ChunkQueue({ copy: true });
        for (const chunk of chunks) queue.push(chunk);
        let position = 0;
        while (queue.length > 0) {
          const n = Math.min(1 + (position % 7), queue.length);
          const frame = queue.consume(n);
          expect(frame).toEqual(Buffer.from(bytes).subarray(position, position + n));
          for (const chunk of chunks) expect(overlaps(frame, chunk)).toBe(false);
          position += n;
        }
      }),
    );
  });

  it('copies even a whole chunk consumed from its start', () => {
    const chunk = Buffer.alloc(MERGE_BELOW, 0x61);
    const queue = new ChunkQueue({ copy: true });
    queue.push(chunk);
    const frame = queue.consume(MERGE_BELOW);
    expect(frame).not.toBe(chunk);
    expect(frame.buffer).not.toBe(chunk.buffer);
    expect(frame).toEqual(chunk);
  });
});

describe('ChunkQueue cut record', () => {
  it('describes where the view it handed out last lies in its chunk', () => {
    const chunk = Buffer.from('one\ntwo\nthree\n');
    const queue = queueOf([chunk]);
    queue.consume(4);
    const two = queue.extract(0, 3, 1);
    expect(queue.cut).toMatchObject({ view: two, chunk, start: 4, end: 7 });
    const rest = queue.consume(6);
    // A whole chunk's last bytes: a view of the same chunk, from where the last one ended.
    expect(queue.cut).toMatchObject({ view: rest, chunk, start: 8, end: 14 });
  });

  it('keeps its own record when another queue cuts frames in between', () => {
    const a = queueOf([Buffer.from('aaaa|aaaa|')]);
    const b = queueOf([Buffer.from('bb|bb|bb|')]);
    const first = a.extract(0, 4, 1);
    const others = [b.extract(0, 2, 1), b.extract(0, 2, 1)];
    expect(a.cut).toMatchObject({ view: first, start: 0, end: 4 });
    expect(b.cut).toMatchObject({ view: others[1], start: 3, end: 5 });
    const second = a.extract(0, 4, 1);
    expect(a.cut).toMatchObject({ view: second, start: 5, end: 9 });
    expect(b.cut.view).toBe(others[1]);
  });

  it("records neither a frame copied across chunks nor a copying queue's frames, and forgets all on clear", () => {
    const queue = queueOf([Buffer.alloc(MERGE_BELOW, 0x61), Buffer.alloc(MERGE_BELOW, 0x62)]);
    const head = queue.consume(10);
    const spanning = queue.consume(MERGE_BELOW);
    expect(queue.cut.view).toBe(head);
    expect(queue.cut.view).not.toBe(spanning);
    queue.clear();
    expect(queue.cut).toMatchObject({ view: undefined, chunk: undefined });
    const copying = new ChunkQueue({ copy: true });
    copying.push(Buffer.from('abc|'));
    copying.extract(0, 3, 1);
    expect(copying.cut.view).toBeUndefined();
  });
});

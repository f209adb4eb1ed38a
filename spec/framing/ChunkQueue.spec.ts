// ChunkQueue: views inside a chunk, one copy across chunks, searches and reads that span chunks.
import fc from 'fast-check';
import { ChunkQueue } from '../../lib/framing/ChunkQueue';
import { splitAt } from './helpers';

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

  it('returns the chunk itself when a whole chunk is consumed from its start', () => {
    const chunk = Buffer.from('abc');
    const queue = queueOf([chunk, Buffer.from('def')]);
    expect(queue.consume(3)).toBe(chunk);
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

  it('extracts the middle of before + n + after bytes, as skip, consume, skip would', () => {
    fc.assert(
      fc.property(
        chunked,
        fc.nat({ max: 8 }),
        fc.nat({ max: 30 }),
        fc.nat({ max: 8 }),
        ({ bytes, chunks }, before, n, after) => {
          if (before + n + after > bytes.length) return;
          const queue = queueOf(chunks);
          expect(queue.extract(before, n, after)).toEqual(bytes.subarray(before, before + n));
          expect(queue.length).toBe(bytes.length - before - n - after);
          if (queue.length > 0) expect(queue.byteAt(0)).toBe(bytes[before + n + after]);
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

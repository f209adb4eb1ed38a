// FrameSlab: encoded frames cut end to end from shared slabs; writeUtf8's ASCII path writes what UTF-8 would.
import { MessageChannel } from 'worker_threads';
import fc from 'fast-check';
import { FrameSlab, FRAMES, SLAB_SIZE } from '../../lib/util/FrameSlab';
import { encodeLines } from '../../lib/framing/lines/encodeLines';
import { encodeNdjson } from '../../lib/codec/ndjson/encodeNdjson';
import { encodeLengthField } from '../../lib/framing/lengthField/encodeLengthField';
import { from, lastValueFrom, toArray } from 'rxjs';

describe('FrameSlab', () => {
  it('cuts pieces of the asked length end to end from one slab, then starts another', () => {
    const slab = new FrameSlab(1024, 8);
    const a = slab.alloc(10);
    const b = slab.alloc(54);
    expect([a.length, b.length]).toEqual([10, 54]);
    expect(b.buffer).toBe(a.buffer);
    expect(b.byteOffset).toBe(a.byteOffset + 10);
    // Fill the slab: the piece that does not fit comes from a new one.
    const pieces = Array.from({ length: 16 }, () => slab.alloc(64));
    expect(pieces[14].buffer).toBe(a.buffer);
    expect(pieces[14].byteOffset + 64).toBe(1024);
    expect(pieces[15].buffer).not.toBe(a.buffer);
    expect(pieces[15].byteOffset).toBe(0);
    // Writing one piece leaves its neighbours alone.
    a.fill(1);
    b.fill(2);
    expect([...a].every((x) => x === 1) && [...b].every((x) => x === 2)).toBe(true);
  });

  it('gives a frame over a sixteenth of a slab memory of its own', () => {
    const slab = new FrameSlab(1024, 8);
    const small = slab.alloc(64);
    const large = slab.alloc(65);
    expect(large.length).toBe(65);
    expect(large.buffer).not.toBe(small.buffer);
    expect(slab.alloc(8).byteOffset).toBe(small.byteOffset + 64); // the slab was not touched
  });

  it("gives frames under its smallest size memory from Node's pool", () => {
    const slab = new FrameSlab(1024, 8);
    const a = slab.alloc(8);
    expect(slab.alloc(7).buffer).not.toBe(a.buffer);
    expect(slab.encode('abc', 1, 1).buffer).not.toBe(a.buffer);
    expect(slab.alloc(8).byteOffset).toBe(a.byteOffset + 8);
  });

  it('gives zero-length pieces without moving on', () => {
    const slab = new FrameSlab(1024, 8);
    const a = slab.alloc(8);
    expect(slab.alloc(0).length).toBe(0);
    expect(slab.alloc(8).byteOffset).toBe(a.byteOffset + 8);
  });

  it('keeps its slabs from being transferred to a worker (that would detach every frame cut from them)', () => {
    const piece = FRAMES.alloc(1024);
    const { port1, port2 } = new MessageChannel();
    try {
      try {
        port1.postMessage(piece.buffer, [piece.buffer as ArrayBuffer]);
      } catch {
        // Newer Node refuses the transfer outright; either way the memory stays here.
      }
      expect(piece.buffer.byteLength).toBe(SLAB_SIZE);
      expect(piece.length).toBe(1024);
    } finally {
      port1.close();
      port2.close();
    }
  });
});

describe('FrameSlab.encode', () => {
  it('writes the bytes Buffer.from(text) has between the room asked for, end to end, in a slab or alone', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            text: fc.oneof(
              fc.string(),
              fc.string({ unit: 'binary', maxLength: 40 }),
              // Lone surrogates (UTF-8 writes U+FFFD) among ASCII and two-byte characters.
              fc.array(fc.constantFrom('\ud800', '\udc00', 'a', 'é'), { maxLength: 8 }).map((parts) => parts.join('')),
              fc.string({ minLength: 30, maxLength: 90 }), // over a sixteenth of the slab: memory of its own
            ),
            before: fc.integer({ min: 0, max: 8 }),
            after: fc.integer({ min: 0, max: 2 }),
          }),
          { minLength: 1, maxLength: 20 },
        ),
        (frames) => {
          const slab = new FrameSlab(1024, 1);
          const outs = frames.map(({ text, before, after }) => {
            const out = slab.encode(text, before, after);
            out.fill(0xee, 0, before);
            out.fill(0xee, out.length - after);
            return out;
          });
          frames.forEach(({ text, before, after }, i) => {
            const expected = Buffer.from(text, 'utf8');
            const out = outs[i];
            expect(out.length).toBe(before + expected.length + after);
            expect(out.subarray(before, before + expected.length)).toEqual(expected);
            // Its room untouched by the frames encoded after it.
            expect([...out.subarray(0, before), ...out.subarray(out.length - after)].every((x) => x === 0xee)).toBe(
              true,
            );
            // Two frames of the slab (room for three bytes per unit within a sixteenth of it) lie end to end.
            const fromSlab = (k: number) => {
              const least = frames[k].before + frames[k].text.length + frames[k].after;
              return least >= 1 && least + 2 * frames[k].text.length <= 64;
            };
            const previous = outs[i - 1];
            if (i > 0 && fromSlab(i) && fromSlab(i - 1) && previous.buffer === out.buffer) {
              expect(out.byteOffset).toBe(previous.byteOffset + previous.length);
            }
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('the encoders take their frames from the slab', () => {
  /** True when each frame starts where the one before it ended, in the same memory. */
  const endToEnd = (frames: Buffer[]) =>
    frames.every(
      (frame, i) =>
        i === 0 ||
        (frame.buffer === frames[i - 1].buffer && frame.byteOffset === frames[i - 1].byteOffset + frames[i - 1].length),
    );
  const long = (text: string) => text.repeat(Math.ceil(600 / text.length));

  it('so that the replies of 512 B and more encoded together lie end to end (the batch joins them into one write)', async () => {
    const texts = [long('a'), long('bé'), long('c')];
    const lines = await lastValueFrom(from(texts).pipe(encodeLines(), toArray()));
    expect(Buffer.concat(lines).toString()).toBe(texts.map((t) => `${t}\n`).join(''));
    expect(endToEnd(lines)).toBe(true);
    expect(lines[0].buffer.byteLength).toBe(SLAB_SIZE);
    const values = [{ a: long('x') }, long('y'), [long('zé')]];
    const json = await lastValueFrom(from(values).pipe(encodeNdjson(), toArray()));
    expect(Buffer.concat(json).toString()).toBe(values.map((v) => `${JSON.stringify(v)}\n`).join(''));
    expect(endToEnd(json)).toBe(true);
    const framed = await lastValueFrom(
      from([long('h'), long('ü')]).pipe(encodeLengthField({ lengthFieldLength: 2 }), toArray()),
    );
    expect(framed.map((f) => [f.readUInt16BE(0), f.subarray(2).toString()])).toEqual([
      [600, long('h')],
      [1200, long('ü')],
    ]);
    expect(endToEnd(framed)).toBe(true);
  });

  it("and smaller frames from Node's pool, as before (a kept one keeps less memory alive)", async () => {
    const lines = await lastValueFrom(from(['a', 'bé']).pipe(encodeLines(), toArray()));
    expect(Buffer.concat(lines).toString()).toBe('a\nbé\n');
    expect(lines.every((line) => line.buffer.byteLength === Buffer.poolSize)).toBe(true);
  });
});

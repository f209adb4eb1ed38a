// What the framing path keeps alive once every frame of a chunk was handed out: nothing.
import { setFlagsFromString } from 'v8';
import { runInNewContext } from 'vm';
import { Subject, lastValueFrom, of, toArray } from 'rxjs';
import type { OperatorFunction } from 'rxjs';
import { Buffer } from 'buffer';
import { decodeLines } from '../../lib/framing/lines/decodeLines';
import { decodeLengthField } from '../../lib/framing/lengthField/decodeLengthField';
import { decodeDelimited } from '../../lib/framing/delimited/decodeDelimited';
import { decodeFixedLength } from '../../lib/framing/fixedLength/decodeFixedLength';
import { decodeNdjson } from '../../lib/codec/ndjson/decodeNdjson';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** After the current job (a WeakRef holds its target until it ends) and a full GC: whether `ref` still reaches its target. */
async function survives(ref: WeakRef<object>): Promise<boolean> {
  for (let i = 0; i < 3 && ref.deref() !== undefined; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
  return ref.deref() !== undefined;
}

/**
 * 1,000 messages of 100 bytes in one buffer of its own memory, and a weak reference to that
 * memory. Each starts with 99 and ends with `\n`: a line, and a frame with a one-byte length.
 */
function manyMessages(): { chunk: Buffer; memory: WeakRef<ArrayBuffer> } {
  const chunk = Buffer.alloc(100_000, 0x61);
  for (let i = 0; i < chunk.length; i += 100) {
    chunk[i] = 99;
    chunk[i + 99] = 0x0a;
  }
  return { chunk, memory: new WeakRef(chunk.buffer as ArrayBuffer) };
}

/** 1,000 NDJSON lines of 100 bytes (`{"a":"xx…"}\n`) in one buffer of its own memory, and a weak reference to that memory. */
function manyJsonLines(): { chunk: Buffer; memory: WeakRef<ArrayBuffer> } {
  const line = `{"a":"${'x'.repeat(100 - 9)}"}\n`;
  const chunk = Buffer.alloc(100_000);
  for (let i = 0; i < chunk.length; i += 100) chunk.write(line, i, 'latin1');
  return { chunk, memory: new WeakRef(chunk.buffer as ArrayBuffer) };
}

describe('retention after framing', () => {
  it.each<[string, () => OperatorFunction<Buffer, unknown>, typeof manyMessages]>([
    ['decodeLines()', () => decodeLines(), manyMessages],
    ['decodeDelimited()', () => decodeDelimited('\n'), manyMessages],
    ['decodeLengthField()', () => decodeLengthField({ lengthFieldLength: 1, maxFrameLength: 1000 }), manyMessages],
    ['decodeFixedLength()', () => decodeFixedLength(100), manyMessages],
    ['decodeNdjson()', () => decodeNdjson(), manyJsonLines],
  ])('%s, still subscribed but done with a chunk, keeps that chunk no longer alive', async (_name, decode, make) => {
    const input = new Subject<Buffer>();
    let frames = 0;
    // Frames are counted, not kept: only the framing path could hold the memory.
    const subscription = input.pipe(decode()).subscribe(() => frames++);
    const memory = (() => {
      const made = make();
      input.next(made.chunk);
      return made.memory;
    })();
    expect(frames).toBe(1000);
    expect(await survives(memory)).toBe(false);
    subscription.unsubscribe();
  });

  it.each<[string, () => OperatorFunction<Buffer, Buffer>]>([
    ['lengthField()', () => decodeLengthField({ lengthFieldLength: 1, maxFrameLength: 1000 })],
    ['lines()', () => decodeLines()],
  ])('a completed %s pipeline over a large buffer leaves that buffer to the collector', async (_name, framing) => {
    const { counted, memory } = await (async () => {
      const made = manyMessages();
      const all = await lastValueFrom(of(made.chunk).pipe(framing(), toArray()));
      return { counted: all.length, memory: made.memory };
    })();
    expect(counted).toBe(1000);
    expect(await survives(memory)).toBe(false);
  });
});

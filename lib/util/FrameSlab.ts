// Memory for encoded frames: cut from shared slabs, so that a reply costs a view rather than an allocation.
import { Buffer } from 'buffer';
import { markAsUntransferable } from 'worker_threads';

/** Bytes in a slab of {@link FRAMES}. */
export const SLAB_SIZE = 64 * 1024;

/**
 * Where the built-in encoders (`encodeLines`, `encodeNdjson`, `encodeLengthField`, `encodeDelimited`, the RESP
 * encoders) take the Buffers they return: consecutive pieces of a shared slab, as Node's `Buffer.allocUnsafe`
 * takes small Buffers from its 8 KiB pool, but larger and without padding between pieces.
 *
 * Why: a Buffer taken from Node's pool costs a new 8 KiB pool every few kilobytes, and the collector then
 * sweeps one memory block per pool; measured on Node 20, `Buffer.allocUnsafe(1025)` averaged about 600 ns,
 * a piece of a 64 KiB slab about 90 ns. And the replies encoded while one chunk is dispatched lie end to end,
 * which the write batch joins into one view: one write, no copy.
 *
 * The cost, as with Node's pool: a Buffer kept keeps its whole slab (64 KiB) alive. Frames larger than a
 * sixteenth of a slab get memory of their own. Slabs cannot be transferred to a worker (transferring one
 * would detach every frame cut from it).
 *
 * @internal
 */
export class FrameSlab {
  private memory: ArrayBuffer | undefined = undefined;
  /** The whole of `memory`, to write text into. */
  private whole: Buffer | undefined = undefined;
  private used = 0;
  /** Frames up to this many bytes are cut from the slab. */
  private readonly largest: number;

  constructor(private readonly size: number) {
    this.largest = size >>> 4;
  }

  /** A Buffer of `length` bytes, uninitialised. */
  alloc(length: number): Buffer {
    if (length > this.largest) return Buffer.allocUnsafe(length);
    const start = this.room(length);
    this.used = start + length;
    return Buffer.from(this.memory!, start, length);
  }

  /**
   * `text` as UTF-8 with `before` bytes left free ahead of it and `after` behind it (for a header or a
   * line ending, the caller's to fill), in one Buffer; the text's byte length is the Buffer's length
   * less `before` and `after`. The text is written once, without being measured first: room for
   * three bytes per UTF-16 unit is made, and only what it took is kept. (Measuring first is a second
   * pass, and a string from `JSON.stringify` must be flattened for it: about 250 ns per KiB.)
   */
  encode(text: string, before: number, after: number): Buffer {
    const most = before + text.length * 3 + after;
    if (most > this.largest) {
      const bytes = Buffer.byteLength(text);
      const out = Buffer.allocUnsafe(before + bytes + after);
      out.write(text, before, bytes, 'utf8');
      return out;
    }
    const start = this.room(most);
    const bytes = this.whole!.write(text, start + before, 'utf8');
    const length = before + bytes + after;
    this.used = start + length;
    return Buffer.from(this.memory!, start, length);
  }

  /** Where `length` bytes can start: the slab's free part, or a new slab if they do not fit in it. */
  private room(length: number): number {
    if (this.memory !== undefined && this.used + length <= this.size) return this.used;
    // allocUnsafeSlow: not zero-filled (every byte is written before it is read), not from Node's pool.
    const whole = (this.whole = Buffer.allocUnsafeSlow(this.size));
    markAsUntransferable((this.memory = whole.buffer as ArrayBuffer));
    this.used = 0;
    return 0;
  }
}

/** The slab every built-in encoder cuts its frames from. @internal */
export const FRAMES = new FrameSlab(SLAB_SIZE);

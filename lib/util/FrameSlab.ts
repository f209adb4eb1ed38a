// Memory for encoded frames: cut from shared slabs, so that a reply costs a view rather than an allocation.
import { Buffer } from 'buffer';
import { markAsUntransferable } from 'worker_threads';

/** Bytes in a slab of {@link FRAMES}. */
export const SLAB_SIZE = 64 * 1024;

/**
 * Where the streaming encoders (`encodeLines`, `encodeNdjson`, `encodeLengthField`, `encodeDelimited` and their
 * codecs) take the Buffers they return: frames of 512 B to 4 KiB are consecutive pieces of a shared 64 KiB
 * slab, as Node's `Buffer.allocUnsafe` takes Buffers under 4 KiB from its 8 KiB pool, but without padding
 * between pieces and without a new pool every few frames. Smaller and larger frames are allocated as before
 * (for text, "larger" counts the room it is written into: three bytes per UTF-16 unit).
 *
 * Why: for a frame of 1 KiB, Node's pool makes a new 8 KiB pool every eight frames, and the collector then
 * sweeps one memory block per pool; measured on Node 20, `Buffer.allocUnsafe(1025)` averaged about 600 ns,
 * a piece of a 64 KiB slab about 90 ns. Below 512 B a new pool is rare enough that the pool costs no more.
 * The replies encoded while one chunk is dispatched lie end to end, which the write batch joins into one
 * view: one write, no copy.
 *
 * The cost, as with Node's pool: a frame kept keeps its whole slab alive, at most 128 times its own size
 * (Node's pool: 128 times for a 64 B frame). Slabs cannot be transferred to a worker (transferring one would
 * detach every frame cut from it). The RESP encoders, whose values servers keep (a key's stored reply), stay
 * on Node's pool.
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

  /**
   * @param size Bytes of a slab.
   * @param smallest Frames of fewer bytes take memory from Node's pool.
   */
  constructor(
    private readonly size: number,
    private readonly smallest: number,
  ) {
    this.largest = size >>> 4;
  }

  /** A Buffer of `length` bytes, uninitialised. */
  alloc(length: number): Buffer {
    if (length < this.smallest || length > this.largest) return Buffer.allocUnsafe(length);
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
    // Its bytes lie between one and three per UTF-16 unit.
    const least = before + text.length + after;
    const most = least + 2 * text.length;
    if (least < this.smallest || most > this.largest) {
      const bytes = Buffer.byteLength(text);
      const out = Buffer.allocUnsafe(before + bytes + after);
      // All ASCII (a byte per unit): written as latin1, the same bytes, about twice as fast as UTF-8.
      out.write(text, before, bytes, bytes === text.length ? 'latin1' : 'utf8');
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
export const FRAMES = new FrameSlab(SLAB_SIZE, 512);

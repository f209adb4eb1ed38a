// Where a framer's last frame lies in its chunk: handed from the framing layer to the write path of the connection it reads.

/**
 * The view a `ChunkQueue` handed out last, the chunk it lies in and its bounds there; each queue
 * has its own.
 *
 * A connection that writes back the frames cut from its own reads (the usual echo server) finds
 * here whether a frame continues the previous one in the same chunk, without reading the views'
 * `byteOffset` and `buffer`, slow reads in Node 20's V8 (see docs/performance.md). The record is
 * cleared once the frames of a chunk are handed out, so it keeps no chunk alive. A framer of your
 * own may expose one as `Framer.frameCut` to get the same fast path.
 *
 * @example
 * ```ts
 * import { FrameCut } from 'rxnet';
 *
 * const chunk = Buffer.from('ab\ncd\n');
 * const cut = new FrameCut();
 * const frame = chunk.subarray(0, 2);
 * cut.note(frame, chunk, 0, 2); // "ab" lies at 0..2 of chunk
 * cut.clear(); // all frames of the chunk handed out
 * ```
 */
export class FrameCut {
  /** The view handed out; undefined once cleared. */
  view: Uint8Array | undefined = undefined;
  /**
   * The chunk the view lies in (the view itself when it is the whole chunk), possibly a queue's
   * accumulator: bytes handed out there are never written again, so `chunk.subarray(start, end)`
   * stays the view's bytes.
   */
  chunk: Uint8Array | undefined = undefined;
  /** Where the view starts in `chunk`. */
  start = 0;
  /** Where the view ends in `chunk` (exclusive). */
  end = 0;

  /** Records `view`, cut from `chunk` at `start` to `end`. */
  note(view: Uint8Array, chunk: Uint8Array, start: number, end: number): void {
    this.view = view;
    // Stored only when it changes: frames come many to a chunk, and a store costs a write barrier.
    if (this.chunk !== chunk) this.chunk = chunk;
    this.start = start;
    this.end = end;
  }

  /** Forgets the view and its chunk. */
  clear(): void {
    this.view = undefined;
    this.chunk = undefined;
  }
}

/**
 * A `data$` subscriber that knows where the frames it hands on were cut: the framer operator's.
 * The connection it subscribes to consults its record when those frames are written back.
 */
export interface FrameCutSource {
  /** The record of the frames being handed out now, or undefined (no framer yet, or none kept). */
  readonly frameCut: FrameCut | undefined;
  /** True once unsubscribed. */
  readonly closed: boolean;
}

/** `subscriber` as a {@link FrameCutSource} when it is one. */
export function asFrameCutSource(subscriber: object): FrameCutSource | undefined {
  return 'frameCut' in subscriber ? (subscriber as FrameCutSource) : undefined;
}

/**
 * A `data$` subscriber that tells how far its framer has got: the framer operator's. A connection
 * with a frame deadline (listen's `frameTimeout`) reads it after each chunk to know whether a
 * frame is begun and not finished, and whether a new one began. A view that reads a connection on
 * behalf of such a subscriber (a shaped connection) forwards both getters.
 */
export interface FrameProgressSource {
  /** Frames handed on so far. */
  readonly framesOut: number;
  /** Bytes held toward the next frame (0 when the last chunk ended on a frame's end), or undefined when the framer cannot tell. */
  readonly heldBytes: number | undefined;
}

/** `subscriber` as a {@link FrameProgressSource} when it is one. */
export function asFrameProgressSource(subscriber: object): FrameProgressSource | undefined {
  return 'framesOut' in subscriber ? (subscriber as FrameProgressSource) : undefined;
}

// Frames of one fixed size.
import { TruncatedFrameError } from '../../errors';
import { ChunkQueue } from '../ChunkQueue';
import type { FrameCut } from '../../util/FrameCut';
import type { Framer, Truncation } from '../Framer';

/** Cuts the byte stream into frames of `frameLength` bytes each (views unless a frame spans chunks). */
export class FixedLengthFramer implements Framer<Buffer> {
  private readonly queue: ChunkQueue;
  private ended = false;

  /**
   * @param frameLength Bytes per frame (an integer >= 1).
   * @param truncation What to do with fewer than `frameLength` bytes left at the end.
   * @param copy Hand out each frame as its own copy rather than a view of the chunk.
   */
  constructor(
    private readonly frameLength: number,
    private readonly truncation: Truncation = 'error',
    copy = false,
  ) {
    // Between reads less than one frame is held.
    this.queue = new ChunkQueue({ maxHeld: frameLength, copy });
  }

  /** Bytes held. */
  get buffered(): number {
    return this.queue.length;
  }

  /** Where the frame read last lies in its chunk (see {@link Framer.frameCut}). */
  get frameCut(): FrameCut {
    return this.queue.cut;
  }

  push(chunk: Buffer): void {
    this.queue.push(chunk);
  }

  end(): void {
    this.ended = true;
  }

  clear(): void {
    this.queue.clear();
  }

  read(): Buffer | undefined {
    const held = this.queue.length;
    if (held >= this.frameLength) return this.queue.extract(0, this.frameLength, 0);
    if (!this.ended || held === 0) return undefined;
    if (this.truncation === 'emit') return this.queue.consume(held);
    if (this.truncation === 'discard') {
      this.queue.clear();
      return undefined;
    }
    throw new TruncatedFrameError(held);
  }
}

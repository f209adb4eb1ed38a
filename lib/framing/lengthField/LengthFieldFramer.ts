// Frames announced by a length field, with the semantics of Netty's LengthFieldBasedFrameDecoder.
import { CorruptedFrameError, FrameTooLongError, TruncatedFrameError } from '../../errors';
import { ChunkQueue } from '../ChunkQueue';
import type { FrameCut } from '../../util/FrameCut';
import type { Framer } from '../Framer';

/** The resolved settings of a {@link LengthFieldFramer}; see the `decodeLengthField` operator for their meaning. */
export interface LengthFieldFramerOptions {
  readonly lengthFieldOffset: number;
  readonly lengthFieldLength: 1 | 2 | 3 | 4 | 8;
  readonly lengthAdjustment: number;
  readonly initialBytesToStrip: number;
  readonly byteOrder: 'BE' | 'LE';
  readonly maxFrameLength: number;
  readonly failFast: boolean;
  readonly truncation: 'error' | 'discard';
  /** Hand out each frame as its own copy rather than a view of the chunk. Default false. */
  readonly copy?: boolean;
}

/**
 * Frames whose length is read from a header field. The whole frame (header included, before
 * stripping) is checked against `maxFrameLength` as soon as the length field is complete, so a
 * too-long frame's body is never buffered: with `failFast` the error comes at once, without it the
 * body is skipped as it arrives and the error comes once the last byte of the frame went by.
 */
export class LengthFieldFramer implements Framer<Buffer> {
  private readonly queue: ChunkQueue;
  private readonly endOffset: number;
  private readonly littleEndian: boolean;
  /** Length of the frame being assembled (header included), or -1 before its header is read. */
  private frameLength = -1;
  /** Bytes of a too-long frame still to skip (failFast off). */
  private discarding = 0;
  private tooLongLength = 0;
  private ended = false;

  constructor(private readonly config: LengthFieldFramerOptions) {
    this.endOffset = config.lengthFieldOffset + config.lengthFieldLength;
    this.littleEndian = config.byteOrder === 'LE';
    // Between reads less than a whole frame is held, and a frame is at most maxFrameLength.
    this.queue = new ChunkQueue({ maxHeld: config.maxFrameLength, copy: config.copy });
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
    if (this.discarding > 0) {
      const n = Math.min(this.discarding, chunk.length);
      this.discarding -= n;
      if (n === chunk.length) return;
      chunk = chunk.subarray(n);
    }
    this.queue.push(chunk);
  }

  end(): void {
    this.ended = true;
  }

  clear(): void {
    this.queue.clear();
    this.frameLength = -1;
    this.discarding = 0;
  }

  read(): Buffer | undefined {
    const queue = this.queue;
    const config = this.config;
    if (this.tooLongLength > 0) {
      if (this.discarding === 0 || this.ended) throw new FrameTooLongError(config.maxFrameLength, this.tooLongLength);
      return undefined;
    }
    let frameLength = this.frameLength;
    if (frameLength < 0) {
      if (queue.length < this.endOffset) return this.ended ? this.finish() : undefined;
      frameLength = this.readFrameLength();
      if (frameLength > config.maxFrameLength) return this.tooLong(frameLength);
      if (config.initialBytesToStrip > frameLength) {
        throw new CorruptedFrameError(
          frameLength,
          `adjusted frame length is less than initialBytesToStrip ${config.initialBytesToStrip}`,
        );
      }
      this.frameLength = frameLength;
    }
    if (queue.length < frameLength) return this.ended ? this.finish() : undefined;
    this.frameLength = -1;
    const strip = config.initialBytesToStrip;
    return queue.extract(strip, frameLength - strip, 0);
  }

  /** Reads the length field and adjusts it to the length of the whole frame. */
  private readFrameLength(): number {
    const { lengthFieldOffset, lengthFieldLength, lengthAdjustment } = this.config;
    let raw: number;
    if (lengthFieldLength === 8) {
      const big = this.queue.readBigInt64(lengthFieldOffset, this.littleEndian);
      if (big < 0n) throw new CorruptedFrameError(Number(big), 'negative pre-adjustment length field');
      raw = Number(big);
    } else {
      raw = this.queue.readUInt(lengthFieldOffset, lengthFieldLength, this.littleEndian);
    }
    const frameLength = raw + lengthAdjustment + this.endOffset;
    if (frameLength < this.endOffset) {
      throw new CorruptedFrameError(
        frameLength,
        `adjusted frame length is less than lengthFieldEndOffset ${this.endOffset}`,
      );
    }
    return frameLength;
  }

  private tooLong(frameLength: number): undefined {
    const queue = this.queue;
    if (this.config.failFast) {
      queue.clear();
      throw new FrameTooLongError(this.config.maxFrameLength, frameLength);
    }
    // Netty's failFast=false: skip the frame as it arrives, fail once it has gone by.
    this.tooLongLength = frameLength;
    const now = Math.min(frameLength, queue.length);
    queue.skip(now);
    this.discarding = frameLength - now;
    if (this.discarding === 0 || this.ended) throw new FrameTooLongError(this.config.maxFrameLength, frameLength);
    return undefined;
  }

  private finish(): undefined {
    const held = this.queue.length;
    if (held === 0 || this.config.truncation === 'discard') {
      this.clear();
      return undefined;
    }
    throw new TruncatedFrameError(held);
  }
}

/** @deprecated The former name of {@link LengthFieldFramerOptions}, kept so that code written for 0.1 compiles. */
export type LengthFieldFramerConfig = LengthFieldFramerOptions;

// A framer whose frames are another framer's, each passed through a function: how a codec builds on a framer.
import type { Buffer } from 'buffer';
import type { FrameCut } from '../util/FrameCut';
import type { Framer } from './Framer';

/**
 * The frames of `inner`, each turned into a message by `map` as it is read (a line into its text, a
 * record into a struct value). Limits, truncation and end of stream are the inner framer's; a throw
 * from `map` is the error `read` throws. `map` must not return `undefined` (which means "no frame").
 */
export class MappedFramer<F, T> implements Framer<T> {
  constructor(
    private readonly inner: Framer<F>,
    private readonly map: (frame: F) => T,
  ) {}

  /** Bytes the inner framer holds toward its next frame. */
  get buffered(): number | undefined {
    return this.inner.buffered;
  }

  /**
   * The inner framer's record, so that the operator clears it after each chunk (it would keep that
   * chunk alive). Harmless for the write path: a message made by `map` is never the view it records.
   */
  get frameCut(): FrameCut | undefined {
    return this.inner.frameCut;
  }

  push(chunk: Buffer): void {
    this.inner.push(chunk);
  }

  read(): T | undefined {
    const frame = this.inner.read();
    return frame === undefined ? undefined : this.map(frame);
  }

  end(): void {
    this.inner.end();
  }

  clear(): void {
    this.inner.clear();
  }
}

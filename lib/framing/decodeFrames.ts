// Adapts a pull framer (lib/framing) to an RxJS operator: one subscriber object per subscription, no closures per chunk.
import { Observable } from 'rxjs';
import type { OperatorFunction, Subscriber } from 'rxjs';
import type { Framer } from './Framer';
import type { FrameCut, FrameCutSource, FrameProgressSource } from '../util/FrameCut';
import { OperatorSubscriber } from '../util/OperatorSubscriber';

/**
 * What the framer operator gives its source to subscribe. A connection whose `data$` it subscribes
 * to reads its {@link frameCut} when these frames are written back to it (see `SocketConnection`).
 */
class FramerSubscriber<T> extends OperatorSubscriber<Buffer, T> implements FrameCutSource, FrameProgressSource {
  /** Frames handed on: a connection with a frame deadline tells from it that a new frame began. */
  framesOut = 0;
  /**
   * The framer's factory until the first chunk (or the end), then the framer it made, so that a
   * connection that has sent nothing holds no framer (one field for both); null once released.
   */
  private framer: Framer<T> | (() => Framer<T>) | null;
  /** What the framer held when it was released; 0 while it runs. */
  private dropped: number | undefined = 0;

  constructor(downstream: Subscriber<T>, createFramer: () => Framer<T>) {
    super(downstream);
    this.framer = createFramer;
  }

  /** Where the frame handed on last lies in its chunk, while the frames of a chunk are handed on. */
  get frameCut(): FrameCut | undefined {
    const framer = this.framer;
    return framer === null || typeof framer === 'function' ? undefined : framer.frameCut;
  }

  /**
   * Bytes the framer holds toward its next frame, when it tells (`Framer.buffered`); once released,
   * those it dropped then (a TLS upgrade refuses a connection that left part of a frame behind).
   */
  get heldBytes(): number | undefined {
    const framer = this.framer;
    return framer === null ? this.dropped : typeof framer === 'function' ? 0 : framer.buffered;
  }

  next(chunk: Buffer): void {
    let framer = this.framer;
    if (framer === null) return;
    try {
      if (typeof framer === 'function') framer = this.framer = framer();
      framer.push(chunk);
      this.drain(framer);
    } catch (error) {
      this.error(error);
    }
  }

  /**
   * Downstream is told first and the source left after, as RxJS's own operators do (and as this
   * operator always did): a `finalize` upstream runs after the error reached downstream.
   */
  override error(error: unknown): void {
    if (this.framer === null) return;
    this.release();
    this.downstream.error(error);
    this.unsubscribe();
  }

  override complete(): void {
    let framer = this.framer;
    if (framer === null) return;
    try {
      if (typeof framer === 'function') framer = this.framer = framer();
      framer.end();
      this.drain(framer);
    } catch (error) {
      this.error(error);
      return;
    }
    if (this.framer === null) return;
    this.release();
    this.downstream.complete();
    this.unsubscribe();
  }

  override unsubscribe(): void {
    // The source's teardown first: a connection's read gate then sees what the framer still held
    // (a TLS upgrade refuses a connection that leaves part of a frame behind).
    super.unsubscribe();
    this.release();
  }

  private drain(framer: Framer<T>): void {
    const downstream = this.downstream;
    let frame: T | undefined;
    try {
      while ((frame = framer.read()) !== undefined) {
        this.framesOut++;
        downstream.next(frame);
        if (this.framer === null) return;
      }
    } finally {
      // The record is good only while the frames of this chunk are handed on: it keeps no chunk.
      framer.frameCut?.clear();
    }
  }

  /** Drops the bytes held; later notifications from the source are ignored. */
  private release(): void {
    const framer = this.framer;
    this.framer = null;
    if (framer !== null && typeof framer !== 'function') {
      this.dropped = framer.buffered;
      framer.clear();
    }
  }
}

/**
 * Builds an operator that runs a fresh framer per subscription: chunks are pushed in, frames
 * read out and emitted in order. It is how rxnet's own decoders are made, and the way in for a
 * {@link Framer} of your own (see docs/framing-your-own.md).
 *
 * ```
 * decodeFrames(sampleFramer), 16-bit big-endian samples:
 * source:  -[00 01 00]-[02 ff]-|
 * output:  -1----------2-------|      ([ff] is left over at the end)
 * ```
 *
 * Limits: holds what the framer holds; the framer is made at the first chunk, so a connection
 * that sent nothing holds none. A framer's throw becomes the error notification and the source
 * is unsubscribed. End of stream: the framer is told `end()` and read to its last frame, then
 * the output completes. A source error is passed on at once.
 *
 * @example
 * ```ts
 * import { decodeFrames, type Connection, type Framer } from 'rxnet';
 *
 * // 16-bit big-endian samples, emitted as numbers; an odd byte left at the end is dropped.
 * function sampleFramer(): Framer<number> {
 *   let held: Buffer = Buffer.alloc(0);
 *   return {
 *     push: (chunk) => {
 *       held = held.length === 0 ? chunk : Buffer.concat([held, chunk]);
 *     },
 *     read: () => {
 *       if (held.length < 2) return undefined;
 *       const sample = held.readUInt16BE(0);
 *       held = held.subarray(2);
 *       return sample;
 *     },
 *     end: () => undefined,
 *     clear: () => {
 *       held = Buffer.alloc(0);
 *     },
 *   };
 * }
 *
 * declare const conn: Connection;
 * conn.data$.pipe(decodeFrames(sampleFramer)).subscribe((sample) => console.log(sample));
 * ```
 */
export function decodeFrames<T>(createFramer: () => Framer<T>): OperatorFunction<Buffer, T> {
  return (source) => new FramedObservable(source, createFramer);
}

/** The framed Observable: its state in fields and a shared subscribe function, no closure per pipe. */
class FramedObservable<T> extends Observable<T> {
  constructor(
    readonly upstream: Observable<Buffer>,
    readonly createFramer: () => Framer<T>,
  ) {
    super(subscribeFramed);
  }
}

function subscribeFramed<T>(this: Observable<T>, subscriber: Subscriber<T>): void {
  const { upstream, createFramer } = this as FramedObservable<T>;
  // The framer subscriber adds itself to `subscriber` before the source can emit.
  upstream.subscribe(new FramerSubscriber(subscriber, createFramer));
}

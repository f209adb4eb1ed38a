// Adapts a pull framer (lib/framing) to an RxJS operator: one subscriber object per subscription, no closures per chunk.
import { Observable } from 'rxjs';
import type { Observer, OperatorFunction, Subscriber } from 'rxjs';
import type { Framer } from './Framer';
import { LeanSubscription } from '../util/LeanSubscription';
import { clearCut } from '../util/lastCut';

/**
 * The observer given to the source. It is also a `Subscription` added to the downstream
 * subscriber before the source is subscribed: RxJS 7's `Observable#subscribe` then uses it as the
 * source's subscriber as it is, so when downstream unsubscribes (say `take(1)` is satisfied)
 * while a synchronous source is still looping, the source sees `closed` and stops.
 */
class FramerSubscriber<T> extends LeanSubscription implements Observer<Buffer> {
  /**
   * The framer's factory until the first chunk (or the end), then the framer it made, so that a
   * connection that has sent nothing holds no framer and no chunk queue (one field for both);
   * null once released.
   */
  private framer: Framer<T> | (() => Framer<T>) | null;

  constructor(
    private readonly destination: Subscriber<T>,
    createFramer: () => Framer<T>,
  ) {
    super();
    this.framer = createFramer;
  }

  next(chunk: Buffer): void {
    let framer = this.framer;
    if (framer === null) return;
    try {
      if (typeof framer === 'function') framer = this.framer = framer();
      framer.push(chunk);
      this.drain(framer);
    } catch (error) {
      this.fail(error);
    }
  }

  error(error: unknown): void {
    if (this.framer === null) return;
    this.release();
    this.destination.error(error);
  }

  complete(): void {
    let framer = this.framer;
    if (framer === null) return;
    try {
      if (typeof framer === 'function') framer = this.framer = framer();
      framer.end();
      this.drain(framer);
    } catch (error) {
      this.fail(error);
      return;
    }
    if (this.framer === null) return;
    this.release();
    this.destination.complete();
  }

  override unsubscribe(): void {
    this.release();
    super.unsubscribe();
  }

  private drain(framer: Framer<T>): void {
    const destination = this.destination;
    let frame: T | undefined;
    try {
      while ((frame = framer.read()) !== undefined) {
        destination.next(frame);
        if (this.framer === null) return;
      }
    } finally {
      // What the frames were cut from is known only while they are handed out (see lastCut).
      clearCut();
    }
  }

  private fail(error: unknown): void {
    if (this.framer === null) return;
    this.release();
    this.destination.error(error);
  }

  /** Drops the bytes held; later notifications from the source are ignored. */
  private release(): void {
    const framer = this.framer;
    this.framer = null;
    if (framer !== null && typeof framer !== 'function') framer.clear();
  }
}

/**
 * Builds an operator that runs a fresh framer per subscription: chunks are pushed in, frames
 * read out and emitted in order. A framer's throw becomes the error notification and the source
 * is unsubscribed; on completion the framer deals with its leftover, then the output completes.
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
  const inner = new FramerSubscriber(subscriber, createFramer);
  subscriber.add(inner);
  upstream.subscribe(inner);
}

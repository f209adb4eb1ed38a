// SendSubscriber: one sendTo() sink's state: writes, waits for drain, queues and ends the connection.
import { Buffer } from 'buffer';
import type { Subscriber, Subscription } from 'rxjs';
import { ConnectionClosedError, QueueOverflowError } from '../errors';
import { isPeerFailure } from '../util/isPeerFailure';
import type { Connection, Chunk, Holdable } from '../types';
import { OperatorSubscriber } from '../util/OperatorSubscriber';
import { SendQueue, sizeOf } from './SendQueue';
import type { OverflowPolicy, SendStats } from './sendTo';

/** The options of one sendTo(), resolved once and shared by its subscriptions. */
export interface SendConfig {
  readonly connection: Connection;
  readonly highWaterMark: number;
  readonly highWaterMarkBytes: number;
  readonly overflow: OverflowPolicy;
  readonly end: boolean;
  readonly pauseSource: Holdable | undefined;
  readonly stats: SendStats | undefined;
}

/**
 * The source's subscriber: one object per subscription holding all its state, so an idle sink
 * costs a few fields and a busy one allocates nothing per value. The settings are copied in
 * (`end` and `overflow` as bits), so an idle sink does not keep the config object alive.
 * Writability is watched (`writable$`) only from the first time the sink has to wait.
 *
 * @internal
 */
export class SendSubscriber<T extends Chunk> extends OperatorSubscriber<T, never> {
  /** Values waiting for the connection to become writable; made the first time one waits. */
  private queue: SendQueue<T> | undefined = undefined;
  /** State (SOURCE_DONE, FINISHING) and settings (END, DROP_OLDEST, DROP_NEWEST) as bits. */
  private bits: number;
  private release: (() => void) | undefined = undefined;
  private watching: Subscription | undefined = undefined;
  private readonly connection: Connection;
  private readonly highWaterMark: number;
  private readonly highWaterMarkBytes: number;
  private readonly pauseSource: Holdable | undefined;
  private readonly stats: SendStats | undefined;

  constructor(downstream: Subscriber<never>, config: SendConfig) {
    super(downstream);
    this.connection = config.connection;
    this.highWaterMark = config.highWaterMark;
    this.highWaterMarkBytes = config.highWaterMarkBytes;
    this.pauseSource = config.pauseSource;
    this.stats = config.stats;
    const overflow = config.overflow;
    this.bits =
      (config.end ? END : 0) |
      (overflow === 'drop-oldest' ? DROP_OLDEST : overflow === 'drop-newest' ? DROP_NEWEST : 0);
  }

  next(value: T): void {
    if ((this.bits & DONE) !== 0 || this.closed) return;
    const connection = this.connection;
    try {
      if (this.queued === 0 && connection.writable) {
        this.write(value);
        return;
      }
      if (connection.writeEnded) {
        // Closed, or ended by someone else: nothing more can be written.
        this.stopQuietly(1);
        return;
      }
      this.enqueue(value);
    } catch (error) {
      this.fail(error);
    }
  }

  override error(error: unknown): void {
    if ((this.bits & SOURCE_DONE) !== 0) return;
    // The failure of this sink's connection (or of the one it holds, its source) reached us down
    // the pipeline as data$'s error: the sink ends as usual, or stops if its own connection went.
    // An error with the same code from elsewhere (a database driver's ECONNRESET) is passed on.
    if (isPeerFailure(error) && this.isConnectionFailure(error)) this.complete();
    else {
      this.bits |= SOURCE_DONE;
      this.fail(error);
    }
  }

  override complete(): void {
    if ((this.bits & DONE) !== 0 || this.downstream.closed) return;
    this.bits |= SOURCE_DONE;
    const connection = this.connection;
    if (connection.closed) this.stopQuietly(0);
    else if (this.queued === 0 && (connection.writable || connection.writeEnded)) this.finish();
    else this.watch();
  }

  override unsubscribe(): void {
    if (this.closed) return;
    this.watching?.unsubscribe();
    this.watching = undefined;
    this.unhold();
    const queue = this.queue;
    if (queue !== undefined) {
      // What still waited is given up with the sink.
      if (this.stats !== undefined) this.stats.unsent += queue.length;
      this.queue = undefined;
      this.countQueued();
    }
    super.unsubscribe();
  }

  /** True when `error` is what closed this sink's connection, or the connection it holds. */
  private isConnectionFailure(error: unknown): boolean {
    if (error === this.connection.closeReason) return true;
    const source = this.pauseSource as Partial<Connection> | undefined;
    return source !== undefined && error === source.closeReason;
  }

  private get queued(): number {
    const queue = this.queue;
    return queue === undefined ? 0 : queue.length;
  }

  private enqueue(value: T): void {
    const queue = (this.queue ??= new SendQueue<T>());
    const size = sizeOf(value);
    // With pauseSource the source is held from the first value that waits: what still arrives
    // was read before, and waits under the limits given, none by default.
    const { highWaterMark, highWaterMarkBytes, stats } = this;
    if (!queue.fits(size, highWaterMark, highWaterMarkBytes)) {
      const bits = this.bits;
      if ((bits & (DROP_OLDEST | DROP_NEWEST)) === 0) {
        this.fail(new QueueOverflowError(highWaterMark, highWaterMarkBytes, queue.length, queue.bytes));
        return;
      }
      if ((bits & DROP_NEWEST) !== 0) {
        if (stats) stats.dropped++;
        return;
      }
      // drop-oldest: make room for the new value.
      while (!queue.fits(size, highWaterMark, highWaterMarkBytes)) {
        queue.shift();
        if (stats) stats.dropped++;
      }
    }
    queue.push(value, size);
    this.countQueued();
    this.hold();
    this.watch();
  }

  private write(value: T): boolean {
    const ok = this.connection.write(value);
    const stats = this.stats;
    if (stats !== undefined) stats.written++;
    if (ok) return true;
    if (stats) stats.waits++;
    this.hold();
    this.watch();
    return false;
  }

  /** Writes what waits while the connection takes it; finishes once all is written and the source is done. */
  private flush(): void {
    const connection = this.connection;
    const queue = this.queue;
    try {
      if (queue !== undefined) {
        while (queue.length > 0 && connection.writable) {
          const value = queue.shift();
          this.countQueued();
          this.write(value);
        }
      }
    } catch (error) {
      this.fail(error);
      return;
    }
    if (this.queued === 0 && connection.writable) {
      this.unhold();
      if ((this.bits & SOURCE_DONE) !== 0) this.finish();
    }
  }

  /**
   * Subscribes to the connection's writability, once: drain resumes the flush; the connection
   * closing ends the sink quietly (or with the error the application destroyed it with).
   */
  private watch(): void {
    if (this.watching !== undefined || this.downstream.closed) return;
    this.watching = this.connection.writable$.subscribe({
      next: (writable) => {
        if (writable) this.flush();
      },
      error: (error) => this.ended(error),
      complete: () => this.ended(undefined),
    });
    // Closed or failed at once (the connection was already gone): drop the finished subscription.
    if (this.downstream.closed) this.watching.unsubscribe();
  }

  /** The connection closed under the sink. */
  private ended(error: unknown): void {
    if (this.downstream.closed) return;
    if (error === undefined || isPeerFailure(error)) this.stopQuietly(0);
    else this.fail(error);
  }

  private finish(): void {
    if ((this.bits & FINISHING) !== 0) return;
    this.bits |= FINISHING;
    this.unhold();
    const connection = this.connection;
    const downstream = this.downstream;
    const done = (error?: Error | null) => {
      if (!error || isQuietEnd(error)) downstream.complete();
      else downstream.error(error);
    };
    try {
      if ((this.bits & END) !== 0 || connection.writeEnded) connection.end(undefined, done);
      // An empty write's callback runs once every earlier write was flushed.
      else connection.write(EMPTY, done);
    } catch (error) {
      downstream.error(error);
    }
  }

  /**
   * The connection can take no more writes (closed, or ended elsewhere): the sink completes, the
   * values it still held, plus `more` just refused, counted as unsent.
   */
  private stopQuietly(more: number): void {
    // What still waits is counted when the completion unsubscribes the sink.
    if (this.stats !== undefined) this.stats.unsent += more;
    this.downstream.complete();
  }

  /** Errors downstream (which unsubscribes the sink), the source released first. */
  private fail(error: unknown): void {
    this.unhold();
    this.downstream.error(error);
  }

  private hold(): void {
    const pauseSource = this.pauseSource;
    if (pauseSource && !this.release) this.release = pauseSource.holdReading();
  }

  private unhold(): void {
    const release = this.release;
    this.release = undefined;
    if (release) release();
  }

  private countQueued(): void {
    const stats = this.stats;
    if (!stats) return;
    const queue = this.queue;
    const queued = queue === undefined ? 0 : queue.length;
    const bytes = queue === undefined ? 0 : queue.bytes;
    stats.queued = queued;
    if (queued > stats.peakQueued) stats.peakQueued = queued;
    stats.queuedBytes = bytes;
    if (bytes > stats.peakQueuedBytes) stats.peakQueuedBytes = bytes;
  }
}

/**
 * An end or flush callback's error that means only that the connection went away (the peer's
 * failure, or a plain `destroy()`), which ends a sink quietly.
 */
function isQuietEnd(error: Error): boolean {
  return (
    isPeerFailure(error) ||
    error instanceof ConnectionClosedError ||
    (error as NodeJS.ErrnoException).code === 'ERR_STREAM_DESTROYED'
  );
}

const EMPTY = Buffer.alloc(0);

// The bits: state, then settings.
const SOURCE_DONE = 1;
const FINISHING = 2;
/** No more values are taken. */
const DONE = SOURCE_DONE | FINISHING;
const END = 4;
const DROP_OLDEST = 8;
const DROP_NEWEST = 16;

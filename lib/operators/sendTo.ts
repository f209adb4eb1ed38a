// sendTo(): the flow-controlled sink that writes values to a connection, honouring 'drain'.
import { Buffer } from 'buffer';
import { Observable } from 'rxjs';
import type { Observer, OperatorFunction, Subscriber, Subscription } from 'rxjs';
import { ConnectionClosedError, InvalidArgumentError, QueueOverflowError, checkInteger } from '../errors';
import { LeanSubscription } from '../internal/LeanSubscription';
import type { Chunk, Connection, Holdable } from '../types';

/**
 * What a sink does with a value that arrives while its queue holds `highWaterMark` values:
 * `'error'` fails with a `QueueOverflowError`, `'drop-oldest'` drops the value that waited
 * longest, `'drop-newest'` drops the value that just arrived.
 *
 * @example
 * ```ts
 * import { sendTo, type Connection, type OverflowPolicy } from 'rxnet';
 * import type { Observable } from 'rxjs';
 *
 * declare const conn: Connection;
 * declare const quotes$: Observable<string>;
 * const overflow: OverflowPolicy = 'drop-oldest'; // a slow reader gets the latest quotes
 * quotes$.pipe(sendTo(conn, { highWaterMark: 100, overflow })).subscribe();
 * ```
 */
export type OverflowPolicy = 'error' | 'drop-oldest' | 'drop-newest';

/**
 * Counters a sink keeps up to date when given a `stats` object; read them any time.
 *
 * @example
 * ```ts
 * import { sendStats, sendTo, type Connection, type SendStats } from 'rxnet';
 *
 * declare const conn: Connection;
 * const stats: SendStats = sendStats();
 * conn.data$.pipe(sendTo(conn, { stats })).subscribe();
 * setInterval(() => console.log(`${stats.written} written, ${stats.queued} queued, ${stats.waits} waits`), 1000).unref();
 * ```
 */
export interface SendStats {
  /** Values waiting in the queue now. */
  queued: number;
  /** The largest `queued` seen: never above `highWaterMark`. */
  peakQueued: number;
  /** Values handed to `connection.write()`. */
  written: number;
  /** Values dropped by a `drop-oldest` or `drop-newest` policy. */
  dropped: number;
  /** Times the sink had to wait for `'drain'`. */
  waits: number;
}

/**
 * Creates a zeroed {@link SendStats} to pass as `sendTo(conn, { stats })`.
 *
 * @example
 * ```ts
 * import { from } from 'rxjs';
 * import { sendStats, sendTo, type Connection } from 'rxnet';
 *
 * declare const conn: Connection;
 * const stats = sendStats();
 * from(['a\n', 'b\n']).pipe(sendTo(conn, { stats })).subscribe({
 *   complete: () => console.log(`${stats.written} written, peak queue ${stats.peakQueued}`),
 * });
 * ```
 */
export function sendStats(): SendStats {
  return { queued: 0, peakQueued: 0, written: 0, dropped: 0, waits: 0 };
}

/**
 * Options of {@link sendTo}.
 *
 * @example
 * ```ts
 * import { sendTo, type Connection, type SendOptions } from 'rxnet';
 *
 * declare const client: Connection;
 * declare const upstream: Connection;
 * // A proxy leg: hold the client's reading while upstream is slow, keep upstream open after.
 * const options: SendOptions = { pauseSource: client, highWaterMark: 64, end: false };
 * client.data$.pipe(sendTo(upstream, options)).subscribe();
 * ```
 */
export interface SendOptions {
  /** Most values that may wait while the connection is not writable (default 1024). */
  highWaterMark?: number;
  /** What happens to a value beyond `highWaterMark` (default `'error'`: QueueOverflowError). */
  overflow?: OverflowPolicy;
  /**
   * A connection whose reading is held while this sink waits for drain (or holds a queue), and
   * released when it has caught up: an echo or proxy then runs in bounded memory whatever the
   * peers' speeds. Usually the connection the values come from.
   */
  pauseSource?: Holdable;
  /** End the connection (FIN after the last byte) when the source completes (default true). */
  end?: boolean;
  /** Counters to keep up to date, e.g. from {@link sendStats}. */
  stats?: SendStats;
}

/**
 * Writes every value of the source to `connection`, waiting for `'drain'` whenever `write()`
 * returns false; the result emits nothing and completes once everything written was flushed
 * to the kernel (and, with `end`, the FIN was sent).
 *
 * ```
 * source:    --a--b--c--d-----|
 * writable:  T-----F--------T-----
 * written:   --a--b--------cd----   (c, d wait in the queue while not writable)
 * result:    -----------------------|   (after the last write was flushed)
 * ```
 *
 * While waiting, values queue up to `highWaterMark`; past it the `overflow` policy applies.
 * With `pauseSource`, that connection stops reading while this sink waits, so the queue stays
 * near empty. Errors: the source's error; QueueOverflowError; WriteAfterEndError when the
 * connection was already ended; ConnectionClosedError (or the socket's error) when the
 * connection closes before everything was flushed. Unsubscribing leaves the connection open.
 *
 * @example
 * ```ts
 * import { listen, sendTo } from 'rxnet';
 * import { mergeMap } from 'rxjs';
 *
 * // An echo server in bounded memory: reading pauses while the peer is slow to read.
 * listen({ port: 7, host: '127.0.0.1' })
 *   .pipe(mergeMap((conn) => conn.data$.pipe(sendTo(conn, { pauseSource: conn }))))
 *   .subscribe();
 * ```
 */
export function sendTo<T extends Chunk>(connection: Connection, options: SendOptions = {}): OperatorFunction<T, never> {
  const highWaterMark = checkInteger('highWaterMark', options.highWaterMark ?? 1024, 1);
  const overflow = options.overflow ?? 'error';
  if (overflow !== 'error' && overflow !== 'drop-oldest' && overflow !== 'drop-newest') {
    throw new InvalidArgumentError(
      'overflow',
      `expected 'error', 'drop-oldest' or 'drop-newest', got ${String(overflow)}`,
    );
  }
  const config: SendConfig = {
    connection,
    highWaterMark,
    overflow,
    end: options.end ?? true,
    pauseSource: options.pauseSource,
    stats: options.stats,
  };
  return (source) => new SendObservable(source, config);
}

/** The sink Observable: its state in fields and a shared subscribe function, no closure per connection. */
class SendObservable<T extends Chunk> extends Observable<never> {
  constructor(
    readonly upstream: Observable<T>,
    readonly config: SendConfig,
  ) {
    super(subscribeSend);
  }
}

function subscribeSend<T extends Chunk>(this: Observable<never>, subscriber: Subscriber<never>): void {
  const { upstream, config } = this as SendObservable<T>;
  const sink = new SendSubscriber<T>(subscriber, config);
  subscriber.add(sink);
  upstream.subscribe(sink);
}

/** The options of one sendTo(), resolved once and shared by its subscriptions. */
interface SendConfig {
  readonly connection: Connection;
  readonly highWaterMark: number;
  readonly overflow: OverflowPolicy;
  readonly end: boolean;
  readonly pauseSource: Holdable | undefined;
  readonly stats: SendStats | undefined;
}

/**
 * The observer given to the source: one object per subscription holding all its state, so an
 * idle sink costs a few fields and a busy one allocates nothing per value. Like the framers'
 * subscriber it is also a `Subscription` added to the downstream subscriber, so RxJS uses it as
 * the source's subscriber as it is and unsubscribing downstream stops a synchronous source.
 *
 * Writability is watched (a `writable$` subscription) only from the first time the sink has to
 * wait: until then `write()` returning true is all it needs to know.
 */
class SendSubscriber<T extends Chunk> extends LeanSubscription implements Observer<T> {
  /** Values waiting for the connection to become writable; created on first use. */
  private queue: T[] | undefined = undefined;
  /** SOURCE_DONE and FINISHING bits: one field rather than two (a server may hold thousands). */
  private bits = 0;
  private get sourceDone(): boolean {
    return (this.bits & SOURCE_DONE) !== 0;
  }
  private set sourceDone(on: boolean) {
    this.bits = on ? this.bits | SOURCE_DONE : this.bits & ~SOURCE_DONE;
  }
  private get finishing(): boolean {
    return (this.bits & FINISHING) !== 0;
  }
  private set finishing(on: boolean) {
    this.bits = on ? this.bits | FINISHING : this.bits & ~FINISHING;
  }
  private release: (() => void) | undefined = undefined;
  private watching: Subscription | undefined = undefined;
  // The settings, copied from the shared config: one object per connection rather than two.
  private readonly connection: Connection;
  private readonly stats: SendStats | undefined;
  private readonly highWaterMark: number;
  private readonly overflow: OverflowPolicy;
  private readonly end: boolean;
  private readonly pauseSource: Holdable | undefined;

  constructor(
    private readonly destination: Subscriber<never>,
    config: SendConfig,
  ) {
    super();
    this.connection = config.connection;
    this.stats = config.stats;
    this.highWaterMark = config.highWaterMark;
    this.overflow = config.overflow;
    this.end = config.end;
    this.pauseSource = config.pauseSource;
  }

  next(value: T): void {
    if (this.sourceDone || this.finishing || this.closed) return;
    const connection = this.connection;
    try {
      const queue = this.queue;
      if ((queue === undefined || queue.length === 0) && connection.writable) {
        this.write(value);
        return;
      }
      if (connection.writeEnded) {
        this.write(value); // throws WriteAfterEndError
        return;
      }
      this.enqueue(value);
    } catch (error) {
      this.fail(error);
    }
  }

  error(error: unknown): void {
    if (this.sourceDone) return;
    this.sourceDone = true;
    this.fail(error);
  }

  complete(): void {
    if (this.sourceDone || this.finishing || this.destination.closed) return;
    this.sourceDone = true;
    const connection = this.connection;
    if (this.queued === 0 && (connection.writable || connection.writeEnded)) this.finish();
    else this.watch();
  }

  override unsubscribe(): void {
    if (this.closed) return;
    this.watching?.unsubscribe();
    this.watching = undefined;
    this.unhold();
    this.queue = undefined;
    super.unsubscribe();
  }

  private get queued(): number {
    return this.queue === undefined ? 0 : this.queue.length;
  }

  private enqueue(value: T): void {
    const { highWaterMark, overflow, stats } = this;
    const queue = (this.queue ??= []);
    if (queue.length >= highWaterMark) {
      if (overflow === 'error') {
        this.fail(new QueueOverflowError(highWaterMark));
        return;
      }
      if (stats) stats.dropped++;
      if (overflow === 'drop-newest') return;
      queue.shift();
    }
    queue.push(value);
    this.countQueued();
    this.hold();
    this.watch();
  }

  private write(value: T): boolean {
    const stats = this.stats;
    if (stats !== undefined) stats.written++;
    if (this.connection.write(value)) return true;
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
          const value = queue.shift()!;
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
      if (this.sourceDone) this.finish();
    }
  }

  /** Subscribes to the connection's writability, once: drain resumes the flush, close fails the sink. */
  private watch(): void {
    if (this.watching !== undefined || this.destination.closed) return;
    const connection = this.connection;
    this.watching = connection.writable$.subscribe({
      next: (writable) => {
        if (writable) this.flush();
      },
      error: (error) => this.fail(error),
      complete: () => {
        if (!this.destination.closed) this.fail(new ConnectionClosedError(connection.id, this.queued));
      },
    });
    // Closed or failed at once (the connection was already gone): drop the finished subscription.
    if (this.destination.closed) this.watching.unsubscribe();
  }

  private finish(): void {
    if (this.finishing) return;
    this.finishing = true;
    this.unhold();
    const { connection, end } = this;
    const destination = this.destination;
    const done = (error?: Error | null) => (error ? destination.error(error) : destination.complete());
    try {
      if (end || connection.writeEnded) connection.end(undefined, done);
      // An empty write's callback runs once every earlier write was flushed.
      else connection.write(EMPTY, done);
    } catch (error) {
      destination.error(error);
    }
  }

  private fail(error: unknown): void {
    this.unhold();
    this.destination.error(error);
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
    const queued = this.queued;
    stats.queued = queued;
    if (queued > stats.peakQueued) stats.peakQueued = queued;
  }
}

const EMPTY = Buffer.alloc(0);

// SendSubscriber's bits.
const SOURCE_DONE = 1;
const FINISHING = 2;

// sendTo(): the flow-controlled sink that writes values to a connection, honouring 'drain'.
import { Buffer } from 'buffer';
import { Observable } from 'rxjs';
import type { Observer, OperatorFunction, Subscriber, Subscription } from 'rxjs';
import { ConnectionClosedError, InvalidArgumentError, QueueOverflowError, isPeerFailure } from '../errors';
import { LeanSubscription } from '../util/LeanSubscription';
import type { Chunk, Connection, Holdable } from '../types';
import { checkLimit } from '../util/validate';

/**
 * What a sink does with a value that arrives while its queue is full (`highWaterMark` values, or
 * the value would take it past `highWaterMarkBytes`): `'error'` fails with a
 * `QueueOverflowError`, `'drop-oldest'` drops the values that waited longest until the new one
 * fits, `'drop-newest'` drops the value that just arrived. A sink with `pauseSource` has no
 * limits by default (see {@link SendToOptions.pauseSource}).
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
  /** The largest `queued` seen (never above `highWaterMark`). */
  peakQueued: number;
  /** Bytes of the values waiting in the queue now (a string counted in UTF-8). */
  queuedBytes: number;
  /** The largest `queuedBytes` seen. */
  peakQueuedBytes: number;
  /** Values handed to `connection.write()`. */
  written: number;
  /** Values dropped by a `drop-oldest` or `drop-newest` policy. */
  dropped: number;
  /**
   * Values never written: the connection closed, or was ended elsewhere, before their turn, or
   * the sink was unsubscribed while they waited.
   */
  unsent: number;
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
  return { queued: 0, peakQueued: 0, queuedBytes: 0, peakQueuedBytes: 0, written: 0, dropped: 0, unsent: 0, waits: 0 };
}

/** The default `highWaterMark` of {@link sendTo}: values that may wait. */
export const DEFAULT_SEND_HIGH_WATER_MARK = 1024;

/** The default `highWaterMarkBytes` of {@link sendTo}: bytes that may wait (1 MiB). */
export const DEFAULT_SEND_HIGH_WATER_MARK_BYTES = 1024 * 1024;

/**
 * Options of {@link sendTo}.
 *
 * @example
 * ```ts
 * import { sendTo, type Connection, type SendToOptions } from 'rxnet';
 *
 * declare const client: Connection;
 * declare const upstream: Connection;
 * // A proxy leg: hold the client's reading while upstream is slow, keep upstream open after.
 * const options: SendToOptions = { pauseSource: client, end: false };
 * client.data$.pipe(sendTo(upstream, options)).subscribe();
 * ```
 */
export interface SendToOptions {
  /**
   * Most values that may wait while the connection is not writable (default 1024, or no limit
   * with `pauseSource`; `Infinity` for no limit).
   */
  highWaterMark?: number;
  /**
   * Most bytes that may wait while the connection is not writable (default 1 MiB, or no limit
   * with `pauseSource`; `Infinity` for no limit); a single value larger than that may still wait
   * alone.
   */
  highWaterMarkBytes?: number;
  /** What happens to a value that does not fit in the queue (default `'error'`: QueueOverflowError). */
  overflow?: OverflowPolicy;
  /**
   * A connection (or any {@link Holdable}) whose reading is held while this sink waits for drain
   * or holds a queue, and released when it has caught up: an echo or proxy then runs in bounded
   * memory whatever the peers' speeds. Usually the connection the values come from.
   *
   * With it, what waits is the replies to what was already read: values decoded from chunks in
   * hand (say, 20,000 pipelined requests in one 64 KiB read) may all wait, since reading stays
   * held until they are written, so a pipelining peer is served completely. The default limits
   * do not apply then; limits you give still do. The bytes that wait are the replies' bytes: a
   * 7-byte request answered with 100 KB makes one 64 KiB read cost some 900 MB, so give
   * `highWaterMarkBytes` where replies are much larger than requests. Values from elsewhere
   * (merged into the source) are not held back by it: bound those yourself.
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
 * While waiting, values queue up to `highWaterMark` values and `highWaterMarkBytes` bytes; past
 * them the `overflow` policy applies. With `pauseSource`, that connection stops reading while
 * this sink waits, and what it had already read may always queue (see the option).
 *
 * The connection's fate ends the sink, never errors it: when the connection closes before
 * everything was written (the peer reset it, `destroy()`), when a value comes after someone else
 * ended it (an idle policy's goodbye), or when the source fails with the failure of this
 * connection or of its `pauseSource` (the `ECONNRESET` of the `data$` it reads), the sink
 * completes, counting what it could not write as `unsent`. So `data$.pipe(..., sendTo(conn))` ends quietly when its peer resets, and a server's
 * pipeline goes on. Errors: the source's own errors (a framer's `FrameTooLongError`, ...),
 * `QueueOverflowError`, and the error the application passed to `destroy(error)`.
 * Unsubscribing leaves the connection open.
 *
 * @throws InvalidArgumentError at creation for a missing connection or a bad option.
 * @example
 * ```ts
 * import { listen, sendTo, serveEach } from 'rxnet';
 *
 * // An echo server in bounded memory: reading pauses while the peer is slow to read.
 * listen({ port: 7, host: '127.0.0.1' })
 *   .pipe(serveEach((conn) => conn.data$.pipe(sendTo(conn, { pauseSource: conn }))))
 *   .subscribe();
 * ```
 */
export function sendTo<T extends Chunk>(
  connection: Connection,
  options: SendToOptions = {},
): OperatorFunction<T, never> {
  if (
    typeof connection !== 'object' ||
    connection === null ||
    typeof connection.write !== 'function' ||
    typeof connection.end !== 'function'
  ) {
    throw new InvalidArgumentError('connection', `expected a Connection, got ${describe(connection)}`);
  }
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', `expected an object, got ${describe(options)}`);
  }
  // With pauseSource, what waits is bounded by what was read: no default limit, but one given holds.
  const held = options.pauseSource !== undefined;
  const highWaterMark = checkLimit(
    'highWaterMark',
    options.highWaterMark,
    held ? Infinity : DEFAULT_SEND_HIGH_WATER_MARK,
    1,
  );
  const highWaterMarkBytes = checkLimit(
    'highWaterMarkBytes',
    options.highWaterMarkBytes,
    held ? Infinity : DEFAULT_SEND_HIGH_WATER_MARK_BYTES,
    1,
  );
  const overflow = options.overflow ?? 'error';
  if (overflow !== 'error' && overflow !== 'drop-oldest' && overflow !== 'drop-newest') {
    throw new InvalidArgumentError(
      'overflow',
      `expected 'error', 'drop-oldest' or 'drop-newest', got ${String(overflow)}`,
    );
  }
  const end = options.end ?? true;
  if (typeof end !== 'boolean') throw new InvalidArgumentError('end', `expected a boolean, got ${String(end)}`);
  const pauseSource = options.pauseSource;
  if (pauseSource !== undefined && typeof pauseSource?.holdReading !== 'function') {
    throw new InvalidArgumentError('pauseSource', `expected a Connection or Holdable, got ${describe(pauseSource)}`);
  }
  const stats = options.stats;
  if (stats !== undefined && (typeof stats !== 'object' || stats === null)) {
    throw new InvalidArgumentError('stats', `expected a SendStats object, got ${describe(stats)}`);
  }
  const config: SendConfig = { connection, highWaterMark, highWaterMarkBytes, overflow, end, pauseSource, stats };
  return (source) => new SendObservable(source, config);
}

function describe(value: unknown): string {
  return value === null ? 'null' : typeof value === 'object' ? 'an object without the needed methods' : String(value);
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
  readonly highWaterMarkBytes: number;
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
 * The settings are copied in, and `end` and `overflow` kept as bits: the config object (made per
 * `sendTo()` call, often per connection) is then not kept alive by an idle sink. Writability is
 * watched (a `writable$` subscription) only from the first time the sink has to wait: until then
 * `write()` returning true is all it needs to know.
 */
class SendSubscriber<T extends Chunk> extends LeanSubscription implements Observer<T> {
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

  constructor(
    private readonly destination: Subscriber<never>,
    config: SendConfig,
  ) {
    super();
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

  error(error: unknown): void {
    if ((this.bits & SOURCE_DONE) !== 0) return;
    // The failure of this sink's connection (or of the one it holds, its source) reached us down
    // the pipeline, as data$'s error: not the pipeline's error; what was received is written and
    // the connection ended as usual, or, for this connection itself, the sink stops. An error
    // with the same code from elsewhere (a database driver's ECONNRESET) is passed on.
    if (isPeerFailure(error) && this.isConnectionFailure(error)) this.complete();
    else {
      this.bits |= SOURCE_DONE;
      this.fail(error);
    }
  }

  complete(): void {
    if ((this.bits & DONE) !== 0 || this.destination.closed) return;
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
    if (queue.length > 0) {
      const { highWaterMark, highWaterMarkBytes, stats } = this;
      if (queue.length >= highWaterMark || queue.bytes + size > highWaterMarkBytes) {
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
        while (queue.length > 0 && (queue.length >= highWaterMark || queue.bytes + size > highWaterMarkBytes)) {
          queue.shift();
          if (stats) stats.dropped++;
        }
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
    if (this.watching !== undefined || this.destination.closed) return;
    this.watching = this.connection.writable$.subscribe({
      next: (writable) => {
        if (writable) this.flush();
      },
      error: (error) => this.ended(error),
      complete: () => this.ended(undefined),
    });
    // Closed or failed at once (the connection was already gone): drop the finished subscription.
    if (this.destination.closed) this.watching.unsubscribe();
  }

  /** The connection closed under the sink. */
  private ended(error: unknown): void {
    if (this.destination.closed) return;
    if (error === undefined || isPeerFailure(error)) this.stopQuietly(0);
    else this.fail(error);
  }

  private finish(): void {
    if ((this.bits & FINISHING) !== 0) return;
    this.bits |= FINISHING;
    this.unhold();
    const connection = this.connection;
    const destination = this.destination;
    const done = (error?: Error | null) => {
      if (!error || isQuietEnd(error)) destination.complete();
      else destination.error(error);
    };
    try {
      if ((this.bits & END) !== 0 || connection.writeEnded) connection.end(undefined, done);
      // An empty write's callback runs once every earlier write was flushed.
      else connection.write(EMPTY, done);
    } catch (error) {
      destination.error(error);
    }
  }

  /**
   * The connection can take no more writes (closed, or ended elsewhere): the sink completes, the
   * values it still held, plus `more` just refused, counted as unsent.
   */
  private stopQuietly(more: number): void {
    // What still waits is counted when the completion unsubscribes the sink.
    if (this.stats !== undefined) this.stats.unsent += more;
    this.destination.complete();
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
 * A sink's waiting values with their byte count. A head index rather than `Array#shift()`: a
 * queue of many thousand values (the replies to a pipelining peer) would make each `shift()` move
 * them all.
 */
class SendQueue<T extends Chunk> {
  private readonly items: T[] = [];
  private head = 0;
  /** Bytes of the values waiting. */
  bytes = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(value: T, size: number): void {
    this.items.push(value);
    this.bytes += size;
  }

  /** Takes out the oldest value (`length > 0`). */
  shift(): T {
    const items = this.items;
    const value = items[this.head];
    items[this.head] = undefined as unknown as T;
    this.head++;
    if (this.head === items.length) {
      items.length = 0;
      this.head = 0;
      this.bytes = 0;
    } else {
      this.bytes -= sizeOf(value);
      if (this.head >= 1024 && this.head * 2 >= items.length) {
        items.splice(0, this.head);
        this.head = 0;
      }
    }
    return value;
  }
}

/** Bytes a value takes on the wire (a string in UTF-8). */
function sizeOf(value: Chunk): number {
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
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

// SendSubscriber's bits: its state, then its settings.
const SOURCE_DONE = 1;
const FINISHING = 2;
/** No more values are taken. */
const DONE = SOURCE_DONE | FINISHING;
const END = 4;
const DROP_OLDEST = 8;
const DROP_NEWEST = 16;

/** @deprecated The former name of {@link SendToOptions}, kept so that code written for 0.1 compiles. */
export type SendOptions = SendToOptions;

// sendTo(): the flow-controlled sink that writes values to a connection, honouring 'drain'.
import { Observable } from 'rxjs';
import type { OperatorFunction, Subscriber } from 'rxjs';
import { InvalidArgumentError } from '../errors';
import type { Chunk, Connection, Holdable } from '../types';
import { checkLimit } from '../util/validate';
import { SendSubscriber } from './SendSubscriber';
import type { SendConfig } from './SendSubscriber';

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
  upstream.subscribe(new SendSubscriber<T>(subscriber, config));
}

/** @deprecated The former name of {@link SendToOptions}, kept so that code written for 0.1 compiles. */
export type SendOptions = SendToOptions;

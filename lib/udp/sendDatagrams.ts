// sendDatagrams(): the sink that sends each value of a stream as one datagram, with a bounded number in flight.
import { Observable } from 'rxjs';
import type { OperatorFunction, Subscriber } from 'rxjs';
import { InvalidArgumentError, QueueOverflowError, UdpSendError } from '../errors';
import type { Chunk, DatagramTarget, UdpSocket } from '../types';
import { OperatorSubscriber } from '../util/OperatorSubscriber';
import { checkLimit, checkOptions } from '../util/validate';
import { whenClosed } from './whenClosed';

/** The default `highWaterMark` of {@link sendDatagrams}: sends awaiting their kernel callback. */
const DEFAULT_HIGH_WATER_MARK = 1024;

/** The default `maxQueued` of {@link sendDatagrams} under `overflow: 'wait'`. */
const DEFAULT_MAX_QUEUED = 1024;

/** Values sent from the queue's head before its array is compacted (when they are at least half of it). */
const COMPACT_AT = 1024;

/**
 * A datagram with its own destination: what {@link sendDatagrams} sends to `address:port`. A
 * received `Datagram` is one, so `socket.messages$.pipe(sendDatagrams(socket))` is an echo.
 *
 * @example
 * ```ts
 * import { from } from 'rxjs';
 * import { sendDatagrams, type OutgoingDatagram, type UdpSocket } from 'rxnet';
 *
 * declare const socket: UdpSocket;
 * const pings: OutgoingDatagram[] = [
 *   { data: 'ping', address: '127.0.0.1', port: 7001 },
 *   { data: 'ping', address: '127.0.0.1', port: 7002 },
 * ];
 * from(pings).pipe(sendDatagrams(socket)).subscribe();
 * ```
 */
export interface OutgoingDatagram {
  /** The payload: one datagram. */
  readonly data: Chunk;
  /** The receiver's address. */
  readonly address: string;
  /** The receiver's port. */
  readonly port: number;
}

/**
 * Counters {@link sendDatagrams} keeps up to date when given a `stats` object; read them any time.
 *
 * @example
 * ```ts
 * import { datagramSendStats, sendDatagrams, type DatagramSendStats, type UdpSocket } from 'rxnet';
 * import type { Observable } from 'rxjs';
 *
 * declare const socket: UdpSocket;
 * declare const metrics$: Observable<string>;
 * const stats: DatagramSendStats = datagramSendStats();
 * metrics$.pipe(sendDatagrams(socket, { target: { address: '127.0.0.1', port: 8125 }, stats })).subscribe();
 * setInterval(() => console.log(`${stats.sent} sent, ${stats.dropped} dropped, ${stats.failed} failed`), 1000).unref();
 * ```
 */
export interface DatagramSendStats {
  /** Datagrams the kernel took. */
  sent: number;
  /** Bytes of those datagrams. */
  sentBytes: number;
  /** Values dropped because `highWaterMark` sends were in flight (`overflow: 'drop-newest'`). */
  dropped: number;
  /** Sends the kernel refused (`EMSGSIZE`, `ENOBUFS`, `ECONNREFUSED`, …), dropped or not. */
  failed: number;
  /** Values never sent: queued when the sink ended early or failed, or pending or given when its socket closed. */
  unsent: number;
  /** Sends awaiting their kernel callback now. */
  inFlight: number;
  /** The largest `inFlight` seen (never above `highWaterMark`). */
  peakInFlight: number;
  /** Values waiting for room in flight now (`overflow: 'wait'`). */
  queued: number;
  /** The largest `queued` seen (never above `maxQueued`). */
  peakQueued: number;
}

/**
 * Creates a zeroed {@link DatagramSendStats} to pass as `sendDatagrams(socket, { stats })`.
 *
 * @example
 * ```ts
 * import { from } from 'rxjs';
 * import { datagramSendStats, sendDatagrams, type UdpSocket } from 'rxnet';
 *
 * declare const socket: UdpSocket;
 * const stats = datagramSendStats();
 * from(['a', 'b']).pipe(sendDatagrams(socket, { stats })).subscribe({
 *   complete: () => console.log(`${stats.sent} sent, peak in flight ${stats.peakInFlight}`),
 * });
 * ```
 */
export function datagramSendStats(): DatagramSendStats {
  return {
    sent: 0,
    sentBytes: 0,
    dropped: 0,
    failed: 0,
    unsent: 0,
    inFlight: 0,
    peakInFlight: 0,
    queued: 0,
    peakQueued: 0,
  };
}

/**
 * Options of {@link sendDatagrams}.
 *
 * @example
 * ```ts
 * import { sendDatagrams, type SendDatagramsOptions, type UdpSocket } from 'rxnet';
 * import type { Observable } from 'rxjs';
 *
 * declare const socket: UdpSocket;
 * declare const frames$: Observable<Buffer>;
 * // Lossless within bounds: wait for room rather than drop, fail past 10,000 waiting values.
 * const options: SendDatagramsOptions = { target: { address: '10.0.0.7', port: 9000 }, overflow: 'wait', maxQueued: 10_000 };
 * frames$.pipe(sendDatagrams(socket, options)).subscribe();
 * ```
 */
export interface SendDatagramsOptions {
  /**
   * Where payload values (`Chunk`s) go on an unconnected socket (a connected one sends them to its
   * peer, and refuses a target). Not used for `OutgoingDatagram`s.
   */
  readonly target?: DatagramTarget;
  /** Most sends awaiting their kernel callback at once (default 1024; `Infinity` for no limit). */
  readonly highWaterMark?: number;
  /**
   * A value that comes while `highWaterMark` sends are in flight: `'drop-newest'` (default) drops
   * it, counted in `stats.dropped`; `'error'` fails with `QueueOverflowError`; `'wait'` queues it
   * until a send settles, up to `maxQueued` values (one more fails with `QueueOverflowError`).
   */
  readonly overflow?: 'drop-newest' | 'error' | 'wait';
  /** `overflow: 'wait'` only: the most values that may wait (default 1024; `Infinity` for no limit). */
  readonly maxQueued?: number;
  /**
   * A send the kernel refused: `'drop'` (default) counts it in `stats.failed` and goes on;
   * `'error'` fails with its `UdpSendError`.
   */
  readonly onSendError?: 'drop' | 'error';
  /** Counters to keep up to date, e.g. from {@link datagramSendStats}. */
  readonly stats?: DatagramSendStats;
}

/**
 * Sends every value of the source as one datagram on `socket`: a payload (`Chunk`) to
 * `options.target` or the connected peer, an {@link OutgoingDatagram} to its own address. The
 * result emits nothing and completes once the source completed and every send settled.
 *
 * ```
 * source:     --a--b--c--d------|
 * in flight:  --1--2--2--2--1-0       (highWaterMark 2: c and d find no room)
 * sent:       --a--b------------      drop-newest: c, d dropped │ wait: c, d sent as a, b settle
 * result:     ------------------|     (after the last send settled)
 * ```
 *
 * UDP has no `'drain'`: nothing tells a sender to slow down. What bounds memory is the number of
 * sends awaiting their kernel callback (`highWaterMark`) and, with `'wait'`, the queue behind them
 * (`maxQueued`). A refused send (`EMSGSIZE` over 65,507 B on IPv4, `ECONNREFUSED` on a connected
 * socket whose peer is gone) is dropped and counted, or fails the stream with `onSendError:
 * 'error'`. A socket that closes ends the sink quietly: it leaves its source, counts what it
 * could not send as `unsent`, and completes once the sends in flight settled (a closing socket
 * rejects them with reason `'closed'`). rxnet's sockets (bindUdp's, `MemoryDatagramNetwork`'s)
 * tell the sink at once, even with nothing in flight; a `UdpSocket` of your own is found closed
 * at subscription, or else at its next send. Unsubscribing stops sending and drops what waits;
 * sends already in flight settle.
 * A throw from the socket's `send` becomes the error notification.
 *
 * @throws InvalidArgumentError at creation for a missing socket or a bad option.
 * @example
 * ```ts
 * import { interval, map, mergeMap } from 'rxjs';
 * import { bindUdp, sendDatagrams } from 'rxnet';
 *
 * // A gauge to a StatsD daemon, once a second.
 * bindUdp({ type: 'udp4', connect: { address: '127.0.0.1', port: 8125 } })
 *   .pipe(mergeMap((socket) => interval(1000).pipe(map((i) => `ticks:${i}|g`), sendDatagrams(socket))))
 *   .subscribe();
 * ```
 */
export function sendDatagrams<T extends Chunk | OutgoingDatagram>(
  socket: UdpSocket,
  options: SendDatagramsOptions = {},
): OperatorFunction<T, never> {
  if (typeof socket !== 'object' || socket === null || typeof socket.send !== 'function') {
    throw new InvalidArgumentError('socket', `expected a UdpSocket, got ${socket === null ? 'null' : typeof socket}`);
  }
  checkOptions(options);
  const { target, stats } = options;
  if (target !== undefined && (typeof target?.address !== 'string' || typeof target?.port !== 'number')) {
    throw new InvalidArgumentError('target', 'expected { address, port }');
  }
  if (target !== undefined && socket.remote !== undefined) {
    throw new InvalidArgumentError('target', 'the socket is connected: its payloads go to its peer');
  }
  const overflow = options.overflow ?? 'drop-newest';
  if (overflow !== 'drop-newest' && overflow !== 'error' && overflow !== 'wait') {
    throw new InvalidArgumentError('overflow', `expected 'drop-newest', 'error' or 'wait', got ${String(overflow)}`);
  }
  const onSendError = options.onSendError ?? 'drop';
  if (onSendError !== 'drop' && onSendError !== 'error') {
    throw new InvalidArgumentError('onSendError', `expected 'drop' or 'error', got ${String(onSendError)}`);
  }
  if (stats !== undefined && (typeof stats !== 'object' || stats === null)) {
    throw new InvalidArgumentError('stats', 'expected a DatagramSendStats object');
  }
  const settings: Settings = {
    socket,
    target,
    highWaterMark: checkLimit('highWaterMark', options.highWaterMark, DEFAULT_HIGH_WATER_MARK, 1),
    overflow,
    maxQueued: checkLimit('maxQueued', options.maxQueued, DEFAULT_MAX_QUEUED, 0),
    failOnSendError: onSendError === 'error',
    stats: stats ?? datagramSendStats(),
  };
  return (source) =>
    new Observable<never>((subscriber) => {
      const sink = new SendDatagramsSubscriber<T>(subscriber, settings);
      source.subscribe(sink);
      sink.watchSocket();
    });
}

/** The checked options, shared by every subscription of one operator. */
interface Settings {
  readonly socket: UdpSocket;
  readonly target: DatagramTarget | undefined;
  readonly highWaterMark: number;
  readonly overflow: 'drop-newest' | 'error' | 'wait';
  readonly maxQueued: number;
  readonly failOnSendError: boolean;
  /** The caller's counters, or private ones (which nobody reads, but keep the code one path). */
  readonly stats: DatagramSendStats;
}

/**
 * One subscription of the sink. It leaves its source when the source ends (or on error) but
 * tells downstream only once the sends in flight settled; so whether downstream still listens is
 * `downstream.closed`, not `this.closed`.
 */
class SendDatagramsSubscriber<T extends Chunk | OutgoingDatagram> extends OperatorSubscriber<T, never> {
  /** This subscription's sends awaiting their callback (stats.inFlight may be shared). */
  private inFlight = 0;
  /** Values waiting for room (`'wait'`), from `head` on. */
  private queue: (T | undefined)[] = [];
  private head = 0;
  /** The source completed, or the socket closed: complete downstream once everything settled. */
  private ended = false;
  /** Settlement handlers made once per subscription, not per send. */
  private readonly onSent = (bytes: number): void => this.settled(bytes, false, undefined);
  private readonly onFailed = (error: unknown): void => this.settled(0, true, error);

  constructor(
    downstream: Subscriber<never>,
    private readonly settings: Settings,
  ) {
    super(downstream);
    // However the subscription ends, what still waits is released and counted.
    downstream.add(() => this.dropQueue());
  }

  next(value: T): void {
    if (this.closed) return;
    const { settings } = this;
    if (this.inFlight < settings.highWaterMark) {
      this.send(value);
      return;
    }
    const { stats } = settings;
    if (settings.overflow === 'drop-newest') {
      stats.dropped++;
    } else if (settings.overflow === 'error') {
      this.fail(
        new QueueOverflowError(settings.highWaterMark, Infinity, this.inFlight, 0, 'send window', 'send callbacks'),
      );
    } else {
      const queued = this.queue.length - this.head;
      if (queued >= settings.maxQueued) {
        this.fail(new QueueOverflowError(settings.maxQueued, Infinity, queued, 0, 'datagram queue', 'room in flight'));
        return;
      }
      this.queue.push(value);
      stats.queued++;
      if (stats.queued > stats.peakQueued) stats.peakQueued = stats.queued;
    }
  }

  override error(error: unknown): void {
    this.fail(error);
  }

  override complete(): void {
    if (this.closed) return;
    if (this.inFlight === 0) return super.complete();
    this.ended = true;
    this.unsubscribe();
  }

  /** Ends the sink when its socket closes: now if it is closed already, else when rxnet's socket says so. */
  watchSocket(): void {
    const { socket } = this.settings;
    if (this.downstream.closed) return;
    if (socket.closed) return this.socketClosed();
    const removeListener = whenClosed(socket, () => this.socketClosed());
    if (removeListener !== undefined) this.downstream.add(removeListener);
  }

  /** Nothing more can be sent: leave the source, drop what waits, complete once what is in flight settled. */
  private socketClosed(): void {
    const downstream = this.downstream;
    if (downstream.closed) return;
    this.ended = true;
    this.unsubscribe();
    this.dropQueue();
    if (this.inFlight === 0) downstream.complete();
  }

  private send(value: T): void {
    const { socket, stats } = this.settings;
    let sending: Promise<number>;
    try {
      if (typeof value === 'string' || value instanceof Uint8Array) {
        const target = this.settings.target;
        if (target === undefined && socket.remote === undefined) {
          throw new InvalidArgumentError('target', 'a payload needs options.target or a connected socket');
        }
        sending = target === undefined ? socket.send(value) : socket.send(value, target);
      } else {
        if (!isOutgoing(value)) {
          throw new InvalidArgumentError('value', 'expected a Buffer, Uint8Array, string or { data, address, port }');
        }
        // The value is its own target: no object made per datagram.
        sending = socket.send(value.data, value);
      }
      sending.then(this.onSent, this.onFailed);
    } catch (error) {
      this.fail(error);
      return;
    }
    this.inFlight++;
    if (++stats.inFlight > stats.peakInFlight) stats.peakInFlight = stats.inFlight;
  }

  /** One send settled: count it, then fail, go on sending what waits, or complete. */
  private settled(bytes: number, failed: boolean, error: unknown): void {
    const { stats, failOnSendError } = this.settings;
    this.inFlight--;
    stats.inFlight--;
    const closed = error instanceof UdpSendError && error.reason === 'closed';
    if (!failed) {
      stats.sent++;
      stats.sentBytes += bytes;
    } else if (closed) {
      stats.unsent++;
    } else {
      stats.failed++;
    }
    const downstream = this.downstream;
    if (downstream.closed) return;
    if (failed) {
      if (closed) return this.socketClosed();
      if (failOnSendError) {
        this.fail(error);
        return;
      }
    }
    while (this.head < this.queue.length && this.inFlight < this.settings.highWaterMark) {
      const value = this.queue[this.head] as T;
      this.queue[this.head++] = undefined;
      stats.queued--;
      this.send(value);
      if (downstream.closed) return;
    }
    if (this.head > 0 && this.head === this.queue.length) {
      // Emptied: the same array serves again, nothing allocated per datagram.
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head >= COMPACT_AT && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (this.ended && this.inFlight === 0 && this.head === this.queue.length) downstream.complete();
  }

  /** Fails downstream (whether or not the source has ended), dropping what waits. */
  private fail(error: unknown): void {
    const downstream = this.downstream;
    if (downstream.closed) return;
    this.unsubscribe();
    this.dropQueue();
    downstream.error(error);
  }

  private dropQueue(): void {
    const waiting = this.queue.length - this.head;
    if (waiting === 0) return;
    this.settings.stats.queued -= waiting;
    this.settings.stats.unsent += waiting;
    this.queue = [];
    this.head = 0;
  }
}

function isOutgoing(value: unknown): value is OutgoingDatagram {
  if (value === null || typeof value !== 'object') return false;
  const { data, address, port } = value as Partial<OutgoingDatagram>;
  return (
    (typeof data === 'string' || data instanceof Uint8Array) && typeof address === 'string' && typeof port === 'number'
  );
}

// MemoryConnection: one end of an in-memory connection, behaving as rxnet's socket connection does, timed on a scheduler.
import { Buffer } from 'buffer';
import { Observable } from 'rxjs';
import type { SchedulerLike, Subscription } from 'rxjs';
import { nextConnectionId } from '../core/SocketConnection';
import { ConnectionClosedError, WriteAfterEndError } from '../errors';
import { EventHub } from '../util/EventHub';
import { ReadGate } from '../util/ReadGate';
import type { Chunk, Connection, ConnectionEvent } from '../types';
import type { MemoryWire, WireReader, WireWriter } from './MemoryWire';
import { connectionResetError } from './netErrors';
import { toBuffer } from '../util/toBuffer';
import { checkInteger } from '../util/validate';

/**
 * The addresses an in-memory connection reports: `'memory'` and the ports `connectionPair` or
 * `memoryServer` gave it.
 *
 * @example
 * ```ts
 * import { connectionPair, type MemoryAddresses } from 'rxnet/testing';
 *
 * const [client] = connectionPair();
 * const seen: MemoryAddresses = client;
 * console.log(seen.localAddress, seen.localPort); // "memory", and a port from 49152 up
 * ```
 */
export interface MemoryAddresses {
  /** Always `'memory'`. */
  readonly localAddress: string;
  /** This side's port. */
  readonly localPort: number;
  /** Always `'memory'`. */
  readonly remoteAddress: string;
  /** The other side's port. */
  readonly remotePort: number;
}

/**
 * One end of an in-memory connection: a {@link Connection} whose peer is another
 * `MemoryConnection`, plus the controls a test needs. Create them with {@link connectionPair}
 * or `memoryServer().connect()`.
 *
 * ```
 * a.write('hi')  ──a.outbound──►  b.data$: --'hi'--
 * b.data$        ◄──b.outbound──  b.write(...)
 * a.end()        ──FIN──►         b.data$ completes, b.events$: 'end'
 * a.reset()                       b: ECONNRESET on data$, events$ 'error', 'close' (hadError)
 * ```
 *
 * It behaves as rxnet's socket connection does: `data$` reads only while subscribed and not
 * held (bytes wait, first on the reader's side, then on the writer's, whose `write()` then
 * returns false); the end of `data$` is replayed to late subscribers; `events$` shows `data`,
 * `written`, `drain`, `end`, `finish`, `timeout`, `error` and `close`; a side closes once it has
 * both sent and read a FIN, or at once on `destroy()`, `reset()` or an error. Socket options
 * (`setNoDelay`, `setKeepAlive`, `setTimeout`) are recorded in `noDelay`, `keepAlive`,
 * `keepAliveInitialDelay` and `timeout` for assertions; `setTimeout` fires `'timeout'` on the
 * scheduler after that much inactivity, once per silence.
 *
 * Test controls: {@link outbound} (the direction this side writes: `stall()`, `resume()`,
 * `latency`, `chunking`, buffers), {@link reset} and {@link fail}. Errors are Node's shapes
 * (`code`, `errno`, `syscall`): ECONNRESET for the peer of a reset, EPIPE for bytes written to
 * a peer that was destroyed.
 *
 * @example
 * ```ts
 * import { connectionPair } from 'rxnet/testing';
 *
 * const [client, server] = connectionPair();
 * server.data$.subscribe({ complete: () => server.end('bye\n') }); // the client's FIN, then ours
 * client.data$.subscribe((chunk) => console.log(chunk.toString())); // bye
 * client.end('hello\n');
 * console.log(client.peer === server, client.inbound === server.outbound); // true true
 * ```
 */
export class MemoryConnection implements Connection {
  readonly id = nextConnectionId();
  readonly data$: Observable<Buffer>;
  readonly events$: Observable<ConnectionEvent>;
  readonly writable$: Observable<boolean>;
  /** Always undefined: there is no socket. */
  readonly socket = undefined;

  /** The last `setNoDelay()` value (false until called). */
  noDelay = false;
  /** The `enable` of the last `setKeepAlive()` call (false until called). */
  keepAlive = false;
  /** The `initialDelay` of the last `setKeepAlive()` call, in ms (0 until called or when not given). */
  keepAliveInitialDelay = 0;
  /** The last `setTimeout()` value (0: off). */
  timeout = 0;

  private peerConnection: MemoryConnection | undefined;
  private readonly gate: ReadGate;
  private readonly events = new EventHub<ConnectionEvent>();
  private readonly writability = new EventHub<boolean>();
  private reading = false;
  private isWritable = true;
  private ended = false;
  private finished = false;
  private readEnded = false;
  private isClosed = false;
  private failure: Error | undefined = undefined;
  private endCallbacks: ((error?: Error | null) => void)[] = [];
  private read = 0;
  private written = 0;
  private lastActivity: number;
  private timeoutAction: Subscription | undefined = undefined;

  /** Made by {@link connectionPair}, which links the two sides; not meant to be called directly. */
  constructor(
    private readonly scheduler: SchedulerLike,
    /** The direction this side writes to; `peer.outbound` is the one it reads from. */
    readonly outbound: MemoryWire,
    private readonly addresses: MemoryAddresses,
    private readonly allowHalfOpen: boolean,
  ) {
    this.lastActivity = scheduler.now();
    this.gate = new ReadGate((flowing) => {
      this.reading = flowing;
      this.peerConnection?.outbound.readerChanged();
    });
    this.data$ = this.gate;
    this.events$ = this.events.observable;
    this.writable$ = new Observable<boolean>((subscriber) => {
      if (!this.isClosed) subscriber.next(this.isWritable);
      return this.writability.observable.subscribe(subscriber);
    });
  }

  /** @internal Joins two ends. */
  static join(a: MemoryConnection, b: MemoryConnection): void {
    a.peerConnection = b;
    b.peerConnection = a;
    a.outbound.attach(a.writerEnd(), b.readerEnd());
    b.outbound.attach(b.writerEnd(), a.readerEnd());
  }

  /** The other end. */
  get peer(): MemoryConnection {
    return this.peerConnection!;
  }

  /** The direction this side reads from (the peer's {@link outbound}). */
  get inbound(): MemoryWire {
    return this.peer.outbound;
  }

  pause(): void {
    this.gate.pauseByUser();
  }

  resume(): void {
    this.gate.resumeByUser();
  }

  holdReading(): () => void {
    return this.gate.hold();
  }

  get writable(): boolean {
    return this.isWritable && !this.writeEnded;
  }
  get writeEnded(): boolean {
    return this.ended || this.isClosed;
  }
  get closed(): boolean {
    return this.isClosed;
  }
  get closeReason(): Error | undefined {
    return this.failure;
  }
  get localAddress(): string {
    return this.addresses.localAddress;
  }
  get localPort(): number {
    return this.addresses.localPort;
  }
  get remoteAddress(): string {
    return this.addresses.remoteAddress;
  }
  get remotePort(): number {
    return this.addresses.remotePort;
  }
  get remoteFamily(): string {
    return 'memory';
  }
  get bytesRead(): number {
    return this.read;
  }
  get bytesWritten(): number {
    return this.written;
  }

  write(chunk: Chunk, callback?: (error?: Error | null) => void): boolean {
    if (this.writeEnded) throw new WriteAfterEndError(this.id);
    const bytes = toBuffer(chunk);
    this.written += bytes.length;
    this.touch();
    const ok = this.outbound.write(bytes, callback);
    if (!ok) this.setWritable(false);
    return ok;
  }

  end(chunk?: Chunk, callback?: (error?: Error | null) => void): void {
    if (this.writeEnded) {
      if (!callback) return;
      if (this.finished) this.later(() => callback());
      else if (this.isClosed) this.later(() => callback(this.failure ?? new ConnectionClosedError(this.id, 0)));
      else this.endCallbacks.push(callback);
      return;
    }
    if (chunk !== undefined) this.write(chunk);
    this.ended = true;
    if (callback) this.endCallbacks.push(callback);
    this.outbound.end();
  }

  cork(): void {
    this.outbound.cork();
  }

  uncork(): void {
    this.outbound.uncork();
  }

  destroy(error?: Error): void {
    if (this.isClosed) return;
    this.ended = true;
    this.outbound.abortWriter(true);
    this.peer.outbound.abortReader();
    if (error) {
      this.failure = error;
      this.gate.fail(error);
      this.emit({ type: 'error', error });
    }
    this.close(error !== undefined);
  }

  /**
   * Test control: resets the connection, like Node's `socket.resetAndDestroy()`: this side
   * closes at once (without error); the peer gets ECONNRESET and drops what it had not read.
   */
  reset(): void {
    if (this.isClosed) return;
    this.ended = true;
    this.outbound.abortWriter(false);
    this.peer.outbound.abortReader();
    this.close(false);
    this.peer.destroy(connectionResetError());
  }

  /**
   * Test control: this side fails with `error` as if the operating system had reported it
   * (`data$` errors, `'error'` then `'close'` with `hadError`); the peer reads what it had and
   * then a FIN, as Node's `destroy(error)` would cause.
   */
  fail(error: Error): void {
    this.destroy(error);
  }

  setNoDelay(noDelay = true): this {
    this.noDelay = noDelay;
    return this;
  }

  setKeepAlive(enable = true, initialDelay = 0): this {
    this.keepAlive = enable;
    this.keepAliveInitialDelay = initialDelay;
    return this;
  }

  setTimeout(ms: number): this {
    this.timeout = checkInteger('timeout', ms, 0);
    this.timeoutAction?.unsubscribe();
    this.timeoutAction = undefined;
    if (ms > 0 && !this.isClosed) this.armTimeout();
    return this;
  }

  private armTimeout(): void {
    const self = this;
    this.timeoutAction = this.scheduler.schedule(function () {
      const left = self.lastActivity + self.timeout - self.scheduler.now();
      if (left > 0) {
        this.schedule(undefined, left);
        return;
      }
      // Once per silence, as Node: the next activity arms it again.
      self.timeoutAction = undefined;
      self.emit({ type: 'timeout' });
    }, this.timeout);
  }

  private touch(): void {
    this.lastActivity = this.scheduler.now();
    if (this.timeout > 0 && this.timeoutAction === undefined && !this.isClosed) this.armTimeout();
  }

  private writerEnd(): WireWriter {
    return {
      flushed: (bytes) => {
        if (bytes > 0) this.emit({ type: 'written', bytes });
      },
      drained: () => {
        this.setWritable(true);
        this.emit({ type: 'drain' });
      },
      finished: () => {
        this.finished = true;
        // As a socket: read on without a subscriber so the peer's FIN (and close) is seen.
        this.gate.drainWhenUnobserved();
        this.emit({ type: 'finish' });
        const callbacks = this.endCallbacks.splice(0);
        for (const callback of callbacks) callback();
        this.closeIfDone();
      },
      broken: (error) => this.destroy(error),
    };
  }

  private readerEnd(): WireReader {
    const self = this;
    return {
      get reading() {
        return self.reading && !self.isClosed;
      },
      chunk: (chunk) => {
        this.read += chunk.length;
        this.touch();
        this.gate.push(chunk);
        if (this.events.observed) this.events.next({ type: 'data', chunk });
      },
      fin: () => {
        this.readEnded = true;
        this.gate.end();
        this.emit({ type: 'end' });
        if (!this.allowHalfOpen && !this.ended) this.end();
        this.closeIfDone();
      },
    };
  }

  private closeIfDone(): void {
    if (!this.isClosed && this.finished && this.readEnded) this.close(false);
  }

  private close(hadError: boolean): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.ended = true;
    this.timeoutAction?.unsubscribe();
    this.timeoutAction = undefined;
    this.gate.end();
    const callbacks = this.endCallbacks.splice(0);
    if (callbacks.length > 0) {
      const error = this.failure ?? new ConnectionClosedError(this.id, this.outbound.buffered);
      this.later(() => {
        for (const callback of callbacks) callback(error);
      });
    }
    if (this.failure) this.writability.error(this.failure);
    else this.writability.complete();
    this.emit({ type: 'close', hadError });
    this.events.complete();
  }

  private later(work: () => void): void {
    this.scheduler.schedule(work);
  }

  private emit(event: ConnectionEvent): void {
    if (this.events.observed) this.events.next(event);
  }

  private setWritable(writable: boolean): void {
    if (writable === this.isWritable) return;
    this.isWritable = writable;
    this.writability.next(writable);
  }
}

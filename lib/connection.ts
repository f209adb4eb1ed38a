// SocketConnection: a net.Socket seen as data$, events$ and writable$, with a guarded write side.
import { Observable } from 'rxjs';
import type { Socket } from 'net';
import { ConnectionClosedError, WriteAfterEndError } from './errors';
import { EventHub } from './internal/EventHub';
import { addListeners } from './internal/listeners';
import { ReadGate } from './internal/ReadGate';
import type { Chunk, Connection, ConnectionEvent } from './types';

let lastId = 0;

/** Hands out process-unique connection ids (shared by socket and in-memory connections). */
export function nextConnectionId(): number {
  return ++lastId;
}

/**
 * Wraps a `net.Socket` (or `tls.TLSSocket`) as a {@link Connection}.
 *
 * The socket is paused on construction and reads only while `data$` is subscribed and nothing
 * holds it. Its `'error'` event always has a listener here, so a socket error never becomes an
 * unhandled `'error'` event: it errors `data$` and shows on `events$`.
 *
 * ```
 * socket:   --chunk--chunk--FIN------close
 * data$:    --c------c------|
 * events$:  --data---data---end------close|
 * ```
 */
export class SocketConnection implements Connection {
  readonly id = nextConnectionId();
  readonly data$: Observable<Buffer>;
  readonly events$: Observable<ConnectionEvent>;
  readonly writable$: Observable<boolean>;

  private readonly gate: ReadGate;
  private readonly events = new EventHub<ConnectionEvent>();
  private readonly writability = new EventHub<boolean>();
  private isWritable = true;
  private ended = false;
  private isClosed = false;
  private userHold: (() => void) | undefined = undefined;
  private failure: Error | undefined = undefined;
  // Node forgets the addresses once the handle is gone; keep them for logs after close.
  private addresses: Addresses | undefined = undefined;

  constructor(readonly socket: Socket) {
    // Stop the stream from flowing before the 'data' listener below would start it.
    socket.pause();
    this.gate = new ReadGate((flowing) => {
      if (flowing) socket.resume();
      else socket.pause();
    });
    const removeListeners = addListeners(socket, {
      data: (chunk: Buffer) => {
        this.gate.push(chunk);
        if (this.events.observed) this.events.next({ type: 'data', chunk });
      },
      end: () => {
        this.gate.end();
        this.emit({ type: 'end' });
      },
      error: (error: Error) => {
        this.failure = error;
        this.gate.fail(error);
        this.emit({ type: 'error', error });
      },
      drain: () => {
        this.setWritable(true);
        this.emit({ type: 'drain' });
      },
      finish: () => {
        // Our side is done: read on without a subscriber so the peer's FIN (and close) is seen.
        this.gate.drainWhenUnobserved();
        this.emit({ type: 'finish' });
      },
      close: (hadError: boolean) => {
        this.isClosed = true;
        this.ended = true;
        removeListeners();
        // Keep a listener: a late 'error' from a closed socket must still not be unhandled.
        socket.on('error', noop);
        this.gate.end();
        if (this.failure) this.writability.error(this.failure);
        else this.writability.complete();
        this.emit({ type: 'close', hadError });
        this.events.complete();
      },
      timeout: () => this.emit({ type: 'timeout' }),
      connect: () => {
        this.rememberAddresses();
        this.emit({ type: 'connect' });
      },
      ready: () => this.emit({ type: 'ready' }),
      lookup: (error: Error | null, address: string, family: string | number | null, host: string) =>
        this.emit({ type: 'lookup', error, address, family, host }),
    });

    if (!socket.connecting) this.rememberAddresses();
    this.data$ = new Observable<Buffer>((subscriber) => this.gate.subscribe(subscriber));
    this.events$ = this.events.observable;
    this.writable$ = new Observable<boolean>((subscriber) => {
      if (!this.isClosed) subscriber.next(this.isWritable);
      return this.writability.observable.subscribe(subscriber);
    });
  }

  get writable(): boolean {
    return this.isWritable && !this.writeEnded;
  }

  get writeEnded(): boolean {
    return this.ended || this.socket.destroyed || this.socket.writableEnded;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  write(chunk: Chunk, callback?: (error?: Error | null) => void): boolean {
    if (this.writeEnded) throw new WriteAfterEndError(this.id);
    // Report flushed writes only when someone watches events$ (an idle watch): no closure otherwise.
    const ok = this.socket.write(chunk, this.events.observed ? this.onWritten(chunk, callback) : callback);
    if (!ok) this.setWritable(false);
    return ok;
  }

  end(chunk?: Chunk, callback?: (error?: Error | null) => void): void {
    if (this.writeEnded) {
      if (callback) {
        if (this.socket.writableFinished) process.nextTick(callback);
        else if (this.isClosed) process.nextTick(callback, this.failure ?? new ConnectionClosedError(this.id, 0));
        else {
          const onFinish = () => {
            this.socket.removeListener('close', onClose);
            callback();
          };
          const onClose = () => {
            this.socket.removeListener('finish', onFinish);
            callback(this.failure ?? new ConnectionClosedError(this.id, this.socket.writableLength));
          };
          this.socket.once('finish', onFinish).once('close', onClose);
        }
      }
      return;
    }
    // The last chunk goes through write() so it counts like any other (and reports 'written').
    if (chunk !== undefined) this.write(chunk);
    this.ended = true;
    this.socket.end(callback);
  }

  destroy(error?: Error): void {
    this.ended = true;
    this.socket.destroy(error);
  }

  cork(): void {
    this.socket.cork();
  }

  uncork(): void {
    this.socket.uncork();
  }

  pause(): void {
    if (!this.userHold) this.userHold = this.gate.hold();
  }

  resume(): void {
    const release = this.userHold;
    this.userHold = undefined;
    if (release) release();
  }

  holdReading(): () => void {
    return this.gate.hold();
  }

  setNoDelay(noDelay = true): this {
    this.socket.setNoDelay(noDelay);
    return this;
  }

  setKeepAlive(enable = true, initialDelay = 0): this {
    this.socket.setKeepAlive(enable, initialDelay);
    return this;
  }

  setTimeout(ms: number): this {
    this.socket.setTimeout(ms);
    return this;
  }

  get localAddress(): string | undefined {
    return this.addresses?.localAddress;
  }
  get localPort(): number | undefined {
    return this.addresses?.localPort;
  }
  get remoteAddress(): string | undefined {
    return this.addresses?.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.addresses?.remotePort;
  }
  get remoteFamily(): string | undefined {
    return this.addresses?.remoteFamily;
  }

  private rememberAddresses(): void {
    const s = this.socket;
    this.addresses = {
      localAddress: s.localAddress,
      localPort: s.localPort,
      remoteAddress: s.remoteAddress,
      remotePort: s.remotePort,
      remoteFamily: s.remoteFamily,
    };
  }
  get bytesRead(): number {
    return this.socket.bytesRead;
  }
  get bytesWritten(): number {
    return this.socket.bytesWritten;
  }

  private onWritten(chunk: Chunk, callback?: (error?: Error | null) => void): (error?: Error | null) => void {
    return (error) => {
      if (!error) this.emit({ type: 'written', bytes: typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length });
      if (callback) callback(error);
    };
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

interface Addresses {
  localAddress: string | undefined;
  localPort: number | undefined;
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  remoteFamily: string | undefined;
}

function noop(): void {}

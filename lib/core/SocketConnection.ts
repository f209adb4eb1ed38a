// SocketConnection: a net.Socket seen as data$, events$ and writable$, with a guarded write side.
import { Buffer } from 'buffer';
import { Observable } from 'rxjs';
import type { Subscriber, TeardownLogic } from 'rxjs';
import type { Socket } from 'net';
import { TLSSocket } from 'tls';
import { WriteAfterEndError } from '../errors';
import { EventHub } from '../util/EventHub';
import { SocketGate } from './SocketGate';
import { WriteBatch, whenSocketEnded } from './WriteBatch';
import type { ConnectionOwner } from './ServerConnections';
import { tlsInfo } from './tls';
import type { Chunk, Connection, ConnectionEvent, TlsInfo } from '../types';

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
 *
 * Writes made in one tick go to the kernel together, after the dispatch of the chunk that caused
 * them or at the end of the tick: one syscall per batch, not per message. `write()` says false
 * once the socket and the batch hold a high-water mark (the replies to one chunk may take four).
 *
 * `listen()` and `connect()` create these; construct one yourself to adopt a socket made
 * elsewhere (a plain `net.Server`, a socket handed over by `child_process`).
 *
 * @example
 * ```ts
 * import * as net from 'net';
 * import { SocketConnection, encodeLines, decodeLines, sendTo } from 'rxnet';
 *
 * // Adopt the sockets of a plain net.Server: a line echo.
 * net
 *   .createServer({ pauseOnConnect: true }, (socket) => {
 *     const conn = new SocketConnection(socket);
 *     conn.data$.pipe(decodeLines(), encodeLines(), sendTo(conn)).subscribe();
 *   })
 *   .listen(4000);
 * ```
 */
export class SocketConnection implements Connection {
  readonly id = nextConnectionId();

  /** The socket (the `socket` getter hands it out after the batch). */
  private readonly sock: Socket;
  private readonly gate: SocketGate;
  private events: EventHub<ConnectionEvent> | undefined = undefined;
  private writability: EventHub<boolean> | undefined = undefined;
  /** The WRITABLE, ENDED, CLOSED, ... bits below: one field, as a server may hold tens of thousands. */
  private flags = WRITABLE;
  private failure: Error | undefined = undefined;
  /** The write side; made on the first write. */
  private batch: WriteBatch | undefined = undefined;
  // Read when connected: the kernel forgets them at close, and Node keeps only the peer's.
  private local: string | undefined = undefined;
  private localPortNumber: number | undefined = undefined;
  /** The server that accepted the socket, told when it has closed. */
  private owner: ConnectionOwner | undefined = undefined;

  /**
   * The escape hatch: the underlying socket. The writes gathered for the current batch are handed
   * to it first, so bytes written through it now follow them.
   */
  get socket(): Socket {
    this.batch?.handOver();
    return this.sock;
  }

  /**
   * Wraps `socket`, connected or still connecting, and pauses it until `data$` is subscribed.
   * Socket errors reach the connection's streams instead of being thrown.
   */
  constructor(socket: Socket);
  /** @internal The server that accepted the socket gives itself as its owner. */
  constructor(socket: Socket, owner: ConnectionOwner);
  /** Both of the above. @internal */
  constructor(socket: Socket, owner?: ConnectionOwner) {
    this.sock = socket;
    // Stop the stream from flowing before the 'data' listener below would start it.
    socket.pause();
    this.gate = new SocketGate(socket);
    (socket as OwnedSocket)[kConnection] = this;
    socket.on('data', SocketConnection.onData);
    socket.on('end', SocketConnection.onEnd);
    socket.on('error', SocketConnection.onError);
    socket.on('finish', SocketConnection.onFinish);
    socket.on('close', SocketConnection.onClose);
    if (owner !== undefined) {
      this.owner = owner;
      if (owner.localAddress !== undefined) {
        // The server listens on a specific address: every socket it accepts has it.
        this.local = owner.localAddress;
        this.localPortNumber = owner.localPort;
        void socket.remoteAddress; // Node reads the peer's address now and keeps it past close.
        return;
      }
    }
    if (socket.connecting) {
      socket.on('connect', SocketConnection.onConnect);
      if (socket instanceof TLSSocket) socket.on('secureConnect', SocketConnection.onSecureConnect);
    } else this.rememberAddresses();
  }

  get data$(): Observable<Buffer> {
    return this.gate;
  }

  get events$(): Observable<ConnectionEvent> {
    let hub = this.events;
    if (hub === undefined) {
      const socket = this.sock;
      // The events only events$ reports: listened to from the first time someone asks.
      socket.on('timeout', SocketConnection.onTimeout);
      socket.on('ready', SocketConnection.onReady);
      socket.on('lookup', SocketConnection.onLookup);
      this.listenForDrain();
      hub = this.events = new EventHub<ConnectionEvent>();
      if (this.has(CLOSED)) hub.complete();
    }
    return hub.observable;
  }

  get writable$(): Observable<boolean> {
    // Made on each use (a cold Observable costs little to make): no field per connection.
    return new Observable<boolean>((subscriber) => this.subscribeWritable(subscriber));
  }

  get writable(): boolean {
    return this.has(WRITABLE) && !this.writeEnded;
  }

  get writeEnded(): boolean {
    // The socket's `writable` is false once it was ended, destroyed or errored, by anyone.
    return this.has(ENDED) || !this.sock.writable;
  }

  get closed(): boolean {
    return this.has(CLOSED);
  }

  get closeReason(): Error | undefined {
    return this.has(RELEASED) ? successors.get(this)?.closeReason : this.failure;
  }

  write(chunk: Chunk, callback?: (error?: Error | null) => void): boolean {
    if (this.writeEnded) throw new WriteAfterEndError(this.id);
    // Someone watches events$ (an idle watch): each write goes to the socket, with its own callback.
    const events = this.events;
    const reporting = events !== undefined && events.observed;
    const done = reporting ? this.onWritten(chunk, callback) : callback;
    const batch = (this.batch ??= new WriteBatch(this.sock, this));
    if (batch.write(chunk, done, reporting, this.has(DISPATCHING), this.gate.frameCut)) return true;
    this.setWritable(false);
    return false;
  }

  end(chunk?: Chunk, callback?: (error?: Error | null) => void): void {
    if (this.writeEnded) {
      if (callback) whenSocketEnded(this.sock, this, callback);
      return;
    }
    // The last chunk goes through write() so it counts like any other (and reports 'written').
    if (chunk !== undefined) this.write(chunk);
    this.setFlag(ENDED, true);
    this.batch?.endWrites();
    this.sock.end(callback);
  }

  destroy(error?: Error): void {
    // Upgraded: the socket is the TLS connection's, which goes instead.
    if (this.has(RELEASED)) return successors.get(this)?.destroy(error);
    // What was written in this tick goes out first, as it would have without batching.
    this.flushBatch();
    this.setFlag(ENDED, true);
    this.sock.destroy(error);
  }

  cork(): void {
    this.sock.cork();
  }
  uncork(): void {
    this.sock.uncork();
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
  setNoDelay(noDelay = true): this {
    this.sock.setNoDelay(noDelay);
    return this;
  }
  setKeepAlive(enable = true, initialDelay = 0): this {
    this.sock.setKeepAlive(enable, initialDelay);
    return this;
  }
  setTimeout(ms: number): this {
    this.sock.setTimeout(ms);
    return this;
  }

  get localAddress(): string | undefined {
    return this.local;
  }
  get localPort(): number | undefined {
    return this.localPortNumber;
  }
  get remoteAddress(): string | undefined {
    return this.sock.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.sock.remotePort;
  }
  get remoteFamily(): string | undefined {
    return this.sock.remoteFamily;
  }
  get tls(): TlsInfo | undefined {
    return tlsInfo(this.sock);
  }

  get bytesRead(): number {
    return this.sock.bytesRead;
  }
  get bytesWritten(): number {
    const batch = this.batch;
    return this.sock.bytesWritten + (batch === undefined ? 0 : batch.bytes);
  }

  /** `writable$`: the current writability, then its changes, until the connection closes. */
  private subscribeWritable(subscriber: Subscriber<boolean>): TeardownLogic {
    if (!this.has(CLOSED)) subscriber.next(this.has(WRITABLE));
    let hub = this.writability;
    if (hub === undefined) {
      hub = this.writability = new EventHub<boolean>();
      if (this.has(CLOSED)) this.endWritability(hub);
    }
    return hub.observable.subscribe(subscriber);
  }

  private endWritability(hub: EventHub<boolean>): void {
    if (this.failure) hub.error(this.failure);
    else hub.complete();
  }

  /** Ends the current batch now: everything written since goes to the socket. @internal */
  flushBatch(): void {
    const batch = this.batch;
    if (batch === undefined || !batch.end()) return;
    // Writable exactly when the socket owes no 'drain': the batch may have taken it over its
    // high-water mark, or write() said false for a batch the socket took without needing a drain.
    if (!this.writeEnded) this.setWritable(!this.sock.writableNeedDrain);
  }

  /**
   * Gives the socket up to `upgradeTls` (which checks that nothing is read or held): what was written goes out
   * first, the streams end, and the socket's close stays this connection's until {@link adopted}. @internal
   */
  release(): Socket {
    const socket = this.sock;
    this.flushBatch();
    socket.removeListener('data', SocketConnection.onData).removeListener('end', SocketConnection.onEnd);
    socket.removeListener('finish', SocketConnection.onFinish).removeListener('drain', SocketConnection.onDrain);
    this.setFlag(ENDED, true);
    this.gate.end();
    this.writability?.complete();
    this.events?.complete();
    return socket;
  }

  /** The TLS socket over this one's socket took it: a connection for it, in this one's place at its server. @internal */
  adopted(secure: Socket, handshakeMs: number): SocketConnection {
    this.setFlag(CLOSED | RELEASED, true);
    this.sock.removeListener('close', SocketConnection.onClose);
    const successor = this.owner?.connectionUpgraded(this, secure, handshakeMs) ?? new SocketConnection(secure);
    (successor as { id: number }).id = this.id; // one connection to logs and metrics
    successors.set(this, successor);
    return successor;
  }

  private rememberAddresses(): void {
    const s = this.sock;
    this.local = s.localAddress;
    this.localPortNumber = s.localPort;
    void s.remoteAddress; // Node reads the peer's address now and keeps it past close.
  }

  private onWritten(chunk: Chunk, callback?: (error?: Error | null) => void): (error?: Error | null) => void {
    return (error) => {
      if (!error)
        this.emit({ type: 'written', bytes: typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length });
      if (callback) callback(error);
    };
  }

  private emit(event: ConnectionEvent): void {
    const events = this.events;
    if (events !== undefined && events.observed) events.next(event);
  }

  private setWritable(writable: boolean): void {
    if (writable === this.has(WRITABLE)) return;
    this.setFlag(WRITABLE, writable);
    if (!writable) this.listenForDrain();
    this.writability?.next(writable);
  }

  private listenForDrain(): void {
    if (this.has(LISTENS_FOR_DRAIN)) return;
    this.setFlag(LISTENS_FOR_DRAIN, true);
    this.sock.on('drain', SocketConnection.onDrain);
  }

  /** True when any of the `flag` bits is set. */
  private has(flag: number): boolean {
    return (this.flags & flag) !== 0;
  }

  private setFlag(flag: number, on: boolean): void {
    this.flags = on ? this.flags | flag : this.flags & ~flag;
  }

  // The socket's listeners: shared by every connection, `this` is the socket (as EventEmitter calls them).

  private static onData(this: OwnedSocket, chunk: Buffer): void {
    const c = this[kConnection];
    if (c.has(CLOSE_TIMED)) c.owner!.connectionRead(c);
    // The replies to this chunk go out in one batch as soon as it is through (as hand-written
    // code corks around its 'data' handler), with no tick scheduled.
    c.setFlag(DISPATCHING, true);
    try {
      c.gate.push(chunk);
      const events = c.events;
      if (events !== undefined && events.observed) events.next({ type: 'data', chunk });
    } finally {
      c.setFlag(DISPATCHING, false);
      const batch = c.batch;
      if (batch !== undefined && batch.open && !batch.scheduled) c.flushBatch();
    }
  }

  private static onEnd(this: OwnedSocket): void {
    const c = this[kConnection];
    c.gate.end();
    c.emit({ type: 'end' });
  }

  private static onError(this: OwnedSocket, error: Error): void {
    const c = this[kConnection];
    if (c.has(CLOSED)) return;
    c.failure = error;
    c.gate.fail(error);
    c.emit({ type: 'error', error });
  }

  private static onDrain(this: OwnedSocket): void {
    const c = this[kConnection];
    c.setWritable(true);
    c.emit({ type: 'drain' });
  }

  private static onFinish(this: OwnedSocket): void {
    const c = this[kConnection];
    // Our side is done: read on without a subscriber so the peer's FIN (and close) is seen.
    c.gate.drainWhenUnobserved();
    c.emit({ type: 'finish' });
    // A peer that has not sent its FIN yet may never do so: the owner bounds the wait.
    if (!c.gate.ended && !c.has(CLOSED) && c.owner?.connectionFinished(c)) c.setFlag(CLOSE_TIMED, true);
  }

  private static onClose(this: OwnedSocket, hadError: boolean): void {
    const c = this[kConnection];
    c.setFlag(CLOSED | ENDED, true);
    // Writes not flushed yet go to the socket all the same: it fails their callbacks.
    c.batch?.abandon();
    c.gate.end();
    if (c.writability !== undefined) c.endWritability(c.writability);
    const events = c.events;
    if (events !== undefined) {
      c.emit({ type: 'close', hadError });
      events.complete();
    }
    // The 'error' listener stays: a late error from a closed socket must still not be unhandled.
    this.removeListener('data', SocketConnection.onData);
    this.removeListener('end', SocketConnection.onEnd);
    this.removeListener('finish', SocketConnection.onFinish);
    this.removeListener('close', SocketConnection.onClose);
    c.owner?.connectionClosed(c, hadError);
  }

  private static onConnect(this: OwnedSocket): void {
    const c = this[kConnection];
    c.rememberAddresses();
    c.emit({ type: 'connect' });
  }

  // Listeners that only report their event.
  private static onSecureConnect(this: OwnedSocket): void {
    this[kConnection].emit({ type: 'secureConnect' });
  }
  private static onTimeout(this: OwnedSocket): void {
    this[kConnection].emit({ type: 'timeout' });
  }
  private static onReady(this: OwnedSocket): void {
    this[kConnection].emit({ type: 'ready' });
  }
  private static onLookup(this: OwnedSocket, error: Error | null, address: string, family: Family, host: string): void {
    this[kConnection].emit({ type: 'lookup', error, address, family, host });
  }
}

// SocketConnection's flags.
const WRITABLE = 1;
const ENDED = 2;
const CLOSED = 4;
/** A chunk read from this socket goes through data$ (a batch of writes ends after it). */
const DISPATCHING = 8;
const LISTENS_FOR_DRAIN = 16;
/** Our FIN went out first and the owner times the peer's answer (it is told of every read). */
const CLOSE_TIMED = 32;
/** Its socket was taken by a TLS upgrade: destroy() destroys the TLS connection instead. */
const RELEASED = 64;

/** The TLS connection of each upgraded connection. */
const successors = new WeakMap<SocketConnection, SocketConnection>();

/** Where a socket keeps its connection, for the shared listeners. */
const kConnection = Symbol('rxnet.connection');

type OwnedSocket = Socket & { [kConnection]: SocketConnection };
type Family = string | number | null;

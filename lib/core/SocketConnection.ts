// SocketConnection: a net.Socket seen as data$, events$ and writable$, with a guarded write side.
import { Buffer } from 'buffer';
import { Observable } from 'rxjs';
import type { Subscriber, TeardownLogic } from 'rxjs';
import type { Socket } from 'net';
import { TLSSocket } from 'tls';
import { ConnectionClosedError, WriteAfterEndError } from '../errors';
import { EventHub } from '../util/EventHub';
import { ReadGate } from '../util/ReadGate';
import { lastCut } from '../util/lastCut';
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
 * Writes made in one tick are batched and go to the kernel together when the batch ends (after
 * the dispatch of the chunk that caused them, else at the end of the tick), so a pipeline writing
 * message by message pays one syscall per batch, not per message. Small writes (up to 2 KiB) are
 * gathered without going through the socket's stream machinery one by one: views that continue
 * one another in memory (frames cut from one chunk) are joined into one view, and many small
 * pieces are copied into one buffer; larger writes go to the socket as they are, corked when
 * earlier writes of the batch wait for them (one `writev`) and at once when they open the batch,
 * as a hand-written `write()` would. `write()` says false once the socket and the batch hold a
 * high-water mark, except that the replies to a chunk being dispatched are taken up to four
 * marks and go out together, after which the connection is not writable until `'drain'`.
 *
 * A server may hold tens of thousands of these, so a connection costs little until used: the
 * socket's listeners are shared functions (no closures per connection); the `events$` hub and
 * the listeners only it needs are created on first use, and `writable$` is a small Observable
 * made on each access.
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

  private readonly gate: SocketGate;
  private events: EventHub<ConnectionEvent> | undefined = undefined;
  private writability: EventHub<boolean> | undefined = undefined;
  /** The boolean state below, as bits of one field (a server may hold tens of thousands). */
  private flags = WRITABLE;
  private failure: Error | undefined = undefined;
  /** The small writes of the current batch, gathered into one buffer; made on the first write. */
  private coalesced: WriteBatch | undefined = undefined;
  // The kernel forgets the addresses once the connection is closed or reset, so they are read
  // when it is established. Node keeps the peer's (its getters cache them and answer after
  // close) but not ours: the local ones are kept here, for logs after close.
  private local: string | undefined = undefined;
  private localPortNumber: number | undefined = undefined;
  /** Told when the socket has closed (see {@link acceptConnection}). */
  private owner: ConnectionOwner | undefined = undefined;

  /** The socket; reached from outside through the `socket` getter. */
  private readonly sock: Socket;

  /**
   * The escape hatch: the underlying socket. The small writes gathered for the current batch are
   * handed to it first (it stays corked until the batch ends), so bytes written through it follow
   * them; a reference kept and written to later bypasses that.
   */
  get socket(): Socket {
    this.corkBatch();
    this.writeCoalesced();
    return this.sock;
  }

  /**
   * Wraps `socket`, connected or still connecting, and pauses it at once: nothing is read until
   * `data$` is subscribed. From then on the connection owns the socket's `'error'` listener, so
   * errors reach its streams instead of being thrown.
   */
  constructor(socket: Socket) {
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
    const accepted = accepting;
    if (accepted !== undefined) {
      this.owner = accepted.owner;
      if (accepted.localAddress !== undefined) {
        // The listening address was a specific one: every accepted socket has it, no need to ask.
        this.local = accepted.localAddress;
        this.localPortNumber = accepted.localPort;
        this.rememberPeer();
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
      if (this.isClosed) hub.complete();
    }
    return hub.observable;
  }

  get writable$(): Observable<boolean> {
    // Made on each use (a cold Observable costs nothing to make): no field per connection.
    return new WritableObservable(this);
  }

  get writable(): boolean {
    return this.isWritable && !this.writeEnded;
  }

  get writeEnded(): boolean {
    // The socket's own `writable` is false once it was ended, destroyed or errored (by us, by
    // Node, or through the escape hatch): one getter on the write path instead of two.
    return this.ended || !this.sock.writable;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get closeReason(): Error | undefined {
    return this.failure;
  }

  write(chunk: Chunk, callback?: (error?: Error | null) => void): boolean {
    if (this.writeEnded) throw new WriteAfterEndError(this.id);
    const socket = this.sock;
    if (!this.batching) {
      this.batching = true;
      // Writes made while this connection's data is dispatched end with that dispatch; any
      // others at the end of the tick.
      if (!this.dispatching && !this.flushScheduled) {
        this.flushScheduled = true;
        process.nextTick(endBatch, this);
      }
    }
    // Report flushed writes only when someone watches events$ (an idle watch): each write then
    // goes to the socket as it is, with its own callback.
    const events = this.events;
    const reporting = events !== undefined && events.observed;
    const size = reporting
      ? Infinity
      : typeof chunk === 'string'
        ? // A string's UTF-8 length is at least its length: only a short one is measured.
          chunk.length <= COALESCE_MAX
          ? Buffer.byteLength(chunk)
          : COALESCE_MAX + 1
        : chunk instanceof Uint8Array
          ? // Its length is its byte length, and a cheaper read than byteLength.
            chunk.length
          : // Not a chunk: straight to the socket, which rejects it.
            Infinity;
    if (size > COALESCE_MAX) {
      // Corked after earlier small writes of the batch, or when every write is reported, so they
      // go out together with this one. A large write that opens the batch goes straight to the
      // socket, as a hand-written write() would, and skips the socket's own buffering.
      const batch = this.coalesced;
      if (reporting || (batch !== undefined && batch.count > 0)) {
        this.corkBatch();
        this.writeCoalesced();
      }
      return socket.write(chunk, reporting ? this.onWritten(chunk, callback) : callback) || this.batchFull();
    }
    const batch = (this.coalesced ??= new WriteBatch());
    batch.add(chunk, size, callback);
    const held = socket.writableLength + batch.bytes;
    const highWaterMark = socket.writableHighWaterMark;
    if (held < highWaterMark) return true;
    if (!this.dispatching) return this.batchFull();
    // Over the high-water mark while a chunk read from this socket is dispatched: the replies to
    // that chunk (frames already in memory) are taken, up to DISPATCH_ROOM high-water marks, and
    // go out together when the dispatch ends, as hand-written code corked per chunk does; the
    // connection then says it is not writable until 'drain' (see flushBatch), so a sink stops at
    // its next value. Past that room, false at once.
    if (held < highWaterMark * DISPATCH_ROOM) return true;
    this.setWritable(false);
    return false;
  }

  /**
   * The batch reached the high-water mark: hand it to the kernel now instead of at the end of the
   * tick, and say false only if the socket still holds that much (the peer is slow to read). The
   * batch then goes on, so a long burst costs one writev per high-water mark's worth.
   */
  private batchFull(): boolean {
    const socket = this.sock;
    this.endBatchWrites();
    if (socket.writableLength < socket.writableHighWaterMark) return true;
    this.setWritable(false);
    return false;
  }

  /**
   * Hands the small writes gathered so far to the socket (see {@link WriteBatch}), corking it
   * first if they go as several writes.
   */
  private writeCoalesced(): void {
    const batch = this.coalesced;
    if (batch === undefined || batch.count === 0) return;
    if (batch.writesPieces) this.corkBatch();
    batch.writeTo(this.sock);
  }

  /**
   * Corks the socket for the rest of the batch. A batch of small writes alone never needs it (it
   * reaches the socket as one write when it ends): only a write that goes to the socket before
   * then while earlier ones wait or while writes are reported, or a batch written in pieces,
   * corks it, so the usual batch skips the socket's own buffering.
   */
  private corkBatch(): void {
    if (!this.batching || this.corked) return;
    this.corked = true;
    this.sock.cork();
  }

  /** Hands the batch to the socket and ends it; it ends even if the socket throws. */
  private endBatchWrites(): void {
    try {
      this.writeCoalesced();
    } finally {
      this.batching = false;
      if (this.corked) {
        this.corked = false;
        this.sock.uncork();
      }
    }
  }

  end(chunk?: Chunk, callback?: (error?: Error | null) => void): void {
    if (this.writeEnded) {
      if (callback) {
        if (this.sock.writableFinished) process.nextTick(callback);
        else if (this.isClosed) process.nextTick(callback, this.failure ?? new ConnectionClosedError(this.id, 0));
        else {
          const onFinish = () => {
            this.sock.removeListener('close', onClose);
            callback();
          };
          const onClose = () => {
            this.sock.removeListener('finish', onFinish);
            callback(this.failure ?? new ConnectionClosedError(this.id, this.sock.writableLength));
          };
          this.sock.once('finish', onFinish).once('close', onClose);
        }
      }
      return;
    }
    // The last chunk goes through write() so it counts like any other (and reports 'written').
    if (chunk !== undefined) this.write(chunk);
    this.ended = true;
    this.endBatchWrites();
    this.sock.end(callback);
  }

  destroy(error?: Error): void {
    // What was written in this tick goes out first, as it would have without batching.
    this.flushBatch();
    this.ended = true;
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
    const socket = this.sock;
    if (!(socket instanceof TLSSocket)) return undefined;
    const error = socket.authorizationError as unknown;
    return {
      authorized: socket.authorized,
      authorizationError:
        error === undefined || error === null ? undefined : error instanceof Error ? error : new Error(String(error)),
      peerCertificate: socket.getPeerCertificate(),
      protocol: socket.getProtocol(),
      alpnProtocol: socket.alpnProtocol,
    };
  }

  get bytesRead(): number {
    return this.sock.bytesRead;
  }
  get bytesWritten(): number {
    const batch = this.coalesced;
    return this.sock.bytesWritten + (batch === undefined ? 0 : batch.bytes);
  }

  /** Ends the current tick's batch now: everything written since goes to the socket. */
  private flushBatch(): void {
    if (!this.batching) return;
    this.endBatchWrites();
    const socket = this.sock;
    // Writable exactly when the socket owes no 'drain': the batch may have taken it over its
    // high-water mark (a dispatch's replies), or write() said false for a batch the socket then
    // took without needing a drain (it counts strings in its own units).
    if (!this.writeEnded) this.setWritable(!socket.writableNeedDrain);
  }

  private rememberAddresses(): void {
    const s = this.sock;
    this.local = s.localAddress;
    this.localPortNumber = s.localPort;
    this.rememberPeer();
  }

  /** Makes Node read and keep the peer's address, which its getters then answer after close. */
  private rememberPeer(): void {
    void this.sock.remoteAddress;
  }

  private writabilityHub(): EventHub<boolean> {
    let hub = this.writability;
    if (hub === undefined) {
      hub = this.writability = new EventHub<boolean>();
      if (this.isClosed) {
        if (this.failure) hub.error(this.failure);
        else hub.complete();
      }
    }
    return hub;
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
    if (writable === this.isWritable) return;
    this.isWritable = writable;
    if (!writable) this.listenForDrain();
    this.writability?.next(writable);
  }

  private listenForDrain(): void {
    if (this.listensForDrain) return;
    this.listensForDrain = true;
    this.sock.on('drain', SocketConnection.onDrain);
  }

  private get isWritable(): boolean {
    return (this.flags & WRITABLE) !== 0;
  }
  private set isWritable(on: boolean) {
    this.setFlag(WRITABLE, on);
  }
  private get ended(): boolean {
    return (this.flags & ENDED) !== 0;
  }
  private set ended(on: boolean) {
    this.setFlag(ENDED, on);
  }
  private get isClosed(): boolean {
    return (this.flags & CLOSED) !== 0;
  }
  private set isClosed(on: boolean) {
    this.setFlag(CLOSED, on);
  }
  /** True while writes are gathered into a batch (until the dispatch or the tick ends). */
  private get batching(): boolean {
    return (this.flags & BATCHING) !== 0;
  }
  private set batching(on: boolean) {
    this.setFlag(BATCHING, on);
  }
  /** True while the batch holds the socket corked (see corkBatch). */
  private get corked(): boolean {
    return (this.flags & CORKED) !== 0;
  }
  private set corked(on: boolean) {
    this.setFlag(CORKED, on);
  }
  /** True while an end-of-tick flush is queued on process.nextTick. */
  private get flushScheduled(): boolean {
    return (this.flags & FLUSH_SCHEDULED) !== 0;
  }
  private set flushScheduled(on: boolean) {
    this.setFlag(FLUSH_SCHEDULED, on);
  }
  /** True while a chunk read from this socket goes through data$ (the batch ends after it). */
  private get dispatching(): boolean {
    return (this.flags & DISPATCHING) !== 0;
  }
  private set dispatching(on: boolean) {
    this.setFlag(DISPATCHING, on);
  }
  private get listensForDrain(): boolean {
    return (this.flags & LISTENS_FOR_DRAIN) !== 0;
  }
  private set listensForDrain(on: boolean) {
    this.setFlag(LISTENS_FOR_DRAIN, on);
  }

  private setFlag(flag: number, on: boolean): void {
    this.flags = on ? this.flags | flag : this.flags & ~flag;
  }

  // The socket's listeners: shared by every connection, `this` is the socket (as EventEmitter calls them).

  private static onData(this: OwnedSocket, chunk: Buffer): void {
    const c = this[kConnection];
    if ((c.flags & CLOSE_TIMED) !== 0) c.owner!.connectionRead(c);
    // What the pipeline writes in reply to this chunk goes out in one batch as soon as it is
    // through (as hand-written code corks around its 'data' handler), with no tick scheduled.
    c.dispatching = true;
    try {
      c.gate.push(chunk);
      const events = c.events;
      if (events !== undefined && events.observed) events.next({ type: 'data', chunk });
    } finally {
      c.dispatching = false;
      if (c.batching && !c.flushScheduled) c.flushBatch();
    }
  }

  private static onEnd(this: OwnedSocket): void {
    const c = this[kConnection];
    c.gate.end();
    c.emit({ type: 'end' });
  }

  private static onError(this: OwnedSocket, error: Error): void {
    const c = this[kConnection];
    if (c.isClosed) return;
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
    if (!c.gate.ended && !c.isClosed && c.owner?.connectionFinished(c)) c.setFlag(CLOSE_TIMED, true);
  }

  private static onClose(this: OwnedSocket, hadError: boolean): void {
    const c = this[kConnection];
    c.isClosed = true;
    c.ended = true;
    c.batching = false;
    // Not flushed before the socket went away: the socket fails the writes' callbacks, as Node
    // does for writes it still held.
    c.writeCoalesced();
    c.gate.end();
    const writability = c.writability;
    if (writability !== undefined) {
      if (c.failure) writability.error(c.failure);
      else writability.complete();
    }
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

  private static onTimeout(this: OwnedSocket): void {
    this[kConnection].emit({ type: 'timeout' });
  }

  private static onConnect(this: OwnedSocket): void {
    const c = this[kConnection];
    c.rememberAddresses();
    c.emit({ type: 'connect' });
  }

  private static onSecureConnect(this: OwnedSocket): void {
    this[kConnection].emit({ type: 'secureConnect' });
  }

  private static onReady(this: OwnedSocket): void {
    this[kConnection].emit({ type: 'ready' });
  }

  private static onLookup(
    this: OwnedSocket,
    error: Error | null,
    address: string,
    family: string | number | null,
    host: string,
  ): void {
    this[kConnection].emit({ type: 'lookup', error, address, family, host });
  }
}

/** `writable$`: the current writability, then its changes, until the connection closes. */
class WritableObservable extends Observable<boolean> {
  constructor(readonly connection: SocketConnection) {
    super(subscribeWritable);
  }
}

function subscribeWritable(this: Observable<boolean>, subscriber: Subscriber<boolean>): TeardownLogic {
  const c = (this as WritableObservable).connection;
  if (!c['isClosed']) subscriber.next(c['isWritable']);
  return c['writabilityHub']().observable.subscribe(subscriber);
}

/** Who is told that a connection's socket closed (see {@link acceptConnection}). */
export interface ConnectionOwner {
  /**
   * Our FIN went out while the peer's had not come: the owner may start a close timer, and
   * returns true to be told of each chunk read from then on ({@link connectionRead}).
   */
  connectionFinished(connection: SocketConnection): boolean;
  /** A chunk was read after `connectionFinished` returned true. */
  connectionRead(connection: SocketConnection): void;
  connectionClosed(connection: SocketConnection, hadError: boolean): void;
}

/** What {@link acceptConnection} tells the constructor. */
interface Accepting {
  readonly owner: ConnectionOwner;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
}

/** Set only while `acceptConnection` constructs. */
let accepting: Accepting | undefined;

/**
 * Wraps a socket a server accepted. `owner` is told when the socket has closed, after the
 * connection has completed its Observables: how `listen` keeps count without a listener and
 * closure per connection. `localAddress`/`localPort` are the server's when it listens on a
 * specific address (then every accepted socket has them, and asking the kernel is skipped);
 * undefined for a wildcard or unix socket server.
 */
export function acceptConnection(
  socket: Socket,
  owner: ConnectionOwner,
  localAddress: string | undefined,
  localPort: number | undefined,
): SocketConnection {
  accepting = { owner, localAddress, localPort };
  try {
    return new SocketConnection(socket);
  } finally {
    accepting = undefined;
  }
}

/**
 * Writes up to this many bytes are gathered in a {@link WriteBatch}; larger ones go to the
 * socket as they are (after earlier writes of the batch, corked for the rest of it).
 */
const COALESCE_MAX = 2048;

/**
 * High-water marks a batch may hold while a chunk is dispatched before write() says false: room
 * for the replies to one chunk (Node reads at most 64 KiB at a time; the default mark is 16 KiB).
 */
const DISPATCH_ROOM = 4;

/**
 * Pieces of a batch averaging fewer bytes than this are copied into one buffer: copying a small
 * piece costs less than the stream machinery of a socket write per piece.
 */
const COPY_BELOW = 512;

type WriteCallback = (error?: Error | null) => void;

/**
 * The small writes of one batch. Views that continue one another in the same memory (frames cut
 * from one chunk, echoed) are joined into one view rather than copied.
 */
class WriteBatch {
  private readonly chunks: Chunk[] = [];
  private callbacks: WriteCallback[] | undefined = undefined;
  /**
   * The last chunk added when it is a view (else undefined): the first of a run of views that
   * continue one another in memory, which {@link seal} replaces by one view of the whole run.
   */
  private last: Uint8Array | undefined = undefined;
  /**
   * A run of frames cut from one chunk (see `lastCut`): that chunk and where in it the run
   * starts and ends. Undefined for a run of other views, known by `lastEnd` and `lastBuffer`.
   */
  private runChunk: Uint8Array | undefined = undefined;
  private runStart = 0;
  private runEnd = 0;
  /** Where a run of other views ends (its last view's `byteOffset` plus length). */
  private lastEnd = 0;
  /**
   * The memory `last` is a view of, read when a view first seems to continue it: a typed array's
   * `buffer` is a call into the engine, so it is read once per run, not twice per piece.
   */
  private lastBuffer: ArrayBufferLike | undefined = undefined;
  count = 0;
  bytes = 0;

  add(chunk: Chunk, size: number, callback: WriteCallback | undefined): void {
    this.bytes += size;
    if (callback !== undefined) (this.callbacks ??= []).push(callback);
    // An empty write (sendTo's flush marker) rides with the pieces before it.
    if (size === 0 && this.count > 0) return;
    if (typeof chunk === 'string') {
      this.seal();
      this.chunks[this.count++] = chunk;
      return;
    }
    const cut = lastCut;
    const last = this.last;
    if (chunk === cut.view && (last === undefined || this.runChunk !== undefined)) {
      // A frame as a framer cut it: where it lies is known without asking the view.
      if (cut.chunk === this.runChunk && cut.start === this.runEnd) {
        this.runEnd = cut.end;
        return;
      }
      this.seal();
      this.last = chunk;
      this.runChunk = cut.chunk;
      this.runStart = cut.start;
      this.runEnd = cut.end;
      this.chunks[this.count++] = chunk;
      return;
    }
    if (last !== undefined && this.runChunk !== undefined) {
      // A run of cut frames followed by another view (frames written after later ones were cut):
      // from here on the run is known by its memory.
      this.lastEnd = last.byteOffset + (this.runEnd - this.runStart);
      this.runChunk = undefined;
    }
    // The offset first: cheaper than the buffer, and false for unrelated chunks.
    if (last !== undefined && chunk.byteOffset === this.lastEnd && chunk.buffer === (this.lastBuffer ??= last.buffer)) {
      this.lastEnd += size;
      return;
    }
    this.seal();
    this.last = chunk;
    this.lastEnd = chunk.byteOffset + size;
    this.chunks[this.count++] = chunk;
  }

  /** True when {@link writeTo} will make more than one socket write (the socket should be corked). */
  get writesPieces(): boolean {
    const n = this.count;
    return n > 1 && this.bytes >= n * COPY_BELOW;
  }

  /**
   * Writes the batch to the socket and empties it: as one buffer when it is many small
   * pieces (copying them costs less than a socket write each), else piece by piece, as views,
   * when the pieces are large enough that copying would cost more than the writes.
   */
  writeTo(socket: Socket): void {
    this.seal();
    const n = this.count;
    const bytes = this.bytes;
    const pieces = this.writesPieces;
    const chunks = this.chunks;
    const callback = this.takeCallback();
    // Empty before writing: a socket that throws leaves a usable batch behind.
    this.count = 0;
    this.bytes = 0;
    try {
      if (n === 1) socket.write(chunks[0], callback);
      else if (pieces) {
        for (let i = 0; i < n - 1; i++) socket.write(chunks[i]);
        socket.write(chunks[n - 1], callback);
      } else {
        const out = Buffer.allocUnsafe(bytes);
        let offset = 0;
        for (let i = 0; i < n; i++) {
          const chunk = chunks[i];
          if (typeof chunk === 'string') offset += out.write(chunk, offset);
          else {
            out.set(chunk, offset);
            offset += chunk.length;
          }
        }
        socket.write(out, callback);
      }
    } finally {
      // Let go of the chunks (they may be views of large buffers).
      for (let i = this.count; i < n; i++) chunks[i] = EMPTY_CHUNK;
    }
  }

  /** One callback for the writes of the batch that had one, or undefined. */
  private takeCallback(): WriteCallback | undefined {
    const callbacks = this.callbacks;
    if (callbacks === undefined) return undefined;
    this.callbacks = undefined;
    if (callbacks.length === 1) return callbacks[0];
    return (error) => {
      for (const callback of callbacks) callback(error);
    };
  }

  /** Replaces the last chunk by one view of the run of views that continued it, and ends the run. */
  private seal(): void {
    const last = this.last;
    if (last === undefined) return;
    const runChunk = this.runChunk;
    if (runChunk !== undefined) {
      const { runStart, runEnd } = this;
      if (runEnd - runStart !== last.length) this.chunks[this.count - 1] = runChunk.subarray(runStart, runEnd);
      this.runChunk = undefined;
    } else {
      const length = this.lastEnd - last.byteOffset;
      if (length !== last.length) {
        this.chunks[this.count - 1] = Buffer.from(this.lastBuffer ?? last.buffer, last.byteOffset, length);
      }
      this.lastBuffer = undefined;
    }
    this.last = undefined;
  }
}

const EMPTY_CHUNK = Buffer.alloc(0);

// SocketConnection's flags.
const WRITABLE = 1;
const ENDED = 2;
const CLOSED = 4;
const BATCHING = 8;
const FLUSH_SCHEDULED = 16;
const DISPATCHING = 32;
const LISTENS_FOR_DRAIN = 64;
const CORKED = 128;
/** Our FIN went out first and the owner times the peer's answer (it is told of every read). */
const CLOSE_TIMED = 256;

/** Where a socket keeps its connection, for the shared listeners. */
const kConnection = Symbol('rxnet.connection');

type OwnedSocket = Socket & { [kConnection]: SocketConnection };

/** The read gate of a socket: flowing means the socket reads. No closure per connection. */
class SocketGate extends ReadGate {
  constructor(readonly socket: Socket) {
    super();
  }

  protected override setFlowing(flowing: boolean): void {
    if (flowing) this.socket.resume();
    else this.socket.pause();
  }
}

/** Ends the batch of one tick: everything gathered (or corked) since goes to the socket. */
function endBatch(connection: SocketConnection): void {
  connection['flushScheduled'] = false;
  connection['flushBatch']();
}

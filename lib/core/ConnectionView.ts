// ConnectionView: a Connection that hands every member to the connection it wraps, for views that change a few.
import type { Observable } from 'rxjs';
import type { Socket } from 'net';
import type { Chunk, Connection, ConnectionEvent, TlsInfo } from '../types';

/**
 * The base of the connections that show another one differently (a PROXY protocol view, a
 * shaped connection): every member is the wrapped connection's, and a view overrides the few it
 * changes. `id`, `events$`, the socket and its lifecycle stay the wrapped connection's, so logs,
 * hubs and metrics see one connection.
 *
 * ```
 * view.data$ / write / remoteAddress …  ──▶  inner.data$ / write / remoteAddress …   (unless overridden)
 * ```
 *
 * @example
 * ```ts
 * import { map } from 'rxjs';
 * import { ConnectionView, type Connection } from 'rxnet';
 *
 * // A view whose data$ is upper-cased ASCII; everything else is the connection's.
 * class Shouting extends ConnectionView {
 *   readonly data$ = this.inner.data$.pipe(map((chunk) => Buffer.from(chunk.toString('latin1').toUpperCase(), 'latin1')));
 * }
 * declare const conn: Connection;
 * new Shouting(conn).data$.subscribe((chunk) => console.log(chunk.toString()));
 * ```
 */
export abstract class ConnectionView implements Connection {
  /** Wraps `inner`. */
  constructor(
    /** The connection this view shows. */
    readonly inner: Connection,
  ) {}

  /** The chunks the view reads: each view says what they are. */
  abstract readonly data$: Observable<Buffer>;

  // Identity and lifecycle are the connection's.
  get id(): number {
    return this.inner.id;
  }
  get events$(): Observable<ConnectionEvent> {
    return this.inner.events$;
  }
  get closed(): boolean {
    return this.inner.closed;
  }
  get closeReason(): Error | undefined {
    return this.inner.closeReason;
  }
  destroy(error?: Error): void {
    this.inner.destroy(error);
  }
  get socket(): Socket | undefined {
    return this.inner.socket;
  }
  get tls(): TlsInfo | undefined {
    return this.inner.tls;
  }

  // Reading: flow control is the connection's.
  get bytesRead(): number {
    return this.inner.bytesRead;
  }
  pause(): void {
    this.inner.pause();
  }
  resume(): void {
    this.inner.resume();
  }
  holdReading(): () => void {
    return this.inner.holdReading();
  }

  // Writing.
  get writable$(): Observable<boolean> {
    return this.inner.writable$;
  }
  get writable(): boolean {
    return this.inner.writable;
  }
  get writeEnded(): boolean {
    return this.inner.writeEnded;
  }
  get bytesWritten(): number {
    return this.inner.bytesWritten;
  }
  write(chunk: Chunk, callback?: (error?: Error | null) => void): boolean {
    return this.inner.write(chunk, callback);
  }
  end(chunk?: Chunk, callback?: (error?: Error | null) => void): void {
    this.inner.end(chunk, callback);
  }
  cork(): void {
    this.inner.cork();
  }
  uncork(): void {
    this.inner.uncork();
  }

  // Addresses and socket options.
  get localAddress(): string | undefined {
    return this.inner.localAddress;
  }
  get localPort(): number | undefined {
    return this.inner.localPort;
  }
  get remoteAddress(): string | undefined {
    return this.inner.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.inner.remotePort;
  }
  get remoteFamily(): string | undefined {
    return this.inner.remoteFamily;
  }
  setNoDelay(noDelay?: boolean): this {
    this.inner.setNoDelay(noDelay);
    return this;
  }
  setKeepAlive(enable?: boolean, initialDelay?: number): this {
    this.inner.setKeepAlive(enable, initialDelay);
    return this;
  }
  setTimeout(ms: number): this {
    this.inner.setTimeout(ms);
    return this;
  }
}

// memoryServer(): a listen-shaped Observable of in-memory connections, and the means to connect to it.
import { Observable, asyncScheduler } from 'rxjs';
import type { SchedulerLike, Subscriber } from 'rxjs';
import type { Connection } from '../types';
import { nextEphemeralPort, pairOf } from './connectionPair';
import type { ConnectionPairOptions } from './connectionPair';
import type { MemoryConnection } from './MemoryConnection';
import type { MemoryWireOptions } from './MemoryWire';
import { addressInUseError, connectionRefusedError } from './netErrors';
import { checkInteger } from '../util/validate';
import { ReadDeadlines } from '../time/ReadDeadline';
import type { ReadGate } from '../util/ReadGate';

/**
 * Options of {@link memoryServer}.
 *
 * @example
 * ```ts
 * import { memoryServer, type MemoryServerOptions } from 'rxnet/testing';
 *
 * // Every connection byte by byte, 2 virtual ms each way, server sides reporting port 8107.
 * const options: MemoryServerOptions = { port: 8107, chunking: 1, latency: 2 };
 * const server = memoryServer(options);
 * ```
 */
export interface MemoryServerOptions extends ConnectionPairOptions {
  /** The port the server's side reports as `localPort` (default 1; nothing is bound). */
  readonly port?: number;
  /**
   * `listen`'s first-byte deadline, in ms on `scheduler`: a server side that reads nothing for
   * that long is destroyed with `FirstByteTimeoutError`. Default 0 (none), so that a test asks
   * for the deadlines it means to check.
   */
  readonly firstByteTimeout?: number;
  /** `listen`'s frame deadline, in ms on `scheduler` (`FrameTimeoutError`); default 0 (none). */
  readonly frameTimeout?: number;
}

/**
 * An in-memory server: {@link listen} is shaped like rxnet's `listen()`, so an application's
 * server pipeline runs on it unchanged, and {@link connect} opens a client side to it.
 *
 * ```
 * listen():     --c1------c2----!    c1, c2: the server sides of the connections opened by connect()
 * connect():      ^c1       ^c2       returns the client side at once
 * unsubscribe:                  !    the server sides still open are destroyed (clients read a FIN)
 * ```
 *
 * One subscription listens at a time: a second concurrent one errors with EADDRINUSE;
 * `connect()` while nobody listens throws ECONNREFUSED (Node's error shapes, with `code`).
 *
 * @example
 * ```ts
 * import { decodeLines } from 'rxnet';
 * import { memoryServer, type MemoryServer } from 'rxnet/testing';
 *
 * const server: MemoryServer = memoryServer();
 * server.listen().subscribe((conn) => conn.data$.pipe(decodeLines()).subscribe((l) => console.log(l.toString())));
 * server.connect().end('hello\n');
 * console.log(server.listening, server.connections.length); // true 1
 * ```
 */
export class MemoryServer {
  private listener: Subscriber<Connection> | undefined;
  private readonly open = new Set<MemoryConnection>();
  private readonly scheduler: SchedulerLike;
  private readonly port: number;
  private readonly deadlines: ReadDeadlines<MemoryConnection> | undefined = undefined;

  /** Made by {@link memoryServer}; not meant to be called directly. */
  constructor(private readonly options: MemoryServerOptions = {}) {
    this.scheduler = options.scheduler ?? asyncScheduler;
    this.port = checkInteger('port', options.port ?? 1, 1, 65535);
    const firstByte = checkInteger('firstByteTimeout', options.firstByteTimeout ?? 0, 0);
    const frame = checkInteger('frameTimeout', options.frameTimeout ?? 0, 0);
    if (firstByte > 0 || frame > 0) {
      this.deadlines = new ReadDeadlines(firstByte, frame, this.scheduler, (conn, _deadline, error) =>
        conn.destroy(error),
      );
    }
  }

  /** Whether a subscription of {@link listen} is active. */
  get listening(): boolean {
    return this.listener !== undefined;
  }

  /** The server sides accepted by the current listener and not yet closed. */
  get connections(): readonly MemoryConnection[] {
    return [...this.open];
  }

  /**
   * The server's connections, like rxnet's `listen()`: cold, listening while subscribed, each
   * `connect()` emitting a new server-side connection (synchronously); unsubscribing destroys
   * those still open. A second concurrent subscription errors with EADDRINUSE.
   *
   * ```
   * subscribe ──c1──c2── … ──unsubscribe: c1/c2 destroyed if open
   * ```
   *
   * @example
   * ```ts
   * import { sendTo, serveEach } from 'rxnet';
   * import { memoryServer } from 'rxnet/testing';
   *
   * const server = memoryServer();
   * server.listen().pipe(serveEach((conn) => conn.data$.pipe(sendTo(conn)))).subscribe();
   * const client = server.connect();
   * client.end('echo me');
   * ```
   */
  listen(): Observable<Connection> {
    return new Observable<Connection>((subscriber) => {
      if (this.listener) {
        subscriber.error(addressInUseError('memory', this.port));
        return;
      }
      this.listener = subscriber;
      return () => {
        if (this.listener === subscriber) this.listener = undefined;
        this.deadlines?.clear();
        const open = [...this.open];
        this.open.clear();
        for (const connection of open) connection.destroy();
      };
    });
  }

  /**
   * Opens a connection: the server side goes to the listener at once, the client side is
   * returned. `wire` overrides the server's wire options for this connection (both directions);
   * change one direction later through `client.outbound` or `client.inbound`.
   *
   * ```
   * const client = server.connect();   listener: --c--   (c is client.peer)
   * ```
   *
   * @throws Error with code ECONNREFUSED when nobody listens.
   * @example
   * ```ts
   * import { memoryServer } from 'rxnet/testing';
   * const server = memoryServer();
   * server.listen().subscribe((conn) => conn.end('hello\n'));
   * const client = server.connect({ chunking: 1 });
   * client.data$.subscribe((chunk) => console.log(chunk.toString()));   // h, e, l, l, o, \n
   * ```
   */
  connect(
    wire: MemoryWireOptions & {
      /** The client side's `allowHalfOpen` (default true); the server side keeps the server's. */
      readonly allowHalfOpen?: boolean;
    } = {},
  ): MemoryConnection {
    const listener = this.listener;
    if (!listener) throw connectionRefusedError('memory', this.port);
    const { allowHalfOpen, ...overrides } = wire;
    const [client, server] = pairOf(
      this.scheduler,
      { ...this.options, ...overrides },
      allowHalfOpen ?? true,
      nextEphemeralPort(),
      this.port,
      this.options.allowHalfOpen ?? true,
    );
    this.open.add(server);
    server.events$.subscribe({ complete: () => this.open.delete(server) });
    if (this.deadlines !== undefined) {
      // A memory connection's data$ is its read gate, as a socket connection's is.
      const gate = server.data$ as ReadGate;
      gate.watch = this.deadlines.watch(server, gate);
    }
    listener.next(server);
    return client;
  }
}

/**
 * Creates an in-memory server whose `listen()` an application's server pipeline subscribes to
 * in place of rxnet's `listen(options)`, and whose `connect()` a test uses to open clients.
 *
 * ```
 * app(server.listen())   where app = (conns$: Observable<Connection>) => Observable<unknown>
 * const client = server.connect();  client.write(...);  client.data$ ...
 * ```
 *
 * `options` are the wire options of every connection (see `connectionPair`), the scheduler,
 * the server sides' `allowHalfOpen` (default true, as `listen`) and the `port` they report.
 *
 * @example
 * ```ts
 * import { map } from 'rxjs';
 * import { decodeLines, sendTo, serveEach } from 'rxnet';
 * import { asText, createTestScheduler, memoryServer } from 'rxnet/testing';
 *
 * createTestScheduler().run(({ cold, expectObservable }) => {
 *   const server = memoryServer();
 *   server.listen()
 *     .pipe(serveEach((conn) => conn.data$.pipe(decodeLines(), map((l) => `Sending: ${l}\n`), sendTo(conn))))
 *     .subscribe();
 *   const client = server.connect();
 *   cold('-a|', { a: 'More Axes\n' }).pipe(sendTo(client)).subscribe();
 *   expectObservable(client.data$.pipe(asText())).toBe('-a|', { a: 'Sending: More Axes\n' });
 * });
 * ```
 */
export function memoryServer(options: MemoryServerOptions = {}): MemoryServer {
  return new MemoryServer(options);
}

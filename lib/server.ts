// listen(): a cold Observable of accepted connections; unsubscribing closes the server and them.
import * as net from 'net';
import * as tls from 'tls';
import { Observable, asyncScheduler, from, take } from 'rxjs';
import type { NextObserver, ObservableInput, SchedulerLike, Subscription } from 'rxjs';
import { SocketConnection } from './connection';
import { InvalidArgumentError, checkInteger } from './errors';
import { addListeners } from './internal/listeners';
import { proxyAcceptor } from './proxyProtocol';
import type { ProxyProtocolOptions } from './proxyProtocol';
import type { Connection } from './types';

/** Where a server is bound: a TCP address or a unix socket path. */
export type BoundAddress = net.AddressInfo | string;

/**
 * What happens to a server, told through `listen({ events })`.
 * `open` is the number of connections open after the event.
 */
export type ServerEvent =
  | { readonly type: 'listening'; readonly address: BoundAddress }
  | { readonly type: 'connection'; readonly connection: Connection; readonly open: number }
  | { readonly type: 'disconnect'; readonly connection: Connection; readonly hadError: boolean; readonly open: number }
  | {
      readonly type: 'drop';
      readonly remoteAddress: string | undefined;
      readonly remotePort: number | undefined;
      readonly open: number;
    }
  | { readonly type: 'shutdown'; readonly open: number }
  /** TLS only: a client failed the handshake; the server goes on. */
  | { readonly type: 'tlsClientError'; readonly error: Error; readonly remoteAddress: string | undefined }
  | { readonly type: 'close' }
  | { readonly type: 'error'; readonly error: Error };

/** Options of {@link listen}. Give `port` (and optionally `host`) or `path`. */
export interface ListenOptions {
  /** TCP port; 0 picks a free one (read it from `listening`). */
  port?: number;
  /** Address to bind; all addresses when omitted, as `net.Server#listen` does. */
  host?: string;
  /** Unix domain socket path (or Windows pipe) instead of a TCP port. */
  path?: string;
  backlog?: number;
  /** Bind IPv6 only when `host` is `::`. */
  ipv6Only?: boolean;
  /** Told the bound address once the server listens: a function or an observer with `next`. */
  listening?: ((address: BoundAddress) => void) | NextObserver<BoundAddress>;
  /**
   * Keep our write side open after the peer's FIN (default true), so a reply can still be sent;
   * the connection then closes when we end too (the `sendTo` sink ends it by default).
   */
  allowHalfOpen?: boolean;
  /** `setNoDelay` on every accepted socket (default false, Node's default). */
  noDelay?: boolean;
  /** `setKeepAlive(true, keepAliveInitialDelay)` on every accepted socket. */
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  /**
   * At most this many open connections; a connection over the limit is closed at once by Node
   * and reported as a `drop` event.
   */
  maxConnections?: number;
  /** Told every {@link ServerEvent}: a function or an observer with `next` (a Subject works). */
  events?: ((event: ServerEvent) => void) | NextObserver<ServerEvent>;
  /**
   * Graceful shutdown: when this emits (or the signal aborts), the server stops accepting, calls
   * `onShutdown` for each open connection, and the Observable completes once the last one has
   * closed; connections still open after `gracePeriod` ms are destroyed.
   */
  shutdown?: ObservableInput<unknown> | AbortSignal;
  /** Milliseconds open connections get to finish after `shutdown` (default 10 000), on `scheduler`. */
  gracePeriod?: number;
  /** Called for each connection open at shutdown, e.g. to say goodbye or end it. */
  onShutdown?: (connection: Connection) => void;
  /** Scheduler of the grace period timer; `asyncScheduler` by default. */
  scheduler?: SchedulerLike;
  /**
   * Serve TLS with these `tls.createServer` options (`key`, `cert`, `ca`, `requestCert`, ...):
   * connections are emitted after their handshake, as the same {@link Connection} over a
   * `tls.TLSSocket` (see `connection.tls`); failed handshakes are `tlsClientError` events.
   */
  tls?: tls.TlsOptions;
  /**
   * Read a PROXY protocol header (v1 or v2, as HAProxy and nginx send it) off each connection
   * before emitting it, as a `ProxiedConnection` reporting the client's address (see
   * `acceptProxyProtocol`). A connection whose header is bad, missing (when `required`, the
   * default) or late (`timeout`) is destroyed with the typed error and never emitted. Not with
   * `tls`: the header comes before the handshake.
   */
  proxyProtocol?: boolean | ProxyProtocolOptions;
}

/**
 * Listens for TCP (or unix socket) connections; each subscription binds its own server.
 *
 * ```
 * subscribe ──bind──listening──conn1─────conn2────── … ──unsubscribe
 *                   (told via options.listening)         server closed, conn1/conn2 destroyed
 * bind error ──#    (EADDRINUSE, EACCES: Node's error with its `code`)
 * ```
 *
 * Accepted sockets are paused until their `data$` is subscribed, so a late subscriber loses no
 * byte. Connections that close are forgotten; those open when the subscription ends are destroyed.
 *
 * @example
 * ```ts
 * import { listen, sendTo } from 'rxnet';
 * import { map, mergeMap } from 'rxjs';
 *
 * const server = listen({ port: 0, host: '127.0.0.1', listening: (a) => console.log(a) })
 *   .pipe(mergeMap((conn) => conn.data$.pipe(map((c) => `Sending: ${c}`), sendTo(conn))))
 *   .subscribe();
 * // later: server.unsubscribe();
 * ```
 */
export function listen(options: ListenOptions): Observable<Connection> {
  const { port, path, host, backlog, ipv6Only } = options;
  if (path === undefined) checkInteger('port', port ?? 0, 0, 65535);
  else if (typeof path !== 'string' || path.length === 0) {
    throw new InvalidArgumentError('path', 'expected a non-empty string');
  }
  if (port !== undefined && path !== undefined) {
    throw new InvalidArgumentError('options', 'give either port or path, not both');
  }
  const allowHalfOpen = options.allowHalfOpen ?? true;
  const { listening, events, shutdown, onShutdown } = options;
  if (options.maxConnections !== undefined) checkInteger('maxConnections', options.maxConnections, 0);
  const gracePeriod = checkInteger('gracePeriod', options.gracePeriod ?? 10_000, 0);
  const scheduler = options.scheduler ?? asyncScheduler;
  const secure = options.tls !== undefined;
  const acceptProxy = options.proxyProtocol ? proxyAcceptor(options.proxyProtocol, secure) : undefined;

  return new Observable<Connection>((subscriber) => {
    const tell = (event: ServerEvent) => {
      if (!events) return;
      try {
        if (typeof events === 'function') events(event);
        else events.next(event);
      } catch (error) {
        subscriber.error(error);
      }
    };
    const socketOptions = {
      allowHalfOpen,
      noDelay: options.noDelay ?? false,
      keepAlive: options.keepAlive ?? false,
      keepAliveInitialDelay: options.keepAliveInitialDelay ?? 0,
    };
    // A TLS server must read to handshake, so only plain sockets start paused at the kernel;
    // both kinds are paused by SocketConnection before the application sees them.
    const server: net.Server = secure
      ? tls.createServer({ ...options.tls, ...socketOptions })
      : net.createServer({ ...socketOptions, pauseOnConnect: true });
    if (options.maxConnections !== undefined) server.maxConnections = options.maxConnections;
    const open = new Set<Connection>();
    let shuttingDown = false;
    let serverClosed = false;
    let graceTimer: Subscription | undefined;
    let shutdownSub: Subscription | undefined;
    let removeAbortListener: (() => void) | undefined;

    const removeListeners = addListeners(server, {
      [secure ? 'secureConnection' : 'connection']: (socket: net.Socket) => {
        const connection = new SocketConnection(socket);
        open.add(connection);
        socket.once('close', (hadError: boolean) => {
          open.delete(connection);
          tell({ type: 'disconnect', connection, hadError, open: open.size });
          if (shuttingDown) finishShutdown();
        });
        tell({ type: 'connection', connection, open: open.size });
        if (acceptProxy) acceptProxy(connection, (view) => subscriber.next(view));
        else subscriber.next(connection);
      },
      tlsClientError: (error: Error, socket: tls.TLSSocket) => {
        tell({ type: 'tlsClientError', error, remoteAddress: socket.remoteAddress });
      },
      drop: (data?: { remoteAddress?: string; remotePort?: number }) => {
        tell({ type: 'drop', remoteAddress: data?.remoteAddress, remotePort: data?.remotePort, open: open.size });
      },
      listening: () => {
        const address = server.address();
        if (address === null) return;
        tell({ type: 'listening', address });
        if (!listening) return;
        try {
          if (typeof listening === 'function') listening(address);
          else listening.next(address);
        } catch (error) {
          subscriber.error(error);
        }
      },
      error: (error: Error) => {
        tell({ type: 'error', error });
        subscriber.error(error);
      },
    });

    const finishShutdown = () => {
      if (!serverClosed || open.size > 0 || subscriber.closed) return;
      graceTimer?.unsubscribe();
      tell({ type: 'close' });
      subscriber.complete();
    };

    const beginShutdown = () => {
      if (shuttingDown || subscriber.closed) return;
      shuttingDown = true;
      tell({ type: 'shutdown', open: open.size });
      // Stop accepting; the Observable completes once the server and every connection closed.
      server.close(() => {
        serverClosed = true;
        finishShutdown();
      });
      for (const connection of [...open]) {
        if (subscriber.closed) return;
        try {
          onShutdown?.(connection);
        } catch (error) {
          subscriber.error(error);
          return;
        }
      }
      if (open.size > 0) {
        graceTimer = scheduler.schedule(() => {
          for (const connection of [...open]) connection.destroy();
        }, gracePeriod);
      }
    };

    if (path !== undefined) server.listen({ path, backlog });
    else server.listen({ port: port ?? 0, host, backlog, ipv6Only });

    if (shutdown !== undefined) {
      if (isAbortSignal(shutdown)) {
        if (shutdown.aborted) beginShutdown();
        else {
          shutdown.addEventListener('abort', beginShutdown, { once: true });
          removeAbortListener = () => shutdown.removeEventListener('abort', beginShutdown);
        }
      } else {
        shutdownSub = from(shutdown)
          .pipe(take(1))
          .subscribe({ next: beginShutdown, error: (error) => subscriber.error(error) });
      }
    }

    return () => {
      shutdownSub?.unsubscribe();
      removeAbortListener?.();
      graceTimer?.unsubscribe();
      removeListeners();
      // A late error from a closing server must not become unhandled.
      server.on('error', noop);
      // Not bound yet (a host name still being looked up): close as soon as it is.
      if (server.listening) server.close();
      else server.once('listening', () => server.close());
      for (const connection of open) connection.destroy();
      open.clear();
    };
  });
}

function isAbortSignal(value: unknown): value is AbortSignal {
  return typeof AbortSignal !== 'undefined' && value instanceof AbortSignal;
}

function noop(): void {}

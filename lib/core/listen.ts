// listen(): a cold Observable of accepted connections; unsubscribing closes the server and them.
import * as net from 'net';
import * as tls from 'tls';
import { Observable, from, take } from 'rxjs';
import type { NextObserver, ObservableInput, SchedulerLike, Subscription } from 'rxjs';
import { resolveListenOptions } from './listenOptions';
import { ServerConnections } from './ServerConnections';
import { trackRawSockets } from './tls';
import { addListeners } from '../util/listeners';
import { proxyAcceptor } from '../proxy/acceptProxyProtocol';
import type { AcceptProxyProtocolOptions } from '../proxy/acceptProxyProtocol';
import type { Connection } from '../types';

export { DEFAULT_CLOSE_TIMEOUT, DEFAULT_HANDSHAKE_TIMEOUT } from './listenOptions';

/**
 * Where a server is bound: a TCP address (`{ address, family, port }`, as `server.address()`
 * gives it) or a unix socket path.
 *
 * @example
 * ```ts
 * import { listen, type BoundAddress } from 'rxnet';
 *
 * const show = (a: BoundAddress) => (typeof a === 'string' ? a : `${a.address}:${a.port}`);
 * listen({ port: 0, listening: (a) => console.log('listening on', show(a)) }).subscribe();
 * ```
 */
export type BoundAddress = net.AddressInfo | string;

/**
 * What happens to a server, told through `listen({ events })`.
 * `open` is the number of connections open after the event.
 *
 * ```
 * listening──connection(1)──connection(2)──disconnect(1)──shutdown(1)──disconnect(0)──close
 * bind failure: error (and the Observable errors with it)
 * ```
 *
 * @example
 * ```ts
 * import { listen, type ServerEvent } from 'rxnet';
 *
 * const log = (e: ServerEvent) => {
 *   if (e.type === 'connection' || e.type === 'disconnect') console.log(e.type, e.connection.remoteAddress, `${e.open} open`);
 *   else if (e.type === 'drop') console.warn('over maxConnections:', e.remoteAddress);
 * };
 * listen({ port: 3000, maxConnections: 100, events: log }).subscribe();
 * ```
 */
export type ServerEvent =
  /** The server is bound and accepting; emitted once, before `listening` is told the same address. */
  | {
      /** Tag of this variant. */
      readonly type: 'listening';
      /** Where the server is bound (the real port when 0 was asked for). */
      readonly address: BoundAddress;
    }
  /** A connection was accepted (for TLS: once its handshake succeeded), just before the Observable emits it (with `proxyProtocol`: before its header is read). */
  | {
      /** Tag of this variant. */
      readonly type: 'connection';
      /** The accepted connection (the socket's own, not the PROXY protocol view). */
      readonly connection: Connection;
      /** Connections open now, this one included. */
      readonly open: number;
    }
  /** An accepted connection closed: ended by both sides, destroyed, or failed. */
  | {
      /** Tag of this variant. */
      readonly type: 'disconnect';
      /** The connection that closed, as its `connection` event gave it. */
      readonly connection: Connection;
      /** True when an error closed it: a socket error, or `destroy(error)` (as for a bad PROXY protocol header). */
      readonly hadError: boolean;
      /** Connections still open, this one no longer counted. */
      readonly open: number;
    }
  /** Node refused a connection because `maxConnections` were open; it was closed at once and never emitted. */
  | {
      /** Tag of this variant. */
      readonly type: 'drop';
      /** The refused client's address, when Node could tell it. */
      readonly remoteAddress: string | undefined;
      /** The refused client's port, when Node could tell it. */
      readonly remotePort: number | undefined;
      /** Connections open now (normally `maxConnections`). */
      readonly open: number;
    }
  /** Graceful shutdown began (`shutdown` emitted or aborted): no more accepting, `onShutdown` runs for each open connection next. */
  | {
      /** Tag of this variant. */
      readonly type: 'shutdown';
      /** Connections open at that moment: each gets `onShutdown`; those left after `gracePeriod` ms are destroyed. */
      readonly open: number;
    }
  /**
   * TLS only: a client failed the handshake, or did not finish it within `tls.handshakeTimeout`
   * (code `ERR_TLS_HANDSHAKE_TIMEOUT`); its socket was destroyed and the server goes on.
   */
  | {
      /** Tag of this variant. */
      readonly type: 'tlsClientError';
      /** Node's error for the failed handshake (its `code` says why). */
      readonly error: Error;
      /** The client's address, when the socket still knew it. */
      readonly remoteAddress: string | undefined;
    }
  /** After a graceful shutdown, the server and its last connection have closed; the Observable completes next. Unsubscribing tells nothing. */
  | {
      /** Tag of this variant. */
      readonly type: 'close';
    }
  /** The server failed (a bind error such as `EADDRINUSE` or `EACCES`); the Observable errors with the same error. */
  | {
      /** Tag of this variant. */
      readonly type: 'error';
      /** Node's error, with its `code`. */
      readonly error: Error;
    };

/**
 * Options of {@link listen}. Give `port` (and optionally `host`) or `path`.
 *
 * @example
 * ```ts
 * import { listen, type ListenOptions } from 'rxnet';
 *
 * const stop = new AbortController();
 * const options: ListenOptions = {
 *   port: 0,
 *   host: '127.0.0.1',
 *   noDelay: true,
 *   maxConnections: 1000,
 *   listening: (address) => console.log('listening on', address),
 *   shutdown: stop.signal,
 *   gracePeriod: 5000,
 *   onShutdown: (conn) => conn.end('server going down\n'),
 * };
 * listen(options).subscribe();
 * process.once('SIGTERM', () => stop.abort());
 * ```
 */
export interface ListenOptions {
  /** TCP port; 0 picks a free one (read it from `listening`). */
  port?: number;
  /** Address to bind; all addresses when omitted, as `net.Server#listen` does. */
  host?: string;
  /** Unix domain socket path (or Windows pipe) instead of a TCP port. */
  path?: string;
  /** Longest queue of connections the kernel holds before they are accepted (Node's default, 511, when omitted). */
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
  /** With `keepAlive`: ms of idleness before the first probe (default 0: the operating system's setting). */
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
  /**
   * Milliseconds a connection may stay open after our FIN went out (`end()`, a sink's end, an idle
   * goodbye) while the peer neither sends, closes nor resets it; then it is destroyed (default
   * 10 000, on `scheduler`; 0 waits forever). Each chunk the peer sends after our FIN starts the
   * wait again, so a peer still uploading is not cut off. What we wrote is not lost: the kernel
   * still delivers it. A peer that already sent its FIN closes at once and starts no timer.
   */
  closeTimeout?: number;
  /** Called for each connection open at shutdown, e.g. to say goodbye or end it. */
  onShutdown?: (connection: Connection) => void;
  /** Scheduler of the grace period and close timers; `asyncScheduler` by default. */
  scheduler?: SchedulerLike;
  /**
   * Serve TLS with these `tls.createServer` options (`key`, `cert`, `ca`, `requestCert`, ...):
   * connections are emitted after their handshake, as the same {@link Connection} over a
   * `tls.TLSSocket` (see `connection.tls`); failed handshakes are `tlsClientError` events, and
   * their sockets are destroyed. `handshakeTimeout` defaults to 10 000 ms here (Node's own
   * default is 120 s): a client that opens the port and never completes its handshake holds a
   * slot of `maxConnections` that long. It must be at least 1 ms: Node has no way to turn the
   * deadline off (it reads 0 as its 120 s default). Sockets still in their handshake are destroyed with the
   * server when the subscription ends.
   */
  tls?: tls.TlsOptions;
  /**
   * Read a PROXY protocol header (v1 or v2, as HAProxy and nginx send it) off each connection
   * before emitting it, as a `ProxiedConnection` reporting the client's address (see
   * `acceptProxyProtocol`). A connection whose header is bad, missing (when `required`, the
   * default) or late (`timeout`) is destroyed with the typed error and never emitted. Not with
   * `tls`: the header comes before the handshake.
   */
  proxyProtocol?: boolean | AcceptProxyProtocolOptions;
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
 * import { listen, sendTo, serveEach } from 'rxnet';
 * import { map } from 'rxjs';
 *
 * const server = listen({ port: 0, host: '127.0.0.1', listening: (a) => console.log(a) })
 *   .pipe(serveEach((conn) => conn.data$.pipe(map((c) => `Sending: ${c}`), sendTo(conn))))
 *   .subscribe();
 * // later: server.unsubscribe();
 * ```
 */
export function listen(options: ListenOptions): Observable<Connection> {
  const { port, path, host, backlog, ipv6Only, listening, events, shutdown, onShutdown } = options;
  const resolved = resolveListenOptions(options);
  const { allowHalfOpen, noDelay, keepAlive, keepAliveInitialDelay, gracePeriod, scheduler } = resolved;
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
    const socketOptions = { allowHalfOpen, noDelay, keepAlive, keepAliveInitialDelay };
    // A TLS server must read to handshake, so only plain sockets start paused at the kernel;
    // both kinds are paused by SocketConnection before the application sees them.
    const server: net.Server = secure
      ? tls.createServer({ ...options.tls, ...socketOptions, handshakeTimeout: resolved.handshakeTimeout })
      : net.createServer({ ...socketOptions, pauseOnConnect: true });
    if (options.maxConnections !== undefined) server.maxConnections = options.maxConnections;
    let shuttingDown = false;
    let serverClosed = false;
    let graceTimer: Subscription | undefined;
    let shutdownSub: Subscription | undefined;
    let removeAbortListener: (() => void) | undefined;

    const connections = new ServerConnections(resolved.closeTimeout, scheduler, subscriber, (connection, hadError) => {
      tell({ type: 'disconnect', connection, hadError, open: open.size });
      if (shuttingDown) finishShutdown();
    });
    const open = connections.open;
    /** TLS: the raw sockets accepted whose TLS connection has not closed yet (handshaking ones among them). */
    const rawSockets = secure ? trackRawSockets(server) : undefined;
    const removeListeners = addListeners(server, {
      [secure ? 'secureConnection' : 'connection']: (socket: net.Socket) => {
        const connection = connections.accept(socket);
        tell({ type: 'connection', connection, open: open.size });
        if (acceptProxy) acceptProxy(connection, (view) => subscriber.next(view));
        else subscriber.next(connection);
      },
      tlsClientError: (error: Error, socket: tls.TLSSocket) => {
        // Node reports a failed or timed-out handshake but leaves the socket open. Its address is
        // read first: a destroyed socket may no longer know it.
        const remoteAddress = socket.remoteAddress;
        socket.destroy();
        tell({ type: 'tlsClientError', error, remoteAddress });
      },
      drop: (data?: { remoteAddress?: string; remotePort?: number }) => {
        tell({ type: 'drop', remoteAddress: data?.remoteAddress, remotePort: data?.remotePort, open: open.size });
      },
      listening: () => {
        const address = server.address();
        if (address === null) return;
        if (typeof address !== 'string' && !WILDCARDS.has(address.address)) {
          // A specific address: every accepted socket's local address, no need to ask the kernel.
          connections.localAddress = address.address;
          connections.localPort = address.port;
        }
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
      connections.destroyAll();
      if (rawSockets !== undefined) {
        for (const raw of rawSockets) raw.destroy();
        rawSockets.clear();
      }
    };
  });
}

/** Addresses that accept on every interface: an accepted socket's local address is its own. */
const WILDCARDS = new Set(['0.0.0.0', '::', '::0', '0:0:0:0:0:0:0:0']);

function isAbortSignal(value: unknown): value is AbortSignal {
  return typeof AbortSignal !== 'undefined' && value instanceof AbortSignal;
}

function noop(): void {}

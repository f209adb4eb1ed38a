// connect(): a cold Observable of one client connection.
import * as net from 'net';
import * as tls from 'tls';
import { Observable, asyncScheduler } from 'rxjs';
import type { SchedulerLike } from 'rxjs';
import { SocketConnection } from './SocketConnection';
import { sni } from './tls';
import { ConnectTimeoutError, InvalidArgumentError, TlsHandshakeError } from '../errors';
import { addListeners } from '../util/listeners';
import type { Connection } from '../types';
import { checkInteger } from '../util/validate';

/**
 * Options of {@link connect}. Give `port` (and optionally `host`) or `path`.
 *
 * @example
 * ```ts
 * import { connect, type ConnectOptions } from 'rxnet';
 *
 * const options: ConnectOptions = { host: 'db.internal', port: 5432, timeout: 3000, noDelay: true, keepAlive: true };
 * connect(options).subscribe((conn) => console.log('connected from port', conn.localPort));
 * ```
 */
export interface ConnectOptions {
  /** TCP port to connect to, 1 to 65535; required unless `path` is given. */
  port?: number;
  /** Host name or address; Node's default (`localhost`) when omitted. */
  host?: string;
  /** Unix domain socket path instead of a TCP address. */
  path?: string;
  /** 4 or 6 to force an address family for `host`. */
  family?: number;
  /** Local address to connect from (one of this host's addresses); the operating system's choice when omitted. */
  localAddress?: string;
  /** Local port to connect from; an ephemeral port when omitted. */
  localPort?: number;
  /** Fail with ConnectTimeoutError when not connected within this many ms (runs on `scheduler`). */
  timeout?: number;
  /** Keep our write side open after the peer's FIN (default true). */
  allowHalfOpen?: boolean;
  /** Disable Nagle's algorithm from the start, as `setNoDelay(true)` (default false, Node's default). */
  noDelay?: boolean;
  /** Enable TCP keep-alive probes from the start, as `setKeepAlive(true, keepAliveInitialDelay)` (default false). */
  keepAlive?: boolean;
  /** With `keepAlive`: ms of idleness before the first probe (default 0: the operating system's setting). */
  keepAliveInitialDelay?: number;
  /** Scheduler for the connect timeout; `asyncScheduler` by default. */
  scheduler?: SchedulerLike;
  /**
   * Connect over TLS with these `tls.connect` options (`ca`, `servername`, `cert`, `key`, ...).
   * The connection is emitted after the handshake; a failed handshake is a TlsHandshakeError.
   */
  tls?: tls.ConnectionOptions;
  /**
   * Aborting it destroys the socket: before the connection is made the Observable errors with
   * the signal's reason (an `AbortError` by default); afterwards it completes once closed.
   */
  signal?: AbortSignal;
  /**
   * Told how connecting went, once per subscription: `connect` with the times it took, or
   * `connectError` with the error and the time until it (see {@link ClientEvent}). A throw in it
   * is the Observable's error.
   */
  events?: (event: ClientEvent) => void;
}

/**
 * What `connect({ events })` is told, with times in ms on the connect's scheduler:
 *
 * ```
 * subscribe ──── connectMs ────tcp──── handshakeMs ────secure   → { type: 'connect', connectMs, handshakeMs }
 * subscribe ──── ms ────ECONNREFUSED / timeout / bad certificate → { type: 'connectError', error, ms }
 * ```
 *
 * @example
 * ```ts
 * import { connect, type ClientEvent } from 'rxnet';
 *
 * const events = (e: ClientEvent) =>
 *   e.type === 'connect' ? console.log(`connected in ${e.connectMs} ms`) : console.warn(`failed after ${e.ms} ms`);
 * connect({ port: 5432, host: 'db.internal', events }).subscribe();
 * ```
 */
export type ClientEvent =
  /** The connection is made (for TLS: its handshake is done) and about to be emitted. */
  | {
      /** Tag of this variant. */
      readonly type: 'connect';
      /** The connection about to be emitted. */
      readonly connection: Connection;
      /** ms from subscribe to the TCP (or unix socket) connection. */
      readonly connectMs: number;
      /** With `tls`: ms from the TCP connection to the end of the TLS handshake; undefined otherwise. */
      readonly handshakeMs: number | undefined;
      /** Where it connected to: `host:port`, or the socket path. */
      readonly target: string;
    }
  /** Connecting failed (refused, timed out, aborted, the handshake failed); the Observable errors with `error` next. */
  | {
      /** Tag of this variant. */
      readonly type: 'connectError';
      /** The error the Observable errors with. */
      readonly error: unknown;
      /** ms from subscribe to the failure. */
      readonly ms: number;
      /** When the TCP connection was made and the TLS handshake failed: ms from subscribe to the TCP connection. */
      readonly connectMs: number | undefined;
      /** Where it was to connect to: `host:port`, or the socket path. */
      readonly target: string;
    };

/**
 * Opens a client connection on subscribe, emits it once connected, and completes when it closes
 * cleanly; it errors when connecting fails and when the connection fails after it was made.
 *
 * ```
 * subscribe ──connecting──conn─────────────────close|
 * refused   ──connecting──#  (ECONNREFUSED, with Node's `code`)
 * timeout   ──connecting──── timeout ms ──#  (ConnectTimeoutError)
 * reset     ──connecting──conn──────ECONNRESET──#  (conn.closeReason, after conn's own streams)
 * ```
 *
 * Unsubscribing destroys the socket. A failure of the connection after it was emitted (the peer
 * reset it; `destroy(error)`) shows on its own streams first, then errors this Observable at
 * close with `conn.closeReason`, so `retry` reconnects after a failed connect and after a failed
 * connection alike, whether or not the pipeline's sink ended quietly; `repeat` reconnects after a
 * clean close.
 *
 * @example
 * ```ts
 * import { connect, backoff } from 'rxnet';
 * import { retry, mergeMap } from 'rxjs';
 *
 * connect({ port: 8107, host: '127.0.0.1', timeout: 2000 })
 *   .pipe(
 *     retry({ count: 10, delay: backoff({ initialDelay: 100, maxDelay: 5000 }) }),
 *     mergeMap((conn) => { conn.write('hello'); return conn.data$; }),
 *   )
 *   .subscribe((chunk) => console.log(chunk.toString()));
 * ```
 */
export function connect(options: ConnectOptions): Observable<Connection> {
  const { port, host, path, timeout } = options;
  if (path === undefined) checkInteger('port', port, 1, 65535);
  else if (typeof path !== 'string' || path.length === 0) {
    throw new InvalidArgumentError('path', 'expected a non-empty string');
  }
  if (timeout !== undefined) checkInteger('timeout', timeout, 1);
  const scheduler = options.scheduler ?? asyncScheduler;
  const allowHalfOpen = options.allowHalfOpen ?? true;
  const target = path ?? `${host ?? 'localhost'}:${port}`;
  const events = options.events;
  if (events !== undefined && typeof events !== 'function') {
    throw new InvalidArgumentError('events', 'expected a function');
  }

  return new Observable<Connection>((subscriber) => {
    const tcp: net.NetConnectOpts =
      path !== undefined
        ? { path, allowHalfOpen }
        : {
            port: port!,
            host,
            family: options.family,
            localAddress: options.localAddress,
            localPort: options.localPort,
            allowHalfOpen,
            noDelay: options.noDelay,
            keepAlive: options.keepAlive,
            keepAliveInitialDelay: options.keepAliveInitialDelay,
          };
    const secure = options.tls !== undefined;
    const socket = secure
      ? tls.connect({
          ...(tcp as tls.ConnectionOptions),
          ...options.tls,
          servername: options.tls?.servername ?? sni(host),
        })
      : net.connect(tcp);
    // Wrap at once: the wrapper pauses the socket and owns its 'error' listener from the start.
    const connection = new SocketConnection(socket);

    let connected = false;
    let tcpConnected = false;
    // Times for `events` only: a client without them reads no clock.
    const started = events === undefined ? 0 : scheduler.now();
    let tcpAt = 0;
    const ready = () => {
      connected = true;
      timeoutAction?.unsubscribe();
      if (events !== undefined) {
        const at = scheduler.now();
        const connectMs = (secure ? tcpAt : at) - started;
        const handshakeMs = secure ? at - tcpAt : undefined;
        if (!told(() => events({ type: 'connect', connection, connectMs, handshakeMs, target }))) return;
      }
      subscriber.next(connection);
    };
    /** Errors the Observable with `error`, telling `events` first. */
    const fail = (error: unknown) => {
      const ms = scheduler.now() - started;
      const connectMs = tcpConnected ? tcpAt - started : undefined;
      if (events === undefined || told(() => events({ type: 'connectError', error, ms, connectMs, target })))
        subscriber.error(error);
    };
    /** Runs the user's `events`; false when it threw (the Observable then errors with what it threw). */
    const told = (tell: () => void): boolean => {
      try {
        tell();
        return true;
      } catch (thrown) {
        subscriber.error(thrown);
        return false;
      }
    };
    const removeListeners = addListeners(socket, {
      connect: () => {
        tcpConnected = true;
        if (events !== undefined) tcpAt = scheduler.now();
        if (!secure) ready();
      },
      secureConnect: ready,
      error: (error: Error) => {
        // Before connect, a socket error is the connect failure; afterwards it is the connection's.
        if (connected) return;
        if (secure && tcpConnected) {
          const reason = (error as NodeJS.ErrnoException).code ?? 'UNKNOWN';
          fail(new TlsHandshakeError(reason, error));
        } else fail(error);
      },
      close: () => {
        // A connection that failed after it was made (the peer reset it) fails this Observable
        // too, so `retry` reconnects; a clean close completes it, for `repeat`.
        const reason = connection.closeReason;
        if (connected && reason !== undefined) subscriber.error(reason);
        else subscriber.complete();
      },
    });

    const timeoutAction =
      timeout === undefined
        ? undefined
        : scheduler.schedule(() => {
            if (!connected) fail(new ConnectTimeoutError(timeout, target));
          }, timeout);

    const signal = options.signal;
    const onAbort = () => {
      if (!connected) fail(signal!.reason);
      else connection.destroy();
    };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });

    return () => {
      signal?.removeEventListener('abort', onAbort);
      timeoutAction?.unsubscribe();
      removeListeners();
      connection.destroy();
    };
  });
}

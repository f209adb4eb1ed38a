// listen(): a cold Observable of accepted connections; unsubscribing closes the server and them.
import * as net from 'net';
import * as tls from 'tls';
import { Observable, from, take } from 'rxjs';
import type { Subscription } from 'rxjs';
import { resolveListenOptions } from './listenOptions';
import type { ListenOptions } from './listenOptions';
import type { ServerEvent } from './ServerEvent';
import { ServerConnections } from './ServerConnections';
import { NODE_TIMER_MAX, trackRawSockets, watchContexts, withoutContexts } from './tls';
import { handshakeAsServer, startTls } from './upgradeTls';
import { addListeners } from '../util/listeners';
import { ProxiedConnection, proxyAcceptor } from '../proxy/acceptProxyProtocol';
import { Admission } from '../admission/Admission';
import type { DropReason } from '../admission/Admission';
import {
  ProxyHeaderMissingError,
  ProxyHeaderTooLongError,
  ProxyProtocolError,
  ProxyProtocolTimeoutError,
  TlsHandshakeError,
  UntrustedProxyError,
} from '../errors';
import { ReadDeadlines } from '../time/ReadDeadline';
import { TrafficShaper } from '../shaping/TrafficShaper';
import { shapeTraffic } from '../shaping/shapeTraffic';
import type { Connection } from '../types';

export {
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_FIRST_BYTE_TIMEOUT,
  DEFAULT_FRAME_TIMEOUT,
  DEFAULT_HANDSHAKE_TIMEOUT,
} from './listenOptions';
export type { ListenOptions } from './listenOptions';
export type { BoundAddress, ServerEvent } from './ServerEvent';

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
  // With PROXY protocol the header comes in clear before the handshake: the server listening is a
  // plain one, and each connection switches to TLS once its header is read.
  const tlsAfterProxy = options.tls !== undefined && Boolean(options.proxyProtocol);
  const secure = options.tls !== undefined && !tlsAfterProxy;
  const acceptProxy = options.proxyProtocol
    ? proxyAcceptor(options.proxyProtocol, tlsAfterProxy ? resolved.handshakeTimeout : undefined)
    : undefined;
  const proxiesTrusted = typeof options.proxyProtocol === 'object' && options.proxyProtocol.trusted !== undefined;

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
      ? tls.createServer({
          ...withoutContexts(options.tls!),
          ...socketOptions,
          handshakeTimeout: resolved.handshakeTimeout,
        })
      : net.createServer({ ...socketOptions, pauseOnConnect: true });
    // Behind a PROXY-speaking balancer: the TLS server that runs the handshakes after the headers (never listening).
    const tlsServer = tlsAfterProxy
      ? tls.createServer({ ...withoutContexts(options.tls!), ...socketOptions, handshakeTimeout: NODE_TIMER_MAX })
      : undefined;
    if (options.maxConnections !== undefined) server.maxConnections = options.maxConnections;
    // A TLS socket is half-open as the socket it wraps. Half-open, one whose peer closes in
    // mid-handshake would wait for us until handshakeTimeout (Node tells tlsClientError only at
    // close): not half-open until its handshake is done (before Node's own listener wraps it).
    if (secure) server.prependListener('connection', (raw: net.Socket) => (raw.allowHalfOpen = false));
    let shuttingDown = false;
    let serverClosed = false;
    let graceTimer: Subscription | undefined;
    let shutdownSub: Subscription | undefined;
    let removeAbortListener: (() => void) | undefined;

    const connections = new ServerConnections(
      resolved.closeTimeout,
      scheduler,
      subscriber,
      (connection, hadError) => {
        tell({ type: 'disconnect', connection, hadError, open: open.size });
        if (shuttingDown) finishShutdown();
      },
      (connection, previous, handshakeMs) =>
        tell({ type: 'upgrade', connection, previous, open: open.size, handshakeMs }),
    );
    const open = connections.open;
    const { firstByteTimeout, frameTimeout } = resolved;
    if (firstByteTimeout > 0 || frameTimeout > 0) {
      connections.deadlines = new ReadDeadlines(
        firstByteTimeout,
        frameTimeout,
        scheduler,
        (connection, deadline, error) => {
          tell({ type: 'deadline', deadline, connection, error });
          connection.destroy(error);
        },
      );
    }
    const admission = resolved.admission && Admission.start(resolved.admission, scheduler);
    const drop = (reason: DropReason, remoteAddress: string | undefined, remotePort: number | undefined) =>
      tell({ type: 'drop', reason, remoteAddress, remotePort, open: open.size });
    const { shaping } = resolved;
    const shared = shaping?.server && new TrafficShaper({ ...shaping.server, scheduler });
    /** Hands a connection on: shaped when listen was asked to shape traffic. */
    const emit = (connection: Connection) => {
      if (shaping === undefined) {
        subscriber.next(connection);
        return;
      }
      // Events name the socket's own connection, as `connection` and `disconnect` do.
      const own = connection instanceof ProxiedConnection ? connection.inner : connection;
      const shaped: Connection = shapeTraffic(connection, {
        readLimit: shaping.readLimit,
        writeLimit: shaping.writeLimit,
        burst: shaping.burst,
        shared,
        scheduler,
        onThrottle: (t) =>
          tell({ type: 'throttle', direction: t.direction, connection: own, bytes: t.bytes, delay: t.delay }),
      });
      subscriber.next(shaped);
    };
    /** TLS: raw sockets refused before their handshake, whose failed handshake is no news. */
    const refusedRaw = secure ? new WeakSet<net.Socket>() : undefined;
    /** Admits a socket on its own address (no PROXY header to wait for); false once refused and destroyed. */
    const admitted = (socket: net.Socket): boolean => {
      const reason = admission?.admit(socket, socket.remoteAddress);
      if (reason === undefined) return true;
      drop(reason, socket.remoteAddress, socket.remotePort);
      refusedRaw?.add(socket);
      socket.destroy();
      return false;
    };
    /** TLS behind a PROXY-speaking balancer: the handshake, within what is left of `handshakeTimeout` since accept. */
    const secureProxied = (view: ProxiedConnection, acceptedAt: number) => {
      const left = Math.max(0, acceptedAt + resolved.handshakeTimeout - scheduler.now());
      startTls(view, left, scheduler, (raw, done) => handshakeAsServer(tlsServer!, raw, done)).subscribe({
        next: emit,
        error: (error: unknown) => {
          if (subscriber.closed) return;
          const cause = error instanceof TlsHandshakeError ? error.cause : (error as Error);
          tell({ type: 'tlsClientError', error: cause, remoteAddress: view.remoteAddress });
        },
      });
    };
    /** With PROXY protocol: admits the connection on the client address its header reports. */
    const emitProxied = (view: ProxiedConnection, acceptedAt: number) => {
      // Closed meanwhile (destroyed at shutdown while its header was awaited): nothing to admit.
      if (view.closed || subscriber.closed) return;
      const header = view.proxy.header;
      // A header without addresses (LOCAL, UNKNOWN: a balancer's health check) from a trusted proxy
      // is the proxy itself; from anyone else it is judged on the socket's address like any client.
      const reason =
        proxiesTrusted && header !== undefined && header.source === undefined
          ? undefined
          : admission?.admit(view.socket as net.Socket, view.remoteAddress);
      if (reason === undefined) {
        if (tlsServer !== undefined) secureProxied(view, acceptedAt);
        else emit(view);
        return;
      }
      drop(reason, view.remoteAddress, view.remotePort);
      view.destroy();
    };
    const proxyFailed = (connection: Connection, error: unknown) => {
      if (subscriber.closed) return;
      // Refusals by the header's rules; a peer that reset or closed first was refused by nobody.
      if (error instanceof UntrustedProxyError)
        drop('untrusted-proxy', connection.remoteAddress, connection.remotePort);
      else if (isProxyHeaderError(error)) drop('proxy-header', connection.remoteAddress, connection.remotePort);
    };
    /** TLS: the raw sockets accepted whose TLS connection has not closed yet (handshaking ones among them). */
    const rawSockets = secure ? trackRawSockets(server, () => scheduler.now()) : undefined;
    const removeListeners = addListeners(server, {
      [secure ? 'secureConnection' : 'connection']: (socket: net.Socket) => {
        if (secure) socket.allowHalfOpen = allowHalfOpen;
        // Plain sockets are judged here on their own address; TLS ones before their handshake (below).
        if (admission !== undefined && !secure && !acceptProxy && !admitted(socket)) return;
        const connection = connections.accept(socket);
        const acceptedRaw = secure ? rawSockets!.get((socket as { _parent?: net.Socket })._parent!) : undefined;
        const handshakeMs = acceptedRaw === undefined ? undefined : scheduler.now() - acceptedRaw;
        tell({ type: 'connection', connection, open: open.size, handshakeMs });
        if (acceptProxy) {
          const acceptedAt = scheduler.now();
          acceptProxy(connection, (view) => emitProxied(view, acceptedAt), proxyFailed);
        } else emit(connection);
      },
      ...(secure && admission !== undefined ? { connection: admitted } : {}),
      tlsClientError: (error: Error, socket: tls.TLSSocket) => {
        // Node reports a failed or timed-out handshake but leaves the socket open. Its address is
        // read first: a destroyed socket may no longer know it.
        const remoteAddress = socket.remoteAddress;
        socket.destroy();
        // Refused before its handshake (told as a drop): Node reports the reset it caused, ignored.
        const raw = (socket as { _parent?: net.Socket })._parent;
        if (raw !== undefined && refusedRaw?.has(raw)) return;
        tell({ type: 'tlsClientError', error, remoteAddress });
      },
      drop: (data?: { remoteAddress?: string; remotePort?: number }) => {
        drop('max-connections', data?.remoteAddress, data?.remotePort);
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
    const contexts =
      options.tls?.secureContext$ &&
      watchContexts(
        tlsServer ?? (server as tls.Server),
        withoutContexts(options.tls),
        options.tls.secureContext$,
        tell,
      );

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
      contexts?.unsubscribe();
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
        for (const raw of rawSockets.keys()) raw.destroy();
        rawSockets.clear();
      }
    };
  });
}

/** Addresses that accept on every interface: an accepted socket's local address is its own. */
const WILDCARDS = new Set(['0.0.0.0', '::', '::0', '0:0:0:0:0:0:0:0']);

/** Whether `error` is the PROXY protocol decoder's: a bad, missing, too long or late header. */
function isProxyHeaderError(error: unknown): boolean {
  return (
    error instanceof ProxyProtocolError ||
    error instanceof ProxyHeaderMissingError ||
    error instanceof ProxyHeaderTooLongError ||
    error instanceof ProxyProtocolTimeoutError
  );
}

function isAbortSignal(value: unknown): value is AbortSignal {
  return typeof AbortSignal !== 'undefined' && value instanceof AbortSignal;
}

function noop(): void {}

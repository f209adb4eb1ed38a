// listen(): a cold Observable of accepted connections; unsubscribing closes the server and them.
import * as net from 'net';
import { Observable } from 'rxjs';
import type { NextObserver } from 'rxjs';
import { SocketConnection } from './connection';
import { InvalidArgumentError, checkInteger } from './errors';
import { addListeners } from './internal/listeners';
import type { Connection } from './types';

/** Where a server is bound: a TCP address or a unix socket path. */
export type BoundAddress = net.AddressInfo | string;

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
  const listening = options.listening;

  return new Observable<Connection>((subscriber) => {
    const server = net.createServer({
      allowHalfOpen,
      pauseOnConnect: true,
      noDelay: options.noDelay ?? false,
      keepAlive: options.keepAlive ?? false,
      keepAliveInitialDelay: options.keepAliveInitialDelay ?? 0,
    });
    const open = new Set<Connection>();

    const removeListeners = addListeners(server, {
      connection: (socket: net.Socket) => {
        const connection = new SocketConnection(socket);
        open.add(connection);
        socket.once('close', () => open.delete(connection));
        subscriber.next(connection);
      },
      listening: () => {
        if (!listening) return;
        const address = server.address();
        if (address === null) return;
        try {
          if (typeof listening === 'function') listening(address);
          else listening.next(address);
        } catch (error) {
          subscriber.error(error);
        }
      },
      error: (error: Error) => subscriber.error(error),
    });

    if (path !== undefined) server.listen({ path, backlog });
    else server.listen({ port: port ?? 0, host, backlog, ipv6Only });

    return () => {
      removeListeners();
      // A late error from a closing server must not become unhandled.
      server.on('error', noop);
      server.close();
      for (const connection of open) connection.destroy();
      open.clear();
    };
  });
}

function noop(): void {}

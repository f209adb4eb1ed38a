// The server events listen() tells through its `events` option, and the address it reports.
import type * as net from 'net';
import type { DropReason } from '../admission/Admission';
import type { Connection } from '../types';

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
 * listening──connection(1)──connection(2)──drop(2)──disconnect(1)──shutdown(1)──disconnect(0)──close
 * bind failure: error (and the Observable errors with it)
 * ```
 *
 * @example
 * ```ts
 * import { listen, type ServerEvent } from 'rxnet';
 *
 * const log = (e: ServerEvent) => {
 *   if (e.type === 'connection' || e.type === 'disconnect') console.log(e.type, e.connection.remoteAddress, `${e.open} open`);
 *   else if (e.type === 'drop') console.warn(`refused ${e.remoteAddress}: ${e.reason}`);
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
      /** With `listen({ tls })`: ms from the TCP accept to the end of the TLS handshake (on the server's scheduler); undefined otherwise. */
      readonly handshakeMs?: number;
    }
  /** An accepted connection closed: ended by both sides, destroyed, or failed. */
  | {
      /** Tag of this variant. */
      readonly type: 'disconnect';
      /** The connection that closed, as its `connection` event gave it (or its `upgrade` event, once switched to TLS). */
      readonly connection: Connection;
      /** True when an error closed it: a socket error, or `destroy(error)` (as for a bad PROXY protocol header). */
      readonly hadError: boolean;
      /** Connections still open, this one no longer counted. */
      readonly open: number;
    }
  /**
   * A connection switched to TLS (`upgradeTls`, or the handshake after a PROXY header with
   * `listen({ proxyProtocol, tls })`): `connection`, over the TLS socket, takes the place of
   * `previous` (the same `id`); its `disconnect` will name it. Not counted again in `open`.
   */
  | {
      /** Tag of this variant. */
      readonly type: 'upgrade';
      /** The TLS connection. */
      readonly connection: Connection;
      /** The plain connection it replaces, now over. */
      readonly previous: Connection;
      /** Connections open now. */
      readonly open: number;
      /** ms from the start of the switch (`upgradeTls`, or the end of the PROXY header) to the end of the TLS handshake. */
      readonly handshakeMs: number;
    }
  /**
   * A connection was refused and closed at once: over `maxConnections` (Node's own check), or by an
   * admission rule (`maxConnectionsPerAddress`, `acceptRate`, `allow`/`deny`, trusted proxies, a bad
   * PROXY header). Refused on accept, it was never emitted and has no `connection` event; refused
   * after its PROXY header (the rules then judge the header's client address), its `connection`
   * event came before, and its `disconnect` follows.
   */
  | {
      /** Tag of this variant. */
      readonly type: 'drop';
      /** Why it was refused. */
      readonly reason: DropReason;
      /** The refused client's address (with PROXY protocol, the header's when it was read), when known. */
      readonly remoteAddress: string | undefined;
      /** The refused client's port, when known. */
      readonly remotePort: number | undefined;
      /** Connections open now (with `max-connections`, normally `maxConnections`). */
      readonly open: number;
    }
  /**
   * A connection missed a deadline of `listen` (`firstByteTimeout`, `frameTimeout`) and is being
   * destroyed with the error (`FirstByteTimeoutError`, `FrameTimeoutError`); its `disconnect` follows.
   */
  | {
      /** Tag of this variant. */
      readonly type: 'deadline';
      /** Which deadline: the first byte, or a frame begun and not finished. */
      readonly deadline: 'first-byte' | 'frame';
      /** The connection (the socket's own). */
      readonly connection: Connection;
      /** The error it is destroyed with. */
      readonly error: Error;
    }
  /**
   * `listen({ shaping })` held a connection back to keep to a byte-rate limit: its reading paused
   * (`read`), or its writes held (`write`), for `delay` ms.
   */
  | {
      /** Tag of this variant. */
      readonly type: 'throttle';
      /** Which side was held. */
      readonly direction: 'read' | 'write';
      /** The connection (the socket's own, as its `connection` event gave it, not the shaped view). */
      readonly connection: Connection;
      /** Bytes over the budget when it was held. */
      readonly bytes: number;
      /** How long it is held, in ms. */
      readonly delay: number;
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
  /**
   * TLS only: a value of `tls.secureContext$` was applied to new handshakes (`error` undefined), or
   * refused with `error` (the context before it stays in force).
   */
  | {
      /** Tag of this variant. */
      readonly type: 'tlsContext';
      /** Why the new context was refused; undefined when it is in force. */
      readonly error: Error | undefined;
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

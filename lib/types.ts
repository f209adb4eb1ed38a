// The Connection contract shared by real sockets and the in-memory test kit.
import type { Observable } from 'rxjs';
import type { Socket } from 'net';
import type { Socket as DgramSocket } from 'dgram';
import type { PeerCertificate } from 'tls';

/**
 * What may be written to a connection. Strings are encoded as UTF-8; a Buffer or Uint8Array is
 * written as it is, without a copy.
 *
 * @example
 * ```ts
 * import { type Chunk, type Connection } from 'rxnet';
 *
 * declare const conn: Connection;
 * const greeting: Chunk[] = ['hello ', Buffer.from('world'), new Uint8Array([0x0a])];
 * for (const chunk of greeting) conn.write(chunk);
 * ```
 */
export type Chunk = Buffer | Uint8Array | string;

/**
 * Every event a `net.Socket` emits, as a discriminated union on `type`.
 * `data` carries the chunk; `close` carries `hadError`; `error` carries the error; `written`
 * (not a Node event) tells that a write was flushed, which write-idle detection needs.
 *
 * Events are produced only while `events$` has a subscriber; `events$` completes after `close`.
 * In-memory connections (`rxnet/testing`) emit `data`, `written`, `drain`, `end`, `finish`,
 * `timeout`, `error` and `close`.
 *
 * ```
 * a peer sends "hi", we reply and end, the peer ends:
 * events$:  --data--written--finish--end--close(hadError false)|
 * a peer resets the connection:
 * events$:  --data--error(ECONNRESET)--close(hadError true)|
 * ```
 *
 * @example
 * ```ts
 * import { type Connection, type ConnectionEvent } from 'rxnet';
 *
 * declare const conn: Connection;
 * conn.events$.subscribe((e: ConnectionEvent) => {
 *   if (e.type === 'data') console.log(`read ${e.chunk.length} bytes`);
 *   else if (e.type === 'written') console.log(`flushed ${e.bytes} bytes`);
 *   else if (e.type === 'close') console.log(e.hadError ? 'closed by an error' : 'closed');
 * });
 * ```
 */
export type ConnectionEvent =
  /**
   * Node's `connect`: the TCP connection is established. Seen only on a socket wrapped while
   * still connecting; `connect()` emits its connection after this event.
   */
  | {
      /** Tag of this variant. */
      readonly type: 'connect';
    }
  /** TLS only: the handshake completed (client side); like `connect`, it precedes `connect()`'s emission. */
  | {
      /** Tag of this variant. */
      readonly type: 'secureConnect';
    }
  /** Node's `ready`, right after `connect`: the socket can be used (seen under the same conditions). */
  | {
      /** Tag of this variant. */
      readonly type: 'ready';
    }
  /** Node's `lookup`: the host name was resolved (or failed to be), before connecting; not emitted for an IP address. */
  | {
      /** Tag of this variant. */
      readonly type: 'lookup';
      /** The resolver's error, or null when the name was resolved. */
      readonly error: Error | null;
      /** The address the name resolved to, which the socket connects to. */
      readonly address: string;
      /** The address's family as Node reports it: 4 or 6 (null when unknown). */
      readonly family: string | number | null;
      /** The host name that was looked up. */
      readonly host: string;
    }
  /** A chunk was read from the peer: the Buffer `data$` emits. */
  | {
      /** Tag of this variant. */
      readonly type: 'data';
      /** The bytes read, as Node delivered them (no copy). */
      readonly chunk: Buffer;
    }
  /** Node's `end`: the peer sent its FIN, so nothing more will be read; `data$` completes. */
  | {
      /** Tag of this variant. */
      readonly type: 'end';
    }
  /** Node's `finish`: after `end()`, everything written was flushed and our FIN sent. */
  | {
      /** Tag of this variant. */
      readonly type: 'finish';
    }
  /** A write was flushed to the kernel (emitted only while `events$` is observed; rxnet's own, not Node's). */
  | {
      /** Tag of this variant. */
      readonly type: 'written';
      /** The bytes of that one `write()` (a string counted as UTF-8). */
      readonly bytes: number;
    }
  /** Node's `timeout`: no activity for the `setTimeout()` delay; the connection stays open. */
  | {
      /** Tag of this variant. */
      readonly type: 'timeout';
    }
  /** Node's `drain`: the write buffer emptied after a `write()` returned false; `writable$` is true again. */
  | {
      /** Tag of this variant. */
      readonly type: 'drain';
    }
  /** A socket error (`ECONNRESET`, `EPIPE`, ...): `data$` errors with it and `close` follows. */
  | {
      /** Tag of this variant. */
      readonly type: 'error';
      /** Node's error, with its `code`. */
      readonly error: Error;
    }
  /** The connection is fully closed; the last event, after which `events$` completes. */
  | {
      /** Tag of this variant. */
      readonly type: 'close';
      /** True when an error closed it (a socket error, or `destroy(error)`); the `error` event came first. */
      readonly hadError: boolean;
    };

/**
 * The type tags of {@link ConnectionEvent}.
 *
 * @example
 * ```ts
 * import { filter } from 'rxjs';
 * import { type Connection, type ConnectionEventType } from 'rxnet';
 *
 * declare const conn: Connection;
 * const lifecycle: ConnectionEventType[] = ['end', 'finish', 'error', 'close'];
 * conn.events$.pipe(filter((e) => lifecycle.includes(e.type))).subscribe((e) => console.log(e.type));
 * ```
 */
export type ConnectionEventType = ConnectionEvent['type'];

/**
 * What a TLS connection tells about its session, as `connection.tls`.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'fs';
 * import { listen } from 'rxnet';
 *
 * listen({ port: 8443, tls: { key: readFileSync('key.pem'), cert: readFileSync('cert.pem'), requestCert: true } })
 *   .subscribe((conn) => {
 *     const tls = conn.tls!;
 *     console.log(tls.protocol, tls.authorized ? tls.peerCertificate.subject?.CN : tls.authorizationError?.message);
 *   });
 * ```
 */
export interface TlsInfo {
  /** Whether the peer's certificate was verified against the trusted CAs. */
  readonly authorized: boolean;
  /** Why it was not, if it was not. */
  readonly authorizationError: Error | undefined;
  /** The peer's certificate (`{}`-like when the peer sent none). */
  readonly peerCertificate: PeerCertificate;
  /** Negotiated protocol, e.g. `TLSv1.3`. */
  readonly protocol: string | null;
  /** Negotiated ALPN protocol, or false. */
  readonly alpnProtocol: string | false | null;
  /** The server name (SNI) the client asked for: on a server, the one the client sent; null or false when none. */
  readonly servername: string | false | null;
}

/**
 * Anything whose reading can be held back: a {@link Connection}, or an adapter over a Node stream.
 *
 * @example
 * ```ts
 * import { type Holdable } from 'rxnet';
 *
 * // Hold a source while a slow job runs; reading resumes when the last hold is released.
 * async function whileHeld(source: Holdable, job: () => Promise<void>): Promise<void> {
 *   const release = source.holdReading();
 *   try {
 *     await job();
 *   } finally {
 *     release();
 *   }
 * }
 * ```
 */
export interface Holdable {
  /** Holds reading paused until the returned function is called (idempotent); holds add up. */
  holdReading(): () => void;
}

/**
 * One duplex byte stream: a TCP (or unix, or in-memory) connection.
 *
 * Reading: `data$` emits chunks in arrival order, completes on the peer's FIN and errors on a
 * socket error (a sink writing to this connection ends quietly on that error when the peer
 * caused it: see `sendTo`). Nothing is read from the peer until `data$` has a subscriber, so no byte is
 * lost between accept and subscribe; when the last subscriber leaves, reading pauses again.
 *
 * Writing: `write()` returns what `net.Socket#write` returns; `writable$` tells when the
 * connection accepts writes without buffering. Prefer the flow-controlled sink `sendTo()`.
 *
 * ```
 * peer:       --"hi\n"------------FIN
 * data$:      --c----------------|
 * write():         "HI\n" (true)
 * writable$:  T----------------------|   completes once closed
 * ```
 *
 * @example
 * ```ts
 * import { map } from 'rxjs';
 * import { listen, sendTo, serveEach, type Connection } from 'rxnet';
 *
 * // Upper-case echo: every chunk back, as the peer's reading speed allows.
 * const shout = (conn: Connection) => conn.data$.pipe(map((chunk) => chunk.toString().toUpperCase()), sendTo(conn));
 * listen({ port: 7000 }).pipe(serveEach(shout)).subscribe();
 * ```
 */
export interface Connection extends Holdable {
  /** Process-unique id, for logs and hubs. */
  readonly id: number;
  /** Chunks from the peer; see the interface summary for the pause rules. */
  readonly data$: Observable<Buffer>;
  /** Every socket event as a value; completes after `close`. */
  readonly events$: Observable<ConnectionEvent>;
  /**
   * Current writability, replayed to each subscriber: false after a `write()` returned false, true
   * again on drain. Completes when the connection closes, or errors with the socket error that closed it.
   */
  readonly writable$: Observable<boolean>;
  /** Current writability, synchronously. */
  readonly writable: boolean;
  /** True once `end()` or `destroy()` was called or the socket closed: `write()` would throw. */
  readonly writeEnded: boolean;
  /** True once the connection has fully closed. */
  readonly closed: boolean;
  /**
   * The error that closed the connection (set when it fails, just before `close`): the peer's or
   * the network's failure (`ECONNRESET`, `EPIPE`, `ETIMEDOUT`: see `isPeerFailure`) or the error
   * given to `destroy(error)`. Undefined while all is well, and after a clean close or a plain
   * `destroy()`.
   */
  readonly closeReason: Error | undefined;

  /**
   * Writes a chunk; returns false when the chunk was buffered beyond the high-water mark
   * (wait for drain). `callback` runs once the chunk was handed to the kernel, or with an error.
   * @throws WriteAfterEndError after `end()`, `destroy()` or close.
   */
  write(chunk: Chunk, callback?: (error?: Error | null) => void): boolean;
  /** Flushes what was written, then sends FIN. `callback` runs once flushed. Idempotent. */
  end(chunk?: Chunk, callback?: (error?: Error | null) => void): void;
  /** Closes at once, dropping unflushed data; with `error`, the streams error with it. */
  destroy(error?: Error): void;
  /** Batches writes until `uncork()`, like `net.Socket#cork`. */
  cork(): void;
  /** Sends what was written since `cork()` (one `writev` for the batch). */
  uncork(): void;

  /** Stops reading from the peer until `resume()` (the peer is held back by TCP flow control). */
  pause(): void;
  /** Undoes `pause()`. Reading happens only while `data$` has a subscriber and nothing holds it. */
  resume(): void;
  /**
   * Holds reading paused until the returned function is called (idempotent). Sinks use it to
   * hold back a source while their destination is not writable; holds from several parties add up.
   */
  holdReading(): () => void;

  /** Disables Nagle's algorithm (default true): small writes leave at once. */
  setNoDelay(noDelay?: boolean): this;
  /** TCP keep-alive probes after `initialDelay` ms of idleness (the tutorials' `setKeepAlive(true, 10000)`). */
  setKeepAlive(enable?: boolean, initialDelay?: number): this;
  /** Node's socket inactivity timeout; the `timeout` event shows on `events$`. 0 disables it. */
  setTimeout(ms: number): this;

  /** Our address; kept after close (Node forgets it with the handle). */
  readonly localAddress: string | undefined;
  /** Our port; kept after close. */
  readonly localPort: number | undefined;
  /** The peer's address (behind a PROXY protocol header: the client's); kept after close. */
  readonly remoteAddress: string | undefined;
  /** The peer's port; kept after close. */
  readonly remotePort: number | undefined;
  /** `IPv4` or `IPv6`; kept after close. */
  readonly remoteFamily: string | undefined;
  /** Bytes received so far. */
  readonly bytesRead: number;
  /** Bytes written so far, including those still buffered. */
  readonly bytesWritten: number;

  /** TLS details when the connection runs over TLS (after the handshake); undefined otherwise. */
  readonly tls?: TlsInfo;

  /** The underlying `net.Socket`, as an escape hatch; undefined for in-memory connections. */
  readonly socket: Socket | undefined;
}

/**
 * One datagram received: its bytes and the sender's address. `size` is `data.length`, kept as
 * Node's `rinfo.size` tells it.
 *
 * @example
 * ```ts
 * import type { Datagram, UdpSocket } from 'rxnet';
 *
 * declare const socket: UdpSocket;
 * socket.messages$.subscribe((d: Datagram) => console.log(`${d.size} B from ${d.address}:${d.port}`));
 * ```
 */
export interface Datagram {
  /** The payload, exactly as one datagram carried it. */
  readonly data: Buffer;
  /** The sender's address. */
  readonly address: string;
  /** The sender's address family. */
  readonly family: 'IPv4' | 'IPv6';
  /** The sender's port. */
  readonly port: number;
  /** Bytes in `data`. */
  readonly size: number;
}

/**
 * Where a datagram goes: an address and a port.
 *
 * @example
 * ```ts
 * import type { DatagramTarget, UdpSocket } from 'rxnet';
 *
 * declare const socket: UdpSocket;
 * const statsd: DatagramTarget = { address: '127.0.0.1', port: 8125 };
 * void socket.send('hits:1|c', statsd);
 * ```
 */
export interface DatagramTarget {
  /** The receiver's address (a name is looked up by Node for a real socket). */
  readonly address: string;
  /** The receiver's port. */
  readonly port: number;
}

/**
 * Counters a datagram socket keeps while it is open; read them any time.
 *
 * @example
 * ```ts
 * import type { UdpSocket } from 'rxnet';
 *
 * declare const socket: UdpSocket;
 * const { received, sent, sendFailed } = socket.stats;
 * console.log(`${received} in, ${sent} out, ${sendFailed} refused`);
 * ```
 */
export interface UdpStats {
  /** Datagrams received and handed to `messages$`. */
  received: number;
  /** Bytes of those datagrams. */
  receivedBytes: number;
  /** Datagrams received while `messages$` had no subscriber: dropped, as the kernel would drop them. */
  unread: number;
  /** Datagrams the kernel took for sending. */
  sent: number;
  /** Bytes of those datagrams. */
  sentBytes: number;
  /** Sends the kernel refused (`EMSGSIZE`, `ENOBUFS`, `ECONNREFUSED` on a connected socket, …). */
  sendFailed: number;
  /** Datagrams dropped for being larger than `bindUdp({ maxDatagramSize })` (0 without it); undefined where not kept. */
  oversize?: number;
  /** Datagrams dropped by `bindUdp({ rateLimit })`, their source being over its rate (0 without it); undefined where not kept. */
  rateLimited?: number;
  /**
   * Refusals the kernel reported on the receive side of a connected socket (an ICMP port or host
   * unreachable for an earlier datagram: `ECONNREFUSED`, `EHOSTUNREACH`, …); they do not end the
   * socket. Undefined where not kept.
   */
  refused?: number;
  /**
   * Datagrams a connected socket dropped for coming from another address or port than its peer:
   * ones the kernel had queued between bind and connect (Linux keeps them). Undefined where not kept.
   */
  strangers?: number;
}

/**
 * A bound datagram socket: what `bindUdp()` emits for a real `dgram` socket, and what
 * `MemoryDatagramNetwork` (`rxnet/testing`) emits for an in-memory one. It stays bound while the
 * subscription that made it lasts; unsubscribing closes it and completes `messages$`.
 *
 * UDP has no flow control: nothing tells a sender to wait. Datagrams that arrive while
 * `messages$` has no subscriber are counted in `stats.unread` and dropped, as the kernel drops
 * what overflows its receive buffer.
 *
 * @example
 * ```ts
 * import { bindUdp, sendDatagrams } from 'rxnet';
 * import { mergeMap } from 'rxjs';
 *
 * // An echo: every datagram goes back to its sender (a received datagram is its own destination),
 * // with a bounded number of sends in flight and a refused send counted, not fatal.
 * bindUdp({ type: 'udp4', port: 0, address: '127.0.0.1' })
 *   .pipe(mergeMap((socket) => socket.messages$.pipe(sendDatagrams(socket))))
 *   .subscribe();
 * ```
 */
export interface UdpSocket {
  /** Process-unique id, for logs. */
  readonly id: number;
  /** The bound address, as `socket.address()` tells it. */
  readonly local: {
    /** The local address (`0.0.0.0` or `::` for a wildcard bind). */
    readonly address: string;
    /** The local address family. */
    readonly family: 'IPv4' | 'IPv6';
    /** The local port (the one picked, after a bind on port 0). */
    readonly port: number;
  };
  /** The peer of a connected socket (`bindUdp({ connect })`); undefined otherwise. */
  readonly remote: DatagramTarget | undefined;
  /**
   * Datagrams as they arrive; hot (one stream shared by every subscriber). Completes when the
   * socket closes; errors with the socket's error if it fails.
   */
  readonly messages$: Observable<Datagram>;
  /** Counters, kept up to date. */
  readonly stats: UdpStats;
  /** True once the socket has closed. */
  readonly closed: boolean;
  /**
   * Sends one datagram: to `target`, or to the peer of a connected socket when `target` is left
   * out. Resolves with the bytes sent once the kernel took them; rejects with `UdpSendError`
   * (carrying Node's code) when it refused them, and with reason `'closed'` when the socket is
   * closed, or closes before the send settled (whether or not that datagram left).
   */
  send(data: Chunk, target?: DatagramTarget): Promise<number>;

  /** The underlying `dgram.Socket`, as an escape hatch (`setTTL`, buffer sizes); undefined for in-memory sockets. */
  readonly socket?: DgramSocket;
}

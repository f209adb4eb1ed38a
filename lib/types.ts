// The Connection contract shared by real sockets and the in-memory test kit.
import type { Observable } from 'rxjs';
import type { Socket } from 'net';
import type { PeerCertificate } from 'tls';

/** What may be written to a connection. Strings are encoded as UTF-8. */
export type Chunk = Buffer | Uint8Array | string;

/**
 * Every event a `net.Socket` emits, as a discriminated union on `type`.
 * `data` carries the chunk; `close` carries `hadError`; `error` carries the error; `written`
 * (not a Node event) tells that a write was flushed, which write-idle detection needs.
 */
export type ConnectionEvent =
  | { readonly type: 'connect' }
  /** TLS only: the handshake completed (client side). */
  | { readonly type: 'secureConnect' }
  | { readonly type: 'ready' }
  | {
      readonly type: 'lookup';
      readonly error: Error | null;
      readonly address: string;
      readonly family: string | number | null;
      readonly host: string;
    }
  | { readonly type: 'data'; readonly chunk: Buffer }
  | { readonly type: 'end' }
  | { readonly type: 'finish' }
  /** A write was flushed to the kernel (emitted only while `events$` is observed; rxnet's own, not Node's). */
  | { readonly type: 'written'; readonly bytes: number }
  | { readonly type: 'timeout' }
  | { readonly type: 'drain' }
  | { readonly type: 'error'; readonly error: Error }
  | { readonly type: 'close'; readonly hadError: boolean };

/** The type tags of {@link ConnectionEvent}. */
export type ConnectionEventType = ConnectionEvent['type'];

/** What a TLS connection tells about its session. */
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
}

/** Anything whose reading can be held back: a {@link Connection}, or an adapter over a Node stream. */
export interface Holdable {
  /** Holds reading paused until the returned function is called (idempotent); holds add up. */
  holdReading(): () => void;
}

/**
 * One duplex byte stream: a TCP (or unix, or in-memory) connection.
 *
 * Reading: `data$` emits chunks in arrival order, completes on the peer's FIN and errors on a
 * socket error. Nothing is read from the peer until `data$` has a subscriber, so no byte is
 * lost between accept and subscribe; when the last subscriber leaves, reading pauses again.
 *
 * Writing: `write()` returns what `net.Socket#write` returns; `writable$` tells when the
 * connection accepts writes without buffering. Prefer the flow-controlled sink `sendTo()`.
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
  /** TCP keep-alive probes after `initialDelay` ms of idleness (the seed's `setKeepAlive(true, 10000)`). */
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

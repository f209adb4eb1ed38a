// listen()'s options, checked when listen() is called and resolved to their defaults.
import { asyncScheduler } from 'rxjs';
import type { NextObserver, Observable, ObservableInput, SchedulerLike } from 'rxjs';
import type * as tls from 'tls';
import { InvalidArgumentError } from '../errors';
import { checkBoolean, checkInteger, checkObserver, checkOptions, checkScheduler } from '../util/validate';
import { Admission } from '../admission/Admission';
import type { AdmissionOptions, AdmissionRules } from '../admission/Admission';
import type { AcceptProxyProtocolOptions } from '../proxy/acceptProxyProtocol';
import type { Connection } from '../types';
import { TrafficShaper } from '../shaping/TrafficShaper';
import type { TrafficLimits } from '../shaping/TrafficShaper';
import type { BoundAddress, ServerEvent } from './ServerEvent';

/**
 * The `tls` option of {@link listen}: `tls.createServer` options, and a stream of new secure
 * contexts for a server that must change its certificate without a restart.
 *
 * ```
 * secureContext$:   ----ctx2--------bad-------ctx3--
 * new handshakes:   ctx1|ctx2-------|ctx2------|ctx3   (a bad one is refused: a tlsContext event with its error)
 * open connections: unchanged (they keep the session they made)
 * ```
 *
 * @example
 * ```ts
 * import { readFileSync, watchFile } from 'fs';
 * import { Subject } from 'rxjs';
 * import { listen, serveEach, sendTo, type ListenTlsOptions } from 'rxnet';
 *
 * const load = () => ({ key: readFileSync('/etc/tls/key.pem'), cert: readFileSync('/etc/tls/cert.pem') });
 * const renewed = new Subject<ReturnType<typeof load>>();
 * watchFile('/etc/tls/cert.pem', () => renewed.next(load())); // e.g. certbot renewed it
 * const tls: ListenTlsOptions = { ...load(), secureContext$: renewed };
 * listen({ port: 8443, tls, events: (e) => e.type === 'tlsContext' && console.log('certificate', e.error ?? 'renewed') })
 *   .pipe(serveEach((conn) => conn.data$.pipe(sendTo(conn))))
 *   .subscribe();
 * ```
 */
export interface ListenTlsOptions extends tls.TlsOptions {
  /**
   * New key, certificate and CA for handshakes from now on (`server.setSecureContext`): each value
   * is laid over the options given here (a setting it leaves out, such as `ca`, `crl` or
   * `ciphers`, keeps its value; one given as `undefined` is dropped), applied in turn and told as
   * a `tlsContext` event; one Node refuses (a key that does not
   * match its certificate, bad PEM) is a `tlsContext` event with its `error`, and the context
   * before it stays in force. Subscribed with the server, unsubscribed when it closes; its error
   * or completion leaves the last context in force.
   */
  readonly secureContext$?: Observable<tls.SecureContextOptions>;
}

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
export interface ListenOptions extends AdmissionOptions {
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
   * and reported as a `drop` event (reason `max-connections`). Give `maxConnectionsPerAddress`
   * too, or one host can take every slot.
   */
  maxConnections?: number;
  /**
   * Milliseconds a connection gets to send its first byte once the server reads it (default
   * 30 000, on `scheduler`; 0: no deadline); then it is destroyed with `FirstByteTimeoutError`
   * (a `deadline` event). Time while the application does not read (no `data$` subscriber, or
   * reading held) does not count. Set 0 for protocols where the server speaks first and a client
   * may stay silent.
   */
  firstByteTimeout?: number;
  /**
   * Milliseconds a frame may take from its first byte to its last (default 30 000, on
   * `scheduler`; 0: no deadline); then the connection is destroyed with `FrameTimeoutError` (a
   * `deadline` event): the defence against peers that drip a frame byte by byte, which an idle
   * timeout never catches. It applies where `data$` is read by a framer (`decodeLines()`,
   * `decodeLengthField()`, `decodeFrames(yours)`, ...) as its first operator; time while reading
   * is held by the application does not count.
   */
  frameTimeout?: number;
  /**
   * Byte-rate limits: `readLimit`/`writeLimit` (bytes a second) and `burst` for each connection,
   * and `server` for all of them together (as Netty's channel and global traffic shaping
   * handlers). Reading is paused, never buffered, while a budget is in debt; writes wait in the
   * writer's own queue while `write()` says false. Each connection is emitted as a
   * `ShapedConnection` (see `shapeTraffic`), and every hold is a `throttle` event. On `scheduler`.
   */
  shaping?: TrafficLimits & {
    /** Limits for all the server's connections together, spent from besides each connection's own. */
    readonly server?: TrafficLimits;
  };
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
   * server when the subscription ends. `secureContext$` swaps the certificate (and key, CA) while
   * the server runs: see {@link ListenTlsOptions}.
   */
  tls?: ListenTlsOptions;
  /**
   * Read a PROXY protocol header (v1 or v2, as HAProxy and nginx send it) off each connection
   * before emitting it, as a `ProxiedConnection` reporting the client's address (see
   * `acceptProxyProtocol`). A connection whose header is bad, missing (when `required`, the
   * default) or late (`timeout`) is destroyed with the typed error (a `drop` event, reason
   * `proxy-header`) and never emitted. Give `trusted` (the proxies' addresses): a header is
   * believed only from them, and any other client is refused (`untrusted-proxy`) or, with
   * `untrusted: 'direct'`, served as itself; with no `trusted` list every peer's header is
   * believed, so keep the port unreachable except through the proxy. `allow`, `deny` and the
   * per-address limits judge the header's client address. With `tls` (a balancer passing TLS
   * through, as nginx's `stream` with `proxy_protocol on` does), the header is read in clear and
   * the handshake follows; `tls.handshakeTimeout` bounds both together, `connection` is told at
   * accept (a plain connection), and the TLS connection that takes its place keeps its `id`.
   */
  proxyProtocol?: boolean | AcceptProxyProtocolOptions;
}

/**
 * The default `firstByteTimeout` of `listen`, in ms.
 * @example
 * ```ts
 * import { DEFAULT_FIRST_BYTE_TIMEOUT, listen } from 'rxnet';
 *
 * // Clients on a slow satellite link get twice the default for their first byte.
 * listen({ port: 8107, firstByteTimeout: 2 * DEFAULT_FIRST_BYTE_TIMEOUT }).subscribe();
 * ```
 */
export const DEFAULT_FIRST_BYTE_TIMEOUT = 30_000;

/**
 * The default `frameTimeout` of `listen`, in ms.
 * @example
 * ```ts
 * import { DEFAULT_FRAME_TIMEOUT, listen } from 'rxnet';
 *
 * // Uploads of large frames get four times the default.
 * listen({ port: 8107, frameTimeout: 4 * DEFAULT_FRAME_TIMEOUT }).subscribe();
 * ```
 */
export const DEFAULT_FRAME_TIMEOUT = 30_000;

/** The default `closeTimeout` of `listen`, in ms. */
export const DEFAULT_CLOSE_TIMEOUT = 10_000;

/** The default TLS handshake deadline of `listen`, in ms (Netty's; Node's own is 120 s). */
export const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;

/** `listen`'s options once checked, with their defaults filled in. @internal */
export interface ResolvedListenOptions {
  readonly allowHalfOpen: boolean;
  readonly noDelay: boolean;
  readonly keepAlive: boolean;
  readonly keepAliveInitialDelay: number;
  readonly gracePeriod: number;
  readonly closeTimeout: number;
  readonly scheduler: SchedulerLike;
  /** The TLS handshake deadline in ms; 0 for plain TCP. */
  readonly handshakeTimeout: number;
  /** ms for the first byte; 0: none. */
  readonly firstByteTimeout: number;
  /** ms for a frame from its first byte; 0: none. */
  readonly frameTimeout: number;
  /** The admission rules, when any option asks for them. */
  readonly admission: AdmissionRules | undefined;
  /** The shaping asked for, its limits checked. */
  readonly shaping: (TrafficLimits & { readonly server?: TrafficLimits }) | undefined;
}

/** Checks `options` (throwing InvalidArgumentError for a bad one) and fills in the defaults. @internal */
export function resolveListenOptions(options: ListenOptions): ResolvedListenOptions {
  const { port, path, host, backlog, ipv6Only } = options;
  if (path === undefined) checkInteger('port', port ?? 0, 0, 65535);
  else if (typeof path !== 'string' || path.length === 0) {
    throw new InvalidArgumentError('path', 'expected a non-empty string');
  }
  if (port !== undefined && path !== undefined) {
    throw new InvalidArgumentError('options', 'give either port or path, not both');
  }
  if (host !== undefined && (typeof host !== 'string' || host.length === 0)) {
    throw new InvalidArgumentError('host', `expected a non-empty string, got ${String(host)}`);
  }
  if (backlog !== undefined) checkInteger('backlog', backlog, 0);
  const allowHalfOpen = checkBoolean('allowHalfOpen', options.allowHalfOpen, true);
  const noDelay = checkBoolean('noDelay', options.noDelay, false);
  const keepAlive = checkBoolean('keepAlive', options.keepAlive, false);
  checkBoolean('ipv6Only', ipv6Only, false);
  const keepAliveInitialDelay = checkInteger('keepAliveInitialDelay', options.keepAliveInitialDelay ?? 0, 0);
  checkObserver('listening', options.listening);
  checkObserver('events', options.events);
  const onShutdown = options.onShutdown;
  if (onShutdown !== undefined && typeof onShutdown !== 'function') {
    throw new InvalidArgumentError('onShutdown', `expected a function, got ${typeof onShutdown}`);
  }
  if (options.maxConnections !== undefined) checkInteger('maxConnections', options.maxConnections, 0);
  const gracePeriod = checkInteger('gracePeriod', options.gracePeriod ?? 10_000, 0);
  const closeTimeout = checkInteger('closeTimeout', options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT, 0);
  const scheduler = checkScheduler(options.scheduler, asyncScheduler);
  const tlsOptions = options.tls;
  if (tlsOptions !== undefined && (typeof tlsOptions !== 'object' || tlsOptions === null)) {
    throw new InvalidArgumentError('tls', `expected tls.createServer options, got ${String(tlsOptions)}`);
  }
  const contexts = tlsOptions?.secureContext$;
  if (contexts !== undefined && typeof (contexts as Partial<Observable<unknown>> | null)?.subscribe !== 'function') {
    throw new InvalidArgumentError('tls.secureContext$', `expected an Observable, got ${String(contexts)}`);
  }
  const handshakeTimeout =
    tlsOptions === undefined
      ? 0
      : checkInteger('tls.handshakeTimeout', tlsOptions.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT, 1);
  const firstByteTimeout = checkInteger('firstByteTimeout', options.firstByteTimeout ?? DEFAULT_FIRST_BYTE_TIMEOUT, 0);
  const frameTimeout = checkInteger('frameTimeout', options.frameTimeout ?? DEFAULT_FRAME_TIMEOUT, 0);
  const shaping = options.shaping;
  if (shaping !== undefined) {
    checkOptions(shaping);
    // Made once to check the limits when listen() is called; each subscription makes its own.
    new TrafficShaper({ readLimit: shaping.readLimit, writeLimit: shaping.writeLimit, burst: shaping.burst });
    if (shaping.server !== undefined) new TrafficShaper(shaping.server);
  }
  return {
    shaping,
    firstByteTimeout,
    frameTimeout,
    admission: Admission.rules(options),
    allowHalfOpen,
    noDelay,
    keepAlive,
    keepAliveInitialDelay,
    gracePeriod,
    closeTimeout,
    scheduler,
    handshakeTimeout,
  };
}

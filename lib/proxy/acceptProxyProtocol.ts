// acceptProxyProtocol(): reads a PROXY protocol header off a connection and hands on a view that reports the client's address.
import { Buffer } from 'buffer';
import { Observable, asyncScheduler, finalize, takeWhile } from 'rxjs';
import type { SchedulerLike, Subscription } from 'rxjs';
import { InvalidArgumentError, ProxyProtocolTimeoutError, UntrustedProxyError } from '../errors';
import { inBlockList, toBlockList } from '../admission/addresses';
import type { AddressList } from '../admission/addresses';
import { ProxyProtocolDecoder } from './ProxyProtocolDecoder';
import type { ProxyDecodeResult } from './ProxyProtocolDecoder';
import type { ProxyHeader } from './ProxyHeader';
import type { Connection } from '../types';
import { ConnectionView } from '../core/ConnectionView';
import { ReadGate } from '../util/ReadGate';
import { checkInteger } from '../util/validate';

/**
 * Options of {@link acceptProxyProtocol} and of `listen({ proxyProtocol })`.
 *
 * @example
 * ```ts
 * import { listen, type AcceptProxyProtocolOptions } from 'rxnet';
 *
 * // Behind nginx (`proxy_protocol on;`), also reachable directly from the internal network.
 * const proxyProtocol: AcceptProxyProtocolOptions = { required: false, timeout: 2000, maxHeaderLength: 1024 };
 * listen({ port: 8107, proxyProtocol }).subscribe((conn) => console.log('client', conn.remoteAddress));
 * ```
 */
export interface AcceptProxyProtocolOptions {
  /**
   * A connection must start with a header (default true, as HAProxy's `accept-proxy` and nginx's
   * `listen ... proxy_protocol` do); false also lets direct clients through, as they are.
   */
  readonly required?: boolean;
  /**
   * Milliseconds a connection gets to send its whole header (default 10 000). When required, a
   * late header is a `ProxyProtocolTimeoutError`; when optional, a connection that has sent
   * nothing that looks like a header by then is handed on without one (keep it short where
   * the server speaks first).
   */
  readonly timeout?: number;
  /** Longest v2 header accepted, in bytes (default 4096). */
  readonly maxHeaderLength?: number;
  /** Scheduler of the timeout; `asyncScheduler` by default. */
  readonly scheduler?: SchedulerLike;
  /**
   * The proxies whose headers are believed (addresses or CIDR blocks): a peer elsewhere is
   * refused with `UntrustedProxyError`, or served as itself with `untrusted: 'direct'`. Without
   * it, every peer's header is believed.
   */
  readonly trusted?: AddressList;
  /**
   * With `trusted`, what happens to a peer outside it: `'refuse'` (default) destroys it with
   * `UntrustedProxyError`; `'direct'` hands it on as a view with no header, reporting its own
   * address, its bytes (a PROXY header it sent included) untouched in `data$`.
   */
  readonly untrusted?: 'refuse' | 'direct';
}

/**
 * What a {@link ProxiedConnection} knows about the proxy in front of it.
 *
 * @example
 * ```ts
 * import { EMPTY, catchError, mergeMap } from 'rxjs';
 * import { acceptProxyProtocol, listen, type ProxyInfo } from 'rxnet';
 *
 * const trusted = new Set(['10.0.0.5', '10.0.0.6']);
 * const fromTrustedProxy = (proxy: ProxyInfo) => proxy.header === undefined || trusted.has(proxy.address ?? '');
 * listen({ port: 8107 })
 *   // A bad header destroys its connection and errors its own Observable: caught here, per connection.
 *   .pipe(mergeMap((conn) => acceptProxyProtocol(conn, { required: false }).pipe(catchError(() => EMPTY))))
 *   .subscribe((conn) => {
 *     if (!fromTrustedProxy(conn.proxy)) conn.destroy();
 *   });
 * ```
 */
export interface ProxyInfo {
  /** The decoded header; undefined when none was required and the peer sent none. */
  readonly header: ProxyHeader | undefined;
  /** The TCP peer: the proxy (or the client itself, when it sent no header). */
  readonly address: string | undefined;
  /** The TCP peer's port. */
  readonly port: number | undefined;
  /** The TCP peer's address family, `IPv4` or `IPv6`, as the socket reports it. */
  readonly family: string | undefined;
}

/**
 * A {@link Connection} seen through the PROXY protocol header it started with: `data$` begins
 * right after the header, and `remoteAddress`/`remotePort`/`remoteFamily` are the client's (the
 * header's source), `localAddress`/`localPort` the address the client connected to (its
 * destination), as HAProxy's `accept-proxy` reports them. Where the header carries no
 * addresses (v2 LOCAL, v1 UNKNOWN, AF_UNSPEC, or no header at all), both are the socket's own.
 * `proxy` tells the proxy's address and the header; everything else is the wrapped connection's,
 * `id` and `socket` included (so `bytesRead` counts the header too).
 *
 * @example
 * ```ts
 * import { decodeLines, listen } from 'rxnet';
 *
 * listen({ port: 8107, proxyProtocol: true }).subscribe((conn) => {
 *   // With proxyProtocol, every connection emitted is a ProxiedConnection.
 *   console.log(`${conn.remoteAddress}:${conn.remotePort} -> ${conn.localAddress}:${conn.localPort}`);
 *   conn.data$.pipe(decodeLines()).subscribe((line) => console.log(line.toString()));
 * });
 * ```
 */
export class ProxiedConnection extends ConnectionView {
  /** The proxy's own address (the TCP peer) and the decoded header, if any. */
  readonly proxy: ProxyInfo;
  private rest: Buffer | undefined;
  private readonly dataObservable: Observable<Buffer>;

  /**
   * Views `inner` through the header a {@link ProxyProtocolDecoder} read off it; `acceptProxyProtocol`
   * does this for you.
   *
   * @param inner The connection the header was read from.
   * @param result The decoder's result: its `header`, and its `rest` (the bytes after the header),
   * which the first subscriber of `data$` gets before the connection's own chunks.
   */
  constructor(inner: Connection, result: ProxyDecodeResult) {
    super(inner);
    this.proxy = {
      header: result.header,
      address: inner.remoteAddress,
      port: inner.remotePort,
      family: inner.remoteFamily,
    };
    const rest = result.rest.length > 0 ? result.rest : undefined;
    const gate = inner.data$;
    if (gate instanceof ReadGate) {
      // The bytes after the header go back in front of the connection's own, which keeps early
      // chunks for its first subscriber: one way in for every byte (a framer that leaves part of a
      // frame behind there is seen by the connection; a TLS upgrade takes them whole).
      if (rest !== undefined) gate.unshift(rest);
      this.rest = undefined;
      this.dataObservable = gate;
      return;
    }
    this.rest = rest;
    // Another kind of connection: the bytes after the header go to the view's first subscriber.
    this.dataObservable = new Observable<Buffer>((subscriber) => {
      const rest = this.rest;
      if (rest !== undefined) {
        this.rest = undefined;
        subscriber.next(rest);
      }
      return inner.data$.subscribe(subscriber);
    });
  }

  /** The bytes after the header, then the connection's own chunks; flow control is the connection's. */
  get data$(): Observable<Buffer> {
    return this.dataObservable;
  }

  // Addresses: the header's where it has them, else the socket's.
  override get localAddress(): string | undefined {
    return this.proxy.header?.destination?.address ?? this.inner.localAddress;
  }
  override get localPort(): number | undefined {
    const destination = this.proxy.header?.destination;
    return destination !== undefined ? destination.port : this.inner.localPort;
  }
  override get remoteAddress(): string | undefined {
    return this.proxy.header?.source?.address ?? this.inner.remoteAddress;
  }
  override get remotePort(): number | undefined {
    const source = this.proxy.header?.source;
    return source !== undefined ? source.port : this.inner.remotePort;
  }
  override get remoteFamily(): string | undefined {
    const header = this.proxy.header;
    return header?.source !== undefined ? header.family : this.inner.remoteFamily;
  }
}

/**
 * Reads the PROXY protocol header (v1 or v2, as HAProxy and nginx send it) off the start of a
 * connection, then emits a {@link ProxiedConnection} reporting the client's real address and
 * completes. No byte of the application's stream is lost: what followed the header in the same
 * chunk, and everything after, is the view's `data$`.
 *
 * ```
 * connection.data$:  --"PROXY TCP4 … 443\r\nHEL"--"LO"--|
 * acceptProxyProtocol:  -----------------------(v|)          v.remoteAddress = header source
 * v.data$ (later):                             "HEL"--"LO"--|
 * bad header:        --"PROXY TCP5 …"#                      ProxyProtocolError; connection destroyed
 * ```
 *
 * Reading starts on subscribe and stops once the header is decoded, so the socket stays paused
 * until the view's `data$` is subscribed. Limits: a malformed header (`ProxyProtocolError`), one
 * too long (`ProxyHeaderTooLongError`), a missing one when `required` (`ProxyHeaderMissingError`)
 * or one not complete within `timeout` (`ProxyProtocolTimeoutError`) destroys the connection
 * with that error, and the Observable errors with it. If the connection ends first, a required
 * header is missing or truncated (an error); an optional one yields a view whose `data$` ends.
 * Unsubscribing early stops reading and leaves the connection to its owner.
 *
 * @example
 * ```ts
 * import { EMPTY, catchError, mergeMap } from 'rxjs';
 * import { acceptProxyProtocol, listen } from 'rxnet';
 *
 * listen({ port: 8107 })
 *   // A bad or late header ends its own connection only.
 *   .pipe(mergeMap((conn) => acceptProxyProtocol(conn, { timeout: 5000 }).pipe(catchError(() => EMPTY))))
 *   .subscribe((conn) => console.log('client', conn.remoteAddress, 'via', conn.proxy.address));
 * // listen({ port: 8107, proxyProtocol: true }) does the same for every connection.
 * ```
 */
export function acceptProxyProtocol(
  connection: Connection,
  options: AcceptProxyProtocolOptions = {},
): Observable<ProxiedConnection> {
  const { timeout, scheduler, decoderOptions, trusted } = checkOptions(options);

  return new Observable<ProxiedConnection>((subscriber) => {
    if (trusted !== undefined && !inBlockList(trusted, connection.remoteAddress ?? '')) {
      if (options.untrusted === 'direct') {
        subscriber.next(new ProxiedConnection(connection, { header: undefined, rest: NO_BYTES }));
        subscriber.complete();
      } else {
        const error = new UntrustedProxyError(connection.remoteAddress);
        connection.destroy(error);
        subscriber.error(error);
      }
      return undefined;
    }
    const decoder = new ProxyProtocolDecoder(decoderOptions);
    let decided = false;
    let timer: Subscription | undefined;

    const fail = (error: unknown) => {
      decided = true;
      timer?.unsubscribe();
      decoder.clear();
      connection.destroy(error instanceof Error ? error : undefined);
      subscriber.error(error);
    };
    /** Tries to decide; true once done (either way). */
    const step = (onError: (error: unknown) => unknown = (error) => error): boolean => {
      let result: ProxyDecodeResult | undefined;
      try {
        result = decoder.read();
      } catch (error) {
        fail(onError(error));
        return true;
      }
      if (result === undefined) return false;
      decided = true;
      timer?.unsubscribe();
      found = result;
      deliver();
      return true;
    };
    /** The header's result, handed on once data$ is let go (so that the view can be read, or upgraded to TLS, at once). */
    let found: ProxyDecodeResult | undefined;
    let released = false;
    const deliver = () => {
      const result = found;
      if (result === undefined || !released) return;
      found = undefined;
      subscriber.next(new ProxiedConnection(connection, result));
      subscriber.complete();
    };

    // takeWhile lets go of data$ inside the chunk that completed the header, so the socket
    // pauses at once and later chunks wait for the view's subscriber.
    const reading = connection.data$
      .pipe(
        takeWhile((chunk) => {
          decoder.push(chunk);
          return !step();
        }),
        // Runs once data$ is let go.
        finalize(() => {
          released = true;
          deliver();
        }),
      )
      .subscribe({
        error: (error: unknown) => {
          if (!decided) {
            decided = true;
            timer?.unsubscribe();
            subscriber.error(error);
          }
        },
        complete: () => {
          if (decided) return;
          decoder.end();
          if (!step()) fail(new Error('ProxyProtocolDecoder undecided after end()'));
        },
      });
    if (!decided) {
      timer = scheduler.schedule(() => {
        if (decided) return;
        const received = decoder.length;
        const late = new ProxyProtocolTimeoutError(timeout, received);
        if (options.required ?? true) {
          reading.unsubscribe();
          fail(late);
          return;
        }
        // Optional: what has come so far is not a header; a started header is one too late.
        decoder.end();
        reading.unsubscribe();
        step(() => late);
      }, timeout);
    }
    return () => {
      reading.unsubscribe();
      timer?.unsubscribe();
    };
  });
}

/**
 * Used by `listen({ proxyProtocol })`: checks the option once, and returns what hands each
 * accepted connection on as a {@link ProxiedConnection} once its header was read; a connection
 * with a bad, missing or late header is destroyed with the error (a `disconnect` server event
 * with `hadError`) and never emitted. With `tls`, `handshakeTimeout` bounds the header's wait
 * too: the header and the handshake after it share that deadline.
 * @internal
 */
export function proxyAcceptor(
  option: true | AcceptProxyProtocolOptions,
  handshakeTimeout?: number,
): (
  connection: Connection,
  emit: (connection: ProxiedConnection) => void,
  failed: (connection: Connection, error: unknown) => void,
) => void {
  const given = option === true ? {} : option;
  // Checks the options when listen() is called, not at the first connection.
  const { timeout } = checkOptions(given);
  const options =
    handshakeTimeout !== undefined && timeout > handshakeTimeout ? { ...given, timeout: handshakeTimeout } : given;
  return (connection, emit, failed) => {
    acceptProxyProtocol(connection, options).subscribe({ next: emit, error: (error) => failed(connection, error) });
  };
}

/** Checks the options when the adapter is created (the decoder checks its own), not on subscribe. */
function checkOptions(options: AcceptProxyProtocolOptions) {
  const timeout = checkInteger('timeout', options.timeout ?? 10_000, 0);
  const scheduler = options.scheduler ?? asyncScheduler;
  const decoderOptions = { required: options.required, maxHeaderLength: options.maxHeaderLength };
  new ProxyProtocolDecoder(decoderOptions);
  const trusted = options.trusted === undefined ? undefined : toBlockList('trusted', options.trusted);
  const untrusted = options.untrusted;
  if (untrusted !== undefined && untrusted !== 'refuse' && untrusted !== 'direct') {
    throw new InvalidArgumentError('untrusted', `expected 'refuse' or 'direct', got ${String(untrusted)}`);
  }
  return { timeout, scheduler, decoderOptions, trusted };
}

const NO_BYTES = Buffer.alloc(0);

/** @deprecated The former name of {@link AcceptProxyProtocolOptions}, kept so that code written for 0.1 compiles. */
export type ProxyProtocolOptions = AcceptProxyProtocolOptions;

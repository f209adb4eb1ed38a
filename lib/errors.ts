// Named error classes with stable codes and the numbers that caused them.

/**
 * Base class of every error rxnet raises itself; `code` is stable across versions, so test it
 * (or `instanceof`) rather than the message.
 *
 * @example
 * ```ts
 * import { catchError, EMPTY } from 'rxjs';
 * import { RxnetError, decodeLines, type Connection } from 'rxnet';
 *
 * declare const conn: Connection;
 * conn.data$
 *   .pipe(
 *     decodeLines(),
 *     catchError((error) => {
 *       if (error instanceof RxnetError) console.warn(`connection ${conn.id}: ${error.code}`);
 *       return EMPTY;
 *     }),
 *   )
 *   .subscribe();
 * ```
 */
export class RxnetError extends Error {
  /** Machine-readable, fixed per subclass and stable across versions: `ERR_FRAME_TOO_LONG`, `ERR_IDLE_TIMEOUT`, ... */
  readonly code: string;

  /**
   * Sets `name` to the subclass's name.
   *
   * @param code The stable code, `ERR_` and upper case.
   * @param message The text, with the numbers that caused the error.
   */
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * A write was attempted after `end()` or `destroy()` on that connection, or after it closed:
 * thrown synchronously by `write()`. Code `ERR_WRITE_AFTER_END`.
 *
 * @example
 * ```ts
 * import { WriteAfterEndError, type Connection } from 'rxnet';
 *
 * declare const conn: Connection;
 * try {
 *   conn.write('late\n');
 * } catch (error) {
 *   if (!(error instanceof WriteAfterEndError)) throw error;
 *   console.warn(`connection ${error.connectionId} was already ended`);
 * }
 * ```
 */
export class WriteAfterEndError extends RxnetError {
  /** Raised by the `write()` of the connection with this id. */
  constructor(
    /** The `id` of the connection that was written to. */
    readonly connectionId: number,
  ) {
    super('ERR_WRITE_AFTER_END', `write after end on connection ${connectionId}`);
  }
}

/**
 * The connection closed before an `end()` had flushed what was written: `end()`'s callback gets
 * this error (or the error that closed the connection). A `sendTo` sink does not raise it: it
 * completes and counts what it could not write as `unsent`. Code `ERR_CONNECTION_CLOSED`.
 *
 * @example
 * ```ts
 * import { ConnectionClosedError, type Connection } from 'rxnet';
 *
 * declare const conn: Connection;
 * conn.end('bye\n', (error) => {
 *   if (error instanceof ConnectionClosedError) console.warn(`${error.unwritten} byte(s) never left`);
 * });
 * ```
 */
export class ConnectionClosedError extends RxnetError {
  /** Raised for the connection with this id, with `unwritten` left behind. */
  constructor(
    /** The `id` of the connection that closed. */
    readonly connectionId: number,
    /** What was left: the bytes the connection still held (0 when it had already closed). */
    readonly unwritten: number,
  ) {
    super('ERR_CONNECTION_CLOSED', `connection ${connectionId} closed with ${unwritten} byte(s) not yet flushed`);
  }
}

/**
 * `connect()` did not establish the connection (TCP connect, and for TLS the handshake too)
 * within its `timeout`; the socket was destroyed. Code `ERR_CONNECT_TIMEOUT`.
 *
 * @example
 * ```ts
 * import { retry, throwError } from 'rxjs';
 * import { ConnectTimeoutError, backoff, connect } from 'rxnet';
 *
 * // Retry timeouts only; any other connect error fails at once.
 * const delay = backoff({ maxRetries: 5 });
 * connect({ host: '192.0.2.1', port: 8107, timeout: 2000 })
 *   .pipe(retry({ delay: (error, n) => (error instanceof ConnectTimeoutError ? delay(error, n) : throwError(() => error)) }))
 *   .subscribe((conn) => console.log('connected', conn.remoteAddress));
 * ```
 */
export class ConnectTimeoutError extends RxnetError {
  /** Raised after `timeout` ms without a connection to `address`. */
  constructor(
    /** The `timeout` option that ran out, in ms. */
    readonly timeout: number,
    /** Where the connection went: `host:port` (host `localhost` when none was given), or the unix socket path. */
    readonly address: string,
  ) {
    super('ERR_CONNECT_TIMEOUT', `connect to ${address} timed out after ${timeout} ms`);
  }
}

/**
 * A `sendTo` sink's queue already held `highWaterMark` values (or the next value would take it
 * past `highWaterMarkBytes`) while the connection was not writable, and the overflow policy is
 * `'error'`. A sink with `pauseSource` raises it only under limits given to it (it has none by
 * default). Code `ERR_QUEUE_OVERFLOW`.
 *
 * @example
 * ```ts
 * import { QueueOverflowError, sendTo, type Connection } from 'rxnet';
 * import type { Observable } from 'rxjs';
 *
 * declare const conn: Connection;
 * declare const updates$: Observable<string>;
 * updates$.pipe(sendTo(conn, { highWaterMark: 100, overflow: 'error' })).subscribe({
 *   error: (error) => {
 *     if (error instanceof QueueOverflowError) conn.destroy(error); // a reader that cannot keep up
 *   },
 * });
 * ```
 */
export class QueueOverflowError extends RxnetError {
  /** Raised when a queue of `highWaterMark` values (or `highWaterMarkBytes` bytes) overflowed. */
  constructor(
    /** The sink's `highWaterMark`: the most values its queue may hold. */
    readonly highWaterMark: number,
    /** The sink's `highWaterMarkBytes`: the most bytes its queue may hold. */
    readonly highWaterMarkBytes: number = Infinity,
    /** Values waiting when the new one arrived. */
    readonly queued: number = highWaterMark,
    /** Bytes waiting when the new one arrived. */
    readonly queuedBytes: number = 0,
  ) {
    super(
      'ERR_QUEUE_OVERFLOW',
      queued >= highWaterMark
        ? `sink queue overflow: more than ${highWaterMark} value(s) waiting for drain`
        : `sink queue overflow: more than ${highWaterMarkBytes} byte(s) waiting for drain (${queuedBytes} in ${queued} value(s))`,
    );
  }
}

/**
 * An argument given to an rxnet function, constructor or setter is out of range or of the wrong
 * kind: thrown synchronously by the call that received it, so an operator or Observable with a
 * bad option fails where it is created, not when subscribed (`Hub.join` of a connection that is
 * already a member is the one error notification). Code `ERR_INVALID_ARGUMENT`.
 *
 * @example
 * ```ts
 * import { InvalidArgumentError, decodeLines } from 'rxnet';
 *
 * try {
 *   decodeLines({ maxLength: -1 });
 * } catch (error) {
 *   if (error instanceof InvalidArgumentError) console.error(error.argument, error.message); // maxLength ...
 * }
 * ```
 */
export class InvalidArgumentError extends RxnetError {
  /**
   * Raised for the argument or option `argument`.
   *
   * @param argument The name of the argument or option.
   * @param detail What was expected and what was given, for the message.
   */
  constructor(
    /** The name of the offending argument or option, e.g. `maxLength`, `port`, `highWaterMark`. */
    readonly argument: string,
    detail: string,
  ) {
    super('ERR_INVALID_ARGUMENT', `invalid ${argument}: ${detail}`);
  }
}

/**
 * A frame is longer than its limit. Decoders raise it as soon as they know, before the body is
 * buffered; encoders raise it for a value too long to frame. Code `ERR_FRAME_TOO_LONG`.
 *
 * @example
 * ```ts
 * import { catchError, EMPTY } from 'rxjs';
 * import { FrameTooLongError, decodeLines, listen, serveEach } from 'rxnet';
 *
 * listen({ port: 3000 })
 *   .pipe(
 *     serveEach((conn) =>
 *       conn.data$.pipe(
 *         decodeLines({ maxLength: 1024 }),
 *         catchError((error) => {
 *           if (!(error instanceof FrameTooLongError)) throw error;
 *           conn.end(`line longer than ${error.limit} bytes\n`); // this client only; the server goes on
 *           return EMPTY;
 *         }),
 *       ),
 *     ),
 *   )
 *   .subscribe();
 * ```
 */
export class FrameTooLongError extends RxnetError {
  /** Raised for a frame of (at least) `length` bytes against a limit of `limit`. */
  constructor(
    /** The limit that was exceeded, in bytes (`maxLength`, `maxFrameLength` or a fixed length). */
    readonly limit: number,
    /**
     * The frame's length in bytes as far as it is known: the announced length for a length
     * field, the bytes held without a delimiter so far for delimited and line framing, the
     * value's length for an encoder.
     */
    readonly length: number,
  ) {
    super('ERR_FRAME_TOO_LONG', `frame of ${length} byte(s) exceeds the limit of ${limit}`);
  }
}

/**
 * A length field announced a length that cannot be right: negative (8-byte fields), shorter
 * than the header that carries it, or shorter than `initialBytesToStrip`. Code `ERR_CORRUPTED_FRAME`.
 *
 * @example
 * ```ts
 * import { CorruptedFrameError, decodeLengthField, type Connection } from 'rxnet';
 *
 * declare const conn: Connection;
 * conn.data$.pipe(decodeLengthField({ lengthFieldLength: 4, lengthAdjustment: -4, maxFrameLength: 65536 })).subscribe({
 *   error: (error) => {
 *     if (error instanceof CorruptedFrameError) conn.destroy(error); // out of sync: nothing after it can be trusted
 *   },
 * });
 * ```
 */
export class CorruptedFrameError extends RxnetError {
  /**
   * Raised for a frame length that breaks the rule `reason` states.
   *
   * @param length The length that does not fit.
   * @param reason Which rule it breaks, for the message.
   */
  constructor(
    /** The frame length that cannot be right, in bytes: after `lengthAdjustment` and the header are added (may be negative). */
    readonly length: number,
    reason: string,
  ) {
    super('ERR_CORRUPTED_FRAME', `corrupted frame: ${reason} (length ${length})`);
  }
}

/**
 * The source completed in the middle of a frame and the decoder's `truncation` is `'error'`.
 * Code `ERR_TRUNCATED_FRAME`.
 *
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * import { TruncatedFrameError, decodeFixedLength } from 'rxnet';
 *
 * of(Buffer.from('abcdef')) // 6 bytes: one 4-byte frame and 2 left over
 *   .pipe(decodeFixedLength(4))
 *   .subscribe({ error: (error) => error instanceof TruncatedFrameError && console.log(error.buffered) }); // 2
 * ```
 */
export class TruncatedFrameError extends RxnetError {
  /** Raised when `buffered` bytes of an unfinished frame are left at the end of the stream. */
  constructor(
    /** The bytes of the unfinished frame held when the source completed. */
    readonly buffered: number,
  ) {
    super('ERR_TRUNCATED_FRAME', `stream ended inside a frame with ${buffered} byte(s) buffered`);
  }
}

/**
 * The TLS handshake of `connect({ tls })` failed after the TCP connection was made (e.g. the
 * server's certificate is not signed by a trusted CA). Code `ERR_TLS_HANDSHAKE`.
 *
 * @example
 * ```ts
 * import { TlsHandshakeError, connect } from 'rxnet';
 *
 * connect({ host: 'example.com', port: 443, tls: {} }).subscribe({
 *   error: (error) => {
 *     if (error instanceof TlsHandshakeError) console.error('TLS:', error.reason, error.cause.message);
 *   },
 * });
 * ```
 */
export class TlsHandshakeError extends RxnetError {
  /** Raised with OpenSSL's or Node's code as `reason` and the original error as `cause`. */
  constructor(
    /** OpenSSL's or Node's code for the failure (`DEPTH_ZERO_SELF_SIGNED_CERT`, `ERR_SSL_...`), or `UNKNOWN`. */
    readonly reason: string,
    /** The socket error Node raised, kept whole. */
    override readonly cause: Error,
  ) {
    super('ERR_TLS_HANDSHAKE', `TLS handshake failed: ${reason} (${cause.message})`);
  }
}

/**
 * A hub member's queue was full under the `'disconnect'` policy; its connection is destroyed with
 * this error, which the `disconnected-slow` and `leave` events carry. Code `ERR_SLOW_MEMBER`.
 *
 * @example
 * ```ts
 * import { Hub, SlowMemberError } from 'rxnet';
 *
 * declare const hub: Hub<string>;
 * hub.events$.subscribe((e) => {
 *   if (e.type === 'leave' && e.error instanceof SlowMemberError) {
 *     console.warn(`member ${e.error.memberId} had ${e.error.highWaterMark} messages waiting`);
 *   }
 * });
 * ```
 */
export class SlowMemberError extends RxnetError {
  /** Raised for the member `memberId` of a hub whose `highWaterMark` (or `highWaterMarkBytes`) it reached. */
  constructor(
    /** The member's id: its connection's `id`. */
    readonly memberId: number,
    /** The hub's `highWaterMark`: the most messages that may wait for a member. */
    readonly highWaterMark: number,
    /** The hub's `highWaterMarkBytes`: the most bytes that may wait for a member. */
    readonly highWaterMarkBytes: number = Infinity,
    /** Messages that were waiting for the member. */
    readonly queued: number = highWaterMark,
    /** Bytes that were waiting for the member. */
    readonly queuedBytes: number = 0,
  ) {
    super(
      'ERR_SLOW_MEMBER',
      queued >= highWaterMark
        ? `member ${memberId} fell more than ${highWaterMark} message(s) behind`
        : `member ${memberId} fell more than ${highWaterMarkBytes} byte(s) behind (${queuedBytes} in ${queued} message(s))`,
    );
  }
}

/** Error codes of failures caused by the peer or the network, not by the application. */
const PEER_FAILURE_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'ENETRESET',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENOTCONN',
  'EPROTO',
]);

/**
 * True for an error that a connection's peer or the network caused: a reset (`ECONNRESET`), a
 * broken pipe (`EPIPE`), a keep-alive or retransmission timeout (`ETIMEDOUT`), an unreachable
 * host or network, or a TLS record the peer spoiled (`ERR_SSL_...`). A sink ends quietly on
 * such a failure of its connection (see `sendTo`): the peer is gone, and the server goes on.
 * Errors the application raises (a framer's `FrameTooLongError`, `destroy(error)`) are not.
 *
 * @example
 * ```ts
 * import { isPeerFailure, type Connection } from 'rxnet';
 *
 * declare const conn: Connection;
 * conn.events$.subscribe((e) => {
 *   if (e.type === 'close' && conn.closeReason !== undefined) {
 *     console.log(isPeerFailure(conn.closeReason) ? 'the peer went away' : 'we ended it', conn.closeReason);
 *   }
 * });
 * ```
 */
export function isPeerFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (PEER_FAILURE_CODES.has(code) || code.startsWith('ERR_SSL_'));
}

/**
 * An NDJSON line is not valid JSON: raised by `decodeNdjson` under its default `malformed:
 * 'error'`, or handed to a `malformed` callback. Code `ERR_NDJSON_PARSE`.
 *
 * @example
 * ```ts
 * import { decodeNdjson, type Connection } from 'rxnet';
 *
 * declare const conn: Connection;
 * conn.data$
 *   .pipe(decodeNdjson({ malformed: (error) => console.warn(`line ${error.lineNumber}: ${error.reason}`) }))
 *   .subscribe((value) => console.log(value));
 * ```
 */
export class NdjsonParseError extends RxnetError {
  /** Raised for the line numbered `lineNumber`, with `JSON.parse`'s message as `reason`. */
  constructor(
    /** The line that failed, counted from 1, blank lines included. */
    readonly lineNumber: number,
    /** `JSON.parse`'s message for that line. */
    readonly reason: string,
  ) {
    super('ERR_NDJSON_PARSE', `malformed JSON on line ${lineNumber}: ${reason}`);
  }
}

/**
 * An encoder was given a value it cannot encode without breaking the framing or the layout:
 * a line with `\n` in it, a frame containing its delimiter, a number out of its field's range,
 * a value JSON cannot represent, a PROXY header v1 cannot express, ... Code `ERR_ENCODE`.
 *
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * import { EncodeError, encodeLines } from 'rxnet';
 *
 * of('one', 'two\nthree')
 *   .pipe(encodeLines())
 *   .subscribe({ error: (error) => error instanceof EncodeError && console.error(error.reason) });
 * ```
 */
export class EncodeError extends RxnetError {
  /** Raised with `reason` saying what in the value cannot be encoded. */
  constructor(
    /** What in the value cannot be encoded, and where (field name, byte offset). */
    readonly reason: string,
  ) {
    super('ERR_ENCODE', `cannot encode: ${reason}`);
  }
}

/**
 * Nothing arrived for `ms` milliseconds: raised by `idleTimeout(ms)` under its default
 * `onIdle: 'error'`. Code `ERR_IDLE_TIMEOUT`.
 *
 * @example
 * ```ts
 * import { IdleTimeoutError, idleTimeout, type Connection } from 'rxnet';
 *
 * declare const conn: Connection;
 * conn.data$.pipe(idleTimeout(30_000)).subscribe({
 *   error: (error) => {
 *     if (error instanceof IdleTimeoutError) conn.end(`idle for ${error.ms / 1000} s, bye\n`);
 *   },
 * });
 * ```
 */
export class IdleTimeoutError extends RxnetError {
  /** Raised after `ms` milliseconds of silence. */
  constructor(
    /** The silence allowed, in ms: the `ms` given to `idleTimeout`. */
    readonly ms: number,
  ) {
    super('ERR_IDLE_TIMEOUT', `idle for ${ms} ms`);
  }
}

// scale out: the PROXY protocol

/**
 * A PROXY protocol header (v1 text or v2 binary) is malformed: a bad field, an unknown
 * command, family or protocol, an address that does not parse, a TLV that overruns the header,
 * or a stream that ended inside the header. Code `ERR_PROXY_PROTOCOL`.
 *
 * @example
 * ```ts
 * import { ProxyProtocolDecoder, ProxyProtocolError } from 'rxnet';
 *
 * const decoder = new ProxyProtocolDecoder();
 * decoder.push(Buffer.from('PROXY TCP4 192.0.2.7 not-an-address 56324 443\r\n'));
 * try {
 *   decoder.read();
 * } catch (error) {
 *   if (error instanceof ProxyProtocolError) console.error(`v${error.version}: ${error.reason}`);
 * }
 * ```
 */
export class ProxyProtocolError extends RxnetError {
  /** Raised for a version `version` header, with `reason` saying what is wrong. */
  constructor(
    /** The header's version, 1 (text) or 2 (binary), known from its signature. */
    readonly version: 1 | 2,
    /** What is wrong with the header, with the offending value. */
    readonly reason: string,
  ) {
    super('ERR_PROXY_PROTOCOL', `malformed PROXY protocol v${version} header: ${reason}`);
  }
}

/**
 * A PROXY protocol header was required but the connection did not start with the v1
 * (`PROXY `) or v2 signature. Code `ERR_PROXY_HEADER_MISSING`.
 *
 * @example
 * ```ts
 * import { ProxyHeaderMissingError, ProxyProtocolDecoder } from 'rxnet';
 *
 * const decoder = new ProxyProtocolDecoder({ required: true });
 * decoder.push(Buffer.from('GET / HTTP/1.1\r\n'));
 * try {
 *   decoder.read();
 * } catch (error) {
 *   if (error instanceof ProxyHeaderMissingError) console.error(error.received); // '47': 'G' fits no signature
 * }
 * ```
 */
export class ProxyHeaderMissingError extends RxnetError {
  /** Raised with the bytes examined, in hex. */
  constructor(
    /**
     * The bytes examined, in lower-case hex without separators: those up to and including the
     * first that fits no signature, at most 16; empty when the stream ended before any byte.
     */
    readonly received: string,
  ) {
    super('ERR_PROXY_HEADER_MISSING', `no PROXY protocol header: connection starts with 0x${received || '(nothing)'}`);
  }
}

/**
 * A PROXY protocol header is longer than allowed: a v1 line has no CRLF within its first
 * 107 bytes, or a v2 header announces more than `maxHeaderLength` bytes (checked before its body
 * is buffered). Code `ERR_PROXY_HEADER_TOO_LONG`.
 *
 * @example
 * ```ts
 * import { ProxyHeaderTooLongError, acceptProxyProtocol, type Connection } from 'rxnet';
 *
 * declare const conn: Connection;
 * acceptProxyProtocol(conn, { maxHeaderLength: 512 }).subscribe({
 *   error: (error) => {
 *     if (error instanceof ProxyHeaderTooLongError) console.warn(`${error.length} > ${error.limit} bytes`);
 *   },
 * });
 * ```
 */
export class ProxyHeaderTooLongError extends RxnetError {
  /** Raised for a version `version` header of `length` bytes against `limit`. */
  constructor(
    /** The header's version: 1 (text line) or 2 (binary). */
    readonly version: 1 | 2,
    /** The limit in bytes: 107 for v1, CRLF included; `maxHeaderLength` for v2. */
    readonly limit: number,
    /** The header's length in bytes: the announced length (16 + the length field) for v2; 108 for v1, the least a line without CRLF in 107 bytes can be. */
    readonly length: number,
  ) {
    super(
      'ERR_PROXY_HEADER_TOO_LONG',
      `PROXY protocol v${version} header of ${length} byte(s) exceeds the limit of ${limit}`,
    );
  }
}

/**
 * No complete PROXY protocol header arrived within the `timeout` of `acceptProxyProtocol` (or
 * of `listen({ proxyProtocol })`) while one was required, or while an optional one had begun;
 * the connection is destroyed with it. Code `ERR_PROXY_PROTOCOL_TIMEOUT`.
 *
 * @example
 * ```ts
 * import { ProxyProtocolTimeoutError, acceptProxyProtocol, type Connection } from 'rxnet';
 *
 * declare const conn: Connection;
 * acceptProxyProtocol(conn, { timeout: 3000 }).subscribe({
 *   error: (error) => {
 *     if (error instanceof ProxyProtocolTimeoutError) console.warn(`only ${error.received} bytes in ${error.timeout} ms`);
 *   },
 * });
 * ```
 */
export class ProxyProtocolTimeoutError extends RxnetError {
  /** Raised after `timeout` ms with `received` bytes held. */
  constructor(
    /** The time allowed for the whole header, in ms. */
    readonly timeout: number,
    /** The bytes received (and held) by then. */
    readonly received: number,
  ) {
    super(
      'ERR_PROXY_PROTOCOL_TIMEOUT',
      `no complete PROXY protocol header within ${timeout} ms (${received} byte(s) received)`,
    );
  }
}

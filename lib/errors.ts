// Named error classes with stable codes and the numbers that caused them.

/**
 * Base class of every error rxnet raises itself: test its `code`, stable across versions, rather than the message.
 * @example
 * ```ts
 * import { RxnetError, decodeLines, type Connection } from 'rxnet';
 *
 * declare const conn: Connection;
 * conn.data$.pipe(decodeLines()).subscribe({ error: (e) => e instanceof RxnetError && console.warn(e.code) });
 * ```
 */
export class RxnetError extends Error {
  /** Machine-readable, fixed per subclass and stable across versions: `ERR_FRAME_TOO_LONG`, `ERR_IDLE_TIMEOUT`, ... */
  readonly code: string;
  /** Sets `code` (`ERR_` and upper case), the `message` with its numbers, and `name` to the subclass's name. */
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * A write after `end()` or `destroy()` on that connection, or after it closed: thrown
 * synchronously by `write()`. Code `ERR_WRITE_AFTER_END`.
 * @example
 * ```ts
 * import type { Connection } from 'rxnet';
 *
 * declare const conn: Connection;
 * conn.end();
 * conn.write('late\n'); // throws WriteAfterEndError, its connectionId conn.id
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
 * The connection closed before `end()` had flushed what was written: `end()`'s callback gets it
 * (a `sendTo` sink completes instead, counting what it could not write as `unsent`). Code `ERR_CONNECTION_CLOSED`.
 * @example
 * ```ts
 * import { ConnectionClosedError, type Connection } from 'rxnet';
 *
 * declare const conn: Connection;
 * conn.end('bye\n', (error) => error instanceof ConnectionClosedError && console.warn(`${error.unwritten} B unsent`));
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
 * `connect()` did not connect (TCP, and TLS's handshake) within its `timeout`; the socket was destroyed.
 * Code `ERR_CONNECT_TIMEOUT`.
 * @example
 * ```ts
 * import { ConnectTimeoutError, connect } from 'rxnet';
 *
 * connect({ host: '192.0.2.1', port: 8107, timeout: 2000 }).subscribe({
 *   error: (error) => error instanceof ConnectTimeoutError && console.warn(`${error.address}: ${error.timeout} ms`),
 * });
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
 * A bounded queue was given one value more than it may hold; `queue` says which: a `sendTo` sink under
 * `overflow: 'error'` while the connection was not writable (with `pauseSource`, only under limits given), a
 * requester's `maxQueued`, a reconnecting client's outbox, `limitRate`'s `highWaterMark`, `sendDatagrams`' sends in
 * flight or its `maxQueued`. Code `ERR_QUEUE_OVERFLOW`.
 * @example
 * ```ts
 * import { interval, map } from 'rxjs';
 * import { QueueOverflowError, sendTo, type Connection } from 'rxnet';
 *
 * declare const conn: Connection;
 * interval(1).pipe(map(String), sendTo(conn, { highWaterMark: 100, overflow: 'error' })).subscribe({
 *   error: (error) => error instanceof QueueOverflowError && conn.destroy(error), // a reader that cannot keep up
 * });
 * ```
 */
export class QueueOverflowError extends RxnetError {
  /** Raised when a queue of `highWaterMark` values (or `highWaterMarkBytes` bytes) overflowed. */
  constructor(
    /** The queue's bound in values: the most it may hold. */
    readonly highWaterMark: number,
    /** The queue's bound in bytes: the most it may hold. */
    readonly highWaterMarkBytes: number = Infinity,
    /** Values waiting when the new one arrived. */
    readonly queued: number = highWaterMark,
    /** Bytes waiting when the new one arrived. */
    readonly queuedBytes: number = 0,
    /** Which queue: `'sink queue'` (sendTo, the default), `'request queue'`, `'outbox'`, `'rate limit queue'`, `'send window'`, `'datagram queue'`. */
    readonly queue: string = 'sink queue',
    /** What its values wait for: `'drain'` (the default), `'room in flight'`, `'a connection'`, `'tokens'`, `'send callbacks'`. */
    readonly waitingFor: string = 'drain',
  ) {
    super(
      'ERR_QUEUE_OVERFLOW',
      queued >= highWaterMark
        ? `${queue} overflow: more than ${highWaterMark} value(s) waiting for ${waitingFor}`
        : `${queue} overflow: more than ${highWaterMarkBytes} byte(s) waiting for ${waitingFor} (${queuedBytes} in ${queued} value(s))`,
    );
  }
}

/**
 * An argument is out of range or of the wrong kind: thrown by the call that received it, so an operator fails where
 * it is created, not when subscribed (`Hub.join` of a member is an error notification). Code `ERR_INVALID_ARGUMENT`.
 * @example
 * ```ts
 * import { decodeLines } from 'rxnet';
 *
 * decodeLines({ maxLength: -1 }); // throws InvalidArgumentError, its argument 'maxLength'
 * ```
 */
export class InvalidArgumentError extends RxnetError {
  /** Raised for the argument or option `argument`, with `detail` (what was expected, what was given) in the message. */
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
 * @example
 * ```ts
 * import { FrameTooLongError, decodeLines, type Connection } from 'rxnet';
 *
 * declare const conn: Connection;
 * conn.data$.pipe(decodeLines({ maxLength: 1024 })).subscribe({
 *   error: (error) => error instanceof FrameTooLongError && conn.end(`line longer than ${error.limit} bytes\n`),
 * });
 * ```
 */
export class FrameTooLongError extends RxnetError {
  /** Raised for a frame of (at least) `length` bytes against a limit of `limit`. */
  constructor(
    /** The limit that was exceeded, in bytes (`maxLength`, `maxFrameLength` or a fixed length). */
    readonly limit: number,
    /** The frame's length as far as known: announced (length field), held with no delimiter yet, or the value's. */
    readonly length: number,
  ) {
    super('ERR_FRAME_TOO_LONG', `frame of ${length} byte(s) exceeds the limit of ${limit}`);
  }
}

/**
 * A length field announced an impossible length: negative (8-byte fields), shorter than its
 * header or than `initialBytesToStrip`. Code `ERR_CORRUPTED_FRAME`.
 * @example
 * ```ts
 * import { CorruptedFrameError, decodeLengthField, type Connection } from 'rxnet';
 *
 * declare const conn: Connection;
 * conn.data$.pipe(decodeLengthField({ lengthFieldLength: 4, lengthAdjustment: -4, maxFrameLength: 65536 })).subscribe({
 *   error: (error) => error instanceof CorruptedFrameError && conn.destroy(error), // nothing after it can be trusted
 * });
 * ```
 */
export class CorruptedFrameError extends RxnetError {
  /** Raised for a frame `length` that breaks the rule `reason` states (for the message). */
  constructor(
    /** The frame length that cannot be right, in bytes: after `lengthAdjustment` and the header are added (may be negative). */
    readonly length: number,
    reason: string,
  ) {
    super('ERR_CORRUPTED_FRAME', `corrupted frame: ${reason} (length ${length})`);
  }
}

/**
 * The source completed inside a frame and the decoder's `truncation` is `'error'`. Code `ERR_TRUNCATED_FRAME`.
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * import { TruncatedFrameError, decodeFixedLength } from 'rxnet';
 *
 * of(Buffer.from('abcdef')) // one 4-byte frame and 2 bytes left over
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
 * The TLS handshake of `connect({ tls })` or `upgradeTls` failed (e.g. an untrusted certificate), or did not
 * finish within its `handshakeTimeout` (`reason` `ERR_TLS_HANDSHAKE_TIMEOUT`). Code `ERR_TLS_HANDSHAKE`.
 * @example
 * ```ts
 * import { TlsHandshakeError, connect } from 'rxnet';
 *
 * connect({ host: 'example.com', port: 443, tls: {} }).subscribe({
 *   error: (error) => error instanceof TlsHandshakeError && console.error('TLS:', error.reason, error.cause.message),
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
 * `upgradeTls` refused a connection: TLS cannot start on it now. `reason` says why: `'reading'`
 * (its `data$` is still subscribed: stop reading the plain stream first), `'buffered'` (a framer
 * let go of it holding part of a frame, bytes sent before the switch that nobody read: refused
 * rather than lost or fed to TLS), `'closed'` (it closed, or either side ended), or
 * `'unsupported'` (not a socket connection, nor a PROXY view of one, or already TLS). The
 * connection is left as it was. Code `ERR_TLS_UPGRADE`.
 * @example
 * ```ts
 * import { TlsUpgradeError, upgradeTls, type Connection } from 'rxnet';
 *
 * declare const conn: Connection;
 * upgradeTls(conn, { isServer: true, key: '...', cert: '...' }).subscribe({
 *   error: (error) => error instanceof TlsUpgradeError && error.reason === 'buffered' && conn.destroy(),
 * });
 * ```
 */
export class TlsUpgradeError extends RxnetError {
  /** Raised for the connection with this id, for `reason`. */
  constructor(
    /** The `id` of the connection that was to be upgraded. */
    readonly connectionId: number,
    /** Why it was refused. */
    readonly reason: 'reading' | 'buffered' | 'closed' | 'unsupported',
  ) {
    super('ERR_TLS_UPGRADE', `connection ${connectionId} cannot start TLS: ${TLS_UPGRADE_REFUSALS[reason]}`);
  }
}

const TLS_UPGRADE_REFUSALS = {
  reading: 'its data$ is still read',
  buffered: 'bytes received before the switch were left unread',
  closed: 'it has closed or ended',
  unsupported: 'not a plain socket connection',
};

/**
 * A hub member's queue was full under the `'disconnect'` policy; its connection is destroyed with
 * this error, which the `disconnected-slow` and `leave` events carry. Code `ERR_SLOW_MEMBER`.
 * @example
 * ```ts
 * import { Hub, SlowMemberError } from 'rxnet';
 *
 * declare const hub: Hub<string>;
 * hub.events$.subscribe((e) => e.type === 'leave' && e.error instanceof SlowMemberError && console.warn(e.error.memberId));
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

/**
 * An NDJSON line is not valid JSON (raised by `decodeNdjson`, or handed to `malformed`). Code `ERR_NDJSON_PARSE`.
 * @example
 * ```ts
 * import { decodeNdjson, type Connection } from 'rxnet';
 *
 * declare const conn: Connection;
 * conn.data$.pipe(decodeNdjson({ malformed: (e) => console.warn(`line ${e.lineNumber}: ${e.reason}`) })).subscribe();
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
 * Nothing arrived for `ms` milliseconds: raised by `idleTimeout(ms)` under `onIdle: 'error'`. Code `ERR_IDLE_TIMEOUT`.
 * @example
 * ```ts
 * import { IdleTimeoutError, idleTimeout, type Connection } from 'rxnet';
 *
 * declare const conn: Connection;
 * conn.data$.pipe(idleTimeout(30_000)).subscribe({ error: (e) => e instanceof IdleTimeoutError && conn.end('bye\n') });
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

/**
 * A PROXY protocol header (v1 or v2) is malformed: a bad field, an unknown command, family or
 * protocol, a bad address, a TLV overrunning the header, an end inside it. Code `ERR_PROXY_PROTOCOL`.
 * @example
 * ```ts
 * import { ProxyProtocolError, acceptProxyProtocol, type Connection } from 'rxnet';
 *
 * declare const conn: Connection;
 * acceptProxyProtocol(conn).subscribe({
 *   error: (error) => error instanceof ProxyProtocolError && console.error(`v${error.version}: ${error.reason}`),
 * });
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
 * A required PROXY protocol header is missing: the connection starts with neither signature.
 * Code `ERR_PROXY_HEADER_MISSING`.
 * @example
 * ```ts
 * import { ProxyHeaderMissingError, acceptProxyProtocol, type Connection } from 'rxnet';
 *
 * declare const conn: Connection;
 * acceptProxyProtocol(conn, { required: true }).subscribe({
 *   error: (error) => error instanceof ProxyHeaderMissingError && console.error(error.received), // '47' for 'GET /'
 * });
 * ```
 */
export class ProxyHeaderMissingError extends RxnetError {
  /** Raised with the bytes examined, in hex. */
  constructor(
    /** The bytes examined, in lower-case hex: up to the first fitting no signature, at most 16; empty if none. */
    readonly received: string,
  ) {
    super('ERR_PROXY_HEADER_MISSING', `no PROXY protocol header: connection starts with 0x${received || '(nothing)'}`);
  }
}

/**
 * A PROXY protocol header is too long: a v1 line without CRLF in 107 bytes, or a v2 header announcing
 * more than `maxHeaderLength` bytes (checked before its body is held). Code `ERR_PROXY_HEADER_TOO_LONG`.
 * @example
 * ```ts
 * import { ProxyHeaderTooLongError, acceptProxyProtocol, type Connection } from 'rxnet';
 *
 * declare const conn: Connection;
 * acceptProxyProtocol(conn, { maxHeaderLength: 512 }).subscribe({
 *   error: (error) => error instanceof ProxyHeaderTooLongError && console.warn(`${error.length} > ${error.limit}`),
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
    /** The header's length: announced (16 + the length field) for v2; 108 for v1, the least a line without CRLF can be. */
    readonly length: number,
  ) {
    super(
      'ERR_PROXY_HEADER_TOO_LONG',
      `PROXY protocol v${version} header of ${length} byte(s) exceeds the limit of ${limit}`,
    );
  }
}

/**
 * No complete PROXY protocol header (required, or begun) within the `timeout` of `acceptProxyProtocol`
 * or `listen({ proxyProtocol })`; the connection is destroyed with it. Code `ERR_PROXY_PROTOCOL_TIMEOUT`.
 * @example
 * ```ts
 * import { ProxyProtocolTimeoutError, acceptProxyProtocol, type Connection } from 'rxnet';
 *
 * declare const conn: Connection;
 * acceptProxyProtocol(conn, { timeout: 3000 }).subscribe({
 *   error: (error) => error instanceof ProxyProtocolTimeoutError && console.warn(`${error.received} bytes`),
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

/**
 * A connection sent no byte within `ms` of the server starting to read it (listen's
 * `firstByteTimeout`): it is destroyed with this error. Code `ERR_FIRST_BYTE_TIMEOUT`.
 * @example
 * ```ts
 * import { FirstByteTimeoutError, listen } from 'rxnet';
 *
 * listen({ port: 8107, firstByteTimeout: 5000 }).subscribe((conn) =>
 *   conn.data$.subscribe({ error: (e) => e instanceof FirstByteTimeoutError && console.warn(`silent for ${e.ms} ms`) }),
 * );
 * ```
 */
export class FirstByteTimeoutError extends RxnetError {
  /** Raised after `ms` milliseconds without a byte. */
  constructor(
    /** The wait allowed for the first byte, in ms. */
    readonly ms: number,
  ) {
    super('ERR_FIRST_BYTE_TIMEOUT', `no byte received within ${ms} ms`);
  }
}

/**
 * A frame begun was not complete within `ms` (listen's `frameTimeout`, the slowloris defence):
 * the connection is destroyed with this error. Code `ERR_FRAME_TIMEOUT`.
 * @example
 * ```ts
 * import { FrameTimeoutError, decodeLines, listen } from 'rxnet';
 *
 * listen({ port: 8107, frameTimeout: 10_000 }).subscribe((conn) =>
 *   conn.data$.pipe(decodeLines()).subscribe({
 *     error: (e) => e instanceof FrameTimeoutError && console.warn(`${e.received} B of a frame in ${e.ms} ms`),
 *   }),
 * );
 * ```
 */
export class FrameTimeoutError extends RxnetError {
  /** Raised after `ms` milliseconds with `received` bytes of an unfinished frame held. */
  constructor(
    /** The time allowed for one frame, from its first byte, in ms. */
    readonly ms: number,
    /** The bytes of the unfinished frame held by then. */
    readonly received: number,
  ) {
    super('ERR_FRAME_TIMEOUT', `frame not complete within ${ms} ms (${received} byte(s) received)`);
  }
}

/**
 * More values came than a rate limit allows (`limitRate` with `overflow: 'error'`). Code `ERR_RATE_LIMIT`.
 * @example
 * ```ts
 * import { RateLimitError, decodeLines, limitRate, type Connection } from 'rxnet';
 *
 * declare const conn: Connection;
 * conn.data$.pipe(decodeLines(), limitRate({ burst: 20, rate: 5, overflow: 'error' })).subscribe({
 *   error: (e) => e instanceof RateLimitError && conn.end(`over ${e.rate} commands/s\n`),
 * });
 * ```
 */
export class RateLimitError extends RxnetError {
  /** Raised when a value came with the bucket of `burst` tokens refilled at `rate` a second empty. */
  constructor(
    /** Values allowed at once. */
    readonly burst: number,
    /** Values allowed per second after the burst. */
    readonly rate: number,
  ) {
    super('ERR_RATE_LIMIT', `more than ${burst} value(s) at once or ${rate} a second`);
  }
}

/**
 * A connection that must come through a trusted proxy (`proxyProtocol: { trusted }`) came from
 * elsewhere: its PROXY header, if any, is not believed, and it is destroyed with this error.
 * Code `ERR_UNTRUSTED_PROXY`.
 * @example
 * ```ts
 * import { UntrustedProxyError, acceptProxyProtocol, type Connection } from 'rxnet';
 *
 * declare const conn: Connection;
 * acceptProxyProtocol(conn, { trusted: ['10.0.0.5'] }).subscribe({
 *   error: (e) => e instanceof UntrustedProxyError && console.warn(`${e.address} is no proxy of ours`),
 * });
 * ```
 */
export class UntrustedProxyError extends RxnetError {
  /** Raised for a peer at `address` outside the trusted proxies. */
  constructor(
    /** The peer's address, as the socket reports it (undefined when it could not tell). */
    readonly address: string | undefined,
  ) {
    super('ERR_UNTRUSTED_PROXY', `${address ?? 'a peer of unknown address'} is not a trusted proxy`);
  }
}

/**
 * A request of a `requester` had no reply within its `timeout`; a reply that comes later is
 * discarded and never reaches another caller. Code `ERR_REQUEST_TIMEOUT`.
 * @example
 * ```ts
 * import { RequestTimeoutError } from 'rxnet';
 *
 * const late = new RequestTimeoutError(500);
 * console.log(late.code, late.ms); // ERR_REQUEST_TIMEOUT 500
 * ```
 */
export class RequestTimeoutError extends RxnetError {
  /** Raised after `ms` milliseconds without the reply. */
  constructor(
    /** The time allowed for the reply, in ms. */
    readonly ms: number,
  ) {
    super('ERR_REQUEST_TIMEOUT', `no reply within ${ms} ms`);
  }
}

/**
 * The connection under a `requester` closed or failed while requests waited for their replies:
 * each of them errors with this. Code `ERR_CONNECTION_LOST`.
 * @example
 * ```ts
 * import { ConnectionLostError } from 'rxnet';
 *
 * const lost = new ConnectionLostError(7, 3);
 * console.log(lost.message); // connection 7 closed with 3 request(s) waiting for a reply
 * ```
 */
export class ConnectionLostError extends RxnetError {
  /** Raised for the connection with id `connectionId`, `pending` requests unanswered. */
  constructor(
    /** The `id` of the connection that closed. */
    readonly connectionId: number,
    /** Requests that were waiting for their replies (written or not). */
    readonly pending: number,
  ) {
    super('ERR_CONNECTION_LOST', `connection ${connectionId} closed with ${pending} request(s) waiting for a reply`);
  }
}

/**
 * A connection pool or a reconnecting client's requester was closed while requests or uses waited
 * for a connection: each of them errors with this, as does one made after. Code `ERR_CLIENT_CLOSED`.
 * @example
 * ```ts
 * import { ClientClosedError } from 'rxnet';
 *
 * const closed = new ClientClosedError('pool', 2);
 * console.log(closed.message); // pool closed with 2 caller(s) waiting
 * ```
 */
export class ClientClosedError extends RxnetError {
  /** Raised when `what` was closed, `waiting` callers still waiting. */
  constructor(
    /** What was closed: `'pool'`, `'requester'`. */
    readonly what: string,
    /** Callers that were waiting (0 for one that came after the close). */
    readonly waiting: number,
  ) {
    super('ERR_CLIENT_CLOSED', `${what} closed with ${waiting} caller(s) waiting`);
  }
}

/**
 * No pooled connection came free (and none could be opened: the pool was at `max`) within the
 * pool's `acquireTimeout`. Code `ERR_ACQUIRE_TIMEOUT`.
 * @example
 * ```ts
 * import { AcquireTimeoutError } from 'rxnet';
 *
 * const late = new AcquireTimeoutError(2000, 4);
 * console.log(late.message); // no pooled connection within 2000 ms (4 of 4 in use)
 * ```
 */
export class AcquireTimeoutError extends RxnetError {
  /** Raised after `ms` milliseconds of waiting, the pool's `max` connections busy or opening. */
  constructor(
    /** The pool's `acquireTimeout`, in ms. */
    readonly ms: number,
    /** The pool's `max`. */
    readonly max: number,
  ) {
    super('ERR_ACQUIRE_TIMEOUT', `no pooled connection within ${ms} ms (${max} of ${max} in use)`);
  }
}

/**
 * Bytes that break the RESP (Redis serialization protocol) grammar: an unknown type byte, a bad
 * number, a missing CRLF. Nothing after them can be trusted. Code `ERR_RESP_PROTOCOL`.
 * @example
 * ```ts
 * import { RespProtocolError } from 'rxnet';
 *
 * const bad = new RespProtocolError('expected CRLF after a bulk string', 12);
 * console.log(bad.code, bad.offset); // ERR_RESP_PROTOCOL 12
 * ```
 */
export class RespProtocolError extends RxnetError {
  /** Raised with `reason` at byte `offset` of the current message. */
  constructor(
    /** What is wrong. */
    readonly reason: string,
    /** Where in the message it was found, in bytes from the message's first byte. */
    readonly offset: number,
  ) {
    super('ERR_RESP_PROTOCOL', `RESP protocol error at byte ${offset}: ${reason}`);
  }
}

/**
 * A RESP message announced more than a decoder's limit allows: a bulk string longer than
 * `maxBulkLength`, an aggregate with more than `maxAggregateLength` elements, aggregates nested
 * deeper than `maxDepth`, or an inline command line longer than `maxInlineLength`. Raised when the
 * header is read, before anything is held for it. Code `ERR_RESP_LIMIT`.
 * @example
 * ```ts
 * import { RespLimitError } from 'rxnet';
 *
 * const big = new RespLimitError('bulk', 512 * 1024 * 1024, 600_000_000);
 * console.log(big.what, big.limit, big.announced);
 * ```
 */
export class RespLimitError extends RxnetError {
  /** Raised when `announced` is over `limit` for `what`. */
  constructor(
    /** Which limit: `bulk` length, `aggregate` length, nesting `depth`, `inline` line length. */
    readonly what: 'bulk' | 'aggregate' | 'depth' | 'inline',
    /** The limit. */
    readonly limit: number,
    /** What the message announced (or reached). */
    readonly announced: number,
  ) {
    super('ERR_RESP_LIMIT', `RESP ${what} of ${announced} over the limit of ${limit}`);
  }
}

/**
 * A datagram socket could not send one datagram: the kernel refused it (`EMSGSIZE` for a datagram
 * larger than the path allows, `ENOBUFS` when its send buffer is full, `ECONNREFUSED` on a
 * connected socket whose peer has no listener), or the socket was closed. `reason` is Node's code
 * (`'EMSGSIZE'`, …) or `'closed'`; `cause` is Node's error, when there was one. Code `ERR_UDP_SEND`.
 * @example
 * ```ts
 * import { UdpSendError, type UdpSocket } from 'rxnet';
 *
 * declare const socket: UdpSocket;
 * socket.send(Buffer.alloc(70_000), { address: '127.0.0.1', port: 9 }).catch((error: unknown) => {
 *   if (error instanceof UdpSendError && error.reason === 'EMSGSIZE') console.warn(`${error.size} B is too large`);
 * });
 * ```
 */
export class UdpSendError extends RxnetError {
  /** Raised for a datagram of `size` bytes on the socket `socketId`, for `reason`. */
  constructor(
    /** The `id` of the socket that was to send. */
    readonly socketId: number,
    /** Bytes in the datagram that was refused. */
    readonly size: number,
    /** Node's code for the refusal (`EMSGSIZE`, `ENOBUFS`, `ECONNREFUSED`, …), or `'closed'`. */
    readonly reason: string,
    /** Node's error, kept whole; undefined for a closed socket. */
    override readonly cause?: Error,
  ) {
    super('ERR_UDP_SEND', `socket ${socketId} could not send ${size} B: ${cause?.message ?? reason}`);
  }
}

// Named error classes with stable codes and the numbers that caused them.

/** Base class of every error rxnet raises itself; `code` is stable across versions. */
export class RxnetError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A write was attempted after `end()` or `destroy()` on that connection. */
export class WriteAfterEndError extends RxnetError {
  constructor(readonly connectionId: number) {
    super('ERR_WRITE_AFTER_END', `write after end on connection ${connectionId}`);
  }
}

/** The connection closed while a sink still had values to write or to flush. */
export class ConnectionClosedError extends RxnetError {
  constructor(
    readonly connectionId: number,
    readonly unwritten: number,
  ) {
    super('ERR_CONNECTION_CLOSED', `connection ${connectionId} closed with ${unwritten} value(s) not yet flushed`);
  }
}

/** `connect()` did not establish the connection within `timeout` ms. */
export class ConnectTimeoutError extends RxnetError {
  constructor(
    readonly timeout: number,
    readonly address: string,
  ) {
    super('ERR_CONNECT_TIMEOUT', `connect to ${address} timed out after ${timeout} ms`);
  }
}

/** A sink's queue was full (`highWaterMark` values) and its overflow policy is `error`. */
export class QueueOverflowError extends RxnetError {
  constructor(readonly highWaterMark: number) {
    super('ERR_QUEUE_OVERFLOW', `sink queue overflow: more than ${highWaterMark} value(s) waiting for drain`);
  }
}

/** An argument given to an rxnet factory is out of range or of the wrong kind. */
export class InvalidArgumentError extends RxnetError {
  constructor(
    readonly argument: string,
    detail: string,
  ) {
    super('ERR_INVALID_ARGUMENT', `invalid ${argument}: ${detail}`);
  }
}

/** A frame is longer than the framer's limit; raised before the body is buffered. */
export class FrameTooLongError extends RxnetError {
  constructor(
    readonly limit: number,
    readonly length: number,
  ) {
    super('ERR_FRAME_TOO_LONG', `frame of ${length} byte(s) exceeds the limit of ${limit}`);
  }
}

/** A length field announced a length that cannot be right (negative, or shorter than its header). */
export class CorruptedFrameError extends RxnetError {
  constructor(
    readonly length: number,
    reason: string,
  ) {
    super('ERR_CORRUPTED_FRAME', `corrupted frame: ${reason} (length ${length})`);
  }
}

/** The source completed in the middle of a frame and truncation was not allowed. */
export class TruncatedFrameError extends RxnetError {
  constructor(readonly buffered: number) {
    super('ERR_TRUNCATED_FRAME', `stream ended inside a frame with ${buffered} byte(s) buffered`);
  }
}

/**
 * The TLS handshake failed (e.g. the peer's certificate is not signed by a trusted CA).
 * `reason` is OpenSSL's or Node's code (`DEPTH_ZERO_SELF_SIGNED_CERT`, `ERR_SSL_...`); `cause` the original error.
 */
export class TlsHandshakeError extends RxnetError {
  constructor(
    readonly reason: string,
    override readonly cause: Error,
  ) {
    super('ERR_TLS_HANDSHAKE', `TLS handshake failed: ${reason} (${cause.message})`);
  }
}

/** Checks that `value` is an integer in [min, max]; throws InvalidArgumentError otherwise. */
export function checkInteger(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(name, `expected an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

/** An NDJSON line is not valid JSON; `lineNumber` counts from 1, blank lines included. */
export class NdjsonParseError extends RxnetError {
  constructor(
    readonly lineNumber: number,
    readonly reason: string,
  ) {
    super('ERR_NDJSON_PARSE', `malformed JSON on line ${lineNumber}: ${reason}`);
  }
}

/** An encoder was given a value it cannot encode without breaking the framing or the layout. */
export class EncodeError extends RxnetError {
  constructor(readonly reason: string) {
    super('ERR_ENCODE', `cannot encode: ${reason}`);
  }
}

/** Nothing arrived for `ms` milliseconds: raised by `idleTimeout(ms)`. */
export class IdleTimeoutError extends RxnetError {
  constructor(readonly ms: number) {
    super('ERR_IDLE_TIMEOUT', `idle for ${ms} ms`);
  }
}

// scale out: the PROXY protocol

/**
 * A PROXY protocol header (v1 text or v2 binary) is malformed: a bad field, an unknown
 * command, family or protocol, an address that does not parse, or a TLV that overruns the header.
 * `version` is 1 or 2 once the signature was recognised.
 */
export class ProxyProtocolError extends RxnetError {
  constructor(
    readonly version: 1 | 2,
    readonly reason: string,
  ) {
    super('ERR_PROXY_PROTOCOL', `malformed PROXY protocol v${version} header: ${reason}`);
  }
}

/**
 * A PROXY protocol header was required but the connection did not start with the v1
 * (`PROXY `) or v2 signature; `received` holds, in hex, the bytes examined up to the first that fits
 * no signature (at most 16).
 */
export class ProxyHeaderMissingError extends RxnetError {
  constructor(readonly received: string) {
    super('ERR_PROXY_HEADER_MISSING', `no PROXY protocol header: connection starts with 0x${received || '(nothing)'}`);
  }
}

/**
 * A PROXY protocol header is longer than allowed: v1 lines are at most 107 bytes with their
 * CRLF; a v2 header's announced length is checked against `maxHeaderLength` before its body is
 * buffered. `length` is the length announced (v2), or 108 for a v1 line with no CRLF in 107 bytes.
 */
export class ProxyHeaderTooLongError extends RxnetError {
  constructor(
    readonly version: 1 | 2,
    readonly limit: number,
    readonly length: number,
  ) {
    super(
      'ERR_PROXY_HEADER_TOO_LONG',
      `PROXY protocol v${version} header of ${length} byte(s) exceeds the limit of ${limit}`,
    );
  }
}

/** No complete PROXY protocol header arrived within `timeout` ms; `received` bytes were held. */
export class ProxyProtocolTimeoutError extends RxnetError {
  constructor(
    readonly timeout: number,
    readonly received: number,
  ) {
    super(
      'ERR_PROXY_PROTOCOL_TIMEOUT',
      `no complete PROXY protocol header within ${timeout} ms (${received} byte(s) received)`,
    );
  }
}

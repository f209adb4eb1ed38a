// The error classes: each one's stable code, its name, the numbers it carries, and a message that says them.
import * as errors from '../lib/errors';
import {
  ConnectTimeoutError,
  ConnectionClosedError,
  CorruptedFrameError,
  EncodeError,
  FrameTooLongError,
  IdleTimeoutError,
  InvalidArgumentError,
  NdjsonParseError,
  ProxyHeaderMissingError,
  ProxyHeaderTooLongError,
  ProxyProtocolError,
  ProxyProtocolTimeoutError,
  QueueOverflowError,
  RxnetError,
  SlowMemberError,
  TlsHandshakeError,
  TlsUpgradeError,
  UdpSendError,
  TruncatedFrameError,
  WriteAfterEndError,
  FirstByteTimeoutError,
  FrameTimeoutError,
  RateLimitError,
  UntrustedProxyError,
  RequestTimeoutError,
  ConnectionLostError,
  RespProtocolError,
  RespLimitError,
  ClientClosedError,
  AcquireTimeoutError,
} from '../lib/errors';
import { errorData } from './support/framing';

const cause = new Error('self-signed certificate');
const sendCause = new Error('send EMSGSIZE 127.0.0.1:9');

/** One of each, with the data it should carry (name and code included) and its message. */
const cases: Array<[RxnetError, Record<string, unknown>, string]> = [
  [
    new WriteAfterEndError(7),
    { name: 'WriteAfterEndError', code: 'ERR_WRITE_AFTER_END', connectionId: 7 },
    'write after end on connection 7',
  ],
  [
    new ConnectionClosedError(7, 12),
    { name: 'ConnectionClosedError', code: 'ERR_CONNECTION_CLOSED', connectionId: 7, unwritten: 12 },
    'connection 7 closed with 12 byte(s) not yet flushed',
  ],
  [
    new ConnectTimeoutError(2000, 'localhost:8107'),
    { name: 'ConnectTimeoutError', code: 'ERR_CONNECT_TIMEOUT', timeout: 2000, address: 'localhost:8107' },
    'connect to localhost:8107 timed out after 2000 ms',
  ],
  [
    new QueueOverflowError(100),
    {
      name: 'QueueOverflowError',
      code: 'ERR_QUEUE_OVERFLOW',
      highWaterMark: 100,
      highWaterMarkBytes: Infinity,
      queued: 100,
      queuedBytes: 0,
      queue: 'sink queue',
      waitingFor: 'drain',
    },
    'sink queue overflow: more than 100 value(s) waiting for drain',
  ],
  [
    new QueueOverflowError(100, 4096, 3, 4000),
    {
      name: 'QueueOverflowError',
      code: 'ERR_QUEUE_OVERFLOW',
      highWaterMark: 100,
      highWaterMarkBytes: 4096,
      queued: 3,
      queuedBytes: 4000,
      queue: 'sink queue',
      waitingFor: 'drain',
    },
    'sink queue overflow: more than 4096 byte(s) waiting for drain (4000 in 3 value(s))',
  ],
  [
    new QueueOverflowError(10, Infinity, 10, 0, 'request queue', 'room in flight'),
    {
      name: 'QueueOverflowError',
      code: 'ERR_QUEUE_OVERFLOW',
      highWaterMark: 10,
      highWaterMarkBytes: Infinity,
      queued: 10,
      queuedBytes: 0,
      queue: 'request queue',
      waitingFor: 'room in flight',
    },
    'request queue overflow: more than 10 value(s) waiting for room in flight',
  ],
  [
    new QueueOverflowError(1024, 1 << 20, 2, 1048000, 'outbox', 'a connection'),
    {
      name: 'QueueOverflowError',
      code: 'ERR_QUEUE_OVERFLOW',
      highWaterMark: 1024,
      highWaterMarkBytes: 1048576,
      queued: 2,
      queuedBytes: 1048000,
      queue: 'outbox',
      waitingFor: 'a connection',
    },
    'outbox overflow: more than 1048576 byte(s) waiting for a connection (1048000 in 2 value(s))',
  ],
  [
    new ClientClosedError('pool', 2),
    { name: 'ClientClosedError', code: 'ERR_CLIENT_CLOSED', what: 'pool', waiting: 2 },
    'pool closed with 2 caller(s) waiting',
  ],
  [
    new AcquireTimeoutError(2000, 4),
    { name: 'AcquireTimeoutError', code: 'ERR_ACQUIRE_TIMEOUT', ms: 2000, max: 4 },
    'no pooled connection within 2000 ms (4 of 4 in use)',
  ],
  [
    new InvalidArgumentError('maxLength', 'expected an integer >= 0, got -1'),
    { name: 'InvalidArgumentError', code: 'ERR_INVALID_ARGUMENT', argument: 'maxLength' },
    'invalid maxLength: expected an integer >= 0, got -1',
  ],
  [
    new FrameTooLongError(1024, 1025),
    { name: 'FrameTooLongError', code: 'ERR_FRAME_TOO_LONG', limit: 1024, length: 1025 },
    'frame of 1025 byte(s) exceeds the limit of 1024',
  ],
  [
    new CorruptedFrameError(-3, 'negative length'),
    { name: 'CorruptedFrameError', code: 'ERR_CORRUPTED_FRAME', length: -3 },
    'corrupted frame: negative length (length -3)',
  ],
  [
    new TruncatedFrameError(10),
    { name: 'TruncatedFrameError', code: 'ERR_TRUNCATED_FRAME', buffered: 10 },
    'stream ended inside a frame with 10 byte(s) buffered',
  ],
  [
    new TlsHandshakeError('DEPTH_ZERO_SELF_SIGNED_CERT', cause),
    { name: 'TlsHandshakeError', code: 'ERR_TLS_HANDSHAKE', reason: 'DEPTH_ZERO_SELF_SIGNED_CERT', cause },
    'TLS handshake failed: DEPTH_ZERO_SELF_SIGNED_CERT (self-signed certificate)',
  ],
  [
    new TlsUpgradeError(7, 'buffered'),
    { name: 'TlsUpgradeError', code: 'ERR_TLS_UPGRADE', connectionId: 7, reason: 'buffered' },
    'connection 7 cannot start TLS: bytes received before the switch were left unread',
  ],
  [
    new UdpSendError(3, 70_000, 'EMSGSIZE', sendCause),
    { name: 'UdpSendError', code: 'ERR_UDP_SEND', socketId: 3, size: 70_000, reason: 'EMSGSIZE', cause: sendCause },
    'socket 3 could not send 70000 B: send EMSGSIZE 127.0.0.1:9',
  ],
  [
    new UdpSendError(4, 5, 'closed'),
    { name: 'UdpSendError', code: 'ERR_UDP_SEND', socketId: 4, size: 5, reason: 'closed', cause: undefined },
    'socket 4 could not send 5 B: closed',
  ],
  [
    new SlowMemberError(3, 50),
    {
      name: 'SlowMemberError',
      code: 'ERR_SLOW_MEMBER',
      memberId: 3,
      highWaterMark: 50,
      highWaterMarkBytes: Infinity,
      queued: 50,
      queuedBytes: 0,
    },
    'member 3 fell more than 50 message(s) behind',
  ],
  [
    new SlowMemberError(3, 50, 1000, 2, 999),
    {
      name: 'SlowMemberError',
      code: 'ERR_SLOW_MEMBER',
      memberId: 3,
      highWaterMark: 50,
      highWaterMarkBytes: 1000,
      queued: 2,
      queuedBytes: 999,
    },
    'member 3 fell more than 1000 byte(s) behind (999 in 2 message(s))',
  ],
  [
    new NdjsonParseError(4, 'Unexpected token'),
    { name: 'NdjsonParseError', code: 'ERR_NDJSON_PARSE', lineNumber: 4, reason: 'Unexpected token' },
    'malformed JSON on line 4: Unexpected token',
  ],
  [
    new EncodeError('field b: expected a number'),
    { name: 'EncodeError', code: 'ERR_ENCODE', reason: 'field b: expected a number' },
    'cannot encode: field b: expected a number',
  ],
  [new IdleTimeoutError(5000), { name: 'IdleTimeoutError', code: 'ERR_IDLE_TIMEOUT', ms: 5000 }, 'idle for 5000 ms'],
  [
    new ProxyProtocolError(1, 'bad source port "x"'),
    { name: 'ProxyProtocolError', code: 'ERR_PROXY_PROTOCOL', version: 1, reason: 'bad source port "x"' },
    'malformed PROXY protocol v1 header: bad source port "x"',
  ],
  [
    new ProxyHeaderMissingError('474554'),
    { name: 'ProxyHeaderMissingError', code: 'ERR_PROXY_HEADER_MISSING', received: '474554' },
    'no PROXY protocol header: connection starts with 0x474554',
  ],
  [
    new ProxyHeaderMissingError(''),
    { name: 'ProxyHeaderMissingError', code: 'ERR_PROXY_HEADER_MISSING', received: '' },
    'no PROXY protocol header: connection starts with 0x(nothing)',
  ],
  [
    new ProxyHeaderTooLongError(2, 4096, 65551),
    { name: 'ProxyHeaderTooLongError', code: 'ERR_PROXY_HEADER_TOO_LONG', version: 2, limit: 4096, length: 65551 },
    'PROXY protocol v2 header of 65551 byte(s) exceeds the limit of 4096',
  ],
  [
    new ProxyProtocolTimeoutError(3000, 5),
    { name: 'ProxyProtocolTimeoutError', code: 'ERR_PROXY_PROTOCOL_TIMEOUT', timeout: 3000, received: 5 },
    'no complete PROXY protocol header within 3000 ms (5 byte(s) received)',
  ],
  [
    new FirstByteTimeoutError(30_000),
    { name: 'FirstByteTimeoutError', code: 'ERR_FIRST_BYTE_TIMEOUT', ms: 30_000 },
    'no byte received within 30000 ms',
  ],
  [
    new FrameTimeoutError(10_000, 3),
    { name: 'FrameTimeoutError', code: 'ERR_FRAME_TIMEOUT', ms: 10_000, received: 3 },
    'frame not complete within 10000 ms (3 byte(s) received)',
  ],
  [
    new RateLimitError(20, 5),
    { name: 'RateLimitError', code: 'ERR_RATE_LIMIT', burst: 20, rate: 5 },
    'more than 20 value(s) at once or 5 a second',
  ],
  [
    new RequestTimeoutError(500),
    { name: 'RequestTimeoutError', code: 'ERR_REQUEST_TIMEOUT', ms: 500 },
    'no reply within 500 ms',
  ],
  [
    new ConnectionLostError(7, 3),
    { name: 'ConnectionLostError', code: 'ERR_CONNECTION_LOST', connectionId: 7, pending: 3 },
    'connection 7 closed with 3 request(s) waiting for a reply',
  ],
  [
    new RespProtocolError('expected CRLF', 12),
    { name: 'RespProtocolError', code: 'ERR_RESP_PROTOCOL', reason: 'expected CRLF', offset: 12 },
    'RESP protocol error at byte 12: expected CRLF',
  ],
  [
    new RespLimitError('depth', 32, 33),
    { name: 'RespLimitError', code: 'ERR_RESP_LIMIT', what: 'depth', limit: 32, announced: 33 },
    'RESP depth of 33 over the limit of 32',
  ],
  [
    new UntrustedProxyError('192.0.2.7'),
    { name: 'UntrustedProxyError', code: 'ERR_UNTRUSTED_PROXY', address: '192.0.2.7' },
    '192.0.2.7 is not a trusted proxy',
  ],
];

describe('errors', () => {
  it.each(cases.map(([error, data, message]) => [data.name as string, message, error, data] as const))(
    '%s carries its code and numbers, its message saying them: %s',
    (_, message, error, data) => {
      expect(error).toBeInstanceOf(RxnetError);
      expect(error).toBeInstanceOf(Error);
      expect(errorData(error)).toEqual(data);
      expect(error.message).toBe(message);
      expect(String(error)).toBe(`${data.name}: ${message}`);
      expect(error.stack).toContain(`${data.name}: ${message}`);
    },
  );

  it('covers every error class, each with a code of its own', () => {
    const classes = Object.entries(errors).filter(([name]) => name !== 'RxnetError');
    const tested = new Set(cases.map(([error]) => error.constructor));
    expect(classes.filter(([, cls]) => !tested.has(cls as never)).map(([name]) => name)).toEqual([]);
    const codes = new Map(cases.map(([error]) => [error.constructor, error.code]));
    expect(new Set(codes.values()).size).toBe(classes.length);
    for (const code of codes.values()) expect(code).toMatch(/^ERR_[A-Z0-9_]+$/);
  });

  it("names a subclass of the user's own after it, through RxnetError's constructor", () => {
    class QuotaError extends RxnetError {
      constructor() {
        super('ERR_QUOTA', 'quota exceeded');
      }
    }
    expect(errorData(new QuotaError())).toEqual({ name: 'QuotaError', code: 'ERR_QUOTA' });
  });
});

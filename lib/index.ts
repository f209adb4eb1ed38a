// Public entry point of rxnet: re-exports only.
export type { Chunk, Connection, ConnectionEvent, ConnectionEventType, Holdable, TlsInfo } from './types';
export {
  RxnetError,
  WriteAfterEndError,
  ConnectionClosedError,
  ConnectTimeoutError,
  QueueOverflowError,
  InvalidArgumentError,
  FrameTooLongError,
  CorruptedFrameError,
  TruncatedFrameError,
  TlsHandshakeError,
  NdjsonParseError,
  EncodeError,
  IdleTimeoutError,
  ProxyProtocolError,
  ProxyHeaderMissingError,
  ProxyHeaderTooLongError,
  ProxyProtocolTimeoutError,
  isPeerFailure,
} from './errors';
// core
export { SocketConnection } from './connection';
export { listen } from './server';
export type { ListenOptions, BoundAddress, ServerEvent } from './server';
export { connect, backoff } from './client';
export type { ConnectOptions, BackoffOptions } from './client';
export { sendTo, sendStats } from './operators/sendTo';
export type { SendOptions, SendStats, OverflowPolicy } from './operators/sendTo';
export { serveEach } from './operators/serveEach';
export type { ServeEachOptions } from './operators/serveEach';
export { asDuplex, fromReadable } from './streams';
export type { ReadableSource } from './streams';
// framing
export * from './operators/delimited';
export * from './operators/lines';
export * from './operators/lengthField';
export * from './operators/fixedLength';
export * from './operators/encodeDelimited';
export * from './operators/encodeLines';
export * from './operators/encodeLengthField';
export * from './operators/encodeFixedLength';
export * from './operators/decodeText';
export * from './operators/decodeNdjson';
export * from './operators/encodeNdjson';
export * from './operators/decodeStruct';
export * from './operators/encodeStruct';
export * from './codec/struct';
export type { Truncation } from './framing/Framer';
// time
export * from './operators/idleTimeout';
export * from './operators/idleWatch';
export * from './operators/endOnIdle';
// many connections
export { Hub, SlowMemberError } from './hub';
export type {
  HubEvent,
  HubEventType,
  HubLeaveReason,
  HubMember,
  HubOptions,
  JoinOptions,
  SlowMemberPolicy,
} from './hub';
export { connectionMetrics, serverMetrics } from './metrics';
export type { ConnectionMetrics, ConnectionSnapshot, ServerMetrics, ServerSnapshot } from './metrics';
export { WIRETAP_ENV, hexDump, wiretap } from './operators/wiretap';
export type { WiretapConfig, WiretapDirection } from './operators/wiretap';
// scale out
export { acceptProxyProtocol, ProxiedConnection } from './proxyProtocol';
export type { ProxyInfo, ProxyProtocolOptions } from './proxyProtocol';
export {
  DEFAULT_PROXY_V2_MAX_LENGTH,
  PROXY_TLV,
  PROXY_V1_MAX_LENGTH,
  PROXY_V1_SIGNATURE,
  PROXY_V2_MAX_LENGTH,
  PROXY_V2_SIGNATURE,
  ProxyProtocolDecoder,
} from './framing/ProxyProtocolDecoder';
export type {
  ProxyDecodeResult,
  ProxyEndpoint,
  ProxyHeader,
  ProxyProtocolDecoderOptions,
  ProxyTlv,
} from './framing/ProxyProtocolDecoder';
export { encodeProxyHeader } from './framing/encodeProxyHeader';
export type { ProxyHeaderInit } from './framing/encodeProxyHeader';
export { InProcessBus } from './backplane';
export type {
  Backplane,
  BackplaneEvent,
  BackplaneEventType,
  BackplaneMessage,
  BackplaneOptions,
  BackplaneOverflow,
} from './backplane';
export { redisBackplane } from './redisBackplane';
export type { RedisBackplaneOptions } from './redisBackplane';

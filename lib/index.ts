// Public entry point of rxnet: re-exports only.
export type {
  Chunk,
  Connection,
  ConnectionEvent,
  ConnectionEventType,
  Datagram,
  DatagramTarget,
  Holdable,
  TlsInfo,
  UdpSocket,
  UdpStats,
} from './types';
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
  TlsUpgradeError,
  NdjsonParseError,
  EncodeError,
  IdleTimeoutError,
  ProxyProtocolError,
  ProxyHeaderMissingError,
  ProxyHeaderTooLongError,
  ProxyProtocolTimeoutError,
  SlowMemberError,
  FirstByteTimeoutError,
  FrameTimeoutError,
  UntrustedProxyError,
  RateLimitError,
  RequestTimeoutError,
  ConnectionLostError,
  RespProtocolError,
  RespLimitError,
  ClientClosedError,
  AcquireTimeoutError,
  UdpSendError,
} from './errors';
export { isPeerFailure } from './util/isPeerFailure';
// core
export { SocketConnection } from './core/SocketConnection';
export { ConnectionView } from './core/ConnectionView';
export { listen, DEFAULT_FIRST_BYTE_TIMEOUT, DEFAULT_FRAME_TIMEOUT } from './core/listen';
export type { ListenOptions, BoundAddress, ServerEvent } from './core/listen';
export type { ListenTlsOptions } from './core/listenOptions';
export { sniCallback } from './core/tls';
export { upgradeTls } from './core/upgradeTls';
export type { UpgradeTlsClientOptions, UpgradeTlsOptions, UpgradeTlsServerOptions } from './core/upgradeTls';
// admission: who may connect, and how much of a server one address may take
export { DROP_REASONS } from './admission/Admission';
export type { AdmissionOptions, DropReason } from './admission/Admission';
export type { AddressList } from './admission/addresses';
export { connect } from './core/connect';
export { open } from './core/open';
export type { ClientEvent, ConnectOptions } from './core/connect';
export { backoff } from './util/backoff';
export type { BackoffOptions } from './util/backoff';
export { sendTo, sendStats } from './core/sendTo';
export type { SendToOptions, SendOptions, SendStats, OverflowPolicy } from './core/sendTo';
export { serveEach } from './core/serveEach';
export type { ServeEachOptions } from './core/serveEach';
export { asDuplex, fromReadable } from './core/streams';
export type { ReadableSource } from './core/streams';
// framing: each framer's decoder and encoder, and the way in for a framer of your own
export { decodeLines, lines } from './framing/lines/decodeLines';
export type { DecodeLinesOptions, LinesConfig } from './framing/lines/decodeLines';
export { encodeLines } from './framing/lines/encodeLines';
export type { EncodeLinesOptions, EncodeLinesConfig } from './framing/lines/encodeLines';
export { linesCodec } from './framing/lines/linesCodec';
export type { LineEncoding, LinesCodecOptions, TextLinesCodecOptions } from './framing/lines/linesCodec';
export { decodeDelimited, delimited } from './framing/delimited/decodeDelimited';
export type { DecodeDelimitedOptions, DelimitedConfig } from './framing/delimited/decodeDelimited';
export { encodeDelimited } from './framing/delimited/encodeDelimited';
export type { EncodeDelimitedOptions, EncodeDelimitedConfig } from './framing/delimited/encodeDelimited';
export { delimitedCodec } from './framing/delimited/delimitedCodec';
export type { DelimitedCodecOptions } from './framing/delimited/delimitedCodec';
export { decodeLengthField, lengthField } from './framing/lengthField/decodeLengthField';
export type { DecodeLengthFieldOptions, LengthFieldConfig } from './framing/lengthField/decodeLengthField';
export { encodeLengthField } from './framing/lengthField/encodeLengthField';
export type { EncodeLengthFieldOptions, EncodeLengthFieldConfig } from './framing/lengthField/encodeLengthField';
export { lengthFieldCodec } from './framing/lengthField/lengthFieldCodec';
export type { LengthFieldCodecOptions } from './framing/lengthField/lengthFieldCodec';
export { decodeFixedLength, fixedLength } from './framing/fixedLength/decodeFixedLength';
export type { DecodeFixedLengthOptions, FixedLengthConfig } from './framing/fixedLength/decodeFixedLength';
export { encodeFixedLength } from './framing/fixedLength/encodeFixedLength';
export type { EncodeFixedLengthOptions, EncodeFixedLengthConfig } from './framing/fixedLength/encodeFixedLength';
export { fixedLengthCodec } from './framing/fixedLength/fixedLengthCodec';
export type { FixedLengthCodecOptions } from './framing/fixedLength/fixedLengthCodec';
export { decodeFrames } from './framing/decodeFrames';
export type { Framer, Truncation } from './framing/Framer';
export { FrameCut } from './util/FrameCut';
// codecs
export { decodeWith, encodeWith } from './codec/Codec';
export type { Codec } from './codec/Codec';
export { decodeText } from './codec/text/decodeText';
export { decodeNdjson } from './codec/ndjson/decodeNdjson';
export type { DecodeNdjsonOptions, DecodeNdjsonConfig, MalformedLinePolicy } from './codec/ndjson/decodeNdjson';
export { encodeNdjson } from './codec/ndjson/encodeNdjson';
export type { EncodeNdjsonOptions, EncodeNdjsonConfig } from './codec/ndjson/encodeNdjson';
export { ndjsonCodec } from './codec/ndjson/ndjsonCodec';
export type { NdjsonCodecOptions } from './codec/ndjson/ndjsonCodec';
export { struct } from './codec/struct/struct';
export type { FieldLayout, StructCodec, StructOptions, StructValue } from './codec/struct/struct';
export { field, char, bytes, arrayOf, padding } from './codec/struct/field';
export type { ArrayField, BytesField, CharField, FieldType, FieldValue, PaddingField } from './codec/struct/field';
export type { BigIntType, NumberType, ScalarType } from './codec/struct/scalars';
export { decodeStruct } from './codec/struct/decodeStruct';
export type { DecodeStructOptions, DecodeStructConfig } from './codec/struct/decodeStruct';
export { encodeStruct } from './codec/struct/encodeStruct';
export { structFrames } from './codec/struct/structFrames';
export { RespError, RespPush, RespVerbatim } from './codec/resp/RespValue';
export type { RespCommand, RespValue } from './codec/resp/RespValue';
export { RespFramer } from './codec/resp/RespFramer';
export type { RespDecodeOptions } from './codec/resp/RespDecodeOptions';
export { encodeResp, encodeRespCommand } from './codec/resp/encodeResp';
export type { EncodeRespOptions } from './codec/resp/encodeResp';
export { decodeResp, respClient, respServer } from './codec/resp/resp';
export type { RespServerOptions } from './codec/resp/resp';
// time
export { idleTimeout } from './time/idleTimeout';
export type { IdleTimeoutOptions, IdleTimeoutConfig } from './time/idleTimeout';
export { idleWatch } from './time/idleWatch';
export type { IdleEvent, IdleState, IdleWatchOptions, IdleWatchConfig } from './time/idleWatch';
export { endOnIdle } from './time/endOnIdle';
export type { EndOnIdleOptions, EndOnIdleConfig } from './time/endOnIdle';
// many connections
export { Hub } from './hub/Hub';
export type { HubOptions, JoinOptions, SlowMemberPolicy } from './hub/Hub';
export type { HubEvent, HubEventType, HubLeaveReason, HubMember } from './hub/HubEvent';
export { connectionMetrics } from './observe/connectionMetrics';
export type { ConnectionMetrics, ConnectionSnapshot } from './observe/connectionMetrics';
export { serverMetrics } from './observe/metrics';
export type { ServerMetrics, ServerSnapshot } from './observe/metrics';
export { WIRETAP_ENV, hexDump, wiretap } from './observe/wiretap';
export type { WiretapOptions, WiretapConfig, WiretapDirection } from './observe/wiretap';
// scale out
export { acceptProxyProtocol, ProxiedConnection } from './proxy/acceptProxyProtocol';
export type { ProxyInfo, AcceptProxyProtocolOptions, ProxyProtocolOptions } from './proxy/acceptProxyProtocol';
export { DEFAULT_PROXY_V2_MAX_LENGTH, ProxyProtocolDecoder } from './proxy/ProxyProtocolDecoder';
export type { ProxyDecodeResult, ProxyProtocolDecoderOptions } from './proxy/ProxyProtocolDecoder';
export {
  PROXY_TLV,
  PROXY_V1_MAX_LENGTH,
  PROXY_V1_SIGNATURE,
  PROXY_V2_MAX_LENGTH,
  PROXY_V2_SIGNATURE,
} from './proxy/ProxyHeader';
export type { ProxyEndpoint, ProxyHeader, ProxyTlv } from './proxy/ProxyHeader';
export { encodeProxyHeader } from './proxy/encodeProxyHeader';
export type { ProxyHeaderInit } from './proxy/encodeProxyHeader';
export { InProcessBus } from './hub/backplane';
export type {
  Backplane,
  BackplaneEvent,
  BackplaneEventType,
  BackplaneMessage,
  BackplaneOptions,
  BackplaneOverflow,
} from './hub/backplane';
export { redisBackplane } from './hub/redisBackplane';
export type { RedisBackplaneOptions } from './hub/redisBackplane';
// shaping
export { TokenBucket } from './shaping/TokenBucket';
export { limitRate } from './shaping/limitRate';
export type { LimitRateConfig, LimitRateEvent } from './shaping/limitRate';
export { TrafficShaper } from './shaping/TrafficShaper';
export type { Throttle, TrafficLimits, TrafficShaperOptions } from './shaping/TrafficShaper';
export { ShapedConnection, shapeTraffic } from './shaping/shapeTraffic';
export type { ShapeTrafficOptions } from './shaping/shapeTraffic';
// udp: datagram sockets
export { bindUdp } from './udp/bindUdp';
export type { BindUdpOptions, MulticastGroup, MulticastOptions, UdpRateLimit } from './udp/bindUdp';
export { datagramSendStats, sendDatagrams } from './udp/sendDatagrams';
export type { DatagramSendStats, OutgoingDatagram, SendDatagramsOptions } from './udp/sendDatagrams';
// above the socket
export { reconnectingClient } from './client/reconnectingClient';
export type { ClientState, ReconnectingClient, ReconnectingClientOptions } from './client/reconnectingClient';
export { requester } from './client/requester';
export { pool } from './client/pool';
export type { Pool, PoolOptions } from './client/pool';
export type { RequestOptions, Requester, RequesterOptions } from './client/requester';

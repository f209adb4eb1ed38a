// The names rxnet 0.1 exported, and code written with the ones since renamed: what must keep compiling.

function words(text: string): string[] {
  return text.trim().split(/\s+/);
}

/** Every name each entry point of rxnet 0.1 exported (values and types), listed from the 0.1 sources. */
export const EXPORTED_IN_0_1: Record<string, readonly string[]> = {
  'lib/index.ts': words(`
    ArrayField BackoffOptions Backplane BackplaneEvent BackplaneEventType BackplaneMessage BackplaneOptions
    BackplaneOverflow BigIntType BoundAddress BytesField CharField Chunk ConnectOptions ConnectTimeoutError
    Connection ConnectionClosedError ConnectionEvent ConnectionEventType ConnectionMetrics ConnectionSnapshot
    CorruptedFrameError DEFAULT_PROXY_V2_MAX_LENGTH DecodeNdjsonConfig DecodeStructConfig DelimitedConfig
    EncodeDelimitedConfig EncodeError EncodeFixedLengthConfig EncodeLengthFieldConfig EncodeLinesConfig
    EncodeNdjsonConfig EndOnIdleConfig FieldLayout FieldType FieldValue FixedLengthConfig FrameTooLongError
    Holdable Hub HubEvent HubEventType HubLeaveReason HubMember HubOptions IdleEvent IdleState
    IdleTimeoutConfig IdleTimeoutError IdleWatchConfig InProcessBus InvalidArgumentError JoinOptions
    LengthFieldConfig LinesConfig ListenOptions MalformedLinePolicy NdjsonParseError NumberType OverflowPolicy
    PROXY_TLV PROXY_V1_MAX_LENGTH PROXY_V1_SIGNATURE PROXY_V2_MAX_LENGTH PROXY_V2_SIGNATURE PaddingField
    ProxiedConnection ProxyDecodeResult ProxyEndpoint ProxyHeader ProxyHeaderInit ProxyHeaderMissingError
    ProxyHeaderTooLongError ProxyInfo ProxyProtocolDecoder ProxyProtocolDecoderOptions ProxyProtocolError
    ProxyProtocolOptions ProxyProtocolTimeoutError ProxyTlv QueueOverflowError ReadableSource
    RedisBackplaneOptions RxnetError ScalarType SendOptions SendStats ServeEachOptions ServerEvent
    ServerMetrics ServerSnapshot SlowMemberError SlowMemberPolicy SocketConnection StructCodec StructOptions
    StructValue TlsHandshakeError TlsInfo TruncatedFrameError Truncation WIRETAP_ENV WiretapConfig
    WiretapDirection WriteAfterEndError acceptProxyProtocol arrayOf asDuplex backoff bytes char connect
    connectionMetrics decodeNdjson decodeStruct decodeText delimited encodeDelimited encodeFixedLength
    encodeLengthField encodeLines encodeNdjson encodeProxyHeader encodeStruct endOnIdle fixedLength
    fromReadable hexDump idleTimeout idleWatch isPeerFailure lengthField lines listen padding redisBackplane
    sendStats sendTo serveEach serverMetrics struct wiretap
  `),
  'lib/testing/index.ts': words(`
    BytesAs Chunking ComparableOptions MemoryConnection MemoryServer MemoryServerOptions MemoryWire NetError
    PairOptions WireOptions asHex asText bytes comparable connectionPair createTestScheduler memoryServer
  `),
};

/** The 0.1 names since renamed, each with the name that replaced it (its `@deprecated` tag links there). */
export const FORMER_NAMES: Record<string, Readonly<Record<string, string>>> = {
  'lib/index.ts': {
    lines: 'decodeLines',
    LinesConfig: 'DecodeLinesOptions',
    EncodeLinesConfig: 'EncodeLinesOptions',
    delimited: 'decodeDelimited',
    DelimitedConfig: 'DecodeDelimitedOptions',
    EncodeDelimitedConfig: 'EncodeDelimitedOptions',
    lengthField: 'decodeLengthField',
    LengthFieldConfig: 'DecodeLengthFieldOptions',
    EncodeLengthFieldConfig: 'EncodeLengthFieldOptions',
    fixedLength: 'decodeFixedLength',
    FixedLengthConfig: 'DecodeFixedLengthOptions',
    EncodeFixedLengthConfig: 'EncodeFixedLengthOptions',
    DecodeNdjsonConfig: 'DecodeNdjsonOptions',
    EncodeNdjsonConfig: 'EncodeNdjsonOptions',
    DecodeStructConfig: 'DecodeStructOptions',
    char: 'field.char',
    bytes: 'field.bytes',
    arrayOf: 'field.arrayOf',
    padding: 'field.padding',
    IdleTimeoutConfig: 'IdleTimeoutOptions',
    IdleWatchConfig: 'IdleWatchOptions',
    EndOnIdleConfig: 'EndOnIdleOptions',
    WiretapConfig: 'WiretapOptions',
    ProxyProtocolOptions: 'AcceptProxyProtocolOptions',
    SendOptions: 'SendToOptions',
  },
  'lib/testing/index.ts': {
    PairOptions: 'ConnectionPairOptions',
    WireOptions: 'MemoryWireOptions',
  },
};

/** A program written for 0.1 that uses every renamed name as 0.1 code did. */
export const CODE_WRITTEN_FOR_0_1 = `
import { of } from 'rxjs';
import {
  arrayOf,
  bytes,
  char,
  delimited,
  fixedLength,
  lengthField,
  lines,
  padding,
  struct,
  type DecodeNdjsonConfig,
  type DecodeStructConfig,
  type DelimitedConfig,
  type EncodeDelimitedConfig,
  type EncodeFixedLengthConfig,
  type EncodeLengthFieldConfig,
  type EncodeLinesConfig,
  type EncodeNdjsonConfig,
  type EndOnIdleConfig,
  type FixedLengthConfig,
  type IdleTimeoutConfig,
  type IdleWatchConfig,
  type LengthFieldConfig,
  type LinesConfig,
  type ProxyProtocolOptions,
  type SendOptions,
  type WiretapConfig,
} from 'rxnet';
import type { PairOptions, WireOptions } from 'rxnet/testing';

const linesConfig: LinesConfig = { maxLength: 1024 };
const delimitedConfig: DelimitedConfig = { maxLength: 64 };
const lengthFieldConfig: LengthFieldConfig = { lengthFieldLength: 4, maxFrameLength: 65536 };
const fixedLengthConfig: FixedLengthConfig = { truncation: 'discard' };
export const frames = of(Buffer.from('a;b\\n')).pipe(
  lines(linesConfig),
  delimited(';', delimitedConfig),
  lengthField(lengthFieldConfig),
  fixedLength(4, fixedLengthConfig),
);

export const Record01 = struct({ name: char(8), raw: bytes(2), xs: arrayOf('uint16', 2), gap: padding(2) });
export const name: string = Record01.decode(Buffer.alloc(Record01.size)).name;

export const options: [
  EncodeLinesConfig,
  EncodeDelimitedConfig,
  EncodeLengthFieldConfig,
  EncodeFixedLengthConfig,
  DecodeNdjsonConfig,
  EncodeNdjsonConfig,
  DecodeStructConfig,
  IdleTimeoutConfig,
  IdleWatchConfig,
  EndOnIdleConfig,
  WiretapConfig,
  ProxyProtocolOptions,
  SendOptions,
  PairOptions,
  WireOptions,
] = [{}, {}, { lengthFieldLength: 2 }, {}, { malformed: 'skip' }, {}, { truncation: 'discard' }, {}, { readIdle: 1000 }, {}, {}, {}, { highWaterMark: 16 }, {}, {}];
`;

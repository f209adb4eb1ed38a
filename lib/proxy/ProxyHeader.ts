// The PROXY protocol's wire format as both sides see it: signatures, limits, TLV types and the decoded header.
import { Buffer } from 'buffer';

/**
 * The 12 bytes every v2 header starts with: `\r\n\r\n\0\r\nQUIT\n`.
 *
 * @example
 * ```ts
 * import { PROXY_V2_SIGNATURE } from 'rxnet';
 *
 * const startsV2 = (bytes: Buffer) => bytes.subarray(0, 12).equals(PROXY_V2_SIGNATURE);
 * ```
 */
export const PROXY_V2_SIGNATURE: Buffer = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);

/**
 * The 6 bytes every v1 header starts with: `PROXY ` (with its space).
 *
 * @example
 * ```ts
 * import { PROXY_V1_SIGNATURE } from 'rxnet';
 *
 * const startsV1 = (bytes: Buffer) => bytes.subarray(0, 6).equals(PROXY_V1_SIGNATURE);
 * ```
 */
export const PROXY_V1_SIGNATURE: Buffer = Buffer.from('PROXY ', 'latin1');

/**
 * The longest v1 header, CRLF included, as the specification fixes it: 107 bytes.
 *
 * @example
 * ```ts
 * import { PROXY_V1_MAX_LENGTH } from 'rxnet';
 *
 * const line = 'PROXY TCP6 2001:db8::7 2001:db8::1 56324 443\r\n';
 * console.log(Buffer.byteLength(line) <= PROXY_V1_MAX_LENGTH); // true: receivers accept it
 * ```
 */
export const PROXY_V1_MAX_LENGTH = 107;

/**
 * The longest v2 header the protocol can express: 16 fixed bytes and a 16-bit length, 65 551
 * bytes. The most `maxHeaderLength` may be.
 *
 * @example
 * ```ts
 * import { PROXY_V2_MAX_LENGTH, ProxyProtocolDecoder } from 'rxnet';
 *
 * // Accept any v2 header the protocol allows (large TLVs included).
 * const decoder = new ProxyProtocolDecoder({ maxHeaderLength: PROXY_V2_MAX_LENGTH });
 * ```
 */
export const PROXY_V2_MAX_LENGTH = 16 + 0xffff;

/** Bytes of a v2 address block by family code: AF_UNSPEC, AF_INET, AF_INET6, AF_UNIX. @internal */
export const ADDRESS_BYTES: readonly number[] = [0, 12, 36, 216];

/**
 * TLV types of v2 headers that the specification names (`PP2_TYPE_*`). Others may appear too.
 *
 * @example
 * ```ts
 * import { PROXY_TLV, type ProxyHeader } from 'rxnet';
 *
 * // The host name the client asked the proxy for (TLS SNI), if the proxy sent it.
 * const authority = (header: ProxyHeader) =>
 *   header.tlvs.find((tlv) => tlv.type === PROXY_TLV.AUTHORITY)?.value.toString('utf8');
 * ```
 */
export const PROXY_TLV = {
  /** `0x01`: the application protocol the client negotiated with the proxy (ALPN), e.g. `h2`. */
  ALPN: 0x01,
  /** `0x02`: the host name the client asked for (e.g. TLS SNI), UTF-8. */
  AUTHORITY: 0x02,
  /** `0x03`: a CRC32c checksum of the whole header, 4 bytes (rxnet does not verify it). */
  CRC32C: 0x03,
  /** `0x04`: padding, to be ignored. */
  NOOP: 0x04,
  /** `0x05`: an opaque id of the connection chosen by the proxy, at most 128 bytes. */
  UNIQUE_ID: 0x05,
  /** `0x20`: TLS details of the client's connection to the proxy (flags, verification result, sub-TLVs). */
  SSL: 0x20,
  /** `0x30`: the name of the network namespace the proxy accepted the connection in, US-ASCII. */
  NETNS: 0x30,
} as const;

/**
 * One end of a proxied connection: an IP address and port, or a unix socket path (no port).
 *
 * @example
 * ```ts
 * import { type ProxyEndpoint } from 'rxnet';
 *
 * const client: ProxyEndpoint = { address: '2001:db8::7', port: 56324 };
 * const socketFile: ProxyEndpoint = { address: '/run/app.sock', port: undefined };
 * ```
 */
export interface ProxyEndpoint {
  /** An IPv4 address (dotted), an IPv6 address (v2: RFC 5952 text; v1: as the line had it) or a unix socket path. */
  readonly address: string;
  /** The TCP or UDP port, 0 to 65535; undefined for a unix socket. */
  readonly port: number | undefined;
}

/**
 * One type-length-value extension of a v2 header, as received (CRC32C is not verified).
 *
 * ```
 * [type : u8][length : u16 BE][value : length bytes]
 * ```
 *
 * @example
 * ```ts
 * import { PROXY_TLV, encodeProxyHeader, type ProxyTlv } from 'rxnet';
 *
 * const id: ProxyTlv = { type: PROXY_TLV.UNIQUE_ID, value: Buffer.from('req-4711') };
 * const header = encodeProxyHeader({
 *   source: { address: '192.0.2.7', port: 56324 },
 *   destination: { address: '198.51.100.1', port: 443 },
 *   tlvs: [id],
 * });
 * ```
 */
export interface ProxyTlv {
  /** The type byte, 0 to 255: one of {@link PROXY_TLV}, or a vendor's own (`0xE0`-`0xEF` are for custom use). */
  readonly type: number;
  /** The value bytes (a copy: it does not keep the received chunk alive). */
  readonly value: Buffer;
}

/**
 * A decoded PROXY protocol header.
 *
 * `command` is `'local'` for a v2 LOCAL header (the proxy's own connection, e.g. a health check):
 * the address block is then ignored, as the specification asks. `source` and `destination` are
 * undefined for LOCAL, for v1 `UNKNOWN` and for v2 `AF_UNSPEC`: the receiver then uses the real
 * connection's addresses.
 *
 * @example
 * ```ts
 * import { type ProxyHeader } from 'rxnet';
 *
 * const describe = (h: ProxyHeader) =>
 *   h.source === undefined
 *     ? `v${h.version} ${h.command}, no addresses`
 *     : `v${h.version} ${h.family} ${h.source.address}:${h.source.port} -> ${h.destination?.address}`;
 * ```
 */
export interface ProxyHeader {
  /** 1 for the text form, 2 for the binary one. */
  readonly version: 1 | 2;
  /** `'proxy'`: a relayed client connection (always so in v1); `'local'`: the proxy's own. */
  readonly command: 'proxy' | 'local';
  /** `'IPv4'`/`'IPv6'` as Node's `remoteFamily` says them; `'unix'`; `'unspec'` for UNKNOWN/AF_UNSPEC. */
  readonly family: 'IPv4' | 'IPv6' | 'unix' | 'unspec';
  /** `'stream'` for TCP (v1 TCP4/TCP6, v2 STREAM), `'dgram'` (v2 only), `'unspec'`. */
  readonly transport: 'stream' | 'dgram' | 'unspec';
  /** The client: the address the proxy accepted the connection from. */
  readonly source: ProxyEndpoint | undefined;
  /** The address the client connected to (the proxy's front end). */
  readonly destination: ProxyEndpoint | undefined;
  /** v2 extensions in wire order (empty for v1 and for LOCAL). */
  readonly tlvs: readonly ProxyTlv[];
  /** Bytes the header took on the wire. */
  readonly length: number;
}

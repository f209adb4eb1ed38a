// The PROXY protocol (v1 text, v2 binary) header decoder: a pure, synchronous state machine over a ChunkQueue.
import { Buffer } from 'buffer';
import { isIPv4, isIPv6 } from 'net';
import { ProxyHeaderMissingError, ProxyHeaderTooLongError, ProxyProtocolError } from '../errors';
import { ChunkQueue } from '../framing/ChunkQueue';
import { checkBoolean, checkInteger } from '../util/validate';

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

/**
 * The v2 header length limit of {@link ProxyProtocolDecoder} when none is given: 4096 bytes,
 * room for addresses and the usual TLVs.
 *
 * @example
 * ```ts
 * import { DEFAULT_PROXY_V2_MAX_LENGTH, listen } from 'rxnet';
 *
 * // Twice the default, for a proxy that sends long certificate details in its SSL TLV.
 * listen({ port: 8107, proxyProtocol: { maxHeaderLength: 2 * DEFAULT_PROXY_V2_MAX_LENGTH } }).subscribe();
 * ```
 */
export const DEFAULT_PROXY_V2_MAX_LENGTH = 4096;

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

/**
 * What {@link ProxyProtocolDecoder.read} returns once it has decided.
 *
 * @example
 * ```ts
 * import { ProxyProtocolDecoder, type ProxyDecodeResult } from 'rxnet';
 *
 * const decoder = new ProxyProtocolDecoder({ required: false });
 * decoder.push(Buffer.from('hello'));
 * const result: ProxyDecodeResult | undefined = decoder.read(); // { header: undefined, rest: <'hello'> }
 * ```
 */
export interface ProxyDecodeResult {
  /** The header, or undefined when none was sent and none was required. */
  readonly header: ProxyHeader | undefined;
  /**
   * The bytes received after the header (all bytes held, when there was none): the start of the
   * application's stream. A view into the last chunk pushed when it lies there; may be empty.
   */
  readonly rest: Buffer;
}

/**
 * Options of {@link ProxyProtocolDecoder}.
 *
 * @example
 * ```ts
 * import { ProxyProtocolDecoder, type ProxyProtocolDecoderOptions } from 'rxnet';
 *
 * const options: ProxyProtocolDecoderOptions = { required: true, maxHeaderLength: 512 };
 * const decoder = new ProxyProtocolDecoder(options);
 * ```
 */
export interface ProxyProtocolDecoderOptions {
  /** A connection without a header is an error (default true); false lets its bytes through. */
  readonly required?: boolean;
  /** Longest v2 header accepted, in bytes (default 4096, at most 65 551); checked before its body is buffered. */
  readonly maxHeaderLength?: number;
}

const enum State {
  Signature,
  V1,
  V2,
  Done,
}

const CR = 0x0d;
const LF = 0x0a;

/**
 * Decodes the PROXY protocol header (HAProxy's specification, v1 and v2) at the start of a byte
 * stream, and hands back the bytes after it untouched.
 *
 * ```
 * v1:  "PROXY " ("TCP4" | "TCP6") " " src " " dst " " srcport " " dstport "\r\n"   ≤ 107 bytes
 *      "PROXY UNKNOWN" [" " anything] "\r\n"
 * v2:  [12 B signature][ver<<4 | cmd : u8][family<<4 | transport : u8][length : u16 BE]
 *      [addresses: IPv4 4+4+2+2 | IPv6 16+16+2+2 | unix 108+108][TLV: type u8, length u16 BE, value]*
 * ```
 *
 * Bytes go in with `push`; `read()` returns `undefined` while it must wait, then once a
 * {@link ProxyDecodeResult}; after that the decoder is spent. It decides as early as it can:
 * the first byte that fits neither signature means "no header" (an error when `required`, else
 * everything held is passed on as `rest`). Once a whole signature has arrived the header must be
 * valid, whatever `required` says. The result does not depend on how the bytes were chunked.
 *
 * Limits: a v1 line without CRLF in its first 107 bytes, or a v2 header announcing more than
 * `maxHeaderLength` bytes, is a `ProxyHeaderTooLongError`, raised before more is buffered. Bad
 * fields are a `ProxyProtocolError`, a missing required header a `ProxyHeaderMissingError`.
 * End of stream: after `end()`, `read()` decides with what it holds: an incomplete header whose
 * signature was seen is a `ProxyProtocolError`; a partial signature is "no header". Errors are
 * thrown by `read()`; the decoder must then be discarded.
 *
 * @example
 * ```ts
 * import { ProxyProtocolDecoder } from 'rxnet';
 *
 * const decoder = new ProxyProtocolDecoder();
 * decoder.push(Buffer.from('PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\nHEL'));
 * const result = decoder.read(); // { header: { source: { address: '192.0.2.7', port: 56324 }, ... }, rest: <'HEL'> }
 * ```
 */
export class ProxyProtocolDecoder {
  private readonly queue = new ChunkQueue();
  private readonly required: boolean;
  private readonly maxHeaderLength: number;
  private state = State.Signature;
  /** Signature bytes already checked. */
  private matched = 0;
  /** The signature being matched: v1's or v2's, chosen by the first byte. */
  private signature: Buffer | undefined = undefined;
  /** Bytes of a v1 line searched for LF so far. */
  private scanned = 0;
  private ended = false;

  /**
   * A decoder waiting for the first byte.
   *
   * @throws InvalidArgumentError for a `required` that is not a boolean, or a `maxHeaderLength`
   * that is not an integer in [16, 65 551].
   */
  constructor(options: ProxyProtocolDecoderOptions = {}) {
    this.required = checkBoolean('required', options.required, true);
    this.maxHeaderLength = checkInteger(
      'maxHeaderLength',
      options.maxHeaderLength ?? DEFAULT_PROXY_V2_MAX_LENGTH,
      16,
      PROXY_V2_MAX_LENGTH,
    );
  }

  /** Bytes held and not yet decided about. */
  get length(): number {
    return this.queue.length;
  }

  /** True once `read()` returned its result (or threw). */
  get done(): boolean {
    return this.state === State.Done;
  }

  /** Appends received bytes (an empty chunk is ignored). Only before the result was read. */
  push(chunk: Buffer): void {
    if (this.state === State.Done) throw new Error('ProxyProtocolDecoder: push() after the header was decoded');
    this.queue.push(chunk);
  }

  /** No more bytes will be waited for (end of stream, or a timeout): the next `read()` decides with what is held. */
  end(): void {
    this.ended = true;
  }

  /** The result once it can be decided, else `undefined`; throws a typed error on a bad or missing header. */
  read(): ProxyDecodeResult | undefined {
    try {
      switch (this.state) {
        case State.Signature:
          if (!this.matchSignature()) return undefined;
          // matchSignature() moved the state on: Done (no header) or V1/V2.
          if ((this.state as State) === State.Done) return { header: undefined, rest: this.rest() };
          return this.read();
        case State.V1:
          return this.readV1();
        case State.V2:
          return this.readV2();
        default:
          return undefined;
      }
    } catch (error) {
      this.state = State.Done;
      this.queue.clear();
      throw error;
    }
  }

  /** Releases every byte held. */
  clear(): void {
    this.queue.clear();
  }

  /** Advances through the signature; true once decided (header kind chosen, or no header). */
  private matchSignature(): boolean {
    const queue = this.queue;
    if (queue.length === 0) {
      if (!this.ended) return false;
      return this.noHeader(0);
    }
    if (this.signature === undefined) {
      const first = queue.byteAt(0);
      if (first === PROXY_V1_SIGNATURE[0]) this.signature = PROXY_V1_SIGNATURE;
      else if (first === PROXY_V2_SIGNATURE[0]) this.signature = PROXY_V2_SIGNATURE;
      else return this.noHeader(1);
    }
    const signature = this.signature;
    const available = Math.min(queue.length, signature.length);
    for (let i = this.matched; i < available; i++) {
      if (queue.byteAt(i) !== signature[i]) return this.noHeader(i + 1);
    }
    this.matched = available;
    if (available < signature.length) {
      if (!this.ended) return false;
      return this.noHeader(available);
    }
    this.state = signature === PROXY_V1_SIGNATURE ? State.V1 : State.V2;
    return true;
  }

  /**
   * The stream does not start with a header: an error when one is required, else done with no
   * header. `examined` bytes (up to the first that fits no signature) go in the error, so that
   * it does not depend on the chunking.
   */
  private noHeader(examined: number): true {
    if (this.required) {
      const n = Math.min(examined, 16);
      let hex = '';
      for (let i = 0; i < n; i++) hex += this.queue.byteAt(i).toString(16).padStart(2, '0');
      throw new ProxyHeaderMissingError(hex);
    }
    this.state = State.Done;
    return true;
  }

  private rest(): Buffer {
    this.state = State.Done;
    return this.queue.consume(this.queue.length);
  }

  private readV1(): ProxyDecodeResult | undefined {
    const queue = this.queue;
    const limit = Math.min(queue.length, PROXY_V1_MAX_LENGTH);
    let lf = -1;
    for (let i = this.scanned; i < limit; i++) {
      if (queue.byteAt(i) === LF) {
        lf = i;
        break;
      }
    }
    if (lf < 0) {
      this.scanned = limit;
      // No LF among the first 107 bytes: the line is at least 108 long, however many more are held.
      if (queue.length >= PROXY_V1_MAX_LENGTH)
        throw new ProxyHeaderTooLongError(1, PROXY_V1_MAX_LENGTH, PROXY_V1_MAX_LENGTH + 1);
      if (this.ended) throw new ProxyProtocolError(1, `stream ended after ${queue.length} byte(s), before the CRLF`);
      return undefined;
    }
    if (queue.byteAt(lf - 1) !== CR) throw new ProxyProtocolError(1, 'line ends with LF without CR');
    const length = lf + 1;
    const line = queue.consume(length).toString('latin1', PROXY_V1_SIGNATURE.length, length - 2);
    const header = parseV1(line, length);
    return { header, rest: this.rest() };
  }

  private readV2(): ProxyDecodeResult | undefined {
    const queue = this.queue;
    if (queue.length < 16) {
      if (this.ended)
        throw new ProxyProtocolError(2, `stream ended after ${queue.length} byte(s), inside the fixed header`);
      return undefined;
    }
    const versionCommand = queue.byteAt(12);
    if (versionCommand >> 4 !== 2)
      throw new ProxyProtocolError(2, `version nibble is ${versionCommand >> 4}, expected 2`);
    const command = versionCommand & 0x0f;
    if (command > 1) throw new ProxyProtocolError(2, `unknown command 0x${command.toString(16)}`);
    const familyTransport = queue.byteAt(13);
    const family = familyTransport >> 4;
    const transport = familyTransport & 0x0f;
    if (family > 3) throw new ProxyProtocolError(2, `unknown address family 0x${family.toString(16)}`);
    if (transport > 2) throw new ProxyProtocolError(2, `unknown transport protocol 0x${transport.toString(16)}`);
    const length = 16 + queue.readUInt(14, 2, false);
    if (length > this.maxHeaderLength) throw new ProxyHeaderTooLongError(2, this.maxHeaderLength, length);
    if (queue.length < length) {
      if (this.ended) throw new ProxyProtocolError(2, `stream ended after ${queue.length} of ${length} header byte(s)`);
      return undefined;
    }
    const bytes = queue.consume(length);
    const header = parseV2(bytes, command, family, transport);
    return { header, rest: this.rest() };
  }
}

const FAMILIES = ['unspec', 'IPv4', 'IPv6', 'unix'] as const;
const TRANSPORTS = ['unspec', 'stream', 'dgram'] as const;
/** Bytes of the address block by family: AF_UNSPEC, AF_INET, AF_INET6, AF_UNIX. */
const ADDRESS_BYTES = [0, 12, 36, 216];

function parseV1(line: string, length: number): ProxyHeader {
  const fields = line.split(' ');
  const protocol = fields[0];
  if (protocol === 'UNKNOWN') {
    return {
      version: 1,
      command: 'proxy',
      family: 'unspec',
      transport: 'unspec',
      source: undefined,
      destination: undefined,
      tlvs: [],
      length,
    };
  }
  if (protocol !== 'TCP4' && protocol !== 'TCP6')
    throw new ProxyProtocolError(1, `unknown protocol ${JSON.stringify(protocol)}`);
  if (fields.length !== 5) throw new ProxyProtocolError(1, `expected 5 fields after PROXY, got ${fields.length}`);
  const isIP = protocol === 'TCP4' ? isIPv4 : isIPv6;
  const [, src, dst, srcPort, dstPort] = fields;
  if (!isIP(src)) throw new ProxyProtocolError(1, `bad ${protocol} source address ${JSON.stringify(src)}`);
  if (!isIP(dst)) throw new ProxyProtocolError(1, `bad ${protocol} destination address ${JSON.stringify(dst)}`);
  return {
    version: 1,
    command: 'proxy',
    family: protocol === 'TCP4' ? 'IPv4' : 'IPv6',
    transport: 'stream',
    source: { address: src, port: parsePort(srcPort, 'source') },
    destination: { address: dst, port: parsePort(dstPort, 'destination') },
    tlvs: [],
    length,
  };
}

function parsePort(text: string, which: string): number {
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) > 65535)
    throw new ProxyProtocolError(1, `bad ${which} port ${JSON.stringify(text)}`);
  return Number(text);
}

function parseV2(bytes: Buffer, command: number, family: number, transport: number): ProxyHeader {
  const length = bytes.length;
  if (command === 0) {
    // LOCAL: the proxy speaks for itself; the specification says to discard the whole block.
    return {
      version: 2,
      command: 'local',
      family: FAMILIES[family],
      transport: TRANSPORTS[transport],
      source: undefined,
      destination: undefined,
      tlvs: [],
      length,
    };
  }
  const addressBytes = ADDRESS_BYTES[family];
  if (length - 16 < addressBytes) {
    throw new ProxyProtocolError(
      2,
      `${FAMILIES[family]} addresses need ${addressBytes} byte(s), the header has ${length - 16}`,
    );
  }
  let source: ProxyEndpoint | undefined;
  let destination: ProxyEndpoint | undefined;
  const at = 16;
  if (family === 1) {
    source = { address: formatIPv4(bytes, at), port: bytes.readUInt16BE(at + 8) };
    destination = { address: formatIPv4(bytes, at + 4), port: bytes.readUInt16BE(at + 10) };
  } else if (family === 2) {
    source = { address: formatIPv6(bytes, at), port: bytes.readUInt16BE(at + 32) };
    destination = { address: formatIPv6(bytes, at + 16), port: bytes.readUInt16BE(at + 34) };
  } else if (family === 3) {
    source = { address: unixPath(bytes, at), port: undefined };
    destination = { address: unixPath(bytes, at + 108), port: undefined };
  }
  const tlvs: ProxyTlv[] = [];
  let p = at + addressBytes;
  // AF_UNSPEC carries no addresses we know how to read: whatever follows is skipped, not parsed as TLVs.
  if (family !== 0) {
    while (p < length) {
      if (length - p < 3) throw new ProxyProtocolError(2, `${length - p} stray byte(s) after the last TLV`);
      const type = bytes[p];
      const n = bytes.readUInt16BE(p + 1);
      if (p + 3 + n > length)
        throw new ProxyProtocolError(
          2,
          `TLV 0x${type.toString(16)} of ${n} byte(s) overruns the header by ${p + 3 + n - length}`,
        );
      tlvs.push({ type, value: Buffer.from(bytes.subarray(p + 3, p + 3 + n)) });
      p += 3 + n;
    }
  }
  return {
    version: 2,
    command: 'proxy',
    family: FAMILIES[family],
    transport: TRANSPORTS[transport],
    source,
    destination,
    tlvs,
    length,
  };
}

function formatIPv4(b: Buffer, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** RFC 5952 text: lower case, the longest run of two or more zero groups as `::`, IPv4-mapped as `::ffff:a.b.c.d`. */
export function formatIPv6(b: Buffer, at: number): string {
  let mapped = b[at + 10] === 0xff && b[at + 11] === 0xff;
  for (let i = 0; mapped && i < 10; i++) if (b[at + i] !== 0) mapped = false;
  if (mapped) return `::ffff:${formatIPv4(b, at + 12)}`;
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(b.readUInt16BE(at + 2 * i));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) =>
    groups
      .slice(from, to)
      .map((g) => g.toString(16))
      .join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}

function unixPath(b: Buffer, at: number): string {
  const end = b.indexOf(0, at);
  return b.toString('utf8', at, end < 0 || end > at + 108 ? at + 108 : end);
}

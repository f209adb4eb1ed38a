// The PROXY protocol (v1 text, v2 binary) header decoder: a pure, synchronous state machine over a ChunkQueue.
import type { Buffer } from 'buffer';
import { ProxyHeaderMissingError, ProxyHeaderTooLongError, ProxyProtocolError } from '../errors';
import { ChunkQueue } from '../framing/ChunkQueue';
import { checkBoolean, checkInteger } from '../util/validate';
import { PROXY_V1_MAX_LENGTH, PROXY_V1_SIGNATURE, PROXY_V2_MAX_LENGTH, PROXY_V2_SIGNATURE } from './ProxyHeader';
import type { ProxyHeader } from './ProxyHeader';
import { parseV1 } from './v1';
import { parseV2 } from './v2';

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

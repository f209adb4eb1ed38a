// encodeResp() and encodeRespCommand(): RESP replies (RESP2 or RESP3) and client commands to bytes.
import { Buffer } from 'buffer';
import { EncodeError, InvalidArgumentError } from '../../errors';
import { RespError, RespPush, RespVerbatim, type RespCommand, type RespValue } from './RespValue';

/**
 * Options of {@link encodeResp}.
 *
 * @example
 * ```ts
 * import { encodeResp, type EncodeRespOptions } from 'rxnet';
 *
 * const resp3: EncodeRespOptions = { version: 3 };
 * encodeResp(new Map([['a', 1]]), resp3); // <%1\r\n+a\r\n:1\r\n>
 * ```
 */
export interface EncodeRespOptions {
  /** The protocol the peer speaks: 2 (default, what a connection starts with) or 3 (after `HELLO 3`). */
  readonly version?: 2 | 3;
}

/** Aggregates nested deeper than this are taken for a cycle. */
const MAX_ENCODE_DEPTH = 1000;
const CRLF = 0x0a0d; // '\r\n' written little-endian as one uint16
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const NEWLINE = /[\r\n]/;

/** Writes RESP into a buffer that doubles when full; one per call, so that nothing is shared. */
class RespWriter {
  private buf: Buffer = Buffer.allocUnsafe(256);
  private pos = 0;

  constructor(private readonly v3: boolean) {}

  result(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.pos + n));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  /** `type` then `text` (ASCII) then CRLF. */
  private line(type: number, text: string): void {
    this.ensure(text.length + 3);
    const buf = this.buf;
    buf[this.pos] = type;
    this.pos += 1 + buf.write(text, this.pos + 1, 'latin1');
    buf.writeUInt16LE(CRLF, this.pos);
    this.pos += 2;
  }

  /** `type`, the count `n` in decimal, CRLF: the header of a bulk string or an aggregate. */
  private header(type: number, n: number): void {
    this.ensure(24);
    const buf = this.buf;
    buf[this.pos] = type;
    this.pos = writeDecimal(buf, this.pos + 1, n);
    buf.writeUInt16LE(CRLF, this.pos);
    this.pos += 2;
  }

  /** `type` then `text` (UTF-8) then CRLF: a simple string or error. */
  private simple(type: number, text: string): void {
    this.ensure(3 * text.length + 3);
    const buf = this.buf;
    buf[this.pos] = type;
    this.pos += 1 + buf.write(text, this.pos + 1, 'utf8');
    buf.writeUInt16LE(CRLF, this.pos);
    this.pos += 2;
  }

  /** `type`, the length and CRLF, then the bytes and CRLF. */
  private blob(type: number, bytes: Uint8Array | string): void {
    const n = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.length;
    this.header(type, n);
    this.ensure(n + 2);
    if (typeof bytes === 'string') this.buf.write(bytes, this.pos, 'utf8');
    else this.buf.set(bytes, this.pos);
    this.pos += n;
    this.buf.writeUInt16LE(CRLF, this.pos);
    this.pos += 2;
  }

  value(value: RespValue, depth: number): void {
    const v3 = this.v3;
    switch (typeof value) {
      case 'string':
        if (NEWLINE.test(value)) throw new EncodeError('a simple string cannot hold CR or LF (send a Buffer)');
        this.simple(43, value);
        return;
      case 'number':
        if (Number.isSafeInteger(value) && !Object.is(value, -0)) this.line(58, String(value));
        else if (v3) this.line(44, doubleText(value));
        else this.blob(36, doubleText(value));
        return;
      case 'bigint':
        if (v3) this.line(40, String(value));
        else if (value >= INT64_MIN && value <= INT64_MAX) this.line(58, String(value));
        else throw new EncodeError(`integer ${value} is out of RESP2's 64-bit range`);
        return;
      case 'boolean':
        if (v3) this.line(35, value ? 't' : 'f');
        else this.line(58, value ? '1' : '0');
        return;
      case 'object':
        break;
      default:
        throw new EncodeError(`a ${typeof value} is not a RESP value`);
    }
    if (value === null) {
      if (v3) this.line(95, '');
      else this.line(36, '-1');
    } else if (value instanceof Uint8Array) {
      this.blob(36, value);
    } else if (value instanceof RespError) {
      if (!NEWLINE.test(value.message)) this.simple(45, value.message);
      else if (v3) this.blob(33, value.message);
      else throw new EncodeError('a RESP2 error cannot hold CR or LF');
    } else if (value instanceof RespVerbatim) {
      if (!v3) this.blob(36, value.text);
      else if (value.format.length !== 3 || Buffer.byteLength(value.format) !== 3) {
        throw new EncodeError(`a verbatim string's format must be 3 bytes, got '${value.format}'`);
      } else this.blob(61, `${value.format}:${value.text}`);
    } else {
      if (depth >= MAX_ENCODE_DEPTH)
        throw new EncodeError(`aggregates nested deeper than ${MAX_ENCODE_DEPTH} (a cycle?)`);
      this.aggregate(value, depth + 1);
    }
  }

  private aggregate(value: object, depth: number): void {
    const v3 = this.v3;
    if (Array.isArray(value)) {
      const items = value as RespValue[];
      this.header(42, items.length);
      for (let i = 0; i < items.length; i++) this.value(items[i], depth);
    } else if (value instanceof Map) {
      this.header(v3 ? 37 : 42, v3 ? value.size : 2 * value.size);
      for (const [k, v] of value as Map<RespValue, RespValue>) {
        this.value(k, depth);
        this.value(v, depth);
      }
    } else if (value instanceof Set) {
      this.header(v3 ? 126 : 42, value.size);
      for (const item of value as Set<RespValue>) this.value(item, depth);
    } else if (value instanceof RespPush) {
      this.header(v3 ? 62 : 42, value.values.length);
      for (const item of value.values) this.value(item, depth);
    } else {
      throw new EncodeError(`a ${value.constructor?.name ?? 'null-prototype object'} is not a RESP value`);
    }
  }
}

/**
 * The most common replies (a short simple string, an integer, null, a bulk string) in one buffer of
 * their exact size, without a writer; undefined for the rest.
 */
function encodeScalar(value: RespValue, v3: boolean): Buffer | undefined {
  if (typeof value === 'string') {
    return value.length <= 64 && !NEWLINE.test(value) ? Buffer.from(`+${value}\r\n`, 'utf8') : undefined;
  }
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && !Object.is(value, -0) ? Buffer.from(`:${value}\r\n`, 'latin1') : undefined;
  }
  if (value === null) return Buffer.from(v3 ? '_\r\n' : '$-1\r\n', 'latin1');
  if (!(value instanceof Uint8Array)) return undefined;
  const n = value.length;
  const out = Buffer.allocUnsafe(n + 5 + decimalLength(n));
  out[0] = 36;
  let pos = writeDecimal(out, 1, n);
  out.writeUInt16LE(CRLF, pos);
  out.set(value, pos + 2);
  pos += 2 + n;
  out.writeUInt16LE(CRLF, pos);
  return out;
}

function doubleText(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  return Object.is(value, -0) ? '-0' : String(value);
}

/**
 * The bytes of one reply, as a server writes it: RESP2 by default, RESP3 with `version: 3`.
 *
 * ```
 * 'OK' → +OK\r\n    <abc> → $3\r\nabc\r\n    7 → :7\r\n    [<a>, null] → *2\r\n$1\r\na\r\n$-1\r\n
 * RESP3 only: null → _\r\n  1.5 → ,1.5\r\n  true → #t\r\n  7n → (7\r\n  Map → %  Set → ~  RespPush → >
 * ```
 *
 * In RESP2 the RESP3 types are written as Redis writes them to a RESP2 client: null as a null bulk
 * string, a double (or an unsafe integer) as a bulk string of its text, a boolean as `:1` / `:0`,
 * a map as a flat array of keys and values, a set or a push as an array, a verbatim string as a bulk
 * string of its text.
 *
 * Limits: a simple string with CR or LF, a RESP2 error with CR or LF (RESP3 sends it as a blob
 * error), a bigint beyond 64 bits in RESP2, a verbatim format not 3 bytes, aggregates nested more
 * than 1000 deep (a cycle) or anything that is no {@link RespValue} raise `EncodeError`.
 *
 * @example
 * ```ts
 * import { RespError, encodeResp } from 'rxnet';
 *
 * encodeResp('OK'); // <+OK\r\n>
 * encodeResp(new RespError('ERR no such key')); // <-ERR no such key\r\n>
 * encodeResp([Buffer.from('v'), 1.5, true], { version: 3 }); // <*3\r\n$1\r\nv\r\n,1.5\r\n#t\r\n>
 * ```
 */
export function encodeResp(value: RespValue, options: EncodeRespOptions = {}): Buffer {
  const version = options.version ?? 2;
  if (version !== 2 && version !== 3) {
    throw new InvalidArgumentError('version', `expected 2 or 3, got ${String(version)}`);
  }
  const scalar = encodeScalar(value, version === 3);
  if (scalar !== undefined) return scalar;
  const writer = new RespWriter(version === 3);
  writer.value(value, 0);
  return writer.result();
}

/**
 * The bytes of one command, as a client sends it: an array of bulk strings, strings written as
 * UTF-8 and numbers as their decimal text. The buffer is sized exactly and written once.
 *
 * ```
 * ['GET', 'k']  →  *2\r\n$3\r\nGET\r\n$1\r\nk\r\n
 * ```
 *
 * Limits: an empty command, or an argument that is no string, Buffer or finite number, raises
 * `EncodeError`.
 *
 * @example
 * ```ts
 * import { encodeRespCommand, type Connection } from 'rxnet';
 *
 * declare const conn: Connection;
 * conn.write(encodeRespCommand(['SET', 'counter', 10]));
 * conn.write(encodeRespCommand(['INCRBY', 'counter', 5]));
 * ```
 */
export function encodeRespCommand(args: RespCommand): Buffer {
  if (!Array.isArray(args) || args.length === 0) throw new EncodeError('a command needs at least its name');
  const n = args.length;
  // The first pass turns numbers to text and measures every part, so that the buffer is sized exactly.
  const parts = new Array<string | Uint8Array>(n);
  const lengths = new Array<number>(n);
  let size = 3 + decimalLength(n);
  for (let i = 0; i < n; i++) {
    const arg: unknown = args[i];
    let part: string | Uint8Array;
    if (typeof arg === 'string' || arg instanceof Uint8Array) part = arg;
    else if (typeof arg === 'number' && Number.isFinite(arg)) part = String(arg);
    else throw new EncodeError(`argument ${i} of a command is a ${typeof arg}, not a string, Buffer or finite number`);
    const length = typeof part !== 'string' ? part.length : isAscii(part) ? part.length : Buffer.byteLength(part);
    parts[i] = part;
    lengths[i] = length;
    size += 5 + decimalLength(length) + length;
  }
  const out = Buffer.allocUnsafe(size);
  out[0] = 42;
  let pos = writeDecimal(out, 1, n);
  out.writeUInt16LE(CRLF, pos);
  pos += 2;
  for (let i = 0; i < n; i++) {
    const part = parts[i];
    const length = lengths[i];
    out[pos] = 36;
    pos = writeDecimal(out, pos + 1, length);
    out.writeUInt16LE(CRLF, pos);
    pos += 2;
    if (typeof part === 'string') out.write(part, pos, length, 'utf8');
    else out.set(part, pos);
    pos += length;
    out.writeUInt16LE(CRLF, pos);
    pos += 2;
  }
  return out;
}

/** Whether every UTF-16 unit of a short string is ASCII (its UTF-8 length is then its length); long ones are measured. */
function isAscii(text: string): boolean {
  if (text.length > 64) return false;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

function decimalLength(n: number): number {
  let digits = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    digits++;
  }
  return digits;
}

/** Writes `n` (a non-negative integer) in decimal at `pos`; returns the position after it. */
function writeDecimal(out: Buffer, pos: number, n: number): number {
  const end = pos + decimalLength(n);
  let at = end;
  do {
    out[--at] = 48 + (n % 10);
    n = Math.floor(n / 10);
  } while (n > 0);
  return end;
}

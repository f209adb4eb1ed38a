// RespFramer: a resumable RESP2/RESP3 (and inline command) parser over a ChunkQueue, limits checked at each header.
import { Buffer } from 'buffer';
import { RespLimitError, RespProtocolError, TruncatedFrameError } from '../../errors';
import { ChunkQueue } from '../../framing/ChunkQueue';
import type { Framer } from '../../framing/Framer';
import { checkBoolean, checkLimit, checkOptions } from '../../util/validate';
import type { RespDecodeOptions } from './RespDecodeOptions';
import { RespError, RespPush, RespVerbatim, type RespValue } from './RespValue';

// The defaults documented in RespDecodeOptions.
/** 512 MiB, the bulk length limit of Redis. */
const DEFAULT_MAX_BULK = 512 * 1024 * 1024;
const DEFAULT_MAX_AGGREGATE = 1024 * 1024;
const DEFAULT_MAX_DEPTH = 32;
const DEFAULT_MAX_INLINE = 64 * 1024;
/** A line holding a length, an integer, a boolean or a null must end within this many bytes. */
const MAX_NUMBER_LINE = 64;

const CR = 13;
const LF = 10;
const SPACE = 32;
const TAB = 9;
const MINUS = 45;
const T_SIMPLE = 43; // +
const T_ERROR = 45; // -
const T_INTEGER = 58; // :
const T_BULK = 36; // $
const T_ARRAY = 42; // *
const T_NULL = 95; // _
const T_BOOLEAN = 35; // #
const T_DOUBLE = 44; // ,
const T_BIGNUM = 40; // (
const T_VERBATIM = 61; // =
const T_MAP = 37; // %
const T_SET = 126; // ~
const T_ATTRIBUTE = 124; // |
const T_PUSH = 62; // >
const T_BLOB_ERROR = 33; // !

/** Returned by a step that produced no value: an aggregate opened, an attribute or empty line skipped. */
const NOTHING: unique symbol = Symbol('nothing');
type Step = RespValue | undefined | typeof NOTHING;

const DOUBLE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const BIG = /^-?\d+$/;

/**
 * The RESP2/RESP3 decoder as a {@link Framer}: one complete top-level value per `read()`, errors
 * (`-ERR ...`) handed out as {@link RespError} values. It resumes where it stopped: aggregates
 * being filled wait on a stack, a bulk string's header is read once, a line search goes on from
 * where it ended, so a big reply dripped in small chunks is scanned once.
 *
 * ```
 * push(<*2\r\n$3\r\nfoo\r\n$>)   read() → undefined        (the array waits on the stack with <foo>)
 * push(<-1\r\n+OK\r\n>)           read() → [<foo>, null], read() → 'OK', read() → undefined
 * ```
 *
 * Limits, checked at each header before anything is held for the body: a bulk string over
 * `maxBulkLength` or an aggregate over `maxAggregateLength` elements or nested deeper than
 * `maxDepth` raises `RespLimitError`; so does a simple line (`+`, `-`, `,`, `(`) or an inline
 * command line growing past its limit without its line end. Bad bytes raise `RespProtocolError`
 * with the offset in the message. Bulk strings are views of the chunk unless they span chunks or
 * `copy` is set. Attributes (`|`) are read within the limits and dropped.
 *
 * End of stream: after `end()`, the values still complete are read, then a message begun raises
 * `TruncatedFrameError`.
 *
 * @example
 * ```ts
 * import { RespFramer, decodeFrames, type Connection } from 'rxnet';
 *
 * const framer = new RespFramer({ maxBulkLength: 1 << 20 });
 * framer.push(Buffer.from('*2\r\n$3\r\nfoo\r\n:42\r\n'));
 * console.log(framer.read()); // [ <Buffer 66 6f 6f>, 42 ]
 *
 * declare const conn: Connection;
 * conn.data$.pipe(decodeFrames(() => new RespFramer({ inline: true, commands: true }))).subscribe();
 * ```
 */
export class RespFramer implements Framer<RespValue> {
  private readonly queue: ChunkQueue;
  private readonly maxBulk: number;
  private readonly maxAggregate: number;
  private readonly maxDepth: number;
  private readonly maxInline: number;
  private readonly inline: boolean;
  private readonly commands: boolean;
  /** The aggregates being filled, innermost last: their type byte, elements, and elements still to come. */
  private readonly kinds: number[] = [];
  private readonly items: RespValue[][] = [];
  private readonly left: number[] = [];
  private top = -1;
  /** The type byte of a bulk string whose header was read (0: none), and its length. */
  private bodyType = 0;
  private bodyLength = 0;
  /** Bytes of the line being looked for already searched without finding its end. */
  private scanned = 0;
  /** Bytes of the current message already consumed (offsets in errors count from its first byte). */
  private messageBytes = 0;
  private ended = false;

  /** A decoder with `options` checked (InvalidArgumentError for a bad one) and defaults filled in. */
  constructor(options: RespDecodeOptions = {}) {
    checkOptions(options);
    this.maxBulk = checkLimit('maxBulkLength', options.maxBulkLength, DEFAULT_MAX_BULK);
    this.maxAggregate = checkLimit('maxAggregateLength', options.maxAggregateLength, DEFAULT_MAX_AGGREGATE);
    this.maxDepth = checkLimit('maxDepth', options.maxDepth, DEFAULT_MAX_DEPTH);
    this.maxInline = checkLimit('maxInlineLength', options.maxInlineLength, DEFAULT_MAX_INLINE);
    this.inline = checkBoolean('inline', options.inline, false);
    this.commands = checkBoolean('commands', options.commands, false);
    const copy = checkBoolean('copy', options.copy, false);
    this.queue = new ChunkQueue({ maxHeld: Math.max(this.maxBulk, this.maxInline) + 2, copy });
  }

  /** Bytes of the message begun: those held plus those already read into values waiting on the stack (0 between messages). */
  get buffered(): number {
    return this.queue.length + this.messageBytes;
  }

  /** Appends received bytes; never throws. */
  push(chunk: Buffer): void {
    this.queue.push(chunk);
  }

  /** The next complete top-level value, or `undefined` when more bytes are needed (or, after `end()`, when done). */
  read(): RespValue | undefined {
    for (;;) {
      let step: Step;
      if (this.bodyType !== 0) step = this.readBody();
      else if (this.queue.length === 0) step = undefined;
      else step = this.readElement();
      if (step === undefined) return this.wait();
      if (step === NOTHING) continue;
      let value: RespValue | typeof NOTHING = step;
      for (;;) {
        const top = this.top;
        if (top < 0) {
          this.messageBytes = 0;
          return value;
        }
        this.items[top].push(value);
        if (--this.left[top] > 0) break;
        value = this.close();
        if (value === NOTHING) break;
      }
    }
  }

  /** No more bytes will come: later `read()` calls hand out what is complete, then fail on a message begun. */
  end(): void {
    this.ended = true;
  }

  /** Releases every byte and partial value held. */
  clear(): void {
    this.queue.clear();
    this.kinds.length = this.items.length = this.left.length = 0;
    this.top = -1;
    this.bodyType = this.bodyLength = this.scanned = this.messageBytes = 0;
  }

  private wait(): undefined {
    if (this.ended) {
      const held = this.buffered;
      if (held > 0) throw new TruncatedFrameError(held);
    }
    // The queue's record of the last view would keep its chunk alive; nothing reads it here.
    this.queue.cut.clear();
    return undefined;
  }

  private protocolError(reason: string, at: number): RespProtocolError {
    return new RespProtocolError(reason, this.messageBytes + at);
  }

  /** Reads the value (or aggregate header) at the head of the queue. */
  private readElement(): Step {
    const type = this.queue.byteAt(0);
    if (this.top < 0 && this.commands && type !== T_ARRAY) {
      if (this.inline) return this.readInline();
      throw this.protocolError(`expected an array (a command), got type byte 0x${type.toString(16)}`, 0);
    }
    switch (type) {
      case T_BULK:
      case T_BLOB_ERROR:
      case T_VERBATIM:
        return this.readBulkHeader(type);
      case T_ARRAY:
      case T_MAP:
      case T_SET:
      case T_PUSH:
      case T_ATTRIBUTE:
        return this.readAggregateHeader(type);
      case T_INTEGER:
        return this.readInteger();
      case T_SIMPLE:
      case T_ERROR:
      case T_DOUBLE:
      case T_BIGNUM:
        return this.readSimple(type);
      case T_NULL:
      case T_BOOLEAN:
        return this.readTiny(type);
      default:
        if (this.inline && this.top < 0) return this.readInline();
        throw this.protocolError(`unknown type byte 0x${type.toString(16)}`, 0);
    }
  }

  /**
   * Position of the LF ending the line at the head (after a CR), or -1 while it has not come. A line
   * whose content (type byte and CRLF not counted) exceeds `max` bytes is the error `tooLong` makes,
   * raised as soon as that many bytes are held without a line end.
   */
  private lineEnd(max: number, tooLong: (length: number) => Error): number {
    const queue = this.queue;
    const lf = queue.indexOfByte(LF, this.scanned);
    if (lf < 0) {
      this.scanned = queue.length;
      if (queue.length > max + 2) throw tooLong(queue.length - 1);
      return -1;
    }
    this.scanned = 0;
    if (lf - 2 > max) throw tooLong(lf - 2);
    if (lf < 2 || queue.byteAt(lf - 1) !== CR) throw this.protocolError('expected CRLF at the end of a line', lf);
    return lf;
  }

  /** Consumes the line ending at `lf` (its LF included). */
  private consumeLine(lf: number): void {
    this.queue.skip(lf + 1);
    this.messageBytes += lf + 1;
  }

  private numberLineTooLong = (): Error => this.protocolError(`number line longer than ${MAX_NUMBER_LINE} bytes`, 0);

  private bulkLineTooLong = (length: number): Error => new RespLimitError('bulk', this.maxBulk, length);

  /** The integer of bytes 1 to `end` of the head line, parsed from the bytes (lossy past 2^53). */
  private parseNumber(end: number): number {
    const queue = this.queue;
    let i = 1;
    const negative = queue.byteAt(1) === MINUS;
    if (negative) i++;
    if (i === end) throw this.protocolError('expected digits', i);
    let n = 0;
    for (; i < end; i++) {
      const digit = queue.byteAt(i) - 48;
      if (digit < 0 || digit > 9) throw this.protocolError('expected a digit', i);
      n = n * 10 + digit;
    }
    return negative ? -n : n;
  }

  /** The length announced by the head line ending at `lf`: -1 (null) where `nullable`, else 0 or more. */
  private parseLength(lf: number, nullable: boolean): number {
    const n = this.parseNumber(lf - 1);
    if (n < 0 && !(n === -1 && nullable)) throw this.protocolError(`bad length ${n}`, 1);
    return n;
  }

  private readInteger(): Step {
    const lf = this.lineEnd(MAX_NUMBER_LINE, this.numberLineTooLong);
    if (lf < 0) return undefined;
    const n = this.parseNumber(lf - 1);
    if (Number.isSafeInteger(n)) {
      this.consumeLine(lf);
      return n;
    }
    // Past 2^53 the digits were summed with rounding: read them again, exactly.
    const big = BigInt(this.queue.extract(1, lf - 2, 2).toString('latin1'));
    this.messageBytes += lf + 1;
    return big;
  }

  /** `_` (null) and `#t` / `#f` (booleans). */
  private readTiny(type: number): Step {
    const lf = this.lineEnd(MAX_NUMBER_LINE, this.numberLineTooLong);
    if (lf < 0) return undefined;
    let value: RespValue;
    if (type === T_NULL) {
      if (lf !== 2) throw this.protocolError('expected CRLF after a null', 1);
      value = null;
    } else {
      const b = lf === 3 ? this.queue.byteAt(1) : 0;
      if (b !== 116 && b !== 102) throw this.protocolError("expected 't' or 'f' after '#'", 1);
      value = b === 116;
    }
    this.consumeLine(lf);
    return value;
  }

  /** `+` simple string, `-` error, `,` double, `(` big number: a line bounded by `maxBulkLength`. */
  private readSimple(type: number): Step {
    const lf = this.lineEnd(this.maxBulk, this.bulkLineTooLong);
    if (lf < 0) return undefined;
    const queue = this.queue;
    if (type === T_SIMPLE && lf === 4 && queue.byteAt(1) === 79 && queue.byteAt(2) === 75) {
      // The most common reply of all, without a view nor a string made for it.
      this.consumeLine(lf);
      return 'OK';
    }
    const numeric = type === T_DOUBLE || type === T_BIGNUM;
    const text = queue.extract(1, lf - 2, 2).toString(numeric ? 'latin1' : 'utf8');
    if (numeric) {
      const value = type === T_DOUBLE ? parseDouble(text) : BIG.test(text) ? BigInt(text) : undefined;
      if (value === undefined) throw this.protocolError(`bad ${type === T_DOUBLE ? 'double' : 'big number'}`, 1);
      this.messageBytes += lf + 1;
      return value;
    }
    this.messageBytes += lf + 1;
    return type === T_SIMPLE ? text : new RespError(text);
  }

  /** `$`, `!`, `=`: reads the length and leaves the body to {@link readBody}. */
  private readBulkHeader(type: number): Step {
    const lf = this.lineEnd(MAX_NUMBER_LINE, this.numberLineTooLong);
    if (lf < 0) return undefined;
    const n = this.parseLength(lf, type === T_BULK);
    if (n > this.maxBulk) throw new RespLimitError('bulk', this.maxBulk, n);
    if (type === T_VERBATIM && n < 4) throw this.protocolError('verbatim string shorter than its format', 1);
    this.consumeLine(lf);
    if (n < 0) return null;
    this.bodyType = type;
    this.bodyLength = n;
    return this.readBody();
  }

  private readBody(): Step {
    const queue = this.queue;
    const n = this.bodyLength;
    if (queue.length < n + 2) return undefined;
    if (queue.byteAt(n) !== CR || queue.byteAt(n + 1) !== LF) {
      throw this.protocolError('expected CRLF after a bulk string', n);
    }
    const type = this.bodyType;
    if (type === T_VERBATIM && queue.byteAt(3) !== 58) {
      throw this.protocolError("expected ':' after a verbatim string's format", 3);
    }
    this.bodyType = 0;
    const body = queue.extract(0, n, 2);
    this.messageBytes += n + 2;
    // An empty one of its own: the queue's shared empty Buffer would make two members of a set (or keys of a map) one.
    if (type === T_BULK) return n === 0 ? Buffer.alloc(0) : body;
    if (type === T_BLOB_ERROR) return new RespError(body.toString('utf8'));
    return new RespVerbatim(body.toString('latin1', 0, 3), body.toString('utf8', 4));
  }

  /** `*`, `%`, `~`, `>`, `|`: an empty one is a value at once, another waits on the stack. */
  private readAggregateHeader(type: number): Step {
    const lf = this.lineEnd(MAX_NUMBER_LINE, this.numberLineTooLong);
    if (lf < 0) return undefined;
    const n = this.parseLength(lf, type === T_ARRAY);
    if (n > this.maxAggregate) throw new RespLimitError('aggregate', this.maxAggregate, n);
    const depth = this.top + 2;
    if (n > 0 && depth > this.maxDepth) throw new RespLimitError('depth', this.maxDepth, depth);
    this.consumeLine(lf);
    if (n <= 0) {
      if (this.commands && this.top < 0) {
        // redis-server skips an empty or null command.
        this.messageBytes = 0;
        return NOTHING;
      }
      return n < 0 ? null : type === T_ATTRIBUTE ? NOTHING : emptyAggregate(type);
    }
    const top = ++this.top;
    this.kinds[top] = type;
    this.items[top] = [];
    this.left[top] = type === T_MAP || type === T_ATTRIBUTE ? 2 * n : n;
    return NOTHING;
  }

  /** Pops the aggregate just filled and builds its value; an attribute gives nothing. */
  private close(): RespValue | typeof NOTHING {
    const top = this.top--;
    const items = this.items[top];
    this.items[top] = EMPTY_ITEMS;
    switch (this.kinds[top]) {
      case T_ARRAY:
        return items;
      case T_MAP: {
        const map = new Map<RespValue, RespValue>();
        for (let i = 0; i < items.length; i += 2) map.set(items[i], items[i + 1]);
        return map;
      }
      case T_SET:
        return new Set(items);
      case T_PUSH:
        return new RespPush(items);
      default:
        return NOTHING;
    }
  }

  /**
   * An inline command: the line split on runs of spaces and tabs into bulk strings (quotes are not
   * interpreted, unlike redis-server's `sdssplitargs`); an empty line is skipped.
   */
  private readInline(): Step {
    const queue = this.queue;
    const lf = queue.indexOfByte(LF, this.scanned);
    if (lf < 0) {
      this.scanned = queue.length;
      // A CR last may be the start of the line end.
      const held = queue.length - (queue.lastByte() === CR ? 1 : 0);
      if (held > this.maxInline) throw new RespLimitError('inline', this.maxInline, held);
      return undefined;
    }
    this.scanned = 0;
    const line = queue.consume(lf + 1);
    let end = lf;
    if (end > 0 && line[end - 1] === CR) end--;
    if (end > this.maxInline) throw new RespLimitError('inline', this.maxInline, end);
    const args: Buffer[] = [];
    let start = -1;
    for (let i = 0; i <= end; i++) {
      const b = i === end ? SPACE : line[i];
      if (b === SPACE || b === TAB) {
        if (start >= 0) args.push(line.subarray(start, i));
        start = -1;
      } else if (start < 0) start = i;
    }
    if (args.length === 0) {
      this.messageBytes = 0;
      return NOTHING;
    }
    return args;
  }
}

const EMPTY_ITEMS: RespValue[] = [];

function emptyAggregate(type: number): RespValue {
  if (type === T_MAP) return new Map();
  if (type === T_SET) return new Set();
  if (type === T_PUSH) return new RespPush([]);
  return [];
}

/** A RESP3 double: digits with an optional fraction and exponent, or `inf`, `-inf`, `nan`. */
function parseDouble(text: string): number | undefined {
  if (DOUBLE.test(text)) return Number(text);
  const lower = text.toLowerCase();
  if (lower === 'inf' || lower === '+inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  if (lower === 'nan' || lower === '-nan') return NaN;
  return undefined;
}

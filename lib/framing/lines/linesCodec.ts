// linesCodec(): lines ended by \n or \r\n as one Codec, as bytes or as text, with one line limit both ways.
import type { Buffer } from 'buffer';
import type { Codec } from '../../codec/Codec';
import { InvalidArgumentError } from '../../errors';
import type { Chunk } from '../../types';
import { checkLimit, checkOptions } from '../../util/validate';
import type { FrameCut } from '../../util/FrameCut';
import type { DelimiterFramer } from '../delimited/DelimiterFramer';
import { DEFAULT_MAX_LENGTH, type Framer, type Truncation } from '../Framer';
import { lineFramer } from './decodeLines';
import { lineEncoder } from './encodeLines';

/**
 * The text encodings a {@link linesCodec} may decode lines to and encode them from: those in which the
 * byte 0x0a is `\n` and nothing else, so that every line is whole text (UTF-8 never uses 0x0a inside a
 * character; UTF-16 does, and its `\n` is two bytes).
 *
 * @example
 * ```ts
 * import { linesCodec, type LineEncoding } from 'rxnet';
 *
 * const legacy: LineEncoding = 'latin1'; // one byte per character, any byte
 * const codec = linesCodec({ encoding: legacy });
 * ```
 */
export type LineEncoding = 'utf8' | 'utf-8' | 'latin1' | 'binary' | 'ascii';

const LINE_ENCODINGS: readonly string[] = ['utf8', 'utf-8', 'latin1', 'binary', 'ascii'];

/**
 * Options of {@link linesCodec}: those of `decodeLines` and `encodeLines` that describe the protocol,
 * one `maxLength` for both directions.
 *
 * @example
 * ```ts
 * import { linesCodec, type LinesCodecOptions } from 'rxnet';
 *
 * // SMTP-like: CRLF written, lines up to 998 bytes both ways, a last line without ending is an error.
 * const smtp: LinesCodecOptions = { newline: '\r\n', maxLength: 998, truncation: 'error' };
 * const codec = linesCodec(smtp);
 * ```
 */
export interface LinesCodecOptions {
  /**
   * Longest line, in bytes, the line ending not counted, in both directions: a longer line read is a
   * `FrameTooLongError` (raised before its end arrives), and so is a longer line given to `encode`,
   * which the peer's decoder would refuse. An integer >= 1; default 65536 (64 KiB); `Infinity` turns
   * the limit off.
   */
  readonly maxLength?: number;
  /** The line ending written: `'\n'` (default) or `'\r\n'`. Both are read. */
  readonly newline?: '\n' | '\r\n';
  /**
   * A last line without a line ending when the bytes end: `'emit'` (default) decodes it, `'error'`
   * raises `TruncatedFrameError`, `'discard'` drops it.
   */
  readonly truncation?: Truncation;
  /**
   * Decode each line as its own copy rather than a view of the chunk it was cut from (see
   * `decodeLines`). Default false.
   */
  readonly copy?: boolean;
}

/**
 * Options of {@link linesCodec} for text lines: those of {@link LinesCodecOptions} and the encoding.
 *
 * @example
 * ```ts
 * import { linesCodec, type TextLinesCodecOptions } from 'rxnet';
 *
 * const chat: TextLinesCodecOptions = { encoding: 'utf8', maxLength: 1024 };
 * const codec = linesCodec(chat); // Codec<string, string>
 * ```
 */
export interface TextLinesCodecOptions extends Omit<LinesCodecOptions, 'copy'> {
  /** Lines are decoded to strings in this encoding, and strings given to `encode` are written in it. */
  readonly encoding: LineEncoding;
}

/**
 * Lines ended by `\n` or `\r\n`, both ways: the {@link Codec} of `decodeLines` and `encodeLines`.
 * Without `encoding`, lines are Buffers (views of the chunks, as `decodeLines` cuts them) and
 * `encode` takes strings (UTF-8), Buffers or Uint8Arrays; with `encoding` (`'utf8'`, `'latin1'`,
 * `'ascii'`), lines are decoded to strings and strings are written in it.
 *
 * ```
 * bytes:    -[HELO a\r]-[\nQUIT\n]-|       linesCodec({ encoding: 'utf8' })
 * decoded:  -----------('HELO a','QUIT')-|
 * encode('250 ok') → [250 ok\n]            (newline: '\r\n' → [250 ok\r\n])
 * ```
 *
 * A line is text on its own: in these encodings no character holds the byte 0x0a, so decoding each
 * line apart gives what decoding the whole stream gives (an incomplete UTF-8 sequence inside a line
 * becomes U+FFFD, as it would anywhere).
 *
 * Limits: one `maxLength` (default 64 KiB) both ways. Decoding, a line over it is a
 * `FrameTooLongError` as soon as that many bytes without `\n` are held; encoding, a line over it is
 * a `FrameTooLongError` too (where `encodeLines` has no limit by default), and a value containing
 * `\n` or ending with `\r` an `EncodeError`. End of stream: a last line without ending follows
 * `truncation` (default: decoded).
 *
 * @throws InvalidArgumentError at creation for a bad option (`maxLength` not an integer >= 1 nor
 *   `Infinity`, a `newline`, `truncation` or `encoding` not listed, `copy` not a boolean).
 * @example
 * ```ts
 * import { map } from 'rxjs';
 * import { decodeWith, encodeWith, linesCodec, listen, sendTo, serveEach } from 'rxnet';
 *
 * // A line protocol over UTF-8: each line answered with its upper case, CRLF written.
 * const text = linesCodec({ encoding: 'utf8', newline: '\r\n', maxLength: 4096 });
 * listen({ port: 8108 })
 *   .pipe(serveEach((conn) => conn.data$.pipe(decodeWith(text), map((line) => line.toUpperCase()), encodeWith(text), sendTo(conn))))
 *   .subscribe();
 *
 * // Raw lines: Buffers in, Buffers, strings or Uint8Arrays out.
 * const raw = linesCodec({ maxLength: 512 });
 * raw.encode(Buffer.from('PING')); // <PING\n>
 * ```
 */
export function linesCodec(options: TextLinesCodecOptions): Codec<string, string>;
/**
 * Lines as Buffers, without `encoding`: see the text form above.
 *
 * @example
 * ```ts
 * import { decodeWith, linesCodec, type Connection } from 'rxnet';
 *
 * declare const conn: Connection;
 * conn.data$.pipe(decodeWith(linesCodec())).subscribe((line) => console.log(line.length));
 * ```
 */
export function linesCodec(options?: LinesCodecOptions): Codec<Buffer, Chunk>;
export function linesCodec(
  options: LinesCodecOptions & Partial<TextLinesCodecOptions> = {},
): Codec<Buffer, Chunk> | Codec<string, string> {
  const { newline, truncation, copy, encoding } = checkOptions(options);
  const maxLength = checkLimit('maxLength', options.maxLength, DEFAULT_MAX_LENGTH, 1);
  if (encoding !== undefined && !LINE_ENCODINGS.includes(encoding)) {
    throw new InvalidArgumentError(
      'encoding',
      `expected one of ${LINE_ENCODINGS.join(', ')} (where only \\n is the byte 0x0a), got ${String(encoding)}`,
    );
  }
  const lines = lineFramer({ maxLength, truncation, copy });
  const encode = lineEncoder({ newline, maxLength }, encoding);
  if (encoding === undefined) return { decoder: lines, encode };
  return { decoder: () => new TextLines(lines(), encoding), encode };
}

/** Lines as text, each decoded where it lies in its chunk: no view of a line is made for it. */
class TextLines implements Framer<string> {
  constructor(
    private readonly lines: DelimiterFramer,
    private readonly encoding: LineEncoding,
  ) {}

  get buffered(): number {
    return this.lines.buffered;
  }

  /** The line framer's record (a line that ends its chunk is still cut as a view), cleared after each chunk. */
  get frameCut(): FrameCut {
    return this.lines.frameCut;
  }

  push(chunk: Buffer): void {
    this.lines.push(chunk);
  }

  read(): string | undefined {
    return this.lines.readText(this.encoding);
  }

  end(): void {
    this.lines.end();
  }

  clear(): void {
    this.lines.clear();
  }
}

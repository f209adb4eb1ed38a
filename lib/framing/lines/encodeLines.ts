// encodeLines(): values to lines ended by \n (or \r\n).
import { Buffer } from 'buffer';
import { map, type OperatorFunction } from 'rxjs';
import { EncodeError, FrameTooLongError, InvalidArgumentError } from '../../errors';
import type { Chunk } from '../../types';
import { FRAMES } from '../../util/FrameSlab';
import { checkLimit, checkOptions } from '../../util/validate';

/**
 * Options of {@link encodeLines}.
 *
 * @example
 * ```ts
 * import { from } from 'rxjs';
 * import { encodeLines, type EncodeLinesOptions } from 'rxnet';
 *
 * // Telnet and SMTP want CRLF.
 * const crlf: EncodeLinesOptions = { newline: '\r\n' };
 * from(['HELO example.org', 'QUIT']).pipe(encodeLines(crlf)).subscribe();
 * ```
 */
export interface EncodeLinesOptions {
  /** The line ending written: `'\n'` (default) or `'\r\n'`. */
  readonly newline?: '\n' | '\r\n';
  /** Longest line allowed, ending not counted; longer is a `FrameTooLongError`. Default: no limit. */
  readonly maxLength?: number;
}

/**
 * Ends each value with a newline: the encoder matching {@link decodeLines}.
 *
 * ```
 * source:  -a----'b c'---|        (strings as UTF-8, Buffers, Uint8Arrays)
 * output:  -a\n--'b c\n'-|
 * ```
 *
 * Limits: a value containing `\n`, or ending with `\r`, is an `EncodeError` (the peer's `decodeLines()`
 * would split or shorten it); one over `maxLength` bytes is a `FrameTooLongError`.
 *
 * Memory: outputs of 512 B to 4 KiB are cut end to end from a 64 KiB slab shared by rxnet's encoders (as
 * Node cuts smaller Buffers from its 8 KiB pool), so the replies to one chunk go out as one write; a frame
 * kept keeps its slab alive, so copy one kept for long (`Buffer.from(frame)`).
 *
 * End of stream: completes when the source completes.
 *
 * @throws InvalidArgumentError at creation for a bad option.
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * import { encodeLines, sendTo, type Connection } from 'rxnet';
 *
 * declare const connection: Connection;
 * of('HELLO', 'BYE').pipe(encodeLines({ newline: '\r\n' }), sendTo(connection)).subscribe();
 * ```
 */
export function encodeLines(config: EncodeLinesOptions = {}): OperatorFunction<Chunk, Buffer> {
  return map(lineEncoder(config));
}

/**
 * The encoding of one line by {@link encodeLines} (and `linesCodec`), `config` checked now; strings are written
 * in `encoding` (UTF-8, or an encoding in which only `\n` is the byte 0x0a: latin1, ascii).
 */
export function lineEncoder(config: EncodeLinesOptions, encoding: BufferEncoding = 'utf8'): (value: Chunk) => Buffer {
  const newline = checkOptions(config).newline ?? '\n';
  if (newline !== '\n' && newline !== '\r\n') {
    throw new InvalidArgumentError('newline', `expected '\\n' or '\\r\\n', got ${JSON.stringify(newline)}`);
  }
  const endingLength = newline.length;
  const maxLength = checkLimit('maxLength', config.maxLength, Infinity, 1);
  const cr = endingLength === 2;
  // latin1 and ascii write a character's low byte: U+010A is written 0x0a, so their strings are checked as bytes.
  const utf8 = encoding === 'utf8' || encoding === 'utf-8';
  return (value) => {
    let out: Buffer;
    if (typeof value === 'string' && utf8) {
      // Checked as a string (cheaper than a search of the bytes), then encoded once, straight into
      // the line's memory. More UTF-16 units than maxLength allows bytes is too long for sure.
      const lf = value.indexOf('\n');
      if (lf !== -1 || value.endsWith('\r') || value.length > maxLength) {
        // Refused: measured, so that the errors come in the order the bytes would give them.
        const length = Buffer.byteLength(value);
        if (length > maxLength) throw new FrameTooLongError(maxLength, length);
        if (lf !== -1)
          throw new EncodeError(`a line must not contain \\n (found at byte ${Buffer.byteLength(value.slice(0, lf))})`);
        throw new EncodeError('a line must not end with \\r');
      }
      out = FRAMES.encode(value, 0, endingLength);
      const length = out.length - endingLength;
      if (length > maxLength) throw new FrameTooLongError(maxLength, length);
    } else {
      const bytes = typeof value === 'string' ? Buffer.from(value, encoding) : value;
      const length = bytes.length;
      if (length > maxLength) throw new FrameTooLongError(maxLength, length);
      const lf = bytes.indexOf(0x0a);
      if (lf !== -1) throw new EncodeError(`a line must not contain \\n (found at byte ${lf})`);
      if (length > 0 && bytes[length - 1] === 0x0d) throw new EncodeError('a line must not end with \\r');
      out = FRAMES.alloc(length + endingLength);
      out.set(bytes, 0);
    }
    // The ending's bytes, stored: cheaper than a copy call for one or two bytes.
    const end = out.length;
    if (cr) out[end - 2] = 0x0d;
    out[end - 1] = 0x0a;
    return out;
  };
}

/** @deprecated The former name of {@link EncodeLinesOptions}, kept so that code written for 0.1 compiles. */
export type EncodeLinesConfig = EncodeLinesOptions;

// encodeLines(): values to lines ended by \n (or \r\n).
import { Buffer } from 'buffer';
import { map, type OperatorFunction } from 'rxjs';
import { EncodeError, FrameTooLongError, InvalidArgumentError } from '../../errors';
import type { Chunk } from '../../types';
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
  const newline = checkOptions(config).newline ?? '\n';
  if (newline !== '\n' && newline !== '\r\n') {
    throw new InvalidArgumentError('newline', `expected '\\n' or '\\r\\n', got ${JSON.stringify(newline)}`);
  }
  const ending = Buffer.from(newline);
  const maxLength = checkLimit('maxLength', config.maxLength, Infinity, 1);
  const endingLength = ending.length;
  return map((value: Chunk) => {
    // A string is encoded straight into the line's buffer: one allocation, no intermediate copy.
    const text = typeof value === 'string';
    const length = text ? Buffer.byteLength(value) : value.length;
    if (length > maxLength) throw new FrameTooLongError(maxLength, length);
    const out = Buffer.allocUnsafe(length + endingLength);
    if (text) out.write(value, 0, length, 'utf8');
    else out.set(value, 0);
    ending.copy(out, length);
    // The ending is the first \n unless the line holds one.
    const lf = out.indexOf(0x0a);
    if (lf < length) throw new EncodeError(`a line must not contain \\n (found at byte ${lf})`);
    if (length > 0 && out[length - 1] === 0x0d) throw new EncodeError('a line must not end with \\r');
    return out;
  });
}

/** @deprecated The former name of {@link EncodeLinesOptions}, kept so that code written for 0.1 compiles. */
export type EncodeLinesConfig = EncodeLinesOptions;

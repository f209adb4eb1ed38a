// delimitedCodec(): frames ended by any byte sequence as one Codec, with one frame limit both ways.
import type { Buffer } from 'buffer';
import type { Codec } from '../../codec/Codec';
import type { Chunk } from '../../types';
import { checkDelimiter, checkLimit, checkOptions } from '../../util/validate';
import { DEFAULT_MAX_LENGTH, type Truncation } from '../Framer';
import { delimitedFramer } from './decodeDelimited';
import { delimiterEncoder } from './encodeDelimited';

/**
 * Options of {@link delimitedCodec}: those of `decodeDelimited` and `encodeDelimited` that describe
 * the protocol, one `maxLength` for both directions.
 *
 * @example
 * ```ts
 * import { delimitedCodec, type DelimitedCodecOptions } from 'rxnet';
 *
 * // NUL-ended frames up to 1 MiB both ways; a last frame without its NUL is dropped.
 * const options: DelimitedCodecOptions = { maxLength: 1 << 20, truncation: 'discard' };
 * const codec = delimitedCodec('\0', options);
 * ```
 */
export interface DelimitedCodecOptions {
  /**
   * Longest frame, in bytes, the delimiter not counted, in both directions: a longer frame read is a
   * `FrameTooLongError` (raised before its delimiter arrives), and so is a longer frame given to
   * `encode`. An integer >= 1; default 65536 (64 KiB); `Infinity` turns the limit off.
   */
  readonly maxLength?: number;
  /**
   * Bytes left without a delimiter when the bytes end: `'error'` (default) raises
   * `TruncatedFrameError`, `'emit'` decodes them as a last frame, `'discard'` drops them.
   */
  readonly truncation?: Truncation;
  /**
   * Decode each frame as its own copy rather than a view of the chunk it was cut from (see
   * `decodeDelimited`). Default false.
   */
  readonly copy?: boolean;
}

/**
 * Frames ended by `delimiter` (any non-empty byte sequence), both ways: the {@link Codec} of
 * `decodeDelimited` and `encodeDelimited`. Decoded frames are Buffers without the delimiter (views of
 * the chunks unless a frame spans chunks); `encode` takes Buffers, Uint8Arrays or strings (UTF-8).
 *
 * ```
 * delimitedCodec('\0'):
 * bytes:    -[one\0tw]-[o\0]-|
 * decoded:  -one-------two---|
 * encode('three') → [three\0]
 * ```
 *
 * Limits: one `maxLength` (default 64 KiB) both ways. Decoding, a frame over it is a
 * `FrameTooLongError` as soon as that many bytes without a delimiter are held; encoding, a frame
 * over it is a `FrameTooLongError` too (where `encodeDelimited` has no limit by default), and one in
 * which the delimiter would be found before its end an `EncodeError`. End of stream: bytes left
 * without a delimiter follow `truncation` (default: `TruncatedFrameError`).
 *
 * @throws InvalidArgumentError at creation for an empty delimiter or a bad option (`maxLength` not
 *   an integer >= 1 nor `Infinity`, a `truncation` not listed, `copy` not a boolean).
 * @example
 * ```ts
 * import { decodeWith, encodeWith, delimitedCodec, sendTo, type Connection } from 'rxnet';
 * import { map } from 'rxjs';
 *
 * declare const conn: Connection;
 * // STOMP-like frames ended by NUL, each answered with its length.
 * const frames = delimitedCodec('\0', { maxLength: 1 << 20 });
 * conn.data$
 *   .pipe(decodeWith(frames), map((frame) => `${frame.length}`), encodeWith(frames), sendTo(conn))
 *   .subscribe();
 * ```
 */
export function delimitedCodec(
  delimiter: Buffer | Uint8Array | string,
  options: DelimitedCodecOptions = {},
): Codec<Buffer, Chunk> {
  const bytes = checkDelimiter(delimiter);
  const { truncation, copy } = checkOptions(options);
  const maxLength = checkLimit('maxLength', options.maxLength, DEFAULT_MAX_LENGTH, 1);
  return {
    decoder: delimitedFramer(bytes, { maxLength, truncation, copy }),
    encode: delimiterEncoder(bytes, { maxLength }),
  };
}

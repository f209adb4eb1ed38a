// lengthFieldCodec(): [length][payload] frames as one Codec, as Netty pairs LengthFieldPrepender with its decoder.
import type { Buffer } from 'buffer';
import type { Codec } from '../../codec/Codec';
import type { Chunk } from '../../types';
import { checkInteger, checkOptions } from '../../util/validate';
import { lengthFieldFramer } from './decodeLengthField';
import { lengthFieldEncoder } from './encodeLengthField';

/**
 * Options of {@link lengthFieldCodec}: the frame as `encodeLengthField` writes it (Netty's
 * `LengthFieldPrepender`), the limit and end-of-stream choices of `decodeLengthField`.
 *
 * ```
 * [length field: payload length (+ lengthFieldLength if it counts itself) + lengthAdjustment][payload]
 * ```
 *
 * @example
 * ```ts
 * import { lengthFieldCodec, type LengthFieldCodecOptions } from 'rxnet';
 *
 * // [uint32 LE length, counting itself][payload], frames up to 1 MiB.
 * const options: LengthFieldCodecOptions = {
 *   lengthFieldLength: 4,
 *   byteOrder: 'LE',
 *   lengthIncludesLengthFieldLength: true,
 *   maxFrameLength: 1 << 20,
 * };
 * const codec = lengthFieldCodec(options);
 * ```
 */
export interface LengthFieldCodecOptions {
  /**
   * Longest frame, length field included, in both directions: a longer frame announced is a
   * `FrameTooLongError` as soon as its length field is read (see `failFast`), and so is a payload
   * over `maxFrameLength - lengthFieldLength` bytes given to `encode`. Required.
   */
  readonly maxFrameLength: number;
  /** Size of the length field: 1, 2, 3, 4 (unsigned) or 8 bytes. Required. */
  readonly lengthFieldLength: 1 | 2 | 3 | 4 | 8;
  /** Byte order of the length field. Default `'BE'`. */
  readonly byteOrder?: 'BE' | 'LE';
  /** Whether the length written counts the length field itself. Default false. */
  readonly lengthIncludesLengthFieldLength?: boolean;
  /**
   * Added to the length written (as `encodeLengthField`'s, and Netty's `LengthFieldPrepender`'s),
   * taken off the length read; may be negative. Default 0.
   */
  readonly lengthAdjustment?: number;
  /**
   * `true` (default): `FrameTooLongError` as soon as a length field announces a frame over
   * `maxFrameLength`. `false`: that frame's bytes are skipped as they arrive and the error comes once
   * it has gone by, as in Netty.
   */
  readonly failFast?: boolean;
  /**
   * A partial frame when the bytes end: `'error'` (default) raises `TruncatedFrameError`;
   * `'discard'` drops it.
   */
  readonly truncation?: 'error' | 'discard';
  /**
   * Decode each payload as its own copy rather than a view of the chunk it was cut from (see
   * `decodeLengthField`). Default false.
   */
  readonly copy?: boolean;
}

/**
 * Payloads behind a length field, both ways: the {@link Codec} of `encodeLengthField` and the
 * `decodeLengthField` that reads exactly what it writes (`lengthFieldOffset` 0, the header stripped,
 * the adjustment undone), as Netty pairs `LengthFieldPrepender` with `LengthFieldBasedFrameDecoder`.
 * Decoded payloads are Buffers (views of the chunks unless a frame spans chunks); `encode` takes
 * Buffers, Uint8Arrays or strings (UTF-8).
 *
 * ```
 * lengthFieldCodec({ lengthFieldLength: 2, maxFrameLength: 1024 }):
 * bytes:    -[00 03 61]-[62 63 00]-[01 64]-|
 * decoded:  ------------abc--------d-------|
 * encode('hi') → [00 02 68 69]
 * ```
 *
 * For a header with bytes before the length field, or a length that counts them, decode with
 * `decodeLengthField` (its options are Netty's decoder's): only this frame layout can be encoded.
 *
 * Limits: one `maxFrameLength` both ways, checked when a length field is read, before the body is
 * held; a payload given to `encode` that would make a longer frame, or that its field cannot hold,
 * is a `FrameTooLongError`, and one whose adjusted length is negative an `EncodeError`. A negative
 * 8-byte field, or an adjusted length read below 0, is a `CorruptedFrameError`. End of stream: a
 * partial frame follows `truncation` (default: `TruncatedFrameError`).
 *
 * @throws InvalidArgumentError at creation for a missing or bad option (`maxFrameLength` not an
 *   integer >= `lengthFieldLength`, a `lengthFieldLength`, `byteOrder` or `truncation` not listed,
 *   `lengthAdjustment` not an integer, a flag that is not a boolean).
 * @example
 * ```ts
 * import { decodeWith, encodeWith, lengthFieldCodec, sendTo, type Connection } from 'rxnet';
 *
 * declare const conn: Connection;
 * // [uint32 BE length][payload], frames up to 1 MiB: an echo of each payload.
 * const frames = lengthFieldCodec({ lengthFieldLength: 4, maxFrameLength: 1 << 20 });
 * conn.data$.pipe(decodeWith(frames), encodeWith(frames), sendTo(conn)).subscribe();
 * ```
 */
export function lengthFieldCodec(options: LengthFieldCodecOptions): Codec<Buffer, Chunk> {
  const maxFrameLength = checkInteger('maxFrameLength', checkOptions(options).maxFrameLength, 1);
  const fieldLength = options.lengthFieldLength;
  // Checks the field's options (length, byte order, adjustment, whether it counts itself) first.
  const encode = lengthFieldEncoder(options, maxFrameLength - fieldLength);
  const read = (options.lengthAdjustment ?? 0) + (options.lengthIncludesLengthFieldLength === true ? fieldLength : 0);
  return {
    decoder: lengthFieldFramer({
      maxFrameLength,
      lengthFieldLength: fieldLength,
      byteOrder: options.byteOrder,
      lengthAdjustment: -read,
      initialBytesToStrip: fieldLength,
      failFast: options.failFast,
      truncation: options.truncation,
      copy: options.copy,
    }),
    encode,
  };
}

// fixedLengthCodec(): frames of one size as one Codec.
import type { Buffer } from 'buffer';
import type { Codec } from '../../codec/Codec';
import type { Chunk } from '../../types';
import type { Truncation } from '../Framer';
import { fixedLengthFramer } from './decodeFixedLength';
import { fixedLengthEncoder } from './encodeFixedLength';

/**
 * Options of {@link fixedLengthCodec}: those of `decodeFixedLength` and `encodeFixedLength`.
 *
 * @example
 * ```ts
 * import { fixedLengthCodec, type FixedLengthCodecOptions } from 'rxnet';
 *
 * // 8-byte records, short ones padded with spaces, a short last record dropped.
 * const options: FixedLengthCodecOptions = { pad: 0x20, truncation: 'discard' };
 * const codec = fixedLengthCodec(8, options);
 * ```
 */
export interface FixedLengthCodecOptions {
  /**
   * Bytes left over (fewer than `frameLength`) when the bytes end: `'error'` (default) raises
   * `TruncatedFrameError`, `'emit'` decodes them as a short last frame, `'discard'` drops them.
   */
  readonly truncation?: Truncation;
  /**
   * Decode each frame as its own copy rather than a view of the chunk it was cut from (see
   * `decodeFixedLength`). Default false.
   */
  readonly copy?: boolean;
  /**
   * Byte value (0–255) that `encode` appends to a shorter frame to fill it up. Default: none, a
   * shorter frame is an `EncodeError`.
   */
  readonly pad?: number;
}

/**
 * Frames of exactly `frameLength` bytes, both ways: the {@link Codec} of `decodeFixedLength` and
 * `encodeFixedLength`. Decoded frames are Buffers (views of the chunks unless a frame spans chunks);
 * `encode` takes Buffers, Uint8Arrays or strings (UTF-8), passes one of `frameLength` bytes on as it
 * is and pads (with `pad`) or refuses the others.
 *
 * ```
 * fixedLengthCodec(3, { pad: 0 }):
 * bytes:    -[abcd]-[ef]-|
 * decoded:  -abc----def--|
 * encode('de') → [64 65 00]     encode('wxyz') → FrameTooLongError(3, 4)
 * ```
 *
 * Limits: decoding never holds more than `frameLength - 1` bytes plus one chunk; encoding, a
 * longer frame is a `FrameTooLongError`, a shorter one without `pad` an `EncodeError`. End of
 * stream: a short remainder follows `truncation` (default: `TruncatedFrameError`).
 *
 * @throws InvalidArgumentError at creation unless `frameLength` is an integer >= 1, for a
 *   `truncation` not listed, a `copy` that is not a boolean and a `pad` that is not a byte.
 * @example
 * ```ts
 * import { decodeWith, encodeWith, fixedLengthCodec, sendTo, type Connection } from 'rxnet';
 * import { map } from 'rxjs';
 *
 * declare const conn: Connection;
 * // 4-byte big-endian counters: each answered with the next one.
 * const counters = fixedLengthCodec(4);
 * conn.data$
 *   .pipe(
 *     decodeWith(counters),
 *     map((frame) => {
 *       const next = Buffer.alloc(4);
 *       next.writeUInt32BE((frame.readUInt32BE(0) + 1) >>> 0);
 *       return next;
 *     }),
 *     encodeWith(counters),
 *     sendTo(conn),
 *   )
 *   .subscribe();
 * ```
 */
export function fixedLengthCodec(frameLength: number, options: FixedLengthCodecOptions = {}): Codec<Buffer, Chunk> {
  return {
    decoder: fixedLengthFramer(frameLength, options),
    encode: fixedLengthEncoder(frameLength, options),
  };
}

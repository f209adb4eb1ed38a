// encodeFixedLength(): frames checked (or padded) to one size.
import { Buffer } from 'buffer';
import { map, type OperatorFunction } from 'rxjs';
import { EncodeError, FrameTooLongError, InvalidArgumentError } from '../../errors';
import type { Chunk } from '../../types';
import { checkInteger } from '../../util/validate';
import { toBuffer } from '../../util/toBuffer';

/**
 * Options of {@link encodeFixedLength}.
 *
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * import { encodeFixedLength, type EncodeFixedLengthOptions } from 'rxnet';
 *
 * const spaces: EncodeFixedLengthOptions = { pad: 0x20 };
 * of('ok').pipe(encodeFixedLength(8, spaces)).subscribe(); // <'ok      '>
 * ```
 */
export interface EncodeFixedLengthOptions {
  /**
   * Byte value (0–255) appended to a shorter frame to fill it up. Default: none, a shorter
   * frame is an `EncodeError`, since the peer's `decodeFixedLength` would glue it to the next one.
   */
  readonly pad?: number;
}

/**
 * Passes frames of exactly `frameLength` bytes on (as Buffers, without copying) and refuses or
 * pads the others: the encoder matching {@link decodeFixedLength}.
 *
 * ```
 * encodeFixedLength(3, { pad: 0 }):
 * source:  -'abc'-'de'----'wxyz'-|
 * output:  -'abc'-[64 65 00]-#          FrameTooLongError(3, 4)
 * ```
 *
 * Limits: a longer frame is a `FrameTooLongError` (`limit` = `frameLength`); a shorter one is
 * padded with `pad`, or an `EncodeError` when no `pad` is given.
 *
 * End of stream: completes when the source completes.
 *
 * @throws InvalidArgumentError at creation unless `frameLength` ≥ 1 and `pad` is a byte.
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * import { encodeFixedLength } from 'rxnet';
 *
 * of('ab').pipe(encodeFixedLength(4, { pad: 0x20 })).subscribe((b) => console.log(b.toString())); // 'ab  '
 * ```
 */
export function encodeFixedLength(
  frameLength: number,
  config: EncodeFixedLengthOptions = {},
): OperatorFunction<Chunk, Buffer> {
  return map(fixedLengthEncoder(frameLength, config));
}

/**
 * The encoding of one frame by {@link encodeFixedLength} (and `fixedLengthCodec`), arguments checked now: the
 * frame itself when it has `frameLength` bytes, else padded into a fresh Buffer or refused.
 */
export function fixedLengthEncoder(frameLength: number, config: EncodeFixedLengthOptions): (value: Chunk) => Buffer {
  const length = checkInteger('frameLength', frameLength, 1);
  if (config === null || typeof config !== 'object') throw new InvalidArgumentError('config', 'expected an object');
  const pad = config.pad === undefined ? undefined : checkInteger('pad', config.pad, 0, 255);
  return (value) => {
    const frame = toBuffer(value);
    if (frame.length === length) return frame;
    if (frame.length > length) throw new FrameTooLongError(length, frame.length);
    if (pad === undefined)
      throw new EncodeError(`frame of ${frame.length} byte(s) is shorter than ${length} and no pad was given`);
    const out = Buffer.alloc(length, pad);
    frame.copy(out, 0);
    return out;
  };
}

/** @deprecated The former name of {@link EncodeFixedLengthOptions}, kept so that code written for 0.1 compiles. */
export type EncodeFixedLengthConfig = EncodeFixedLengthOptions;

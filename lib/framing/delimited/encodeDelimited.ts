// encodeDelimited(): frames to bytes, each followed by a delimiter.
import { Buffer } from 'buffer';
import { map, type OperatorFunction } from 'rxjs';
import { EncodeError, FrameTooLongError } from '../../errors';
import type { Chunk } from '../../types';
import { FRAMES } from '../../util/FrameSlab';
import { checkDelimiter, checkLimit, checkOptions } from '../../util/validate';
import { toBuffer } from '../../util/toBuffer';

/**
 * Options of {@link encodeDelimited}.
 *
 * @example
 * ```ts
 * import { from } from 'rxjs';
 * import { encodeDelimited, type EncodeDelimitedOptions } from 'rxnet';
 *
 * const config: EncodeDelimitedOptions = { maxLength: 1024 };
 * from(['one', 'two']).pipe(encodeDelimited('\0', config)).subscribe(); // <one\0>, <two\0>
 * ```
 */
export interface EncodeDelimitedOptions {
  /** Longest frame allowed, delimiter not counted; longer is a `FrameTooLongError`. Default: no limit. */
  readonly maxLength?: number;
}

/**
 * Appends `delimiter` to each frame: the encoder matching {@link decodeDelimited}.
 *
 * ```
 * encodeDelimited('\0'):
 * source:  -a----bc---|          (Buffers, Uint8Arrays or strings, strings as UTF-8)
 * output:  -a\0--bc\0-|          (one Buffer per frame)
 * ```
 *
 * Each output Buffer is a copy of the frame with the delimiter after it (one copy, so a socket
 * gets one write per frame).
 *
 * Limits: a frame in which the delimiter would be found before its end (it contains the
 * delimiter, or its tail and the delimiter overlap into an earlier match) is an `EncodeError`,
 * since the peer would cut it short; a frame over `maxLength` is a `FrameTooLongError`. Either
 * error is the error notification.
 *
 * Memory: outputs of 512 B to 4 KiB are cut end to end from a 64 KiB slab shared by rxnet's encoders (as
 * Node cuts smaller Buffers from its 8 KiB pool), so the replies to one chunk go out as one write; a frame
 * kept keeps its slab alive, so copy one kept for long (`Buffer.from(frame)`).
 *
 * End of stream: completes when the source completes.
 *
 * @throws InvalidArgumentError at creation for an empty delimiter or a bad option.
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * import { encodeDelimited } from 'rxnet';
 *
 * of('one', 'two').pipe(encodeDelimited('\0')).subscribe((bytes) => console.log(bytes)); // <6f 6e 65 00>, <74 77 6f 00>
 * ```
 */
export function encodeDelimited(
  delimiter: Buffer | Uint8Array | string,
  config: EncodeDelimitedOptions = {},
): OperatorFunction<Chunk, Buffer> {
  return map(delimiterEncoder(checkDelimiter(delimiter), config));
}

/**
 * The encoding of one frame by {@link encodeDelimited} (and `delimitedCodec`), `config` checked now: the frame
 * and `delimiter` in one fresh Buffer, refusing a frame the decoder would cut short.
 */
export function delimiterEncoder(delimiter: Buffer, config: EncodeDelimitedOptions): (value: Chunk) => Buffer {
  const maxLength = checkLimit('maxLength', checkOptions(config).maxLength, Infinity, 1);
  return (value) => {
    const frame = toBuffer(value);
    if (frame.length > maxLength) throw new FrameTooLongError(maxLength, frame.length);
    const out = FRAMES.alloc(frame.length + delimiter.length);
    frame.copy(out, 0);
    delimiter.copy(out, frame.length);
    const found = out.indexOf(delimiter);
    if (found !== frame.length) {
      throw new EncodeError(`the delimiter occurs inside the frame at byte ${found}`);
    }
    return out;
  };
}

/** @deprecated The former name of {@link EncodeDelimitedOptions}, kept so that code written for 0.1 compiles. */
export type EncodeDelimitedConfig = EncodeDelimitedOptions;

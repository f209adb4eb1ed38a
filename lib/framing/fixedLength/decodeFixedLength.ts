// decodeFixedLength(): frames of one size.
import type { OperatorFunction } from 'rxjs';
import { FixedLengthFramer } from './FixedLengthFramer';
import { type Truncation } from '../Framer';
import { decodeFrames } from '../decodeFrames';
import { checkBoolean, checkInteger, checkOptions, checkTruncation } from '../../util/validate';

/**
 * Options of {@link decodeFixedLength}.
 *
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * import { decodeFixedLength, type DecodeFixedLengthOptions } from 'rxnet';
 *
 * const config: DecodeFixedLengthOptions = { truncation: 'emit' };
 * of(Buffer.from('abcde')).pipe(decodeFixedLength(2, config)).subscribe((f) => console.log(f.toString())); // ab, cd, e
 * ```
 */
export interface DecodeFixedLengthOptions {
  /**
   * Bytes left over (fewer than `frameLength`) when the source completes: `'error'` (default)
   * raises `TruncatedFrameError`, `'emit'` emits them as a short last frame, `'discard'` drops
   * them (as Netty's `FixedLengthFrameDecoder` does).
   */
  readonly truncation?: Truncation;
  /**
   * Emit each frame as its own copy rather than as a view of the chunk it was cut from, so that
   * keeping a frame keeps only its bytes (a view keeps its whole chunk alive). Costs one copy per
   * frame. Default false. See docs/framing-lines.md, "Memory".
   */
  readonly copy?: boolean;
}

/**
 * Cuts a byte stream into frames of exactly `frameLength` bytes.
 *
 * ```
 * decodeFixedLength(3):
 * source:  -[abcd]-[ef]-[ghi]-[j]-|
 * output:  -abc----def--ghi-------#     TruncatedFrameError(1)
 * ```
 *
 * A frame lying inside one chunk is emitted as a view of it; one that spans chunks is copied once
 * (see `copy`).
 *
 * Limits: never holds more than `frameLength - 1` bytes plus one chunk. Small chunks are merged as
 * they arrive, so a frame dripped a byte at a time costs at most about twice its bytes.
 *
 * End of stream: completes after the last whole frame; a short remainder follows `truncation`.
 *
 * @throws InvalidArgumentError at creation unless `frameLength` is an integer ≥ 1, for a
 *   `truncation` not listed and for a `copy` that is not a boolean.
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * import { decodeFixedLength } from 'rxnet';
 *
 * of(Buffer.from([1, 2, 3, 4])).pipe(decodeFixedLength(2)).subscribe((frame) => console.log(frame)); // <01 02>, <03 04>
 * ```
 */
export function decodeFixedLength(
  frameLength: number,
  config: DecodeFixedLengthOptions = {},
): OperatorFunction<Buffer, Buffer> {
  return decodeFrames(fixedLengthFramer(frameLength, config));
}

/** The framers of {@link decodeFixedLength} (and `fixedLengthCodec`), arguments checked now: one per call. */
export function fixedLengthFramer(frameLength: number, config: DecodeFixedLengthOptions): () => FixedLengthFramer {
  const length = checkInteger('frameLength', frameLength, 1);
  checkOptions(config);
  const truncation = checkTruncation(config.truncation, ['error', 'emit', 'discard'], 'error');
  const copy = checkBoolean('copy', config.copy, false);
  return () => new FixedLengthFramer(length, truncation, copy);
}

/** @deprecated The former name of {@link decodeFixedLength}, kept so that code written for 0.1 compiles. */
export const fixedLength = decodeFixedLength;

/** @deprecated The former name of {@link DecodeFixedLengthOptions}, kept so that code written for 0.1 compiles. */
export type FixedLengthConfig = DecodeFixedLengthOptions;

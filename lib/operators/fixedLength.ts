// fixedLength(): frames of one size.
import type { OperatorFunction } from 'rxjs';
import { checkInteger } from '../errors';
import { FixedLengthFramer } from '../framing/FixedLengthFramer';
import { checkTruncation, type Truncation } from '../framing/Framer';
import { framerOperator } from '../internal/framerOperator';

/**
 * Options of {@link fixedLength}.
 *
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * import { fixedLength, type FixedLengthConfig } from 'rxnet';
 *
 * const config: FixedLengthConfig = { truncation: 'emit' };
 * of(Buffer.from('abcde')).pipe(fixedLength(2, config)).subscribe((f) => console.log(f.toString())); // ab, cd, e
 * ```
 */
export interface FixedLengthConfig {
  /**
   * Bytes left over (fewer than `frameLength`) when the source completes: `'error'` (default)
   * raises `TruncatedFrameError`, `'emit'` emits them as a short last frame, `'discard'` drops
   * them (as Netty's `FixedLengthFrameDecoder` does).
   */
  readonly truncation?: Truncation;
}

/**
 * Cuts a byte stream into frames of exactly `frameLength` bytes.
 *
 * ```
 * fixedLength(3):
 * source:  -[abcd]-[ef]-[ghi]-[j]-|
 * output:  -abc----def--ghi-------#     TruncatedFrameError(1)
 * ```
 *
 * A frame lying inside one chunk is emitted as a view of it; one that spans chunks is copied once.
 *
 * Limits: never holds more than `frameLength - 1` bytes plus one chunk.
 *
 * End of stream: completes after the last whole frame; a short remainder follows `truncation`.
 *
 * @throws InvalidArgumentError at creation unless `frameLength` is an integer ≥ 1.
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * import { fixedLength } from 'rxnet';
 *
 * of(Buffer.from([1, 2, 3, 4])).pipe(fixedLength(2)).subscribe((frame) => console.log(frame)); // <01 02>, <03 04>
 * ```
 */
export function fixedLength(frameLength: number, config: FixedLengthConfig = {}): OperatorFunction<Buffer, Buffer> {
  const length = checkInteger('frameLength', frameLength, 1);
  const truncation = checkTruncation(config.truncation, ['error', 'emit', 'discard'], 'error');
  return framerOperator(() => new FixedLengthFramer(length, truncation));
}

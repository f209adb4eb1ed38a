// decodeStruct(): a byte stream of C structs to values.
import type { Buffer } from 'buffer';
import type { OperatorFunction } from 'rxjs';
import { checkStructCodec, type StructCodec } from './struct';
import type { Framer, Truncation } from '../../framing/Framer';
import { decodeFrames } from '../../framing/decodeFrames';
import { fixedLengthFramer } from '../../framing/fixedLength/decodeFixedLength';
import { MappedFramer } from '../../framing/MappedFramer';
import { checkOptions, checkTruncation } from '../../util/validate';

/**
 * Options of {@link decodeStruct}.
 *
 * @example
 * ```ts
 * import { decodeStruct, struct, type Connection, type DecodeStructOptions } from 'rxnet';
 *
 * declare const conn: Connection;
 * const Sample = struct({ channel: 'uint8', value: 'float32' });
 * const lenient: DecodeStructOptions = { truncation: 'discard' }; // a half record at the end is dropped
 * conn.data$.pipe(decodeStruct(Sample, lenient)).subscribe((s) => console.log(s.channel, s.value));
 * ```
 */
export interface DecodeStructOptions {
  /**
   * Bytes left over (less than one struct) when the source completes: `'error'` (default) raises
   * `TruncatedFrameError`, `'discard'` drops them.
   */
  readonly truncation?: Exclude<Truncation, 'emit'>;
}

/**
 * Cuts a byte stream into `codec.size`-byte records and decodes each one with `codec`: the
 * reactive way to read C structs a peer `send()`s back to back, whatever the chunking.
 *
 * ```
 * decodeStruct(CTestData)                       (size 24)
 * source:  -[10 bytes]-[30 bytes]-[8 bytes]-|
 * output:  ------------{a,b,c}------{a,b,c}-|
 * ```
 *
 * Limits: holds at most `codec.size - 1` bytes plus one chunk.
 *
 * End of stream: a partial struct follows `truncation`; then the output completes.
 *
 * @example
 * ```ts
 * import { decodeStruct, field, struct, type Connection } from 'rxnet';
 *
 * const CTestData = struct({ a: field.char(1), b: 'int32', c: field.char(15) });
 * declare const connection: Connection;
 * connection.data$.pipe(decodeStruct(CTestData)).subscribe(({ a, b, c }) => console.log(a, b, c));
 * ```
 */
export function decodeStruct<T>(codec: StructCodec<T>, config: DecodeStructOptions = {}): OperatorFunction<Buffer, T> {
  return decodeFrames(structFramer(codec, config));
}

/** The framers of {@link decodeStruct} (and `structFrames`), arguments checked now: one per call. */
export function structFramer<T>(codec: StructCodec<T>, config: DecodeStructOptions): () => Framer<T> {
  checkStructCodec(codec);
  const truncation = checkTruncation(checkOptions(config).truncation, ['error', 'discard'], 'error');
  const records = fixedLengthFramer(codec.size, { truncation });
  const decode = (record: Buffer): T => codec.decode(record);
  return () => new MappedFramer(records(), decode);
}

/** @deprecated The former name of {@link DecodeStructOptions}, kept so that code written for 0.1 compiles. */
export type DecodeStructConfig = DecodeStructOptions;

// encodeStruct(): values to C struct bytes.
import { map, type OperatorFunction } from 'rxjs';
import { checkStructCodec, type StructCodec } from './struct';

/**
 * Encodes each value with `codec` into a fresh, zero-padded `codec.size`-byte Buffer: the
 * encoder matching {@link decodeStruct}.
 *
 * ```
 * encodeStruct(CTestData):
 * source:  -{a:'A',b:1,c:'hi'}-|
 * output:  -[41 00 00 00 01 00 00 00 68 69 00 ... 00]-|     (24 bytes)
 * ```
 *
 * Limits: a value that does not fit the layout (missing field, number out of range, string too
 * long) is an `EncodeError` naming the field, delivered as the error notification.
 *
 * End of stream: completes when the source completes.
 *
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * import { encodeStruct, field, struct } from 'rxnet';
 *
 * const CTestData = struct({ a: field.char(1), b: 'int32', c: field.char(15) });
 * of({ a: 'A', b: 7, c: 'hello' }).pipe(encodeStruct(CTestData)).subscribe((b) => console.log(b.length)); // 24
 * ```
 */
export function encodeStruct<T>(codec: StructCodec<T>): OperatorFunction<T, Buffer> {
  checkStructCodec(codec);
  return map((value: T) => codec.encode(value));
}

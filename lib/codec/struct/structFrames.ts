// structFrames(): a stream of C structs back to back as one Codec.
import type { Codec } from '../Codec';
import type { DecodeStructOptions } from './decodeStruct';
import { structFramer } from './decodeStruct';
import type { StructCodec } from './struct';

/**
 * Records of one C struct layout back to back, both ways: the {@link Codec} of `decodeStruct` and
 * `encodeStruct`, for `decodeWith` and `encodeWith`. (`struct()` compiles the layout, a codec of
 * one record at a time; this puts it on a stream.) Decodes each `layout.size` bytes with
 * `layout.decode`, whatever the chunking; encodes each value with `layout.encode` into a fresh,
 * zero-padded Buffer.
 *
 * ```
 * structFrames(CTestData)                          (size 24)
 * bytes:    -[10 bytes]-[30 bytes]-[8 bytes]-|
 * decoded:  ------------{a,b,c}------{a,b,c}-|
 * encode({ a: 'A', b: 1, c: 'hi' }) → [41 00 00 00 01 00 00 00 68 69 00 ... 00]
 * ```
 *
 * Limits: decoding holds at most `layout.size - 1` bytes plus one chunk; encoding, a value that
 * does not fit the layout (missing field, number out of range, string too long) is an
 * `EncodeError` naming the field. End of stream: a partial record follows `truncation` (default:
 * `TruncatedFrameError`).
 *
 * @throws InvalidArgumentError at creation for a `layout` not made by `struct()` or a `truncation`
 *   not listed.
 * @example
 * ```ts
 * import { map } from 'rxjs';
 * import { decodeWith, encodeWith, field, listen, sendTo, serveEach, struct, structFrames } from 'rxnet';
 *
 * const CTestData = struct({ a: field.char(1), b: 'int32', c: field.char(15) });
 * const records = structFrames(CTestData);
 * // Each record answered with b doubled.
 * listen({ port: 8110 })
 *   .pipe(
 *     serveEach((conn) =>
 *       conn.data$.pipe(decodeWith(records), map((r) => ({ ...r, b: r.b * 2 })), encodeWith(records), sendTo(conn)),
 *     ),
 *   )
 *   .subscribe();
 * ```
 */
export function structFrames<T>(layout: StructCodec<T>, options: DecodeStructOptions = {}): Codec<T, T> {
  return {
    decoder: structFramer(layout, options),
    encode: (value) => layout.encode(value),
  };
}

// fast-check arbitraries of RESP values for the codec specs: every RESP3 type, nested, in forms that survive a round trip.
import fc from 'fast-check';
import { RespError, RespPush, RespVerbatim, type RespValue } from '../../../lib/codec/resp/RespValue';

const text = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 6 }));
const line = text.filter((s) => !/[\r\n]/.test(s));
const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 40 }),
  fc.constantFrom(new Uint8Array(0), Uint8Array.from(Buffer.from('a\r\nb\r\n'))),
);

/** Values a RESP2 peer sends and gets back as they were: simple strings, errors, safe integers, bulks, nulls, arrays. */
export function resp2Value(maxDepth = 3): fc.Arbitrary<RespValue> {
  const { value } = fc.letrec<{ value: RespValue }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', maxDepth, depthIdentifier: 'resp2' },
      line,
      line.map((s) => new RespError(s)),
      fc.maxSafeInteger(),
      bytes.map((b) => Buffer.from(b)),
      fc.constant(null),
      fc.array(tie('value'), { maxLength: 5 }),
    ),
  }));
  return value;
}

/** Values of every RESP3 type (attributes aside), in the form the decoder gives them back. */
export function resp3Value(maxDepth = 3): fc.Arbitrary<RespValue> {
  const { value } = fc.letrec<{ value: RespValue }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', maxDepth, depthIdentifier: 'resp3' },
      line,
      text.map((s) => new RespError(s)),
      fc.maxSafeInteger(),
      fc.double(),
      fc.bigInt(),
      fc.boolean(),
      bytes.map((b) => Buffer.from(b)),
      fc.constant(null),
      fc.tuple(fc.constantFrom('txt', 'mkd'), text).map(([f, t]) => new RespVerbatim(f, t)),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 3 }).map((pairs) => new Map(pairs)),
      fc.array(tie('value'), { maxLength: 4 }).map((items) => new Set(items)),
      fc.array(tie('value'), { maxLength: 4 }).map((items) => new RespPush(items)),
    ),
  }));
  return value;
}

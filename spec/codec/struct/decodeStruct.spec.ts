// decodeStruct(): streams of C structs, whatever the chunking. The encoder: encodeStruct.spec.ts.
import fc from 'fast-check';
import { field } from '../../../lib/codec/struct/field';
import { struct } from '../../../lib/codec/struct/struct';
import { InvalidArgumentError, TruncatedFrameError } from '../../../lib/errors';
import { decodeStruct } from '../../../lib/codec/struct/decodeStruct';
import { encodeStruct } from '../../../lib/codec/struct/encodeStruct';
import { chunkingsOf, errorData, marbles, run } from '../../support/framing';
import { behavesAsOperator } from '../../support/operatorContract';

const CTestData = struct({ a: field.char(1), b: 'int32', c: field.char(15) });
const sample = { a: 'A', b: 300, c: 'hello' };

describe('decodeStruct', () => {
  behavesAsOperator(() => decodeStruct(CTestData), CTestData.encode(sample));

  it('decodes back to back structs however the bytes are chunked', () => {
    const value = fc.record({
      a: fc.constantFrom('A', 'z', ''),
      b: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      c: fc.string({ unit: 'grapheme-ascii', maxLength: 15 }).filter((s) => !s.includes('\0')),
    });
    fc.assert(
      fc.property(
        fc.array(value, { maxLength: 8 }).chain((values) => {
          const bytes = Buffer.concat(run(encodeStruct(CTestData), values as never).values as Buffer[]);
          return fc.tuple(fc.constant(values), chunkingsOf(bytes));
        }),
        ([values, chunks]) => {
          const result = run(decodeStruct(CTestData), chunks);
          expect(result.values).toEqual(values);
          expect(result.completed).toBe(true);
        },
      ),
    );
  });

  it('raises TruncatedFrameError for a partial struct at the end, or drops it with truncation discard', () => {
    const bytes = CTestData.encode(sample);
    const partial = [Buffer.concat([bytes, bytes.subarray(0, 10)])];
    const failed = run(decodeStruct(CTestData), partial);
    expect(failed.values).toEqual([sample]);
    expect(errorData(failed.error)).toEqual({ name: 'TruncatedFrameError', code: 'ERR_TRUNCATED_FRAME', buffered: 10 });
    expect(run(decodeStruct(CTestData, { truncation: 'discard' }), partial).completed).toBe(true);
  });

  it('refuses something that is not a struct codec, or truncation emit, when created', () => {
    expect(() => decodeStruct({} as never)).toThrow(InvalidArgumentError);
    expect(() => decodeStruct(CTestData, { truncation: 'emit' as never })).toThrow(InvalidArgumentError);
  });

  it('emits a struct when its last byte arrives, in marbles', () => {
    marbles().run(({ cold, expectObservable }) => {
      const bytes = CTestData.encode(sample);
      const v = { a: bytes.subarray(0, 10), b: bytes.subarray(10) };
      expectObservable(cold('-a-b-|', v).pipe(decodeStruct(CTestData))).toBe('---x-|', { x: sample });
      expectObservable(cold('-a-|', v).pipe(decodeStruct(CTestData))).toBe(
        '---#',
        undefined,
        new TruncatedFrameError(10),
      );
    });
  });
});

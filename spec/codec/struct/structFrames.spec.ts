// structFrames(): decodes as decodeStruct and encodes as encodeStruct, records back to back whatever the chunking.
import fc from 'fast-check';
import { Subject } from 'rxjs';
import { decodeWith } from '../../../lib/codec/Codec';
import { decodeStruct } from '../../../lib/codec/struct/decodeStruct';
import { encodeStruct } from '../../../lib/codec/struct/encodeStruct';
import { field } from '../../../lib/codec/struct/field';
import { struct } from '../../../lib/codec/struct/struct';
import { structFrames } from '../../../lib/codec/struct/structFrames';
import { EncodeError } from '../../../lib/errors';
import { decodeData, encodeAll, encodeData, runData } from '../../support/codecs';
import { chunkingsOf, expectInvalidArgument } from '../../support/framing';

// sizeof 24: a at 0, b at 4, c at 8..22, one byte of tail padding.
const CTestData = struct({ a: field.char(1), b: 'int32', c: field.char(15) });
// Packed, big-endian, with bytes (decoded as views) and a 64-bit field: sizeof 13.
const Packed = struct({ tag: 'uint8', id: 'uint64', raw: field.bytes(4) }, { byteOrder: 'BE', pack: 1 });

const value = fc.record({
  a: fc.constantFrom('A', 'z', ''),
  b: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  c: fc.string({ unit: 'grapheme-ascii', maxLength: 15 }).filter((s) => !s.includes('\0')),
});

describe('structFrames', () => {
  it('decodes exactly what decodeStruct decodes, however the bytes are chunked', () => {
    fc.assert(
      fc.property(
        fc
          .uint8Array({ maxLength: 80 })
          .chain((b) => fc.tuple(fc.constant(Buffer.from(b)), chunkingsOf(Buffer.from(b)))),
        fc.constantFrom(CTestData, Packed),
        fc.option(fc.constantFrom<'error' | 'discard'>('error', 'discard'), { nil: undefined }),
        ([bytes, chunks], layout, truncation) => {
          const decoded = decodeData(structFrames<unknown>(layout, { truncation }), chunks);
          expect(decoded).toEqual(runData(decodeStruct<unknown>(layout, { truncation }), chunks));
          expect(decoded).toEqual(runData(decodeStruct<unknown>(layout, { truncation }), [bytes]));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('encodes exactly what encodeStruct encodes, refusals included', () => {
    const anyValue = fc.oneof(
      { weight: 4, arbitrary: value },
      { weight: 1, arbitrary: fc.record({ a: fc.constant('AB'), b: fc.constant(1), c: fc.constant('') }) },
      { weight: 1, arbitrary: fc.record({ a: fc.constant('A'), b: fc.constant(2 ** 31), c: fc.constant('') }) },
    );
    fc.assert(
      fc.property(fc.array(anyValue, { maxLength: 8 }), (values) => {
        expect(encodeData(structFrames(CTestData), values)).toEqual(runData(encodeStruct(CTestData), values));
      }),
      { numRuns: 200 },
    );
  });

  it('decodes what it encoded, however the bytes are chunked', () => {
    fc.assert(
      fc.property(fc.array(value, { maxLength: 8 }), (values) => {
        const codec = structFrames(CTestData);
        const bytes = encodeAll(codec, values);
        expect(bytes).toHaveLength(24 * values.length);
        fc.assert(
          fc.property(chunkingsOf(bytes), (chunks) => {
            expect(decodeData(codec, chunks)).toEqual({ values, completed: true });
          }),
          { numRuns: 5 },
        );
      }),
      { numRuns: 200 },
    );
  });

  it('refuses to encode a value that does not fit the layout with EncodeError naming the field', () => {
    expect(() => structFrames(CTestData).encode({ a: 'A', b: 2 ** 31, c: '' })).toThrow(EncodeError);
    expect(() => structFrames(CTestData).encode({ a: 'A', b: 1, c: 'x'.repeat(16) })).toThrow(/field c/);
  });

  it('holds less than one record between chunks, and ends with TruncatedFrameError on a partial one', () => {
    const source = new Subject<Buffer>();
    const values: unknown[] = [];
    let error: unknown;
    source
      .pipe(decodeWith(structFrames(CTestData)))
      .subscribe({ next: (v) => values.push(v), error: (e) => (error = e) });
    const record = CTestData.encode({ a: 'A', b: 7, c: 'hi' });
    source.next(Buffer.concat([record, record.subarray(0, 23)]));
    expect(values).toEqual([{ a: 'A', b: 7, c: 'hi' }]);
    source.next(record.subarray(23));
    expect(values).toHaveLength(2);
    source.next(record.subarray(0, 5));
    source.complete();
    expect(error).toEqual(expect.objectContaining({ name: 'TruncatedFrameError', buffered: 5 }));
    expect(decodeData(structFrames(CTestData, { truncation: 'discard' }), [record.subarray(0, 5)])).toEqual({
      values: [],
      completed: true,
    });
  });

  it('throws InvalidArgumentError at creation for a layout not made by struct() or a bad option', () => {
    expectInvalidArgument(() => structFrames(null as never), 'codec');
    expectInvalidArgument(() => structFrames({ size: 4 } as never), 'codec');
    expectInvalidArgument(() => structFrames(CTestData, null as never), 'config');
    expectInvalidArgument(() => structFrames(CTestData, { truncation: 'emit' as never }), 'truncation');
  });
});

// decodeFixedLength(): equal-sized frames whatever the chunking; the short remainder at the end.
import fc from 'fast-check';
import { InvalidArgumentError, TruncatedFrameError } from '../../../lib/errors';
import type { Truncation } from '../../../lib/framing/Framer';
import { encodeFixedLength } from '../../../lib/framing/fixedLength/encodeFixedLength';
import { decodeFixedLength, type DecodeFixedLengthOptions } from '../../../lib/framing/fixedLength/decodeFixedLength';
import {
  bufferValues,
  chunkingsOf,
  errorData,
  expectInvalidArgument,
  hex,
  marbles,
  outcome,
  overlaps,
  ownCopy,
  run,
  texts,
} from '../../support/framing';
import { behavesAsOperator } from '../../support/operatorContract';

describe('fixedLength', () => {
  behavesAsOperator(() => decodeFixedLength(2), Buffer.from('ab'));

  it('cuts the stream into frames of the given size', () => {
    expect(
      texts(run(decodeFixedLength(3), [Buffer.from('abcd'), Buffer.from('ef'), Buffer.from('ghi')]).values),
    ).toEqual(['abc', 'def', 'ghi']);
  });

  it('yields the same frames and error as cutting the whole input, however it is chunked', () => {
    fc.assert(
      fc.property(
        fc
          .uint8Array({ maxLength: 100 })
          .map((a) => Buffer.from(a))
          .chain((bytes) => fc.tuple(fc.constant(bytes), chunkingsOf(bytes))),
        fc.integer({ min: 1, max: 9 }),
        fc.constantFrom<Truncation>('error', 'emit', 'discard'),
        ([bytes, chunks], n, truncation) => {
          const frames: string[] = [];
          for (let i = 0; i + n <= bytes.length; i += n) frames.push(bytes.subarray(i, i + n).toString('hex'));
          const rest = bytes.length % n;
          if (rest > 0 && truncation === 'emit') frames.push(bytes.subarray(bytes.length - rest).toString('hex'));
          const expected = rest > 0 && truncation === 'error' ? { frames, error: 'TruncatedFrameError' } : { frames };
          expect(outcome(run(decodeFixedLength(n, { truncation }), chunks))).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('decodes what encodeFixedLength padded', () => {
    const values = run(encodeFixedLength(4, { pad: 0 }), ['ab', 'abcd', ''] as never).values as Buffer[];
    expect(hex(run(decodeFixedLength(4), [Buffer.concat(values)]).values)).toEqual([
      '61620000',
      '61626364',
      '00000000',
    ]);
  });

  it('raises TruncatedFrameError for a short remainder by default, with the bytes held', () => {
    const result = run(decodeFixedLength(4), [Buffer.from('abcdef')]);
    expect(texts(result.values)).toEqual(['abcd']);
    expect(errorData(result.error)).toEqual({ name: 'TruncatedFrameError', code: 'ERR_TRUNCATED_FRAME', buffered: 2 });
  });

  it('refuses a frame length below 1 or not an integer when created', () => {
    for (const n of [0, -1, 1.5, NaN, '4']) expect(() => decodeFixedLength(n as number)).toThrow(InvalidArgumentError);
    expect(() => decodeFixedLength(2, { truncation: 'x' as never })).toThrow(InvalidArgumentError);
  });

  it('refuses every argument of a wrong type or out of range when created, naming it', () => {
    for (const n of [0, -1, 1.5, NaN, Infinity, '4', null, undefined]) {
      expectInvalidArgument(() => decodeFixedLength(n as number), 'frameLength');
    }
    const bad: [unknown, string][] = [
      [{ truncation: 'x' }, 'truncation'],
      [{ truncation: null }, 'truncation'],
      [{ copy: 'yes' }, 'copy'],
      [{ copy: 1 }, 'copy'],
      [{ copy: null }, 'copy'],
      [null, 'config'],
      [3, 'config'],
    ];
    for (const [config, argument] of bad)
      expectInvalidArgument(() => decodeFixedLength(2, config as DecodeFixedLengthOptions), argument);
    for (const config of [undefined, {}, { copy: true }, { copy: false, truncation: 'emit' as const }]) {
      expect(() => decodeFixedLength(2, config)).not.toThrow();
    }
  });

  it('with copy, emits frames in memory of their own, equal to the views it emits without', () => {
    const chunk = ownCopy(Buffer.from('abcdefg'));
    const copied = run(decodeFixedLength(3, { copy: true, truncation: 'emit' }), [chunk]).values;
    const viewed = run(decodeFixedLength(3, { truncation: 'emit' }), [chunk]).values;
    expect(texts(copied)).toEqual(['abc', 'def', 'g']);
    expect(texts(copied)).toEqual(texts(viewed));
    for (const frame of viewed) expect(frame.buffer).toBe(chunk.buffer);
    for (const frame of copied) {
      expect(frame.buffer).not.toBe(chunk.buffer);
      expect(overlaps(frame, chunk)).toBe(false);
    }
  });

  describe('in marbles', () => {
    it('emits frames as they fill up and completes with the source', () => {
      marbles().run(({ cold, expectObservable }) => {
        const v = bufferValues({ a: 'abcd', b: 'ef', c: 'ghi', x: 'abc', y: 'def', z: 'ghi' });
        expectObservable(cold('-a-b-c-|', v).pipe(decodeFixedLength(3))).toBe('-x-y-z-|', v);
      });
    });

    it('errors with TruncatedFrameError when the source completes mid-frame', () => {
      marbles().run(({ cold, expectObservable }) => {
        const v = bufferValues({ a: 'abcd', x: 'abc' });
        expectObservable(cold('-a-|', v).pipe(decodeFixedLength(3))).toBe('-x-#', v, new TruncatedFrameError(1));
      });
    });

    it('passes a source error on', () => {
      marbles().run(({ cold, expectObservable }) => {
        const v = bufferValues({ a: 'abcd', x: 'abc' });
        expectObservable(cold('-a-#', v).pipe(decodeFixedLength(3))).toBe('-x-#', v);
      });
    });
  });
});

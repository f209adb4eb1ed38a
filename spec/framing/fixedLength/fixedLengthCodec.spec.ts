// fixedLengthCodec(): decodes as decodeFixedLength and encodes as encodeFixedLength.
import fc from 'fast-check';
import { EncodeError, FrameTooLongError } from '../../../lib/errors';
import type { Truncation } from '../../../lib/framing/Framer';
import { decodeFixedLength } from '../../../lib/framing/fixedLength/decodeFixedLength';
import { encodeFixedLength } from '../../../lib/framing/fixedLength/encodeFixedLength';
import { fixedLengthCodec } from '../../../lib/framing/fixedLength/fixedLengthCodec';
import { decodeData, encodeAll, encodeData, runData } from '../../support/codecs';
import { chunkingsOf, expectInvalidArgument } from '../../support/framing';

const frameLengths = fc.integer({ min: 1, max: 9 });
const bytes = fc.uint8Array({ maxLength: 60 }).map((a) => Buffer.from(a));

describe('fixedLengthCodec', () => {
  it('decodes exactly what decodeFixedLength decodes, however the bytes are chunked', () => {
    fc.assert(
      fc.property(
        bytes.chain((b) => fc.tuple(fc.constant(b), chunkingsOf(b))),
        frameLengths,
        fc.record({
          truncation: fc.option(fc.constantFrom<Truncation>('error', 'emit', 'discard'), { nil: undefined }),
          copy: fc.option(fc.boolean(), { nil: undefined }),
        }),
        ([whole, chunks], frameLength, options) => {
          const decoded = decodeData(fixedLengthCodec(frameLength, options), chunks);
          expect(decoded).toEqual(runData(decodeFixedLength(frameLength, options), chunks));
          expect(decoded).toEqual(runData(decodeFixedLength(frameLength, options), [whole]));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('encodes exactly what encodeFixedLength encodes, padding and refusals included', () => {
    const value = fc.oneof(fc.uint8Array({ maxLength: 12 }), fc.string({ maxLength: 8 }));
    fc.assert(
      fc.property(
        fc.array(value, { maxLength: 10 }),
        frameLengths,
        fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
        (values, frameLength, pad) => {
          expect(encodeData(fixedLengthCodec(frameLength, { pad }), values)).toEqual(
            runData(encodeFixedLength(frameLength, { pad }), values),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('decodes what it encoded, however the bytes are chunked', () => {
    fc.assert(
      fc.property(
        frameLengths.chain((n) =>
          fc.tuple(fc.constant(n), fc.array(fc.uint8Array({ minLength: n, maxLength: n }), { maxLength: 12 })),
        ),
        ([frameLength, frames]) => {
          const codec = fixedLengthCodec(frameLength);
          const encoded = encodeAll(codec, frames);
          fc.assert(
            fc.property(chunkingsOf(encoded), (chunks) => {
              const expected = frames.map((f) => Buffer.from(f).toString('hex'));
              expect(decodeData(codec, chunks)).toEqual({ values: expected, completed: true });
            }),
            { numRuns: 5 },
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses to encode a longer frame with FrameTooLongError, and a shorter one without pad', () => {
    const codec = fixedLengthCodec(3);
    expect(() => codec.encode('wxyz')).toThrow(new FrameTooLongError(3, 4));
    expect(() => codec.encode('ab')).toThrow(EncodeError);
    expect(Buffer.from(fixedLengthCodec(3, { pad: 0 }).encode('ab') as Uint8Array).toString('hex')).toBe('616200');
  });

  it("ends with TruncatedFrameError for a short last frame, unless truncation says 'emit' or 'discard'", () => {
    const chunks = [Buffer.from('abcd')];
    expect(decodeData(fixedLengthCodec(3), chunks)).toEqual({
      values: ['616263'],
      error: { name: 'TruncatedFrameError', code: 'ERR_TRUNCATED_FRAME', buffered: 1 },
      completed: false,
    });
    expect(decodeData(fixedLengthCodec(3, { truncation: 'emit' }), chunks).values).toEqual(['616263', '64']);
    expect(decodeData(fixedLengthCodec(3, { truncation: 'discard' }), chunks).values).toEqual(['616263']);
  });

  it('throws InvalidArgumentError at creation for a bad frame length or option', () => {
    expectInvalidArgument(() => fixedLengthCodec(0), 'frameLength');
    expectInvalidArgument(() => fixedLengthCodec(2.5), 'frameLength');
    expectInvalidArgument(() => fixedLengthCodec('4' as never), 'frameLength');
    expectInvalidArgument(() => fixedLengthCodec(4, null as never), 'config');
    expectInvalidArgument(() => fixedLengthCodec(4, { truncation: 'keep' as never }), 'truncation');
    expectInvalidArgument(() => fixedLengthCodec(4, { copy: 'yes' as never }), 'copy');
    expectInvalidArgument(() => fixedLengthCodec(4, { pad: 256 }), 'pad');
    expectInvalidArgument(() => fixedLengthCodec(4, { pad: -1 }), 'pad');
  });
});

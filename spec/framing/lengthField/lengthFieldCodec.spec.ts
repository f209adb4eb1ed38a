// lengthFieldCodec(): encodes as encodeLengthField and decodes as the decodeLengthField that reads it back, one limit both ways.
import fc from 'fast-check';
import { Subject } from 'rxjs';
import { decodeWith } from '../../../lib/codec/Codec';
import { EncodeError, FrameTooLongError } from '../../../lib/errors';
import { decodeLengthField, type DecodeLengthFieldOptions } from '../../../lib/framing/lengthField/decodeLengthField';
import { encodeLengthField } from '../../../lib/framing/lengthField/encodeLengthField';
import { lengthFieldCodec, type LengthFieldCodecOptions } from '../../../lib/framing/lengthField/lengthFieldCodec';
import { decodeData, encodeAll, encodeData, runData } from '../../support/codecs';
import { chunkingsOf, errorData, expectInvalidArgument, run } from '../../support/framing';

type FieldLength = LengthFieldCodecOptions['lengthFieldLength'];

const options: fc.Arbitrary<LengthFieldCodecOptions> = fc
  .constantFrom<FieldLength>(1, 2, 3, 4, 8)
  .chain((lengthFieldLength) =>
    fc.record(
      {
        lengthFieldLength: fc.constant(lengthFieldLength),
        maxFrameLength: fc.integer({ min: lengthFieldLength, max: lengthFieldLength + 24 }),
        byteOrder: fc.constantFrom<'BE' | 'LE'>('BE', 'LE'),
        lengthIncludesLengthFieldLength: fc.boolean(),
        lengthAdjustment: fc.integer({ min: -3, max: 3 }),
        failFast: fc.boolean(),
        truncation: fc.constantFrom<'error' | 'discard'>('error', 'discard'),
        copy: fc.boolean(),
      },
      { requiredKeys: ['lengthFieldLength', 'maxFrameLength'] },
    ),
  );

/** The encoder's options within the codec's. */
function encoding(o: LengthFieldCodecOptions) {
  const { lengthFieldLength, byteOrder, lengthIncludesLengthFieldLength, lengthAdjustment } = o;
  return { lengthFieldLength, byteOrder, lengthIncludesLengthFieldLength, lengthAdjustment };
}

/** The decodeLengthField that reads back what encodeLengthField writes, as encodeLengthField's TSDoc gives it. */
function decoding(o: LengthFieldCodecOptions): DecodeLengthFieldOptions {
  const counted = (o.lengthAdjustment ?? 0) + (o.lengthIncludesLengthFieldLength ? o.lengthFieldLength : 0);
  return {
    maxFrameLength: o.maxFrameLength,
    lengthFieldLength: o.lengthFieldLength,
    byteOrder: o.byteOrder,
    initialBytesToStrip: o.lengthFieldLength,
    lengthAdjustment: -counted,
    failFast: o.failFast,
    truncation: o.truncation,
    copy: o.copy,
  };
}

/**
 * A stream for `o`: frames encodeLengthField wrote (some over maxFrameLength, since the operator has
 * no such limit), then a few random bytes (a partial frame, or a header announcing anything).
 */
const streams = (o: LengthFieldCodecOptions) =>
  fc
    .tuple(fc.array(fc.uint8Array({ maxLength: 30 }), { maxLength: 8 }), fc.uint8Array({ maxLength: 10 }))
    .map(([payloads, tail]) => {
      const encoded = run(encodeLengthField(encoding(o)), payloads).values;
      return Buffer.concat([...encoded, tail]);
    });

describe('lengthFieldCodec', () => {
  it('decodes exactly what the matching decodeLengthField decodes, however the bytes are chunked', () => {
    fc.assert(
      fc.property(
        options.chain((o) =>
          fc.tuple(
            fc.constant(o),
            streams(o).chain((bytes) => fc.tuple(fc.constant(bytes), chunkingsOf(bytes))),
          ),
        ),
        ([o, [bytes, chunks]]) => {
          const decoded = decodeData(lengthFieldCodec(o), chunks);
          expect(decoded).toEqual(runData(decodeLengthField(decoding(o)), chunks));
          expect(decoded).toEqual(runData(decodeLengthField(decoding(o)), [bytes]));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('encodes exactly what encodeLengthField encodes, for payloads within maxFrameLength', () => {
    fc.assert(
      fc.property(
        options.chain((o) =>
          fc.tuple(
            fc.constant(o),
            fc.array(
              fc.oneof(
                fc.uint8Array({ maxLength: o.maxFrameLength - o.lengthFieldLength }),
                fc.string({ maxLength: o.maxFrameLength - o.lengthFieldLength }),
              ),
              { maxLength: 8 },
            ),
          ),
        ),
        ([o, payloads]) => {
          // Strings are counted in bytes: keep those within the limit.
          const fitting = payloads.filter((p) => Buffer.byteLength(p) <= o.maxFrameLength - o.lengthFieldLength);
          expect(encodeData(lengthFieldCodec(o), fitting)).toEqual(runData(encodeLengthField(encoding(o)), fitting));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('decodes what it encoded, however the bytes are chunked', () => {
    fc.assert(
      fc.property(
        options.chain((o) => {
          // Payloads whose adjusted length is >= 0 and whose frame fits maxFrameLength.
          const counted = (o.lengthAdjustment ?? 0) + (o.lengthIncludesLengthFieldLength ? o.lengthFieldLength : 0);
          const min = Math.max(0, -counted);
          const max = o.maxFrameLength - o.lengthFieldLength;
          if (min > max) return fc.tuple(fc.constant(o), fc.constant<Uint8Array[]>([]));
          const payload = fc.integer({ min, max }).chain((n) => fc.uint8Array({ minLength: n, maxLength: n }));
          return fc.tuple(fc.constant(o), fc.array(payload, { maxLength: 10 }));
        }),
        ([o, payloads]) => {
          const codec = lengthFieldCodec(o);
          const bytes = encodeAll(codec, payloads);
          fc.assert(
            fc.property(chunkingsOf(bytes), (chunks) => {
              const expected = payloads.map((p) => Buffer.from(p).toString('hex'));
              expect(decodeData(codec, chunks)).toEqual({ values: expected, completed: true });
            }),
            { numRuns: 5 },
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('emits FrameTooLongError when the length field announces more than maxFrameLength, before the body comes', () => {
    const source = new Subject<Buffer>();
    let error: unknown;
    source
      .pipe(decodeWith(lengthFieldCodec({ lengthFieldLength: 2, maxFrameLength: 10 })))
      .subscribe({ error: (e) => (error = e) });
    source.next(Buffer.from([0x00, 0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0x00]));
    expect(error).toBeUndefined();
    source.next(Buffer.from([0x09]));
    // 2 header bytes + 9: the frame's length, header included, as Netty counts it.
    expect(errorData(error)).toEqual({ name: 'FrameTooLongError', code: 'ERR_FRAME_TOO_LONG', limit: 10, length: 11 });
    expect(source.observed).toBe(false);
  });

  it('with failFast false, skips the too-long frame as it arrives and errs once it has gone by', () => {
    const codec = lengthFieldCodec({ lengthFieldLength: 1, maxFrameLength: 4, failFast: false });
    const source = new Subject<Buffer>();
    let error: unknown;
    source.pipe(decodeWith(codec)).subscribe({ error: (e) => (error = e) });
    source.next(Buffer.from([0x05, 1, 2, 3]));
    expect(error).toBeUndefined();
    source.next(Buffer.from([4, 5]));
    expect(errorData(error)).toEqual({ name: 'FrameTooLongError', code: 'ERR_FRAME_TOO_LONG', limit: 4, length: 6 });
  });

  it('refuses to encode a payload its own decoder would refuse, or that its field cannot hold', () => {
    const codec = lengthFieldCodec({ lengthFieldLength: 2, maxFrameLength: 10 });
    expect(codec.encode(Buffer.alloc(8))).toHaveLength(10);
    expect(() => codec.encode(Buffer.alloc(9))).toThrow(new FrameTooLongError(8, 9));
    expect(() => codec.encode('é'.repeat(5))).toThrow(new FrameTooLongError(8, 10));
    const small = lengthFieldCodec({ lengthFieldLength: 1, maxFrameLength: 1000 });
    expect(() => small.encode(Buffer.alloc(256))).toThrow(new FrameTooLongError(255, 256));
    const adjusted = lengthFieldCodec({ lengthFieldLength: 1, maxFrameLength: 100, lengthAdjustment: -2 });
    expect(() => adjusted.encode(Buffer.alloc(1))).toThrow(EncodeError);
  });

  it('reads a header that counts itself, as Netty pairs LengthFieldPrepender(4, true) with its decoder', () => {
    const codec = lengthFieldCodec({ lengthFieldLength: 4, lengthIncludesLengthFieldLength: true, maxFrameLength: 64 });
    expect(Buffer.from(codec.encode('hi') as Uint8Array).toString('hex')).toBe('000000066869');
    expect(decodeData(codec, [Buffer.from('000000066869', 'hex')]).values).toEqual(['6869']);
  });

  it('throws InvalidArgumentError at creation for a missing or bad option', () => {
    const base = { lengthFieldLength: 2, maxFrameLength: 100 } as const;
    expectInvalidArgument(() => lengthFieldCodec(null as never), 'config');
    expectInvalidArgument(() => lengthFieldCodec({ lengthFieldLength: 2 } as never), 'maxFrameLength');
    expectInvalidArgument(() => lengthFieldCodec({ ...base, maxFrameLength: 0 }), 'maxFrameLength');
    expectInvalidArgument(() => lengthFieldCodec({ ...base, maxFrameLength: 1 }), 'maxFrameLength');
    expectInvalidArgument(() => lengthFieldCodec({ maxFrameLength: 100 } as never), 'lengthFieldLength');
    expectInvalidArgument(() => lengthFieldCodec({ ...base, lengthFieldLength: 5 as never }), 'lengthFieldLength');
    expectInvalidArgument(() => lengthFieldCodec({ ...base, byteOrder: 'NE' as never }), 'byteOrder');
    expectInvalidArgument(() => lengthFieldCodec({ ...base, lengthAdjustment: 0.5 }), 'lengthAdjustment');
    expectInvalidArgument(
      () => lengthFieldCodec({ ...base, lengthIncludesLengthFieldLength: 'yes' as never }),
      'lengthIncludesLengthFieldLength',
    );
    expectInvalidArgument(() => lengthFieldCodec({ ...base, failFast: 0 as never }), 'failFast');
    expectInvalidArgument(() => lengthFieldCodec({ ...base, truncation: 'emit' as never }), 'truncation');
    expectInvalidArgument(() => lengthFieldCodec({ ...base, copy: 'no' as never }), 'copy');
  });

  it('refuses a frame whose adjusted length is negative as such, string or Buffer, however long', () => {
    const codec = lengthFieldCodec({ lengthFieldLength: 2, maxFrameLength: 10, lengthAdjustment: -100 });
    for (const payload of ['abcdefghijkl', Buffer.from('abcdefghijkl'), 'ab']) {
      expect(() => codec.encode(payload)).toThrow(EncodeError);
    }
  });
});

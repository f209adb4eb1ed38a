// delimitedCodec(): decodes as decodeDelimited and encodes as encodeDelimited, with one frame limit both ways.
import fc from 'fast-check';
import { Subject } from 'rxjs';
import { decodeWith } from '../../../lib/codec/Codec';
import { EncodeError, FrameTooLongError } from '../../../lib/errors';
import type { Truncation } from '../../../lib/framing/Framer';
import { decodeDelimited } from '../../../lib/framing/delimited/decodeDelimited';
import { delimitedCodec } from '../../../lib/framing/delimited/delimitedCodec';
import { encodeDelimited } from '../../../lib/framing/delimited/encodeDelimited';
import { chunkingFree, decodeData, encodeAll, encodeData, runData } from '../../support/codecs';
import { chunkingsOf, errorData, expectInvalidArgument } from '../../support/framing';

/** Delimiters of one to three bytes, some overlapping themselves (`aa`, `aba`). */
const delimiters = fc.constantFrom('a', 'ab', 'aa', 'aba', '\0', '\r\n');

/** Bytes of frames: the delimiters' letters and one more, so delimiters (and parts of them) come often. */
const frameBytes = fc.array(fc.constantFrom(0x61, 0x62, 0x63, 0x00, 0x0d, 0x0a), { maxLength: 80 }).map(Buffer.from);

const decodeOptions = fc.record({
  maxLength: fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
  truncation: fc.option(fc.constantFrom<Truncation>('error', 'emit', 'discard'), { nil: undefined }),
  copy: fc.option(fc.boolean(), { nil: undefined }),
});

describe('delimitedCodec', () => {
  it('decodes exactly what decodeDelimited decodes, however the bytes are chunked', () => {
    fc.assert(
      fc.property(
        frameBytes.chain((bytes) => fc.tuple(fc.constant(bytes), chunkingsOf(bytes))),
        delimiters,
        decodeOptions,
        ([bytes, chunks], delimiter, options) => {
          const decoded = decodeData(delimitedCodec(delimiter, options), chunks);
          expect(decoded).toEqual(runData(decodeDelimited(delimiter, options), chunks));
          expect(chunkingFree(decoded)).toEqual(chunkingFree(runData(decodeDelimited(delimiter, options), [bytes])));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('encodes exactly what encodeDelimited encodes, refusals included', () => {
    const value = fc.oneof(
      fc.string({ maxLength: 12, unit: fc.constantFrom('a', 'b', 'c', '\0', 'é') }),
      fc.uint8Array({ maxLength: 12 }),
    );
    fc.assert(
      fc.property(
        fc.array(value, { maxLength: 10 }),
        delimiters,
        fc.option(fc.integer({ min: 1, max: 15 }), { nil: undefined }),
        (values, delimiter, maxLength) => {
          expect(encodeData(delimitedCodec(delimiter, { maxLength }), values)).toEqual(
            runData(encodeDelimited(delimiter, { maxLength: maxLength ?? 65536 }), values),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('decodes what it encoded, however the bytes are chunked', () => {
    fc.assert(
      fc.property(
        delimiters.chain((delimiter) => {
          const codec = delimitedCodec(delimiter);
          const encodable = fc.uint8Array({ maxLength: 12 }).filter((frame) => {
            try {
              codec.encode(frame);
              return true;
            } catch {
              return false;
            }
          });
          return fc.tuple(fc.constant(delimiter), fc.array(encodable, { maxLength: 15 }));
        }),
        ([delimiter, frames]) => {
          const codec = delimitedCodec(delimiter);
          const bytes = encodeAll(codec, frames);
          fc.assert(
            fc.property(chunkingsOf(bytes), (chunks) => {
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

  it('emits FrameTooLongError once more than maxLength bytes without a delimiter are held, before it comes', () => {
    const source = new Subject<Buffer>();
    let error: unknown;
    source.pipe(decodeWith(delimitedCodec('\0', { maxLength: 4 }))).subscribe({ error: (e) => (error = e) });
    source.next(Buffer.from('ab\0abcd'));
    expect(error).toBeUndefined();
    source.next(Buffer.from('e'));
    expect(errorData(error)).toEqual({ name: 'FrameTooLongError', code: 'ERR_FRAME_TOO_LONG', limit: 4, length: 5 });
    expect(source.observed).toBe(false);
  });

  it('refuses to encode a frame over maxLength, 64 KiB by default, and one holding the delimiter', () => {
    expect(() => delimitedCodec('\0').encode(Buffer.alloc(65537, 1))).toThrow(new FrameTooLongError(65536, 65537));
    expect(() => delimitedCodec(';', { maxLength: 2 }).encode('abc')).toThrow(new FrameTooLongError(2, 3));
    expect(delimitedCodec('\0', { maxLength: Infinity }).encode(Buffer.alloc(65537, 1))).toHaveLength(65538);
    expect(() => delimitedCodec(';').encode('a;b')).toThrow(EncodeError);
    // 'xab' + 'aba': the decoder would find the delimiter at byte 1.
    expect(() => delimitedCodec('aba').encode('xab')).toThrow(EncodeError);
  });

  it('keeps its own copy of the delimiter', () => {
    const delimiter = Buffer.from(';');
    const codec = delimitedCodec(delimiter);
    delimiter[0] = 0x2c;
    expect(decodeData(codec, [Buffer.from('a;b,')]).values).toEqual([Buffer.from('a').toString('hex')]);
    expect(Buffer.from(codec.encode('x') as Uint8Array).toString()).toBe('x;');
  });

  it('throws InvalidArgumentError at creation for a bad delimiter or option', () => {
    expectInvalidArgument(() => delimitedCodec(''), 'delimiter');
    expectInvalidArgument(() => delimitedCodec(new Uint8Array(0)), 'delimiter');
    expectInvalidArgument(() => delimitedCodec(7 as never), 'delimiter');
    expectInvalidArgument(() => delimitedCodec(';', null as never), 'config');
    expectInvalidArgument(() => delimitedCodec(';', { maxLength: 0 }), 'maxLength');
    expectInvalidArgument(() => delimitedCodec(';', { maxLength: -1 }), 'maxLength');
    expectInvalidArgument(() => delimitedCodec(';', { truncation: 'keep' as never }), 'truncation');
    expectInvalidArgument(() => delimitedCodec(';', { copy: 1 as never }), 'copy');
  });
});

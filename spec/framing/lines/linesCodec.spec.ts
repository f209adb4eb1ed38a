// linesCodec(): decodes as decodeLines and encodes as encodeLines, bytes or text, with one line limit both ways.
import fc from 'fast-check';
import { Subject, map, type OperatorFunction } from 'rxjs';
import { decodeWith } from '../../../lib/codec/Codec';
import { EncodeError, FrameTooLongError } from '../../../lib/errors';
import type { Truncation } from '../../../lib/framing/Framer';
import { decodeLines } from '../../../lib/framing/lines/decodeLines';
import { encodeLines } from '../../../lib/framing/lines/encodeLines';
import { linesCodec, type LineEncoding } from '../../../lib/framing/lines/linesCodec';
import type { Chunk } from '../../../lib/types';
import { chunkingFree, decodeData, encodeAll, encodeData, runData } from '../../support/codecs';
import { chunkingsOf, errorData, expectInvalidArgument } from '../../support/framing';

/** Bytes of lines: letters, both endings, a lone \r, and the two bytes of "é" (so a line may end inside it). */
const lineBytes = fc
  .array(fc.constantFrom(0x61, 0x62, 0x0d, 0x0a, 0xc3, 0xa9), { maxLength: 80 })
  .map((a) => Buffer.from(a));

const decodeOptions = fc.record({
  maxLength: fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
  truncation: fc.option(fc.constantFrom<Truncation>('error', 'emit', 'discard'), { nil: undefined }),
  copy: fc.option(fc.boolean(), { nil: undefined }),
});

const newlines = fc.option(fc.constantFrom<'\n' | '\r\n'>('\n', '\r\n'), { nil: undefined });

/** A line encodeLines accepts: no \n, no \r at its end. */
const line = fc.string({ maxLength: 30, unit: 'binary' }).filter((s) => !s.includes('\n') && !s.endsWith('\r'));

describe('linesCodec', () => {
  describe('without encoding (Buffers)', () => {
    it('decodes exactly what decodeLines decodes, however the bytes are chunked', () => {
      fc.assert(
        fc.property(
          lineBytes.chain((bytes) => fc.tuple(fc.constant(bytes), chunkingsOf(bytes))),
          decodeOptions,
          ([bytes, chunks], options) => {
            const decoded = decodeData(linesCodec(options), chunks);
            expect(decoded).toEqual(runData(decodeLines(options), chunks));
            expect(chunkingFree(decoded)).toEqual(chunkingFree(runData(decodeLines(options), [bytes])));
          },
        ),
        { numRuns: 500 },
      );
    });

    it('encodes exactly what encodeLines encodes, refusals included', () => {
      const value = fc.oneof(
        fc.string({ maxLength: 20, unit: fc.constantFrom('a', 'é', '\r', '\n') }),
        fc.uint8Array({ maxLength: 20 }),
      );
      fc.assert(
        fc.property(
          fc.array(value, { maxLength: 10 }),
          newlines,
          fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
          (values, newline, maxLength) => {
            expect(encodeData(linesCodec({ newline, maxLength }), values)).toEqual(
              runData(encodeLines({ newline, maxLength: maxLength ?? 65536 }), values),
            );
          },
        ),
        { numRuns: 300 },
      );
    });

    it('decodes what it encoded, for both endings and however the bytes are chunked', () => {
      fc.assert(
        fc.property(fc.array(line, { maxLength: 20 }), newlines, fc.boolean(), (lines, newline, copy) => {
          const codec = linesCodec({ newline, copy });
          const bytes = encodeAll(codec, lines);
          fc.assert(
            fc.property(chunkingsOf(bytes), (chunks) => {
              const expected = lines.map((l) => Buffer.from(l).toString('hex'));
              expect(decodeData(codec, chunks)).toEqual({ values: expected, completed: true });
            }),
            { numRuns: 5 },
          );
        }),
        { numRuns: 100 },
      );
    });

    it('emits FrameTooLongError once more than maxLength bytes without \\n are held, before the line ends', () => {
      const source = new Subject<Buffer>();
      let error: unknown;
      source.pipe(decodeWith(linesCodec({ maxLength: 4 }))).subscribe({ error: (e) => (error = e) });
      source.next(Buffer.from('abcd'));
      expect(error).toBeUndefined();
      source.next(Buffer.from('ef'));
      expect(errorData(error)).toEqual({ name: 'FrameTooLongError', code: 'ERR_FRAME_TOO_LONG', limit: 4, length: 6 });
      expect(source.observed).toBe(false);
    });

    it('refuses to encode a line over maxLength, 64 KiB by default, which its own decoder would refuse', () => {
      const long = 'x'.repeat(65537);
      expect(() => linesCodec().encode(long)).toThrow(new FrameTooLongError(65536, 65537));
      expect(() => linesCodec({ maxLength: 3 }).encode(Buffer.from('abcd'))).toThrow(new FrameTooLongError(3, 4));
      expect(linesCodec({ maxLength: Infinity }).encode(long)).toHaveLength(65538);
      expect(() => linesCodec().encode('a\nb')).toThrow(EncodeError);
    });

    it('makes a fresh framer for each decoder() call', () => {
      const codec = linesCodec();
      expect(codec.decoder()).not.toBe(codec.decoder());
    });
  });

  describe('with encoding (strings)', () => {
    const encodings = fc.constantFrom<LineEncoding>('utf8', 'utf-8', 'latin1', 'binary', 'ascii');

    it('decodes exactly what decodeLines then toString(encoding) gives, however the bytes are chunked', () => {
      fc.assert(
        fc.property(
          lineBytes.chain((bytes) => fc.tuple(fc.constant(bytes), chunkingsOf(bytes))),
          decodeOptions,
          encodings,
          ([bytes, chunks], { maxLength, truncation }, encoding) => {
            const options = { maxLength, truncation };
            const operator: OperatorFunction<Buffer, string> = (source) =>
              source.pipe(
                decodeLines(options),
                map((l) => l.toString(encoding)),
              );
            const decoded = decodeData(linesCodec({ ...options, encoding }), chunks);
            expect(decoded).toEqual(runData(operator, chunks));
            expect(chunkingFree(decoded)).toEqual(chunkingFree(runData(operator, [bytes])));
          },
        ),
        { numRuns: 500 },
      );
    });

    it('encodes a string as encodeLines encodes its bytes in that encoding, refusals included', () => {
      fc.assert(
        fc.property(
          fc.array(fc.string({ maxLength: 20, unit: fc.constantFrom('a', 'é', '\r', '\n', '\u010a', '€') }), {
            maxLength: 10,
          }),
          encodings,
          newlines,
          (values, encoding, newline) => {
            const bytes = values.map((v) => Buffer.from(v, encoding));
            expect(encodeData(linesCodec({ encoding, newline }), values)).toEqual(
              runData(encodeLines({ newline, maxLength: 65536 }), bytes as Chunk[]),
            );
          },
        ),
        { numRuns: 300 },
      );
    });

    it('decodes the text it encoded, multi-byte characters split across chunks included', () => {
      const text = fc
        .string({ maxLength: 20, unit: 'grapheme' })
        .filter((s) => !s.includes('\n') && !s.endsWith('\r') && Buffer.from(s).toString() === s);
      fc.assert(
        fc.property(fc.array(text, { maxLength: 15 }), newlines, (lines, newline) => {
          const codec = linesCodec({ encoding: 'utf8', newline });
          const bytes = encodeAll(codec, lines);
          fc.assert(
            fc.property(chunkingsOf(bytes), (chunks) => {
              expect(decodeData(codec, chunks)).toEqual({ values: lines, completed: true });
            }),
            { numRuns: 5 },
          );
        }),
        { numRuns: 100 },
      );
    });

    it('decodes a line that lies inside its chunk where it lies, without a view of it', () => {
      const framer = linesCodec({ encoding: 'utf8' }).decoder();
      framer.push(Buffer.from('héllo\r\nworld\nmore'));
      expect([framer.read(), framer.read(), framer.read()]).toEqual(['héllo', 'world', undefined]);
      expect(framer.frameCut?.view).toBeUndefined();
    });

    it('round-trips every latin1 character, and refuses one that latin1 would write as \\n', () => {
      const codec = linesCodec({ encoding: 'latin1' });
      const all = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i))
        .filter((c) => c !== '\n')
        .join('');
      expect(decodeData(codec, [encodeAll(codec, [all + 'x'])]).values).toEqual([all + 'x']);
      // Node writes a character's low byte in latin1: U+010A would be the byte 0x0a.
      expect(() => codec.encode('a\u010ab')).toThrow(EncodeError);
    });

    it('emits FrameTooLongError for a line over maxLength bytes, counted in bytes', () => {
      const codec = linesCodec({ encoding: 'utf8', maxLength: 3 });
      expect(decodeData(codec, [Buffer.from('éé\n')]).error).toEqual({
        name: 'FrameTooLongError',
        code: 'ERR_FRAME_TOO_LONG',
        limit: 3,
        length: 4,
      });
      expect(() => codec.encode('éé')).toThrow(new FrameTooLongError(3, 4));
    });
  });

  it('refuses a line both too long and holding \\n or ending in \\r as too long, in every encoding', () => {
    for (const encoding of ['utf8', 'latin1'] as const) {
      const codec = linesCodec({ maxLength: 4, encoding });
      for (const line of ['abcdef\n', 'abcdef\r', 'ab\ncdéé']) {
        expect(() => codec.encode(line)).toThrow(FrameTooLongError);
      }
      expect(() => codec.encode('ab\nc')).toThrow(EncodeError);
    }
    // Fewer UTF-16 units than the limit, more bytes.
    expect(() => linesCodec({ maxLength: 4 }).encode('é\né')).toThrow(FrameTooLongError);
  });

  it('throws InvalidArgumentError at creation for a bad option', () => {
    expectInvalidArgument(() => linesCodec(null as never), 'config');
    expectInvalidArgument(() => linesCodec({ maxLength: 0 }), 'maxLength');
    expectInvalidArgument(() => linesCodec({ maxLength: 1.5 }), 'maxLength');
    expectInvalidArgument(() => linesCodec({ maxLength: '9' as never }), 'maxLength');
    expectInvalidArgument(() => linesCodec({ truncation: 'keep' as never }), 'truncation');
    expectInvalidArgument(() => linesCodec({ copy: 'yes' as never }), 'copy');
    expectInvalidArgument(() => linesCodec({ newline: '\r' as never }), 'newline');
    expectInvalidArgument(() => linesCodec({ encoding: 'utf16le' as never }), 'encoding');
    expectInvalidArgument(() => linesCodec({ encoding: 'hex' as never }), 'encoding');
    expectInvalidArgument(() => linesCodec({ encoding: 'klingon' as never }), 'encoding');
  });
});

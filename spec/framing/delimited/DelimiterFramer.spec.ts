// DelimiterFramer without RxJS: the pull protocol, the bytes it holds, and the end of input.
import fc from 'fast-check';
import { FrameTooLongError } from '../../../lib/errors';
import { DelimiterFramer, type DelimiterFramerOptions } from '../../../lib/framing/delimited/DelimiterFramer';
import { byteByByte, chunkingsOf, runFramer, texts } from '../../support/framing';

const config = (over: Partial<DelimiterFramerOptions> = {}): DelimiterFramerOptions => ({
  delimiter: Buffer.from('\r\n'),
  maxLength: 8,
  includeDelimiter: false,
  truncation: 'error',
  stripCarriageReturn: false,
  ...over,
});

describe('DelimiterFramer', () => {
  it('returns undefined while a frame is incomplete and the frame once its delimiter arrives', () => {
    const framer = new DelimiterFramer(config());
    framer.push(Buffer.from('ab\r'));
    expect(framer.read()).toBeUndefined();
    framer.push(Buffer.from('\ncd'));
    expect(framer.read()?.toString()).toBe('ab');
    expect(framer.read()).toBeUndefined();
    expect(framer.buffered).toBe(2);
  });

  it('never holds more than maxLength + delimiter length - 1 bytes plus the last chunk', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 30 }),
        fc.integer({ min: 0, max: 16 }),
        (sizes, maxLength) => {
          const framer = new DelimiterFramer(config({ maxLength }));
          for (const size of sizes) {
            framer.push(Buffer.alloc(size, 0x61));
            try {
              while (framer.read() !== undefined);
            } catch (error) {
              expect(error).toBeInstanceOf(FrameTooLongError);
              return;
            }
            expect(framer.buffered).toBeLessThanOrEqual(maxLength + 1);
          }
        },
      ),
    );
  });

  it('hands out the leftover after end() as its truncation option says', () => {
    expect(
      texts(runFramer(new DelimiterFramer(config({ truncation: 'emit' })), [Buffer.from('a\r\nb')]).values),
    ).toEqual(['a', 'b']);
    expect(
      texts(runFramer(new DelimiterFramer(config({ truncation: 'discard' })), [Buffer.from('a\r\nb')]).values),
    ).toEqual(['a']);
    expect(runFramer(new DelimiterFramer(config()), [Buffer.from('a\r\nb')]).error).toMatchObject({
      name: 'TruncatedFrameError',
      buffered: 1,
    });
  });

  it('finds a delimiter that arrives one byte per chunk, with empty chunks between', () => {
    expect(texts(runFramer(new DelimiterFramer(config()), byteByByte(Buffer.from('one\r\ntwo\r\n'))).values)).toEqual([
      'one',
      'two',
    ]);
  });

  it('holds nothing after clear()', () => {
    const framer = new DelimiterFramer(config());
    framer.push(Buffer.from('abc'));
    framer.clear();
    expect(framer.buffered).toBe(0);
    framer.push(Buffer.from('\r\n'));
    expect(framer.read()?.length).toBe(0);
  });

  it('reads each frame as text, as read() then toString() would, however the bytes are chunked and set up', () => {
    const input = fc
      .array(fc.constantFrom('a', 'é', '\r', '\n', '\r\n', 'xyz'), { maxLength: 24 })
      .chain((parts) => chunkingsOf(Buffer.from(parts.join(''))));
    const setup = fc.record({
      delimiter: fc.constantFrom(Buffer.from('\n'), Buffer.from('\r\n')),
      maxLength: fc.integer({ min: 1, max: 10 }),
      includeDelimiter: fc.boolean(),
      truncation: fc.constantFrom('error' as const, 'emit' as const, 'discard' as const),
      stripCarriageReturn: fc.boolean(),
    });
    fc.assert(
      fc.property(input, setup, fc.constantFrom('utf8' as const, 'latin1' as const), (chunks, options, encoding) => {
        const asBuffers = runFramer(new DelimiterFramer(options), chunks);
        const text = new DelimiterFramer(options);
        const asText = runFramer<string>(
          {
            push: (c) => text.push(c),
            end: () => text.end(),
            clear: () => text.clear(),
            read: () => text.readText(encoding),
          },
          chunks,
        );
        expect(asText.values).toEqual(asBuffers.values.map((frame) => frame.toString(encoding)));
        expect(asText.error).toEqual(asBuffers.error);
      }),
    );
  });

  it('makes no view of a frame it reads as text inside a chunk, where read() does', () => {
    const framer = new DelimiterFramer(config({ delimiter: Buffer.from('\n') }));
    framer.push(Buffer.from('one\ntwo\nthree\nfour'));
    expect([framer.readText('utf8'), framer.readText('latin1')]).toEqual(['one', 'two']);
    expect(framer.frameCut.view).toBeUndefined();
    const three = framer.read();
    expect(three?.toString()).toBe('three');
    expect(framer.frameCut.view).toBe(three);
    expect(framer.readText('utf8')).toBeUndefined();
  });
});

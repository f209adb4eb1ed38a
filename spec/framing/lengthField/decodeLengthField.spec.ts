// decodeLengthField(): Netty's LengthFieldBasedFrameDecoder semantics, table by table; limits, corruption, chunking.
import fc from 'fast-check';
import { Subject } from 'rxjs';
import { CorruptedFrameError, FrameTooLongError, InvalidArgumentError, TruncatedFrameError } from '../../../lib/errors';
import { LengthFieldFramer } from '../../../lib/framing/lengthField/LengthFieldFramer';
import { encodeLengthField } from '../../../lib/framing/lengthField/encodeLengthField';
import { decodeLengthField, type DecodeLengthFieldOptions } from '../../../lib/framing/lengthField/decodeLengthField';
import {
  bufferValues,
  byteByByte,
  chunkingsOf,
  errorData,
  expectInvalidArgument,
  hex,
  marbles,
  overlaps,
  ownCopy,
  run,
  splitAt,
} from '../../support/framing';
import { behavesAsOperator } from '../../support/operatorContract';

const HELLO = Buffer.from('HELLO, WORLD').toString('hex');
const h = (...parts: string[]) => Buffer.from(parts.join('').replace(/\s+/g, ''), 'hex');

interface Row {
  name: string;
  config: DecodeLengthFieldOptions;
  input: Buffer;
  frames: string[];
}

// Every example of Netty's LengthFieldBasedFrameDecoder javadoc, then a spread of other parameter sets.
const table: Row[] = [
  {
    name: 'Netty 1: 2-byte length at offset 0, header kept',
    config: {
      maxFrameLength: 1024,
      lengthFieldOffset: 0,
      lengthFieldLength: 2,
      lengthAdjustment: 0,
      initialBytesToStrip: 0,
    },
    input: h('000C', HELLO),
    frames: ['000C' + HELLO],
  },
  {
    name: 'Netty 2: 2-byte length at offset 0, header stripped',
    config: {
      maxFrameLength: 1024,
      lengthFieldOffset: 0,
      lengthFieldLength: 2,
      lengthAdjustment: 0,
      initialBytesToStrip: 2,
    },
    input: h('000C', HELLO),
    frames: [HELLO],
  },
  {
    name: 'Netty 3: 2-byte length counting the whole message, header kept',
    config: {
      maxFrameLength: 1024,
      lengthFieldOffset: 0,
      lengthFieldLength: 2,
      lengthAdjustment: -2,
      initialBytesToStrip: 0,
    },
    input: h('000E', HELLO),
    frames: ['000E' + HELLO],
  },
  {
    name: 'Netty 4: 3-byte length at the end of a 5-byte header',
    config: {
      maxFrameLength: 1024,
      lengthFieldOffset: 2,
      lengthFieldLength: 3,
      lengthAdjustment: 0,
      initialBytesToStrip: 0,
    },
    input: h('CAFE', '00000C', HELLO),
    frames: ['CAFE00000C' + HELLO],
  },
  {
    name: 'Netty 5: 3-byte length at the start of a 5-byte header',
    config: {
      maxFrameLength: 1024,
      lengthFieldOffset: 0,
      lengthFieldLength: 3,
      lengthAdjustment: 2,
      initialBytesToStrip: 0,
    },
    input: h('00000C', 'CAFE', HELLO),
    frames: ['00000CCAFE' + HELLO],
  },
  {
    name: 'Netty 6: 2-byte length at offset 1 of a 4-byte header, HDR1 and length stripped',
    config: {
      maxFrameLength: 1024,
      lengthFieldOffset: 1,
      lengthFieldLength: 2,
      lengthAdjustment: 1,
      initialBytesToStrip: 3,
    },
    input: h('CA', '000C', 'FE', HELLO),
    frames: ['FE' + HELLO],
  },
  {
    name: 'Netty 7: as 6, the length counting the whole message',
    config: {
      maxFrameLength: 1024,
      lengthFieldOffset: 1,
      lengthFieldLength: 2,
      lengthAdjustment: -3,
      initialBytesToStrip: 3,
    },
    input: h('CA', '0010', 'FE', HELLO),
    frames: ['FE' + HELLO],
  },
  {
    name: '1-byte length, two frames and an empty one',
    config: { maxFrameLength: 256, lengthFieldLength: 1, initialBytesToStrip: 1 },
    input: h('02 6162', '00', '01 63'),
    frames: ['6162', '', '63'],
  },
  {
    name: '4-byte big-endian length, the common [uint32 BE length][payload]',
    config: { maxFrameLength: 1 << 20, lengthFieldLength: 4, initialBytesToStrip: 4 },
    input: h('00000003 616263', '00000001 64'),
    frames: ['616263', '64'],
  },
  {
    name: '4-byte little-endian length',
    config: { maxFrameLength: 1 << 20, lengthFieldLength: 4, initialBytesToStrip: 4, byteOrder: 'LE' },
    input: h('03000000 616263'),
    frames: ['616263'],
  },
  {
    name: '2-byte little-endian length counting itself',
    config: {
      maxFrameLength: 100,
      lengthFieldLength: 2,
      lengthAdjustment: -2,
      initialBytesToStrip: 2,
      byteOrder: 'LE',
    },
    input: h('0500 616263', '0200'),
    frames: ['616263', ''],
  },
  {
    name: '8-byte big-endian length',
    config: { maxFrameLength: 1 << 20, lengthFieldLength: 8, initialBytesToStrip: 8 },
    input: h('0000000000000002 6869'),
    frames: ['6869'],
  },
  {
    name: '8-byte little-endian length after a 1-byte type, type kept',
    config: {
      maxFrameLength: 1 << 20,
      lengthFieldOffset: 1,
      lengthFieldLength: 8,
      initialBytesToStrip: 0,
      byteOrder: 'LE',
    },
    input: h('07 0100000000000000 2a'),
    frames: ['0701000000000000002a'],
  },
  {
    name: '3-byte length, strip only part of the header',
    config: { maxFrameLength: 1024, lengthFieldLength: 3, initialBytesToStrip: 1 },
    input: h('000002 6162'),
    frames: ['0002' + '6162'],
  },
  {
    name: 'length field counting the whole frame including a 2-byte prefix',
    config: {
      maxFrameLength: 1024,
      lengthFieldOffset: 2,
      lengthFieldLength: 2,
      lengthAdjustment: -4,
      initialBytesToStrip: 4,
    },
    input: h('AAAA 0006 6162', 'BBBB 0004'),
    frames: ['6162', ''],
  },
  {
    name: 'a frame of exactly maxFrameLength bytes, header included',
    config: { maxFrameLength: 5, lengthFieldLength: 2 },
    input: h('0003 616263'),
    frames: ['0003616263'],
  },
];

describe('lengthField', () => {
  behavesAsOperator(() => decodeLengthField({ maxFrameLength: 64, lengthFieldLength: 1 }), Buffer.from([1, 0x61]));

  describe.each(table)('$name', ({ config, input, frames }) => {
    const lower = frames.map((f) => f.toLowerCase());

    it('emits the frames Netty emits from the whole input', () => {
      const result = run(decodeLengthField(config), [input]);
      expect(hex(result.values)).toEqual(lower);
      expect(result.completed).toBe(true);
    });

    it('emits the same frames one byte per chunk, empty chunks between', () => {
      expect(hex(run(decodeLengthField(config), byteByByte(input)).values)).toEqual(lower);
    });
  });

  it('reads lengths at the boundaries 0, 1, 0xFF, 0x100, 0xFFFF and 0x10000 for every field size that holds them', () => {
    for (const size of [0, 1, 0xff, 0x100, 0xffff, 0x10000]) {
      for (const fieldLength of [1, 2, 3, 4, 8] as const) {
        if (size >= 2 ** (8 * fieldLength)) continue;
        for (const byteOrder of ['BE', 'LE'] as const) {
          const payload = Buffer.alloc(size, 0x5a);
          const framed = run(encodeLengthField({ lengthFieldLength: fieldLength, byteOrder }), [payload] as never)
            .values[0] as Buffer;
          const decoder = decodeLengthField({
            maxFrameLength: 0x20000,
            lengthFieldLength: fieldLength,
            initialBytesToStrip: fieldLength,
            byteOrder,
          });
          const result = run(decoder, splitAt(framed, [1, Math.floor(framed.length / 2)]));
          expect(result.values.map((v) => v.length)).toEqual([size]);
        }
      }
    }
  });

  it('emits FrameTooLongError as soon as the length field is read, before the body arrives', () => {
    const source = new Subject<Buffer>();
    let error: unknown;
    source
      .pipe(decodeLengthField({ maxFrameLength: 100, lengthFieldLength: 4 }))
      .subscribe({ error: (e) => (error = e) });
    source.next(h('0000'));
    expect(error).toBeUndefined();
    source.next(h('0061'));
    expect(error).toBeInstanceOf(FrameTooLongError);
    // 0x61 = 97 bytes of body + 4 of header: the whole frame is checked, as in Netty.
    expect(errorData(error)).toEqual({
      name: 'FrameTooLongError',
      code: 'ERR_FRAME_TOO_LONG',
      limit: 100,
      length: 101,
    });
    expect(source.observed).toBe(false);
  });

  it('with failFast off, skips the too-long frame without buffering it and errors once it has gone by', () => {
    const framer = new LengthFieldFramer({
      maxFrameLength: 10,
      lengthFieldLength: 1,
      lengthFieldOffset: 0,
      lengthAdjustment: 0,
      initialBytesToStrip: 1,
      byteOrder: 'BE',
      failFast: false,
      truncation: 'error',
    });
    framer.push(h('02 6162', '14 0000'));
    expect(framer.read()?.toString()).toBe('ab');
    expect(framer.read()).toBeUndefined();
    expect(framer.buffered).toBe(0);
    framer.push(Buffer.alloc(15));
    expect(framer.read()).toBeUndefined();
    expect(framer.buffered).toBe(0);
    framer.push(h('0000 01'));
    expect(() => framer.read()).toThrow(FrameTooLongError);
  });

  it('with failFast off, still errors if the source ends inside the too-long frame', () => {
    const result = run(decodeLengthField({ maxFrameLength: 10, lengthFieldLength: 1, failFast: false }), [h('14 00')]);
    expect(errorData(result.error)).toEqual({
      name: 'FrameTooLongError',
      code: 'ERR_FRAME_TOO_LONG',
      limit: 10,
      length: 21,
    });
  });

  it('emits CorruptedFrameError for a negative 8-byte length field', () => {
    const result = run(decodeLengthField({ maxFrameLength: 100, lengthFieldLength: 8 }), [h('FFFFFFFFFFFFFFFF')]);
    expect(result.error).toBeInstanceOf(CorruptedFrameError);
    expect(errorData(result.error)).toEqual({ name: 'CorruptedFrameError', code: 'ERR_CORRUPTED_FRAME', length: -1 });
  });

  it('emits CorruptedFrameError when the adjusted length is shorter than the header up to the length field', () => {
    const result = run(decodeLengthField({ maxFrameLength: 100, lengthFieldLength: 2, lengthAdjustment: -2 }), [
      h('0001 00'),
    ]);
    expect(errorData(result.error)).toEqual({ name: 'CorruptedFrameError', code: 'ERR_CORRUPTED_FRAME', length: 1 });
    expect((result.error as Error).message).toContain('lengthFieldEndOffset 2');
  });

  it('emits CorruptedFrameError when the frame is shorter than initialBytesToStrip', () => {
    const result = run(decodeLengthField({ maxFrameLength: 100, lengthFieldLength: 1, initialBytesToStrip: 4 }), [
      h('01 00 00 00'),
    ]);
    expect(errorData(result.error)).toEqual({ name: 'CorruptedFrameError', code: 'ERR_CORRUPTED_FRAME', length: 2 });
  });

  it('emits TruncatedFrameError when the source ends inside a header or a body, and completes quietly with truncation discard', () => {
    const config = { maxFrameLength: 100, lengthFieldLength: 2 as const };
    expect(errorData(run(decodeLengthField(config), [h('00')]).error)).toMatchObject({
      name: 'TruncatedFrameError',
      buffered: 1,
    });
    expect(errorData(run(decodeLengthField(config), [h('0003 6162')]).error)).toMatchObject({
      name: 'TruncatedFrameError',
      buffered: 4,
    });
    const discarded = run(decodeLengthField({ ...config, truncation: 'discard' }), [h('0001 61 0003 6162')]);
    expect(hex(discarded.values)).toEqual(['000161']);
    expect(discarded.completed).toBe(true);
  });

  it('refuses what Netty refuses, and what Netty only finds out later, when created', () => {
    const bad: unknown[] = [
      undefined,
      {},
      { maxFrameLength: 0, lengthFieldLength: 2 },
      { maxFrameLength: 10, lengthFieldLength: 5 },
      { maxFrameLength: 10, lengthFieldLength: 4, lengthFieldOffset: 7 },
      { maxFrameLength: 10, lengthFieldLength: 2, lengthFieldOffset: -1 },
      { maxFrameLength: 10, lengthFieldLength: 2, initialBytesToStrip: -1 },
      { maxFrameLength: 10, lengthFieldLength: 2, lengthAdjustment: 0.5 },
      { maxFrameLength: 10, lengthFieldLength: 2, byteOrder: 'big' },
      { maxFrameLength: 10, lengthFieldLength: 2, failFast: 1 },
      { maxFrameLength: 10, lengthFieldLength: 2, truncation: 'emit' },
    ];
    for (const config of bad)
      expect(() => decodeLengthField(config as DecodeLengthFieldOptions)).toThrow(InvalidArgumentError);
    expect(() => decodeLengthField({ maxFrameLength: 6, lengthFieldLength: 4, lengthFieldOffset: 2 })).not.toThrow();
  });

  it('refuses every option of a wrong type or out of range when created, naming it', () => {
    const base: DecodeLengthFieldOptions = { maxFrameLength: 10, lengthFieldLength: 2 };
    const bad: [unknown, string][] = [
      [null, 'config'],
      [8, 'config'],
      [{ ...base, maxFrameLength: undefined }, 'maxFrameLength'],
      [{ ...base, maxFrameLength: Infinity }, 'maxFrameLength'],
      [{ ...base, maxFrameLength: 1.5 }, 'maxFrameLength'],
      [{ ...base, maxFrameLength: '10' }, 'maxFrameLength'],
      [{ ...base, lengthFieldLength: undefined }, 'lengthFieldLength'],
      [{ ...base, lengthFieldLength: 0 }, 'lengthFieldLength'],
      [{ ...base, lengthFieldLength: '2' }, 'lengthFieldLength'],
      [{ ...base, lengthFieldOffset: -1 }, 'lengthFieldOffset'],
      [{ ...base, lengthFieldOffset: 0.5 }, 'lengthFieldOffset'],
      [{ ...base, lengthFieldOffset: null }, 'lengthFieldOffset'],
      [{ ...base, lengthAdjustment: 0.5 }, 'lengthAdjustment'],
      [{ ...base, lengthAdjustment: '1' }, 'lengthAdjustment'],
      [{ ...base, lengthAdjustment: null }, 'lengthAdjustment'],
      [{ ...base, initialBytesToStrip: -1 }, 'initialBytesToStrip'],
      [{ ...base, initialBytesToStrip: NaN }, 'initialBytesToStrip'],
      [{ ...base, initialBytesToStrip: null }, 'initialBytesToStrip'],
      [{ ...base, byteOrder: 'big' }, 'byteOrder'],
      [{ ...base, byteOrder: null }, 'byteOrder'],
      [{ ...base, failFast: 1 }, 'failFast'],
      [{ ...base, failFast: null }, 'failFast'],
      [{ ...base, truncation: 'emit' }, 'truncation'],
      [{ ...base, copy: 'yes' }, 'copy'],
      [{ ...base, copy: 1 }, 'copy'],
      [{ ...base, copy: null }, 'copy'],
      [{ maxFrameLength: 5, lengthFieldLength: 4, lengthFieldOffset: 2 }, 'maxFrameLength'],
    ];
    for (const [config, argument] of bad)
      expectInvalidArgument(() => decodeLengthField(config as DecodeLengthFieldOptions), argument);
    for (const over of [{}, { copy: true }, { copy: false }, { lengthAdjustment: -2 }]) {
      expect(() => decodeLengthField({ ...base, ...over })).not.toThrow();
    }
  });

  it('with copy, emits frames in memory of their own, equal to the views it emits without', () => {
    const chunk = ownCopy(h('0002 6162 0000 0001 63'));
    const config: DecodeLengthFieldOptions = { maxFrameLength: 16, lengthFieldLength: 2, initialBytesToStrip: 2 };
    const copied = run(decodeLengthField({ ...config, copy: true }), [chunk]).values;
    const viewed = run(decodeLengthField(config), [chunk]).values;
    expect(hex(copied)).toEqual(['6162', '', '63']);
    expect(hex(copied)).toEqual(hex(viewed));
    for (const frame of viewed) if (frame.length > 0) expect(frame.buffer).toBe(chunk.buffer);
    for (const frame of copied) {
      expect(frame.buffer).not.toBe(chunk.buffer);
      expect(overlaps(frame, chunk)).toBe(false);
    }
  });

  it('yields the same frames and the same error, data included, however the bytes are chunked', () => {
    const configs = fc.record({
      maxFrameLength: fc.integer({ min: 12, max: 40 }),
      lengthFieldOffset: fc.nat({ max: 3 }),
      lengthFieldLength: fc.constantFrom<1 | 2 | 3 | 4 | 8>(1, 2, 3, 4, 8),
      lengthAdjustment: fc.integer({ min: -4, max: 4 }),
      initialBytesToStrip: fc.nat({ max: 6 }),
      byteOrder: fc.constantFrom<'BE' | 'LE'>('BE', 'LE'),
      failFast: fc.boolean(),
      truncation: fc.constantFrom<'error' | 'discard'>('error', 'discard'),
    });
    // Mostly small lengths, so that frames complete and the other branches are reached too.
    const bytes = fc
      .array(fc.oneof({ weight: 5, arbitrary: fc.nat({ max: 6 }) }, { weight: 1, arbitrary: fc.nat({ max: 255 }) }), {
        maxLength: 120,
      })
      .map((a) => Buffer.from(a));
    fc.assert(
      fc.property(
        configs,
        bytes.chain((b) => fc.tuple(fc.constant(b), chunkingsOf(b))),
        (config, [input, chunks]) => {
          const whole = run(decodeLengthField(config), [input]);
          const chunked = run(decodeLengthField(config), chunks);
          expect(hex(chunked.values)).toEqual(hex(whole.values));
          expect(errorData(chunked.error)).toEqual(errorData(whole.error));
          expect(chunked.completed).toBe(whole.completed);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('decodes what encodeLengthField encoded, for every field size, byte order and length convention', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
          { maxLength: 12 },
        ),
        fc.constantFrom<1 | 2 | 3 | 4 | 8>(1, 2, 3, 4, 8),
        fc.constantFrom<'BE' | 'LE'>('BE', 'LE'),
        fc.boolean(),
        fc.integer({ min: 0, max: 20 }),
        fc.nat(),
        (frames, lengthFieldLength, byteOrder, includes, adjustment, seed) => {
          const encoded = run(
            encodeLengthField({
              lengthFieldLength,
              byteOrder,
              lengthIncludesLengthFieldLength: includes,
              lengthAdjustment: adjustment,
            }),
            frames as never,
          ).values as Buffer[];
          const bytes = Buffer.concat(encoded);
          const decoder = decodeLengthField({
            maxFrameLength: 1024,
            lengthFieldLength,
            byteOrder,
            initialBytesToStrip: lengthFieldLength,
            lengthAdjustment: -adjustment - (includes ? lengthFieldLength : 0),
          });
          const cuts = [seed % (bytes.length + 1), (seed >> 3) % (bytes.length + 1)];
          expect(hex(run(decoder, splitAt(bytes, cuts)).values)).toEqual(hex(frames));
        },
      ),
    );
  });

  describe('in marbles', () => {
    const config: DecodeLengthFieldOptions = { maxFrameLength: 8, lengthFieldLength: 2, initialBytesToStrip: 2 };

    it('emits each frame when its last byte arrives and completes with the source', () => {
      marbles().run(({ cold, expectObservable }) => {
        const values = bufferValues({ a: [0, 3, 0x61], b: [0x62, 0x63, 0, 1], c: [0x64], x: 'abc', y: 'd' });
        expectObservable(cold('-a-b-c-|', values).pipe(decodeLengthField(config))).toBe('---x-y-|', values);
      });
    });

    it('errors with FrameTooLongError when the header arrives and unsubscribes from the source', () => {
      marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
        const values = bufferValues({ a: [0, 1, 0x61, 0], b: [9], x: 'a' });
        const source = cold('-a-b-a-|', values);
        expectObservable(source.pipe(decodeLengthField(config))).toBe('-x-#', values, new FrameTooLongError(8, 11));
        expectSubscriptions(source.subscriptions).toBe('^--!');
      });
    });

    it('passes a source error on', () => {
      marbles().run(({ cold, expectObservable }) => {
        const values = bufferValues({ a: [0, 1, 0x61, 0], x: 'a' });
        expectObservable(cold('-a-#', values).pipe(decodeLengthField(config))).toBe('-x-#', values);
      });
    });

    it('errors with TruncatedFrameError when the source completes inside a frame', () => {
      marbles().run(({ cold, expectObservable }) => {
        const values = bufferValues({ a: [0, 2, 0x61] });
        expectObservable(cold('-a-|', values).pipe(decodeLengthField(config))).toBe(
          '---#',
          values,
          new TruncatedFrameError(3),
        );
      });
    });
  });
});

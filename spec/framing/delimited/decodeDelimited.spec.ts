// decodeDelimited(): frames between delimiters, whatever the chunking; limits and end of stream.
import fc from 'fast-check';
import { Subject, from } from 'rxjs';
import { FrameTooLongError, InvalidArgumentError, TruncatedFrameError } from '../../../lib/errors';
import type { Truncation } from '../../../lib/framing/Framer';
import { decodeDelimited, type DecodeDelimitedOptions } from '../../../lib/framing/delimited/decodeDelimited';
import { encodeDelimited } from '../../../lib/framing/delimited/encodeDelimited';
import {
  bufferValues,
  chunkingsOf,
  errorData,
  expectInvalidArgument,
  marbles,
  outcome,
  overlaps,
  ownCopy,
  run,
  splitAt,
  texts,
} from '../../support/framing';
import { behavesAsOperator } from '../../support/operatorContract';

/** What splitting the whole input at once must give: the specification the framer is held to. */
function reference(bytes: Buffer, delimiter: Buffer, maxLength: number, truncation: Truncation) {
  const frames: string[] = [];
  let position = 0;
  let index: number;
  while ((index = bytes.indexOf(delimiter, position)) >= 0) {
    if (index - position > maxLength) return { frames, error: 'FrameTooLongError' };
    frames.push(bytes.subarray(position, index).toString('hex'));
    position = index + delimiter.length;
  }
  const rest = bytes.length - position;
  if (rest === 0) return { frames };
  if (rest > maxLength) return { frames, error: 'FrameTooLongError' };
  if (truncation === 'emit') frames.push(bytes.subarray(position).toString('hex'));
  if (truncation === 'error') return { frames, error: 'TruncatedFrameError' };
  return { frames };
}

// Bytes over a 3-letter alphabet, so that random delimiters occur, overlap and straddle often.
const smallAlphabet = (maxLength: number) =>
  fc.uint8Array({ maxLength }).map((a) => Buffer.from(a.map((x) => 0x61 + (x % 3))));

describe('delimited', () => {
  behavesAsOperator(() => decodeDelimited(','), Buffer.from('a,'));

  it('emits the frames between delimiters, a frame per delimiter, in order', () => {
    const result = run(decodeDelimited(','), [Buffer.from('ab,,c,')]);
    expect(texts(result.values)).toEqual(['ab', '', 'c']);
    expect(result.completed).toBe(true);
  });

  it('finds a multi-byte delimiter split across chunks', () => {
    const result = run(decodeDelimited('\r\n\r\n'), splitAt(Buffer.from('head\r\n\r\nbody\r\n\r\n'), [5, 6, 7, 14]));
    expect(texts(result.values)).toEqual(['head', 'body']);
  });

  it('keeps the delimiter when includeDelimiter is set', () => {
    const result = run(decodeDelimited('||', { includeDelimiter: true }), [Buffer.from('a||b|'), Buffer.from('|')]);
    expect(texts(result.values)).toEqual(['a||', 'b||']);
  });

  it('emits a frame that lies inside one chunk as a view of that chunk', () => {
    const chunk = Buffer.from('abc,def,');
    const [first] = run(decodeDelimited(','), [chunk]).values;
    chunk[0] = 0x41;
    expect(first.toString()).toBe('Abc');
  });

  it('yields the same frames and error as splitting the whole input, however it is chunked', () => {
    fc.assert(
      fc.property(
        smallAlphabet(80).chain((bytes) =>
          fc.record({
            bytes: fc.constant(bytes),
            chunks: chunkingsOf(bytes),
            delimiter: smallAlphabet(3).filter((d) => d.length > 0),
            maxLength: fc.oneof(fc.constant(Infinity), fc.integer({ min: 1, max: 12 })),
            truncation: fc.constantFrom<Truncation>('error', 'emit', 'discard'),
          }),
        ),
        ({ bytes, chunks, delimiter, maxLength, truncation }) => {
          const result = run(decodeDelimited(delimiter, { maxLength, truncation }), chunks);
          expect(outcome(result)).toEqual(reference(bytes, delimiter, maxLength, truncation));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('decodes what encodeDelimited encoded, frame for frame, however it is chunked', () => {
    const delimiter = Buffer.from([0xff, 0x00]);
    fc.assert(
      fc.property(
        fc.array(
          fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a.filter((x) => x !== 0xff))),
          { maxLength: 20 },
        ),
        fc.nat(),
        (frames, seed) => {
          const encoded = run(encodeDelimited(delimiter), frames as never).values as Buffer[];
          const bytes = Buffer.concat(encoded);
          const cuts = [seed % (bytes.length + 1), (seed * 7) % (bytes.length + 1), (seed * 13) % (bytes.length + 1)];
          const decoded = run(decodeDelimited(delimiter), splitAt(bytes, cuts));
          expect(decoded.values.map((b) => b.toString('hex'))).toEqual(frames.map((b) => b.toString('hex')));
          expect(decoded.completed).toBe(true);
        },
      ),
    );
  });

  it('emits FrameTooLongError once more than maxLength bytes without a delimiter are held, before the rest arrives', () => {
    const source = new Subject<Buffer>();
    let error: unknown;
    source.pipe(decodeDelimited(',', { maxLength: 4 })).subscribe({ error: (e) => (error = e) });
    source.next(Buffer.from('abcd'));
    expect(error).toBeUndefined();
    source.next(Buffer.from('e'));
    expect(error).toBeInstanceOf(FrameTooLongError);
    expect(errorData(error)).toEqual({ name: 'FrameTooLongError', code: 'ERR_FRAME_TOO_LONG', limit: 4, length: 5 });
    expect(source.observed).toBe(false);
  });

  it('waits for the delimiter before counting bytes that may be its beginning', () => {
    // 'abc' + '\r' could still be 'abc' + '\r\n': not too long yet.
    const result = run(decodeDelimited('\r\n', { maxLength: 3 }), [Buffer.from('abc\r'), Buffer.from('\n')]);
    expect(texts(result.values)).toEqual(['abc']);
  });

  it('accepts a frame of exactly maxLength bytes and refuses one of maxLength + 1', () => {
    // 1 is the smallest limit (0 is refused when created).
    for (const max of [1, 0xff, 0x100, 0xffff, 0x10000]) {
      const ok = run(decodeDelimited(',', { maxLength: max }), [
        Buffer.concat([Buffer.alloc(max, 0x61), Buffer.from(',')]),
      ]);
      expect(ok.values.map((f) => f.length)).toEqual([max]);
      const tooLong = run(decodeDelimited(',', { maxLength: max }), [
        Buffer.concat([Buffer.alloc(max + 1, 0x61), Buffer.from(',')]),
      ]);
      expect(errorData(tooLong.error)).toMatchObject({ name: 'FrameTooLongError', limit: max, length: max + 1 });
    }
  });

  it('splits one chunk holding thousands of frames', () => {
    const bytes = Buffer.from(Array.from({ length: 5000 }, (_, i) => `${i}`).join(',') + ',');
    const result = run(decodeDelimited(','), [bytes]);
    expect(result.values).toHaveLength(5000);
    expect(result.values[4999].toString()).toBe('4999');
  });

  it('raises TruncatedFrameError for bytes left without a delimiter by default', () => {
    const result = run(decodeDelimited(','), [Buffer.from('a,bc')]);
    expect(texts(result.values)).toEqual(['a']);
    expect(result.error).toBeInstanceOf(TruncatedFrameError);
    expect(errorData(result.error)).toEqual({ name: 'TruncatedFrameError', code: 'ERR_TRUNCATED_FRAME', buffered: 2 });
  });

  it("emits the leftover as a last frame with truncation 'emit' and drops it with 'discard'", () => {
    expect(texts(run(decodeDelimited(',', { truncation: 'emit' }), [Buffer.from('a,bc')]).values)).toEqual(['a', 'bc']);
    const discarded = run(decodeDelimited(',', { truncation: 'discard' }), [Buffer.from('a,bc')]);
    expect(texts(discarded.values)).toEqual(['a']);
    expect(discarded.completed).toBe(true);
  });

  it('refuses a bad delimiter or option when created, not when subscribed', () => {
    expect(() => decodeDelimited('')).toThrow(InvalidArgumentError);
    expect(() => decodeDelimited(42 as never)).toThrow(InvalidArgumentError);
    expect(() => decodeDelimited(',', { maxLength: -1 })).toThrow(InvalidArgumentError);
    expect(() => decodeDelimited(',', { maxLength: 1.5 })).toThrow(InvalidArgumentError);
    expect(() => decodeDelimited(',', { truncation: 'maybe' as never })).toThrow(InvalidArgumentError);
    expect(() => decodeDelimited(',', { includeDelimiter: 'yes' as never })).toThrow(InvalidArgumentError);
    try {
      decodeDelimited(',', { maxLength: -1 });
    } catch (e) {
      expect(errorData(e)).toEqual({
        name: 'InvalidArgumentError',
        code: 'ERR_INVALID_ARGUMENT',
        argument: 'maxLength',
      });
    }
  });

  it('refuses every option of a wrong type or out of range when created, naming it', () => {
    const bad: [unknown, string][] = [
      [{ maxLength: 0 }, 'maxLength'],
      [{ maxLength: -1 }, 'maxLength'],
      [{ maxLength: NaN }, 'maxLength'],
      [{ maxLength: -Infinity }, 'maxLength'],
      [{ maxLength: '8' }, 'maxLength'],
      [{ maxLength: null }, 'maxLength'],
      [{ includeDelimiter: 1 }, 'includeDelimiter'],
      [{ truncation: null }, 'truncation'],
      [{ copy: 'yes' }, 'copy'],
      [{ copy: 0 }, 'copy'],
      [{ copy: null }, 'copy'],
      [null, 'config'],
      [7, 'config'],
    ];
    for (const [config, argument] of bad)
      expectInvalidArgument(() => decodeDelimited(',', config as DecodeDelimitedOptions), argument);
    expectInvalidArgument(() => decodeDelimited(null as never), 'delimiter');
    expectInvalidArgument(() => decodeDelimited(Buffer.alloc(0)), 'delimiter');
    const good: (DecodeDelimitedOptions | undefined)[] = [
      undefined,
      {},
      { maxLength: 1 },
      { maxLength: Infinity },
      { copy: true },
    ];
    for (const config of good) expect(() => decodeDelimited(',', config)).not.toThrow();
  });

  it('with copy, emits frames in memory of their own, equal to the views it emits without', () => {
    const chunk = ownCopy(Buffer.from('ab||c||||de||f'));
    const copied = run(decodeDelimited('||', { copy: true, truncation: 'emit' }), [chunk]).values;
    const viewed = run(decodeDelimited('||', { truncation: 'emit' }), [chunk]).values;
    expect(texts(copied)).toEqual(['ab', 'c', '', 'de', 'f']);
    expect(texts(copied)).toEqual(texts(viewed));
    for (const frame of viewed) expect(frame.buffer).toBe(chunk.buffer);
    for (const frame of copied) {
      expect(frame.buffer).not.toBe(chunk.buffer);
      expect(overlaps(frame, chunk)).toBe(false);
    }
  });

  it('does not depend on later changes to the delimiter Buffer it was given', () => {
    const delimiter = Buffer.from(',');
    const op = decodeDelimited(delimiter);
    delimiter[0] = 0x3b;
    expect(texts(run(op, [Buffer.from('a,')]).values)).toEqual(['a']);
  });

  describe('in marbles', () => {
    it('emits frames as their delimiters arrive and completes after the last', () => {
      marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
        const values = bufferValues({ a: 'ab,c', b: 'd,ef,', c: 'g,', x: 'ab', y: 'cd', z: 'ef', w: 'g' });
        const source = cold('  -a-b----c-|', values);
        const expected = '    -x-(yz)-w-|';
        expectObservable(source.pipe(decodeDelimited(','))).toBe(expected, values);
        expectSubscriptions(source.subscriptions).toBe('^---------!');
      });
    });

    it('passes a source error on after the frames already complete', () => {
      marbles().run(({ cold, expectObservable }) => {
        const values = bufferValues({ a: 'ab,c', x: 'ab' });
        const failure = new Error('ECONNRESET');
        expectObservable(cold('-a--#', values, failure).pipe(decodeDelimited(','))).toBe('-x--#', values, failure);
      });
    });

    it('errors with FrameTooLongError and unsubscribes from the source', () => {
      marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
        const values = bufferValues({ a: 'ab,cd', b: 'efg', x: 'ab' });
        const source = cold('  -a--b--a-|', values);
        expectObservable(source.pipe(decodeDelimited(',', { maxLength: 4 }))).toBe(
          '-x--#',
          values,
          new FrameTooLongError(4, 5),
        );
        expectSubscriptions(source.subscriptions).toBe('^---!');
      });
    });

    it('errors with TruncatedFrameError at completion when bytes are left', () => {
      marbles().run(({ cold, expectObservable }) => {
        const values = bufferValues({ a: 'ab,cd', x: 'ab' });
        expectObservable(cold('-a-|', values).pipe(decodeDelimited(','))).toBe(
          '-x-#',
          values,
          new TruncatedFrameError(2),
        );
      });
    });
  });

  it('releases what it holds when unsubscribed', () => {
    const source = new Subject<Buffer>();
    const subscription = from(source).pipe(decodeDelimited(',')).subscribe();
    source.next(Buffer.alloc(1000, 0x61));
    subscription.unsubscribe();
    expect(source.observed).toBe(false);
  });
});

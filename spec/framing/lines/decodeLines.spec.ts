// decodeLines(): \n and \r\n line endings, whatever the chunking; the line limit and the last line.
import fc from 'fast-check';
import { Subject } from 'rxjs';
import { FrameTooLongError, InvalidArgumentError, TruncatedFrameError } from '../../../lib/errors';
import type { Truncation } from '../../../lib/framing/Framer';
import { encodeLines } from '../../../lib/framing/lines/encodeLines';
import { decodeLines, type DecodeLinesOptions } from '../../../lib/framing/lines/decodeLines';
import {
  bufferValues,
  byteByByte,
  chunkingsOf,
  errorData,
  expectInvalidArgument,
  marbles,
  outcome,
  overlaps,
  ownCopy,
  run,
  texts,
} from '../../support/framing';
import { behavesAsOperator } from '../../support/operatorContract';

/** Splitting the whole input at once: each \n ends a line, one \r before it belongs to the ending. */
function reference(bytes: Buffer, maxLength: number, truncation: Truncation) {
  const frames: string[] = [];
  let position = 0;
  let index: number;
  while ((index = bytes.indexOf(0x0a, position)) >= 0) {
    const end = index > position && bytes[index - 1] === 0x0d ? index - 1 : index;
    if (end - position > maxLength) return { frames, error: 'FrameTooLongError' };
    frames.push(bytes.subarray(position, end).toString('hex'));
    position = index + 1;
  }
  const rest = bytes.length - position;
  if (rest === 0) return { frames };
  if (rest > maxLength) return { frames, error: 'FrameTooLongError' };
  if (truncation === 'emit') frames.push(bytes.subarray(position).toString('hex'));
  if (truncation === 'error') return { frames, error: 'TruncatedFrameError' };
  return { frames };
}

const lineBytes = fc.array(fc.constantFrom(0x61, 0x62, 0x0d, 0x0a), { maxLength: 80 }).map((a) => Buffer.from(a));

describe('lines', () => {
  behavesAsOperator(() => decodeLines(), Buffer.from('one\n'));

  it('accepts \\n and \\r\\n endings and emits lines without them', () => {
    const result = run(decodeLines(), [Buffer.from('a\nb\r\n\nc\r\n')]);
    expect(texts(result.values)).toEqual(['a', 'b', '', 'c']);
  });

  it('finds \\r\\n split across chunks', () => {
    expect(texts(run(decodeLines(), [Buffer.from('abc\r'), Buffer.from('\ndef\n')]).values)).toEqual(['abc', 'def']);
  });

  it('keeps a \\r that is not followed by \\n as part of the line', () => {
    expect(texts(run(decodeLines(), [Buffer.from('a\rb\n')]).values)).toEqual(['a\rb']);
  });

  it('keeps the endings as received when includeDelimiter is set', () => {
    expect(texts(run(decodeLines({ includeDelimiter: true }), [Buffer.from('a\nb\r\n')]).values)).toEqual([
      'a\n',
      'b\r\n',
    ]);
  });

  it('emits a last line without ending by default, like readline and split2', () => {
    const result = run(decodeLines(), [Buffer.from('a\nlast')]);
    expect(texts(result.values)).toEqual(['a', 'last']);
    expect(result.completed).toBe(true);
  });

  it("raises TruncatedFrameError for a last line without ending with truncation 'error'", () => {
    const result = run(decodeLines({ truncation: 'error' }), [Buffer.from('a\nlast')]);
    expect(errorData(result.error)).toEqual({ name: 'TruncatedFrameError', code: 'ERR_TRUNCATED_FRAME', buffered: 4 });
  });

  it('yields the same lines and error as splitting the whole input, however it is chunked', () => {
    fc.assert(
      fc.property(
        lineBytes.chain((bytes) =>
          fc.record({
            bytes: fc.constant(bytes),
            chunks: chunkingsOf(bytes),
            maxLength: fc.oneof(fc.constant(Infinity), fc.integer({ min: 1, max: 10 })),
            truncation: fc.constantFrom<Truncation>('error', 'emit', 'discard'),
          }),
        ),
        ({ bytes, chunks, maxLength, truncation }) => {
          expect(outcome(run(decodeLines({ maxLength, truncation }), chunks))).toEqual(
            reference(bytes, maxLength, truncation),
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it('decodes what encodeLines encoded, for both newline styles, however it is chunked', () => {
    const line = fc.string({ maxLength: 30 }).filter((s) => !s.includes('\n') && !s.endsWith('\r'));
    fc.assert(
      fc.property(
        fc.array(line, { maxLength: 20 }),
        fc.constantFrom<'\n' | '\r\n'>('\n', '\r\n'),
        (values, newline) => {
          const bytes = Buffer.concat(run(encodeLines({ newline }), values as never).values as Buffer[]);
          fc.assert(
            fc.property(chunkingsOf(bytes), (chunks) => {
              expect(run(decodeLines(), chunks).values.map((b) => b.toString('utf8'))).toEqual(values);
            }),
            { numRuns: 5 },
          );
        },
      ),
      { numRuns: 100 },
    );
  });

  it('holds at most maxLength + 1 bytes plus one chunk before raising FrameTooLongError', () => {
    const source = new Subject<Buffer>();
    let error: unknown;
    source.pipe(decodeLines({ maxLength: 8 })).subscribe({ error: (e) => (error = e) });
    for (const chunk of byteByByte(Buffer.from('12345678\r'))) source.next(chunk);
    expect(error).toBeUndefined();
    source.next(Buffer.from('x'));
    expect(errorData(error)).toEqual({ name: 'FrameTooLongError', code: 'ERR_FRAME_TOO_LONG', limit: 8, length: 10 });
  });

  it('finds the end of a 64 KiB line sent one byte per chunk without rescanning it', () => {
    const line = Buffer.alloc(64 * 1024, 0x61);
    const chunks = [...line].map((b) => Buffer.from([b]));
    chunks.push(Buffer.from('\n'));
    const started = process.hrtime.bigint();
    const result = run(decodeLines({ maxLength: 64 * 1024 }), chunks);
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    expect(result.values[0].length).toBe(64 * 1024);
    // A quadratic rescan would take tens of seconds here.
    expect(elapsedMs).toBeLessThan(3000);
  });

  it('refuses bad options when created', () => {
    expect(() => decodeLines({ maxLength: -1 })).toThrow(InvalidArgumentError);
    expect(() => decodeLines({ truncation: 'nope' as never })).toThrow(InvalidArgumentError);
  });

  it('refuses every option of a wrong type or out of range when created, naming it', () => {
    const bad: [unknown, string][] = [
      [{ maxLength: 0 }, 'maxLength'],
      [{ maxLength: -1 }, 'maxLength'],
      [{ maxLength: 1.5 }, 'maxLength'],
      [{ maxLength: NaN }, 'maxLength'],
      [{ maxLength: -Infinity }, 'maxLength'],
      [{ maxLength: '8' }, 'maxLength'],
      [{ maxLength: null }, 'maxLength'],
      [{ includeDelimiter: 'yes' }, 'includeDelimiter'],
      [{ includeDelimiter: 1 }, 'includeDelimiter'],
      [{ truncation: 'nope' }, 'truncation'],
      [{ truncation: null }, 'truncation'],
      [{ copy: 'yes' }, 'copy'],
      [{ copy: 1 }, 'copy'],
      [{ copy: null }, 'copy'],
      [null, 'config'],
      [42, 'config'],
      ['maxLength', 'config'],
    ];
    for (const [config, argument] of bad)
      expectInvalidArgument(() => decodeLines(config as DecodeLinesOptions), argument);
    const good: (DecodeLinesOptions | undefined)[] = [
      undefined,
      {},
      { maxLength: 1 },
      { maxLength: Infinity },
      { copy: true },
    ];
    for (const config of good) expect(() => decodeLines(config)).not.toThrow();
  });

  it('with copy, emits lines in memory of their own, equal to the views it emits without', () => {
    const chunk = ownCopy(Buffer.from('one\ntwo\r\n\nthree'));
    const copied = run(decodeLines({ copy: true }), [chunk]).values;
    const viewed = run(decodeLines(), [chunk]).values;
    expect(texts(copied)).toEqual(['one', 'two', '', 'three']);
    expect(texts(copied)).toEqual(texts(viewed));
    for (const line of viewed) expect(line.buffer).toBe(chunk.buffer);
    for (const line of copied) {
      expect(line.buffer).not.toBe(chunk.buffer);
      expect(overlaps(line, chunk)).toBe(false);
    }
    chunk.fill(0x78);
    expect(texts(copied)).toEqual(['one', 'two', '', 'three']);
  });

  describe('in marbles', () => {
    it('emits lines as their endings arrive, the last one at completion', () => {
      marbles().run(({ cold, expectObservable }) => {
        const values = bufferValues({ a: 'ab\r', b: '\ncd\n\n', c: 'ef', x: 'ab', y: 'cd', z: '', w: 'ef' });
        expectObservable(cold('-a-b-----c-|', values).pipe(decodeLines())).toBe('---(xyz)---(w|)', values);
      });
    });

    it('errors with FrameTooLongError as soon as a line grows past maxLength', () => {
      marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
        const values = bufferValues({ a: 'ok\nlon', b: 'ger', x: 'ok' });
        const source = cold('-a-b-a-|', values);
        expectObservable(source.pipe(decodeLines({ maxLength: 5 }))).toBe('-x-#', values, new FrameTooLongError(5, 6));
        expectSubscriptions(source.subscriptions).toBe('^--!');
      });
    });

    it('passes a source error on', () => {
      marbles().run(({ cold, expectObservable }) => {
        const values = bufferValues({ a: 'x\ny', x: 'x' });
        expectObservable(cold('-a-#', values).pipe(decodeLines())).toBe('-x-#', values);
      });
    });

    it("errors with TruncatedFrameError at completion with truncation 'error'", () => {
      marbles().run(({ cold, expectObservable }) => {
        const values = bufferValues({ a: 'x\ny', x: 'x' });
        expectObservable(cold('-a-|', values).pipe(decodeLines({ truncation: 'error' }))).toBe(
          '-x-#',
          values,
          new TruncatedFrameError(1),
        );
      });
    });
  });
});

// decodeNdjson(): one JSON value per line; line numbers in errors, skipping on request, the line limit. The encoder: encodeNdjson.spec.ts.
import fc from 'fast-check';
import { InvalidArgumentError, NdjsonParseError } from '../../../lib/errors';
import { decodeNdjson, ndjsonFramer } from '../../../lib/codec/ndjson/decodeNdjson';
import { encodeNdjson } from '../../../lib/codec/ndjson/encodeNdjson';
import { bufferValues, chunkingsOf, errorData, marbles, run } from '../../support/framing';
import { behavesAsOperator } from '../../support/operatorContract';

const bytes = (s: string) => [Buffer.from(s)];

/** What JSON.parse says about `text` on this Node version. */
function reasonOf(text: string): string {
  try {
    JSON.parse(text);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`${text} is valid JSON`);
}

describe('decodeNdjson', () => {
  behavesAsOperator(() => decodeNdjson(), Buffer.from('{"a":1}\n'));

  it('parses one value per line, \\n or \\r\\n ended, null and scalars included', () => {
    const result = run(decodeNdjson(), bytes('{"a":1}\r\n[2]\nnull\n"x"\n3'));
    expect(result.values).toEqual([{ a: 1 }, [2], null, 'x', 3]);
    expect(result.completed).toBe(true);
  });

  it('skips blank and whitespace-only lines', () => {
    expect(run(decodeNdjson(), bytes('\n  \n1\n\t\r\n2\n')).values).toEqual([1, 2]);
  });

  it('errors with NdjsonParseError carrying the line number, blank lines counted', () => {
    const result = run(decodeNdjson(), bytes('1\n\n{oops}\n2\n'));
    expect(result.values).toEqual([1]);
    expect(result.error).toBeInstanceOf(NdjsonParseError);
    expect(errorData(result.error)).toMatchObject({
      name: 'NdjsonParseError',
      code: 'ERR_NDJSON_PARSE',
      lineNumber: 3,
    });
    expect((result.error as NdjsonParseError).reason).toMatch(/JSON/);
  });

  it("skips malformed lines with malformed 'skip'", () => {
    const result = run(decodeNdjson({ malformed: 'skip' }), bytes('1\nnope\n2\n'));
    expect(result.values).toEqual([1, 2]);
    expect(result.completed).toBe(true);
  });

  it('calls a malformed callback with the error and goes on; a throw from it becomes the error notification', () => {
    const seen: number[] = [];
    const result = run(decodeNdjson({ malformed: (e) => seen.push(e.lineNumber) }), bytes('x\n1\ny\n2'));
    expect(seen).toEqual([1, 3]);
    expect(result.values).toEqual([1, 2]);
    const failure = new Error('give up');
    const thrown = run(
      decodeNdjson({
        malformed: () => {
          throw failure;
        },
      }),
      bytes('1\nx\n2\n'),
    );
    expect(thrown.values).toEqual([1]);
    expect(thrown.error).toBe(failure);
  });

  it('errors with FrameTooLongError for a line over maxLength before it is complete', () => {
    const result = run(decodeNdjson({ maxLength: 8 }), [Buffer.from('1\n"abcdefgh'), Buffer.from('ij"\n')]);
    expect(result.values).toEqual([1]);
    expect(errorData(result.error)).toEqual({
      name: 'FrameTooLongError',
      code: 'ERR_FRAME_TOO_LONG',
      limit: 8,
      length: 9,
    });
  });

  it('decodes UTF-8 text split inside a character', () => {
    const all = Buffer.from('"é😀"\n');
    expect(run(decodeNdjson(), [all.subarray(0, 2), all.subarray(2, 5), all.subarray(5)]).values).toEqual(['é😀']);
  });

  it('parses a line that lies inside its chunk where it lies, without a view of it', () => {
    const framer = ndjsonFramer({})();
    framer.push(Buffer.from('{"a":"é"}\r\n[1]\n{"b"'));
    expect([framer.read(), framer.read(), framer.read()]).toEqual([{ a: 'é' }, [1], undefined]);
    expect(framer.frameCut?.view).toBeUndefined();
  });

  it('decodes what encodeNdjson encoded, however it is chunked', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { maxLength: 10 }), fc.nat(), (values, seed) => {
        const encoded = Buffer.concat(run(encodeNdjson(), values as never).values as Buffer[]);
        const chunks = fc.sample(chunkingsOf(encoded), { seed, numRuns: 1 })[0];
        // JSON has no -0; stringify-then-parse is the identity we promise.
        expect(run(decodeNdjson({ maxLength: Infinity }), chunks).values).toEqual(JSON.parse(JSON.stringify(values)));
      }),
      { numRuns: 200 },
    );
  });

  it('refuses bad options when created', () => {
    expect(() => decodeNdjson({ malformed: 'ignore' as never })).toThrow(InvalidArgumentError);
    expect(() => decodeNdjson({ maxLength: -5 })).toThrow(InvalidArgumentError);
  });

  describe('in marbles', () => {
    it('emits values as their lines end and errors at a malformed line', () => {
      marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
        const v = bufferValues({ a: '{"a":1}\n[2', b: ']\n\n"x"\n', c: 'oops\n' });
        const source = cold('-a-b-----c-a-|', v);
        expectObservable(source.pipe(decodeNdjson())).toBe(
          '-x-(yz)--#',
          { x: { a: 1 }, y: [2], z: 'x' },
          new NdjsonParseError(5, reasonOf('oops')),
        );
        expectSubscriptions(source.subscriptions).toBe('^--------!');
      });
    });

    it('passes a source error on', () => {
      marbles().run(({ cold, expectObservable }) => {
        expectObservable(cold('-a-#', bufferValues({ a: '1\n' })).pipe(decodeNdjson())).toBe('-x-#', { x: 1 });
      });
    });
  });
});

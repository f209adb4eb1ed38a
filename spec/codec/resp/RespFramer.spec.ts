// RespFramer: every RESP2/RESP3 type, inline commands, limits at the header, malformed and truncated input, chunking laws, fuzz.
import fc from 'fast-check';
import type { RespDecodeOptions } from '../../../lib/codec/resp/RespDecodeOptions';
import { RespFramer } from '../../../lib/codec/resp/RespFramer';
import { encodeResp, encodeRespCommand } from '../../../lib/codec/resp/encodeResp';
import { RespError, RespPush, RespVerbatim, type RespValue } from '../../../lib/codec/resp/RespValue';
import { RespLimitError, RespProtocolError, RxnetError, TruncatedFrameError } from '../../../lib/errors';
import {
  byteByByte,
  chunkingsOf,
  errorData,
  expectInvalidArgument,
  overlaps,
  runFramer,
  splitAt,
  tinyChunkingsOf,
} from '../../support/framing';
import { resp2Value, resp3Value } from './arbitraries';

const b = (text: string): Buffer => Buffer.from(text, 'latin1');

/** Values with Buffers as latin1 text, for fast comparisons of big values (deep equality of Buffers goes byte by byte). */
function shown(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return `<${value.toString('latin1')}>`;
  return Array.isArray(value) ? value.map(shown) : value;
}

/** Decodes `wire` pushed whole, then ended. */
function decode(wire: string | Buffer, options?: RespDecodeOptions): { values: RespValue[]; error?: unknown } {
  return runFramer(new RespFramer(options), [typeof wire === 'string' ? b(wire) : wire]);
}

/** The error thrown when `chunks` are pushed (and read) without ending the stream. */
function errorOnPush(chunks: string[], options?: RespDecodeOptions): { error: unknown; framer: RespFramer } {
  const framer = new RespFramer(options);
  try {
    for (const chunk of chunks) {
      framer.push(b(chunk));
      while (framer.read() !== undefined);
    }
  } catch (error) {
    return { error, framer };
  }
  return { error: undefined, framer };
}

describe('RespFramer', () => {
  describe('RESP2', () => {
    it.each<[string, string, RespValue]>([
      ['a simple string', '+OK\r\n', 'OK'],
      ['a simple string other than OK', '+PONG\r\n', 'PONG'],
      ['an empty simple string', '+\r\n', ''],
      ['a UTF-8 simple string', '+h\xc3\xa9\r\n', 'hé'],
      ['an integer', ':1000\r\n', 1000],
      ['a negative integer', ':-42\r\n', -42],
      ['the largest safe integer', ':9007199254740991\r\n', 9007199254740991],
      ['an integer past 2^53 as a bigint', ':9223372036854775807\r\n', 9223372036854775807n],
      ['a negative integer past 2^53 as a bigint', ':-9223372036854775808\r\n', -9223372036854775808n],
      ['a bulk string', '$5\r\nhello\r\n', b('hello')],
      ['an empty bulk string', '$0\r\n\r\n', b('')],
      ['a binary-safe bulk string holding CRLF', '$6\r\na\r\nb\r\n\r\n', b('a\r\nb\r\n')],
      ['a null bulk string', '$-1\r\n', null],
      ['a null array', '*-1\r\n', null],
      ['an empty array', '*0\r\n', []],
      ['an array of mixed types', '*3\r\n:1\r\n$1\r\nx\r\n+y\r\n', [1, b('x'), 'y']],
      ['an array holding a null bulk', '*2\r\n$1\r\na\r\n$-1\r\n', [b('a'), null]],
    ])('decodes %s', (_name, wire, value) => {
      expect(decode(wire)).toStrictEqual({ values: [value] });
    });

    it('hands out error replies as RespError values, never throwing them', () => {
      const { values, error } = decode(
        '-ERR unknown command\r\n-WRONGTYPE Operation\r\n*1\r\n-MOVED 3999 1.2.3.4:6381\r\n',
      );
      expect(error).toBeUndefined();
      expect(values).toStrictEqual([
        new RespError('ERR unknown command'),
        new RespError('WRONGTYPE Operation'),
        [new RespError('MOVED 3999 1.2.3.4:6381')],
      ]);
      expect((values[1] as RespError).prefix).toBe('WRONGTYPE');
    });

    it('decodes nested aggregates', () => {
      const wire = '*2\r\n*3\r\n:1\r\n:2\r\n:3\r\n*2\r\n+Hello\r\n-World\r\n';
      expect(decode(wire).values).toStrictEqual([
        [
          [1, 2, 3],
          ['Hello', new RespError('World')],
        ],
      ]);
    });

    it('decodes an array of thousands of elements given in one chunk, and thousands of replies in one chunk', () => {
      const items = Array.from({ length: 5000 }, (_, i) => b(`value-${i}`));
      const wire = Buffer.concat([encodeResp(items), ...items.map((item) => encodeResp(item))]);
      const { values, error } = decode(wire);
      expect(error).toBeUndefined();
      expect(values).toHaveLength(5001);
      expect(shown(values)).toEqual(shown([items, ...items]));
    });
  });

  describe('RESP3', () => {
    it.each<[string, string, RespValue]>([
      ['a null', '_\r\n', null],
      ['true', '#t\r\n', true],
      ['false', '#f\r\n', false],
      ['a double', ',1.23\r\n', 1.23],
      ['a double with an exponent', ',1.5e-3\r\n', 0.0015],
      ['an integral double', ',10\r\n', 10],
      ['inf', ',inf\r\n', Infinity],
      ['-inf', ',-inf\r\n', -Infinity],
      ['nan', ',nan\r\n', NaN],
      [
        'a big number',
        '(3492890328409238509324850943850943825024385\r\n',
        3492890328409238509324850943850943825024385n,
      ],
      ['a negative big number', '(-12\r\n', -12n],
      ['a verbatim string', '=15\r\ntxt:Some string\r\n', new RespVerbatim('txt', 'Some string')],
      ['a blob error', '!22\r\nSYNTAX invalid\r\nsyntax\r\n', new RespError('SYNTAX invalid\r\nsyntax')],
      [
        'a map',
        '%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n',
        new Map<RespValue, RespValue>([
          ['first', 1],
          ['second', 2],
        ]),
      ],
      ['an empty map', '%0\r\n', new Map()],
      ['a set', '~3\r\n+a\r\n:1\r\n#f\r\n', new Set<RespValue>(['a', 1, false])],
      ['an empty set', '~0\r\n', new Set()],
      ['a push', '>3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n', new RespPush([b('message'), b('ch'), b('hi')])],
      ['an empty push', '>0\r\n', new RespPush([])],
    ])('decodes %s', (_name, wire, value) => {
      expect(decode(wire)).toStrictEqual({ values: [value] });
    });

    it('decodes maps whose keys are bulk strings and whose values are aggregates', () => {
      const wire = '%1\r\n$4\r\nkeys\r\n*2\r\n~1\r\n_\r\n%1\r\n#t\r\n,2.5\r\n';
      expect(decode(wire).values).toStrictEqual([
        new Map<RespValue, RespValue>([[b('keys'), [new Set([null]), new Map([[true, 2.5]])]]]),
      ]);
    });

    it('reads attributes within the limits and drops them, at the top level and inside aggregates', () => {
      const wire =
        '|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*2\r\n:1\r\n|1\r\n+ttl\r\n:3600\r\n:2\r\n|0\r\n+OK\r\n';
      expect(decode(wire)).toStrictEqual({ values: [[1, 2], 'OK'] });
      expect(errorOnPush(['|1\r\n*1\r\n*1\r\n:1\r\n'], { maxDepth: 2 }).error).toBeInstanceOf(RespLimitError);
    });

    it('rejects a boolean other than t or f, a null with a body and a bad double or big number', () => {
      for (const wire of [
        '#x\r\n',
        '#tt\r\n',
        '_1\r\n',
        ',1.2.3\r\n',
        ',\r\n',
        '(12a\r\n',
        '(\r\n',
        '=3\r\ntxt\r\n',
        '=5\r\ntxt-a\r\n',
      ]) {
        expect({ wire, error: decode(wire).error }).toEqual({ wire, error: expect.any(RespProtocolError) });
      }
    });
  });

  describe('bulk strings and memory', () => {
    it('hands out a bulk string lying in one chunk as a view of it, one spanning chunks as a copy', () => {
      const chunk = b('*2\r\n$3\r\nabc\r\n$4\r\nde');
      const framer = new RespFramer();
      framer.push(chunk);
      expect(framer.read()).toBeUndefined();
      framer.push(Buffer.alloc(2000, 'f'.charCodeAt(0)).fill(b('fg\r\n'), 0, 4));
      const [first, second] = framer.read() as Buffer[];
      expect(first.toString()).toBe('abc');
      expect(overlaps(first, chunk)).toBe(true);
      expect(second.toString()).toBe('defg');
      expect(overlaps(second, chunk)).toBe(false);
    });

    it.each([0, 1, 0xff, 0x100, 0xffff, 0x10000])(
      'decodes a bulk string of %i bytes whole, in 1000-byte chunks and at its limit',
      (n) => {
        const body = Buffer.alloc(n);
        for (let i = 0; i < n; i++) body[i] = i % 7 === 0 ? 13 : i % 11 === 0 ? 10 : i & 0xff;
        const wire = Buffer.concat([encodeResp([body, Buffer.from('x')]), encodeResp(body)]);
        const pieces = Array.from({ length: Math.ceil(wire.length / 1000) }, (_, i) =>
          wire.subarray(i * 1000, (i + 1) * 1000),
        );
        const expected = shown([[body, b('x')], body]);
        expect(shown(runFramer(new RespFramer(), [wire]).values)).toEqual(expected);
        const chunked = runFramer(new RespFramer({ maxBulkLength: Math.max(n, 1) }), pieces);
        expect({ values: shown(chunked.values), error: chunked.error }).toEqual({ values: expected, error: undefined });
        if (n > 0)
          expect(runFramer(new RespFramer({ maxBulkLength: n - 1 }), [wire]).error).toBeInstanceOf(RespLimitError);
      },
    );

    it('copies every bulk string with copy: true', () => {
      const chunk = b('$3\r\nabc\r\n');
      const { values } = runFramer(new RespFramer({ copy: true }), [chunk]);
      expect(values).toStrictEqual([b('abc')]);
      expect(overlaps(values[0] as Buffer, chunk)).toBe(false);
    });

    it('tells the bytes of the message begun in buffered, values waiting on the stack included, and 0 between messages', () => {
      const framer = new RespFramer();
      framer.push(b('*2\r\n:1\r\n'));
      expect(framer.read()).toBeUndefined();
      expect(framer.buffered).toBe(8);
      framer.push(b(':2\r\n+O'));
      expect(framer.read()).toStrictEqual([1, 2]);
      expect(framer.read()).toBeUndefined();
      expect(framer.buffered).toBe(2);
      framer.push(b('K\r\n'));
      expect(framer.read()).toBe('OK');
      expect(framer.buffered).toBe(0);
    });

    it('forgets everything held on clear()', () => {
      const framer = new RespFramer();
      framer.push(b('*3\r\n:1\r\n$5\r\nab'));
      expect(framer.read()).toBeUndefined();
      framer.clear();
      expect(framer.buffered).toBe(0);
      framer.push(b('+fresh\r\n'));
      expect(framer.read()).toBe('fresh');
    });
  });

  describe('inline commands', () => {
    it('splits an inline line on runs of spaces and tabs into bulk strings, CRLF or LF ended, skipping empty lines', () => {
      const wire = 'PING\r\nSET  key   value \r\n\r\n   \r\nGET\tkey\n*1\r\n$4\r\nQUIT\r\n';
      expect(decode(wire, { inline: true }).values).toStrictEqual([
        [b('PING')],
        [b('SET'), b('key'), b('value')],
        [b('GET'), b('key')],
        [b('QUIT')],
      ]);
    });

    it('rejects inline commands unless inline is on', () => {
      expect(errorData(decode('PING\r\n').error)).toEqual({
        name: 'RespProtocolError',
        code: 'ERR_RESP_PROTOCOL',
        reason: 'unknown type byte 0x50',
        offset: 0,
      });
    });

    it('in command mode reads what is no array as an inline command and skips null and empty arrays, as redis-server', () => {
      const wire = '*0\r\n*-1\r\n+PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n';
      expect(decode(wire, { inline: true, commands: true }).values).toStrictEqual([[b('+PING')], [b('ECHO'), b('hi')]]);
      expect(decode(':1\r\n', { commands: true }).error).toEqual(expect.any(RespProtocolError));
    });

    it('raises RespLimitError when an inline line exceeds maxInlineLength, before its line end has come', () => {
      const { error } = errorOnPush(['SET k ', 'x'.repeat(20)], { inline: true, maxInlineLength: 16 });
      expect(errorData(error)).toEqual({
        name: 'RespLimitError',
        code: 'ERR_RESP_LIMIT',
        what: 'inline',
        limit: 16,
        announced: 26,
      });
      expect(decode(`${'x'.repeat(16)}\r\n`, { inline: true, maxInlineLength: 16 }).values).toHaveLength(1);
      expect(
        runFramer(new RespFramer({ inline: true, maxInlineLength: 16 }), [b(`${'x'.repeat(16)}\r`), b('\n')]).values,
      ).toHaveLength(1);
      expect(decode(`${'x'.repeat(17)}\r\n`, { inline: true, maxInlineLength: 16 }).error).toBeInstanceOf(
        RespLimitError,
      );
    });
  });

  describe('limits', () => {
    it('raises RespLimitError when a bulk string announces more than maxBulkLength, on its header alone', () => {
      const { error, framer } = errorOnPush(['*1\r\n$1025\r\n'], { maxBulkLength: 1024 });
      expect(errorData(error)).toEqual({
        name: 'RespLimitError',
        code: 'ERR_RESP_LIMIT',
        what: 'bulk',
        limit: 1024,
        announced: 1025,
      });
      expect(framer.buffered).toBeLessThan(20);
      expect(decode(`$1024\r\n${'x'.repeat(1024)}\r\n`, { maxBulkLength: 1024 }).values).toHaveLength(1);
      expect(errorData(errorOnPush(['$536870913\r\n']).error)).toMatchObject({ what: 'bulk', limit: 536870912 });
    });

    it('bounds simple strings and errors by maxBulkLength too, before their line end has come', () => {
      expect(errorData(errorOnPush(['+', 'x'.repeat(10)], { maxBulkLength: 8 }).error)).toMatchObject({
        what: 'bulk',
        limit: 8,
        announced: 10,
      });
      expect(decode(`-${'x'.repeat(8)}\r\n`, { maxBulkLength: 8 }).values).toHaveLength(1);
    });

    it('raises RespLimitError when an aggregate announces more than maxAggregateLength elements', () => {
      const { error } = errorOnPush(['*2\r\n*11\r\n'], { maxAggregateLength: 10 });
      expect(errorData(error)).toEqual({
        name: 'RespLimitError',
        code: 'ERR_RESP_LIMIT',
        what: 'aggregate',
        limit: 10,
        announced: 11,
      });
      expect(errorData(errorOnPush(['%6\r\n'], { maxAggregateLength: 5 }).error)).toMatchObject({
        what: 'aggregate',
        announced: 6,
      });
      expect(decode('*2\r\n:1\r\n:2\r\n', { maxAggregateLength: 2 }).values).toStrictEqual([[1, 2]]);
    });

    it('raises RespLimitError when aggregates nest deeper than maxDepth', () => {
      const { error } = errorOnPush(['*1\r\n*1\r\n*1\r\n'], { maxDepth: 2 });
      expect(errorData(error)).toEqual({
        name: 'RespLimitError',
        code: 'ERR_RESP_LIMIT',
        what: 'depth',
        limit: 2,
        announced: 3,
      });
      expect(decode('*1\r\n*1\r\n:1\r\n', { maxDepth: 2 }).values).toStrictEqual([[[1]]]);
      expect(decode('*1\r\n*2\r\n*0\r\n*-1\r\n', { maxDepth: 2 }).values).toStrictEqual([[[[], null]]]);
      expect(errorData(decode(`${'*1\r\n'.repeat(33)}:1\r\n`).error)).toMatchObject({
        what: 'depth',
        limit: 32,
        announced: 33,
      });
    });

    it('checks its options at construction', () => {
      expectInvalidArgument(() => new RespFramer({ maxBulkLength: -1 }), 'maxBulkLength');
      expectInvalidArgument(() => new RespFramer({ maxDepth: 1.5 }), 'maxDepth');
      expectInvalidArgument(() => new RespFramer({ inline: 'yes' as unknown as boolean }), 'inline');
    });
  });

  describe('malformed input', () => {
    it.each<[string, string, string, number]>([
      ['an unknown type byte', '?x\r\n', 'unknown type byte 0x3f', 0],
      ['an unknown type byte inside an array', '*2\r\n:1\r\n?\r\n', 'unknown type byte 0x3f', 8],
      ['a bad integer', ':12a\r\n', 'expected a digit', 3],
      ['an integer without digits', ':-\r\n', 'expected digits', 2],
      ['a bad length', '$x\r\n', 'expected a digit', 1],
      ['a negative length other than -1', '*-2\r\n', 'bad length -2', 1],
      ['a null blob error', '!-1\r\n', 'bad length -1', 1],
      ['a missing CRLF after a bulk string', '$3\r\nfooXY', 'expected CRLF after a bulk string', 7],
      ['a missing CRLF after a nested bulk string', '*1\r\n$3\r\nfoo\r', 'expected CRLF after a bulk string', 11],
      ['a line ended by LF alone', '+OK\n', 'expected CRLF at the end of a line', 3],
      ['a number line that never ends', `:${'1'.repeat(70)}`, 'number line longer than 64 bytes', 0],
    ])('raises RespProtocolError for %s, with its offset in the message', (_name, wire, reason, offset) => {
      const framer = new RespFramer();
      framer.push(b(wire));
      let error: unknown;
      try {
        while (framer.read() !== undefined);
        framer.push(b('\r\n'));
        while (framer.read() !== undefined);
      } catch (e) {
        error = e;
      }
      expect(errorData(error)).toEqual({ name: 'RespProtocolError', code: 'ERR_RESP_PROTOCOL', reason, offset });
    });

    it('takes a length line of 64 bytes and refuses one of 65, however the bytes come', () => {
      const longest = `*${'0'.repeat(63)}1\r\n:7\r\n`;
      const tooLong = `*${'0'.repeat(64)}1\r\n:7\r\n`;
      for (const chunks of [[b(longest)], byteByByte(b(longest))])
        expect(runFramer(new RespFramer(), chunks)).toEqual({ values: [[7]] });
      for (const chunks of [[b(tooLong)], byteByByte(b(tooLong))])
        expect(errorData(runFramer(new RespFramer(), chunks).error)).toMatchObject({
          reason: 'number line longer than 64 bytes',
        });
    });

    it('counts offsets from the first byte of the current message, not of the stream', () => {
      expect(errorData(decode('+OK\r\n*1\r\n:x\r\n').error)).toMatchObject({ offset: 5 });
    });
  });

  describe('end of stream', () => {
    const messages = [
      '+OK\r\n',
      ':12\r\n',
      '$3\r\nabc\r\n',
      '*2\r\n$1\r\na\r\n*1\r\n:1\r\n',
      '%1\r\n+k\r\n~1\r\n#t\r\n',
      '=7\r\ntxt:abc\r\n',
    ];

    it.each(messages)('raises TruncatedFrameError when the stream ends anywhere inside %j', (message) => {
      const full = b(message);
      for (let cut = 1; cut < full.length; cut++) {
        const { values, error } = runFramer(new RespFramer(), [b('+before\r\n'), full.subarray(0, cut)]);
        expect({ cut, values, error: errorData(error) }).toEqual({
          cut,
          values: ['before'],
          error: { name: 'TruncatedFrameError', code: 'ERR_TRUNCATED_FRAME', buffered: cut },
        });
      }
      expect(runFramer(new RespFramer(), [full])).toEqual({ values: [expect.anything()] });
    });

    it('raises TruncatedFrameError for an inline line without its line end', () => {
      expect(decode('PING', { inline: true }).error).toBeInstanceOf(TruncatedFrameError);
    });
  });

  it('gives each empty bulk string a Buffer of its own: two in a set stay two, whatever the chunks', () => {
    // Each "$0\r\n\r\n" ends where its chunk ends: the queue would hand out its one shared empty Buffer.
    const { values } = runFramer(new RespFramer(), [b('~2\r\n$0\r\n'), b('\r\n'), b('$0\r\n'), b('\r\n')]);
    expect(values).toHaveLength(1);
    const set = values![0] as Set<Buffer>;
    expect(set).toBeInstanceOf(Set);
    expect([...set].map((v) => v.length)).toEqual([0, 0]);
  });

  describe('the chunking law', () => {
    it('decodes RESP3 values encoded and split at random points, empty chunks included, into exactly those values', () => {
      fc.assert(
        fc.property(
          fc.array(resp3Value(), { minLength: 1, maxLength: 6 }).chain((values) => {
            const wire = Buffer.concat(values.map((v) => encodeResp(v, { version: 3 })));
            return fc.tuple(fc.constant(values), chunkingsOf(wire));
          }),
          ([values, chunks]) => {
            expect(runFramer(new RespFramer(), chunks)).toStrictEqual({ values });
          },
        ),
        { numRuns: 300 },
      );
    });

    it('decodes RESP2 values, byte at a time and in tiny chunks, into exactly those values', () => {
      fc.assert(
        fc.property(
          fc.array(resp2Value(), { minLength: 1, maxLength: 5 }).chain((values) => {
            const wire = Buffer.concat(values.map((v) => encodeResp(v)));
            return fc.tuple(fc.constant(values), fc.oneof(tinyChunkingsOf(wire), fc.constant(byteByByte(wire))));
          }),
          ([values, chunks]) => {
            expect(runFramer(new RespFramer(), chunks)).toStrictEqual({ values });
          },
        ),
        { numRuns: 200 },
      );
    });

    it('decodes commands, RESP and inline mixed, split at random points, into their arguments as bulk strings', () => {
      const arg = fc.oneof(
        fc.string({ minLength: 1, maxLength: 8 }).filter((s) => !/[\s]/.test(s)),
        fc.integer(),
      );
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.array(arg, { minLength: 1, maxLength: 5 }), fc.boolean()), {
            minLength: 1,
            maxLength: 6,
          }),
          fc.array(fc.nat(), { maxLength: 20 }),
          (commands, cuts) => {
            const wire = Buffer.concat(
              commands.map(([args, inline]) =>
                inline && !String(args[0]).startsWith('*') ? b(`${args.join(' ')}\r\n`) : encodeRespCommand(args),
              ),
            );
            const chunks = splitAt(
              wire,
              cuts.map((c) => c % (wire.length + 1)),
            );
            const expected = commands.map(([args]) => args.map((a) => Buffer.from(String(a))));
            expect(runFramer(new RespFramer({ inline: true, commands: true }), chunks)).toStrictEqual({
              values: expected,
            });
          },
        ),
      );
    });
  });

  describe('fuzz', () => {
    const options: RespDecodeOptions[] = [
      {},
      { inline: true },
      { inline: true, commands: true },
      { maxDepth: 3, maxAggregateLength: 4, maxBulkLength: 16 },
    ];

    /** Runs the framer over `chunks`, counting reads; only rxnet's typed errors may come out, and reads must stop. */
    function fuzzRun(framer: RespFramer, chunks: Buffer[], total: number): void {
      let reads = 0;
      try {
        for (const chunk of [...chunks, undefined]) {
          if (chunk === undefined) framer.end();
          else framer.push(chunk);
          while (framer.read() !== undefined) if (++reads > total + 2) throw new Error('read() never stops');
        }
      } catch (error) {
        if (!(error instanceof RxnetError)) throw error;
      }
    }

    it('throws nothing but rxnet errors, and never loops, on random bytes', () => {
      const typeBytes = fc.constantFrom(...'+-:$*_#,(=%~|>!\r\n0123456789-'.split('').map((c) => c.charCodeAt(0)));
      const noise = fc
        .array(fc.oneof(fc.integer({ min: 0, max: 255 }), typeBytes), { maxLength: 200 })
        .map((a) => Buffer.from(a));
      fc.assert(
        fc.property(
          noise,
          fc.array(fc.nat(), { maxLength: 10 }),
          fc.constantFrom(...options),
          (bytes, cuts, option) => {
            fuzzRun(
              new RespFramer(option),
              splitAt(
                bytes,
                cuts.map((c) => c % (bytes.length + 1)),
              ),
              bytes.length,
            );
          },
        ),
        { numRuns: 2000 },
      );
    });

    it('throws nothing but rxnet errors on valid messages with bytes flipped, cut or inserted', () => {
      fc.assert(
        fc.property(
          resp3Value(),
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'cut', 'insert')), {
            minLength: 1,
            maxLength: 4,
          }),
          fc.constantFrom(...options),
          (value, edits, option) => {
            let bytes = encodeResp(value, { version: 3 });
            for (const [at, byte, edit] of edits) {
              const i = at % (bytes.length + 1);
              if (edit === 'flip' && i < bytes.length) bytes[i] = byte;
              else if (edit === 'cut') bytes = Buffer.concat([bytes.subarray(0, i), bytes.subarray(i + 1)]);
              else bytes = Buffer.concat([bytes.subarray(0, i), Buffer.from([byte]), bytes.subarray(i)]);
            }
            fuzzRun(new RespFramer(option), byteByByte(bytes), bytes.length);
            fuzzRun(new RespFramer(option), [bytes], bytes.length);
          },
        ),
        { numRuns: 1000 },
      );
    });
  });
});

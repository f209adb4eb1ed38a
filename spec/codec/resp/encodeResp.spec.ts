// encodeResp and encodeRespCommand: the exact bytes of every type in RESP2 and RESP3, and what cannot be encoded.
import { encodeResp, encodeRespCommand } from '../../../lib/codec/resp/encodeResp';
import { RespError, RespPush, RespVerbatim, type RespValue } from '../../../lib/codec/resp/RespValue';
import { EncodeError } from '../../../lib/errors';
import { errorData, expectInvalidArgument } from '../../support/framing';

const text = (value: RespValue, version: 2 | 3 = 2): string => encodeResp(value, { version }).toString('latin1');

describe('encodeResp', () => {
  it.each<[string, RespValue, string, string]>([
    ['a simple string', 'OK', '+OK\r\n', '+OK\r\n'],
    ['a UTF-8 simple string', 'hé', '+h\xc3\xa9\r\n', '+h\xc3\xa9\r\n'],
    ['an error', new RespError('ERR bad'), '-ERR bad\r\n', '-ERR bad\r\n'],
    ['an error with a newline', new RespError('ERR a\nb'), '', '!7\r\nERR a\nb\r\n'],
    ['an integer', -12, ':-12\r\n', ':-12\r\n'],
    ['a double', 1.5, '$3\r\n1.5\r\n', ',1.5\r\n'],
    ['an integer past 2^53 as a number', 2 ** 60, '$19\r\n1152921504606847000\r\n', ',1152921504606847000\r\n'],
    ['-0', -0, '$2\r\n-0\r\n', ',-0\r\n'],
    ['infinity', Infinity, '$3\r\ninf\r\n', ',inf\r\n'],
    ['-infinity', -Infinity, '$4\r\n-inf\r\n', ',-inf\r\n'],
    ['NaN', NaN, '$3\r\nnan\r\n', ',nan\r\n'],
    ['a bigint', 12n, ':12\r\n', '(12\r\n'],
    ['true', true, ':1\r\n', '#t\r\n'],
    ['false', false, ':0\r\n', '#f\r\n'],
    ['null', null, '$-1\r\n', '_\r\n'],
    ['a bulk string', Buffer.from('a\r\nb'), '$4\r\na\r\nb\r\n', '$4\r\na\r\nb\r\n'],
    ['an empty bulk string', Buffer.alloc(0), '$0\r\n\r\n', '$0\r\n\r\n'],
    ['a Uint8Array', new Uint8Array([0x41]) as Buffer, '$1\r\nA\r\n', '$1\r\nA\r\n'],
    ['a verbatim string', new RespVerbatim('txt', 'hi'), '$2\r\nhi\r\n', '=6\r\ntxt:hi\r\n'],
    [
      'an array',
      [1, [Buffer.from('x')], []],
      '*3\r\n:1\r\n*1\r\n$1\r\nx\r\n*0\r\n',
      '*3\r\n:1\r\n*1\r\n$1\r\nx\r\n*0\r\n',
    ],
    ['a map', new Map<RespValue, RespValue>([['a', 1]]), '*2\r\n+a\r\n:1\r\n', '%1\r\n+a\r\n:1\r\n'],
    ['a set', new Set<RespValue>(['a']), '*1\r\n+a\r\n', '~1\r\n+a\r\n'],
    ['a push', new RespPush([Buffer.from('m')]), '*1\r\n$1\r\nm\r\n', '>1\r\n$1\r\nm\r\n'],
  ])('writes %s in RESP2 and RESP3', (_name, value, resp2, resp3) => {
    if (resp2 === '') expect(() => text(value, 2)).toThrow(EncodeError);
    else expect(text(value, 2)).toBe(resp2);
    expect(text(value, 3)).toBe(resp3);
  });

  it('writes RESP2 by default and grows its buffer for big values', () => {
    expect(text(null)).toBe('$-1\r\n');
    const big = Buffer.alloc(100_000, 1);
    const items = Array.from({ length: 1000 }, (_, i) => `item${i}`);
    expect(encodeResp([big, ...items])).toEqual(
      Buffer.concat([
        Buffer.from('*1001\r\n$100000\r\n'),
        big,
        Buffer.from(`\r\n${items.map((i) => `+${i}\r\n`).join('')}`),
      ]),
    );
  });

  it.each<[string, unknown, string]>([
    ['a simple string holding CR or LF', 'a\r\nb', 'a simple string cannot hold CR or LF (send a Buffer)'],
    ['a RESP2 error holding a newline', new RespError('a\nb'), 'a RESP2 error cannot hold CR or LF'],
    ['a bigint past 64 bits in RESP2', 2n ** 63n, `integer ${2n ** 63n} is out of RESP2's 64-bit range`],
    ['undefined', undefined, 'a undefined is not a RESP value'],
    ['a function', () => 1, 'a function is not a RESP value'],
    ['a plain object', { a: 1 }, 'a Object is not a RESP value'],
    ['a nested plain object', [[{}]], 'a Object is not a RESP value'],
  ])('raises EncodeError for %s', (_name, value, reason) => {
    let error: unknown;
    try {
      encodeResp(value as RespValue);
    } catch (e) {
      error = e;
    }
    expect(errorData(error)).toEqual({ name: 'EncodeError', code: 'ERR_ENCODE', reason });
  });

  it('raises EncodeError for a verbatim format not 3 bytes, and for a cycle', () => {
    expect(() => encodeResp(new RespVerbatim('text', 'x'), { version: 3 })).toThrow(EncodeError);
    const cycle: RespValue[] = [];
    cycle.push(cycle);
    expect(errorData(catchError(() => encodeResp(cycle)))).toMatchObject({
      reason: 'aggregates nested deeper than 1000 (a cycle?)',
    });
  });

  it('checks the version', () => {
    expectInvalidArgument(() => encodeResp('x', { version: 4 as 3 }), 'version');
  });
});

describe('encodeRespCommand', () => {
  it('writes a command as an array of bulk strings, strings as UTF-8 and numbers as their text', () => {
    expect(encodeRespCommand(['SET', 'k', 1.5, Buffer.from([0, 13, 10]), 'é', -7]).toString('latin1')).toBe(
      '*6\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\n1.5\r\n$3\r\n\x00\r\n\r\n$2\r\n\xc3\xa9\r\n$2\r\n-7\r\n',
    );
  });

  it('sizes its buffer exactly for long and multi-byte arguments', () => {
    const long = 'ü'.repeat(40) + 'x'.repeat(100);
    const bytes = encodeRespCommand(['ECHO', long, '']);
    expect(bytes.toString()).toBe(`*3\r\n$4\r\nECHO\r\n$180\r\n${long}\r\n$0\r\n\r\n`);
    expect(bytes.length).toBe(Buffer.byteLength(bytes.toString()));
  });

  it('raises EncodeError for an empty command and for an argument that is no string, Buffer or finite number', () => {
    expect(errorData(catchError(() => encodeRespCommand([])))).toEqual({
      name: 'EncodeError',
      code: 'ERR_ENCODE',
      reason: 'a command needs at least its name',
    });
    expect(errorData(catchError(() => encodeRespCommand(['GET', null as unknown as string])))).toMatchObject({
      reason: 'argument 1 of a command is a object, not a string, Buffer or finite number',
    });
    expect(() => encodeRespCommand(['INCRBY', 'k', NaN])).toThrow(EncodeError);
  });
});

function catchError(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  return undefined;
}

// encodeNdjson(): one line of JSON per value; what JSON.stringify cannot write, and the line limit. Round trips: decodeNdjson.spec.ts.
import { FrameTooLongError, InvalidArgumentError } from '../../../lib/errors';
import { encodeNdjson } from '../../../lib/codec/ndjson/encodeNdjson';
import { errorData, run } from '../../support/framing';
import { behavesAsOperator } from '../../support/operatorContract';

describe('encodeNdjson', () => {
  behavesAsOperator(() => encodeNdjson(), { a: 1 });

  it('writes one line of JSON per value', () => {
    expect(run(encodeNdjson(), [{ a: 'b\nc' }, null] as never).values.map((b) => b.toString())).toEqual([
      '{"a":"b\\nc"}\n',
      'null\n',
    ]);
  });

  it('refuses what JSON.stringify cannot serialize with EncodeError', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const value of [undefined, () => 1, 1n, cyclic]) {
      expect(errorData(run(encodeNdjson(), [value] as never).error)).toMatchObject({
        name: 'EncodeError',
        code: 'ERR_ENCODE',
      });
    }
  });

  it('refuses a line over maxLength with FrameTooLongError', () => {
    expect(run(encodeNdjson({ maxLength: 3 }), ['abcd'] as never).error).toBeInstanceOf(FrameTooLongError);
  });

  it('refuses a bad maxLength when created', () => {
    for (const maxLength of [-1, 1.5, NaN]) {
      expect(() => encodeNdjson({ maxLength })).toThrow(InvalidArgumentError);
      expect(() => encodeNdjson({ maxLength })).toThrow(expect.objectContaining({ argument: 'maxLength' }));
    }
    // "ab" in quotes is 4 bytes: exactly the limit.
    expect(run(encodeNdjson({ maxLength: 4 }), ['ab'] as never).values.map(String)).toEqual(['"ab"\n']);
  });
});

// encodeStruct(): one zero-padded Buffer of the struct's size per value, EncodeError for a value that does not fit.
import { field } from '../../../lib/codec/struct/field';
import { struct } from '../../../lib/codec/struct/struct';
import { EncodeError, InvalidArgumentError } from '../../../lib/errors';
import { encodeStruct } from '../../../lib/codec/struct/encodeStruct';
import { run } from '../../support/framing';
import { behavesAsOperator } from '../../support/operatorContract';

const CTestData = struct({ a: field.char(1), b: 'int32', c: field.char(15) });
const sample = { a: 'A', b: 300, c: 'hello' };

describe('encodeStruct', () => {
  behavesAsOperator(() => encodeStruct(CTestData), sample);

  it('emits one zero-padded Buffer of the struct size per value', () => {
    const [bytes] = run(encodeStruct(CTestData), [sample] as never).values as Buffer[];
    expect(bytes.toString('hex')).toBe('410000002c01000068656c6c6f0000000000000000000000');
  });

  it('errors with EncodeError at a value that does not fit the layout', () => {
    const result = run(encodeStruct(CTestData), [sample, { ...sample, b: 'x' }] as never);
    expect(result.values).toHaveLength(1);
    expect(result.error).toBeInstanceOf(EncodeError);
  });

  it('refuses something that is not a struct codec when created', () => {
    for (const codec of [undefined, null, {}, { kind: 'char', length: 1 }]) {
      expect(() => encodeStruct(codec as never)).toThrow(InvalidArgumentError);
      expect(() => encodeStruct(codec as never)).toThrow(expect.objectContaining({ argument: 'codec' }));
    }
  });
});

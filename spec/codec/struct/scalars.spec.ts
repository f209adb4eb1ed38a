// The scalar field types: sizes and ranges, reading and writing each in both byte orders, the values refused.
import { field } from '../../../lib/codec/struct/field';
import { SCALARS, describe as describeValue, readScalar, writeScalar } from '../../../lib/codec/struct/scalars';
import type { ScalarType } from '../../../lib/codec/struct/scalars';
import { struct } from '../../../lib/codec/struct/struct';
import { EncodeError } from '../../../lib/errors';
import { errorData } from '../../support/framing';

/** What writeScalar threw, as data; undefined when it did not throw. */
function refusal(type: ScalarType, value: unknown): Record<string, unknown> | undefined {
  try {
    writeScalar(Buffer.alloc(8), type, 0, true, value, 'x');
  } catch (error) {
    expect(error).toBeInstanceOf(EncodeError);
    return errorData(error);
  }
  return undefined;
}

describe('scalars', () => {
  it('reads and writes every scalar type in both byte orders, 64-bit integers as bigint', () => {
    const fields = {
      i8: 'int8',
      u8: 'uint8',
      i16: 'int16',
      u16: 'uint16',
      i32: 'int32',
      u32: 'uint32',
      i64: 'int64',
      u64: 'uint64',
      f32: 'float32',
      f64: 'float64',
    } as const;
    const value = {
      i8: -128,
      u8: 255,
      i16: -32768,
      u16: 65535,
      i32: -2147483648,
      u32: 4294967295,
      i64: -(2n ** 63n),
      u64: 2n ** 64n - 1n,
      f32: 1.5,
      f64: Math.PI,
    };
    for (const byteOrder of ['LE', 'BE'] as const) {
      const codec = struct(fields, { byteOrder });
      expect(codec.decode(codec.encode(value))).toEqual(value);
    }
    const be = struct({ x: 'uint32' }, { byteOrder: 'BE' }).encode({ x: 0x01020304 });
    expect(be.toString('hex')).toBe('01020304');
  });

  it('knows the size of every type, the aliases float and double included', () => {
    const sizes = Object.fromEntries(Object.entries(SCALARS).map(([type, info]) => [type, info.size]));
    expect(sizes).toEqual({
      int8: 1,
      uint8: 1,
      int16: 2,
      uint16: 2,
      int32: 4,
      uint32: 4,
      int64: 8,
      uint64: 8,
      float32: 4,
      float: 4,
      float64: 8,
      double: 8,
    });
    // The size is also the alignment: a at 0, f at 4..12, d at 16..24.
    expect(struct({ a: 'uint8', f: field.arrayOf('float', 2), d: 'double' }).size).toBe(24);
  });

  it('writes the bounds of each integer type and refuses one past them, naming the field', () => {
    const integers: ScalarType[] = ['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64'];
    for (const type of integers) {
      const { min, max } = SCALARS[type];
      for (const le of [true, false]) {
        const buffer = Buffer.alloc(8);
        writeScalar(buffer, type, 0, le, min, 'x');
        expect(readScalar(buffer, type, 0, le)).toBe(min);
        writeScalar(buffer, type, 0, le, max, 'x');
        expect(readScalar(buffer, type, 0, le)).toBe(max);
      }
      const past = typeof max === 'bigint' ? max + 1n : max + 1;
      const below = typeof min === 'bigint' ? min - 1n : min - 1;
      const reason =
        typeof max === 'bigint'
          ? `field x: ${past} is out of range for ${type}`
          : `field x: ${past} is not an integer in the range of ${type}`;
      expect(refusal(type, past)).toEqual({ name: 'EncodeError', code: 'ERR_ENCODE', reason });
      expect(refusal(type, below)).toMatchObject({ code: 'ERR_ENCODE' });
    }
  });

  it('takes a safe integer number for a 64-bit field and refuses other numbers and strings', () => {
    const buffer = Buffer.alloc(8);
    writeScalar(buffer, 'int64', 0, false, -5, 'x');
    expect(readScalar(buffer, 'int64', 0, false)).toBe(-5n);
    expect(refusal('uint64', 2 ** 53)?.reason).toBe(
      'field x: expected a bigint for uint64, got number 9007199254740992',
    );
    expect(refusal('int64', 1.5)?.reason).toBe('field x: expected a bigint for int64, got number 1.5');
    expect(refusal('int64', '7')?.reason).toBe('field x: expected a bigint for int64, got string "7"');
  });

  it('writes any number to a float field (rounded to float32 there) and refuses what is not a number', () => {
    const buffer = Buffer.alloc(8);
    writeScalar(buffer, 'float', 0, true, 0.1, 'x');
    expect(readScalar(buffer, 'float', 0, true)).toBe(Math.fround(0.1));
    writeScalar(buffer, 'double', 0, false, -Infinity, 'x');
    expect(readScalar(buffer, 'double', 0, false)).toBe(-Infinity);
    expect(refusal('float64', 1n)?.reason).toBe('field x: expected a number for float64, got bigint 1');
    expect(refusal('float32', null)?.reason).toBe('field x: expected a number for float32, got null');
  });

  it('describes a value for an error message: its type, and the value when short', () => {
    expect(describeValue('x'.repeat(25))).toBe(`string "${'x'.repeat(20)}…"`);
    expect(describeValue(undefined)).toBe('undefined');
    expect(describeValue({})).toBe('object');
    expect(describeValue(NaN)).toBe('number NaN');
  });
});

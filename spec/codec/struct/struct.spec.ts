// struct(): C layouts as gcc lays them out on x86-64, decode and encode, and the values encode refuses.
import fc from 'fast-check';
import { field } from '../../../lib/codec/struct/field';
import { struct } from '../../../lib/codec/struct/struct';
import { EncodeError, InvalidArgumentError } from '../../../lib/errors';
import { errorData } from '../../support/framing';

// `struct CTestData { char a; int b; char c[15]; }` from the seed document.
const CTestData = struct({ a: field.char(1), b: 'int32', c: field.char(15) });

// Bytes of that struct with a = 'A', b = 300, c = "hello", as dumped from a g++ (x86-64) build.
const FROM_GXX = Buffer.from('410000002c01000068656c6c6f0000000000000000000000', 'hex');

describe('struct', () => {
  it('lays out the seed CTestData as C does: size 24, b at offset 4, c at 8', () => {
    expect(CTestData.size).toBe(24);
    expect(CTestData.alignment).toBe(4);
    expect(CTestData.offsetOf('a')).toBe(0);
    expect(CTestData.offsetOf('b')).toBe(4);
    expect(CTestData.offsetOf('c')).toBe(8);
  });

  it('decodes the bytes a C program sends, where the seed read b by its low byte only', () => {
    expect(CTestData.decode(FROM_GXX)).toEqual({ a: 'A', b: 300, c: 'hello' });
    // The seed: intb = data.slice(4, 8); intb.readUInt8() — 300 & 0xff.
    expect(FROM_GXX.subarray(4, 8).readUInt8()).toBe(44);
  });

  it('encodes to the same bytes as the C compiler, padding zeroed', () => {
    expect(CTestData.encode({ a: 'A', b: 300, c: 'hello' }).toString('hex')).toBe(FROM_GXX.toString('hex'));
  });

  it.each([
    {
      name: 'struct Mixed { char a; double d; short s; int64_t x; char c[3]; }',
      codec: struct({ a: 'int8', d: 'double', s: 'int16', x: 'int64', c: field.char(3) }),
      size: 40,
      offsets: { a: 0, d: 8, s: 16, x: 24, c: 32 },
    },
    {
      name: 'struct Outer { char k; struct Inner { char tag; int32_t value; } in; uint16_t arr[3]; float f; }',
      codec: struct({
        k: 'uint8',
        in: struct({ tag: 'uint8', value: 'int32' }),
        arr: field.arrayOf('uint16', 3),
        f: 'float',
      }),
      size: 24,
      offsets: { k: 0, in: 4, arr: 12, f: 20 },
    },
    {
      name: '#pragma pack(1) struct { char a; int b; char c[15]; }',
      codec: struct({ a: field.char(1), b: 'int32', c: field.char(15) }, { pack: 1 }),
      size: 20,
      offsets: { a: 0, b: 1, c: 5 },
    },
    {
      name: '#pragma pack(2) struct { char a; int b; double d; char e; }',
      codec: struct({ a: 'int8', b: 'int32', d: 'double', e: 'int8' }, { pack: 2 }),
      size: 16,
      offsets: { a: 0, b: 2, d: 6, e: 14 },
    },
  ])('matches g++ for $name', ({ codec, size, offsets }) => {
    expect(codec.size).toBe(size);
    for (const [field, offset] of Object.entries(offsets)) expect(codec.offsetOf(field as never)).toBe(offset);
  });

  it('round-trips random values through encode and decode', () => {
    const codec = struct({
      tag: field.char(5),
      n: 'int16',
      big: 'uint64',
      ratio: 'float',
      raw: field.bytes(3),
      gap: field.padding(2),
      xs: field.arrayOf('int32', 2),
    });
    fc.assert(
      fc.property(
        fc.record({
          tag: fc.string({ unit: 'grapheme-ascii', maxLength: 5 }).filter((s) => !s.includes('\0')),
          n: fc.integer({ min: -32768, max: 32767 }),
          big: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
          ratio: fc.float({ noNaN: true }).map(Math.fround),
          raw: fc.uint8Array({ minLength: 3, maxLength: 3 }).map((a) => Buffer.from(a)),
          xs: fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: 2, maxLength: 2 }),
        }),
        (value) => {
          const decoded = codec.decode(codec.encode(value));
          expect({ ...decoded, raw: Buffer.from(decoded.raw) }).toEqual(value);
        },
      ),
    );
  });

  it('leaves explicit padding out of the value', () => {
    const codec = struct({ a: 'uint8', reserved: field.padding(3), b: 'uint32' });
    expect(codec.size).toBe(8);
    expect(Object.keys(codec.decode(Buffer.alloc(8)))).toEqual(['a', 'b']);
  });

  it('reads a char array without NUL as its full length and stops at the first NUL otherwise', () => {
    const codec = struct({ s: field.char(4) });
    expect(codec.decode(Buffer.from('abcd')).s).toBe('abcd');
    expect(codec.decode(Buffer.from('ab\0d')).s).toBe('ab');
  });

  it('reads at an offset inside a larger buffer', () => {
    const two = Buffer.concat([FROM_GXX, FROM_GXX]);
    expect(CTestData.decode(two, 24).b).toBe(300);
  });

  it('refuses with EncodeError naming the field: a missing field, a number out of range or not an integer, a string too long, an array of the wrong length', () => {
    const cases: Array<[unknown, string]> = [
      [{ a: 'A', c: 'x' }, 'field b: expected a number for int32, got undefined'],
      [{ a: 'A', b: 2 ** 31, c: 'x' }, 'field b: 2147483648 is not an integer in the range of int32'],
      [{ a: 'A', b: 1.5, c: 'x' }, 'field b: 1.5 is not an integer in the range of int32'],
      [{ a: 'A', b: 1, c: 'sixteen bytes!!!' }, 'field c: 16 byte(s) do not fit char[15]'],
      [{ a: 'é', b: 1, c: '' }, 'field a: 2 byte(s) do not fit char[1]'],
    ];
    for (const [value, reason] of cases) {
      let error: unknown;
      try {
        CTestData.encode(value as never);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(EncodeError);
      expect(errorData(error)).toEqual({ name: 'EncodeError', code: 'ERR_ENCODE', reason });
    }
    expect(() => struct({ xs: field.arrayOf('uint8', 2) }).encode({ xs: [1] })).toThrow(EncodeError);
    expect(() => struct({ x: 'int64' }).encode({ x: 2n ** 63n })).toThrow(EncodeError);
    expect(() => struct({ r: field.bytes(2) }).encode({ r: Buffer.alloc(3) })).toThrow(EncodeError);
  });

  it('refuses a buffer shorter than the struct with InvalidArgumentError', () => {
    expect(() => CTestData.decode(Buffer.alloc(23))).toThrow(InvalidArgumentError);
  });

  it('refuses unknown types, index-like names, empty structs and bad options when built', () => {
    expect(() => struct({ a: 'int128' as never })).toThrow(InvalidArgumentError);
    expect(() => struct({ 0: 'int8' })).toThrow(InvalidArgumentError);
    expect(() => struct({})).toThrow(InvalidArgumentError);
    expect(() => struct({ a: 'int8' }, { pack: 3 as never })).toThrow(InvalidArgumentError);
    expect(() => struct({ a: 'int8' }, { byteOrder: 'big' as never })).toThrow(InvalidArgumentError);
  });

  it('types decoded values from the layout', () => {
    const codec = struct({
      n: 'int32',
      id: 'uint64',
      name: field.char(8),
      raw: field.bytes(2),
      xs: field.arrayOf('int64', 1),
    });
    const value = codec.decode(Buffer.alloc(codec.size));
    const n: number = value.n;
    const id: bigint = value.id;
    const name: string = value.name;
    const raw: Buffer = value.raw;
    const xs: bigint[] = value.xs;
    expect([n, id, name, raw.length, xs]).toEqual([0, 0n, '', 2, [0n]]);
  });
});

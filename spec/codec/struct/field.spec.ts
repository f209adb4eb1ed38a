// field: the builders of char, byte, scalar-array and padding fields, the arguments they refuse, and their 0.1 names.
import * as rxnet from '../../../lib';
import { InvalidArgumentError } from '../../../lib/errors';
import { field } from '../../../lib/codec/struct/field';
import { struct } from '../../../lib/codec/struct/struct';
import * as testing from '../../../lib/testing';

describe('field', () => {
  it('builds plain descriptions of each field', () => {
    expect(field.char(8)).toEqual({ kind: 'char', length: 8, encoding: 'utf8' });
    expect(field.char(2, 'latin1')).toEqual({ kind: 'char', length: 2, encoding: 'latin1' });
    expect(field.bytes(6)).toEqual({ kind: 'bytes', length: 6 });
    expect(field.arrayOf('uint16', 3)).toEqual({ kind: 'array', type: 'uint16', length: 3 });
    expect(field.padding(2)).toEqual({ kind: 'padding', length: 2 });
  });

  it('lays out the Packet of its TSDoc: sizeof 24, xyz at offset 18', () => {
    const Packet = struct({
      id: 'uint16',
      name: field.char(8),
      mac: field.bytes(6),
      reserved: field.padding(2),
      xyz: field.arrayOf('int16', 3),
    });
    expect(Packet.fields.map((f) => [f.name, f.offset, f.size])).toEqual([
      ['id', 0, 2],
      ['name', 2, 8],
      ['mac', 10, 6],
      ['reserved', 16, 2],
      ['xyz', 18, 6],
    ]);
    expect(Packet.size).toBe(24);
  });

  it('works unbound, as the destructured builders code written for 0.1 used', () => {
    const { char, arrayOf } = field;
    expect(struct({ c: char(3), xs: arrayOf('uint8', 2) }).size).toBe(5);
  });

  it('refuses with InvalidArgumentError a length below 1 or not an integer, an unknown encoding or scalar type', () => {
    for (const length of [0, -1, 1.5, NaN]) {
      expect(() => field.char(length)).toThrow(InvalidArgumentError);
      expect(() => field.bytes(length)).toThrow(InvalidArgumentError);
      expect(() => field.arrayOf('int8', length)).toThrow(InvalidArgumentError);
      expect(() => field.padding(length)).toThrow(InvalidArgumentError);
    }
    expect(() => field.char(4, 'utf7' as never)).toThrow(InvalidArgumentError);
    expect(() => field.arrayOf('int7' as never, 2)).toThrow(InvalidArgumentError);
  });

  it("keeps the 0.1 root names char, bytes, arrayOf and padding as the same builders, apart from rxnet/testing's bytes", () => {
    expect(rxnet.field).toBe(field);
    expect([rxnet.char, rxnet.bytes, rxnet.arrayOf, rxnet.padding]).toEqual([
      field.char,
      field.bytes,
      field.arrayOf,
      field.padding,
    ]);
    expect(testing.bytes).not.toBe(rxnet.bytes);
  });
});

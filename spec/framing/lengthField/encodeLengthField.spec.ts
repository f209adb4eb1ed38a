// encodeLengthField(): a length field before each frame, as Netty LengthFieldPrepender.
import type { OperatorFunction } from 'rxjs';
import { EncodeError, InvalidArgumentError } from '../../../lib/errors';
import { encodeLengthField } from '../../../lib/framing/lengthField/encodeLengthField';
import { errorData, hex, run } from '../../support/framing';
import { behavesAsOperator } from '../../support/operatorContract';

const enc = <I>(op: OperatorFunction<I, Buffer>, values: I[]) => run(op as never, values as never);

describe('encodeLengthField', () => {
  behavesAsOperator(() => encodeLengthField({ lengthFieldLength: 2 }), 'ab');

  it('writes the length in the field size and byte order asked, as Netty LengthFieldPrepender', () => {
    expect(hex(enc(encodeLengthField({ lengthFieldLength: 1 }), ['ab']).values as Buffer[])).toEqual(['026162']);
    expect(hex(enc(encodeLengthField({ lengthFieldLength: 2, byteOrder: 'LE' }), ['ab']).values as Buffer[])).toEqual([
      '02006162',
    ]);
    expect(hex(enc(encodeLengthField({ lengthFieldLength: 3 }), ['ab']).values as Buffer[])).toEqual(['0000026162']);
    expect(
      hex(
        enc(encodeLengthField({ lengthFieldLength: 4, lengthIncludesLengthFieldLength: true }), ['ab'])
          .values as Buffer[],
      ),
    ).toEqual(['000000066162']);
    expect(hex(enc(encodeLengthField({ lengthFieldLength: 8 }), ['ab']).values as Buffer[])).toEqual([
      '00000000000000026162',
    ]);
    expect(
      hex(enc(encodeLengthField({ lengthFieldLength: 2, lengthAdjustment: 3 }), ['ab']).values as Buffer[]),
    ).toEqual(['00056162']);
  });

  it('refuses a frame too long for its field with FrameTooLongError naming the largest payload that fits', () => {
    const result = enc(encodeLengthField({ lengthFieldLength: 1, lengthIncludesLengthFieldLength: true }), [
      Buffer.alloc(255),
    ]);
    expect(errorData(result.error)).toEqual({
      name: 'FrameTooLongError',
      code: 'ERR_FRAME_TOO_LONG',
      limit: 254,
      length: 255,
    });
    expect(enc(encodeLengthField({ lengthFieldLength: 1 }), [Buffer.alloc(255)]).error).toBeUndefined();
  });

  it('encodes strings as UTF-8 (the field counts bytes) and takes Buffers and plain Uint8Arrays alike', () => {
    const values = ['é€', Buffer.from('ab'), new Uint8Array([0x63])];
    expect(hex(enc(encodeLengthField({ lengthFieldLength: 2 }), values).values as Buffer[])).toEqual([
      '0005c3a9e282ac',
      '00026162',
      '000163',
    ]);
    const tooLong = enc(encodeLengthField({ lengthFieldLength: 1, lengthAdjustment: 252 }), ['é€']);
    expect(errorData(tooLong.error)).toMatchObject({ limit: 3, length: 5 });
  });

  it("writes strings a byte per character with encoding 'latin1' (binary carried as text), limits counted alike", () => {
    const binary = Buffer.from([0, 0x0a, 0x7f, 0x80, 0xff]);
    const out = enc(encodeLengthField({ lengthFieldLength: 2, encoding: 'latin1' }), [binary.toString('latin1'), 'é']);
    expect(hex(out.values as Buffer[])).toEqual(['0005000a7f80ff', '0001e9']);
    const long = 'x'.repeat(600); // cut from the encoders' slab: the same bytes
    const [frame] = enc(encodeLengthField({ lengthFieldLength: 2, encoding: 'latin1' }), [long]).values as Buffer[];
    expect([frame.readUInt16BE(0), frame.subarray(2).toString('latin1')]).toEqual([600, long]);
    const tooLong = enc(encodeLengthField({ lengthFieldLength: 1, encoding: 'latin1' }), ['é'.repeat(256)]);
    expect(errorData(tooLong.error)).toMatchObject({ limit: 255, length: 256 });
    expect(() => encodeLengthField({ lengthFieldLength: 2, encoding: 'utf16le' as never })).toThrow(
      expect.objectContaining({ argument: 'encoding' }),
    );
  });

  it('refuses a negative adjusted length with EncodeError', () => {
    expect(enc(encodeLengthField({ lengthFieldLength: 1, lengthAdjustment: -2 }), ['a']).error).toBeInstanceOf(
      EncodeError,
    );
  });

  it('refuses bad options when created', () => {
    expect(() => encodeLengthField({ lengthFieldLength: 5 as never })).toThrow(InvalidArgumentError);
    expect(() => encodeLengthField(undefined as never)).toThrow(InvalidArgumentError);
    expect(() => encodeLengthField({ lengthFieldLength: 2, lengthAdjustment: null as never })).toThrow(
      expect.objectContaining({ argument: 'lengthAdjustment' }),
    );
    expect(() => encodeLengthField({ lengthFieldLength: 2, byteOrder: 'x' as never })).toThrow(InvalidArgumentError);
  });
});

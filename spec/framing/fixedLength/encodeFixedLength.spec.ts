// encodeFixedLength(): frames checked or padded to one size.
import type { OperatorFunction } from 'rxjs';
import { EncodeError, InvalidArgumentError } from '../../../lib/errors';
import { encodeFixedLength } from '../../../lib/framing/fixedLength/encodeFixedLength';
import { errorData, hex, run } from '../../support/framing';
import { behavesAsOperator } from '../../support/operatorContract';

const enc = <I>(op: OperatorFunction<I, Buffer>, values: I[]) => run(op as never, values as never);

describe('encodeFixedLength', () => {
  behavesAsOperator(() => encodeFixedLength(1), 'a');

  it('passes a frame of the right size on as it is', () => {
    const frame = Buffer.from('abc');
    expect(enc(encodeFixedLength(3), [frame]).values[0]).toBe(frame);
  });

  it('pads a shorter frame with the pad byte, or refuses it with EncodeError when there is none', () => {
    expect(hex(enc(encodeFixedLength(4, { pad: 0x20 }), ['ab']).values as Buffer[])).toEqual(['61622020']);
    expect(enc(encodeFixedLength(4), ['ab']).error).toBeInstanceOf(EncodeError);
  });

  it('refuses a longer frame with FrameTooLongError', () => {
    expect(errorData(enc(encodeFixedLength(2), ['abc']).error)).toEqual({
      name: 'FrameTooLongError',
      code: 'ERR_FRAME_TOO_LONG',
      limit: 2,
      length: 3,
    });
  });

  it('refuses a bad size or pad when created', () => {
    expect(() => encodeFixedLength(0)).toThrow(InvalidArgumentError);
    expect(() => encodeFixedLength(2, { pad: 256 })).toThrow(InvalidArgumentError);
  });
});
